//! The lab as ground truth over time: rotation shows as a stale env consumer until restart,
//! fixes pasted into the lab work, repaired faults read healthy within one rotation poll,
//! failures older than a repair are history, and the canary value appears in no report.

use std::time::Duration;

use kvchain::chain::{self, Chain, Code, LinkKind, Severity};
use kvchain::source::lab::scenario::LabAction;
use kvchain::source::lab::world::World;
use kvchain::source::lab::{self, faults};

use super::lab_diagnosis::{describe, diagnose, is_app, settled};

#[test]
fn rotation_stales_env_until_restart_then_fresh() {
    let mut w = World::new(lab::load("env-stale").unwrap());
    let has_901 = |w: &World| {
        diagnose(w).iter().filter(|c| is_app(c, "cart")).any(|c| {
            c.link(LinkKind::Consumers)
                .findings
                .iter()
                .any(|f| f.code == Code::KVC901)
        })
    };
    w.advance(Duration::from_secs(119));
    assert!(!has_901(&w), "before the poll nothing is stale");
    // new version at 1m, the poll at 2m rewrites file + Secret: within one poll interval
    w.advance(Duration::from_secs(2));
    assert!(has_901(&w), "env consumer stale after the Secret changed");
    let pod = w
        .pods
        .values()
        .find(|p| p.name().starts_with("cart-"))
        .unwrap()
        .name()
        .to_string();
    w.restart_pod("shop", &pod).unwrap();
    w.run_until_stable(lab::MAX_SETTLE);
    assert!(!has_901(&w), "fresh after restart");
}

/// Carries out a finding's fix as a user pasting it would, for the commands the rotation
/// fixes use (`kubectl delete secret … --ignore-not-found`, `kubectl delete pod …`, `kubectl
/// rollout restart deployment/…`); any other command fails the test.
fn paste(w: &mut World, fix: &str) {
    let shell = fix.split("  #").next().unwrap_or_default();
    for command in shell.split(" && ") {
        let words: Vec<&str> = command.split_whitespace().collect();
        match words.as_slice() {
            [
                "kubectl",
                "delete",
                "secret",
                names @ ..,
                "-n",
                ns,
                "--ignore-not-found",
            ] => {
                for name in names {
                    let _ = w.delete_secret(ns, name);
                }
            }
            ["kubectl", "delete", "pod", name, "-n", ns] => {
                w.delete_pod(ns, name).expect("the pod named exists");
            }
            // KVC805's restart of every env reader (audit X3): the owner's rollout.
            ["kubectl", "rollout", "restart", target, "-n", ns] => {
                let (kind, name) = target.split_once('/').expect("kind/name");
                assert_eq!(kind, "deployment", "{command}");
                w.perform(&LabAction::RolloutRestart {
                    namespace: ns.to_string(),
                    kind: "Deployment".into(),
                    name: name.to_string(),
                })
                .expect("the Deployment named exists");
            }
            _ => panic!("a command this test cannot carry out: {command:?}"),
        }
    }
}

fn with_code(chains: &[Chain], app: &str, code: Code) -> Vec<(String, String)> {
    chains
        .iter()
        .filter(|c| is_app(c, app))
        .flat_map(|c| c.findings().filter(|f| f.code == code))
        .map(|f| (f.message.to_string(), f.fix.to_string()))
        .collect()
}

/// FACTS §4 and §11: with rotation off, a restarted pod mounts the vault's latest version, but
/// the driver does not rewrite a synced Secret that already exists; deleting the Secret and
/// then the pod makes the driver create it again from the new mount. The fixes of KVC703 (an
/// old version mounted) and KVC805 (the Secret differs from the mount) must do exactly that.
#[test]
fn rotation_off_fixes_refresh_file_and_synced_secret_when_pasted() {
    let mut w = World::new(lab::load("rotation-disabled").unwrap());
    w.run_until_stable(lab::MAX_SETTLE);
    // The vault gets a new value; rotation is off, so the pods keep the old one.
    w.perform(&LabAction::RotateSecret {
        vault: "kv-shop-lab".into(),
        name: "checkout-db-password".into(),
        value: Some("checkout-pass-v3".into()),
    })
    .unwrap();
    w.advance(Duration::from_secs(270));
    let stale = with_code(&diagnose(&w), "checkout", Code::KVC703);
    assert_eq!(stale.len(), 2, "{}", describe(&diagnose(&w)));
    // Both pods are one Deployment's: one fix for it (audit MM1), the workload's rollout.
    for (_, fix) in &stale {
        assert!(
            fix.starts_with("kubectl delete secret checkout-db -n shop --ignore-not-found && kubectl rollout restart deployment/checkout -n shop"),
            "{fix}"
        );
    }
    // A rollout restarts the pods without touching the Secret: the new mounts have the latest
    // version, the Secret still the old value.
    w.perform(&LabAction::RolloutRestart {
        namespace: "shop".into(),
        kind: "Deployment".into(),
        name: "checkout".into(),
    })
    .unwrap();
    w.run_until_stable(lab::MAX_SETTLE);
    let chains = diagnose(&w);
    assert!(
        with_code(&chains, "checkout", Code::KVC703).is_empty(),
        "{}",
        describe(&chains)
    );
    let differs = with_code(&chains, "checkout", Code::KVC805);
    assert!(
        !differs.is_empty(),
        "a restart alone leaves the Secret stale:\n{}",
        describe(&chains)
    );
    for (_, fix) in &differs {
        paste(&mut w, fix);
        w.run_until_stable(lab::MAX_SETTLE);
    }
    let chains = diagnose(&w);
    for code in [Code::KVC703, Code::KVC805] {
        assert!(
            with_code(&chains, "checkout", code).is_empty(),
            "{code}:\n{}",
            describe(&chains)
        );
    }
    assert!(
        chains
            .iter()
            .filter(|c| is_app(c, "checkout"))
            .all(|c| c.link(LinkKind::Sync).status == chain::Status::Ok),
        "{}",
        describe(&chains)
    );
}

