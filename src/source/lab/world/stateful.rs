//! A StatefulSet as the StatefulSet controller keeps it (`updateStatefulSet`; Kubernetes
//! "StatefulSets"). Under `podManagementPolicy: OrderedReady` (the default) its pods are made
//! in ordinal order, each only once every one before it is Running and Ready, and nothing
//! else happens while a pod is missing, terminating or not Running and Ready: a rolling update
//! waits for it too ("Forced rollback": a pod that never becomes ready holds the set until it
//! is deleted, a reverted template included; a rollout restart replaces no pod while one is
//! stuck). `Parallel` makes every missing pod at once and waits for none.
//!
//! Its replicas are the ordinals `[start, start + replicas)` (`spec.ordinals.start`, 0 when
//! unset), each pod named `<set>-<ordinal>`; the controller works on them by index (ordinal
//! minus start), and the partition is an index: ordinals below `start + partition` keep the
//! current revision (`newVersionedStatefulSetPod`; the update loop's `target >= partition`
//! runs over `replicas[ordinal - start]`).
//!
//! The RollingUpdate replaces pods one at a time, from the largest ordinal down to
//! `rollingUpdate.partition` (0 when the field is absent), and waits for each replaced pod to
//! be Running and Ready before it deletes the next, so a new template that never becomes
//! ready stops the rollout at its first pod. `rollingUpdate.maxUnavailable` set (the
//! MaxUnavailableStatefulSet gate on: with it off the API server drops the field) lets up to
//! that many pods be unavailable at once, counting every unhealthy pod of the set.

use k8s_openapi::api::apps::v1::StatefulSet;

use super::rolling::{Replica, scaled, within_budget};
use super::*;

/// The StatefulSet's RollingUpdate bounds: (partition, maxUnavailable if set).
pub(super) fn rolling(s: &StatefulSet, replicas: usize) -> (usize, Option<usize>) {
    let r = (s.spec.as_ref()).and_then(|s| s.update_strategy.as_ref()?.rolling_update.as_ref());
    let partition = r.and_then(|r| r.partition).unwrap_or(0).max(0) as usize;
    // A percentage rounds down; the controller never goes below 1.
    let max = r
        .and_then(|r| r.max_unavailable.as_ref())
        .map(|m| scaled(m, replicas, false).max(1));
    (partition, max)
}

/// `spec.ordinals.start`: the first replica's ordinal (0 when unset).
pub(crate) fn start(s: &StatefulSet) -> usize {
    (s.spec.as_ref())
        .and_then(|s| s.ordinals.as_ref()?.start)
        .unwrap_or(0)
        .max(0) as usize
}

/// The indices (ordinal minus start) the controller deletes in this pass, given the set's
/// pods by index; `partition` is an index too.
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
    let candidates = (partition..replicas.len())
        .rev()
        .filter(|i| replaceable(&replicas[*i]));
    within_budget(candidates, max, unavailable).collect()
}

/// `podManagementPolicy` is OrderedReady (the default, also when the field is absent).
pub(super) fn ordered_ready(s: &StatefulSet) -> bool {
    s.spec
        .as_ref()
        .and_then(|s| s.pod_management_policy.as_deref())
        != Some("Parallel")
}

/// The ordinals the controller makes in this pass, given each ordinal's pod (None: none of
/// that name), and whether it goes on to its update. OrderedReady makes the first missing pod
/// only, and stops at a pod terminating or not Running and Ready (`processReplica` in
/// monotonic mode); Parallel makes every missing one and goes on.
pub(super) fn to_create(pods: &[Option<Stage>], ordered: bool) -> (Vec<usize>, bool) {
    let mut create = Vec::new();
    for (i, stage) in pods.iter().enumerate() {
        match stage {
            None => {
                create.push(i);
                if ordered {
                    return (create, false);
                }
            }
            Some(Stage::Running) => {}
            Some(_) if ordered => return (create, false),
            Some(_) => {}
        }
    }
    (create, true)
}

impl World {
    /// One pass of the StatefulSet controller over `set` (see the module's note): `t` is its
    /// template labelled with `revision`, `owned` its pods.
    pub(super) fn reconcile_stateful(
        &mut self,
        wk: &WorkloadKey,
        wl: &Workload,
        set: &StatefulSet,
        owned: &[Key],
        t: &PodTemplateSpec,
        revision: &str,
    ) {
        let (on_delete, partition) = super::controllers::replaced_by_update(wl);
        let owner = wl.owner_ref("apps/v1");
        // A pod below the partition deleted comes back from the current revision
        // (`newVersionedStatefulSetPod`), the template before the update.
        let current = self
            .stateful_revisions
            .entry(wl.uid())
            .or_insert_with(|| (revision.to_string(), t.clone()))
            .1
            .clone();
        let stages: HashMap<&str, Stage> = owned
            .iter()
            .filter_map(|k| self.pods.get(k))
            .map(|p| (p.name(), p.stage))
            .collect();
        // Same name: a pod terminating is waited for, not made again. By index: the pod
        // of index i is ordinal start + i.
        let first = start(set);
        let pods: Vec<Option<Stage>> = (0..wl.replicas())
            .map(|i| {
                stages
                    .get(format!("{}-{}", wk.2, first + i).as_str())
                    .copied()
            })
            .collect();
        let (create, proceed) = to_create(&pods, ordered_ready(set));
        for i in create {
            let name = format!("{}-{}", wk.2, first + i);
            // The partition is compared with the index, not the ordinal.
            let t = if (i as i32) < partition { &current } else { t };
            let t = with_claims(set, t, &name);
            self.create_from_template(&wk.1, &name, &t, owner.clone());
        }
        if !on_delete && proceed {
            self.roll_stateful(wk, set, revision);
        }
        if !on_delete {
            self.complete_rolling_update(wk, wl, first, revision, t);
        }
    }

