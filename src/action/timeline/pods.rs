//! Which pod a name stands for: a StatefulSet pod deleted and made again keeps its name but
//! is another pod (a new uid, a new creation time, a new mount that reads the vault's latest
//! version; FACTS §1, §11). Matched by name, a pod re-created after the write counted as one
//! that existed at it, so its mount at creation read as rotation reaching it (audit UUU-time);
//! a rollout restart's old replicas are told from their replacements the same way.

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::snapshot::{Name, PodObs, Snapshot};

/// What tells two pods of one name apart: the uid, else the creation time (a hand-written
/// snapshot or a manifest may hold neither, and then nothing does).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Incarnation {
    uid: Name,
    created: Option<Timestamp>,
}

impl Incarnation {
    pub(super) fn of(p: &PodObs) -> Self {
        Incarnation {
            uid: p.uid.clone(),
            created: p.created_at,
        }
    }

    /// Whether `self` and `other` may be the same pod: what both know agrees.
    pub(super) fn same(&self, other: &Incarnation) -> bool {
        let uid = self.uid.is_empty() || other.uid.is_empty() || self.uid == other.uid;
        let created = match (self.created, other.created) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        uid && created
    }
}

/// Pods by `namespace/name`, each with the incarnation seen.
#[derive(Clone, Debug, Default)]
pub(super) struct PodsByName(BTreeMap<String, Incarnation>);

impl PodsByName {
    /// The pods of `s` (templates are no pods).
    pub fn of(s: &Snapshot) -> Self {
        PodsByName(
            (s.pods.items.iter())
                .filter(|p| p.template_of.is_none())
                .map(|p| (key(p), Incarnation::of(p)))
                .collect(),
        )
    }

    /// Whether `pod` is one of these pods, not only one of their names.
    pub fn holds(&self, pod: &PodObs) -> bool {
        (self.0.get(&key(pod))).is_some_and(|i| i.same(&Incarnation::of(pod)))
    }

    /// Notes `pod` as seen; true when an earlier pod of its name was seen before it (its
    /// steps describe that pod, not this one).
    pub fn replaced(&mut self, pod: &PodObs) -> bool {
        let now = Incarnation::of(pod);
        match self.0.insert(key(pod), now.clone()) {
            Some(earlier) => !earlier.same(&now),
            None => false,
        }
    }
}

fn key(p: &PodObs) -> String {
    format!("{}/{}", p.namespace, p.name)
}
