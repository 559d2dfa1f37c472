//! A rollout that started after the synced Secret changed and had not finished when the watch
//! ended. Reloader restarts a workload by changing its pod template (FACTS §10), and its
//! controller then replaces the pods step by step (a Deployment's RollingUpdate within
//! maxSurge/maxUnavailable, a StatefulSet one ordinal at a time): a pod made since the change
//! shows the rollout began, so a consumer still waiting then waits on a slow rollout, not on a
//! Reloader that never acted. The verdict names the workload and what is left to replace.

use jiff::Timestamp;

use crate::chain::restart_plan::{RestartPlan, Scan};
use crate::snapshot::{ContainerStateObs, PodObs, Snapshot};

/// Why a consumer of `pod`'s owner still waits when the watch ends, if that owner's rollout is
/// under way: some current pod of it was made at or after `changed` (the synced Secret's
/// change) while a pod made before it is still there, or a new one is not running yet. None
/// when no pod was made since (nothing rolled it out) or the owner is not a workload.
pub(super) fn under_way(s: &Snapshot, pod: &PodObs, changed: Timestamp) -> Option<String> {
    let look = Scan::new(s);
    let owner = RestartPlan::for_pod_in(s, &look, pod).replacing_owner()?;
    let members: Vec<&PodObs> = (s.pods.items.iter())
        .filter(|p| p.namespace == pod.namespace && p.template_of.is_none() && !p.deleting)
        .filter(|p| {
            RestartPlan::for_pod_in(s, &look, p)
                .replacing_owner()
                .as_ref()
                == Some(&owner)
        })
        .collect();
    under_way_among(&owner, &pod.namespace, &members, changed)
}

/// [`under_way`] for workload `(kind, name)` of namespace `ns`, whose current pods (not
/// terminating) are `members`, as a caller that already grouped them passes them.
pub(super) fn under_way_among(
    (kind, name): &(String, String),
    ns: &str,
    members: &[&PodObs],
    changed: Timestamp,
) -> Option<String> {
    let new = |p: &&&PodObs| p.created_at.is_some_and(|c| c >= changed);
    let made = members.iter().filter(new).count();
    if made == 0 {
        return None;
    }
    // A Deployment rolls a template change out through a new ReplicaSet: a pod its old
    // ReplicaSet made again (one deleted or evicted) is no rollout, and Reloader's absence
    // stays the question then.
    if kind == "Deployment" {
        let set = |p: &PodObs| {
            (p.owners.iter())
                .find(|o| o.kind.as_str() == "ReplicaSet")
                .map(|o| o.name.to_string())
        };
        let old_sets: Vec<String> = (members.iter())
            .filter(|p| !new(p))
            .filter_map(|p| set(p))
            .collect();
        let rolled = (members.iter())
            .filter(new)
            .any(|p| set(p).is_some_and(|s| !old_sets.contains(&s)));
        if !rolled {
            return None;
        }
    }
    let old: Vec<&str> = (members.iter())
        .filter(|p| !new(p))
        .map(|p| p.name.as_str())
        .collect();
    let starting: Vec<&str> = (members.iter())
        .filter(new)
        .filter(|p| !running(p))
        .map(|p| p.name.as_str())
        .collect();
    if old.is_empty() && starting.is_empty() {
        return None;
    }
    let mut left = Vec::new();
    if !old.is_empty() {
        left.push(format!(
            "{} not replaced yet (still holding the old value)",
            names(&old)
        ));
    }
    if !starting.is_empty() {
        left.push(format!("{} not running yet", names(&starting)));
    }
    let follow = match kind.as_str() {
        "Deployment" | "StatefulSet" | "DaemonSet" => format!(
            ": follow it with kubectl rollout status {}/{name} -n {}",
            kind.to_ascii_lowercase(),
            ns
        ),
        _ => String::new(),
    };
    Some(format!(
        "the rollout of {kind}/{name} is still in progress when the watch ends: it started after the synced Secret changed ({made} pod{} made since), {}{follow}",
        if made == 1 { "" } else { "s" },
        left.join("; ")
    ))
}

/// Whether every app container of `p` runs.
fn running(p: &PodObs) -> bool {
    let mut app = p.containers.iter().filter(|c| !c.init).peekable();
    app.peek().is_some() && app.all(|c| matches!(c.state, ContainerStateObs::Running { .. }))
}

/// Up to three pod names, then how many more.
fn names(pods: &[&str]) -> String {
    match pods.len() {
        0..=3 => pods.join(", "),
        n => format!("{} and {} more", pods[..3].join(", "), n - 3),
    }
}
