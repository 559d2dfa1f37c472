//! The restart plan's lookups through the index: a fix is built for every chain, and each of
//! a big DaemonSet's findings searching the pods for its siblings would make a pass quadratic.
//! So would an OnDelete owner's fix, which deletes its pods, searching them per finding.

use std::sync::Arc;

use super::{HashMap, Index, map};
use crate::action::restart::{Lookup, SetPods, controller, owner};
use crate::snapshot::{Name, WorkloadObs};

impl<'a> Lookup<'a> for Index<'a> {
    fn workload(&self, ns: &str, kind: &str, name: &str) -> Option<&'a WorkloadObs> {
        Index::workload(self, ns, kind, name)
    }

    fn set_pods(&self, ns: &str, kind: &str, name: &str) -> Arc<SetPods> {
        let sets = self.set_pods.get_or_init(|| {
            // Positions in pod order, grouped by controlling set, then worked out per set.
            let mut members: HashMap<(&str, &str, &str), Vec<usize>> = map(0);
            for (i, p) in self.snap.pods.items.iter().enumerate() {
                if let Some((kind @ ("StatefulSet" | "DaemonSet"), name)) = controller(p) {
                    members
                        .entry((&p.namespace, kind, name))
                        .or_default()
                        .push(i);
                }
            }
            let pods = &self.snap.pods.items;
            (members.into_iter())
                .map(|((ns, kind, name), at)| {
                    let set = SetPods::of(kind, name, at.iter().map(|&i| &pods[i]));
                    (format!("{ns}/{kind}/{name}"), Arc::new(set))
                })
                .collect()
        });
        (sets.get(&format!("{ns}/{kind}/{name}")).cloned()).unwrap_or_default()
    }

    fn owned_pods(&self, ns: &str, kind: &str, name: &str) -> Arc<[Name]> {
        let sets = self.owned_pods.get_or_init(|| {
            let mut sets: HashMap<String, Vec<Name>> = map(0);
            for p in (self.snap.pods.items.iter()).filter(|p| p.template_of.is_none()) {
                if let Some((kind @ ("StatefulSet" | "DaemonSet"), name)) = owner(p) {
                    let key = format!("{}/{kind}/{name}", p.namespace);
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
        (sets.get(&format!("{ns}/{kind}/{name}")).cloned()).unwrap_or_else(|| Arc::from([]))
    }
}
