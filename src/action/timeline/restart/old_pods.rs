//! The pods a rollout restart replaces: every replica its owner ran before it, not only the
//! pod `R` was pressed on. A rollout is done when every replica is new (FACTS §4: each new
//! pod reads its env at start, an old pod keeps what it read), so "old pod gone" on the one
//! pod said nothing of the others still running the old env (audit VVV-time2).

use super::super::pods::Incarnation;
use crate::snapshot::{Name, PodObs, Snapshot};

/// One replica there before the restart.
#[derive(Clone, Debug)]
struct Old {
    namespace: Name,
    name: Name,
    incarnation: Incarnation,
}

impl Old {
    /// Whether `p` is this pod, not only one of its name (a StatefulSet's replacement keeps
    /// the name).
    fn is(&self, p: &PodObs) -> bool {
        p.namespace == self.namespace
            && p.name == self.name
            && self.incarnation.same(&Incarnation::of(p))
    }
}

/// The owner's replicas before the restart.
#[derive(Clone, Debug, Default)]
pub(super) struct OldPods(Vec<Old>);

impl OldPods {
    /// The pods of `before` that `owned` says the restarted owner runs (none deleting).
    pub fn of(before: &Snapshot, owned: impl Fn(&PodObs) -> bool) -> Self {
        OldPods(
            (before.pods.items.iter())
                .filter(|p| p.template_of.is_none() && !p.deleting && owned(p))
                .map(|p| Old {
                    namespace: p.namespace.clone(),
                    name: p.name.clone(),
                    incarnation: Incarnation::of(p),
                })
                .collect(),
        )
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Of the old replicas, how many are gone from `s` and how many are terminating.
    pub fn gone(&self, s: &Snapshot) -> (usize, usize) {
        let (mut gone, mut terminating) = (0, 0);
        for old in &self.0 {
            match s.pods.items.iter().find(|p| old.is(p)) {
                None => gone += 1,
                Some(p) if p.deleting => terminating += 1,
                Some(_) => {}
            }
        }
        (gone, terminating)
    }
}
