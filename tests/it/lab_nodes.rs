//! Lab nodes and scheduling (FACTS §11 "Nodes"): a pod lands only on a node whose labels match
//! its nodeSelector and whose taints it tolerates, else it stays Pending with kube-scheduler's
//! FailedScheduling; a `nodeName` that names no node is never run and PodGC deletes it; the
//! add-on's DaemonSets select `kubernetes.io/os: linux`, so a mount on another node finds no
//! registered driver.

use std::time::Duration;

use kvchain::snapshot::Snapshot;
use kvchain::source::lab::world::{Stage, World};
use kvchain::source::lab::{self, export};

pub(crate) const CLUSTER: &str = include_str!("../../assets/scenarios/cluster.yaml");
pub(crate) const SHOP: &str = include_str!("../../assets/scenarios/shop.yaml");
pub(crate) const HEALTHY: &str = include_str!("../../assets/scenarios/healthy.yaml");

/// `app` (the healthy checkout Deployment, edited) whose container app also mounts volume
/// `name` at /mnt/NAME: the kubelet sets up only the volumes a container uses, so a volume
/// meant to fail (or to work) must be mounted.
pub(crate) fn mounted_by_app(app: &str, name: &str) -> String {
    let mount = "              mountPath: /mnt/secrets-store\n              readOnly: true\n";
    let out = app.replacen(
        mount,
        &format!("{mount}            - name: {name}\n              mountPath: /mnt/{name}\n              readOnly: true\n"),
        1,
    );
    assert_ne!(out, app, "container app mounts secrets-store");
    out
}

/// A bare pod mounting checkout-kv, with `placement` (indented under `spec:`).
pub(crate) fn placed(placement: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: Pod
metadata:
  name: placed
  namespace: shop
  labels: {{azure.workload.identity/use: "true"}}
spec:
  serviceAccountName: checkout
{placement}  containers:
    - name: app
      image: busybox
      volumeMounts: [{{name: s, mountPath: /mnt/s, readOnly: true}}]
  volumes:
    - name: s
      csi: {{driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {{secretProviderClass: checkout-kv}}}}"#
    )
}

/// The healthy chain's scenario with `healthy` (an edited healthy.yaml) in place of its own,
/// opened from a file as `--lab FILE` opens it.
pub(crate) fn open_healthy_variant(healthy: &str) -> lab::LabSource {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("variant.yaml");
    std::fs::write(&path, [CLUSTER, SHOP, healthy].join("\n---\n")).unwrap();
    lab::open(path.to_str().unwrap(), None).expect("scenario loads")
}

/// The healthy chain plus `extra` documents (a bare pod, nodes).
pub(crate) fn healthy_with(extra: &[&str]) -> World {
    let mut docs = vec![CLUSTER, SHOP, HEALTHY];
    docs.extend(extra.iter().copied().filter(|d| !d.is_empty()));
    let sc = lab::scenario::parse(
        "nodes",
        std::path::Path::new("nodes.yaml"),
        &docs.join("\n---\n"),
    )
    .expect("scenario loads");
    World::new(sc)
}

/// The healthy chain with the bare pod `placed` and `extra` documents (Nodes).
fn world(placement: &str, extra: &str) -> World {
    healthy_with(&[&placed(placement), extra])
}

fn events(s: &Snapshot, reason: &str) -> Vec<kvchain::snapshot::EventObs> {
    s.events
        .items
        .iter()
        .filter(|e| e.involved_name == "placed" && e.reason == reason)
        .cloned()
        .collect()
}

fn key() -> (String, String) {
    ("shop".into(), "placed".into())
}

const WINDOWS_NODE: &str = "apiVersion: v1\nkind: Node\nmetadata:\n  name: akswin000000\n  labels: {kubernetes.io/os: windows}\n";

