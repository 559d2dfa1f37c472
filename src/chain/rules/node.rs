//! Driver presence is per node (FACTS §11 "Nodes"): the driver and provider DaemonSets run
//! only on nodes their nodeSelector, required node affinity and tolerations allow (the AKS
//! add-on's carry `kubernetes.io/os: linux`). A pod on any other node gets no mount.

mod fix;
mod pinned;
mod presence;

pub(crate) use presence::pods_on;

use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::{Finding, Link};
use crate::snapshot::{NodeObs, NodeRequirementObs, PlacementObs, TaintObs, TolerationObs};
use fix::{linux_fix, taint_text, windows_fix};

/// Taints the DaemonSet controller tolerates on its own for every DaemonSet pod.
const DAEMONSET_TOLERATED: &[&str] = &[
    "node.kubernetes.io/not-ready",
    "node.kubernetes.io/unreachable",
    "node.kubernetes.io/disk-pressure",
    "node.kubernetes.io/memory-pressure",
    "node.kubernetes.io/pid-pressure",
    "node.kubernetes.io/unschedulable",
    "node.kubernetes.io/network-unavailable",
];

/// Why DaemonSet `p` runs no pod on `node`, or None when it may.
pub(crate) fn excluded(p: &PlacementObs, node: &NodeObs) -> Option<String> {
    let mut why = Vec::new();
    for (k, v) in &p.node_selector {
        match node.labels.get(k) {
            Some(have) if have == v => {}
            Some(have) => why.push(format!("nodeSelector {k}={v}, node has {k}={have}")),
            None => why.push(format!("nodeSelector {k}={v}, node has no label {k}")),
        }
    }
    if !p.affinity.is_empty()
        && !p
            .affinity
            .iter()
            .any(|term| term.iter().all(|r| requirement(r, node)))
    {
        let terms: Vec<String> = p
            .affinity
            .iter()
            .map(|t| t.iter().map(describe).collect::<Vec<_>>().join(" and "))
            .collect();
        why.push(format!(
            "required node affinity ({}) matches no label of the node",
            terms.join(" or ")
        ));
    }
    for t in &node.taints {
        if blocks(p, t) {
            let value = if t.value.is_empty() {
                String::new()
            } else {
                format!("={}", t.value)
            };
            why.push(format!(
                "taint {}{value}:{} is not tolerated",
                t.key, t.effect
            ));
        }
    }
    (!why.is_empty()).then(|| why.join("; "))
}

/// Taint `t` keeps DaemonSet `p`'s pods off its node.
fn blocks(p: &PlacementObs, t: &TaintObs) -> bool {
    (t.effect == "NoSchedule" || t.effect == "NoExecute")
        && !DAEMONSET_TOLERATED.contains(&t.key.as_str())
        && !p.tolerations.iter().any(|tol| tolerates(tol, t))
}

/// The DaemonSet's nodeSelector and required node affinity admit the node's labels.
fn labels_admit(p: &PlacementObs, node: &NodeObs) -> bool {
    p.node_selector
        .iter()
        .all(|(k, v)| node.labels.get(k) == Some(v))
        && (p.affinity.is_empty()
            || p.affinity
                .iter()
                .any(|term| term.iter().all(|r| requirement(r, node))))
}

pub(crate) fn requirement(r: &NodeRequirementObs, node: &NodeObs) -> bool {
    let have = node.labels.get(&r.key);
    let num = |s: &str| s.parse::<i64>().ok();
    match r.operator.as_str() {
        "In" => have.is_some_and(|v| r.values.contains(v)),
        "NotIn" => have.is_none_or(|v| !r.values.contains(v)),
        "Exists" => have.is_some(),
        "DoesNotExist" => have.is_none(),
        "Gt" | "Lt" => {
            let (Some(h), Some(limit)) = (
                have.and_then(|v| num(v)),
                r.values.first().and_then(|v| num(v)),
            ) else {
                return false;
            };
            if r.operator == "Gt" {
                h > limit
            } else {
                h < limit
            }
        }
        _ => false,
    }
}

fn describe(r: &NodeRequirementObs) -> String {
    match r.operator.as_str() {
        "Exists" | "DoesNotExist" => format!("{} {}", r.key, r.operator),
        op => format!("{} {op} [{}]", r.key, r.values.join(", ")),
    }
}