/// Audit MM1: with rotation off, the KVC703 of a Deployment's pods is one fix for the
/// Deployment. Deleting the Secret and one pod (the fix it printed per pod) rebuilt the Secret
/// from the new pod's mount while the other replica kept the old file and env: a KVC805 error
/// and a KVC703 left. FACTS §2, §11: the driver builds the Secret from whichever mounted pod it
/// reconciles and never rewrites an existing one at mount, so every pod needs a new mount after
/// the Secret goes. The first KVC703's fix, pasted alone, leaves only the rotation setting.
#[test]
fn rotation_off_stale_mounts_of_a_deployment_take_one_fix_that_clears_them_all() {
    let mut w = World::new(lab::load("rotation-disabled").unwrap());
    w.run_until_stable(lab::MAX_SETTLE);
    w.perform(&LabAction::RotateSecret {
        vault: "kv-shop-lab".into(),
        name: "checkout-db-password".into(),
        value: Some("checkout-pass-v3".into()),
    })
    .unwrap();
    w.advance(Duration::from_secs(270));
    let stale = with_code(&diagnose(&w), "checkout", Code::KVC703);
    assert_eq!(stale.len(), 2, "{}", describe(&diagnose(&w)));
    assert_eq!(stale[0].1, stale[1].1, "one fix for the Deployment's pods");
    paste(&mut w, &stale[0].1);
    w.run_until_stable(lab::MAX_SETTLE);
    let chains = diagnose(&w);
    for code in [Code::KVC703, Code::KVC805, Code::KVC901] {
        assert!(
            with_code(&chains, "checkout", code).is_empty(),
            "{code}:\n{}",
            describe(&chains)
        );
    }
}

#[test]
fn canary_value_appears_in_no_report() {
    const CANARY: &str = "CANARY-5e2b-report-value";
    let shop = include_str!("../../assets/scenarios/shop.yaml").replace("cart-pass-1", CANARY);
    let text = [
        include_str!("../../assets/scenarios/cluster.yaml"),
        &shop,
        include_str!("../../assets/scenarios/healthy.yaml"),
        include_str!("../../assets/scenarios/env-stale.yaml"),
    ]
    .join("\n---\n");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("canary.yaml");
    std::fs::write(&path, text).unwrap();
    let snap = lab::run_check(path.to_str().unwrap(), None).unwrap();
    let chains = chain::diagnose(&snap);
    assert!(!chains.is_empty());
    for out in [
        kvchain::report::text(&snap, &chains, false),
        kvchain::report::text(&snap, &chains, true),
        kvchain::report::json(&snap, &chains),
        serde_json::to_string(&snap).unwrap(),
        format!("{chains:?}"),
    ] {
        assert!(!out.contains(CANARY));
    }
}

