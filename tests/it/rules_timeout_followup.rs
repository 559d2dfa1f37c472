//! The kubelet's follow-on `Unable to attach or mount volumes: … timed out waiting for the
//! condition` names no cause (FACTS §3). Audit A item 2: when it is the pod's only Warning and
//! the objects show the cause upstream (an object the vault does not have, KVC601), the chain
//! reads as it does with the detailed SetUp event: KVC601 alone, Mount "blocked: Object", the
//! timeout its evidence; no KVC701 "for a reason no rule explains" beside it.

use std::time::Duration;

use kvchain::chain::{self, Chain, Code, LinkKind, Severity, Status};
use kvchain::snapshot::Snapshot;
use kvchain::source::lab::world::World;
use kvchain::source::lab::{self, export};

const TIMEOUT: &str = "Unable to attach or mount volumes: unmounted volumes=[secrets-store], unattached volumes=[kube-api-access-x secrets-store]: timed out waiting for the condition";

fn object_not_found() -> Snapshot {
    let mut w = World::new(lab::load("object-not-found").expect("built-in scenario loads"));
    w.run_until_stable(Duration::from_secs(3600));
    export::snapshot(&w)
}

fn catalog(s: &Snapshot) -> Chain {
    chain::diagnose(s)
        .into_iter()
        .find(|c| c.pod.starts_with("catalog-"))
        .expect("catalog chain")
}

/// Every FailedMount of the catalog pod says only the generic timeout.
fn timeout_only(s: &mut Snapshot) {
    let mut n = 0;
    for e in s.events.items.iter_mut() {
        if e.reason == "FailedMount" && e.involved_name.starts_with("catalog-") {
            e.message = TIMEOUT.into();
            n += 1;
        }
    }
    assert!(n > 0, "the scenario has the catalog pod's FailedMount");
}

fn assert_one_cause(c: &Chain) {
    let problems: Vec<_> = c
        .findings()
        .filter(|f| f.severity > Severity::Info)
        .map(|f| f.code)
        .collect();
    assert_eq!(problems, vec![Code::KVC601], "{c:#?}");
    let mount = c.link(LinkKind::Mount);
    assert_eq!(mount.status, Status::Broken, "{mount:#?}");
    assert_eq!(&*mount.summary, "blocked: Object", "{mount:#?}");
}

#[test]
fn detailed_setup_event_reads_kvc601_alone_with_mount_blocked() {
    assert_one_cause(&catalog(&object_not_found()));
}

#[test]
fn generic_timeout_alone_is_kvc601_evidence_not_a_kvc701() {
    let mut s = object_not_found();
    timeout_only(&mut s);
    let c = catalog(&s);
    assert_one_cause(&c);
    let f = c.findings().find(|f| f.code == Code::KVC601).unwrap();
    assert!(
        f.evidence
            .iter()
            .any(|e| e.contains("timed out waiting for the condition")),
        "{f:#?}"
    );
}
