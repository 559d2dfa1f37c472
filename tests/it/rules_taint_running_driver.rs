//! A node tainted `NoSchedule` after the driver's DaemonSet pods were placed on it (audit L4).
//! Kubernetes taint semantics: `NoSchedule` keeps new pods off a node and evicts none; only an
//! untolerated `NoExecute` evicts running pods. FACTS §3: `SecretRotationComplete` is
//! "emitted after every successful patch step"; §4: the rotation reconciler runs per node
//! ("lists all SPCPS of the node and calls the provider Mount for each"). So a rotation just
//! completed on a pod of that node proves the driver runs there: it is not absent, and
//! "what fails is rotation" is contradicted. At most the risk is said: a replaced driver pod
//! would not be placed again.

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Chain, Code, LinkKind, Severity, Status, diagnose};
use kvchain::snapshot::*;

/// The healthy chain on the add-on, its node tainted `effect` against the DaemonSets, and a
/// rotation completed on its pod a moment ago.
fn tainted(effect: &str) -> Snapshot {
    let mut s = tk::healthy();
    crate::rules_pod_link_repaired::addon_on_linux_node(
        &mut s,
        vec![TaintObs {
            key: "dedicated".into(),
            value: "gpu".into(),
            effect: effect.into(),
        }],
    );
    s.events.items.push(EventObs {
        namespace: NS.into(),
        involved_kind: "Pod".into(),
        involved_name: tk::pod_name(APP, 0).into(),
        type_: "Normal".into(),
        reason: "SecretRotationComplete".into(),
        message: format!("successfully rotated K8s secret {}", tk::secret_name(APP)),
        count: 30,
        source: "csi-secrets-store-rotation".into(),
        last_seen: Some(tk::now()),
        ..EventObs::default()
    });
    s
}

fn one(s: &Snapshot) -> Chain {
    let mut chains = diagnose(s);
    assert_eq!(chains.len(), 1);
    chains.remove(0)
}

#[test]
fn a_no_schedule_taint_does_not_make_a_running_driver_absent() {
    let c = one(&tainted("NoSchedule"));
    for f in c.findings().filter(|f| f.code == Code::KVC104) {
        assert_eq!(f.severity, Severity::Info, "{}", f.message);
        assert!(
            !f.message.contains("what fails is rotation") && !f.message.contains("can run"),
            "{}",
            f.message
        );
        assert!(!f.fix.trim().is_empty());
    }
    assert_eq!(c.link(LinkKind::Pod).status, Status::Ok, "{:#?}", c.links);
}

/// NoExecute evicts the DaemonSet pods that do not tolerate it: the driver is gone from the
/// node whatever ran there before, and the rule says so (mounted pod: a warning).
#[test]
fn a_no_execute_taint_still_removes_the_driver() {
    let c = one(&tainted("NoExecute"));
    let f = c
        .findings()
        .find(|f| f.code == Code::KVC104)
        .unwrap_or_else(|| panic!("{:#?}", c.links));
    assert_eq!(f.severity, Severity::Warning);
}

/// A pod that never mounted on the tainted node shows no driver ran for it there: its
/// "not registered" failure is the error it was.
#[test]
fn a_pod_that_never_mounted_on_the_tainted_node_keeps_its_error() {
    let mut s = tainted("NoSchedule");
    s.events.items.clear();
    tk::unmount(&mut s, APP);
    let mut e = tk::failed_mount(NS, &tk::pod_name(APP, 0), "secrets-store-inline", "x");
    e.message = "kubernetes.io/csi: mounter.SetUpAt failed to get CSI client: driver name secrets-store.csi.k8s.io not found in the list of registered CSI drivers".into();
    s.events.items.push(e);
    let c = one(&s);
    let f = c.findings().find(|f| f.code == Code::KVC104).unwrap();
    assert_eq!(f.severity, Severity::Error);
}
