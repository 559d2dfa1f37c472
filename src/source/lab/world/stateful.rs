//! A StatefulSet's RollingUpdate as the StatefulSet controller carries it out
//! (`updateStatefulSet`; Kubernetes "StatefulSets → Rolling Updates"): pods are replaced one
//! at a time, from the largest ordinal down to `rollingUpdate.partition` (0 when the field is
//! absent), and the controller waits for each replaced pod to be Running and Ready before it
//! deletes the next, so a new template that never becomes ready stops the rollout at its first
//! pod ("Forced rollback"). `rollingUpdate.maxUnavailable` set (the MaxUnavailableStatefulSet
//! gate on: with it off the API server drops the field) lets up to that many pods be
//! unavailable at once, counting every unhealthy pod of the set.

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::*;

/// One ordinal of the set as the update sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Replica {
    /// A pod of that name exists (a deleted one is made again before the update goes on).
    pub exists: bool,
    pub terminating: bool,
    /// Running and Ready, not terminating (`isHealthy`).
    pub healthy: bool,
    /// Made from the update revision.
    pub updated: bool,
}

/// The StatefulSet's RollingUpdate bounds: (partition, maxUnavailable if set).
pub(super) fn rolling(s: &StatefulSet, replicas: usize) -> (usize, Option<usize>) {
    let r = (s.spec.as_ref()).and_then(|s| s.update_strategy.as_ref()?.rolling_update.as_ref());
    let partition = r.and_then(|r| r.partition).unwrap_or(0).max(0) as usize;
    // A percentage rounds down; the controller never goes below 1.
    let max = r
        .and_then(|r| r.max_unavailable.as_ref())
        .map(|m| match m {
            IntOrString::Int(n) => (*n).max(0) as usize,
            IntOrString::String(p) => {
                let pct: usize = p.trim_end_matches('%').trim().parse().unwrap_or(0);
                replicas * pct / 100
            }
        })
        .map(|n| n.max(1));
    (partition, max)
}

/// The ordinals the controller deletes in this pass, given the set's pods by ordinal.
pub(super) fn to_delete(
    replicas: &[Replica],
    partition: usize,
    max_unavailable: Option<usize>,
) -> Vec<usize> {
    let replaceable = |r: &Replica| r.exists && !r.updated && !r.terminating;
    let Some(max) = max_unavailable else {
        // From the largest ordinal down: delete the first pod not yet updated, or stop at the
        // first updated one that is not healthy yet (one being made again counts as such).
        for i in (partition..replicas.len()).rev() {
            let r = &replicas[i];
            if replaceable(r) {
                return vec![i];
            }
            if !r.healthy {
                return Vec::new();
            }
        }
        return Vec::new();
    };
    let unavailable = replicas.iter().filter(|r| !r.healthy).count();
    (partition..replicas.len())
        .rev()
        .filter(|i| replaceable(&replicas[*i]))
        .take(max.saturating_sub(unavailable))
        .collect()
}

impl World {
    /// One pass of StatefulSet `set`'s rolling update towards `revision` (see the module's
    /// note): deletes the pods it replaces now; each comes back from the update revision.
    pub(super) fn roll_stateful(&mut self, wk: &WorkloadKey, s: &StatefulSet, revision: &str) {
        let n = s.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1).max(0) as usize;
        let (partition, max_unavailable) = rolling(s, n);
        let key = |i: usize| (wk.1.clone(), format!("{}-{i}", wk.2));
        let replicas: Vec<Replica> = (0..n)
            .map(|i| match self.pods.get(&key(i)) {
                None => Replica::default(),
                Some(p) => Replica {
                    exists: true,
                    terminating: p.stage == Stage::Terminating,
                    healthy: p.stage == Stage::Running,
                    updated: p.labels.get("controller-revision-hash").map(String::as_str)
                        == Some(revision),
                },
            })
            .collect();
        for i in to_delete(&replicas, partition, max_unavailable) {
            self.terminate(&key(i));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: Replica = Replica {
        exists: true,
        terminating: false,
        healthy: true,
        updated: false,
    };
    const NEW: Replica = Replica {
        updated: true,
        ..OLD
    };
    const NEW_UNREADY: Replica = Replica {
        healthy: false,
        ..NEW
    };

    /// One at a time, largest ordinal first, each waiting for the one before to be ready.
    #[test]
    fn one_pod_at_a_time_from_the_largest_ordinal() {
        assert_eq!(to_delete(&[OLD, OLD, OLD], 0, None), [2]);
        assert_eq!(
            to_delete(&[OLD, OLD, NEW_UNREADY], 0, None),
            Vec::<usize>::new()
        );
        assert_eq!(to_delete(&[OLD, OLD, NEW], 0, None), [1]);
        let gone = Replica::default();
        assert_eq!(to_delete(&[OLD, gone, NEW], 0, None), Vec::<usize>::new());
        let leaving = Replica {
            terminating: true,
            healthy: false,
            ..OLD
        };
        assert_eq!(
            to_delete(&[OLD, leaving, NEW], 0, None),
            Vec::<usize>::new()
        );
        assert_eq!(to_delete(&[NEW, NEW, NEW], 0, None), Vec::<usize>::new());
    }

    /// An old pod that is not ready is replaced like any other; one below the partition never.
    #[test]
    fn the_partition_bounds_the_update_and_an_unready_old_pod_is_replaced() {
        let old_unready = Replica {
            healthy: false,
            ..OLD
        };
        assert_eq!(to_delete(&[OLD, old_unready], 0, None), [1]);
        assert_eq!(to_delete(&[OLD, OLD, NEW], 2, None), Vec::<usize>::new());
        assert_eq!(to_delete(&[OLD, OLD, OLD], 2, None), [2]);
        assert_eq!(to_delete(&[OLD, OLD], 5, None), Vec::<usize>::new());
    }

    /// maxUnavailable: that many at once, less the pods already unavailable.
    #[test]
    fn max_unavailable_deletes_up_to_its_bound() {
        assert_eq!(to_delete(&[OLD, OLD, OLD, OLD], 0, Some(2)), [3, 2]);
        assert_eq!(to_delete(&[OLD, OLD, NEW_UNREADY, NEW], 0, Some(2)), [1]);
        assert_eq!(
            to_delete(&[OLD, NEW_UNREADY, NEW_UNREADY], 0, Some(2)),
            Vec::<usize>::new()
        );
    }

    #[test]
    fn the_bounds_are_read_from_the_strategy() {
        let set = |strategy: serde_json::Value| -> StatefulSet {
            serde_json::from_value(serde_json::json!({
                "spec": {"selector": {}, "serviceName": "s", "template": {}, "updateStrategy": strategy}
            }))
            .unwrap()
        };
        assert_eq!(
            rolling(&set(serde_json::json!({"type": "RollingUpdate"})), 3),
            (0, None)
        );
        let s =
            set(serde_json::json!({"rollingUpdate": {"partition": 2, "maxUnavailable": "50%"}}));
        assert_eq!(rolling(&s, 3), (2, Some(1)));
        let s = set(serde_json::json!({"rollingUpdate": {"maxUnavailable": 3}}));
        assert_eq!(rolling(&s, 5), (0, Some(3)));
    }
}
