//! What a DaemonSet's rollout restart does under `updateStrategy: RollingUpdate` (the
//! default): not every pod at once. Its controller replaces them node by node, with at most
//! `maxUnavailable` nodes (1 unless set) without an available pod at a time; a new pod counts
//! as unavailable until it has been Ready for `minReadySeconds`, so one that never becomes
//! Ready stops the rollout at its node (Kubernetes docs, "Perform a Rolling Update on a
//! DaemonSet": a broken template's rollout does not progress; pkg/controller/daemon
//! `rollingUpdate`). An old pod that is not available is replaced first, whatever the budget:
//! it holds nothing itself, but a new pod on its node held by the same cause (the node, a
//! mount, a Secret: not the template) is not Ready either, and the rollout stops there.

use super::lookup::SetPods;

/// The rollout of DaemonSet `set` node by node, and where a pod not Running and Ready now
/// (`pods`) would stop it. `known`: its RollingUpdate strategy is observed.
pub(crate) fn rollout(set: &str, pods: &SetPods, known: bool) -> Vec<String> {
    let lead = match known {
        true => "Its pods are replaced".to_string(),
        false => format!("Under RollingUpdate (the default), DaemonSet {set}'s pods are replaced"),
    };
    let mut notes = vec![format!(
        "{lead} node by node, at most maxUnavailable nodes at a time (1 unless set): a new pod that never becomes available (Ready for minReadySeconds) stops the rollout at its node, and the nodes not reached yet keep their old pods."
    )];
    // A terminating pod is on its way out already; the others are what the rollout meets.
    let mut unready = pods.unready.iter().filter(|u| !u.terminating);
    if let Some(first) = unready.next() {
        let node = first.node.as_deref().unwrap_or("(not scheduled)");
        let others = match unready.count() {
            0 => String::new(),
            1 => " and 1 other pod".into(),
            n => format!(" and {n} other pods"),
        };
        let (verb, its, it, there) = match others.is_empty() {
            true => ("is", "its new pod is", "it", format!("node {node}")),
            false => ("are", "their new pods are", "them", "their nodes".into()),
        };
        notes.push(format!(
            "Pod {} on node {node}{others} {verb} not Running and Ready now ({}: {}): an old pod that is not available is replaced first, whatever maxUnavailable, and if {its} not Ready either (what holds {it} is not in the template), the rollout stops at {there}.",
            first.name, first.name, first.why
        ));
    }
    notes
}
