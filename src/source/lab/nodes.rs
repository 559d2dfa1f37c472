//! The lab's nodes and where pods land on them. The Cluster's `node` is a Linux node of the
//! default pool; a scenario may declare more (`v1` Node documents: labels, taints). The
//! scheduler places a pod on a node whose labels match its `nodeSelector` and required node
//! affinity and whose
//! NoSchedule/NoExecute taints it tolerates, or leaves it Pending with kube-scheduler's
//! FailedScheduling message; a pod naming a `nodeName` bypasses the scheduler. The add-on's
//! DaemonSets run only where their own nodeSelector allows (FACTS §11 "Nodes"), so a pod on
//! any other node finds no registered driver.

use k8s_openapi::api::core::v1::{Node, NodeSelectorRequirement, PodSpec, Toleration};

use super::scenario::ClusterSpec;
use crate::snapshot::{
    DriverInstall, DriverPodObs, NodeObs, NodeRequirementObs, PlacementObs, TaintObs,
};

pub const OS_LABEL: &str = "kubernetes.io/os";

/// Every node of the lab: the Cluster's, then the declared ones in scenario order.
pub fn lab_nodes(cluster: &ClusterSpec, declared: &[Node]) -> Vec<NodeObs> {
    let default = NodeObs {
        name: cluster.node.clone(),
        labels: [(OS_LABEL.to_string(), "linux".to_string())].into(),
        taints: Vec::new(),
        ..NodeObs::default()
    };
    std::iter::once(default)
        .chain(declared.iter().map(crate::snapshot::convert::node))
        .collect()
}

/// The driver's and provider's DaemonSets as the snapshot shows them, named as `install`
/// names them (the AKS add-on's, or the Helm charts' with the driver released as
/// `csi-secrets-store`): both select Linux nodes.
pub fn driver_placement(install: DriverInstall) -> Vec<PlacementObs> {
    let names = match install {
        DriverInstall::AksAddon => [
            ("aks-secrets-store-csi-driver", false),
            ("aks-secrets-store-provider-azure", true),
        ],
        DriverInstall::Helm => [
            ("csi-secrets-store-secrets-store-csi-driver", false),
            ("csi-secrets-store-provider-azure", true),
        ],
    };
    names
        .map(|(name, provider)| PlacementObs {
            daemonset: format!("kube-system/{name}"),
            provider,
            node_selector: [(OS_LABEL.to_string(), "linux".to_string())].into(),
            ..PlacementObs::default()
        })
        .into()
}

/// The Helm release the lab's Helm install shows on its DaemonSets' labels: the driver's own
/// chart, released as `csi-secrets-store` in kube-system (the names [`driver_placement`]
/// gives). The lab models no chart version.
pub fn helm_release(install: DriverInstall) -> Option<crate::snapshot::HelmRelease> {
    (install == DriverInstall::Helm).then(|| crate::snapshot::HelmRelease {
        name: "csi-secrets-store".into(),
        namespace: "kube-system".into(),
        chart: "secrets-store-csi-driver".into(),
        version: None,
    })
}

/// Whether the driver's DaemonSet runs a pod on `node` (the same placement rules the
/// diagnosis applies to a live cluster).
pub fn driver_runs_on(node: &NodeObs) -> bool {
    driver_placement(DriverInstall::AksAddon)
        .iter()
        .filter(|p| !p.provider)
        .all(|p| crate::chain::rules::node::excluded(p, node).is_none())
}

/// The pods of the driver's and the provider's DaemonSets: one on each node where
/// [`driver_runs_on`] places the driver (the lab runs the provider beside it), ready but for
/// the provider's on `provider_not_ready_on`; none when the driver is not installed.
pub fn driver_pods(
    install: DriverInstall,
    installed: bool,
    nodes: &[NodeObs],
    provider_not_ready_on: &[String],
) -> Vec<DriverPodObs> {
    if !installed {
        return Vec::new();
    }
    let sets = driver_placement(install);
    nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| driver_runs_on(n))
        .flat_map(|(j, n)| {
            sets.iter().map(move |p| {
                // A DaemonSet pod is named `<daemonset>-<5 characters>`.
                DriverPodObs {
                    name: format!("{}-n{j:04}", p.daemonset),
                    node: n.name.clone(),
                    provider: p.provider,
                    ready: !(p.provider && provider_not_ready_on.contains(&n.name)),
                }
            })
        })
        .collect()
}

/// Where the scheduler puts a pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Placement {
    /// On this node (kubelet there runs it).
    Node(String),
    /// No node fits: Pending, with kube-scheduler's FailedScheduling message.
    Unschedulable(String),
    /// `spec.nodeName` names no node: the scheduler skips a bound pod and no kubelet claims
    /// it, so it stays Pending until PodGC deletes it.
    Orphaned(String),
}

