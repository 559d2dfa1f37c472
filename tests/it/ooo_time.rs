//! Audit OOO-time: how kvchain judges time — events older than the latest success signal,
//! tenants, nodes and the synced Secret's life — against FACTS §1, §3, §4, §11 and the
//! README's sections on events, rotation and the synced Secret. The lab scenarios live in
//! tests/fixtures/lab/ooo-time-*.yaml (written from docs/scenarios.md's format); their vault
//! values are canaries that no output may show.

use serde_json::json;

use super::live_history::{DENIED, access_link, rotation_event};
use crate::live_support::*;

/// A core/v1 Event as some writers leave it: `firstTimestamp` and no `lastTimestamp`, no
/// `eventTime`, no `series`, and `count` 1 (or unset). Kubernetes' Event API: `count` is "the
/// number of times this event has occurred" and `lastTimestamp` "the time at which the most
/// recent occurrence of this event was recorded" — one occurrence is its own most recent one,
/// so it happened at `firstTimestamp`. FACTS §11: a rotation failure older than a later
/// `SecretRotationComplete` describes a past state; it is history, not a finding.
#[tokio::test]
async fn a_once_seen_event_without_last_timestamp_ages_by_its_first_timestamp() {
    let api = world();
    let mut failed = rotation_event("MountRotationFailed", "Warning", DENIED, 600);
    let e = failed.as_object_mut().unwrap();
    e.remove("lastTimestamp");
    e.insert("count".into(), json!(1));
    api.add(EVENTS, failed);
    api.add(
        EVENTS,
        rotation_event(
            "SecretRotationComplete",
            "Normal",
            "successfully rotated K8s secret foosecret",
            5,
        ),
    );
    let access = access_link(&api).await;
    assert!(access.findings.is_empty(), "{access:#?}");
    assert!(
        access.facts.iter().any(|f| f.label == "history (KVC501)"),
        "{access:#?}"
    );
}

/// FACTS §11 "Nodes": presence is per node, not per cluster, and a node without the provider
/// fails every mount (README, KVC104: "driver not registered on the node / provider
/// unavailable"). The pod's node is one the DaemonSets admit (Linux, no taint), the driver's
/// pod there is ready and the Azure provider's is not: the pod mounted before, so what fails is
/// rotation and every new mount on the node — KVC104 as a warning naming the provider pod,
/// its mount error and how to see why, never silence. With both pods ready the link is
/// healthy.
#[tokio::test]
async fn a_provider_pod_not_ready_on_an_admitted_node_is_named() {
    use super::live_driver_pods::{api_with_driver, daemon_pod};
    use super::live_nodes::node;
    use kvchain::chain::{Code, Severity, diagnose};
    let node_name = "aks-nodepool1-12345678-vmss000000";
    let api = api_with_driver();
    api.add("/api/v1/nodes", node(node_name, "linux"));
    let snap = snapshot_of(&api).await;
    let chains = diagnose(&snap);
    let c = chains
        .iter()
        .find(|c| c.pod == POD)
        .expect("the pod's chain");
    let f = c
        .findings()
        .find(|f| f.code == Code::KVC104)
        .unwrap_or_else(|| panic!("no KVC104: {:#?}", c.links));
    assert_eq!(f.severity, Severity::Warning, "{f:#?}");
    assert_eq!(f.resource, format!("Node/{node_name}"), "{f:#?}");
    let pod = "kube-system/aks-secrets-store-provider-azure-m4q9z";
    assert!(
        f.message.contains(&format!("pod {pod} is not ready"))
            && f.message.contains("provider not found")
            && !f.message.contains("taint"),
        "{f:#?}"
    );
    assert!(f.message.contains("what fails is rotation"), "{f:#?}");
    assert!(!f.fix.contains("taint") && f.fix.contains(pod), "{f:#?}");
    // As pasted: kubectl takes the pod's name with -n, never `kube-system/<name>` after a type.
    assert_eq!(
        f.confirm, "kubectl describe pod -n kube-system aks-secrets-store-provider-azure-m4q9z",
        "{f:#?}"
    );

    // Ready again: nothing to say about the node.
    let api = api_with_driver();
    api.add("/api/v1/nodes", node(node_name, "linux"));
    api.replace_silently(
        "/api/v1/pods",
        vec![
            pod_json(),
            daemon_pod("aks-secrets-store-csi-driver", "x7k2p", "True"),
            daemon_pod("aks-secrets-store-provider-azure", "m4q9z", "True"),
        ],
    );
    let snap = snapshot_of(&api).await;
    let chains = diagnose(&snap);
    let c = chains
        .iter()
        .find(|c| c.pod == POD)
        .expect("the pod's chain");
    assert!(
        c.findings().all(|f| f.code != Code::KVC104),
        "{:#?}",
        c.links
    );
}

/// The world's pod, as `world()` serves it.
fn pod_json() -> serde_json::Value {
    pod("azure-sync", "Running")
}