#[test]
fn a_selector_no_node_satisfies_leaves_the_pod_pending_with_failed_scheduling() {
    let mut w = world("  nodeSelector: {kubernetes.io/os: windows}\n", "");
    w.advance(Duration::from_secs(150));
    assert_eq!(w.pods[&key()].stage, Stage::Unscheduled);
    let s = export::snapshot(&w);
    let pod = s.pods.items.iter().find(|p| p.name == "placed").unwrap();
    assert_eq!(pod.phase, "Pending");
    assert_eq!(pod.node, None, "not bound to any node");
    let fs = events(&s, "FailedScheduling");
    assert_eq!(fs.len(), 1, "{fs:#?}");
    assert_eq!(fs[0].type_, "Warning");
    assert_eq!(fs[0].source, "default-scheduler");
    assert_eq!(
        fs[0].message,
        "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
    );
    assert!(
        events(&s, "FailedMount").is_empty(),
        "no kubelet ever tried"
    );
    assert!(w.spcps.values().all(|x| x.pod_name != "placed"));
}

#[test]
fn an_untolerated_taint_is_named_and_a_toleration_lets_the_pod_on() {
    let gpu = "apiVersion: v1\nkind: Node\nmetadata:\n  name: aks-gpu-0000-vmss000000\n  labels: {kubernetes.io/os: linux, pool: gpu}\nspec:\n  taints: [{key: sku, value: gpu, effect: NoSchedule}]\n";
    let mut w = world("  nodeSelector: {pool: gpu}\n", gpu);
    w.advance(Duration::from_secs(30));
    let s = export::snapshot(&w);
    assert_eq!(
        events(&s, "FailedScheduling")[0].message,
        "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {sku: gpu}. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
    );
    let mut w = world(
        "  nodeSelector: {pool: gpu}\n  tolerations: [{key: sku, operator: Equal, value: gpu, effect: NoSchedule}]\n",
        gpu,
    );
    w.advance(Duration::from_secs(60));
    let s = export::snapshot(&w);
    let pod = s.pods.items.iter().find(|p| p.name == "placed").unwrap();
    assert_eq!(pod.node.as_deref(), Some("aks-gpu-0000-vmss000000"));
    assert!(events(&s, "FailedScheduling").is_empty());
    // The taint keeps the add-on's DaemonSets (no toleration for it) off the node too.
    assert!(events(&s, "FailedMount").iter().any(|e| {
        e.message
            .contains("not found in the list of registered CSI drivers")
            && e.source == "kubelet"
    }));
}

#[test]
fn a_pod_on_another_linux_node_mounts_there() {
    let b = "apiVersion: v1\nkind: Node\nmetadata:\n  name: aks-pool2-0000-vmss000000\n  labels: {kubernetes.io/os: linux, pool: b}\n";
    let mut w = world("  nodeSelector: {pool: b}\n", b);
    w.advance(Duration::from_secs(60));
    assert_eq!(w.pods[&key()].stage, Stage::Running);
    let spcps = w.spcps.values().find(|x| x.pod_name == "placed").unwrap();
    assert_eq!(
        spcps.node, "aks-pool2-0000-vmss000000",
        "the SPCPS carries the pod's node"
    );
    let other = w.spcps.values().find(|x| x.pod_name != "placed").unwrap();
    assert_eq!(other.node, "aks-nodepool1-12345678-vmss000000");
}

#[test]
fn a_node_name_of_no_node_never_runs_and_podgc_deletes_the_pod() {
    let mut w = world("  nodeName: aks-gpu-0000-vmss000000\n", "");
    w.advance(Duration::from_secs(20));
    let s = export::snapshot(&w);
    let pod = s.pods.items.iter().find(|p| p.name == "placed").unwrap();
    assert_eq!(pod.phase, "Pending");
    assert_eq!(pod.node.as_deref(), Some("aks-gpu-0000-vmss000000"));
    assert!(
        s.events.items.iter().all(|e| e.involved_name != "placed"),
        "no scheduler, no kubelet: no event"
    );
    assert!(w.spcps.values().all(|x| x.pod_name != "placed"));
    // PodGC's 40-second quarantine, then the orphan is gone.
    w.advance(Duration::from_secs(30));
    assert!(!w.pods.contains_key(&key()));
}

