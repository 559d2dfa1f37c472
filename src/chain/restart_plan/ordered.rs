//! A StatefulSet under `podManagementPolicy: OrderedReady` (the default): its controller does
//! nothing while one of its pods is not Running and Ready (`processReplica` in monotonic
//! mode). A rollout restart then changes the template and replaces no pod: the rollout waits
//! for that pod, which a new template does not fix (Kubernetes docs, StatefulSet "Forced
//! rollback": the pod must be deleted). Deleting it is what replaces it; a deleted pod of a
//! higher ordinal is not made again until the lower one is ready.
//!
//! A pod counts as not Running and Ready only when that is certain: terminating, a phase
//! other than Running, an app container waiting or terminated, or Running with its Ready
//! condition not True (a readiness probe failing, a readiness gate unmet, its node lost). A
//! pod whose readiness is not observed is not counted: the plan says the rollout may wait on it.

use super::lookup::{SetPods, Unready};
use crate::snapshot::{ContainerStateObs, PodObs, UpdateObs};

/// Why a pod being deleted is not Running and Ready.
const TERMINATING: &str = "terminating";

/// Why `p` is surely not Running and Ready, None when it may be.
pub(super) fn unready(p: &PodObs) -> Option<String> {
    if p.deleting {
        return Some(TERMINATING.into());
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
    match (p.phase.as_str(), held, p.ready) {
        (_, Some(held), _) => Some(held),
        // Its containers run, and the controller still waits: IsPodReady is false.
        ("Running" | "", None, Some(false)) => {
            Some("Running, but its Ready condition is not True".into())
        }
        ("Running" | "", None, _) => None,
        (phase, None, _) => Some(format!("phase {phase}")),
    }
}

/// The ordinal of pod `pod` of StatefulSet `set` (`<set>-<ordinal>`).
pub(crate) fn ordinal(set: &str, pod: &str) -> Option<i32> {
    pod.strip_prefix(set)?.strip_prefix('-')?.parse().ok()
}

/// `rollingUpdate.partition {partition}`, and the ordinal it stands for when the StatefulSet's
/// `ordinals.start` is set: the controller counts the partition among its replicas, from
/// `start` ([`UpdateObs::updated_from`]).
pub(crate) fn partition_said(partition: i32, start: i32) -> String {
    match start {
        0 => format!("rollingUpdate.partition {partition}"),
        s => format!(
            "rollingUpdate.partition {partition} (counted from ordinals.start {s}: ordinal {})",
            s.saturating_add(partition)
        ),
    }
}

/// Why pod ordinal `i` of StatefulSet `set` is deleted rather than rolled: it is below the
/// partition (`said`, [`partition_said`]; ordinals from `from` are replaced).
pub(crate) fn below_partition(i: i32, set: &str, said: &str, from: i32) -> String {
    format!(
        "Pod ordinal {i} is below StatefulSet {set}'s {said}: a rollout restart replaces only ordinals {from} and up; the deleted pod comes back with the same name, at the StatefulSet's current revision"
    )
}

/// What a StatefulSet's rollout restart leaves out under its partition (`said`): the pods
/// below ordinal `from`.
pub(crate) fn partition_keeps(from: i32, said: &str) -> String {
    format!(
        "Only pods with ordinal {from} or above are replaced ({said}); the ones below keep running."
    )
}

/// The pods of an OrderedReady StatefulSet (its [`SetPods`]) surely not Running and Ready, by
/// ordinal: (ordinal, name, why). Only its replicas' ordinals (from `update.start`, `replicas`
/// of them when known: the controller waits on those).
pub(crate) fn stuck(
    pods: &SetPods,
    update: &UpdateObs,
    replicas: Option<i32>,
) -> Vec<(i32, String, String)> {
    (pods.unready.iter())
        .filter_map(|u: &Unready| {
            let i = u.ordinal?;
            let replica = update.replica(i, replicas);
            replica.then(|| (i, u.name.to_string(), u.why.clone()))
        })
        .collect()
}

/// What a rollout restart waits on that is not known: its replicas' pods Running with no
/// Ready condition observed. Unknown is not "not ready": it may wait, or not.
pub(super) fn readiness_unknown(
    set: &str,
    pods: &SetPods,
    update: &UpdateObs,
    replicas: Option<i32>,
) -> Option<String> {
    let mut unknown = (pods.unknown.iter())
        .filter(|(i, _)| i.is_some_and(|i| update.replica(i, replicas)))
        .map(|(_, name)| name.as_str());
    let first = unknown.next()?;
    let pods = match unknown.count() {
        0 => format!("pod {first} is"),
        n => format!("pod {first} and {n} more are"),
    };
    Some(format!(
        "Whether {pods} Ready is not known (no Ready condition observed): StatefulSet {set} has podManagementPolicy OrderedReady (the default), so a Running pod that is not Ready holds the rollout, which replaces no pod until it is Ready or deleted."
    ))
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
/// Ready (`why`): nothing until it is, or is deleted. One terminating is deleted already:
/// the controller makes it again once it is gone, and asking for its delete would ask for
/// what is under way.
pub(super) fn waits_for_other(set: &str, other: &str, why: &str) -> String {
    let replaced = match why == TERMINATING {
        true => format!(
            "pod {other} is being deleted already, and the StatefulSet makes it again once it is gone"
        ),
        false => format!("deleting {other} is what replaces it"),
    };
    format!(
        "No pod is replaced while pod {other} is not Running and Ready ({why}): StatefulSet {set} has podManagementPolicy OrderedReady (the default), so the rollout waits for it (Kubernetes docs, StatefulSet \"Forced rollback\"); {replaced}. Once every pod is Running and Ready, they are replaced one at a time from the highest ordinal."
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
