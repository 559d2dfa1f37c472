//! The fixes KVC104 gives (FACTS §11 "Nodes"): for a Linux node, move the pod to nodes the
//! driver's DaemonSets select, let DaemonSets that select no node run on it, or have them
//! tolerate its taint (the toleration patch, in the DaemonSets' own JSON); for a Windows
//! node, install the charts' Windows DaemonSets.

use super::{blocks, labels_admit, pinned, runs_nowhere};
use crate::chain::context::Ctx;
use crate::chain::rules::remedy;
use crate::snapshot::{DriverInstall, NodeObs, PlacementObs, TaintObs, TolerationObs};

/// What to change so the driver runs where the pod runs, said by what excludes the node
/// (FACTS §11). Labels: the pod belongs on nodes the DaemonSets select. A taint: the
/// DaemonSets need a toleration — patched with their whole list (a strategic merge replaces
/// tolerations), except on the AKS add-on, whose DaemonSets AKS reconciles: there the pod moves.
pub(super) fn linux_fix(
    cx: &Ctx,
    placement: &[PlacementObs],
    node: &NodeObs,
    nodes: &[NodeObs],
) -> String {
    let by_labels = placement.iter().any(|p| !labels_admit(p, node));
    let nowhere = runs_nowhere(placement, node, nodes);
    if by_labels && !nowhere.is_empty() {
        return selector_fix(cx, &nowhere, node);
    }
    let tainted: Vec<&PlacementObs> = placement
        .iter()
        .filter(|p| labels_admit(p, node) && node.taints.iter().any(|t| blocks(p, t)))
        .collect();
    if by_labels || tainted.is_empty() {
        return remedy::edit_owner(
            cx,
            &unbound(
                cx,
                node,
                format!(
                    "schedule onto nodes whose labels the driver's DaemonSets select (see the evidence: node {} is not one)",
                    node.name
                ),
            ),
        );
    }
    let taints = |p: &PlacementObs| -> Vec<&TaintObs> {
        node.taints.iter().filter(|t| blocks(p, t)).collect()
    };
    if remedy::install(cx) == Some(DriverInstall::AksAddon) {
        let named: Vec<String> = taints(tainted[0]).iter().map(|t| taint_text(t)).collect();
        let named = named.join(", ");
        let pinned = pinned::pinned(cx, placement, node, &taints(tainted[0]));
        let how = if pinned.entries.is_empty() {
            "schedule onto nodes without it".to_string()
        } else {
            // A toleration not read (no pod spec) may still be there: say so.
            let unread = if pinned.tolerations_read {
                String::new()
            } else {
                format!(" (and any toleration of taint {named})")
            };
            let (put, so) = match cx.workload {
                // A DaemonSet runs a pod on every node its template admits (FACTS §11).
                Some(("DaemonSet", _)) => (
                    "lets the DaemonSet run a pod on",
                    "it runs pods only on nodes without the taint",
                ),
                _ => (
                    "put the pods on",
                    "they schedule onto nodes without the taint",
                ),
            };
            format!(
                "remove {}{unread} from the pod template, which {put} node {}, so {so}",
                and_list(&pinned.entries),
                node.name
            )
        };
        return remedy::edit_owner(
            cx,
            &unbound(
                cx,
                node,
                format!(
                    "the AKS add-on's DaemonSets (managed by AKS) do not tolerate taint {named}: {how}"
                ),
            ),
        );
    }
    let patches: Vec<String> = tainted
        .iter()
        .map(|p| {
            let mut list: Vec<String> = p.tolerations.iter().map(toleration_json).collect();
            list.extend(taints(p).iter().map(|t| {
                toleration_json(&TolerationObs {
                    key: t.key.clone(),
                    operator: "Equal".into(),
                    value: t.value.clone(),
                    effect: t.effect.clone(),
                })
            }));
            let (ns, name) = p.daemonset.split_once('/').unwrap_or(("kube-system", &p.daemonset));
            format!(
                "kubectl patch daemonset {name} -n {ns} -p '{{\"spec\":{{\"template\":{{\"spec\":{{\"tolerations\":[{}]}}}}}}}}'",
                list.join(",")
            )
        })
        .collect();
    format!(
        "{}  # with Helm, also set linux.tolerations in the chart's values so an upgrade keeps it",
        patches.join(" && ")
    )
}