#[test]
fn a_pod_on_a_node_without_the_driver_gets_driver_not_found() {
    let mut w = world(
        "  nodeSelector: {kubernetes.io/os: windows}\n",
        WINDOWS_NODE,
    );
    w.advance(Duration::from_secs(30));
    let s = export::snapshot(&w);
    let pod = s.pods.items.iter().find(|p| p.name == "placed").unwrap();
    assert_eq!(pod.node.as_deref(), Some("akswin000000"));
    assert!(events(&s, "FailedScheduling").is_empty());
    let fm = events(&s, "FailedMount");
    assert!(
        fm.iter().any(|e| e.message.ends_with(
            "driver name secrets-store.csi.k8s.io not found in the list of registered CSI drivers"
        )),
        "{fm:#?}"
    );
    assert_eq!(w.pods[&key()].stage, Stage::Mounting);
    // The healthy chain's pods stay on the Linux node, where the driver runs.
    assert!(
        s.spc_statuses.items.iter().all(|x| x.pod_name != "placed")
            && s.spc_statuses.items.iter().any(|x| x.mounted)
    );
    let nodes = s.cluster.nodes.known().unwrap();
    assert_eq!(nodes.len(), 2, "the snapshot shows both nodes");
}

#[test]
fn node_documents_are_strict() {
    let parse = |extra: &str| {
        let docs = [CLUSTER, SHOP, extra].join("\n---\n");
        lab::scenario::parse("n", std::path::Path::new("n.yaml"), &docs)
    };
    let e = parse("apiVersion: v1\nkind: Node\nmetadata: {name: x}\nspecc: {}\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("n.yaml") && e.contains("document 4") && e.contains("specc"),
        "{e}"
    );
    let e =
        parse("apiVersion: v1\nkind: Node\nmetadata: {name: aks-nodepool1-12345678-vmss000000}\n")
            .unwrap_err()
            .to_string();
    assert!(e.contains("aks-nodepool1-12345678-vmss000000"), "{e}");
}

/// docs/scenarios.md: `csiDriver.install` says which commands the fixes give; the DaemonSets
/// the snapshot shows carry the names that install gives them (the add-on's `aks-…`, the
/// Helm charts' released as `csi-secrets-store`), so a fix patching them names real objects.
#[test]
fn the_driver_daemonsets_are_named_as_the_install_names_them() {
    let helm = CLUSTER.replace("  csiDriver:\n", "  csiDriver:\n    install: helm\n");
    assert_ne!(helm, CLUSTER);
    let names = |cluster: &str| {
        let sc = lab::scenario::parse(
            "install",
            std::path::Path::new("install.yaml"),
            &[cluster, SHOP, HEALTHY].join("\n---\n"),
        )
        .expect("scenario loads");
        let s = export::snapshot(&World::new(sc));
        let placement = s
            .cluster
            .csi_driver
            .known()
            .unwrap()
            .placement
            .known()
            .unwrap()
            .clone();
        placement
            .into_iter()
            .map(|p| p.daemonset)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(CLUSTER),
        [
            "kube-system/aks-secrets-store-csi-driver",
            "kube-system/aks-secrets-store-provider-azure"
        ]
    );
    assert_eq!(
        names(&helm),
        [
            "kube-system/csi-secrets-store-secrets-store-csi-driver",
            "kube-system/csi-secrets-store-provider-azure"
        ]
    );
}

