//! The lab as ground truth for diagnosis: every single-fault scenario's planted code is named
//! on the right link of the right chain and no other chain has an error; the healthy scenario
//! is clean; random worlds with one random catalogue fault are diagnosed (rotation, repairs and
//! the canary are in `lab_repairs`).

use kvchain::chain::{self, Chain, Code, LinkKind, Severity};
use kvchain::source::lab::world::World;
use kvchain::source::lab::{self, export, faults, generator};
use proptest::prelude::*;

pub(crate) fn settled(name: &str) -> World {
    let mut w = World::new(lab::load(name).expect("built-in scenario loads"));
    w.run_until_stable(lab::MAX_SETTLE);
    w
}

pub(crate) fn diagnose(w: &World) -> Vec<Chain> {
    chain::diagnose(&export::snapshot(w))
}

pub(crate) fn is_app(c: &Chain, app: &str) -> bool {
    c.pod.starts_with(&format!("{app}-"))
}

pub(crate) fn describe(chains: &[Chain]) -> String {
    chains
        .iter()
        .flat_map(|c| {
            c.findings()
                .map(move |f| format!("{} {} {:?} {}", c.pod, f.code, f.severity, f.message))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// (scenario, workload whose chains carry the fault, planted code)
const PLANTED: &[(&str, &str, Code)] = &[
    ("fic-subject-typo", "orders", Code::KVC401),
    ("fic-issuer-mismatch", "payments", Code::KVC402),
    ("cross-tenant", "partners", Code::KVC404),
    ("wrong-role", "invoices", Code::KVC502),
    ("object-not-found", "catalog", Code::KVC601),
    ("malformed-objects", "shipping", Code::KVC705),
    ("alias-mismatch", "search", Code::KVC801),
    ("cert-for-tls", "gateway", Code::KVC804),
    ("env-stale", "cart", Code::KVC901),
    ("missing-label", "reviews", Code::KVC201),
    ("wrong-client-id", "ratings", Code::KVC204),
    ("subpath", "billing", Code::KVC102),
    ("gc-tls", "edge-sync", Code::KVC803),
    ("rotation-disabled", "checkout", Code::KVC702),
    ("throttling", "reports", Code::KVC704),
    ("vault-other-tenant", "vendors", Code::KVC406),
];

#[test]
fn every_single_fault_scenario_names_its_planted_code_on_the_right_link_only() {
    let mut failures = Vec::new();
    for (scenario, app, code) in PLANTED {
        let chains = diagnose(&settled(scenario));
        let mine: Vec<&Chain> = chains.iter().filter(|c| is_app(c, app)).collect();
        if mine.is_empty() {
            failures.push(format!("{scenario}: no chain for {app}"));
            continue;
        }
        let named = |c: &&Chain| {
            c.link(code.link()).findings.iter().any(|f| {
                f.code == *code
                    && f.link == code.link()
                    && f.severity >= code.severity().min(Severity::Warning)
            })
        };
        // Throttling is evidenced per pod (the 429 events of the pods that were refused);
        // every other fault is on every chain of the workload.
        let missing: Vec<&&Chain> = mine.iter().filter(|c| !named(c)).collect();
        let ok = if *code == Code::KVC704 {
            missing.len() < mine.len()
        } else {
            missing.is_empty()
        };
        if !ok {
            failures.push(format!(
                "{scenario}: {} lacks {code} on {:?}:\n{}",
                missing[0].pod,
                code.link(),
                describe(&chains)
            ));
        }
        for c in chains.iter().filter(|c| !is_app(c, app)) {
            // the rotation-off scenario breaks the cluster-wide driver flag: that warning is
            // expected on every chain, errors are not
            if let Some(f) = c.findings().find(|f| f.severity == Severity::Error) {
                failures.push(format!(
                    "{scenario}: unexpected error on {}: {} {}",
                    c.pod, f.code, f.message
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// cert-for-tls (FACTS §2): an objectType cert mounts no private key, so the driver never
/// builds the kubernetes.io/tls Secret the Ingress serves. One cause: KVC804 says so and names
/// the Ingress that waits on it; the Secret is not also "at risk of garbage collection"
/// (KVC803 is for a Secret that exists), and the Consumers link waits on Sync instead of ok.
#[test]
fn a_tls_secret_the_driver_cannot_build_blocks_its_ingress_and_is_not_a_gc_risk() {
    let chains = diagnose(&settled("cert-for-tls"));
    let gateway: Vec<&Chain> = chains.iter().filter(|c| is_app(c, "gateway")).collect();
    assert!(!gateway.is_empty(), "{}", describe(&chains));
    for c in gateway {
        let codes: Vec<Code> = c.findings().map(|f| f.code).collect();
        assert_eq!(codes, [Code::KVC804], "{}", describe(&chains));
        let cause = c.findings().next().unwrap();
        assert!(
            cause
                .evidence
                .iter()
                .any(|e| e.starts_with("Ingress/gateway serves Secret gateway-tls")),
            "{:?}",
            cause.evidence
        );
        let consumers = c.link(LinkKind::Consumers);
        assert_eq!(consumers.status, chain::Status::Pending);
        assert_eq!(consumers.summary, "blocked: Sync");
    }
}

#[test]
fn healthy_scenario_has_no_error_or_warning_findings() {
    let chains = diagnose(&settled("healthy"));
    assert_eq!(chains.len(), 2, "one chain per checkout pod");
    let bad: Vec<String> = chains
        .iter()
        .flat_map(|c| c.findings())
        .filter(|f| f.severity >= Severity::Warning)
        .map(|f| format!("{} {}", f.code, f.message))
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
}

/// The correct `kubernetes.io/tls` sync (edge-sync) and the healthy world carry no error: a
/// TLS Secret's keys are the PEM file's parts, not the file (FACTS §2).
#[test]
fn gc_tls_and_healthy_scenarios_produce_no_error_finding() {
    for scenario in ["gc-tls", "healthy"] {
        let chains = diagnose(&settled(scenario));
        let errors: Vec<String> = chains
            .iter()
            .flat_map(|c| c.findings())
            .filter(|f| f.severity == Severity::Error)
            .map(|f| format!("{} {}", f.code, f.message))
            .collect();
        assert!(errors.is_empty(), "{scenario}: {errors:#?}");
    }
    let default = diagnose(&settled("default"));
    let edge: Vec<&Chain> = default.iter().filter(|c| is_app(c, "edge-sync")).collect();
    assert!(!edge.is_empty());
    assert!(
        edge.iter()
            .all(|c| c.findings().all(|f| f.code != Code::KVC805)),
        "{}",
        describe(&default)
    );
}

#[test]
fn default_scenario_shows_every_failure_class_side_by_side() {
    let chains = diagnose(&settled("default"));
    for (scenario, app, code) in PLANTED {
        if *scenario == "rotation-disabled" {
            continue; // cluster-wide: not part of default
        }
        let named = chains
            .iter()
            .filter(|c| is_app(c, app))
            .any(|c| c.findings().any(|f| f.code == *code));
        assert!(named, "{app}: {code} not found\n{}", describe(&chains));
    }
    let checkout: Vec<&Chain> = chains.iter().filter(|c| is_app(c, "checkout")).collect();
    assert!(!checkout.is_empty());
    for c in checkout {
        assert!(
            c.findings().all(|f| f.severity < Severity::Warning),
            "{}",
            describe(&chains)
        );
    }
}

/// Codes that name one failure from two sides (a message and the objects): a chain carries at
/// most one of each group as a cause (issue 12 §1).
const ONE_CAUSE: &[&[Code]] = &[
    &[Code::KVC401, Code::KVC402, Code::KVC403, Code::KVC405],
    &[Code::KVC301, Code::KVC404, Code::KVC406],
    &[Code::KVC501, Code::KVC502, Code::KVC503],
    &[Code::KVC801, Code::KVC804, Code::KVC806],
];

#[test]
fn default_scenario_gives_one_cause_per_symptom_root_first() {
    let chains = diagnose(&settled("default"));
    for c in &chains {
        let causes: Vec<Code> = c
            .findings()
            .filter(|f| f.follows.is_none())
            .map(|f| f.code)
            .collect();
        for group in ONE_CAUSE {
            let named: Vec<&Code> = causes.iter().filter(|k| group.contains(k)).collect();
            assert!(
                named.len() <= 1,
                "{}: {named:?}\n{}",
                c.pod,
                describe(&chains)
            );
        }
        // Every fix is a command or an edit that can run as printed.
        for f in c.findings() {
            assert!(
                !f.fix.contains('…') && !f.fix.contains("create/set"),
                "{} {}: {}",
                c.pod,
                f.code,
                f.fix
            );
        }
    }
    let of = |app: &str| -> Vec<&Chain> { chains.iter().filter(|c| is_app(c, app)).collect() };
    // AADSTS700016 for an identity that exists in another tenant: the tenant, both named.
    for c in of("partners") {
        let f = c.root_cause().expect("root");
        assert_eq!(f.code, Code::KVC404, "{}", describe(&chains));
        assert!(
            f.message.contains("9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d")
                && f.message.contains("5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b"),
            "{}",
            f.message
        );
    }
    // An issuer without its trailing '/' is the issuer, not a subject typo.
    for c in of("payments") {
        assert_eq!(c.root_cause().map(|f| f.code), Some(Code::KVC402));
    }
    // A Secrets User that needs Certificate User: one wrong-role finding, no grant of a role
    // the identity already holds.
    for c in of("invoices") {
        for f in c.findings() {
            assert!(!f.fix.contains("\"Key Vault Secrets User\""), "{}", f.fix);
        }
    }
    // The alias mix-up and the certificate TLS source are not Helm problems.
    for c in of("search").into_iter().chain(of("gateway")) {
        assert!(
            c.findings().all(|f| !f.fix.contains("helm")),
            "{}",
            describe(&chains)
        );
    }
}

/// Issue 12 §4: every JSON finding names the chain(s) it was found on, and those chains exist.
#[test]
fn json_findings_name_the_chains_they_were_found_on() {
    let w = settled("default");
    let snap = export::snapshot(&w);
    let chains = chain::diagnose(&snap);
    let v: serde_json::Value =
        serde_json::from_str(&kvchain::report::json(&snap, &chains)).unwrap();
    let ids: Vec<&str> = v["chains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    let findings = v["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    for f in findings {
        let first = f["chain"]
            .as_str()
            .unwrap_or_else(|| panic!("no chain: {f}"));
        assert!(ids.contains(&first), "{first}");
        let all = f["chains"].as_array().unwrap();
        assert_eq!(all[0].as_str(), Some(first));
        assert!(all.iter().all(|c| ids.contains(&c.as_str().unwrap())));
    }
    // The throttled Deployment's finding is one finding naming each refused pod's chain.
    let throttled = findings.iter().find(|f| f["code"] == "KVC704").unwrap();
    assert!(
        throttled["chains"].as_array().unwrap().len() > 1,
        "{throttled}"
    );
}

/// The healthy scenario's documents with `drop` left out and `edit` applied to the rest.
fn healthy_without(drop: &str, edit: impl Fn(String) -> String) -> String {
    let d = |f: &str| std::fs::read_to_string(format!("assets/scenarios/{f}")).unwrap();
    let docs = d("healthy.yaml")
        .split("\n---\n")
        .filter(|x| !x.contains(drop))
        .map(|x| edit(x.to_string()))
        .collect::<Vec<_>>()
        .join("\n---\n");
    [d("cluster.yaml"), d("shop.yaml"), docs].join("\n---\n")
}

fn check_lab(text: &str) -> (Vec<Chain>, std::process::Output) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scenario.yaml");
    std::fs::write(&path, text).unwrap();
    let snap = lab::run_check(path.to_str().unwrap(), None).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "--lab", path.to_str().unwrap()])
        .output()
        .expect("kvchain runs");
    (chain::diagnose(&snap), out)
}

/// Issue 12 §4: a Deployment whose ServiceAccount is missing gets no pod (the ReplicaSet
/// records FailedCreate): its pod template is the chain, and `check` fails on it.
#[test]
fn a_workload_whose_pods_cannot_be_created_is_diagnosed_from_its_template() {
    let (chains, out) = check_lab(&healthy_without("kind: ServiceAccount", |d| d));
    let c = chains
        .iter()
        .find(|c| {
            c.workload
                .as_ref()
                .is_some_and(|w| w.kind == "Deployment" && w.name == "checkout")
        })
        .unwrap_or_else(|| panic!("no chain for the template: {}", describe(&chains)));
    let f = c
        .findings()
        .find(|f| f.code == Code::KVC202)
        .unwrap_or_else(|| panic!("{}", describe(&chains)));
    assert!(
        f.evidence.iter().any(|e| e.starts_with("FailedCreate")),
        "the ReplicaSet's FailedCreate corroborates: {f:#?}"
    );
    assert_eq!(
        c.link(LinkKind::Mount).status,
        kvchain::chain::Status::Pending
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Issue 12 §4: delete the Deployment that mounts the SPC of the Ingress's TLS Secret: the
/// Secret is garbage-collected with its owners and the Ingress that still names it is a broken
/// chain, though no pod is left in it.
#[test]
fn an_ingress_naming_a_collected_synced_secret_is_a_broken_chain_without_pods() {
    let mut w = settled("gc-tls");
    let target = (
        "Deployment".to_string(),
        "shop".to_string(),
        "edge-sync".to_string(),
    );
    faults::apply_to(&mut w, "delete-mounting-workload", &target).unwrap();
    w.run_until_stable(lab::MAX_SETTLE);
    let snap = export::snapshot(&w);
    assert!(
        snap.secrets.items.iter().all(|s| s.name != "edge-tls"),
        "collected"
    );
    let chains = chain::diagnose(&snap);
    let edge = chains
        .iter()
        .find(|c| {
            c.workload
                .as_ref()
                .is_some_and(|x| x.kind == "Ingress" && x.name == "edge")
        })
        .unwrap_or_else(|| panic!("no chain for Ingress/edge: {}", describe(&chains)));
    assert_eq!(edge.spc, "edge-sync-kv");
    let f = edge
        .findings()
        .find(|f| f.code == Code::KVC904)
        .unwrap_or_else(|| panic!("{:#?}", edge.links));
    assert_eq!(f.severity, Severity::Error);
    assert_eq!(f.resource, "Ingress/edge");
    // One cause, one finding: no KVC802 beside it for the same missing Secret.
    assert_eq!(edge.findings().count(), 1, "{:#?}", edge.links);
    assert_eq!(edge.link(LinkKind::Sync).summary, "no mount");
    // The SPC, mounted by no pod now, is checked on its own: the Secret it would risk losing
    // is already gone, so no KVC803 there either.
    let alone = chain::unmounted_spcs(&snap, &chains);
    assert!(
        alone
            .iter()
            .flat_map(|v| &v.findings)
            .all(|f| f.code != Code::KVC803),
        "{alone:#?}"
    );
    assert!(kvchain::report::has_errors(&chains));
    // Repaired (the Deployment is back): the Secret is re-created, the Ingress chain is gone.
    faults::repair(&mut w, "delete-mounting-workload").unwrap();
    w.advance(w.poll_interval());
    let chains = diagnose(&w);
    assert!(
        chains
            .iter()
            .all(|c| c.workload.as_ref().is_none_or(|x| x.kind != "Ingress")),
        "{}",
        describe(&chains)
    );
}

/// `check -o json` streams: the report reaches its writer in small pieces as it is serialised
/// (no whole document first), and the bytes are those of the report as one string.
#[test]
fn json_report_is_written_as_it_is_serialised() {
    struct Pieces {
        bytes: Vec<u8>,
        writes: usize,
        largest: usize,
    }
    impl std::io::Write for Pieces {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.writes += 1;
            self.largest = self.largest.max(buf.len());
            self.bytes.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let w = settled("default");
    let snap = export::snapshot(&w);
    let chains = chain::diagnose(&snap);
    let spcs = chain::unmounted_spcs(&snap, &chains);
    let mut out = Pieces {
        bytes: Vec::new(),
        writes: 0,
        largest: 0,
    };
    kvchain::report::write_json(&mut out, &snap, &chains, &spcs).unwrap();
    let whole = kvchain::report::json(&snap, &chains);
    assert!(whole.len() > 20_000, "a report worth streaming");
    assert_eq!(String::from_utf8(out.bytes).unwrap(), whole);
    assert!(
        out.largest < 4096 && out.writes > 1000,
        "{} writes, the largest {} bytes",
        out.writes,
        out.largest
    );
}

/// A reader that goes away mid-report is an error for the writer, not a panic.
#[test]
fn json_report_stops_at_a_write_error() {
    struct Closed(usize);
    impl std::io::Write for Closed {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.0 < buf.len() {
                return Err(std::io::ErrorKind::BrokenPipe.into());
            }
            self.0 -= buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let w = settled("default");
    let snap = export::snapshot(&w);
    let chains = chain::diagnose(&snap);
    let err = kvchain::report::write_json(Closed(1000), &snap, &chains, &[]).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn random_world_with_one_random_fault_is_diagnosed(
        pods in 6usize..40,
        pick in any::<prop::sample::Index>(),
        fault in prop::sample::select(
            faults::CATALOGUE.iter().filter(|f| f.expected.is_some()).map(|f| f.id).collect::<Vec<_>>()
        ),
    ) {
        let sc = generator::scenario(pods, false).unwrap();
        let mut w = World::new(sc);
        w.run_until_stable(lab::MAX_SETTLE);
        let targets: Vec<_> = w.workloads.keys().cloned().collect();
        let target = targets[pick.index(targets.len())].clone();
        faults::apply_to(&mut w, fault, &target).unwrap();
        w.run_until_stable(lab::MAX_SETTLE);
        let code = faults::find(fault).unwrap().expected.unwrap();
        let chains = diagnose(&w);
        let app = &target.2;
        let named = chains
            .iter()
            .filter(|c| c.namespace == target.1 && is_app(c, app))
            .any(|c| c.link(code.link()).findings.iter().any(|f| f.code == code));
        prop_assert!(named, "{fault} on {app}: {code} not named\n{}", describe(&chains));
    }
}

/// EEE9. fic-subject-typo's credential names `…:Orders`, a subject no service account can have
/// (Kubernetes names are lower-case): nothing uses it, so the fix corrects it (update), and
/// leaves no dead credential beside a second one (FACTS §7: twenty per identity at most).
#[test]
fn a_subject_only_case_off_is_corrected_in_place() {
    let chains = diagnose(&settled("fic-subject-typo"));
    let kvc401: Vec<_> = (chains.iter().flat_map(|c| c.findings()))
        .filter(|f| f.code == Code::KVC401)
        .collect();
    assert!(!kvc401.is_empty(), "{}", describe(&chains));
    for f in kvc401 {
        assert!(
            f.fix
                .starts_with("az identity federated-credential update --name fic-orders "),
            "{f:#?}"
        );
        assert!(
            f.fix
                .contains("--subject system:serviceaccount:shop:orders"),
            "{f:#?}"
        );
        assert!(!f.fix.contains("federated-credential create"), "{f:#?}");
    }
}
