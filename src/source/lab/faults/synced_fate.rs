//! What deleting the target does to the synced Secrets of its SecretProviderClass, said on the
//! status line before it happens: a synced Secret's owners are every mounting pod's owners (a
//! ReplicaSet, a StatefulSet, a DaemonSet, a Job; a bare pod's SecretProviderClassPodStatus),
//! and it is garbage-collected only once all of them are gone (FACTS §2 "ownerReferences",
//! §11 "Owners"). Deleting one of several mounting workloads leaves it in place.

use std::collections::HashSet;

use crate::source::lab::world::{WorkloadKey, World};

/// `— synced Secret <name> is garbage-collected …` or `— synced Secret <name> stays: …`, one
/// clause per synced Secret of `spc` in the target's namespace; empty when the SPC syncs none.
pub(super) fn note(world: &World, wk: &WorkloadKey, spc: &str) -> String {
    let ns = &wk.1;
    let Some(class) = world.spcs.get(&(ns.clone(), spc.to_string())) else {
        return String::new();
    };
    let doomed = owners_of(world, wk);
    let clauses: Vec<String> = (class.spec.secret_objects.iter().flatten())
        .filter_map(|o| o.secret_name.as_deref())
        .filter_map(|name| {
            let secret = world.secrets.get(&(ns.clone(), name.to_string()))?;
            let left: Vec<String> = (secret.metadata.owner_references.iter().flatten())
                .filter(|o| !doomed.contains(o.uid.as_str()))
                .map(|o| format!("{} {}", o.kind, o.name))
                .collect();
            Some(match left.as_slice() {
                [] => format!(
                    "synced Secret {name} is garbage-collected with it (the target's pods were its only mounters)"
                ),
                _ => format!(
                    "synced Secret {name} stays: its other owners ({}) are left, and it goes only with the last",
                    left.join(", ")
                ),
            })
        })
        .collect();
    clauses.iter().map(|c| format!(" — {c}")).collect()
}

/// The owner uids the target's deletion removes: the workload and its ReplicaSets, or a bare
/// pod's SecretProviderClassPodStatuses (owned by the pod, they go with it).
fn owners_of<'w>(world: &'w World, wk: &WorkloadKey) -> HashSet<&'w str> {
    let (kind, ns, name) = wk;
    if kind == "Pod" {
        return (world.spcps.values())
            .filter(|s| &s.namespace == ns && &s.pod_name == name)
            .map(|s| s.uid.as_str())
            .collect();
    }
    let Some(w) = world.workloads.get(wk) else {
        return HashSet::new();
    };
    let Some(uid) = w.meta().uid.as_deref() else {
        return HashSet::new();
    };
    let mut uids: HashSet<&str> = (world.replica_sets.values())
        .filter(|r| (r.metadata.owner_references.iter().flatten()).any(|o| o.uid == uid))
        .filter_map(|r| r.metadata.uid.as_deref())
        .collect();
    uids.insert(uid);
    uids
}