/// Q6: required node affinity (nodeSelectorTerms ORed, matchExpressions ANDed; Kubernetes
/// "Assigning Pods to Nodes") is a scheduling filter like nodeSelector: no node matching it
/// leaves the pod Pending with kube-scheduler's NodeAffinity reason, and a node that matches
/// takes it.
#[test]
fn required_node_affinity_no_node_satisfies_leaves_the_pod_pending() {
    let affinity = "  affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n        nodeSelectorTerms:\n          - matchExpressions: [{key: agentpool, operator: In, values: [gpu]}]\n";
    let mut w = world(affinity, "");
    w.advance(Duration::from_secs(60));
    assert_eq!(w.pods[&key()].stage, Stage::Unscheduled);
    let s = export::snapshot(&w);
    assert_eq!(
        events(&s, "FailedScheduling")[0].message,
        "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
    );
    let gpu = "apiVersion: v1\nkind: Node\nmetadata:\n  name: aks-gpu-0000-vmss000000\n  labels: {kubernetes.io/os: linux, agentpool: gpu}\n";
    let mut w = world(affinity, gpu);
    w.advance(Duration::from_secs(60));
    let s = export::snapshot(&w);
    let pod = s.pods.items.iter().find(|p| p.name == "placed").unwrap();
    assert_eq!(pod.node.as_deref(), Some("aks-gpu-0000-vmss000000"));
    // matchFields on metadata.name picks a node by name.
    let by_name = "  affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n        nodeSelectorTerms:\n          - matchFields: [{key: metadata.name, operator: In, values: [aks-gpu-0000-vmss000000]}]\n";
    let mut w = world(by_name, gpu);
    w.advance(Duration::from_secs(60));
    let s = export::snapshot(&w);
    let pod = s.pods.items.iter().find(|p| p.name == "placed").unwrap();
    assert_eq!(pod.node.as_deref(), Some("aks-gpu-0000-vmss000000"));
}

/// The ServiceAccount admission plugin copies the account's `imagePullSecrets` into a pod
/// created without its own; a pod that names some keeps them.
#[test]
fn a_service_accounts_image_pull_secrets_are_copied_into_its_pods() {
    let healthy = HEALTHY.replace(
        "    azure.workload.identity/client-id: e2ef6ca4-8b82-5fca-9991-b28fc1e02a92\n---",
        "    azure.workload.identity/client-id: e2ef6ca4-8b82-5fca-9991-b28fc1e02a92\nimagePullSecrets: [{name: checkout-db}]\n---",
    );
    assert_ne!(healthy, HEALTHY);
    let own = placed("  imagePullSecrets: [{name: registry}]\n");
    let sc = lab::scenario::parse(
        "pulls",
        std::path::Path::new("pulls.yaml"),
        &[CLUSTER, SHOP, &healthy, &own].join("\n---\n"),
    )
    .expect("scenario loads");
    let mut w = World::new(sc);
    w.advance(Duration::from_secs(30));
    let s = export::snapshot(&w);
    let pulls = |name: &str| -> Vec<String> {
        let p = s
            .pods
            .items
            .iter()
            .find(|p| p.name.starts_with(name))
            .unwrap();
        p.image_pull_secrets.iter().map(|n| n.to_string()).collect()
    };
    assert_eq!(pulls("checkout"), ["checkout-db"]);
    assert_eq!(pulls("placed"), ["registry"]);
}

/// Kubernetes runs init containers first: an init container whose env asks for a key the
/// Secret lacks waits in CreateContainerConfigError and the app containers wait in
/// PodInitializing — the error is the init container's, and KVC905's evidence names it.
#[test]
fn an_init_containers_config_error_is_its_own() {
    let pod = placed(
        "  initContainers:\n    - name: init\n      image: busybox\n      env:\n        - name: X\n          valueFrom: {secretKeyRef: {name: checkout-db, key: nosuch}}\n",
    );
    let mut w = healthy_with(&[&pod]);
    w.advance(Duration::from_secs(90));
    let s = export::snapshot(&w);
    let p = s.pods.items.iter().find(|p| p.name == "placed").unwrap();
    let state = |name: &str| {
        p.containers
            .iter()
            .find(|c| c.name == name)
            .unwrap()
            .state
            .clone()
    };
    match state("init") {
        kvchain::snapshot::ContainerStateObs::Waiting { reason, message } => {
            assert_eq!(reason, "CreateContainerConfigError");
            assert!(message.contains("couldn't find key nosuch"), "{message}");
        }
        other => panic!("init: {other:?}"),
    }
    assert!(matches!(
        state("app"),
        kvchain::snapshot::ContainerStateObs::Waiting { reason, .. } if reason == "PodInitializing"
    ));
    let chains = kvchain::chain::diagnose(&s);
    let f = chains
        .iter()
        .filter(|c| c.pod == "placed")
        .flat_map(|c| c.findings())
        .find(|f| f.code == kvchain::chain::Code::KVC905)
        .expect("KVC905 for the init container's key");
    assert!(
        f.evidence
            .iter()
            .any(|e| e.starts_with("container init waiting: CreateContainerConfigError")),
        "{:#?}",
        f.evidence
    );
}

