//! The pods a rotation's per-pod hops count: the ones there now. A rollout the change set off
//! (Reloader's, FACTS §10) replaces the pods rotation followed with new ones, which mount the
//! latest version at their creation (FACTS §1, §11); an old pod terminating or gone holds
//! nothing any more, so counted beside its replacement it doubled the pods (audit VVV-time2:
//! "mounted file (4 of 4)" for a Deployment of two). It is said as replaced instead.

use std::collections::BTreeMap;

use crate::snapshot::Snapshot;

use super::super::pods::PodsByName;
use super::super::steps::{Step, Steps};

/// What is known of one pod (`pod:<ns>/<name>`).
#[derive(Clone, Copy, Debug, Default)]
struct Mark {
    /// It existed before the action and mounts the followed object.
    followed: bool,
    /// It is there now and not being deleted.
    staying: bool,
    /// Of those, one that existed before the action (not one made again under its name).
    staying_old: bool,
}

/// Pods rotation followed, and which pods are there now: one map, as the watch is held in
/// the app's state beside a restart watch (its size counts).
#[derive(Clone, Debug, Default)]
pub(super) struct Replaced(BTreeMap<String, Mark>);

impl Replaced {
    /// Notes which pods of `s` are there to stay, and which of them existed before.
    pub fn observe(&mut self, s: &Snapshot, before: &PodsByName) {
        self.0.retain(|_, m| m.followed);
        for m in self.0.values_mut() {
            (m.staying, m.staying_old) = (false, false);
        }
        for p in (s.pods.items.iter()).filter(|p| p.template_of.is_none() && !p.deleting) {
            let key = format!("pod:{}/{}", p.namespace, p.name);
            let m = self.0.entry(key).or_default();
            m.staying = true;
            m.staying_old = before.holds(p);
        }
    }

    /// `pod` (`pod:<ns>/<name>`), there before the action, mounts the followed object.
    pub fn follow(&mut self, pod: &str) {
        self.0.entry(pod.to_string()).or_default().followed = true;
    }

    /// `steps` without those of pods terminating: what the hops count.
    pub fn current(&self, steps: &Steps) -> Steps {
        let mut current = steps.clone();
        current.retain(|k| match k.strip_prefix("pod:") {
            Some(_) => (self.0.get(k.split('|').next().unwrap_or(k))).is_some_and(|m| m.staying),
            None => true,
        });
        current
    }

    /// How many followed pods are terminating or gone.
    pub fn count(&self) -> usize {
        (self.0.values())
            .filter(|m| m.followed && !m.staying_old)
            .count()
    }

    /// Says on `line` how many of the pods rotation followed were replaced.
    pub fn say(&self, line: &mut Step) {
        let n = self.count();
        if n == 0 {
            return;
        }
        let what = match n {
            1 => "1 old pod replaced".to_string(),
            n => format!("{n} old pods replaced"),
        };
        line.label = match line.label.strip_suffix(')') {
            Some(open) => format!("{open}, {what})"),
            None => format!("{} ({what})", line.label),
        };
    }
}
