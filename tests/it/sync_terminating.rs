//! Audit S1: the workload mounting an SPC deleted while its pods terminate. The synced
//! Secret is collected with its owners (FACTS §2: "GC'd when ALL listed owners are gone";
//! §11 "Owners") and the driver's pod status reconciler skips a pod being deleted, so nothing
//! writes it again: KVC802 (no running mount), never KVC806's "recreated within 5 minutes,
//! nothing to delete"; and no restart is asked of an owner that is gone.

use kvchain::chain::testkit::{self as tk, APP};
use kvchain::chain::{Code, diagnose};

#[test]
fn a_secret_whose_mounting_pods_all_terminate_is_not_said_to_come_back() {
    let mut s = tk::healthy();
    s.secrets.items.retain(|x| x.name != tk::secret_name(APP));
    for p in s.pods.items.iter_mut().filter(|p| p.name.starts_with(APP)) {
        p.deleting = true;
    }
    s.workloads.items.clear();
    let chains = diagnose(&s);
    let codes: Vec<Code> = chains
        .iter()
        .flat_map(|c| c.findings())
        .map(|f| f.code)
        .collect();
    assert!(!codes.contains(&Code::KVC806), "{codes:?}");
    assert!(!codes.contains(&Code::KVC902), "{codes:?}");
    let f = chains
        .iter()
        .flat_map(|c| c.findings())
        .find(|f| f.code == Code::KVC802)
        .unwrap_or_else(|| panic!("{chains:#?}"));
    assert!(f.message.contains("terminating"), "{}", f.message);
    assert!(!f.fix.contains("nothing to delete"), "{}", f.fix);
}

/// Control: one mounting pod still running keeps it KVC806 (the driver recreates it there).
#[test]
fn with_one_mounting_pod_running_a_missing_secret_is_recreated() {
    let mut s = tk::healthy();
    s.secrets.items.retain(|x| x.name != tk::secret_name(APP));
    let chains = diagnose(&s);
    assert!(
        chains
            .iter()
            .flat_map(|c| c.findings())
            .any(|f| f.code == Code::KVC806),
        "{chains:#?}"
    );
}
