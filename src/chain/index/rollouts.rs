//! Each Deployment's newest ReplicaSet and its pods, for the rollout that replaces an old
//! pod (`rules::consumers::rollout`). After a rotation Reloader rolls every watching
//! Deployment out, and each old pod holding the previous value has a finding that asks for
//! its rollout: searching the snapshot's workloads and pods for each of them made a pass
//! quadratic in the very case the rotation test produces. Worked out once per pass, on first
//! use.

use super::{HashMap, Index, map};
use crate::snapshot::{OwnerRef, PodObs, WorkloadObs};

const REVISION: &str = "deployment.kubernetes.io/revision";

/// The Deployment controller's revision of a ReplicaSet.
pub(crate) fn revision(rs: &WorkloadObs) -> Option<u64> {
    rs.annotations.get(REVISION)?.parse().ok()
}

/// The name of the owner of kind `kind`: the controlling one, else the first listed.
pub(crate) fn owned_by<'p>(owners: &'p [OwnerRef], kind: &str) -> Option<&'p str> {
    owners
        .iter()
        .find(|o| o.kind == kind && o.controller)
        .or_else(|| owners.iter().find(|o| o.kind == kind))
        .map(|o| o.name.as_str())
}

/// A Deployment's newest ReplicaSet (positions in the snapshot's lists).
pub(super) struct Newest {
    replica_set: usize,
    revision: u64,
    /// Its pods neither terminating nor templates, in pod order.
    pods: Vec<u32>,
}

impl<'a> Index<'a> {
    /// The newest ReplicaSet of Deployment `deployment` of `ns` (the highest revision; of
    /// equal ones the last listed), its revision and its pods that are neither terminating
    /// nor templates, in pod order. None when no ReplicaSet of it shows a revision.
    pub fn newest_replica_set(
        &self,
        ns: &str,
        deployment: &str,
    ) -> Option<(&'a WorkloadObs, u64, impl Iterator<Item = &'a PodObs>)> {
        let newest = self.rollouts.get_or_init(|| self.newest_per_deployment());
        let n = newest.get(ns)?.get(deployment)?;
        let rs = self.snap.workloads.items.get(n.replica_set)?;
        let pods = &self.snap.pods.items;
        let at = n.pods.iter().filter_map(move |&i| pods.get(i as usize));
        Some((rs, n.revision, at))
    }

    fn newest_per_deployment(&self) -> HashMap<String, HashMap<String, Newest>> {
        let workloads = &self.snap.workloads.items;
        // Keyed by borrowed (namespace, Deployment) while built: no name copied per pod.
        let mut newest: HashMap<(&str, &str), Newest> = map(0);
        for (i, w) in workloads.iter().enumerate() {
            if w.kind != "ReplicaSet" {
                continue;
            }
            let (Some(deployment), Some(revision)) =
                (owned_by(&w.owners, "Deployment"), revision(w))
            else {
                continue;
            };
            let n = newest
                .entry((w.namespace.as_str(), deployment))
                .or_insert(Newest {
                    replica_set: i,
                    revision,
                    pods: Vec::new(),
                });
            // `max_by_key`'s choice: the last of equal revisions.
            if revision >= n.revision {
                n.replica_set = i;
                n.revision = revision;
            }
        }
        // The newest ReplicaSets by (namespace, name) → their Deployment.
        let deployment_of: HashMap<(&str, &str), &str> = (newest.iter())
            .filter_map(|(&(ns, d), n)| {
                Some(((ns, workloads.get(n.replica_set)?.name.as_str()), d))
            })
            .collect();
        if !deployment_of.is_empty() {
            for (i, p) in self.snap.pods.items.iter().enumerate() {
                if p.deleting || p.template_of.is_some() {
                    continue;
                }
                let ns = p.namespace.as_str();
                let Some(&d) =
                    owned_by(&p.owners, "ReplicaSet").and_then(|rs| deployment_of.get(&(ns, rs)))
                else {
                    continue;
                };
                if let Some(n) = newest.get_mut(&(ns, d)) {
                    n.pods.push(i as u32);
                }
            }
        }
        let mut out: HashMap<String, HashMap<String, Newest>> = map(0);
        for ((ns, d), n) in newest {
            out.entry(ns.to_string())
                .or_default()
                .insert(d.to_string(), n);
        }
        out
    }
}
