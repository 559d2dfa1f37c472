//! A DaemonSet as the DaemonSet controller keeps it (`manage`, then `rollingUpdate`;
//! Kubernetes "Perform a Rolling Update on a DaemonSet"): one pod on each node its template
//! admits, and on a template change (a `kubectl rollout restart` included) under
//! `RollingUpdate`, the default, its pods replaced node by node. With `maxSurge` 0 (the
//! default) the old pod goes first and the new one is made once it is gone, with at most
//! `maxUnavailable` nodes (default 1) without an available pod at once: a node whose pod is
//! not available (an old one stuck, a new one not running yet, none at all) counts against it,
//! an old pod that is not available is replaced whatever the count, so a new template that
//! never becomes available stops the update at its first node. With `maxSurge` above 0 the new
//! pod is made beside the old one, on at most `maxSurge` nodes at once, and the old one goes
//! once the new one is available. `OnDelete` replaces a pod only when it is deleted. Both
//! bounds are counts or percentages of the nodes the DaemonSet runs on, rounded up.

use k8s_openapi::api::apps::v1::DaemonSet;

use super::rolling::{Replica, scaled, within_budget};
use super::*;

/// The DaemonSet's RollingUpdate bounds over `desired` nodes: (maxUnavailable, maxSurge).
pub(super) fn rolling(d: &DaemonSet, desired: usize) -> (usize, usize) {
    let r = (d.spec.as_ref()).and_then(|s| s.update_strategy.as_ref()?.rolling_update.as_ref());
    // The API server defaults maxUnavailable to 1 and maxSurge to 0.
    let unavailable = r.and_then(|r| r.max_unavailable.as_ref());
    let surge = r.and_then(|r| r.max_surge.as_ref());
    let max_unavailable = unavailable.map_or(1, |m| scaled(m, desired, true));
    let max_surge = surge.map_or(0, |m| scaled(m, desired, true));
    // Both 0 would never move: the controller allows one unavailable node.
    if desired > 0 && max_unavailable == 0 && max_surge == 0 {
        return (1, 0);
    }
    (max_unavailable, max_surge)
}

/// What one pass of the rolling update does, by index into the nodes it was given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Pass {
    /// Nodes whose old pod is deleted.
    pub delete: Vec<usize>,
    /// Nodes given a new pod beside their old one (maxSurge).
    pub surge: Vec<usize>,
}

/// A node's pods not terminating (the controller's `findUpdatedPodsOnNode` skips those), as
/// (new, old); None when it has two of a kind, which the controller leaves to its manage loop.
fn split(pods: &[Replica]) -> Option<(Option<Replica>, Option<Replica>)> {
    let live = pods.iter().filter(|r| r.exists && !r.terminating);
    let (new, old): (Vec<&Replica>, Vec<&Replica>) = live.partition(|r| r.updated);
    (new.len() <= 1 && old.len() <= 1)
        .then(|| (new.first().copied().copied(), old.first().copied().copied()))
}

/// One pass of the rolling update over the nodes the DaemonSet runs on, in order, each with
/// its pods (`rollingUpdate` in pkg/controller/daemon/update.go).
pub(super) fn pass(nodes: &[Vec<Replica>], max_unavailable: usize, max_surge: usize) -> Pass {
    if max_surge == 0 {
        let mut unavailable = 0;
        let mut replace = Vec::new();
        let mut candidates = Vec::new();
        for (i, pods) in nodes.iter().enumerate() {
            match split(pods) {
                // No pod yet, one of each, two of a kind: the manage loop's, unavailable.
                None | Some((None, None)) | Some((Some(_), Some(_))) => unavailable += 1,
                Some((Some(new), None)) => unavailable += usize::from(!new.healthy),
                Some((None, Some(old))) if !old.healthy => {
                    replace.push(i);
                    unavailable += 1;
                }
                Some((None, Some(_))) => candidates.push(i),
            }
        }
        replace.extend(within_budget(
            candidates.into_iter(),
            max_unavailable,
            unavailable,
        ));
        return Pass {
            delete: replace,
            surge: Vec::new(),
        };
    }
    let mut surged = 0;
    let (mut delete, mut allowed, mut candidates) = (Vec::new(), Vec::new(), Vec::new());
    for (i, pods) in nodes.iter().enumerate() {
        match split(pods) {
            None => surged += 1,
            Some((_, None)) => {}
            Some((None, Some(old))) if !old.healthy => allowed.push(i),
            Some((None, Some(_))) => candidates.push(i),
            Some((Some(new), Some(_))) if !new.healthy => surged += 1,
            Some((Some(_), Some(_))) => delete.push(i),
        }
    }
    allowed.extend(within_budget(candidates.into_iter(), max_surge, surged));
    Pass {
        delete,
        surge: allowed,
    }
}

