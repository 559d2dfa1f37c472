//! FailedCreate events of a workload, and the pods its controller created after one.
//!
//! A FailedCreate is the controller's report that the API server refused a pod it tried to
//! create (admission, a missing ServiceAccount). The controller retries; once a pod of the same
//! controller exists that was created after the event was last seen, that refusal was retried
//! and admitted since: history, not the reason the workload runs no pod (FACTS §11 "Evidence
//! ages"; README "Events are history"; audit RR1).

use std::sync::OnceLock;

use jiff::Timestamp;

use super::{HashMap, Index, map};
use crate::snapshot::{EventObs, PodObs, WorkloadObs};

/// A pod's creation time and position in `snap.pods`: of two, the greater is the one
/// `Iterator::max_by_key` over the pods by creation time would pick (a tie goes to the later).
type Newest = (Timestamp, u32);

/// Each controller's newest created pod (not a template), keyed `<namespace>/<kind>/<x>`
/// (audit RR1's check, once per pass instead of a scan of every pod per FailedCreate): an
/// event names its controller by uid when it has one, else by name ([`same_object`]).
pub(super) struct NewestByOwner {
    /// By an owner reference's uid (those that carry one).
    by_uid: HashMap<String, Newest>,
    /// By name, over every owner reference (an event without a uid matches any).
    by_name: HashMap<String, Newest>,
    /// By name, over owner references without a uid (an event with one matches those too).
    by_name_no_uid: HashMap<String, Newest>,
}

pub(super) type NewestCreated = OnceLock<NewestByOwner>;

impl NewestByOwner {
    /// The newest pod of controller `kind` named by `uid` and `name` in `ns`, as
    /// [`same_object`] matches a pod's owner reference to it.
    fn of(&self, ns: &str, kind: &str, uid: &str, name: &str) -> Option<Newest> {
        let at = |m: &HashMap<String, Newest>, x: &str| m.get(&format!("{ns}/{kind}/{x}")).copied();
        if uid.is_empty() {
            at(&self.by_name, name)
        } else {
            at(&self.by_uid, uid).max(at(&self.by_name_no_uid, name))
        }
    }
}

fn keep_newest(m: &mut HashMap<String, Newest>, key: String, n: Newest) {
    let slot = m.entry(key).or_insert(n);
    *slot = (*slot).max(n);
}

/// Whether `uid` and `name` (as an event or an owner reference names an object) name the
/// object `o` names: by uid when both sides carry one (a ReplicaSet deleted and made again
/// keeps its name, not its uid), by name only when one side has none (a hand-made snapshot,
/// an owner reference read without it).
fn same_object(uid: &str, name: &str, o_uid: &str, o_name: &str) -> bool {
    if !uid.is_empty() && !o_uid.is_empty() {
        uid == o_uid
    } else {
        name == o_name
    }
}

