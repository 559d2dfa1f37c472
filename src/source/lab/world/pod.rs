//! The objects the world keeps per workload and per pod, and the pod status kubelet reports.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{
    ContainerState, ContainerStateRunning, ContainerStateWaiting, ContainerStatus, Pod, PodSpec,
    PodStatus, PodTemplateSpec, Volume,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};

use crate::fingerprint::Fingerprint;
use crate::source::lab::mount::Mounted;

#[derive(Clone, Debug)]
pub enum Workload {
    Deployment(Deployment),
    StatefulSet(StatefulSet),
    DaemonSet(DaemonSet),
    Job(Job),
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

#[derive(Clone, Debug)]
pub struct CsiVolume {
    pub name: String,
    pub spc: String,
    pub mounted: Option<Mounted>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Waiting for volumes (ContainerCreating).
    Mounting,
    /// Volumes ready, container config cannot be built yet (CreateContainerConfigError).
    Configuring,
    Running,
    Terminating,
}

#[derive(Clone, Debug)]
pub struct LabPod {
    pub meta: ObjectMeta,
    /// The admitted spec. Pods admitted alike from one template share it: a 10,000-pod world
    /// would otherwise hold 10,000 copies of a few thousand specs (k8s-openapi's `Volume` alone
    /// is 3 KB inline). Nothing changes a pod's spec after admission.
    pub spec: Option<Arc<PodSpec>>,
    pub csi: Vec<CsiVolume>,
    pub stage: Stage,
    pub(super) next_attempt: Timestamp,
    pub(super) backoff: Duration,
    pub(super) failing_since: Option<Timestamp>,
    pub(super) unable_reported: Option<Timestamp>,
    pub(super) delete_at: Option<Timestamp>,
    pub(super) started_at: Option<Timestamp>,
    /// The waiting container state (reason, message) kubelet reports; `None` once running.
    pub(super) waiting: Option<(String, String)>,
    /// container → variable → fingerprint of the value resolved at container start.
    pub env: BTreeMap<String, BTreeMap<String, Fingerprint>>,
    /// container → mount path → fingerprint of a subPath-mounted file, frozen at start.
    pub subpath_files: BTreeMap<String, BTreeMap<String, Fingerprint>>,
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

    /// The pod's volumes (the admitted spec's).
    pub fn volumes(&self) -> impl Iterator<Item = &Volume> {
        self.spec.iter().flat_map(|s| s.volumes.iter().flatten())
    }

    /// The pod as the API server would return it.
    pub fn to_pod(&self) -> Pod {
        Pod {
            metadata: self.meta.clone(),
            spec: self.spec.as_deref().cloned(),
            status: Some(self.status()),
        }
    }

    /// Pod status as kubelet reports it for the pod's stage.
    pub fn status(&self) -> PodStatus {
        let waiting = self.waiting.as_ref();
        let state = match (waiting, self.started_at) {
            (Some((reason, message)), _) => ContainerState {
                waiting: Some(ContainerStateWaiting {
                    reason: Some(reason.clone()),
                    message: (!message.is_empty()).then(|| message.clone()),
                }),
                ..Default::default()
            },
            (None, started) => ContainerState {
                running: Some(ContainerStateRunning {
                    started_at: started.map(Time),
                }),
                ..Default::default()
            },
        };
        let running = waiting.is_none();
        PodStatus {
            phase: Some(if running { "Running" } else { "Pending" }.into()),
            start_time: self.meta.creation_timestamp.clone(),
            container_statuses: Some(
                self.spec
                    .iter()
                    .flat_map(|s| s.containers.iter())
                    .map(|c| ContainerStatus {
                        name: c.name.clone(),
                        ready: running,
                        started: Some(running),
                        restart_count: 0,
                        image: String::new(),
                        image_id: String::new(),
                        state: Some(state.clone()),
                        ..Default::default()
                    })
                    .collect(),
            ),
            ..Default::default()
        }
    }
}

/// Records the container state kubelet reports for the pod's stage (`None`: running).
pub(super) fn set_status(p: &mut LabPod, waiting: Option<(&str, &str)>) {
    p.waiting = waiting.map(|(reason, message)| (reason.to_string(), message.to_string()));
}
