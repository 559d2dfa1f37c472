//! The objects the world keeps per workload and per pod, and what the world records of a pod's
//! containers (started, waiting); the pod status the kubelet reports from it is `status`'s.

mod status;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, ReplicaSetSpec, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{PodSpec, PodTemplateSpec, Volume};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use crate::fingerprint::Fingerprint;
use crate::snapshot::{Name, StrMap};
use crate::source::lab::mount::Mounted;

/// Boxed: the kinds differ in size and a map of them holds every entry at the largest, 2.6 KB
/// inline, with a third of its slots empty.
#[derive(Clone, Debug)]
pub enum Workload {
    Deployment(Box<Deployment>),
    StatefulSet(Box<StatefulSet>),
    DaemonSet(Box<DaemonSet>),
    Job(Box<Job>),
}

impl Workload {
    pub fn kind(&self) -> &'static str {
        match self {
            Workload::Deployment(_) => "Deployment",
            Workload::StatefulSet(_) => "StatefulSet",
            Workload::DaemonSet(_) => "DaemonSet",
            Workload::Job(_) => "Job",
        }
    }
    pub fn meta(&self) -> &ObjectMeta {
        match self {
            Workload::Deployment(d) => &d.metadata,
            Workload::StatefulSet(s) => &s.metadata,
            Workload::DaemonSet(d) => &d.metadata,
            Workload::Job(j) => &j.metadata,
        }
    }
    pub(super) fn meta_mut(&mut self) -> &mut ObjectMeta {
        match self {
            Workload::Deployment(d) => &mut d.metadata,
            Workload::StatefulSet(s) => &mut s.metadata,
            Workload::DaemonSet(d) => &mut d.metadata,
            Workload::Job(j) => &mut j.metadata,
        }
    }
    pub fn template(&self) -> Option<&PodTemplateSpec> {
        match self {
            Workload::Deployment(d) => d.spec.as_ref().map(|s| &s.template),
            Workload::StatefulSet(s) => s.spec.as_ref().map(|s| &s.template),
            Workload::DaemonSet(d) => d.spec.as_ref().map(|s| &s.template),
            Workload::Job(j) => j.spec.as_ref().map(|s| &s.template),
        }
    }
    pub fn template_mut(&mut self) -> Option<&mut PodTemplateSpec> {
        match self {
            Workload::Deployment(d) => d.spec.as_mut().map(|s| &mut s.template),
            Workload::StatefulSet(s) => s.spec.as_mut().map(|s| &mut s.template),
            Workload::DaemonSet(d) => d.spec.as_mut().map(|s| &mut s.template),
            Workload::Job(j) => j.spec.as_mut().map(|s| &mut s.template),
        }
    }
    pub(super) fn replicas(&self) -> usize {
        let r = match self {
            Workload::Deployment(d) => d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
            Workload::StatefulSet(s) => s.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
            Workload::DaemonSet(_) | Workload::Job(_) => 1,
        };
        r.max(0) as usize
    }
    pub(super) fn uid(&self) -> String {
        self.meta().uid.clone().unwrap_or_default()
    }
    pub(super) fn owner_ref(&self, api_version: &str) -> OwnerReference {
        OwnerReference {
            api_version: api_version.into(),
            kind: self.kind().into(),
            name: self.meta().name.clone().unwrap_or_default(),
            uid: self.uid(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }
    }
}

/// (kind, namespace, name)
pub type WorkloadKey = (String, String, String);

/// A Deployment's ReplicaSet as the world keeps it: what the controllers and the snapshot
/// read. k8s-openapi's `ReplicaSet` is 2.3 KB inline, mostly an empty pod template.
#[derive(Clone, Debug)]
pub struct LabReplicaSet {
    pub metadata: ObjectMeta,
    pub replicas: i32,
    /// The pod template's metadata (labels with `pod-template-hash`); the pods are made from
    /// the Deployment's template, whose hash names the ReplicaSet.
    pub template: Option<ObjectMeta>,
    /// The pod spec of that template, as JSON: while its Deployment is paused the ReplicaSet
    /// itself makes a deleted pod again, from its own template (the Deployment's may have
    /// changed). Rarely read, so kept as text: a parsed spec per ReplicaSet was 10.6 MB of a
    /// 10,000-pod lab's peak (2,000 ReplicaSets), its JSON a fraction of that.
    pub spec_json: Option<Box<[u8]>>,
}

impl LabReplicaSet {
    /// The JSON [`LabReplicaSet::spec_json`] holds for `spec`.
    pub fn spec_to_json(spec: &PodSpec) -> Option<Box<[u8]>> {
        serde_json::to_vec(spec).ok().map(Vec::into_boxed_slice)
    }

