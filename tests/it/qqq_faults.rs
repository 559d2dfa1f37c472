//! Audit QQQ-faults: the trainer faults of docs/scenarios.md ("Trainer faults") against what
//! the doc promises, faults stacked and repaired one at a time, on every owner kind:
//! - "repairing one leaves the other in place", and the chain names the one left (one cause,
//!   on its own link) once the lab's next attempt has shown it, never a failure the objects
//!   and a newer attempt both contradict;
//! - a StatefulSet replaces only the ordinals at or above its partition, counted from
//!   `spec.ordinals.start`, and the status line says which (none when the partition covers
//!   every replica);
//! - `delete-mounting-workload`: the synced Secret goes only with its last owner (FACTS §2,
//!   §11 "Owners"), which the status line says; gone, every Ingress or pod naming it is KVC904,
//!   and the repair brings it back.
//!
//! The scenario is tests/fixtures/lab/qqq-faults-stacked.yaml (the docs' complete example with
//! an Ingress and a bare pod that use the synced Secret `api-db` without mounting), or
//! nnn-owner-kinds.yaml for the owner kinds; the vault values are canaries no output shows.

use std::path::PathBuf;
use std::time::Duration;

use kvchain::chain::{Chain, Code, Finding, LinkKind, Severity};
use kvchain::source::lab::world::World;
use kvchain::source::lab::{faults, scenario};

use super::lab_diagnosis::{describe, diagnose, is_app};
use super::nnn_trainer::{key, pods, world_with};

const CANARY: &str = "CANARY-qqq-faults-5d21";

/// The fixture's world at lab start (nothing run yet).
pub(crate) fn stacked() -> World {
    stacked_with(|t| t)
}

/// [`stacked`] with `edit` applied to the fixture's text.
fn stacked_with(edit: impl Fn(String) -> String) -> World {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lab/qqq-faults-stacked.yaml");
    let text = edit(std::fs::read_to_string(path).expect("fixture"));
    let sc = scenario::parse("qqq-faults-stacked", &PathBuf::from("qqq.yaml"), &text)
        .expect("fixture loads");
    World::new(sc)
}

/// Runs the world to lab time `secs` (docs/scenarios.md: lab time starts at
/// 2026-01-15T09:00:00Z), as a Timeline's `at` counts it.
pub(crate) fn run_to(w: &mut World, secs: u64) {
    let start: jiff::Timestamp = "2026-01-15T09:00:00Z".parse().unwrap();
    let gone = w.now().duration_since(start).as_secs();
    let gone = u64::try_from(gone).expect("the lab does not run backwards");
    w.advance(Duration::from_secs(
        secs.checked_sub(gone).expect("ahead of the lab"),
    ));
}

/// The findings of the `api` Deployment's chains, after checking that none shows the canary.
pub(crate) fn api_findings(chains: &[Chain]) -> Vec<&Finding> {
    let all = describe(chains);
    assert!(!all.contains(CANARY), "a secret value in a finding");
    (chains.iter())
        .filter(|c| is_app(c, "api"))
        .flat_map(|c| c.findings())
        .collect()
}

fn codes(found: &[&Finding]) -> Vec<Code> {
    found.iter().map(|f| f.code).collect()
}

fn no_canary(message: &str) -> &str {
    assert!(!message.contains(CANARY), "a secret value in {message:?}");
    message
}

/// Errors of every chain (the fixture's design warnings, KVC803/KVC902/KVC903, stay).
fn errors(chains: &[Chain]) -> Vec<String> {
    (chains.iter().flat_map(|c| c.findings()))
        .filter(|f| f.severity == Severity::Error)
        .map(|f| format!("{} {}", f.code, f.message))
        .collect()
}