/// Audit MM5: both replicas of checkout are pinned to a node whose taint keeps the add-on's
/// DaemonSets off (FACTS §11 "Nodes": taints without matching tolerations keep them off a
/// node; presence is per node). One cause for the workload on that node: one finding (the
/// report merges findings by code, resource and message), not one per pod; and its fix names
/// the nodeSelector that puts the pods there. With that selector (and the toleration) removed,
/// as the fix says, the pods land on a node with the driver and the chain is healthy.
#[test]
fn a_workload_pinned_to_a_tainted_node_is_one_kvc104_naming_its_node_selector() {
    let gpu = "apiVersion: v1\nkind: Node\nmetadata:\n  name: aks-gpu-0000-vmss000000\n  labels: {kubernetes.io/os: linux, agentpool: gpu}\nspec:\n  taints: [{key: sku, value: gpu, effect: NoSchedule}]\n";
    let sa = "      serviceAccountName: checkout\n";
    let pinned = HEALTHY.replacen(
        sa,
        &format!("{sa}      nodeSelector: {{agentpool: gpu}}\n      tolerations: [{{key: sku, operator: Equal, value: gpu, effect: NoSchedule}}]\n"),
        1,
    );
    assert_ne!(pinned, HEALTHY);
    let run = |healthy: &str| {
        let sc = lab::scenario::parse(
            "nodes",
            std::path::Path::new("nodes.yaml"),
            &[CLUSTER, SHOP, healthy, gpu].join("\n---\n"),
        )
        .expect("scenario loads");
        let mut w = World::new(sc);
        w.advance(Duration::from_secs(60));
        kvchain::chain::diagnose(&export::snapshot(&w))
    };
    let chains = run(&pinned);
    let found: Vec<&kvchain::chain::Finding> = chains
        .iter()
        .filter(|c| c.pod.starts_with("checkout-"))
        .flat_map(|c| c.findings())
        .filter(|f| f.code == kvchain::chain::Code::KVC104)
        .collect();
    assert_eq!(found.len(), 2, "one on each replica's chain: {found:#?}");
    assert_eq!(
        (&found[0].resource, &found[0].message),
        (&found[1].resource, &found[1].message),
        "one finding for the workload on the node"
    );
    assert!(
        found[0].message.contains("Deployment/checkout"),
        "{}",
        found[0].message
    );
    assert!(
        found[0].fix.contains("nodeSelector agentpool: gpu"),
        "{}",
        found[0].fix
    );
    let chains = run(HEALTHY);
    assert!(
        (chains.iter().flat_map(|c| c.findings())).all(|f| f.code != kvchain::chain::Code::KVC104),
        "without the selector the pods run where the driver does"
    );
}

/// The tainted gpu node the add-on's DaemonSets do not tolerate (audit MM5 / NN5).
pub(crate) const GPU_NODE: &str = "apiVersion: v1\nkind: Node\nmetadata:\n  name: aks-gpu-0000-vmss000000\n  labels: {kubernetes.io/os: linux, agentpool: gpu}\nspec:\n  taints: [{key: sku, value: gpu, effect: NoSchedule}]\n";
/// The toleration that lets checkout's pods onto it, as the manifest and the fix write it.
pub(crate) const GPU_TOLERATION: &str =
    "{key: sku, operator: Equal, value: gpu, effect: NoSchedule}";