    /// The pod spec of the ReplicaSet's template, parsed from the JSON it wrote.
    pub fn spec(&self) -> Option<PodSpec> {
        serde_json::from_slice(self.spec_json.as_deref()?).ok()
    }

    /// The ReplicaSet as the API server would return it.
    pub fn to_replica_set(&self) -> ReplicaSet {
        ReplicaSet {
            metadata: self.metadata.clone(),
            spec: Some(ReplicaSetSpec {
                replicas: Some(self.replicas),
                template: Some(PodTemplateSpec {
                    metadata: self.template.clone(),
                    spec: None,
                }),
                ..Default::default()
            }),
            status: None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct CsiVolume {
    pub name: String,
    pub spc: String,
    pub mounted: Option<Mounted>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// No kubelet runs it: no node fits (the scheduler's message is the waiting reason), or
    /// its `nodeName` names no node (PodGC deletes it after its quarantine).
    Unscheduled,
    /// Waiting for volumes (ContainerCreating).
    Mounting,
    /// Volumes ready, container config cannot be built yet (CreateContainerConfigError).
    Configuring,
    Running,
    /// A Job's pod whose containers all exited 0 ([`super::job_runs`]): phase Succeeded, its
    /// volumes torn down; nothing of it runs again.
    Succeeded,
    Terminating,
}

#[derive(Clone, Debug)]
pub struct LabPod {
    /// Without its labels (`meta.labels` is `None`): those are in `labels`.
    pub meta: ObjectMeta,
    /// The pod's labels, one copy shared by the replicas of a template (the snapshot's copy
    /// too): a B-tree node and six strings per pod were 7 MB of a 10,000-pod world.
    pub labels: StrMap,
    /// The admitted spec. Pods admitted alike from one template share it: a 10,000-pod world
    /// would otherwise hold 10,000 copies of a few thousand specs (k8s-openapi's `Volume` alone
    /// is 3 KB inline). Nothing changes a pod's spec after admission.
    pub spec: Option<Arc<PodSpec>>,
    /// A boxed slice: collected through a filter, a `Vec` keeps room for four volumes where a
    /// pod mounts one or two (3 MB of a 10,000-pod world).
    pub csi: Box<[CsiVolume]>,
    pub stage: Stage,
    pub(super) next_attempt: Timestamp,
    pub(super) backoff: Duration,
    pub(super) failing_since: Option<Timestamp>,
    pub(super) unable_reported: Option<Timestamp>,
    pub(super) delete_at: Option<Timestamp>,
    /// When the pod's first app containers started (the others with them, unless listed in
    /// `late_starts`).
    pub(super) started_at: Option<Timestamp>,
    /// App containers that started after `started_at`, with their own start: one held by
    /// its config (CreateContainerConfigError) starts once its Secret or key exists. Empty
    /// for nearly every pod, so no allocation.
    pub(super) late_starts: Box<[(Name, Timestamp)]>,
    /// The waiting container state (reason, message) kubelet reports; `None` once running.
    pub(super) waiting: Option<(String, String)>,
    /// The init container `waiting` belongs to: Kubernetes runs init containers first, so the
    /// app containers then wait in PodInitializing. `None`: it is the app containers'.
    pub(super) waiting_init: Option<String>,
    /// App containers the kubelet holds back (CreateContainerConfigError) with its message,
    /// once the init containers have run: the pod's other app containers started.
    pub(super) config_errors: Box<[(String, String)]>,
    /// container → variable → fingerprint of the value resolved at container start.
    pub env: Held,
    /// container → mount path → fingerprint of a subPath-mounted file, frozen at start.
    pub subpath_files: Held,
}

/// Fingerprints a container holds since it started: (container, name) → fingerprint rows in
/// container, then name order. One small allocation per pod with names stored inline, where
/// two nested maps cost over a kilobyte per pod (10 MB of a 10,000-pod world).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Held(Box<[(Name, Name, Fingerprint)]>);

impl Held {
    pub fn new(by_container: BTreeMap<String, BTreeMap<String, Fingerprint>>) -> Held {
        Held(
            by_container
                .into_iter()
                .flat_map(|(c, m)| {
                    m.into_iter()
                        .map(move |(n, f)| (Name::from(c.as_str()), Name::from(n), f))
                })
                .collect(),
        )
    }
    /// The fingerprint `container` holds under `name`.
    pub fn get(&self, container: &str, name: &str) -> Option<&Fingerprint> {
        self.0
            .iter()
            .find(|(c, n, _)| c == container && n == name)
            .map(|(_, _, f)| f)
    }
    /// The rows by container, then by name.
    pub fn by_container(&self) -> BTreeMap<String, BTreeMap<String, Fingerprint>> {
        let mut out: BTreeMap<String, BTreeMap<String, Fingerprint>> = BTreeMap::new();
        for (c, n, f) in self.0.iter() {
            out.entry(c.to_string())
                .or_default()
                .insert(n.to_string(), *f);
        }
        out
    }
    /// What `container` holds, by name.
    pub fn of<'a>(
        &'a self,
        container: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a Fingerprint)> {
        self.0
            .iter()
            .filter(move |(c, _, _)| c == container)
            .map(|(_, n, f)| (n.as_str(), f))
    }
}

impl LabPod {
    pub fn namespace(&self) -> &str {
        self.meta.namespace.as_deref().unwrap_or("default")
    }
    pub fn name(&self) -> &str {
        self.meta.name.as_deref().unwrap_or("")
    }
    pub fn uid(&self) -> &str {
        self.meta.uid.as_deref().unwrap_or("")
    }
    pub fn service_account(&self) -> String {
        self.spec
            .as_ref()
            .and_then(|s| s.service_account_name.clone())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "default".into())
    }
    pub fn controller(&self) -> Option<&OwnerReference> {
        self.meta
            .owner_references
            .iter()
            .flatten()
            .find(|o| o.controller == Some(true))
    }

    /// The kubelet's message for app container `name`, held back by its config.
    pub fn config_error(&self, name: &str) -> Option<&str> {
        (self.config_errors.iter())
            .find(|(c, _)| c == name)
            .map(|(_, m)| m.as_str())
    }

    /// Container `name` has started: the pod runs, or only other app containers are held
    /// back by their config (the init containers ran, the rest started).
    pub fn runs(&self, name: &str) -> bool {
        match self.stage {
            Stage::Running => true,
            Stage::Configuring => {
                self.waiting.is_none()
                    && !self.config_errors.is_empty()
                    && self.config_error(name).is_none()
            }
            _ => false,
        }
    }

    /// The pod's volumes (the admitted spec's).
    pub fn volumes(&self) -> impl Iterator<Item = &Volume> {
        self.spec.iter().flat_map(|s| s.volumes.iter().flatten())
    }

    /// The volumes the kubelet sets up: those a container uses ([`super::used::volume_used`]). It skips
    /// the others whatever their type, so a Secret or ConfigMap they name need not exist.
    pub fn used_volumes(&self) -> impl Iterator<Item = &Volume> {
        self.spec.iter().flat_map(|s| {
            (s.volumes.iter().flatten()).filter(move |v| super::used::volume_used(s, &v.name))
        })
    }

    /// Records app containers `names` as started at `now`: the pod's first start, or each
    /// one's own after it.
    pub(super) fn started(&mut self, names: &[String], now: Timestamp) {
        if names.is_empty() {
            return;
        }
        if self.started_at.is_none() {
            self.started_at = Some(now);
            return;
        }
        let mut late: Vec<(Name, Timestamp)> = (self.late_starts.iter())
            .filter(|(c, _)| !names.iter().any(|n| n == c.as_str()))
            .cloned()
            .collect();
        late.extend(names.iter().map(|n| (Name::from(n.as_str()), now)));
        self.late_starts = late.into();
    }
}

/// Records the container state kubelet reports for the pod's stage (`None`: running).
pub(super) fn set_status(p: &mut LabPod, waiting: Option<(&str, &str)>) {
    p.waiting = waiting.map(|(reason, message)| (reason.to_string(), message.to_string()));
    p.waiting_init = None;
    p.config_errors = Box::default();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a container holds is found by (container, name); another container's is not.
    #[test]
    fn held_values_are_per_container() {
        let fp = |s: &str| Fingerprint::of(s.as_bytes());
        let held = Held::new(
            [
                (
                    "app".to_string(),
                    [("B".to_string(), fp("b")), ("A".to_string(), fp("a"))].into(),
                ),
                ("init".to_string(), [("A".to_string(), fp("x"))].into()),
                ("side".to_string(), BTreeMap::new()),
            ]
            .into(),
        );
        assert_eq!(held.get("app", "A"), Some(&fp("a")));
        assert_eq!(held.get("init", "A"), Some(&fp("x")));
        assert_eq!(held.get("side", "A"), None);
        let app: Vec<&str> = held.of("app").map(|(n, _)| n).collect();
        assert_eq!(app, ["A", "B"]);
        assert_eq!(held.of("side").count(), 0);
    }
}