impl<'a> Index<'a> {
    /// FailedCreate events of workload `kind/name`: on itself, or on a ReplicaSet it owns.
    /// An event that names its object's uid is matched by that uid when the object's is known.
    pub fn failed_creates_of(&self, ns: &str, kind: &str, name: &str) -> Vec<&'a EventObs> {
        let top_uid = self.workload(ns, kind, name).map_or("", |w| w.uid.as_str());
        // The ReplicaSet's owner is matched by name, as `Index::owner_path` walks it.
        let owned_rs = |e: &EventObs| match self.workload(ns, "ReplicaSet", &e.involved_name) {
            Some(r) => {
                same_object(&e.involved_uid, &e.involved_name, &r.uid, &r.name)
                    && (r.owners.iter()).any(|o| o.kind == kind && o.name == name)
            }
            // ReplicaSets not visible: `<deployment>-<pod-template-hash>` is the convention.
            None => (e.involved_name.rsplit_once('-')).is_some_and(|(d, _)| d == name),
        };
        self.failed_creates
            .iter()
            .filter(|e| e.namespace == ns)
            .filter(|e| {
                (e.involved_kind == kind
                    && same_object(&e.involved_uid, &e.involved_name, top_uid, name))
                    || (kind == "Deployment" && e.involved_kind == "ReplicaSet" && owned_rs(e))
            })
            .copied()
            .collect()
    }

    /// The newest pod that the object a FailedCreate is about (a ReplicaSet, StatefulSet,
    /// DaemonSet or Job: the controller that tried to create pods) created after `e` was last
    /// seen, retired or not. None when no such pod is known, or `e` or the pods carry no time:
    /// then the refusal may be current.
    pub fn created_since(&self, e: &EventObs) -> Option<&'a PodObs> {
        let seen = e.last_seen?;
        let newest = self.newest_created.get_or_init(|| self.newest_by_owner());
        let ns = e.namespace.as_str();
        let mut found = newest.of(ns, &e.involved_kind, &e.involved_uid, &e.involved_name);
        // A pod a newer ReplicaSet of the same Deployment created since counts too (audit
        // UU1). Only a ReplicaSet's refusal asks, so the workloads are walked per event.
        if e.involved_kind == "ReplicaSet" {
            for r in (self.snap.workloads.items.iter())
                .filter(|r| r.namespace == ns && r.kind == "ReplicaSet")
                .filter(|r| self.supersedes(e, r))
            {
                found = found.max(newest.of(ns, "ReplicaSet", &r.uid, &r.name));
            }
        }
        let (_, i) = found.filter(|&(t, _)| t > seen)?;
        self.snap.pods.items.get(i as usize)
    }

    /// [`NewestByOwner`] of the snapshot's pods, in one pass.
    fn newest_by_owner(&self) -> NewestByOwner {
        let mut out = NewestByOwner {
            by_uid: map(0),
            by_name: map(0),
            by_name_no_uid: map(0),
        };
        for (i, p) in self.snap.pods.items.iter().enumerate() {
            let Some(t) = p.created_at.filter(|_| p.template_of.is_none()) else {
                continue;
            };
            let n = (t, i as u32);
            for o in &p.owners {
                let key = |x: &str| format!("{}/{}/{x}", p.namespace, o.kind);
                keep_newest(&mut out.by_name, key(&o.name), n);
                if o.uid.is_empty() {
                    keep_newest(&mut out.by_name_no_uid, key(&o.name), n);
                } else {
                    keep_newest(&mut out.by_uid, key(&o.uid), n);
                }
            }
        }
        out
    }

    /// Whether ReplicaSet `newer` (read) is one its Deployment rolled out after the
    /// ReplicaSet refused in `e`: a pod created since by a newer template proves the refused
    /// template was replaced (the user fixed it) and the new one admitted (audit UU1). A pod
    /// of an older ReplicaSet proves nothing of a newer refused one, so only a newer one
    /// counts: by the `deployment.kubernetes.io/revision` the controller stamps (the newest
    /// template has the highest); when the revisions do not tell, by the refused ReplicaSet
    /// scaled to 0 while `newer` is not (the controller scales superseded ones down); and when
    /// the refused ReplicaSet is gone (its uid or name no longer read) while `newer` is read, as a
    /// Deployment deletes only old ReplicaSets (revisionHistoryLimit).
    fn supersedes(&self, e: &EventObs, newer: &WorkloadObs) -> bool {
        if e.involved_kind != "ReplicaSet"
            || newer.kind != "ReplicaSet"
            || newer.name == e.involved_name
        {
            return false;
        }
        let Some(deployment) = (newer.owners.iter()).find(|d| d.kind == "Deployment") else {
            return false;
        };
        let refused = (self.workload(&e.namespace, "ReplicaSet", &e.involved_name))
            .filter(|r| same_object(&e.involved_uid, &e.involved_name, &r.uid, &r.name));
        let Some(refused) = refused else {
            // Gone: the event's name must be the Deployment's (`<deployment>-<hash>`).
            return (e.involved_name.rsplit_once('-')).is_some_and(|(d, _)| d == deployment.name);
        };
        if !(refused.owners.iter()).any(|d| d.kind == "Deployment" && d.name == deployment.name) {
            return false;
        }
        let revision = |r: &WorkloadObs| {
            (r.annotations.get("deployment.kubernetes.io/revision"))
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        match (revision(refused), revision(newer)) {
            (Some(a), Some(b)) if a != b => b > a,
            _ => refused.replicas == Some(0) && newer.replicas.is_some_and(|n| n > 0),
        }
    }
}