/// The KVC104 findings on checkout's chains after a minute of `healthy` plus the gpu node.
fn kvc104_of_checkout(healthy: &str) -> Vec<kvchain::chain::Finding> {
    let sc = lab::scenario::parse(
        "nodes",
        std::path::Path::new("nodes.yaml"),
        &[CLUSTER, SHOP, healthy, GPU_NODE].join("\n---\n"),
    )
    .expect("scenario loads");
    let mut w = World::new(sc);
    w.advance(Duration::from_secs(60));
    kvchain::chain::diagnose(&export::snapshot(&w))
        .iter()
        .filter(|c| c.pod.starts_with("checkout-"))
        .flat_map(|c| c.findings())
        .filter(|f| f.code == kvchain::chain::Code::KVC104)
        .cloned()
        .collect()
}

/// Removes `line` (one list entry of the manifest, as the fix names it) from `manifest`.
fn without_line(manifest: &str, line: &str) -> String {
    let out = manifest.replacen(&format!("{line}\n"), "", 1);
    assert_ne!(out, manifest, "the manifest holds {line}");
    out
}

/// Audit NN5: a DaemonSet with no nodeSelector runs a pod on every node whose taints it
/// tolerates (FACTS §11 "Nodes"), so its toleration of the gpu taint, which the add-on's
/// DaemonSets lack, is what puts a pod there. The fix names that toleration on the DaemonSet;
/// with it removed, as the fix says, the DaemonSet has no pod on that node and no KVC104.
#[test]
fn a_daemonsets_toleration_of_a_tainted_node_is_named_in_the_kvc104_fix() {
    let sa = "      serviceAccountName: checkout\n";
    let ds = HEALTHY
        .replacen("kind: Deployment\n", "kind: DaemonSet\n", 1)
        .replacen("  replicas: 2\n", "", 1)
        .replacen(
            sa,
            &format!("{sa}      tolerations:\n        - {GPU_TOLERATION}\n"),
            1,
        );
    let found = kvc104_of_checkout(&ds);
    assert!(!found.is_empty(), "the DaemonSet's pod on the gpu node");
    let fix = &found[0].fix;
    assert!(
        fix.starts_with("kubectl edit daemonset/checkout -n shop"),
        "{fix}"
    );
    assert!(
        fix.contains(&format!("toleration {GPU_TOLERATION}")),
        "{fix}"
    );
    let fixed = without_line(&ds, &format!("        - {GPU_TOLERATION}"));
    assert!(
        kvc104_of_checkout(&fixed).is_empty(),
        "without the toleration the DaemonSet keeps off the tainted node"
    );
}

/// Audit NN5: a Deployment whose required node affinity (not a nodeSelector) pins it to the
/// tainted node, which its toleration lets it onto. The fix names the affinity term (the only
/// one: the API server refuses an empty nodeSelectorTerms, so the whole required block goes)
/// and the toleration; both removed, the pods land where the driver runs and KVC104 is gone.
#[test]
fn a_required_node_affinity_pinning_pods_to_a_tainted_node_is_named_in_the_kvc104_fix() {
    let sa = "      serviceAccountName: checkout\n";
    let term = "{key: agentpool, operator: In, values: [gpu]}";
    let required = "          requiredDuringSchedulingIgnoredDuringExecution:";
    let affinity = format!(
        "      affinity:\n        nodeAffinity:\n{required}\n            nodeSelectorTerms:\n              - matchExpressions: [{term}]\n"
    );
    let pinned = HEALTHY.replacen(
        sa,
        &format!("{sa}{affinity}      tolerations:\n        - {GPU_TOLERATION}\n"),
        1,
    );
    let found = kvc104_of_checkout(&pinned);
    assert!(!found.is_empty(), "the pods on the gpu node");
    let fix = &found[0].fix;
    assert!(
        fix.starts_with("kubectl edit deployment/checkout -n shop"),
        "{fix}"
    );
    assert!(
        fix.contains(&format!("toleration {GPU_TOLERATION}")),
        "{fix}"
    );
    assert!(
        fix.contains(&format!(
            "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution (its only term {{matchExpressions: [{term}]}})"
        )),
        "{fix}"
    );
    let fixed = without_line(&pinned, &format!("        - {GPU_TOLERATION}"));
    let fixed = fixed.replacen(&affinity, "", 1);
    assert!(
        kvc104_of_checkout(&fixed).is_empty(),
        "without the affinity and the toleration the pods run where the driver does"
    );
}
