//! What the rolling updates of the lab's controllers share: a pod as an update sees it (the
//! StatefulSet's `isHealthy` and the DaemonSet's `IsPodAvailable` are the same test in the lab,
//! which has no readiness probes or minReadySeconds: the pod runs), the bounds written as a
//! number or a percentage, and the budget of pods an update may take down.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{LabPod, Stage};

/// One pod (a StatefulSet's ordinal, a DaemonSet's pod on a node) as the update sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Replica {
    /// The pod exists (a deleted StatefulSet pod is made again before its update goes on).
    pub exists: bool,
    pub terminating: bool,
    /// Running and Ready, not terminating (StatefulSet `isHealthy`, DaemonSet available).
    pub healthy: bool,
    /// Made from the update revision (its `controller-revision-hash` is the template's).
    pub updated: bool,
}

impl Replica {
    pub(super) fn of(p: &LabPod, revision: &str) -> Replica {
        Replica {
            exists: true,
            terminating: p.stage == Stage::Terminating,
            healthy: p.stage == Stage::Running,
            updated: p.labels.get("controller-revision-hash").map(String::as_str) == Some(revision),
        }
    }
}

/// An absolute number, or a percentage of `total` rounded up or down
/// (`GetScaledValueFromIntOrPercent`).
pub(super) fn scaled(v: &IntOrString, total: usize, round_up: bool) -> usize {
    match v {
        IntOrString::Int(n) => (*n).max(0) as usize,
        IntOrString::String(s) => {
            let pct: usize = s.trim_end_matches('%').trim().parse().unwrap_or(25);
            let n = total * pct;
            if round_up { n.div_ceil(100) } else { n / 100 }
        }
    }
}

/// The first of `candidates` the update may take down now: as many as `max` unavailable
/// allows with `unavailable` already down.
pub(super) fn within_budget(
    candidates: impl Iterator<Item = usize>,
    max: usize,
    unavailable: usize,
) -> impl Iterator<Item = usize> {
    candidates.take(max.saturating_sub(unavailable))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_round_as_asked() {
        let pct = |s: &str| IntOrString::String(s.into());
        assert_eq!(scaled(&pct("50%"), 3, false), 1);
        assert_eq!(scaled(&pct("50%"), 3, true), 2);
        assert_eq!(scaled(&pct("10%"), 5, true), 1);
        assert_eq!(scaled(&IntOrString::Int(2), 5, false), 2);
    }

    #[test]
    fn the_budget_counts_the_pods_already_down() {
        let take = |max, down| within_budget(0..5, max, down).collect::<Vec<_>>();
        assert_eq!(take(2, 0), [0, 1]);
        assert_eq!(take(2, 1), [0]);
        assert_eq!(take(1, 3), Vec::<usize>::new());
    }
}