/// docs/scenarios.md: faults stack and are repaired one at a time, "repairing one leaves the
/// other in place"; the provider parses `objects` before it asks for a token ("Provider
/// parameters"). With the objects broken on top of a wrong tenant (two faults on the SPC) or a
/// removed role, and the objects repaired at 5m, the 6m poll fails at the token or at Key
/// Vault: from then on the fault left is the one cause, not "blocked by Mount" beside a
/// KVC705 that both the SPC and that newer failure contradict. Repaired the other way round,
/// the objects are the cause left. Both repaired, every chain is healthy within one poll.
#[test]
fn a_repaired_objects_fault_is_history_once_a_later_poll_got_past_the_objects() {
    let mut failures = Vec::new();
    for (other, code) in [
        ("spc-wrong-tenant", Code::KVC404),
        ("remove-role-assignment", Code::KVC501),
    ] {
        for objects_first in [true, false] {
            let mut w = stacked();
            run_to(&mut w, 60);
            no_canary(&faults::apply(&mut w, other).unwrap());
            run_to(&mut w, 120);
            no_canary(&faults::apply(&mut w, "break-objects-yaml").unwrap());
            run_to(&mut w, 300);
            let (first, left, left_code) = match objects_first {
                true => ("break-objects-yaml", other, code),
                false => (other, "break-objects-yaml", Code::KVC705),
            };
            no_canary(&faults::repair(&mut w, first).unwrap());
            run_to(&mut w, 390); // 6m30s: the 6m poll ran on the repaired piece
            let chains = diagnose(&w);
            let found = api_findings(&chains);
            let errs: Vec<&&Finding> = (found.iter())
                .filter(|f| f.severity == Severity::Error)
                .collect();
            let one_cause = !errs.is_empty()
                && errs
                    .iter()
                    .all(|f| f.code == left_code && f.follows.is_none());
            if !one_cause {
                failures.push(format!(
                    "{other} + break-objects-yaml, {first} repaired: want {left_code} alone\n{}",
                    describe(&chains)
                ));
            }
            no_canary(&faults::repair(&mut w, left).unwrap());
            run_to(&mut w, 510); // 8m30s: one poll after the repair at 6m30s
            let left = errors(&diagnose(&w));
            if !left.is_empty() {
                failures.push(format!("{other} + break-objects-yaml repaired: {left:#?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Two faults on one object (docs/scenarios.md): disabled at 1m, deleted at 2m, the delete
/// repaired at 5m. Until the 6m poll the last event is the 4m poll's 404, but the vault as
/// read holds the object again, its latest version disabled: the disabled version is the one
/// cause (KVC602), the 404 kept as history on the link, not a KVC601 that the vault
/// contradicts beside it (one symptom, one cause; FACTS §11). The disable repaired too, the
/// chains are healthy within one poll.
#[test]
fn a_404_for_an_object_the_vault_holds_again_is_history_beside_its_disabled_version() {
    let mut w = stacked();
    run_to(&mut w, 60);
    faults::apply(&mut w, "disable-object").unwrap();
    run_to(&mut w, 120);
    faults::apply(&mut w, "delete-object").unwrap();
    run_to(&mut w, 300);
    no_canary(&faults::repair(&mut w, "delete-object").unwrap());
    run_to(&mut w, 330);
    let chains = diagnose(&w);
    let found = api_findings(&chains);
    assert_eq!(
        codes(&found).iter().filter(|c| **c == Code::KVC601).count(),
        0,
        "{}",
        describe(&chains)
    );
    assert!(
        codes(&found).contains(&Code::KVC602),
        "{}",
        describe(&chains)
    );
    let api: Vec<&Chain> = chains.iter().filter(|c| is_app(c, "api")).collect();
    assert!(
        api.iter()
            .all(|c| (c.link(LinkKind::VaultObject).facts.iter())
                .any(|f| f.label == "history (KVC601)")),
        "the 404 is kept as history\n{}",
        describe(&chains)
    );
    faults::repair(&mut w, "disable-object").unwrap();
    run_to(&mut w, 330 + 120);
    let left = errors(&diagnose(&w));
    assert!(left.is_empty(), "{left:#?}");
}

/// docs/scenarios.md: a StatefulSet's new template replaces only the ordinals at or above its
/// `rollingUpdate.partition`, which counts from `spec.ordinals.start` ("start 5, partition 2
/// updates from ordinal 7"), and a fault on the pod template says what its controller does.
/// The status line said "only those at or above partition 2" of pods web-5…web-7 (read as
/// every one of them), and promised a replacement under a partition that covers every replica,
/// where none comes.
#[test]
fn remove_pod_label_on_a_partitioned_statefulset_names_the_pods_it_replaces() {
    let set = |strategy: &'static str| {
        move |t: String| {
            t.replace(
                "  replicas: 2\n  serviceName: web\n",
                &format!("  serviceName: web\n{strategy}"),
            )
        }
    };
    let web = key("StatefulSet", "web");
    let mut w = world_with(set(
        "  replicas: 3\n  ordinals: {start: 5}\n  updateStrategy: {rollingUpdate: {partition: 2}}\n",
    ));
    let before = pods(&w, "web-");
    let applied = faults::apply_to(&mut w, "remove-pod-label", &web).unwrap();
    assert!(
        applied.contains("web-7 down to web-7") && !applied.contains("at or above partition"),
        "{applied}"
    );
    w.advance(Duration::from_secs(300));
    let after = pods(&w, "web-");
    let kept: Vec<_> = (before.iter())
        .filter(|p| after.contains(p))
        .map(|p| &p.0)
        .collect();
    assert_eq!(kept, ["web-5", "web-6"], "only web-7 is replaced");

    let mut w = world_with(set(
        "  replicas: 2\n  updateStrategy: {rollingUpdate: {partition: 2}}\n",
    ));
    let before = pods(&w, "web-");
    let applied = faults::apply_to(&mut w, "remove-pod-label", &web).unwrap();
    assert!(applied.contains("replaces no pod"), "{applied}");
    w.advance(Duration::from_secs(300));
    assert_eq!(pods(&w, "web-"), before, "no pod replaced");
    let repaired = faults::repair(&mut w, "remove-pod-label").unwrap();
    assert!(repaired.contains("replaces no pod"), "{repaired}");
}

/// FACTS §2, §11 "Owners": a synced Secret's owners are every mounting pod's owners, and it
/// is garbage-collected only when all of them are gone. `delete-mounting-workload` on one of
/// several workloads that mount the SPC leaves it, and the status line says so; it said "(synced
/// Secret is garbage-collected)" whatever the target.
#[test]
fn deleting_one_of_several_mounters_says_the_synced_secret_stays() {
    let synced = "          objectType: secret\n  secretObjects:\n    - secretName: api-db\n      type: Opaque\n      data:\n        - {objectName: db-password, key: password}\n";
    let mut w = world_with(|t| t.replacen("          objectType: secret\n", synced, 1));
    let secret = ("demo".to_string(), "api-db".to_string());
    assert!(w.secrets.contains_key(&secret), "the driver made it");
    let applied = faults::apply_to(
        &mut w,
        "delete-mounting-workload",
        &key("StatefulSet", "web"),
    )
    .unwrap();
    assert!(
        applied.contains("synced Secret api-db stays") && applied.contains("DaemonSet agent"),
        "{applied}"
    );
    assert!(!applied.contains("garbage-collected"), "{applied}");
    w.advance(Duration::from_secs(120));
    assert!(w.secrets.contains_key(&secret), "its other owners keep it");
}

/// docs/scenarios.md, `delete-mounting-workload`: the target deleted, its synced Secret is
/// garbage-collected (said so, as it is its only mounter here) and the Ingress and the pod still
/// naming it are broken chains, KVC904; the repair makes the workload again, the driver the
/// Secret, and no chain is broken one poll later.
#[test]
fn deleting_the_only_mounter_breaks_its_secrets_users_until_the_repair() {
    let mut w = stacked();
    run_to(&mut w, 60);
    let secret = ("demo".to_string(), "api-db".to_string());
    assert!(w.secrets.contains_key(&secret), "the driver made it");
    let applied = faults::apply(&mut w, "delete-mounting-workload").unwrap();
    assert!(
        no_canary(&applied).contains("synced Secret api-db is garbage-collected"),
        "{applied}"
    );
    run_to(&mut w, 120);
    assert!(!w.secrets.contains_key(&secret), "garbage-collected");
    let chains = diagnose(&w);
    let kvc904: Vec<&str> = (chains.iter().flat_map(|c| c.findings()))
        .filter(|f| f.code == Code::KVC904)
        .map(|f| &*f.message)
        .collect();
    for user in [
        "Ingress/web uses Secret api-db",
        "Pod/reader uses Secret api-db",
    ] {
        assert!(
            kvc904.iter().any(|m| m.starts_with(user)),
            "{user}: {kvc904:#?}"
        );
    }
    no_canary(&faults::repair(&mut w, "delete-mounting-workload").unwrap());
    run_to(&mut w, 120 + 120);
    assert!(
        w.secrets.contains_key(&secret),
        "made again by the new pods' mount"
    );
    let left = errors(&diagnose(&w));
    assert!(left.is_empty(), "{left:#?}");
}

/// The fixture through `check --lab` in every output format read: its value never shows.
#[test]
fn the_stacked_fixture_shows_no_value() {
    let r = super::mmm_lab::report_after("qqq-faults-stacked.yaml", &["--for", "3m"], CANARY);
    assert!(r["chains"].as_array().is_some_and(|c| !c.is_empty()), "{r}");
}

/// docs/scenarios.md, "Trainer faults": "a fault that finds nothing to change is refused with
/// the reason". Rotation already off (the driver's default), a latest version disabled
/// already, the role Key Vault Crypto User already, a vault that already refuses the cluster,
/// an issuer that is not AKS's (nothing for `fic-issuer-mismatch` to point elsewhere): each
/// was listed as applied over a world it left as it was, and its repair "repaired" nothing.
#[test]
fn a_fault_that_finds_nothing_to_change_is_refused_with_why() {
    const ISSUER: &str = "https://westeurope.oic.prod-aks.azure.com/";
    type Edit<'a> = &'a dyn Fn(String) -> String;
    let cases: [(&str, Edit, &str); 5] = [
        (
            "disable-rotation",
            &|t| t.replace("enableSecretRotation: true", "enableSecretRotation: false"),
            "secret rotation is off",
        ),
        (
            "disable-object",
            &|t| {
                t.replace(
                    "value: CANARY-qqq-faults-5d21",
                    "value: CANARY-qqq-faults-5d21\n      enabled: false",
                )
            },
            "disabled already",
        ),
        (
            "wrong-role",
            &|t| {
                t.replace(
                    "role: Key Vault Secrets User",
                    "role: Key Vault Crypto User",
                )
            },
            "Key Vault Crypto User already",
        ),
        (
            "vault-firewall",
            &|t| {
                t.replace(
                    "  secrets:\n",
                    "  network: {defaultAction: Deny, clusterAllowed: false}\n  secrets:\n",
                )
            },
            "already refuses the cluster",
        ),
        (
            "fic-issuer-mismatch",
            &|t| t.replace(ISSUER, "https://oidc.example.com/"),
            "would stay as it is",
        ),
    ];
    for (fault, edit, why) in cases {
        let mut w = stacked_with(edit);
        run_to(&mut w, 60);
        let refused = faults::apply(&mut w, fault).expect_err(fault);
        assert!(
            no_canary(&refused).contains("nothing to change") && refused.contains(why),
            "{fault}: {refused}"
        );
        let info = (faults::infos(&w).into_iter())
            .find(|f| f.id == fault)
            .unwrap();
        assert!(!info.active, "{fault} is not listed as applied");
    }
}