    /// One pass of StatefulSet `set`'s rolling update towards `revision` (see the module's
    /// note): deletes the pods it replaces now; each comes back from the update revision.
    fn roll_stateful(&mut self, wk: &WorkloadKey, s: &StatefulSet, revision: &str) {
        let n = s.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1).max(0) as usize;
        let (partition, max_unavailable) = rolling(s, n);
        let first = start(s);
        let key = |i: usize| (wk.1.clone(), format!("{}-{}", wk.2, first + i));
        let replicas: Vec<Replica> = (0..n)
            .map(|i| match self.pods.get(&key(i)) {
                None => Replica::default(),
                Some(p) => Replica::of(p, revision),
            })
            .collect();
        for i in to_delete(&replicas, partition, max_unavailable) {
            self.terminate(&key(i));
        }
    }

    /// The StatefulSet controller's `completeRollingUpdate`: once every replica runs the
    /// update revision, it becomes the current one. Under a partition above 0 it never does
    /// (the pods below it keep the current revision). `first`: its ordinals' start.
    fn complete_rolling_update(
        &mut self,
        wk: &WorkloadKey,
        wl: &Workload,
        first: usize,
        revision: &str,
        t: &PodTemplateSpec,
    ) {
        let done = (0..wl.replicas()).all(|i| {
            let key = (wk.1.clone(), format!("{}-{}", wk.2, first + i));
            self.pods.get(&key).is_some_and(|p| {
                p.stage == Stage::Running
                    && p.labels.get("controller-revision-hash").map(String::as_str)
                        == Some(revision)
            })
        });
        if done {
            self.stateful_revisions
                .insert(wl.uid(), (revision.to_string(), t.clone()));
        }
    }
}

/// Pod `pod`'s template with the set's claim templates as its volumes, as the controller's
/// `updateStorage` makes them: one PersistentVolumeClaim `<claim>-<pod>` per claim template,
/// in place of a template volume of the same name (a CSI volume so named is never mounted:
/// KVC710).
fn with_claims<'t>(
    set: &StatefulSet,
    t: &'t PodTemplateSpec,
    pod: &str,
) -> std::borrow::Cow<'t, PodTemplateSpec> {
    use k8s_openapi::api::core::v1::{PersistentVolumeClaimVolumeSource, Volume};
    let claims: Vec<&str> = (set.spec.iter())
        .flat_map(|s| s.volume_claim_templates.iter().flatten())
        .filter_map(|c| c.metadata.name.as_deref())
        .collect();
    if claims.is_empty() {
        return std::borrow::Cow::Borrowed(t);
    }
    let mut t = t.clone();
    let volumes =
        (t.spec.get_or_insert_with(Default::default).volumes).get_or_insert_with(Default::default);
    volumes.retain(|v| !claims.contains(&v.name.as_str()));
    for (i, claim) in claims.iter().enumerate() {
        let source = PersistentVolumeClaimVolumeSource {
            claim_name: format!("{claim}-{pod}"),
            read_only: None,
        };
        volumes.insert(
            i,
            Volume {
                name: claim.to_string(),
                persistent_volume_claim: Some(source),
                ..Default::default()
            },
        );
    }
    std::borrow::Cow::Owned(t)
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

    /// An old pod that is not ready is replaced like any other (under Parallel: OrderedReady
    /// reaches the update only with every pod ready, `to_create`); one below the partition
    /// never.
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

    /// OrderedReady: the first missing pod only, and nothing past a pod not Running and Ready
    /// (the update included); Parallel: every missing pod, and the update goes on.
    #[test]
    fn ordered_ready_makes_one_pod_at_a_time_and_waits_for_each() {
        use Stage::*;
        assert_eq!(to_create(&[None, None, None], true), (vec![0], false));
        assert_eq!(
            to_create(&[Some(Mounting), None, None], true),
            (vec![], false)
        );
        assert_eq!(
            to_create(&[Some(Running), None, None], true),
            (vec![1], false)
        );
        let stuck = [Some(Running), Some(Running), Some(Configuring)];
        assert_eq!(to_create(&stuck, true), (vec![], false));
        let leaving = [Some(Terminating), Some(Running)];
        assert_eq!(to_create(&leaving, true), (vec![], false));
        let all = [Some(Running), Some(Running), Some(Running)];
        assert_eq!(to_create(&all, true), (vec![], true));
        assert_eq!(to_create(&[None, None, None], false), (vec![0, 1, 2], true));
        assert_eq!(to_create(&stuck, false), (vec![], true));
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
