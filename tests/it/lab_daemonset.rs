//! The lab's DaemonSet controller (Kubernetes "DaemonSet" docs): one pod per node whose labels
//! match the template's nodeSelector and whose taints it tolerates, bound to that node; no
//! eligible node means desiredNumberScheduled 0 — no pod at all, so no FailedScheduling and
//! nothing for KVC107 to say.

use std::time::Duration;

use kvchain::chain::{self, Code};
use kvchain::source::lab::export;

use crate::lab_nodes::healthy_with;

/// A DaemonSet `agent` mounting checkout-kv, with `placement` (indented under the template's
/// `spec:`).
pub(crate) fn daemonset(placement: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
  namespace: shop
spec:
  selector: {{matchLabels: {{app: agent}}}}
  template:
    metadata:
      labels: {{app: agent, azure.workload.identity/use: "true"}}
    spec:
      serviceAccountName: checkout
{placement}      containers:
        - name: app
          image: busybox
          volumeMounts: [{{name: s, mountPath: /mnt/s, readOnly: true}}]
      volumes:
        - name: s
          csi: {{driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {{secretProviderClass: checkout-kv}}}}"#
    )
}

pub(crate) const POOL_B: &str = "apiVersion: v1\nkind: Node\nmetadata:\n  name: aks-poolb-0000-vmss000000\n  labels: {kubernetes.io/os: linux, pool: b}\n";
const TAINTED: &str = "apiVersion: v1\nkind: Node\nmetadata:\n  name: aks-gpu-0000-vmss000000\n  labels: {kubernetes.io/os: linux}\nspec:\n  taints: [{key: sku, value: gpu, effect: NoSchedule}]\n";

fn agent_pods(s: &kvchain::snapshot::Snapshot) -> Vec<&kvchain::snapshot::PodObs> {
    s.pods
        .items
        .iter()
        .filter(|p| p.owners.iter().any(|o| o.kind == "DaemonSet"))
        .collect()
}

/// N10: a nodeSelector no node has: no pod, no FailedScheduling, no KVC107.
#[test]
fn a_daemonset_no_node_admits_creates_no_pod() {
    let mut w = healthy_with(&[&daemonset("      nodeSelector: {agentpool: gpu}\n")]);
    w.advance(Duration::from_secs(60));
    let s = export::snapshot(&w);
    assert!(agent_pods(&s).is_empty(), "{:#?}", agent_pods(&s));
    assert!(
        s.events
            .items
            .iter()
            .all(|e| e.reason != "FailedScheduling"),
        "{:#?}",
        s.events.items
    );
    let chains = chain::diagnose(&s);
    assert!(
        chains
            .iter()
            .flat_map(|c| c.findings())
            .all(|f| f.code != Code::KVC107),
        "{chains:#?}"
    );
}

/// One pod per eligible node, each bound to its node; a tainted node it does not tolerate
/// gets none.
#[test]
fn a_daemonset_runs_one_pod_on_each_node_it_admits() {
    let mut w = healthy_with(&[&daemonset(""), POOL_B, TAINTED]);
    w.advance(Duration::from_secs(60));
    let s = export::snapshot(&w);
    let mut nodes: Vec<&str> = agent_pods(&s)
        .iter()
        .filter_map(|p| p.node.as_deref())
        .collect();
    nodes.sort();
    assert_eq!(
        nodes,
        [
            "aks-nodepool1-12345678-vmss000000",
            "aks-poolb-0000-vmss000000"
        ],
        "{:#?}",
        agent_pods(&s)
    );
    assert_eq!(agent_pods(&s).len(), 2);
    assert!(
        s.events
            .items
            .iter()
            .all(|e| e.reason != "FailedScheduling")
    );
    // A selector narrows it to the nodes that match.
    let mut w = healthy_with(&[&daemonset("      nodeSelector: {pool: b}\n"), POOL_B]);
    w.advance(Duration::from_secs(60));
    let s = export::snapshot(&w);
    let pods = agent_pods(&s);
    assert_eq!(pods.len(), 1, "{pods:#?}");
    assert_eq!(pods[0].node.as_deref(), Some("aks-poolb-0000-vmss000000"));
}

/// Q6: a DaemonSet's pods go only to nodes its template's required node affinity admits
/// (codes.yaml KVC107 "A DaemonSet's pods are created only for nodes its template admits"):
/// the only matching node is tainted and not tolerated, so no pod at all.
#[test]
fn a_daemonset_honours_required_node_affinity() {
    let affinity = "      affinity:\n        nodeAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n            nodeSelectorTerms:\n              - matchExpressions: [{key: pool, operator: In, values: [b]}]\n";
    let tainted_b = "apiVersion: v1\nkind: Node\nmetadata:\n  name: aks-poolb-0000-vmss000000\n  labels: {kubernetes.io/os: linux, pool: b}\nspec:\n  taints: [{key: sku, value: gpu, effect: NoSchedule}]\n";
    let mut w = healthy_with(&[&daemonset(affinity), tainted_b]);
    w.advance(Duration::from_secs(60));
    let s = export::snapshot(&w);
    assert!(agent_pods(&s).is_empty(), "{:#?}", agent_pods(&s));
    // Untainted, the pool-b node gets the only pod.
    let mut w = healthy_with(&[&daemonset(affinity), POOL_B]);
    w.advance(Duration::from_secs(60));
    let s = export::snapshot(&w);
    let pods = agent_pods(&s);
    assert_eq!(pods.len(), 1, "{pods:#?}");
    assert_eq!(pods[0].node.as_deref(), Some("aks-poolb-0000-vmss000000"));
}
