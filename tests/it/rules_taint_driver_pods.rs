//! A pod not mounted yet on a node whose taint keeps the driver's DaemonSets from placing new
//! pods there (audit L4: KVC104 "no driver … pod can run" as an error while another pod of the
//! same node had just rotated).
//!
//! Kubernetes API, `TaintEffectNoSchedule`: "Do not allow new pods to schedule onto the node
//! unless they tolerate the taint, but allow all pods submitted to Kubelet without going
//! through the scheduler to start, and allow all already-running pods to continue running";
//! `TaintEffectNoExecute`: "Evict any already-running pods that do not tolerate the taint."
//! FACTS §11 "Nodes": "Presence is per node, not per cluster." So under a NoSchedule taint the
//! driver is on the node when its DaemonSet pods are (ready) there, or when it just worked
//! there: FACTS §4 (the rotation reconciler runs per node, "lists all SPCPS of the node"), §3
//! (`SecretRotationComplete` "emitted after every successful patch step"). Its pods read and
//! none there: absent (the error it was). Nothing read either way: unknown, not absent.

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Chain, Code, LinkKind, Severity, Status, diagnose};
use kvchain::snapshot::*;

use crate::rules_pod_link_repaired::addon_on_linux_node;

const NODE: &str = "aks-nodepool1-12345678-vmss000000";

fn csi(s: &mut Snapshot) -> &mut CsiDriverFacts {
    match &mut s.cluster.csi_driver {
        Observed::Known(c) => c,
        Observed::Unknown(_) => panic!("testkit knows the driver"),
    }
}

/// `pods` replicas of the app on the add-on, their node tainted `effect`; replica 0 not
/// mounted yet (Pending, ContainerCreating, no SPCPS), no events.
fn waiting(pods: usize, effect: &str) -> Snapshot {
    let mut s = tk::empty();
    tk::add_app(&mut s, NS, APP, pods);
    addon_on_linux_node(
        &mut s,
        vec![TaintObs {
            key: "dedicated".into(),
            value: "gpu".into(),
            effect: effect.into(),
        }],
    );
    let first = tk::pod_name(APP, 0);
    s.spc_statuses.items.retain(|st| st.pod_name != first);
    let p = s.pods.items.iter_mut().find(|p| p.name == first).unwrap();
    p.phase = "Pending".into();
    p.ready = Some(false);
    for c in &mut p.containers {
        c.state = ContainerStateObs::Waiting {
            reason: "ContainerCreating".into(),
            message: String::new(),
        };
    }
    s.events.items.clear();
    s
}

fn driver_pod(provider: bool, node: &str, ready: bool) -> DriverPodObs {
    let set = if provider {
        "aks-secrets-store-provider-azure"
    } else {
        "aks-secrets-store-csi-driver"
    };
    DriverPodObs {
        name: format!("kube-system/{set}-x7k2p"),
        node: node.into(),
        provider,
        ready,
    }
}

fn chain_of(s: &Snapshot, pod: &str) -> Chain {
    diagnose(s)
        .into_iter()
        .find(|c| c.pod == pod)
        .unwrap_or_else(|| panic!("no chain for {pod}"))
}

fn kvc104(c: &Chain) -> Option<&kvchain::chain::Finding> {
    c.findings().find(|f| f.code == Code::KVC104)
}

/// Its DaemonSet pods ready on the node: the driver is there, whatever the taint says of new
/// pods. At most the info that a replaced one would not be placed again; never an error.
#[test]
fn ready_driver_pods_on_the_node_make_it_present() {
    let mut s = waiting(1, "NoSchedule");
    csi(&mut s).driver_pods = Observed::Known(vec![
        driver_pod(false, NODE, true),
        driver_pod(true, NODE, true),
    ]);
    let c = chain_of(&s, &tk::pod_name(APP, 0));
    let f = kvc104(&c).unwrap_or_else(|| panic!("{:#?}", c.links));
    assert_eq!(f.severity, Severity::Info, "{}", f.message);
    assert!(!f.message.contains("can run"), "{}", f.message);
    assert!(
        f.message.contains("aks-secrets-store-csi-driver-x7k2p"),
        "{}",
        f.message
    );
    assert_ne!(
        c.link(LinkKind::Pod).status,
        Status::Broken,
        "{:#?}",
        c.links
    );
}

