//! The live source lists the driver's and the Azure provider's DaemonSet pods in kube-system
//! (read-only, whatever the namespace scope), by each DaemonSet's own selector, and keeps those
//! it owns: node and readiness (audit L4; FACTS §11 "Nodes": presence is per node). A refused
//! list is an unknown with its reason, and so a gap — never "no driver pod".

use crate::live_support::*;
use kvchain::snapshot::DriverPodObs;
use serde_json::json;

const NODE: &str = "aks-nodepool1-12345678-vmss000000";
const KUBE_SYSTEM_PODS: &str = "/api/v1/namespaces/kube-system/pods";

fn daemonset(name: &str, image: &str) -> serde_json::Value {
    json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
           "metadata": {"name": name, "namespace": "kube-system", "uid": format!("uid-{name}")},
           "spec": {"selector": {"matchLabels": {"app": name}},
                    "template": {"metadata": {"labels": {"app": name}},
                                 "spec": {"nodeSelector": {"kubernetes.io/os": "linux"},
                                          "containers": [{"name": "secrets-store", "image": image, "args": ["--enable-secret-rotation=true"]}]}}},
           "status": {"numberReady": 1, "desiredNumberScheduled": 1}})
}

pub(crate) fn daemon_pod(set: &str, suffix: &str, ready: &str) -> serde_json::Value {
    json!({"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": format!("{set}-{suffix}"), "namespace": "kube-system",
                        "labels": {"app": set},
                        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": set,
                                             "uid": format!("uid-{set}"), "controller": true}]},
           "spec": {"nodeName": NODE, "containers": [{"name": "c", "image": "x"}]},
           "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": ready}]}})
}

pub(crate) fn api_with_driver() -> FakeApi {
    let api = world();
    api.remove_collection(DAEMON_SETS);
    api.add(
        DAEMON_SETS,
        daemonset(
            "aks-secrets-store-csi-driver",
            "mcr.microsoft.com/oss/kubernetes-csi/secrets-store/driver:v1.4.4",
        ),
    );
    api.add(
        DAEMON_SETS,
        daemonset(
            "aks-secrets-store-provider-azure",
            "mcr.microsoft.com/oss/azure/secrets-store/provider-azure:v1.5.3",
        ),
    );
    api.add(
        PODS,
        daemon_pod("aks-secrets-store-csi-driver", "x7k2p", "True"),
    );
    api.add(
        PODS,
        daemon_pod("aks-secrets-store-provider-azure", "m4q9z", "False"),
    );
    // Same labels, owned by nothing of the driver's: not one of its pods.
    let mut stray = daemon_pod("aks-secrets-store-csi-driver", "stray", "True");
    stray["metadata"]["ownerReferences"] = json!([]);
    api.add(PODS, stray);
    api
}

#[tokio::test]
async fn the_driver_pods_are_read_with_their_node_and_readiness() {
    let api = api_with_driver();
    let snap = snapshot_of(&api).await;
    let csi = snap.cluster.csi_driver.known().expect("driver read");
    let mut pods = csi.driver_pods.known().expect("driver pods read").clone();
    pods.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(
        pods,
        vec![
            DriverPodObs {
                name: "kube-system/aks-secrets-store-csi-driver-x7k2p".into(),
                node: NODE.into(),
                provider: false,
                ready: true,
            },
            DriverPodObs {
                name: "kube-system/aks-secrets-store-provider-azure-m4q9z".into(),
                node: NODE.into(),
                provider: true,
                ready: false,
            },
        ]
    );
    assert!(
        api.requests()
            .iter()
            .filter(|r| r.contains(KUBE_SYSTEM_PODS))
            .all(|r| r.starts_with("GET") && r.contains("labelSelector")),
        "{:?}",
        api.requests()
    );
}

#[tokio::test]
async fn a_refused_list_is_unknown_with_its_reason_and_a_gap() {
    let api = api_with_driver();
    api.deny(PODS, Some("kube-system"));
    let snap = snapshot_of(&api).await;
    let csi = snap.cluster.csi_driver.known().expect("driver read");
    let reason = csi
        .driver_pods
        .unknown_reason()
        .expect("unknown, not an empty list");
    assert!(reason.contains("forbidden"), "{reason}");
    assert!(
        snap.gaps()
            .iter()
            .any(|g| g.kind == "cluster.csiDriver.pods" && g.reason == reason),
        "{:#?}",
        snap.gaps()
    );
}

/// Audit SS4: `get csidrivers` refused AND the kube-system DaemonSets and pods refused. Every
/// unread read is a gap with its `kubectl auth can-i` (not only the CSIDriver's), and a mounted
/// chain's "rotation unknown" names the read rotation is taken from: the driver's DaemonSet.
#[tokio::test]
async fn csidrivers_and_the_driver_daemonsets_refused_are_both_gaps() {
    let api = api_with_driver();
    api.deny(CSI_DRIVERS, None);
    api.deny(DAEMON_SETS, Some("kube-system"));
    api.deny(PODS, Some("kube-system"));
    let snap = snapshot_of(&api).await;
    let gaps = snap.gaps();
    let confirms: Vec<&str> = gaps
        .iter()
        .flat_map(|g| g.confirm.iter().map(String::as_str))
        .collect();
    for cmd in [
        "kubectl auth can-i get csidrivers",
        "kubectl auth can-i list daemonsets -n kube-system",
    ] {
        assert!(confirms.contains(&cmd), "{cmd} missing: {gaps:#?}");
    }
    let chains = kvchain::chain::diagnose(&snap);
    let mount = chains
        .iter()
        .flat_map(|c| c.links.iter())
        .find(|l| {
            l.link == kvchain::chain::LinkKind::Mount
                && l.facts
                    .iter()
                    .any(|f| f.observed.contains("--enable-secret-rotation"))
        })
        .unwrap_or_else(|| panic!("{chains:#?}"));
    let said: String = mount.facts.iter().map(|f| format!("{f:?}")).collect();
    assert!(said.contains("daemonsets"), "{said}");
    assert!(
        !said.contains("csidrivers"),
        "rotation is not read from the CSIDriver: {said}"
    );
}