/// The real binary, with every log level on: the canary is in none of stdout, stderr and the
/// log file, and the log file does say what was done.
#[test]
fn canary_value_appears_in_no_output_or_log_of_the_binary() {
    const CANARY: &str = "CANARY-9d1f-binary-log";
    let shop = include_str!("../../assets/scenarios/shop.yaml").replace("cart-pass-1", CANARY);
    let text = [
        include_str!("../../assets/scenarios/cluster.yaml"),
        &shop,
        include_str!("../../assets/scenarios/env-stale.yaml"),
    ]
    .join("\n---\n");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("canary.yaml");
    std::fs::write(&path, text).unwrap();
    let log = dir.path().join("kvchain.log");
    for format in ["text", "json"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
            .args(["check", "--lab", path.to_str().unwrap(), "-o", format])
            .env("KVCHAIN_LOG", "trace")
            .env("KVCHAIN_LOG_FILE", &log)
            .output()
            .expect("kvchain runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("cart"), "{stdout}");
        assert!(!stdout.contains(CANARY));
        assert!(!String::from_utf8_lossy(&out.stderr).contains(CANARY));
    }
    let logged = std::fs::read_to_string(&log).expect("log file written");
    assert!(logged.contains("diagnosed"), "{logged}");
    assert!(!logged.contains(CANARY));
}

/// docs/scenarios.md: trainer faults are reversible. Two faults on one piece of the world
/// (the identity's credentials, its role assignments, the SPC, the object): repairing the
/// first leaves the second in place (its code still named), repairing the second too gives
/// back the healthy chain within one rotation poll, whatever the order; a fault that finds
/// nothing to change says so instead of being listed as applied.
#[test]
fn two_faults_on_one_piece_repair_one_at_a_time_to_a_healthy_chain() {
    let pairs = [
        ("wrong-role", "remove-role-assignment", Code::KVC501),
        ("fic-issuer-mismatch", "fic-subject-typo", Code::KVC401),
        ("spc-wrong-tenant", "break-objects-yaml", Code::KVC705),
        ("disable-object", "delete-object", Code::KVC601),
    ];
    let mut failures = Vec::new();
    for (first, second, second_code) in pairs {
        let mut w = settled("healthy");
        let poll = w.poll_interval();
        faults::apply(&mut w, first).unwrap();
        w.advance(poll);
        faults::apply(&mut w, second).unwrap();
        w.advance(poll * 2);
        faults::repair(&mut w, first).unwrap();
        w.advance(poll * 2);
        let one_left = diagnose(&w);
        if !one_left
            .iter()
            .filter(|c| is_app(c, "checkout"))
            .any(|c| c.findings().any(|f| f.code == second_code))
        {
            failures.push(format!(
                "{first} repaired, {second} left: {second_code} not named\n{}",
                describe(&one_left)
            ));
        }
        faults::repair(&mut w, second).unwrap();
        w.advance(poll);
        let after = diagnose(&w);
        let left: Vec<String> = after
            .iter()
            .flat_map(|c| c.findings())
            .filter(|f| f.severity >= Severity::Warning)
            .map(|f| format!("{} {}", f.code, f.message))
            .collect();
        if !left.is_empty() {
            failures.push(format!("{first} + {second} repaired: {left:#?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // The subject already carries a case slip: the issuer fault still finds the credential.
    let mut w = settled("healthy");
    faults::apply(&mut w, "fic-subject-typo").unwrap();
    faults::apply(&mut w, "fic-issuer-mismatch").expect("the credential meant is found");
}

/// FACTS §11, evidence in time: between a repair and the next rotation poll the last failure
/// event is still current, but the objects kvchain reads are right again. The finding says
/// so; it neither claims the credential is invisible or the role missing, nor proposes to
/// create what exists (a second credential with the same issuer and subject fails, FACTS §7).
#[test]
fn a_failure_older_than_a_repair_is_not_explained_by_objects_that_are_right_now() {
    let mut failures = Vec::new();
    for fault in ["fic-subject-typo", "wrong-role", "delete-object"] {
        let mut w = settled("healthy");
        let poll = w.poll_interval();
        faults::apply(&mut w, fault).unwrap();
        w.advance(poll * 2);
        faults::repair(&mut w, fault).unwrap();
        w.advance(poll / 4);
        let chains = diagnose(&w);
        let errors: Vec<_> = chains
            .iter()
            .filter(|c| is_app(c, "checkout"))
            .flat_map(|c| c.findings())
            .filter(|f| f.severity == Severity::Error)
            .collect();
        if errors.is_empty() {
            failures.push(format!("{fault}: the last failure is not shown at all"));
        }
        // The link's summary says the same: not the code's cause ("no FIC matches", "not
        // found") over objects that show none.
        for c in chains.iter().filter(|c| is_app(c, "checkout")) {
            for l in c
                .links
                .iter()
                .filter(|l| l.status == kvchain::chain::Status::Broken)
            {
                if l.summary != kvchain::chain::CONTRADICTED && !l.summary.starts_with("blocked") {
                    failures.push(format!("{fault}: {:?} link reads {:?}", l.link, l.summary));
                }
            }
        }
        for f in errors {
            if !f.message.contains("looks right now")
                || !f.fix.starts_with("# nothing to change")
                || f.fix.contains(" create ")
            {
                failures.push(format!(
                    "{fault}: {} {}\n  fix: {}",
                    f.code, f.message, f.fix
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// docs/scenarios.md: the lab's rotation reconciler is the ≤v1.5 one, which records
/// MountRotationFailed. A version lag whose polls fail says so; it is blocked by the broken
/// federation, and its fix points there instead of deleting a pod that could not mount again.
#[test]
fn a_version_lag_behind_failing_polls_says_they_fail_and_fixes_the_cause() {
    let mut w = settled("healthy");
    faults::apply(&mut w, "fic-subject-typo").unwrap();
    w.perform(&LabAction::RotateSecret {
        vault: "kv-shop-lab".into(),
        name: "checkout-db-password".into(),
        value: Some("checkout-pass-v3".into()),
    })
    .unwrap();
    w.advance(w.poll_interval() * 3);
    let chains = diagnose(&w);
    let lag: Vec<_> = chains
        .iter()
        .flat_map(|c| c.findings())
        .filter(|f| f.code == Code::KVC703)
        .collect();
    assert!(!lag.is_empty(), "{}", describe(&chains));
    for f in lag {
        assert!(
            f.message.contains("its rotation polls fail"),
            "{}",
            f.message
        );
        assert!(!f.message.contains("v1.6.0"), "{}", f.message);
        assert_eq!(f.follows, Some(LinkKind::Federation));
        assert!(!f.fix.contains("kubectl delete"), "{}", f.fix);
    }
}

/// FACTS §11, events are history: a 404 for an object, then 403s because its latest version
/// is disabled, prove the object exists again. The 404 is history (a fact), not a current
/// KVC601 beside the KVC602 that the newer failures name.
#[test]
fn a_not_found_superseded_by_a_newer_disabled_failure_is_history() {
    let mut w = settled("healthy");
    let poll = w.poll_interval();
    faults::apply(&mut w, "disable-object").unwrap();
    w.advance(Duration::from_secs(10));
    faults::apply(&mut w, "delete-object").unwrap();
    w.advance(poll * 2);
    faults::repair(&mut w, "delete-object").unwrap();
    w.advance(poll * 3);
    let chains = diagnose(&w);
    let checkout: Vec<&Chain> = chains.iter().filter(|c| is_app(c, "checkout")).collect();
    let codes: Vec<Code> = checkout
        .iter()
        .flat_map(|c| c.findings())
        .map(|f| f.code)
        .collect();
    assert!(codes.contains(&Code::KVC602), "{}", describe(&chains));
    assert!(!codes.contains(&Code::KVC601), "{}", describe(&chains));
    assert!(
        checkout.iter().any(|c| c
            .link(LinkKind::VaultObject)
            .facts
            .iter()
            .any(|f| f.label == "history (KVC601)")),
        "the 404 is kept as history"
    );
}

/// The trainer's loop for every catalogue fault (issue 12 §3): apply it, see it named, repair
/// it — the chain reads healthy within one rotation poll. Events from the broken time are
/// history once a newer success signal exists (FACTS §11 "Evidence ages").
#[test]
fn every_trainer_fault_repaired_reads_healthy_within_one_rotation_poll() {
    let mut failures = Vec::new();
    for f in faults::CATALOGUE {
        let mut w = settled("healthy");
        let poll = w.poll_interval();
        faults::apply(&mut w, f.id).unwrap();
        w.advance(poll * 3);
        let broken = diagnose(&w);
        let checkout: Vec<&Chain> = broken.iter().filter(|c| is_app(c, "checkout")).collect();
        match f.expected {
            Some(code) => {
                if !checkout
                    .iter()
                    .any(|c| c.findings().any(|x| x.code == code))
                {
                    failures.push(format!("{}: {code} not seen\n{}", f.id, describe(&broken)));
                    continue;
                }
            }
            None => {
                if !checkout.is_empty() {
                    failures.push(format!("{}: chain still there", f.id));
                }
            }
        }
        faults::repair(&mut w, f.id).unwrap();
        w.advance(poll);
        let after = diagnose(&w);
        let checkout: Vec<&Chain> = after.iter().filter(|c| is_app(c, "checkout")).collect();
        if checkout.len() != 2 {
            failures.push(format!(
                "{}: {} checkout chains after repair",
                f.id,
                checkout.len()
            ));
        }
        let left: Vec<String> = checkout
            .iter()
            .flat_map(|c| c.findings())
            .filter(|x| x.severity >= Severity::Warning)
            .map(|x| {
                format!(
                    "{} {}",
                    x.code,
                    x.message.chars().take(160).collect::<String>()
                )
            })
            .collect();
        if !left.is_empty() {
            failures.push(format!("{}: one poll after repair: {left:#?}", f.id));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