/// Its pods read and none (or none ready) of the driver on the node: absent, the error as
/// before — and the evidence says what was read.
#[test]
fn driver_pods_read_and_none_on_the_node_is_the_error() {
    for pods in [
        vec![driver_pod(false, "aks-nodepool1-12345678-vmss000001", true)],
        vec![driver_pod(false, NODE, false), driver_pod(true, NODE, true)],
    ] {
        let mut s = waiting(1, "NoSchedule");
        csi(&mut s).driver_pods = Observed::Known(pods);
        let c = chain_of(&s, &tk::pod_name(APP, 0));
        let f = kvc104(&c).unwrap_or_else(|| panic!("{:#?}", c.links));
        assert_eq!(f.severity, Severity::Error, "{}", f.message);
        assert!(
            f.evidence.iter().any(|e| e.contains("driver pod")),
            "{:?}",
            f.evidence
        );
    }
}

/// Audit AA3: with the pods read, the finding names what the pods say — the one kind missing,
/// with its own mount error (FACTS §11: without the driver `driver name … not found in the
/// list of registered CSI drivers`, without the provider its own), or a pod that is there and
/// not ready (repaired in place: the taint would keep a replacement off the node) — never
/// "no driver … pod can run: its scheduling constraints exclude the node" beside a driver pod
/// ready on it.
#[test]
fn the_pods_read_say_which_kind_is_missing_or_not_ready() {
    let mut s = waiting(1, "NoSchedule");
    csi(&mut s).driver_pods = Observed::Known(vec![driver_pod(false, NODE, true)]);
    let c = chain_of(&s, &tk::pod_name(APP, 0));
    let f = kvc104(&c).unwrap_or_else(|| panic!("{:#?}", c.links));
    assert!(
        f.message.contains("no Azure provider pod runs"),
        "{}",
        f.message
    );
    assert!(f.message.contains("provider not found"), "{}", f.message);
    assert!(
        !f.message.contains("Secrets Store CSI driver")
            && !f
                .message
                .contains("not found in the list of registered CSI drivers"),
        "the driver is there: {}",
        f.message
    );
    assert!(
        !f.message.contains("scheduling constraints"),
        "{}",
        f.message
    );

    let mut s = waiting(1, "NoSchedule");
    csi(&mut s).driver_pods = Observed::Known(vec![
        driver_pod(false, NODE, false),
        driver_pod(true, NODE, true),
    ]);
    let c = chain_of(&s, &tk::pod_name(APP, 0));
    let f = kvc104(&c).unwrap_or_else(|| panic!("{:#?}", c.links));
    let pod = "kube-system/aks-secrets-store-csi-driver-x7k2p";
    assert!(
        f.message.contains(&format!("pod {pod} is not ready")),
        "{}",
        f.message
    );
    assert!(
        !f.message.contains("scheduling constraints"),
        "{}",
        f.message
    );
    assert_eq!(
        f.confirm.as_str(),
        format!(
            "kubectl describe pod -n kube-system {}",
            pod.trim_start_matches("kube-system/")
        )
    );
    assert!(
        f.fix.starts_with('#') && f.fix.contains("do not delete it"),
        "repaired in place, not moved: {}",
        f.fix
    );
}

/// The repro (audit L4): driver pods not read, but another pod of the node rotated at the
/// snapshot's time — the driver (and the provider, an Azure SPC) runs there.
#[test]
fn a_rotation_on_another_pod_of_the_node_makes_it_present() {
    let mut s = waiting(2, "NoSchedule");
    s.events.items.push(EventObs {
        namespace: NS.into(),
        involved_kind: "Pod".into(),
        involved_name: tk::pod_name(APP, 1).into(),
        type_: "Normal".into(),
        reason: "SecretRotationComplete".into(),
        message: format!("successfully rotated K8s secret {}", tk::secret_name(APP)),
        count: 3,
        source: "csi-secrets-store-rotation".into(),
        last_seen: Some(tk::now()),
        ..EventObs::default()
    });
    let c = chain_of(&s, &tk::pod_name(APP, 0));
    let f = kvc104(&c).unwrap_or_else(|| panic!("{:#?}", c.links));
    assert_eq!(f.severity, Severity::Info, "{}", f.message);
    assert!(f.message.contains(&tk::pod_name(APP, 1)), "{}", f.message);
    assert_ne!(c.link(LinkKind::Pod).status, Status::Broken);
}

