//! A template edit of a StatefulSet under `podManagementPolicy: OrderedReady` (the default)
//! while one of its pods is not Running and Ready: its controller replaces no pod until that
//! one is Running and Ready, which the new template does not make it (Kubernetes docs,
//! StatefulSet "Forced rollback": the pod must be deleted). The restart plan deletes such a
//! pod for the same reason (`chain::restart_plan::ordered`); a fix changing the template ends with
//! the same delete ([`super::paused::rolled_in`]), or it reaches nothing (audit PP4).

use super::paused::Hold;
use crate::chain::restart_plan::Lookup;
use crate::snapshot::{PodObs, UpdateObs};

/// The pods of the template edit's StatefulSet its rollout waits for, deleted: the command and
/// why. `hold`: what else holds the template back (its partition: a pod below it comes back
/// from the old template, deleted or not, so only those at or above it are deleted here; under
/// OnDelete every pod is deleted already). None for any other owner, a Parallel set, or when no
/// pod of it is surely not Running and Ready.
pub(super) fn stuck_deleted<'s>(
    look: &impl Lookup<'s>,
    pod: &PodObs,
    workload: Option<(&str, &str)>,
    hold: Option<Hold<'_>>,
    change: &str,
) -> Option<(String, String)> {
    let Some(("StatefulSet", name)) = workload else {
        return None;
    };
    if matches!(hold, Some(Hold::OnDelete(..))) {
        return None;
    }
    let ns = pod.namespace.as_str();
    let set = look.workload(ns, "StatefulSet", name);
    // Not observed: OrderedReady is the default, as the restart plan takes it.
    let update = set.and_then(|w| w.update.clone()).unwrap_or_default();
    if update.parallel {
        return None;
    }
    let replicas = set.and_then(|w| w.replicas);
    let pods = look.set_pods(ns, "StatefulSet", name);
    let from = update_from(&update, hold);
    let stuck: Vec<(i32, String, String)> =
        crate::chain::restart_plan::stuck(&pods, &update, replicas)
            .into_iter()
            .filter(|(i, _, _)| *i >= from)
            .collect();
    let names: Vec<&str> = stuck.iter().map(|(_, p, _)| p.as_str()).collect();
    let (them, is, whys, it) = match &stuck[..] {
        [] => return None,
        [(_, p, why)] => (p.to_string(), "is", why.to_string(), "it"),
        _ => {
            let whys: Vec<String> = (stuck.iter())
                .map(|(_, p, why)| format!("{p}: {why}"))
                .collect();
            (names.join(", "), "are", whys.join("; "), "each")
        }
    };
    let policy = match set.is_some() {
        true => format!("StatefulSet {name} has podManagementPolicy OrderedReady (the default):"),
        false => format!(
            "StatefulSet {name} is not observed: under podManagementPolicy OrderedReady (the default)"
        ),
    };
    let delete = format!(
        "kubectl delete pod {} -n {ns} --ignore-not-found",
        names.join(" ")
    );
    let why = format!(
        "{them} {is} not Running and Ready ({whys}), and {policy} its controller replaces no pod while one is not, so the rollout of {change} waits for {them} (Kubernetes docs, StatefulSet \"Forced rollback\"): the fix deletes {them}, and the StatefulSet makes {it} again under the same name from {change}"
    );
    Some((delete, why))
}

/// The lowest ordinal a template change reaches: its partition's, else the first replica.
fn update_from(update: &UpdateObs, hold: Option<Hold<'_>>) -> i32 {
    match hold {
        Some(Hold::Partition {
            partition, start, ..
        }) => start.saturating_add(partition),
        _ => update.start,
    }
}