/// kube-scheduler's filter for one pod over the lab's nodes. Per node the first failing
/// filter counts (TaintToleration runs before NodeAffinity); the reasons are sorted as the
/// scheduler's fitError sorts them.
pub fn schedule(spec: &PodSpec, nodes: &[NodeObs]) -> Placement {
    if let Some(name) = spec.node_name.as_deref().filter(|n| !n.is_empty()) {
        return if nodes.iter().any(|n| n.name == name) {
            Placement::Node(name.to_string())
        } else {
            Placement::Orphaned(name.to_string())
        };
    }
    let mut reasons: std::collections::BTreeMap<String, usize> = Default::default();
    for node in nodes {
        match unfit(spec, node) {
            None => return Placement::Node(node.name.clone()),
            Some(r) => *reasons.entry(r).or_default() += 1,
        }
    }
    let n = nodes.len();
    let mut listed: Vec<String> = reasons.iter().map(|(r, c)| format!("{c} {r}")).collect();
    listed.sort();
    Placement::Unschedulable(format!(
        "0/{n} nodes are available: {}. preemption: 0/{n} nodes are available: {n} Preemption is not helpful for scheduling.",
        listed.join(", ")
    ))
}

/// Whether `node` admits a pod of `spec` (its nodeSelector matches, its NoSchedule/NoExecute
/// taints are tolerated): the DaemonSet controller creates a pod only for such a node.
pub fn admits(spec: &PodSpec, node: &NodeObs) -> bool {
    unfit(spec, node).is_none()
}

fn unfit(spec: &PodSpec, node: &NodeObs) -> Option<String> {
    let tolerations = spec.tolerations.as_deref().unwrap_or(&[]);
    if let Some(t) = node.taints.iter().find(|t| {
        (t.effect == "NoSchedule" || t.effect == "NoExecute")
            && !tolerations.iter().any(|tol| tolerates(tol, t))
    }) {
        return Some(format!(
            "node(s) had untolerated taint {{{}: {}}}",
            t.key, t.value
        ));
    }
    let selector_ok = spec
        .node_selector
        .iter()
        .flatten()
        .all(|(k, v)| node.labels.get(k) == Some(v));
    (!selector_ok || !required_affinity_admits(spec, node))
        .then(|| "node(s) didn't match Pod's node affinity/selector".to_string())
}

/// Required node affinity (Kubernetes "Assigning Pods to Nodes"): nodeSelectorTerms are ORed,
/// each term's matchExpressions (labels) and matchFields (only `metadata.name`) ANDed, and a
/// term with neither matches no node. Label requirements use the diagnosis's own matching.
fn required_affinity_admits(spec: &PodSpec, node: &NodeObs) -> bool {
    let Some(required) = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_ref()
        })
    else {
        return true;
    };
    let field = |r: &NodeSelectorRequirement| {
        let values = r.values.as_deref().unwrap_or_default();
        let named = values.contains(&node.name);
        r.key == "metadata.name"
            && match r.operator.as_str() {
                "In" => named,
                "NotIn" => !named,
                _ => false,
            }
    };
    let label = |r: &NodeSelectorRequirement| {
        crate::chain::rules::node::requirement(
            &NodeRequirementObs {
                key: r.key.clone(),
                operator: r.operator.clone(),
                values: r.values.clone().unwrap_or_default(),
            },
            node,
        )
    };
    required.node_selector_terms.iter().any(|term| {
        let exprs = term.match_expressions.as_deref().unwrap_or_default();
        let fields = term.match_fields.as_deref().unwrap_or_default();
        !(exprs.is_empty() && fields.is_empty())
            && exprs.iter().all(label)
            && fields.iter().all(field)
    })
}

fn tolerates(tol: &Toleration, t: &TaintObs) -> bool {
    let exists = tol.operator.as_deref() == Some("Exists");
    let key = tol.key.as_deref().unwrap_or("");
    let key_ok = (key.is_empty() && exists) || key == t.key;
    let value_ok = exists || tol.value.as_deref().unwrap_or("") == t.value;
    let effect_ok = tol
        .effect
        .as_deref()
        .is_none_or(|e| e.is_empty() || e == t.effect);
    key_ok && value_ok && effect_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, os: &str, taint: Option<(&str, &str)>) -> NodeObs {
        NodeObs {
            name: name.into(),
            labels: [(OS_LABEL.to_string(), os.to_string())].into(),
            taints: taint
                .map(|(k, v)| TaintObs {
                    key: k.into(),
                    value: v.into(),
                    effect: "NoSchedule".into(),
                })
                .into_iter()
                .collect(),
            ..NodeObs::default()
        }
    }

    /// kube-scheduler's wording: counts per reason, sorted, then the preemption summary.
    #[test]
    fn no_fitting_node_gives_the_schedulers_message() {
        let nodes = [
            node("a", "linux", None),
            node("b", "linux", Some(("sku", "gpu"))),
            node("c", "linux", None),
        ];
        let spec = PodSpec {
            node_selector: Some([(OS_LABEL.to_string(), "windows".to_string())].into()),
            ..Default::default()
        };
        assert_eq!(
            schedule(&spec, &nodes),
            Placement::Unschedulable(
                "0/3 nodes are available: 1 node(s) had untolerated taint {sku: gpu}, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.".into()
            )
        );
        let tolerant = PodSpec {
            node_selector: None,
            tolerations: Some(vec![Toleration {
                key: Some("sku".into()),
                operator: Some("Exists".into()),
                ..Default::default()
            }]),
            ..Default::default()
        };
        assert_eq!(
            schedule(&tolerant, &nodes[1..2]),
            Placement::Node("b".into())
        );
    }
}