/// Nothing read says whether the driver pods placed before the taint still run: the Pod link
/// is unknown with the reason (the gap's), not broken; no KVC104.
#[test]
fn nothing_read_either_way_is_unknown_not_absent() {
    let s = waiting(1, "NoSchedule");
    let c = chain_of(&s, &tk::pod_name(APP, 0));
    assert!(kvc104(&c).is_none(), "{:?}", kvc104(&c));
    let pod = c.link(LinkKind::Pod);
    assert_eq!(pod.status, Status::Unknown, "{pod:#?}");
    assert!(
        pod.facts
            .iter()
            .any(|f| f.label == "unknown" && f.observed == "not observed"),
        "{pod:#?}"
    );
    assert!(
        s.gaps()
            .iter()
            .any(|g| g.kind == "cluster.csiDriver.pods" && g.reason == "not observed")
    );
}

/// An untolerated NoExecute taint evicts the driver pods: absent whatever a list read earlier
/// or a rotation before it shows (KVC104 as before).
#[test]
fn a_no_execute_taint_is_absent_whatever_else_was_seen() {
    let mut s = waiting(1, "NoExecute");
    csi(&mut s).driver_pods = Observed::Known(vec![
        driver_pod(false, NODE, true),
        driver_pod(true, NODE, true),
    ]);
    let c = chain_of(&s, &tk::pod_name(APP, 0));
    let f = kvc104(&c).unwrap_or_else(|| panic!("{:#?}", c.links));
    assert_eq!(f.severity, Severity::Error, "{}", f.message);
}

/// A snapshot file written before the field existed loads with the driver's pods not
/// observed (unknown is not absent).
#[test]
fn an_older_snapshot_file_loads_with_driver_pods_not_observed() {
    let mut s = tk::healthy();
    csi(&mut s).driver_pods = Observed::Known(vec![driver_pod(false, NODE, true)]);
    let text = kvchain::snapshot::file::to_string(&s, false).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let driver = &mut v["snapshot"]["cluster"]["csi_driver"]["value"];
    assert!(
        driver
            .as_object_mut()
            .unwrap()
            .remove("driver_pods")
            .is_some()
    );
    let old = kvchain::snapshot::file::from_str(&v.to_string()).unwrap();
    let loaded = &old.cluster.csi_driver.known().unwrap().driver_pods;
    assert_eq!(loaded.unknown_reason(), Some(NOT_OBSERVED));
}

/// The incremental engine re-diagnoses a waiting pod when another pod of its tainted node
/// rotates (that pod's event is now read by this chain): it equals a full diagnosis.
#[test]
fn the_engine_follows_a_rotation_on_another_pod_of_the_node() {
    use kvchain::chain::engine::{Change, Engine, Object};
    use std::sync::Arc;
    let s = waiting(2, "NoSchedule");
    let mut engine = Engine::new(s.clone());
    let event = EventObs {
        namespace: NS.into(),
        involved_kind: "Pod".into(),
        involved_name: tk::pod_name(APP, 1).into(),
        type_: "Normal".into(),
        reason: "SecretRotationComplete".into(),
        message: format!("successfully rotated K8s secret {}", tk::secret_name(APP)),
        count: 3,
        source: "csi-secrets-store-rotation".into(),
        last_seen: Some(tk::now()),
        ..EventObs::default()
    };
    engine.apply([Change::Upsert(Object::Event(Arc::new(event.clone())))]);
    let mut after = s;
    after.events.items.push(event);
    let waiting_pod = tk::pod_name(APP, 0);
    let incremental = engine
        .chains()
        .find(|c| c.pod == waiting_pod)
        .unwrap()
        .clone();
    let full = chain_of(&after, &waiting_pod);
    assert_eq!(incremental, full);
    assert_eq!(
        kvc104(&full).map(|f| f.severity),
        Some(Severity::Info),
        "{:#?}",
        full.links
    );
}