/// `what` to change in a bare pod's spec before it is recreated, with its spec.nodeName: the
/// live YAML it is recreated from names the node it was bound to, and a pod that names its
/// node skips the scheduler (Kubernetes docs, "Assigning Pods to Nodes": nodeName), so kept it
/// lands on the same node again, whatever else changed (audit RRR-facts). An owner's template
/// names none: its pods are scheduled anew.
fn unbound(cx: &Ctx, node: &NodeObs, what: String) -> String {
    if cx.workload.is_some() || cx.template || cx.pod.node.is_none() {
        return what;
    }
    format!(
        "{what}; and delete spec.nodeName: {} (a pod that names its node skips the scheduler, so the recreated pod would land there again)",
        node.name
    )
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => items.join(""),
    }
}

pub(super) fn taint_text(t: &TaintObs) -> String {
    if t.value.is_empty() {
        format!("{}:{}", t.key, t.effect)
    } else {
        format!("{}={}:{}", t.key, t.value, t.effect)
    }
}

fn toleration_json(t: &TolerationObs) -> String {
    let mut fields = Vec::new();
    for (k, v) in [
        ("key", &t.key),
        ("operator", &t.operator),
        ("value", &t.value),
        ("effect", &t.effect),
    ] {
        if !v.is_empty() {
            fields.push(format!(
                "{}:{}",
                serde_json::Value::from(k),
                serde_json::Value::from(v.as_str())
            ));
        }
    }
    format!("{{{}}}", fields.join(","))
}

/// The fix for DaemonSets that select no node: drop the nodeSelector keys the pod's node does
/// not have (a JSON patch, pasteable), or edit the affinity that excludes it. The add-on's
/// DaemonSets are AKS's: it may restore them, then the add-on is reinstalled.
fn selector_fix(cx: &Ctx, nowhere: &[&PlacementObs], node: &NodeObs) -> String {
    let steps: Vec<String> = nowhere
        .iter()
        .map(|p| {
            let (ns, name) = p
                .daemonset
                .split_once('/')
                .unwrap_or(("kube-system", &p.daemonset));
            let ops: Vec<String> = p
                .node_selector
                .iter()
                .filter(|(k, v)| node.labels.get(*k) != Some(*v))
                .map(|(k, _)| {
                    let pointer = k.replace('~', "~0").replace('/', "~1");
                    format!(
                        r#"{{"op":"remove","path":"/spec/template/spec/nodeSelector/{pointer}"}}"#
                    )
                })
                .collect();
            if ops.is_empty() {
                // Only the required node affinity excludes the nodes: no one-line patch.
                format!("kubectl edit daemonset {name} -n {ns}")
            } else {
                format!(
                    "kubectl patch daemonset {name} -n {ns} --type json -p '[{}]'",
                    ops.join(",")
                )
            }
        })
        .collect();
    let names: Vec<&str> = nowhere.iter().map(|p| p.daemonset.as_str()).collect();
    let note = match remedy::install(cx) {
        Some(DriverInstall::AksAddon) => {
            "AKS manages the add-on's DaemonSets: if it restores the selector, disable and re-enable the add-on"
        }
        Some(DriverInstall::Helm) => {
            "with Helm, also fix linux.nodeSelector / linux.affinity in the chart's values so an upgrade keeps it"
        }
        None => {
            "with Helm, also fix the chart's linux.nodeSelector; on the AKS add-on, if AKS restores it, re-enable the add-on"
        }
    };
    let verb = if names.len() == 1 {
        "selects"
    } else {
        "select"
    };
    format!(
        "{}  # {} {verb} no node of the cluster: this lets it run on node {} too; {note}",
        steps.join(" && "),
        names.join(" and "),
        node.name
    )
}

/// The fix for a Windows pod without the driver: a Windows container cannot move to a Linux
/// node and the Linux DaemonSets cannot run on Windows, so the Windows DaemonSets are needed.
/// The Helm values are the charts' (`windows.enabled`; the provider chart installs the driver
/// as its subchart); the AKS add-on has no such switch.
pub(super) fn windows_fix(cx: &Ctx) -> String {
    remedy::edit_owner(
        cx,
        "a Windows pod needs the Secrets Store CSI driver's and the Azure provider's Windows DaemonSets, which the AKS add-on does not run: install them with the Helm charts (secrets-store-csi-driver: windows.enabled=true; csi-secrets-store-provider-azure: windows.enabled=true and secrets-store-csi-driver.windows.enabled=true); or, if the image is a Linux image, run it on a Linux pool: nodeSelector kubernetes.io/os: linux",
    )
}
