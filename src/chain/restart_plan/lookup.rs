//! What a restart plan looks up besides the pod: its owner's object, and how the other pods
//! of a StatefulSet or DaemonSet stand (a rollout waits on, or stops at, a pod that is not
//! Running and Ready). One restart (the action, the timeline) searches the snapshot
//! ([`Scan`]); a fix, built for every chain of a diagnosis, asks the diagnosis's index, which
//! works the pods of every set out once (`chain::index`): searching the pods for each of a
//! 5,000-node DaemonSet's findings would be quadratic.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;

use super::ordered;
use crate::snapshot::{Name, PodObs, Snapshot, WorkloadObs};

pub trait Lookup<'s> {
    /// Workload `kind/name` of namespace `ns`, when observed.
    fn workload(&self, ns: &str, kind: &str, name: &str) -> Option<&'s WorkloadObs>;
    /// How the pods StatefulSet or DaemonSet `kind/name` of `ns` controls stand (empty when
    /// none is observed).
    fn set_pods(&self, ns: &str, kind: &str, name: &str) -> Arc<SetPods>;
    /// The names of the pods of `ns` (not templates) that StatefulSet or DaemonSet
    /// `kind/name` owns ([`owner`]), in name order: what an OnDelete owner's fix deletes.
    fn owned_pods(&self, ns: &str, kind: &str, name: &str) -> Arc<[Name]>;
}

/// A pod of a set that is surely not Running and Ready.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Unready {
    /// A StatefulSet pod's ordinal (`<set>-<ordinal>`); None for a DaemonSet's.
    pub ordinal: Option<i32>,
    pub name: Name,
    pub node: Option<Name>,
    pub terminating: bool,
    /// Why, as [`ordered::unready`] says it.
    pub why: String,
}

/// The pods of one StatefulSet or DaemonSet that may hold its rollout, in ordinal (then name)
/// order.
#[derive(Debug, Default, PartialEq)]
pub struct SetPods {
    /// Surely not Running and Ready.
    pub unready: Vec<Unready>,
    /// Running, not terminating, but no Ready condition observed: (ordinal, name). Unknown is
    /// not "not ready": the plan says the rollout may wait on them, never that it does.
    pub unknown: Vec<(Option<i32>, Name)>,
}

impl SetPods {
    /// Works out the pods of set `kind/set` among `pods` (the pods it controls; a
    /// StatefulSet's pod without an ordinal is not one the controller orders).
    pub fn of<'p>(kind: &str, set: &str, pods: impl Iterator<Item = &'p PodObs>) -> SetPods {
        let mut out = SetPods::default();
        for p in pods.filter(|p| p.template_of.is_none()) {
            let ordinal = match kind {
                "StatefulSet" => match ordered::ordinal(set, &p.name) {
                    Some(i) => Some(i),
                    None => continue,
                },
                _ => None,
            };
            match ordered::unready(p) {
                Some(why) => out.unready.push(Unready {
                    ordinal,
                    name: p.name.clone(),
                    node: p.node.clone(),
                    terminating: p.deleting,
                    why,
                }),
                None if p.ready.is_none() && p.phase == "Running" => {
                    out.unknown.push((ordinal, p.name.clone()));
                }
                None => {}
            }
        }
        out.unready.sort_unstable();
        out.unknown.sort_unstable();
        out
    }
}

/// The controller of `p` (its owner reference marked controller), as (kind, name).
pub fn controller(p: &PodObs) -> Option<(&str, &str)> {
    let o = p.owners.iter().find(|o| o.controller)?;
    Some((&o.kind, &o.name))
}

/// The owner of `p` whose pods a fix deletes: its controller, else its first owner reference,
/// as (kind, name).
pub fn owner(p: &PodObs) -> Option<(&str, &str)> {
    let o = p
        .owners
        .iter()
        .find(|o| o.controller)
        .or(p.owners.first())?;
    Some((&o.kind, &o.name))
}

/// The snapshot searched: for one plan, or the plans of a few pods. Each set's pods are
/// searched once per `Scan` (a timeline asking for every pod of a namespace keeps one).
pub struct Scan<'s> {
    snap: &'s Snapshot,
    sets: RefCell<BTreeMap<(String, String, String), Arc<SetPods>>>,
}

impl<'s> Scan<'s> {
    pub fn new(snap: &'s Snapshot) -> Self {
        Scan {
            snap,
            sets: RefCell::default(),
        }
    }
}

impl<'s> Lookup<'s> for Scan<'s> {
    fn workload(&self, ns: &str, kind: &str, name: &str) -> Option<&'s WorkloadObs> {
        self.snap.workload(ns, kind, name)
    }
    fn set_pods(&self, ns: &str, kind: &str, name: &str) -> Arc<SetPods> {
        let key = (ns.to_string(), kind.to_string(), name.to_string());
        let mut sets = self.sets.borrow_mut();
        let set = sets.entry(key).or_insert_with(|| {
            let pods = (self.snap.pods.items.iter())
                .filter(|p| p.namespace == ns && controller(p) == Some((kind, name)));
            Arc::new(SetPods::of(kind, name, pods))
        });
        set.clone()
    }
    fn owned_pods(&self, ns: &str, kind: &str, name: &str) -> Arc<[Name]> {
        let mut pods: Vec<Name> = (self.snap.pods.items.iter())
            .filter(|p| p.namespace == ns && p.template_of.is_none())
            .filter(|p| owner(p) == Some((kind, name)))
            .map(|p| p.name.clone())
            .collect();
        pods.sort_unstable();
        pods.into()
    }
}