/// The DaemonSets whose labels keep them off `node` and admit no node of the cluster either:
/// they run nowhere, so no pod can be moved to where they run.
fn runs_nowhere<'p>(
    placement: &'p [PlacementObs],
    node: &NodeObs,
    nodes: &[NodeObs],
) -> Vec<&'p PlacementObs> {
    placement
        .iter()
        .filter(|p| !labels_admit(p, node) && !nodes.iter().any(|n| labels_admit(p, n)))
        .collect()
}

fn tolerates(tol: &TolerationObs, t: &TaintObs) -> bool {
    let exists = tol.operator == "Exists";
    let key = (tol.key.is_empty() && exists) || tol.key == t.key;
    let value = exists || tol.value == t.value;
    let effect = tol.effect.is_empty() || tol.effect == t.effect;
    key && value && effect
}

/// The mount errors of a node without the driver, and without the provider (FACTS §11).
const NO_DRIVER: &str =
    "driver name secrets-store.csi.k8s.io not found in the list of registered CSI drivers";
/// A mount on a node without the Azure provider, in NodePublishVolume's words (driver v1.5 and
/// v1.6; the ≤v1.5 rotation event says `failed to lookup provider client: "azure"`).
const NO_PROVIDER: &str =
    "error connecting to provider \"azure\": provider not found: provider \"azure\"";

/// Which of the driver and the provider none of their observed DaemonSets may run on `node`
/// (each with its mount error), and why each DaemonSet is excluded. The Azure provider only
/// for a chain whose SPC is the Azure provider's (`azure`): another provider's is its own.
fn missing_on(
    placement: &[PlacementObs],
    node: &NodeObs,
    azure: bool,
) -> (Vec<String>, Vec<String>) {
    let mut missing = Vec::new();
    let mut evidence = Vec::new();
    for (provider, what, symptom) in [
        (false, "driver", NO_DRIVER),
        (true, "Azure provider", NO_PROVIDER),
    ] {
        if provider && !azure {
            continue;
        }
        let sets: Vec<&PlacementObs> = placement
            .iter()
            .filter(|p| p.provider == provider)
            .collect();
        // No DaemonSet of this kind observed: the cluster-wide checks speak for it.
        if sets.is_empty() {
            continue;
        }
        let reasons: Vec<String> = sets
            .iter()
            .filter_map(|p| excluded(p, node).map(|why| format!("{}: {why}", p.daemonset)))
            .collect();
        if reasons.len() == sets.len() {
            missing.push(format!("{what} (mounts fail with \"{symptom}\")"));
            evidence.extend(reasons);
        }
    }
    (missing, evidence)
}

/// Whether every kind (driver, provider) that no DaemonSet may run on `node` has a DaemonSet
/// kept off it only by `NoSchedule` taints. Such a taint stops new pods from being placed but
/// evicts none (only an untolerated `NoExecute` does; the DaemonSet controller deletes its
/// pods only from nodes whose labels it no longer selects): a driver pod placed there before
/// the taint keeps running.
fn kept_running(placement: &[PlacementObs], node: &NodeObs) -> bool {
    [false, true].iter().all(|&provider| {
        let sets: Vec<&PlacementObs> = placement
            .iter()
            .filter(|p| p.provider == provider)
            .collect();
        let excluded_all = !sets.is_empty() && sets.iter().all(|p| excluded(p, node).is_some());
        !excluded_all
            || sets.iter().any(|p| {
                labels_admit(p, node)
                    && node
                        .taints
                        .iter()
                        .all(|t| !blocks(p, t) || t.effect == "NoSchedule")
            })
    })
}

/// What a KVC104 shows of the node: its OS, pool and host labels and its taints.
fn node_line(node: &NodeObs) -> String {
    let mut labels: Vec<String> = node
        .labels
        .iter()
        .filter(|(k, _)| k.starts_with("kubernetes.io/") || k.contains("agentpool"))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    labels.extend(
        node.taints
            .iter()
            .map(|t| format!("taint {}={}:{}", t.key, t.value, t.effect)),
    );
    format!("node {}: {}", node.name, labels.join(", "))
}

fn is_windows(os: Option<&str>) -> bool {
    os.is_some_and(|os| os.eq_ignore_ascii_case("windows"))
}