impl World {
    /// One pass of the DaemonSet controller over `ds` (see the module's note): `t` is its
    /// template labelled with `revision`, `owned` its pods.
    pub(super) fn reconcile_daemon(
        &mut self,
        wk: &WorkloadKey,
        wl: &Workload,
        ds: &DaemonSet,
        owned: &[Key],
        t: &PodTemplateSpec,
        revision: &str,
    ) {
        let Some(spec) = t.spec.as_ref() else { return };
        let owner = wl.owner_ref("apps/v1");
        // One pod per node the template admits, bound to it (the controller's own placement):
        // no admitting node means no pod at all (desiredNumberScheduled 0), never a Pending
        // pod with FailedScheduling.
        let nodes: Vec<String> = (self.nodes.iter())
            .filter(|n| crate::source::lab::nodes::admits(spec, n))
            .map(|n| n.name.clone())
            .collect();
        // Each node's pods, terminating ones included: they still hold the node.
        let mut on_node: HashMap<&str, Vec<(Key, Replica)>> = HashMap::new();
        for (k, p) in owned.iter().filter_map(|k| Some((k, self.pods.get(k)?))) {
            if let Some(node) = p.spec.as_ref().and_then(|s| s.node_name.as_deref()) {
                let pods = on_node.entry(node).or_default();
                pods.push((k.clone(), Replica::of(p, revision)));
            }
        }
        let pods: Vec<Vec<(Key, Replica)>> = nodes
            .iter()
            .map(|n| on_node.remove(n.as_str()).unwrap_or_default())
            .collect();
        let on_delete = super::controllers::replaced_by_update(wl).0;
        let (max_unavailable, max_surge) = rolling(ds, nodes.len());
        // The controller makes a pod only on a node with none (`podsShouldBeOnNode`): without
        // surge a terminating pod holds its node until it is gone, so the old pod goes first
        // and the new one follows (audit EEE10); with surge a node whose pods all terminate
        // gets its new one at once.
        let surge = !on_delete && max_surge > 0;
        let serves = |pods: &[(Key, Replica)]| pods.iter().any(|(_, r)| !r.terminating);
        let needs_pod = |pods: &[(Key, Replica)]| {
            if surge {
                !serves(pods)
            } else {
                pods.is_empty()
            }
        };
        let mut create: Vec<usize> = (0..nodes.len()).filter(|i| needs_pod(&pods[*i])).collect();
        if !on_delete {
            let replicas: Vec<Vec<Replica>> = (pods.iter())
                .map(|p| p.iter().map(|(_, r)| *r).collect())
                .collect();
            let pass = pass(&replicas, max_unavailable, max_surge);
            for i in pass.delete {
                let old = pods[i].iter().filter(|(_, r)| !r.updated && !r.terminating);
                for (k, _) in old {
                    self.terminate(k);
                }
            }
            create.extend(pass.surge);
        }
        for i in create {
            let mut bound = t.clone();
            if let Some(s) = bound.spec.as_mut() {
                s.node_name = Some(nodes[i].clone());
            }
            let name = format!("{}-{}", wk.2, self.suffix(5));
            self.create_from_template(&wk.1, &name, &bound, owner.clone());
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
    const OLD_DOWN: Replica = Replica {
        healthy: false,
        ..OLD
    };
    const NEW: Replica = Replica {
        updated: true,
        ..OLD
    };
    const NEW_DOWN: Replica = Replica {
        healthy: false,
        ..NEW
    };
    const LEAVING: Replica = Replica {
        terminating: true,
        healthy: false,
        ..OLD
    };

    fn deleted(nodes: &[&[Replica]], max_unavailable: usize) -> Vec<usize> {
        let nodes: Vec<Vec<Replica>> = nodes.iter().map(|n| n.to_vec()).collect();
        let p = pass(&nodes, max_unavailable, 0);
        assert!(p.surge.is_empty());
        p.delete
    }

    /// maxUnavailable 1: one node at a time, the next only once its new pod is available.
    #[test]
    fn node_by_node_each_waiting_for_the_new_pod() {
        assert_eq!(deleted(&[&[OLD], &[OLD], &[OLD]], 1), [0]);
        assert_eq!(
            deleted(&[&[LEAVING], &[OLD], &[OLD]], 1),
            Vec::<usize>::new()
        );
        assert_eq!(
            deleted(&[&[NEW_DOWN], &[OLD], &[OLD]], 1),
            Vec::<usize>::new()
        );
        assert_eq!(deleted(&[&[NEW], &[OLD], &[OLD]], 1), [1]);
        assert_eq!(deleted(&[&[NEW], &[NEW], &[NEW]], 1), Vec::<usize>::new());
        assert_eq!(deleted(&[&[OLD], &[OLD], &[OLD]], 2), [0, 1]);
    }

    /// An old pod that is not available is replaced whatever the budget (it serves nothing).
    #[test]
    fn an_unavailable_old_pod_is_replaced_at_once() {
        assert_eq!(deleted(&[&[OLD], &[OLD_DOWN], &[OLD]], 1), [1]);
        assert_eq!(deleted(&[&[NEW_DOWN], &[OLD_DOWN], &[OLD]], 1), [1]);
    }

    /// maxSurge: the new pod first, beside the old, which goes once the new one is available.
    #[test]
    fn surge_makes_the_new_pod_before_deleting_the_old() {
        let p = |nodes: &[&[Replica]], surge| {
            pass(
                &nodes.iter().map(|n| n.to_vec()).collect::<Vec<_>>(),
                0,
                surge,
            )
        };
        let first = p(&[&[OLD], &[OLD]], 1);
        assert_eq!((first.delete, first.surge), (vec![], vec![0]));
        let waiting = p(&[&[OLD, NEW_DOWN], &[OLD]], 1);
        assert_eq!((waiting.delete, waiting.surge), (vec![], vec![]));
        let ready = p(&[&[OLD, NEW], &[OLD]], 1);
        assert_eq!((ready.delete, ready.surge), (vec![0], vec![1]));
    }

    #[test]
    fn the_bounds_default_to_one_unavailable_and_round_up() {
        let ds = |strategy: serde_json::Value| -> DaemonSet {
            serde_json::from_value(serde_json::json!({
                "spec": {"selector": {}, "template": {}, "updateStrategy": strategy}
            }))
            .unwrap()
        };
        assert_eq!(rolling(&ds(serde_json::json!({})), 4), (1, 0));
        let pct = ds(serde_json::json!({"rollingUpdate": {"maxUnavailable": "30%"}}));
        assert_eq!(rolling(&pct, 4), (2, 0));
        let surge = ds(serde_json::json!({"rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}));
        assert_eq!(rolling(&surge, 4), (0, 1));
    }
}
