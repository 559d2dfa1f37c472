//! FailedCreate events of a workload, and the pods its controller created after one.
//!
//! A FailedCreate is the controller's report that the API server refused a pod it tried to
//! create (admission, a missing ServiceAccount). The controller retries; once a pod of the same
//! controller exists that was created after the event was last seen, that refusal was retried
//! and admitted since: history, not the reason the workload runs no pod (FACTS §11 "Evidence
//! ages"; README "Events are history"; audit RR1).

use super::Index;
use crate::snapshot::{EventObs, OwnerRef, PodObs};

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
        let ours = |o: &OwnerRef| {
            o.kind == e.involved_kind
                && same_object(&e.involved_uid, &e.involved_name, &o.uid, &o.name)
        };
        (self.snap.pods.items.iter())
            .filter(|p| p.template_of.is_none() && p.namespace == e.namespace)
            .filter(|p| p.created_at.is_some_and(|t| t > seen))
            .filter(|p| (p.owners.iter()).any(|o| ours(o) || self.supersedes(e, o)))
            .max_by_key(|p| p.created_at)
    }

    /// Whether ReplicaSet `o` (a pod's owner) is one its Deployment rolled out after the
    /// ReplicaSet refused in `e`: a pod created since by a newer template proves the refused
    /// template was replaced (the user fixed it) and the new one admitted (audit UU1). A pod
    /// of an older ReplicaSet proves nothing of a newer refused one, so only a newer `o`
    /// counts: by the `deployment.kubernetes.io/revision` the controller stamps (the newest
    /// template has the highest); when the revisions do not tell, by the refused ReplicaSet
    /// scaled to 0 while `o` is not (the controller scales superseded ones down); and when
    /// the refused ReplicaSet is gone (its uid or name no longer read) while `o` is read, as a
    /// Deployment deletes only old ReplicaSets (revisionHistoryLimit).
    fn supersedes(&self, e: &EventObs, o: &OwnerRef) -> bool {
        if e.involved_kind != "ReplicaSet" || o.kind != "ReplicaSet" || o.name == e.involved_name {
            return false;
        }
        let Some(newer) = (self.workload(&e.namespace, "ReplicaSet", &o.name))
            .filter(|r| same_object(&o.uid, &o.name, &r.uid, &r.name))
        else {
            return false;
        };
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
        let revision = |r: &crate::snapshot::WorkloadObs| {
            (r.annotations.get("deployment.kubernetes.io/revision"))
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        match (revision(refused), revision(newer)) {
            (Some(a), Some(b)) if a != b => b > a,
            _ => refused.replicas == Some(0) && newer.replicas.is_some_and(|n| n > 0),
        }
    }
}