/// KVC104 for this pod's node: no driver (or no provider) DaemonSet may run there. None when
/// the node, the DaemonSets' constraints or the pod's node are not known, or one may run.
pub(crate) fn absent(cx: &Ctx, link: &mut Link) -> Option<Finding> {
    // A retired pod (evicted, finished, being deleted) mounts nothing again and its volumes
    // are not rotated (FACTS §1): the node it ran on says nothing of the chain's present,
    // as for its placement (audit II2, U4).
    if cx.retired() {
        return None;
    }
    let node_name = cx.pod.node.as_deref()?;
    let nodes = cx.cluster().nodes.known()?;
    let node = nodes.iter().find(|n| n.name == node_name)?;
    let csi = cx.cluster().csi_driver.known()?;
    let placement = csi.placement.known()?;
    let (missing, mut evidence) = missing_on(placement, node, super::provider::is_azure(cx));
    // The pod's volume mounted and it runs (the driver was there then): what fails is the
    // next mount on this node and the rotation of this one, not the running pod.
    let proven = cx.mounted() && cx.pod.phase == "Running";
    if missing.is_empty() {
        // Admitted by the DaemonSets' placement: their pods on the node, when read, say
        // whether the driver and provider run there (FACTS §11: presence is per node).
        return presence::admitted_but_unready(cx, csi, placement, node, proven);
    }
    evidence.insert(0, node_line(node));
    let windows = is_windows(node.labels.get("kubernetes.io/os").map(String::as_str));
    // Kept off by NoSchedule taints only: its pods placed before the taint were not evicted,
    // so placement does not say it is absent; its pods on the node, or a recent success of it
    // there, do (presence.rs). What the taint does is keep a replaced driver pod from being
    // placed again.
    if !windows && kept_running(placement, node) {
        let taints: Vec<String> = node
            .taints
            .iter()
            .filter(|t| placement.iter().any(|p| blocks(p, t)))
            .map(taint_text)
            .collect();
        let (severity, now) = match presence::on_node(cx, csi, placement, node_name) {
            presence::Presence::Runs(seen) => (
                crate::chain::model::Severity::Info,
                format!("the driver runs there all the same ({seen})"),
            ),
            presence::Presence::Gone(gone) => {
                let fix = fix(cx, placement, node, nodes, windows);
                return Some(presence::gone_finding(
                    cx, node_name, &gone, &taints, evidence, fix, proven,
                ));
            }
            presence::Presence::Unread(_) if cx.mounted() => (
                crate::chain::model::Severity::Warning,
                "the driver pods that mounted this pod's volume may still run there; whether they do is not read".to_string(),
            ),
            presence::Presence::Unread(reason) => {
                // Not mounted here yet, and nothing read says whether the driver pods placed
                // before the taint still run: unknown, not absent (the Pod link says why).
                super::unknown_check(
                    link,
                    "driver unknown",
                    format!(
                        "whether the Secrets Store CSI driver runs on node {node_name}: its taint {} keeps new driver pods off the node but evicts none, and no mount or rotation on it in the last two rotation polls shows one running there (kubectl get pods -n kube-system -o wide --field-selector spec.nodeName={node_name})",
                        taints.join(", ")
                    ),
                    &reason,
                );
                return None;
            }
        };
        let who = match workload_on_node(cx, node_name, false, &mut evidence) {
            Some((kind, name)) => pods_of(kind, name, "are", "is"),
            None => format!("pod {} is", cx.pod.name),
        };
        let mut f = cx.finding(
            Code::KVC104,
            format!("Node/{node_name}"),
            format!(
                "{who} on node {node_name}, whose taint {} the Secrets Store CSI driver's DaemonSets do not tolerate: {now}, as a NoSchedule taint keeps new pods off a node but evicts none. A driver pod replaced there (a driver upgrade, an eviction, a deletion) would not be placed again, and rotation and every new mount on the node would then fail with \"{NO_DRIVER}\"",
                taints.join(", "),
            ),
            evidence,
            format!(
                "kubectl get pods -n kube-system -o wide --field-selector spec.nodeName={node_name}"
            ),
            fix(cx, placement, node, nodes, windows),
        );
        f.severity = severity;
        return Some(f);
    }
    Some(missing_here(
        cx, node, nodes, placement, missing, evidence, proven, windows,
    ))
}

