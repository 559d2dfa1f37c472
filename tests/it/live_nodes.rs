//! Driver presence is per node (issue 12 §5, FACTS §11 "Nodes"): the live source reads the
//! nodes and the driver/provider DaemonSets' scheduling constraints (read-only), and KVC104
//! names the pod's node and why no driver pod runs there; pods on driver nodes stay clean.

use crate::live_support::*;
use kvchain::chain::{Code, diagnose};
use serde_json::json;

const NODES: &str = "/api/v1/nodes";
const LINUX_NODE: &str = "aks-nodepool1-12345678-vmss000000";
const WINDOWS_NODE: &str = "akswin000000";

fn daemonset(name: &str, image: &str, args: serde_json::Value) -> serde_json::Value {
    json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
           "metadata": {"name": name, "namespace": "kube-system"},
           "spec": {"selector": {"matchLabels": {"app": name}},
                    "template": {"metadata": {"labels": {"app": name}},
                                 "spec": {"nodeSelector": {"kubernetes.io/os": "linux"},
                                          "tolerations": [{"operator": "Exists", "effect": "NoSchedule", "key": "CriticalAddonsOnly"}],
                                          "containers": [{"name": "secrets-store", "image": image, "args": args}]}}},
           "status": {"numberReady": 1, "desiredNumberScheduled": 1, "currentNumberScheduled": 1, "numberMisscheduled": 0}})
}

pub(crate) fn node(name: &str, os: &str) -> serde_json::Value {
    json!({"apiVersion": "v1", "kind": "Node",
           "metadata": {"name": name, "labels": {"kubernetes.io/os": os, "kubernetes.io/hostname": name,
                                                  "kubernetes.azure.com/agentpool": if os == "linux" { "nodepool1" } else { "win" }}},
           "spec": {"taints": if os == "windows" { json!([{"key": "os", "value": "windows", "effect": "NoSchedule"}]) } else { json!([]) }}})
}

#[tokio::test]
async fn kvc104_is_decided_per_node_and_names_why_no_driver_runs_there() {
    let api = world();
    api.remove_collection(DAEMON_SETS);
    api.add(
        DAEMON_SETS,
        daemonset(
            "aks-secrets-store-csi-driver",
            "mcr.microsoft.com/oss/kubernetes-csi/secrets-store/driver:v1.4.4",
            json!([
                "--enable-secret-rotation=true",
                "--rotation-poll-interval=2m"
            ]),
        ),
    );
    api.add(
        DAEMON_SETS,
        daemonset(
            "aks-secrets-store-provider-azure",
            "mcr.microsoft.com/oss/azure/secrets-store/provider-azure:v1.5.3",
            json!([]),
        ),
    );
    api.add(NODES, node(LINUX_NODE, "linux"));
    api.add(NODES, node(WINDOWS_NODE, "windows"));
    // A second replica, scheduled on the Windows node: it never mounts.
    let mut win = pod("azure-sync", "Pending");
    win["metadata"]["name"] = json!("busybox-on-windows");
    win["metadata"]["uid"] = json!("7a2d4b1f-0000-4000-8000-000000000002");
    win["spec"]["nodeName"] = json!(WINDOWS_NODE);
    win["status"]["containerStatuses"][0]["state"] =
        json!({"waiting": {"reason": "ContainerCreating"}});
    api.add(PODS, win);
    let snap = snapshot_of(&api).await;
    let nodes = snap.cluster.nodes.known().expect("nodes read");
    assert_eq!(nodes.len(), 2);
    let chains = diagnose(&snap);
    let on = |pod: &str| {
        chains
            .iter()
            .find(|c| c.pod == pod)
            .unwrap_or_else(|| panic!("no chain for {pod}"))
    };
    let f = on("busybox-on-windows")
        .findings()
        .find(|f| f.code == Code::KVC104)
        .expect("KVC104 on the Windows node's pod");
    assert_eq!(f.resource, format!("Node/{WINDOWS_NODE}"));
    assert!(f.message.contains(WINDOWS_NODE), "{}", f.message);
    let seen = f.evidence.join("\n");
    assert!(
        seen.contains("kube-system/aks-secrets-store-csi-driver: nodeSelector kubernetes.io/os=linux, node has kubernetes.io/os=windows"),
        "{seen}"
    );
    assert!(
        seen.contains("taint os=windows:NoSchedule is not tolerated"),
        "{seen}"
    );
    // A Windows container cannot move to Linux and the Linux DaemonSets cannot run on
    // Windows (FACTS §11): the fix is the charts' Windows DaemonSets, or a Linux pool for a
    // Linux image, not "schedule onto nodes where the driver runs".
    assert!(f.fix.contains("windows.enabled=true"), "{}", f.fix);
    assert!(f.fix.contains("AKS add-on does not run"), "{}", f.fix);
    assert!(!f.fix.contains("schedule onto nodes"), "{}", f.fix);
    // The replica on the Linux node, where both DaemonSets run, has no KVC104.
    assert!(on(POD).findings().all(|f| f.code != Code::KVC104));
    // Read-only: nodes are listed, never written.
    let requests = api.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("GET") && r.contains("/api/v1/nodes"))
    );
    assert!(
        requests
            .iter()
            .all(|r| !r.contains("/nodes") || r.starts_with("GET"))
    );
}
