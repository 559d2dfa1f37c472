//! The restart plan's lookups through the index: a fix is built for every chain, and each of
//! a big DaemonSet's findings searching the pods for its siblings would make a pass quadratic.
//! So would an OnDelete owner's fix, which deletes its pods, searching them per finding.
//!
//! Which pods each set controls is found in one pass over the pods; how they stand (the
//! reasons a pod is not Ready, worded) only for the sets a fix asks about: every template edit
//! of a StatefulSet asks (audit PP4's OrderedReady check), and wording every set's pods made a
//! plain 10,000-pod pass ~10% slower.

use std::sync::{Arc, OnceLock};

use super::{HashMap, Index, map};
use crate::chain::restart_plan::{Lookup, SetPods, controller, owner};
use crate::snapshot::{Name, PodObs, WorkloadObs};

/// The pods one StatefulSet or DaemonSet controls (positions in `snap.pods`, in pod order)
/// and, once asked, how they stand.
#[derive(Default)]
pub(super) struct SetMembers {
    at: Vec<usize>,
    pods: OnceLock<Arc<SetPods>>,
}

/// `<namespace>/<kind>/<name>`: the key of the per-set maps.
fn set_key(ns: &str, kind: &str, name: &str) -> String {
    let mut key = String::with_capacity(ns.len() + kind.len() + name.len() + 2);
    for (i, part) in [ns, kind, name].into_iter().enumerate() {
        if i > 0 {
            key.push('/');
        }
        key.push_str(part);
    }
    key
}

impl<'a> Index<'a> {
    fn set_members(&self) -> &HashMap<String, SetMembers> {
        self.set_pods.get_or_init(|| {
            let mut sets: HashMap<String, SetMembers> = map(0);
            for (i, p) in self.snap.pods.items.iter().enumerate() {
                if let Some((kind @ ("StatefulSet" | "DaemonSet"), name)) = controller(p) {
                    let key = set_key(&p.namespace, kind, name);
                    sets.entry(key).or_default().at.push(i);
                }
            }
            sets
        })
    }
}

impl<'a> Lookup<'a> for Index<'a> {
    fn workload(&self, ns: &str, kind: &str, name: &str) -> Option<&'a WorkloadObs> {
        Index::workload(self, ns, kind, name)
    }

    fn set_pods(&self, ns: &str, kind: &str, name: &str) -> Arc<SetPods> {
        let Some(set) = self.set_members().get(&set_key(ns, kind, name)) else {
            return Arc::default();
        };
        let pods = &self.snap.pods.items;
        (set.pods
            .get_or_init(|| Arc::new(SetPods::of(kind, name, set.at.iter().map(|&i| &pods[i])))))
        .clone()
    }

    fn owned_pods(&self, ns: &str, kind: &str, name: &str) -> Arc<[Name]> {
        let sets = self.owned_pods.get_or_init(|| {
            let mut sets: HashMap<String, Vec<Name>> = map(0);
            for p in (self.snap.pods.items.iter()).filter(|p| p.template_of.is_none()) {
                if let Some((kind @ ("StatefulSet" | "DaemonSet"), name)) = owner(p) {
                    let key = set_key(&p.namespace, kind, name);
                    sets.entry(key).or_default().push(p.name.clone());
                }
            }
            (sets.into_iter())
                .map(|(key, mut pods)| {
                    pods.sort_unstable();
                    (key, pods.into())
                })
                .collect()
        });
        (sets.get(&set_key(ns, kind, name)).cloned()).unwrap_or_else(|| Arc::from([]))
    }
}

impl<'a> Index<'a> {
    /// The pods StatefulSet or DaemonSet `kind/name` of `ns` controls (not templates) that
    /// `pick` picks, in name order, found once per pass for `what`: every chain of the set asks
    /// alike (KVC201 names the set's pods that lack the webhook's label, which only those an
    /// OnDelete owner or a partition left on an earlier template may carry).
    pub(crate) fn set_pods_picked(
        &self,
        what: &'static str,
        (ns, kind, name): (&str, &str, &str),
        pick: impl Fn(&PodObs) -> bool,
    ) -> Vec<&'a PodObs> {
        let key = set_key(ns, kind, name);
        self.memo_pods(what, key.clone(), || {
            let pods = &self.snap.pods.items;
            let Some(set) = self.set_members().get(&key) else {
                return Vec::new();
            };
            let mut picked: Vec<usize> = (set.at.iter().copied())
                .filter(|&i| pods[i].template_of.is_none() && pick(&pods[i]))
                .collect();
            picked.sort_unstable_by(|&a, &b| pods[a].name.cmp(&pods[b].name));
            // Positions of the snapshot's pods, which a pass holds at most 200,000 of.
            picked.into_iter().map(|i| i as u32).collect()
        })
    }
}