/// The workload whose pods a KVC104 on `node` is said of: one cause for its pods on the node,
/// so the finding names the workload and each chain adds its pod to the evidence, and the
/// report merges them into one finding, as it does the cluster-wide KVC104 (audit MM5). None
/// for a pod nothing owns, or one `proven` mounted and running (a warning, told of itself).
pub(super) fn workload_on_node<'c>(
    cx: &Ctx<'c>,
    node: &str,
    proven: bool,
    evidence: &mut Vec<String>,
) -> Option<(&'c str, &'c str)> {
    let w = cx.workload.filter(|_| !proven)?;
    evidence.push(format!("pod {} on node {node}", cx.pod.name));
    Some(w)
}

/// The subject of a finding about a workload's pods on one node, with its verb (`are`/`is`):
/// a DaemonSet runs one pod per node, its others on other nodes (healthy, maybe), so it is
/// "the pod of DaemonSet/x", never "the pods", which read as all of them (audit RRR-facts).
pub(super) fn pods_of(kind: &str, name: &str, plural: &str, singular: &str) -> String {
    match kind {
        "DaemonSet" => format!("the pod of {kind}/{name} {singular}"),
        _ => format!("the pods of {kind}/{name} {plural}"),
    }
}

/// The fix for a pod on a node the driver's DaemonSets exclude.
fn fix(
    cx: &Ctx,
    placement: &[PlacementObs],
    node: &NodeObs,
    nodes: &[NodeObs],
    windows: bool,
) -> String {
    if windows {
        windows_fix(cx)
    } else {
        linux_fix(cx, placement, node, nodes)
    }
}

/// KVC104 for a pod on a node where no driver (or provider) pod runs: an error, a warning for
/// a pod whose volume mounted and runs.
#[allow(clippy::too_many_arguments)]
fn missing_here(
    cx: &Ctx,
    node: &NodeObs,
    nodes: &[NodeObs],
    placement: &[PlacementObs],
    missing: Vec<String>,
    mut evidence: Vec<String>,
    proven: bool,
    windows: bool,
) -> Finding {
    let node_name = node.name.as_str();
    let who = match workload_on_node(cx, node_name, proven, &mut evidence) {
        Some((kind, name)) => pods_of(kind, name, "run", "runs"),
        None => format!("pod {} runs", cx.pod.name),
    };
    let nowhere = runs_nowhere(placement, node, nodes);
    let why = if windows || nowhere.is_empty() {
        "its DaemonSets' scheduling constraints exclude the node".to_string()
    } else {
        let names: Vec<&str> = nowhere.iter().map(|p| p.daemonset.as_str()).collect();
        let verb = if names.len() == 1 {
            "selects"
        } else {
            "select"
        };
        format!(
            "{} {verb} no node of the cluster at all, so it runs nowhere",
            names.join(" and ")
        )
    };
    let now = if proven {
        "; this pod's volume is mounted and it runs, so what fails is rotation and every new mount on the node"
    } else {
        ""
    };
    let mut f = cx.finding(
        Code::KVC104,
        format!("Node/{node_name}"),
        format!(
            "{who} on node {node_name}, where no Secrets Store CSI {} pod can run: {why}{now}",
            missing.join(" and no "),
        ),
        evidence,
        format!(
            "kubectl get node {node_name} --show-labels && kubectl get pods -n kube-system -o wide --field-selector spec.nodeName={node_name}"
        ),
        fix(cx, placement, node, nodes, windows),
    );
    if proven {
        f.severity = crate::chain::model::Severity::Warning;
    }
    f
}

