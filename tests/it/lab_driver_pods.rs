//! The lab shows its driver's DaemonSet pods as a cluster would list them (audit L4): one
//! ready driver pod and one provider pod on each node the DaemonSets place them on (FACTS §11
//! "Nodes": presence is per node), none on a node whose taint they do not tolerate — the lab
//! taints its nodes before the driver is placed, so there it never ran. A pod bound there is
//! then diagnosed from a known absence: KVC104, the error.

use std::time::Duration;

use kvchain::chain::{Code, Severity, diagnose};
use kvchain::source::lab::export;

use crate::lab_nodes::{healthy_with, placed};

const DEFAULT_NODE: &str = "aks-nodepool1-12345678-vmss000000";
const GPU: &str = "aks-gpu-0000-vmss000000";
const TAINTED: &str = "apiVersion: v1\nkind: Node\nmetadata:\n  name: aks-gpu-0000-vmss000000\n  labels: {kubernetes.io/os: linux}\nspec:\n  taints: [{key: dedicated, value: gpu, effect: NoSchedule}]\n";

#[test]
fn the_lab_lists_its_driver_pods_where_they_run() {
    let mut w = healthy_with(&[TAINTED, &placed(&format!("  nodeName: {GPU}\n"))]);
    w.advance(Duration::from_secs(30));
    let s = export::snapshot(&w);
    let csi = s.cluster.csi_driver.known().unwrap();
    let pods = csi
        .driver_pods
        .known()
        .expect("the lab knows its driver pods");
    for provider in [false, true] {
        assert!(
            pods.iter()
                .any(|p| p.node == DEFAULT_NODE && p.provider == provider && p.ready),
            "{pods:#?}"
        );
    }
    assert!(pods.iter().all(|p| p.node != GPU), "{pods:#?}");
    assert!(s.gaps().iter().all(|g| g.kind != "cluster.csiDriver.pods"));
    let chains = diagnose(&s);
    let c = chains.iter().find(|c| c.pod == "placed").unwrap();
    let f = c
        .findings()
        .find(|f| f.code == Code::KVC104)
        .unwrap_or_else(|| panic!("{:#?}", c.links));
    assert_eq!(f.severity, Severity::Error, "{}", f.message);
}
