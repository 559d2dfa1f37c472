//! A StatefulSet under `podManagementPolicy: OrderedReady` (the default): its controller does
//! nothing while one of its pods is not Running and Ready (`processReplica` in monotonic
//! mode). A rollout restart then changes the template and replaces no pod: the rollout waits
//! for that pod, which a new template does not fix (Kubernetes docs, StatefulSet "Forced
//! rollback": the pod must be deleted). Deleting it is what replaces it; a deleted pod of a
//! higher ordinal is not made again until the lower one is ready.
//!
//! Readiness is not read: a pod counts as not Running and Ready only when that is certain
//! (terminating, a phase other than Running, an app container waiting or terminated).

use crate::snapshot::{ContainerStateObs, PodObs, Snapshot};

/// Why `p` is surely not Running and Ready, None when it may be.
pub(super) fn unready(p: &PodObs) -> Option<String> {
    if p.deleting {
        return Some("terminating".into());
    }
    let held = p.containers.iter().filter(|c| !c.init).find_map(|c| {
        let (state, reason) = match &c.state {
            ContainerStateObs::Waiting { reason, .. } => ("waiting", reason),
            ContainerStateObs::Terminated { reason, .. } => ("terminated", reason),
            _ => return None,
        };
        Some(match reason.is_empty() {
            true => format!("container {} {state}", c.name),
            false => format!("container {} {state}: {reason}", c.name),
        })
    });
    match (p.phase.as_str(), held) {
        (_, Some(held)) => Some(held),
        ("Running" | "", None) => None,
        (phase, None) => Some(format!("phase {phase}")),
    }
}

/// The ordinal of pod `pod` of StatefulSet `set` (`<set>-<ordinal>`).
pub(crate) fn ordinal(set: &str, pod: &str) -> Option<i32> {
    pod.strip_prefix(set)?.strip_prefix('-')?.parse().ok()
}

/// The pods of StatefulSet `ns/set` surely not Running and Ready, by ordinal: (ordinal, name,
/// why). Only ordinals below `replicas` when known (the controller waits on those).
pub(super) fn stuck(
    s: &Snapshot,
    ns: &str,
    set: &str,
    replicas: Option<i32>,
) -> Vec<(i32, String, String)> {
    let mut stuck: Vec<(i32, String, String)> = (s.pods.items.iter())
        .filter(|p| p.namespace == ns)
        .filter(|p| {
            let owner = p.owners.iter().find(|o| o.controller);
            owner.is_some_and(|o| o.kind == "StatefulSet" && o.name == set)
        })
        .filter_map(|p| {
            let i = ordinal(set, &p.name)?;
            let below = replicas.is_none_or(|n| i < n);
            Some((i, p.name.to_string(), unready(p)?)).filter(|_| below)
        })
        .collect();
    stuck.sort();
    stuck
}

/// Why a rollout restart does not replace `pod`, itself not Running and Ready (`why`): the
/// StatefulSet's rollout waits for it, and deleting it is what replaces it.
pub(super) fn waits_for_itself(set: &str, pod: &str, why: &str, known: bool) -> String {
    let policy = match known {
        true => format!("StatefulSet {set} has podManagementPolicy OrderedReady (the default):"),
        false => format!(
            "StatefulSet {set} is not observed: under podManagementPolicy OrderedReady (the default)"
        ),
    };
    format!(
        "Pod {pod} is not Running and Ready ({why}), and {policy} its controller replaces no pod while one is not Running and Ready, so a rollout restart would change the template and leave this pod as it is: the rollout waits for it (Kubernetes docs, StatefulSet \"Forced rollback\"). Deleting it is what replaces it: the StatefulSet makes it again under the same name from its template"
    )
}

/// What a rollout restart does while `other` (another pod of the set) is not Running and
/// Ready (`why`): nothing until it is, or is deleted.
pub(super) fn waits_for_other(set: &str, other: &str, why: &str) -> String {
    format!(
        "No pod is replaced while pod {other} is not Running and Ready ({why}): StatefulSet {set} has podManagementPolicy OrderedReady (the default), so the rollout waits for it (Kubernetes docs, StatefulSet \"Forced rollback\"); deleting {other} is what replaces it. Once every pod is Running and Ready, they are replaced one at a time from the highest ordinal."
    )
}

/// What deleting pod `pod` costs while a pod of a lower ordinal is not Running and Ready: the
/// StatefulSet makes pods in ordinal order and waits on that one first.
pub(super) fn held_below(set: &str, pod: &str, stuck: &[(i32, String, String)]) -> Option<String> {
    let me = ordinal(set, pod)?;
    let (_, below, why) = stuck.iter().find(|(i, _, _)| *i < me)?;
    Some(format!(
        "Pod {below} is not Running and Ready ({why}): under podManagementPolicy OrderedReady the StatefulSet makes pods in ordinal order and makes {pod} again only once {below} is"
    ))
}