/// KVC104 for a pod with no node yet (a manifest, or a template whose pods are missing) whose
/// scheduling constraints pin it to Windows nodes. With the DaemonSets' constraints known it
/// is decided on a Windows node as they see it (an error when none may run there); offline it
/// is a warning: the cluster may run the charts' Windows DaemonSets.
pub(crate) fn windows_unscheduled(cx: &Ctx) -> Option<Finding> {
    if cx.pod.node.is_some() || !is_windows(cx.pod.node_os.as_deref()) {
        return None;
    }
    let pinned = format!(
        "kubernetes.io/os: {} (nodeSelector or required node affinity)",
        cx.pod.node_os.as_deref().unwrap_or_default()
    );
    let placement = cx
        .cluster()
        .csi_driver
        .known()
        .and_then(|c| c.placement.known());
    // Where the driver's DaemonSets may run: their nodeSelectors say which OS.
    let confirm = "kubectl get daemonsets -n kube-system -o custom-columns=NAME:.metadata.name,NODE-SELECTOR:.spec.template.spec.nodeSelector | grep -e NAME -e secrets-store";
    let f = match placement {
        Some(placement) => {
            let windows = NodeObs {
                name: "windows".into(),
                labels: [("kubernetes.io/os".to_string(), "windows".to_string())].into(),
                taints: Vec::new(),
                ..NodeObs::default()
            };
            let (missing, mut evidence) =
                missing_on(placement, &windows, super::provider::is_azure(cx));
            if missing.is_empty() {
                return None;
            }
            evidence.insert(0, format!("pod spec: {pinned}"));
            cx.finding(
                Code::KVC104,
                cx.owner_resource(),
                format!(
                    "pods of {} can only run on Windows nodes, where no Secrets Store CSI {} pod can run: its DaemonSets' scheduling constraints exclude Windows nodes",
                    cx.owner_resource(),
                    missing.join(" and no ")
                ),
                evidence,
                confirm.to_string(),
                windows_fix(cx),
            )
        }
        None => {
            let mut f = cx.finding(
                Code::KVC104,
                cx.owner_resource(),
                format!(
                    "pods of {} can only run on Windows nodes and mount a Secrets Store CSI volume: the Secrets Store CSI driver and Azure provider DaemonSets run on Linux nodes only (nodeSelector kubernetes.io/os: linux) unless the Helm charts' separate Windows DaemonSets are installed, which the AKS add-on does not run; without them the mount fails with \"{NO_DRIVER}\"",
                    cx.owner_resource(),
                ),
                vec![format!("pod spec: {pinned}")],
                confirm.to_string(),
                windows_fix(cx),
            );
            f.severity = crate::chain::model::Severity::Warning;
            f
        }
    };
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(labels: &[(&str, &str)], taints: &[(&str, &str)]) -> NodeObs {
        NodeObs {
            name: "n".into(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            taints: taints
                .iter()
                .map(|(k, e)| TaintObs {
                    key: k.to_string(),
                    value: String::new(),
                    effect: e.to_string(),
                })
                .collect(),
            ..NodeObs::default()
        }
    }

    #[test]
    fn affinity_terms_are_ored_and_requirements_anded() {
        let p = PlacementObs {
            affinity: vec![
                vec![NodeRequirementObs {
                    key: "kubernetes.io/os".into(),
                    operator: "NotIn".into(),
                    values: vec!["windows".into()],
                }],
                vec![NodeRequirementObs {
                    key: "type".into(),
                    operator: "Exists".into(),
                    values: vec![],
                }],
            ],
            ..PlacementObs::default()
        };
        assert!(excluded(&p, &node(&[("kubernetes.io/os", "linux")], &[])).is_none());
        assert!(
            excluded(&p, &node(&[], &[])).is_none(),
            "NotIn holds without the label"
        );
        let why = excluded(&p, &node(&[("kubernetes.io/os", "windows")], &[])).unwrap();
        assert!(why.contains("required node affinity"), "{why}");
        assert!(
            excluded(
                &p,
                &node(&[("kubernetes.io/os", "windows"), ("type", "x")], &[])
            )
            .is_none()
        );
    }

    #[test]
    fn taints_need_a_matching_toleration_except_the_daemonset_defaults() {
        let mut p = PlacementObs::default();
        let tainted = node(&[], &[("sku", "NoSchedule"), ("soft", "PreferNoSchedule")]);
        assert!(
            excluded(&p, &tainted)
                .unwrap()
                .contains("taint sku:NoSchedule")
        );
        assert!(
            excluded(
                &p,
                &node(&[], &[("node.kubernetes.io/unreachable", "NoExecute")])
            )
            .is_none()
        );
        p.tolerations.push(TolerationObs {
            operator: "Exists".into(),
            ..TolerationObs::default()
        });
        assert!(
            excluded(&p, &tainted).is_none(),
            "an empty-key Exists tolerates all"
        );
    }
}
