//! The lab world: Kubernetes objects (as k8s-openapi types, so the snapshot is produced by the
//! same conversion as a live cluster), the Azure side, and the per-pod state kubelet and the
//! CSI driver keep. Synchronous and deterministic: [`World::advance`] moves lab time in
//! one-second ticks and computes every consequence.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, ReplicaSetSpec, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{
    ContainerState, ContainerStateRunning, ContainerStateWaiting, ContainerStatus, Event,
    EventSource, ObjectReference, Pod, PodStatus, PodTemplateSpec, Secret, ServiceAccount,
};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};
use sha2::{Digest, Sha256};

use super::azure::{LabIdentity, LabVault};
use super::clock::Clock;
use super::mount::{self, AzureWorld, Mounted, VolumeRequest};
use super::scenario::{ClusterSpec, LabAction, RoleAssignment, Scenario, TimedEvent};
use super::sync::{self, SyncOutcome};
use super::webhook;
use crate::fingerprint::Fingerprint;
use crate::snapshot::crd::{SecretProviderClass, SecretProviderClassPodStatus};

pub type Key = (String, String);

const TICK: Duration = Duration::from_secs(1);
/// kubelet's volume-mount back-off: starts small, doubles, caps at 2m2s.
const BACKOFF_MAX: Duration = Duration::from_secs(122);
/// kubelet retries a container whose config cannot be built.
const CONFIG_RETRY: Duration = Duration::from_secs(10);
const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

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
    fn meta_mut(&mut self) -> &mut ObjectMeta {
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
    fn replicas(&self) -> usize {
        let r = match self {
            Workload::Deployment(d) => d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
            Workload::StatefulSet(s) => s.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
            Workload::DaemonSet(_) | Workload::Job(_) => 1,
        };
        r.max(0) as usize
    }
    fn uid(&self) -> String {
        self.meta().uid.clone().unwrap_or_default()
    }
    fn owner_ref(&self, api_version: &str) -> OwnerReference {
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
    pub pod: Pod,
    pub csi: Vec<CsiVolume>,
    pub stage: Stage,
    next_attempt: Timestamp,
    backoff: Duration,
    failing_since: Option<Timestamp>,
    unable_reported: Option<Timestamp>,
    delete_at: Option<Timestamp>,
    started_at: Option<Timestamp>,
    /// container → variable → fingerprint of the value resolved at container start.
    pub env: BTreeMap<String, BTreeMap<String, Fingerprint>>,
    /// container → mount path → fingerprint of a subPath-mounted file, frozen at start.
    pub subpath_files: BTreeMap<String, BTreeMap<String, Fingerprint>>,
}

impl LabPod {
    pub fn namespace(&self) -> &str {
        self.pod.metadata.namespace.as_deref().unwrap_or("default")
    }
    pub fn name(&self) -> &str {
        self.pod.metadata.name.as_deref().unwrap_or("")
    }
    pub fn uid(&self) -> &str {
        self.pod.metadata.uid.as_deref().unwrap_or("")
    }
    pub fn service_account(&self) -> String {
        self.pod
            .spec
            .as_ref()
            .and_then(|s| s.service_account_name.clone())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "default".into())
    }
    pub fn controller(&self) -> Option<&OwnerReference> {
        self.pod
            .metadata
            .owner_references
            .iter()
            .flatten()
            .find(|o| o.controller == Some(true))
    }
}

pub struct World {
    pub name: String,
    pub clock: Clock,
    pub cluster: ClusterSpec,
    pub identities: Vec<LabIdentity>,
    pub vaults: BTreeMap<String, LabVault>,
    pub role_assignments: Vec<RoleAssignment>,
    identity_index: HashMap<String, Vec<usize>>,
    ra_index: HashMap<String, Vec<usize>>,
    parse_cache: HashMap<BTreeMap<String, String>, std::sync::Arc<crate::spc::AzureSpc>>,
    pub namespaces: BTreeSet<String>,
    pub service_accounts: BTreeMap<Key, ServiceAccount>,
    pub spcs: BTreeMap<Key, SecretProviderClass>,
    pub workloads: BTreeMap<WorkloadKey, Workload>,
    pub replica_sets: BTreeMap<Key, ReplicaSet>,
    pub pods: BTreeMap<Key, LabPod>,
    pub secrets: BTreeMap<Key, Secret>,
    pub spcps: BTreeMap<Key, SecretProviderClassPodStatus>,
    pub ingresses: Vec<Ingress>,
    pub events: Vec<Event>,
    event_index: HashMap<(String, String, String), usize>,
    timeline: Vec<TimedEvent>,
    next_timed: usize,
    /// Faults currently applied, with what is needed to undo them.
    pub(super) faults: BTreeMap<String, super::faults::Undo>,
    waiting: BTreeSet<Key>,
    terminating: BTreeSet<Key>,
    next_rotation: Duration,
    uid_counter: u64,
    rng: u64,
    reconcile_needed: bool,
    gc_needed: bool,
    /// Bumped on every observable change (a new snapshot is worth sending).
    pub revision: u64,
    /// Last structural change (not mere event-count bumps): drives "run until stable".
    pub last_change: Duration,
}

impl World {
    pub fn new(sc: Scenario) -> World {
        let clock = Clock::default();
        let now = clock.now();
        let poll = sc.cluster.csi_driver.rotation_poll_interval;
        let mut w = World {
            name: sc.name.clone(),
            clock,
            identities: sc
                .identities
                .iter()
                .map(|i| LabIdentity {
                    name: i.name.clone(),
                    client_id: i.spec.client_id.clone(),
                    principal_id: i.spec.principal_id.clone(),
                    tenant_id: i.spec.tenant_id.clone(),
                    resource_group: i.spec.resource_group.clone(),
                    fics: i.spec.federated_credentials.clone(),
                })
                .collect(),
            vaults: sc
                .vaults
                .iter()
                .map(|v| (v.name.clone(), LabVault::from_spec(v, now)))
                .collect(),
            role_assignments: sc.role_assignments.clone(),
            identity_index: HashMap::new(),
            ra_index: HashMap::new(),
            parse_cache: HashMap::new(),
            cluster: sc.cluster.clone(),
            namespaces: BTreeSet::new(),
            service_accounts: BTreeMap::new(),
            spcs: BTreeMap::new(),
            workloads: BTreeMap::new(),
            replica_sets: BTreeMap::new(),
            pods: BTreeMap::new(),
            secrets: BTreeMap::new(),
            spcps: BTreeMap::new(),
            ingresses: Vec::new(),
            events: Vec::new(),
            event_index: HashMap::new(),
            timeline: sc.timeline.clone(),
            next_timed: 0,
            faults: BTreeMap::new(),
            waiting: BTreeSet::new(),
            terminating: BTreeSet::new(),
            next_rotation: poll,
            uid_counter: 0,
            rng: 0x9e37_79b9_7f4a_7c15,
            reconcile_needed: true,
            gc_needed: false,
            revision: 1,
            last_change: Duration::ZERO,
        };
        w.reindex();
        for n in &sc.namespaces {
            w.namespaces
                .insert(n.metadata.name.clone().unwrap_or_default());
        }
        for mut sa in sc.service_accounts {
            let key = w.stamp(&mut sa.metadata);
            w.service_accounts.insert(key, sa);
        }
        for mut s in sc.spcs {
            let key = w.stamp(&mut s.metadata);
            w.spcs.insert(key, s);
        }
        for mut s in sc.secrets {
            let key = w.stamp(&mut s.metadata);
            w.secrets.insert(key, s);
        }
        for mut i in sc.ingresses {
            w.stamp(&mut i.metadata);
            w.ingresses.push(i);
        }
        let workloads = sc
            .deployments
            .into_iter()
            .map(Workload::Deployment)
            .chain(sc.stateful_sets.into_iter().map(Workload::StatefulSet))
            .chain(sc.daemon_sets.into_iter().map(Workload::DaemonSet))
            .chain(sc.jobs.into_iter().map(Workload::Job));
        for wl in workloads {
            w.add_workload(wl);
        }
        for p in sc.pods {
            if let Err(e) = w.create_pod(p.clone()) {
                tracing::warn!(scenario = %w.name, "bare pod not admitted: {e}");
            }
        }
        w.reconcile();
        w
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn poll_interval(&self) -> Duration {
        self.cluster.csi_driver.rotation_poll_interval
    }

    fn uid(&mut self) -> String {
        self.uid_counter += 1;
        let h = Sha256::digest(format!("{}/{}", self.name, self.uid_counter).as_bytes());
        let x = hex::encode(&h[..16]);
        format!(
            "{}-{}-4{}-8{}-{}",
            &x[..8],
            &x[8..12],
            &x[13..16],
            &x[17..20],
            &x[20..32]
        )
    }

    /// Five characters as kube's name generator draws them (deterministic here).
    fn suffix(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| {
                // xorshift64*
                self.rng ^= self.rng >> 12;
                self.rng ^= self.rng << 25;
                self.rng ^= self.rng >> 27;
                let r = self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d);
                ALPHABET[(r >> 33) as usize % ALPHABET.len()] as char
            })
            .collect()
    }

    /// Fills uid/namespace/creationTimestamp; returns the (namespace, name) key.
    fn stamp(&mut self, meta: &mut ObjectMeta) -> Key {
        let ns = meta
            .namespace
            .get_or_insert_with(|| "default".into())
            .clone();
        self.namespaces.insert(ns.clone());
        if meta.uid.is_none() {
            meta.uid = Some(self.uid());
        }
        if meta.creation_timestamp.is_none() {
            meta.creation_timestamp = Some(Time(self.now()));
        }
        (ns, meta.name.clone().unwrap_or_default())
    }

    /// Marks an externally caused change (faults, trainer edits to identities or role
    /// assignments): look-up indexes are rebuilt.
    pub fn mark_changed(&mut self) {
        self.reindex();
        self.changed();
    }

    fn reindex(&mut self) {
        self.identity_index.clear();
        for (i, id) in self.identities.iter().enumerate() {
            self.identity_index
                .entry(id.client_id.clone())
                .or_default()
                .push(i);
        }
        self.ra_index.clear();
        for (i, ra) in self.role_assignments.iter().enumerate() {
            self.ra_index
                .entry(ra.spec.principal_id.clone())
                .or_default()
                .push(i);
        }
    }

    fn changed(&mut self) {
        self.revision += 1;
        self.last_change = self.clock.elapsed();
    }

    fn touched(&mut self) {
        self.revision += 1;
    }

    // ------------------------------------------------------------------ time

    /// Moves lab time forward by `d`, computing every consequence tick by tick.
    pub fn advance(&mut self, d: Duration) {
        let target = self.clock.elapsed() + d;
        while self.clock.elapsed() < target {
            let step = TICK.min(target - self.clock.elapsed());
            self.clock.set_elapsed(self.clock.elapsed() + step);
            self.tick();
        }
    }

    /// Runs until nothing structural changed for two poll intervals and the timeline is done,
    /// or `max` lab time passed. Returns the lab time run.
    pub fn run_until_stable(&mut self, max: Duration) -> Duration {
        let start = self.clock.elapsed();
        let quiet = self.poll_interval() * 2;
        loop {
            let now = self.clock.elapsed();
            let timeline_done = self.next_timed >= self.timeline.len();
            if (timeline_done && now >= self.last_change + quiet) || now - start >= max {
                return now - start;
            }
            self.advance(TICK);
        }
    }

    fn tick(&mut self) {
        let elapsed = self.clock.elapsed();
        while let Some(e) = self.timeline.get(self.next_timed).cloned() {
            if e.at > elapsed {
                break;
            }
            self.next_timed += 1;
            if let Err(err) = self.perform(&e.action) {
                tracing::warn!(scenario = %self.name, "timeline event failed: {err}");
            }
        }
        self.finish_terminations();
        if self.reconcile_needed {
            self.reconcile();
        }
        self.start_waiting_pods();
        if elapsed >= self.next_rotation {
            while self.next_rotation <= elapsed {
                self.next_rotation += self.poll_interval();
            }
            if self.cluster.csi_driver.installed && self.cluster.csi_driver.enable_secret_rotation {
                self.rotate_all();
            }
        }
        if self.gc_needed {
            self.collect_garbage();
        }
        if elapsed.as_secs().is_multiple_of(60) {
            self.expire_events();
        }
    }

    /// The API server keeps events for an hour (`--event-ttl`).
    fn expire_events(&mut self) {
        let Some(cutoff) = self
            .now()
            .checked_sub(jiff::SignedDuration::from_hours(1))
            .ok()
        else {
            return;
        };
        let before = self.events.len();
        self.events
            .retain(|e| e.last_timestamp.as_ref().is_none_or(|t| t.0 >= cutoff));
        if self.events.len() != before {
            self.event_index = self
                .events
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let key = (
                        e.involved_object.uid.clone().unwrap_or_default(),
                        e.reason.clone().unwrap_or_default(),
                        e.message.clone().unwrap_or_default(),
                    );
                    (key, i)
                })
                .collect();
            self.changed();
        }
    }

    /// Carries out a timeline or trainer action.
    pub fn perform(&mut self, action: &LabAction) -> Result<String, String> {
        match action {
            LabAction::RotateSecret { vault, name, value } => {
                self.rotate_secret(vault, name, value.as_deref().map(str::as_bytes))
            }
            LabAction::DeletePod { namespace, name } => self.delete_pod(namespace, name),
            LabAction::RolloutRestart {
                namespace,
                kind,
                name,
            } => self.rollout_restart(kind, namespace, name),
            LabAction::DeleteWorkload {
                namespace,
                kind,
                name,
            } => self.delete_workload(kind, namespace, name),
            LabAction::ApplyFault { id } => super::faults::apply(self, id),
            LabAction::RepairFault { id } => super::faults::repair(self, id),
        }
    }

    // ------------------------------------------------------------------ events

    /// Records an event on a pod like the API server aggregates them: same (object, reason,
    /// message) bumps the count.
    pub fn record(&mut self, pod: &Key, type_: &str, reason: &str, message: &str, component: &str) {
        let Some(p) = self.pods.get(pod) else { return };
        let uid = p.uid().to_string();
        let involved = ("v1", "Pod", uid);
        self.record_on(involved, pod, type_, reason, message, component);
    }

    /// [`World::record`] on any object: (apiVersion, kind, uid) and its (namespace, name).
    fn record_on(
        &mut self,
        (api_version, kind, uid): (&str, &str, String),
        object: &Key,
        type_: &str,
        reason: &str,
        message: &str,
        component: &str,
    ) {
        let now = Time(self.now());
        let idx_key = (uid.clone(), reason.to_string(), message.to_string());
        if let Some(&i) = self.event_index.get(&idx_key) {
            let e = &mut self.events[i];
            e.count = Some(e.count.unwrap_or(1) + 1);
            e.last_timestamp = Some(now);
            self.touched();
            return;
        }
        let name = format!(
            "{}.{}",
            object.1,
            &hex::encode(Sha256::digest(format!("{uid}{reason}{message}").as_bytes()))[..16]
        );
        self.events.push(Event {
            metadata: ObjectMeta {
                name: Some(name),
                namespace: Some(object.0.clone()),
                ..Default::default()
            },
            involved_object: ObjectReference {
                api_version: Some(api_version.into()),
                kind: Some(kind.into()),
                name: Some(object.1.clone()),
                namespace: Some(object.0.clone()),
                uid: Some(uid),
                ..Default::default()
            },
            type_: Some(type_.into()),
            reason: Some(reason.into()),
            message: Some(message.into()),
            count: Some(1),
            first_timestamp: Some(now.clone()),
            last_timestamp: Some(now),
            source: Some(EventSource {
                component: Some(component.into()),
                host: (component == "kubelet").then(|| self.cluster.node.clone()),
            }),
            ..Default::default()
        });
        self.event_index.insert(idx_key, self.events.len() - 1);
        self.changed();
    }

    // ------------------------------------------------------------------ controllers

    pub fn add_workload(&mut self, mut wl: Workload) {
        let meta = wl.meta_mut();
        let ns = meta
            .namespace
            .get_or_insert_with(|| "default".into())
            .clone();
        let name = meta.name.clone().unwrap_or_default();
        let uid = self.uid();
        let now = self.now();
        let meta = wl.meta_mut();
        meta.uid.get_or_insert(uid);
        meta.creation_timestamp.get_or_insert(Time(now));
        self.namespaces.insert(ns.clone());
        self.workloads.insert((wl.kind().to_string(), ns, name), wl);
        self.reconcile_needed = true;
        self.changed();
    }

    fn template_hash(t: &PodTemplateSpec) -> String {
        let h = Sha256::digest(serde_json::to_vec(t).unwrap_or_default());
        h.iter()
            .take(10)
            .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
            .collect()
    }

    /// Controllers: Deployments → ReplicaSets → pods (with rollouts), StatefulSets,
    /// DaemonSets and Jobs → pods.
    fn reconcile(&mut self) {
        self.reconcile_needed = false;
        let mut by_owner: HashMap<String, Vec<Key>> = HashMap::new();
        for (k, p) in &self.pods {
            if let Some(o) = p.controller() {
                by_owner.entry(o.uid.clone()).or_default().push(k.clone());
            }
        }
        let mut rs_by_owner: HashMap<String, Vec<Key>> = HashMap::new();
        for (k, r) in &self.replica_sets {
            for o in r.metadata.owner_references.iter().flatten() {
                rs_by_owner
                    .entry(o.uid.clone())
                    .or_default()
                    .push(k.clone());
            }
        }
        let keys: Vec<WorkloadKey> = self.workloads.keys().cloned().collect();
        for wk in keys {
            let Some(wl) = self.workloads.get(&wk).cloned() else {
                continue;
            };
            match &wl {
                Workload::Deployment(_) => {
                    let owned = rs_by_owner.get(&wl.uid()).cloned().unwrap_or_default();
                    self.reconcile_deployment(&wk, &wl, &owned, &by_owner)
                }
                _ => self.reconcile_direct(&wk, &wl, &by_owner),
            }
        }
    }

    fn live<'a>(&'a self, keys: Option<&'a Vec<Key>>) -> impl Iterator<Item = &'a LabPod> + 'a {
        keys.into_iter()
            .flatten()
            .filter_map(|k| self.pods.get(k))
            .filter(|p| p.stage != Stage::Terminating)
    }

    fn reconcile_deployment(
        &mut self,
        wk: &WorkloadKey,
        wl: &Workload,
        replica_sets: &[Key],
        by_owner: &HashMap<String, Vec<Key>>,
    ) {
        let Some(template) = wl.template().cloned() else {
            return;
        };
        let ns = wk.1.clone();
        let hash = Self::template_hash(&template);
        let rs_name = format!("{}-{hash}", wk.2);
        let rs_key = (ns.clone(), rs_name.clone());
        let replicas = wl.replicas();
        if !self.replica_sets.contains_key(&rs_key) {
            let mut t = template.clone();
            t.metadata
                .get_or_insert_with(Default::default)
                .labels
                .get_or_insert_with(Default::default)
                .insert("pod-template-hash".into(), hash.clone());
            let revision = replica_sets.len() + 1;
            let rs = ReplicaSet {
                metadata: ObjectMeta {
                    name: Some(rs_name.clone()),
                    namespace: Some(ns.clone()),
                    uid: Some(self.uid()),
                    creation_timestamp: Some(Time(self.now())),
                    labels: t.metadata.as_ref().and_then(|m| m.labels.clone()),
                    annotations: Some(
                        [(
                            "deployment.kubernetes.io/revision".to_string(),
                            revision.to_string(),
                        )]
                        .into(),
                    ),
                    owner_references: Some(vec![wl.owner_ref("apps/v1")]),
                    ..Default::default()
                },
                spec: Some(ReplicaSetSpec {
                    replicas: Some(replicas as i32),
                    template: Some(t),
                    ..Default::default()
                }),
                status: None,
            };
            self.replica_sets.insert(rs_key.clone(), rs);
            self.changed();
        }
        let Some(rs) = self.replica_sets.get(&rs_key).cloned() else {
            return;
        };
        let rs_uid = rs.metadata.uid.clone().unwrap_or_default();
        let current: Vec<&LabPod> = self.live(by_owner.get(&rs_uid)).collect();
        let missing = replicas.saturating_sub(current.len());
        let all_running =
            current.len() >= replicas && current.iter().all(|p| p.stage == Stage::Running);
        let rs_template = rs
            .spec
            .as_ref()
            .and_then(|s| s.template.clone())
            .unwrap_or_default();
        let owner = OwnerReference {
            api_version: "apps/v1".into(),
            kind: "ReplicaSet".into(),
            name: rs_name.clone(),
            uid: rs_uid.clone(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        };
        for _ in 0..missing {
            let name = format!("{rs_name}-{}", self.suffix(5));
            self.create_from_template(&ns, &name, &rs_template, owner.clone());
        }
        // Old ReplicaSets are scaled down once the new one is fully running (maxUnavailable
        // aside, this is what a rollout looks like from outside).
        if all_running {
            for k in replica_sets.iter().filter(|k| **k != rs_key) {
                if let Some(r) = self.replica_sets.get_mut(k) {
                    let mut scaled = false;
                    if let Some(s) = r.spec.as_mut()
                        && s.replicas != Some(0)
                    {
                        s.replicas = Some(0);
                        scaled = true;
                    }
                    let uid = r.metadata.uid.clone().unwrap_or_default();
                    if scaled {
                        self.changed();
                    }
                    let doomed: Vec<Key> = by_owner.get(&uid).cloned().unwrap_or_default();
                    for p in doomed {
                        self.terminate(&p);
                    }
                }
            }
        }
    }

    fn reconcile_direct(
        &mut self,
        wk: &WorkloadKey,
        wl: &Workload,
        by_owner: &HashMap<String, Vec<Key>>,
    ) {
        let Some(template) = wl.template().cloned() else {
            return;
        };
        let ns = wk.1.clone();
        let revision = Self::template_hash(&template);
        let owner = wl.owner_ref(if wl.kind() == "Job" {
            "batch/v1"
        } else {
            "apps/v1"
        });
        let owned: Vec<Key> = by_owner.get(&wl.uid()).cloned().unwrap_or_default();
        // Pods of an older template revision go (rollout restart); they come back new.
        for k in &owned {
            let stale = self.pods.get(k).is_some_and(|p| {
                p.stage != Stage::Terminating
                    && p.pod
                        .metadata
                        .labels
                        .as_ref()
                        .and_then(|l| l.get("controller-revision-hash"))
                        != Some(&revision)
            });
            if stale && wl.kind() != "Job" {
                self.terminate(k);
            }
        }
        let existing: BTreeSet<String> = owned
            .iter()
            .filter_map(|k| self.pods.get(k))
            .map(|p| p.name().to_string())
            .collect();
        let live = self.live(Some(&owned)).count();
        let mut t = template.clone();
        t.metadata
            .get_or_insert_with(Default::default)
            .labels
            .get_or_insert_with(Default::default)
            .insert("controller-revision-hash".into(), revision);
        match wl {
            Workload::StatefulSet(_) => {
                for i in 0..wl.replicas() {
                    let name = format!("{}-{i}", wk.2);
                    // Same name: wait until the old pod is gone.
                    if !existing.contains(&name) {
                        self.create_from_template(&ns, &name, &t, owner.clone());
                    }
                }
            }
            Workload::Job(_) => {
                if owned.is_empty() {
                    let name = format!("{}-{}", wk.2, self.suffix(5));
                    self.create_from_template(&ns, &name, &t, owner);
                }
            }
            _ => {
                if live == 0 {
                    let name = format!("{}-{}", wk.2, self.suffix(5));
                    self.create_from_template(&ns, &name, &t, owner);
                }
            }
        }
    }

    fn create_from_template(
        &mut self,
        ns: &str,
        name: &str,
        t: &PodTemplateSpec,
        owner: OwnerReference,
    ) {
        let mut meta = t.metadata.clone().unwrap_or_default();
        meta.name = Some(name.into());
        meta.namespace = Some(ns.into());
        meta.owner_references = Some(vec![owner.clone()]);
        let pod = Pod {
            metadata: meta,
            spec: t.spec.clone(),
            status: None,
        };
        if let Err(e) = self.create_pod(pod) {
            // The owning controller records FailedCreate on itself (the ReplicaSet for a
            // Deployment's pods), as kube-controller-manager does.
            let involved = (
                owner.api_version.as_str(),
                owner.kind.as_str(),
                owner.uid.clone(),
            );
            let at = (ns.to_string(), owner.name.clone());
            let component = match owner.kind.as_str() {
                "ReplicaSet" => "replicaset-controller",
                "StatefulSet" => "statefulset-controller",
                "DaemonSet" => "daemonset-controller",
                _ => "job-controller",
            };
            let message = format!("Error creating: {e}");
            self.record_on(
                involved,
                &at,
                "Warning",
                "FailedCreate",
                &message,
                component,
            );
        }
    }

    /// Admission (service account must exist, then the workload-identity webhook), then the
    /// pod is scheduled on the lab's node and waits for its volumes.
    pub fn create_pod(&mut self, mut pod: Pod) -> Result<Key, String> {
        let key = self.stamp(&mut pod.metadata);
        let sa_name = pod
            .spec
            .as_ref()
            .and_then(|s| s.service_account_name.clone())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "default".into());
        let sa = match self.service_accounts.get(&(key.0.clone(), sa_name.clone())) {
            Some(sa) => sa.clone(),
            None if sa_name == "default" => ServiceAccount::default(),
            None => {
                return Err(format!(
                    "pods \"{}\" is forbidden: error looking up service account {}/{sa_name}: serviceaccount \"{sa_name}\" not found",
                    key.1, key.0
                ));
            }
        };
        if self.cluster.workload_identity_webhook {
            webhook::admit(&mut pod, &sa, &self.cluster.tenant_id);
        }
        if let Some(spec) = pod.spec.as_mut() {
            spec.node_name = Some(self.cluster.node.clone());
            if spec
                .service_account_name
                .as_deref()
                .unwrap_or("")
                .is_empty()
            {
                spec.service_account_name = Some("default".into());
            }
        }
        let csi = pod
            .spec
            .iter()
            .flat_map(|s| s.volumes.iter().flatten())
            .filter_map(|v| {
                let c = v.csi.as_ref()?;
                (c.driver == mount::DRIVER).then(|| CsiVolume {
                    name: v.name.clone(),
                    spc: c
                        .volume_attributes
                        .as_ref()
                        .and_then(|a| a.get("secretProviderClass").cloned())
                        .unwrap_or_default(),
                    mounted: None,
                })
            })
            .collect();
        let now = self.now();
        let mut lp = LabPod {
            pod,
            csi,
            stage: Stage::Mounting,
            next_attempt: now,
            backoff: Duration::from_secs(1),
            failing_since: None,
            unable_reported: None,
            delete_at: None,
            started_at: None,
            env: BTreeMap::new(),
            subpath_files: BTreeMap::new(),
        };
        set_status(&mut lp, Some(("ContainerCreating", "")));
        self.pods.insert(key.clone(), lp);
        self.waiting.insert(key.clone());
        self.changed();
        Ok(key)
    }

    /// `kubectl delete pod`: graceful termination, then gone (its controller replaces it).
    pub fn delete_pod(&mut self, ns: &str, name: &str) -> Result<String, String> {
        let key = (ns.to_string(), name.to_string());
        if !self.pods.contains_key(&key) {
            return Err(format!("pods \"{name}\" not found in namespace {ns}"));
        }
        self.terminate(&key);
        Ok(format!("pod {ns}/{name} deleted"))
    }

    fn terminate(&mut self, key: &Key) {
        let now = self.now();
        let Some(p) = self.pods.get_mut(key) else {
            return;
        };
        if p.stage == Stage::Terminating {
            return;
        }
        let grace = p
            .pod
            .spec
            .as_ref()
            .and_then(|s| s.termination_grace_period_seconds)
            .unwrap_or(30)
            .clamp(0, 30);
        p.stage = Stage::Terminating;
        p.delete_at = Some(
            now.checked_add(jiff::SignedDuration::from_secs(grace))
                .unwrap_or(now),
        );
        p.pod.metadata.deletion_timestamp = Some(Time(now));
        p.pod.metadata.deletion_grace_period_seconds = Some(grace);
        self.waiting.remove(key);
        self.terminating.insert(key.clone());
        self.reconcile_needed = true;
        self.changed();
    }

    fn finish_terminations(&mut self) {
        let now = self.now();
        let done: Vec<Key> = self
            .terminating
            .iter()
            .filter(|k| {
                self.pods
                    .get(*k)
                    .and_then(|p| p.delete_at)
                    .is_none_or(|t| t <= now)
            })
            .cloned()
            .collect();
        for k in done {
            self.terminating.remove(&k);
            if let Some(p) = self.pods.remove(&k) {
                // The SPCPS is owned by the pod: it goes with it.
                for v in &p.csi {
                    self.spcps
                        .remove(&(k.0.clone(), sync::spcps_name(&k.1, &k.0, &v.spc)));
                }
            }
            self.reconcile_needed = true;
            self.gc_needed = true;
            self.changed();
        }
    }

    /// `kubectl rollout restart`: a new template annotation, so a new ReplicaSet/revision.
    pub fn rollout_restart(&mut self, kind: &str, ns: &str, name: &str) -> Result<String, String> {
        let now = self.now();
        let wl = self
            .workloads
            .get_mut(&(kind.to_string(), ns.to_string(), name.to_string()))
            .ok_or_else(|| format!("{kind} {ns}/{name} not found"))?;
        let t = wl
            .template_mut()
            .ok_or_else(|| format!("{kind} {ns}/{name} has no pod template"))?;
        t.metadata
            .get_or_insert_with(Default::default)
            .annotations
            .get_or_insert_with(Default::default)
            .insert("kubectl.kubernetes.io/restartedAt".into(), now.to_string());
        self.reconcile_needed = true;
        self.changed();
        Ok(format!("{kind} {ns}/{name} restarted"))
    }

    /// The workload that controls a pod (through its ReplicaSet for a Deployment).
    pub fn workload_of(&self, pod: &LabPod) -> Option<WorkloadKey> {
        let o = pod.controller()?;
        let ns = pod.namespace().to_string();
        if o.kind == "ReplicaSet" {
            let rs = self.replica_sets.get(&(ns.clone(), o.name.clone()))?;
            let d = rs
                .metadata
                .owner_references
                .iter()
                .flatten()
                .find(|r| r.kind == "Deployment")?;
            return Some(("Deployment".into(), ns, d.name.clone()));
        }
        Some((o.kind.clone(), ns, o.name.clone()))
    }

    /// Restart as a user means it: rollout restart of the owner; a bare pod is deleted.
    pub fn restart_pod(&mut self, ns: &str, name: &str) -> Result<String, String> {
        let pod = self
            .pods
            .get(&(ns.to_string(), name.to_string()))
            .ok_or_else(|| format!("pods \"{name}\" not found in namespace {ns}"))?;
        match self.workload_of(pod) {
            Some((kind, ns, wname)) if kind != "Job" => self.rollout_restart(&kind, &ns, &wname),
            _ => self
                .delete_pod(ns, name)
                .map(|m| format!("{m} (bare pod: nothing recreates it)")),
        }
    }

    /// `kubectl delete <kind>`: cascades to ReplicaSets and pods (background propagation).
    pub fn delete_workload(&mut self, kind: &str, ns: &str, name: &str) -> Result<String, String> {
        let wl = self
            .workloads
            .remove(&(kind.to_string(), ns.to_string(), name.to_string()))
            .ok_or_else(|| format!("{kind} {ns}/{name} not found"))?;
        let mut owners: HashSet<String> = [wl.uid()].into();
        let rs: Vec<Key> = self
            .replica_sets
            .iter()
            .filter(|(_, r)| owned_by(&r.metadata, &wl.uid()))
            .map(|(k, _)| k.clone())
            .collect();
        for k in rs {
            if let Some(r) = self.replica_sets.remove(&k) {
                owners.insert(r.metadata.uid.unwrap_or_default());
            }
        }
        let doomed: Vec<Key> = self
            .pods
            .iter()
            .filter(|(_, p)| p.controller().is_some_and(|o| owners.contains(&o.uid)))
            .map(|(k, _)| k.clone())
            .collect();
        for k in doomed {
            self.terminate(&k);
        }
        self.gc_needed = true;
        self.changed();
        Ok(format!("{kind} {ns}/{name} deleted"))
    }

    /// Writes a new version of a Key Vault secret.
    pub fn rotate_secret(
        &mut self,
        vault: &str,
        name: &str,
        value: Option<&[u8]>,
    ) -> Result<String, String> {
        let now = self.now();
        let v = self
            .vaults
            .get_mut(vault)
            .ok_or_else(|| format!("vault {vault} not found"))?;
        let id = v.new_version(crate::snapshot::ObjectType::Secret, name, value, now)?;
        self.changed();
        Ok(format!(
            "new version {id} of secret {name} in vault {vault}"
        ))
    }

    /// In-container verify: compares what the container holds (files, env captured at start,
    /// subPath files) with the vault's latest and the synced Secret, by fingerprint only.
    pub fn verify(&self, ns: &str, pod: &str, container: &str) -> Result<String, String> {
        let p = self
            .pods
            .get(&(ns.to_string(), pod.to_string()))
            .ok_or_else(|| format!("pods \"{pod}\" not found in namespace {ns}"))?;
        if p.stage != Stage::Running {
            return Err(format!(
                "cannot verify: container {container} is not running"
            ));
        }
        let mut lines = Vec::new();
        for v in &p.csi {
            let Some(m) = &v.mounted else { continue };
            let spc = self.spcs.get(&(ns.to_string(), v.spc.clone()));
            let parsed = crate::spc::parse(
                &spc.and_then(|s| s.spec.parameters.clone())
                    .unwrap_or_default(),
            );
            let vault = parsed
                .keyvault_name
                .as_deref()
                .and_then(|n| self.vaults.get(n));
            for o in &parsed.objects {
                let Some(file) = m.files.get(o.file_name()) else {
                    continue;
                };
                let latest = o
                    .object_type
                    .and_then(|t| vault?.objects.get(&(t, o.object_name.clone())))
                    .and_then(|obj| obj.latest());
                let verdict = match latest {
                    Some(l) if Fingerprint::of(&l.content) == Fingerprint::of(file) => {
                        "matches the vault's latest version"
                    }
                    Some(_) => "differs from the vault's latest version",
                    None => "cannot compare: object not readable",
                };
                lines.push(format!("file {}: {verdict}", o.file_name()));
            }
        }
        let spec = p.pod.spec.as_ref();
        let c = spec
            .into_iter()
            .flat_map(|s| {
                s.init_containers
                    .iter()
                    .flatten()
                    .chain(s.containers.iter())
            })
            .find(|c| c.name == container)
            .ok_or_else(|| format!("container {container} not found in pod {ns}/{pod}"))?;
        for e in c.env.iter().flatten() {
            let Some(r) = e
                .value_from
                .as_ref()
                .and_then(|f| f.secret_key_ref.as_ref())
            else {
                continue;
            };
            let held = p.env.get(container).and_then(|m| m.get(&e.name));
            let current = self
                .secrets
                .get(&(ns.to_string(), r.name.clone()))
                .and_then(|s| s.data.as_ref()?.get(&r.key))
                .map(|v| Fingerprint::of(&v.0));
            let verdict = match (held, current) {
                (Some(h), Some(c)) if *h == c => "matches Secret ".to_string() + &r.name,
                (Some(_), Some(_)) => format!(
                    "stale: Secret {} changed after the container started (restart needed)",
                    r.name
                ),
                (_, None) => format!("Secret {} or key {} is gone", r.name, r.key),
                (None, _) => "not set".to_string(),
            };
            lines.push(format!("env {}: {verdict}", e.name));
        }
        for (path, held) in p.subpath_files.get(container).into_iter().flatten() {
            let mount = c
                .volume_mounts
                .iter()
                .flatten()
                .find(|m| &m.mount_path == path);
            let current = mount.and_then(|m| {
                let v = p.csi.iter().find(|v| v.name == m.name)?;
                v.mounted.as_ref()?.files.get(m.sub_path.as_deref()?)
            });
            let verdict = match current {
                Some(cur) if Fingerprint::of(cur) == *held => "matches the mounted file",
                Some(_) => "stale: subPath mounts never see rotated content",
                None => "source file gone",
            };
            lines.push(format!("subPath {path}: {verdict}"));
        }
        if lines.is_empty() {
            lines.push("nothing from Key Vault is mounted or referenced in this container".into());
        }
        Ok(lines.join("\n"))
    }

    // ------------------------------------------------------------------ kubelet + driver

    fn azure(&mut self) -> (AzureWorld<'_>, &BTreeMap<Key, SecretProviderClass>) {
        (
            AzureWorld {
                cluster: &self.cluster,
                identities: &self.identities,
                identity_index: &self.identity_index,
                vaults: &mut self.vaults,
                role_assignments: &self.role_assignments,
                ra_index: &self.ra_index,
                parse_cache: &mut self.parse_cache,
            },
            &self.spcs,
        )
    }

    fn start_waiting_pods(&mut self) {
        let now = self.now();
        let due: Vec<Key> = self
            .waiting
            .iter()
            .filter(|k| self.pods.get(*k).is_some_and(|p| p.next_attempt <= now))
            .cloned()
            .collect();
        for k in due {
            self.try_start(&k);
        }
    }

    fn publish(&mut self, key: &Key, vol: usize) -> Result<Mounted, String> {
        let now = self.now();
        let Some(p) = self.pods.get(key) else {
            return Err("pod gone".into());
        };
        let Some(v) = p.csi.get(vol) else {
            return Err("volume gone".into());
        };
        let spec_vol = p
            .pod
            .spec
            .iter()
            .flat_map(|s| s.volumes.iter().flatten())
            .find(|x| x.name == v.name)
            .and_then(|x| x.csi.clone())
            .unwrap_or_default();
        let attrs = spec_vol.volume_attributes.clone().unwrap_or_default();
        let sa = p.service_account();
        let (ns, pod_name, volume, spc_name) =
            (key.0.clone(), key.1.clone(), v.name.clone(), v.spc.clone());
        let nps = spec_vol
            .node_publish_secret_ref
            .as_ref()
            .map(|r| r.name.clone());
        let (mut az, spcs) = self.azure();
        let spc = spcs.get(&(ns.clone(), spc_name));
        let req = VolumeRequest {
            namespace: &ns,
            pod: &pod_name,
            service_account: &sa,
            volume: &volume,
            read_only: spec_vol.read_only,
            attributes: &attrs,
            node_publish_secret: nps.as_deref(),
        };
        mount::publish(&mut az, spc, &req, now).map_err(|e| e.0)
    }

    fn try_start(&mut self, key: &Key) {
        let now = self.now();
        let Some(p) = self.pods.get(key) else {
            self.waiting.remove(key);
            return;
        };
        if p.stage == Stage::Terminating {
            self.waiting.remove(key);
            return;
        }
        // 1. CSI volumes.
        let pending: Vec<usize> = p
            .csi
            .iter()
            .enumerate()
            .filter(|(_, v)| v.mounted.is_none())
            .map(|(i, _)| i)
            .collect();
        let mut failures: Vec<(String, String)> = Vec::new();
        for i in pending {
            match self.publish(key, i) {
                Ok(m) => self.mounted(key, i, m),
                Err(e) => {
                    let vol = self
                        .pods
                        .get(key)
                        .map(|p| p.csi[i].name.clone())
                        .unwrap_or_default();
                    failures.push((vol, e));
                }
            }
        }
        // 2. Secret volumes.
        let secret_vols: Vec<(String, String, bool)> = self
            .pods
            .get(key)
            .into_iter()
            .flat_map(|p| p.pod.spec.iter().flat_map(|s| s.volumes.iter().flatten()))
            .filter_map(|v| {
                let s = v.secret.as_ref()?;
                Some((
                    v.name.clone(),
                    s.secret_name.clone().unwrap_or_default(),
                    s.optional.unwrap_or(false),
                ))
            })
            .collect();
        for (vol, secret, optional) in secret_vols {
            if !optional && !self.secrets.contains_key(&(key.0.clone(), secret.clone())) {
                failures.push((vol.clone(), format!("MountVolume.SetUp failed for volume \"{vol}\" : secret \"{secret}\" not found")));
            }
        }
        if !failures.is_empty() {
            for (_, msg) in &failures {
                self.record(key, "Warning", "FailedMount", msg, "kubelet");
            }
            let all_volumes: Vec<String> = self
                .pods
                .get(key)
                .into_iter()
                .flat_map(|p| p.pod.spec.iter().flat_map(|s| s.volumes.iter().flatten()))
                .map(|v| v.name.clone())
                .collect();
            let Some(p) = self.pods.get_mut(key) else {
                return;
            };
            let since = *p.failing_since.get_or_insert(now);
            let due_unable = now.duration_since(since) >= jiff::SignedDuration::from_secs(120)
                && p.unable_reported
                    .is_none_or(|t| now.duration_since(t) >= jiff::SignedDuration::from_secs(120));
            p.next_attempt = now.checked_add(p.backoff).unwrap_or(now);
            p.backoff = (p.backoff * 2).min(BACKOFF_MAX);
            if due_unable {
                p.unable_reported = Some(now);
                let unmounted: Vec<String> = failures.iter().map(|(v, _)| v.clone()).collect();
                let msg = super::messages::unable_to_mount(&unmounted, &all_volumes);
                self.record(key, "Warning", "FailedMount", &msg, "kubelet");
            }
            return;
        }
        // 3. Containers: env from Secrets is resolved now, once.
        match self.resolve_env(key) {
            Err(e) => {
                if let Some(p) = self.pods.get_mut(key) {
                    let first = p.stage != Stage::Configuring;
                    p.stage = Stage::Configuring;
                    p.next_attempt = now.checked_add(CONFIG_RETRY).unwrap_or(now);
                    set_status(p, Some(("CreateContainerConfigError", &e)));
                    if first {
                        self.changed();
                    }
                }
                self.record(key, "Warning", "Failed", &format!("Error: {e}"), "kubelet");
            }
            Ok((env, subpaths)) => {
                if let Some(p) = self.pods.get_mut(key) {
                    p.env = env;
                    p.subpath_files = subpaths;
                    p.stage = Stage::Running;
                    p.started_at = Some(now);
                    p.failing_since = None;
                    set_status(p, None);
                }
                self.waiting.remove(key);
                self.reconcile_needed = true;
                self.changed();
            }
        }
    }

    /// A successful NodePublishVolume: files written, SPCPS created/updated, Secrets synced.
    fn mounted(&mut self, key: &Key, vol: usize, m: Mounted) {
        let now = self.now();
        let Some(p) = self.pods.get_mut(key) else {
            return;
        };
        p.csi[vol].mounted = Some(m.clone());
        let (spc_name, vol_name, pod) = (
            p.csi[vol].spc.clone(),
            p.csi[vol].name.clone(),
            p.pod.metadata.clone(),
        );
        let spcps_key = (key.0.clone(), sync::spcps_name(&key.1, &key.0, &spc_name));
        let existing = self.spcps.remove(&spcps_key);
        let uid = self.uid();
        let s = sync::write_spcps(
            existing,
            &pod,
            &spc_name,
            &vol_name,
            &self.cluster.node,
            &m,
            uid,
            now,
        );
        let owners = sync::owners_for(&pod, &s);
        self.spcps.insert(spcps_key, s);
        self.changed();
        self.sync_secrets(key, &spc_name, &m, &owners, false);
    }

    fn sync_secrets(
        &mut self,
        key: &Key,
        spc_name: &str,
        m: &Mounted,
        owners: &[OwnerReference],
        update: bool,
    ) {
        if !self.cluster.csi_driver.sync_secret {
            return;
        }
        let Some(spc) = self.spcs.get(&(key.0.clone(), spc_name.to_string())) else {
            return;
        };
        let now = self.now();
        let mut counter = self.uid_counter;
        let name = self.name.clone();
        let outcomes = sync::sync_spc(
            &mut self.secrets,
            &key.0,
            spc,
            &m.files,
            owners,
            update,
            || {
                counter += 1;
                let h = Sha256::digest(format!("{name}/secret/{counter}").as_bytes());
                hex::encode(&h[..16])
            },
            now,
        );
        self.uid_counter = counter;
        for o in outcomes {
            match o {
                SyncOutcome::Created(_) => self.changed(),
                SyncOutcome::Updated(n) => {
                    self.changed();
                    self.record(
                        key,
                        "Normal",
                        "SecretRotationComplete",
                        &format!("successfully rotated K8s secret {n}"),
                        "csi-secrets-store-rotation",
                    );
                    if self.cluster.reloader {
                        self.reload_consumers(&key.0, &n);
                    }
                }
                SyncOutcome::Unchanged(n) => {
                    if update {
                        self.record(
                            key,
                            "Normal",
                            "SecretRotationComplete",
                            &format!("successfully rotated K8s secret {n}"),
                            "csi-secrets-store-rotation",
                        );
                    }
                }
                SyncOutcome::Failed(msg) => {
                    self.record(
                        key,
                        "Warning",
                        "FailedToCreateSecret",
                        &msg,
                        "csi-secrets-store-controller",
                    );
                }
            }
        }
    }

    #[allow(clippy::type_complexity)]
    fn resolve_env(
        &self,
        key: &Key,
    ) -> Result<
        (
            BTreeMap<String, BTreeMap<String, Fingerprint>>,
            BTreeMap<String, BTreeMap<String, Fingerprint>>,
        ),
        String,
    > {
        let Some(p) = self.pods.get(key) else {
            return Err("pod gone".into());
        };
        let ns = &key.0;
        let mut env = BTreeMap::new();
        let mut subpaths = BTreeMap::new();
        let Some(spec) = p.pod.spec.as_ref() else {
            return Ok((env, subpaths));
        };
        for c in spec
            .init_containers
            .iter()
            .flatten()
            .chain(spec.containers.iter())
        {
            let mut vars = BTreeMap::new();
            for e in c.env.iter().flatten() {
                let Some(r) = e
                    .value_from
                    .as_ref()
                    .and_then(|f| f.secret_key_ref.as_ref())
                else {
                    continue;
                };
                let optional = r.optional.unwrap_or(false);
                match self.secrets.get(&(ns.clone(), r.name.clone())) {
                    None if optional => {}
                    None => return Err(format!("secret \"{}\" not found", r.name)),
                    Some(s) => match s.data.as_ref().and_then(|d| d.get(&r.key)) {
                        Some(v) => {
                            vars.insert(e.name.clone(), Fingerprint::of(&v.0));
                        }
                        None if optional => {}
                        None => {
                            return Err(format!(
                                "couldn't find key {} in Secret {ns}/{}",
                                r.key, r.name
                            ));
                        }
                    },
                }
            }
            for ef in c.env_from.iter().flatten() {
                let Some(r) = ef.secret_ref.as_ref() else {
                    continue;
                };
                match self.secrets.get(&(ns.clone(), r.name.clone())) {
                    None if r.optional.unwrap_or(false) => {}
                    None => return Err(format!("secret \"{}\" not found", r.name)),
                    Some(s) => {
                        for (k, v) in s.data.iter().flatten() {
                            let name = format!("{}{k}", ef.prefix.clone().unwrap_or_default());
                            vars.insert(name, Fingerprint::of(&v.0));
                        }
                    }
                }
            }
            env.insert(c.name.clone(), vars);
            // subPath mounts of a CSI volume bind the file as it is now; rotation never reaches them.
            let mut files = BTreeMap::new();
            for m in c.volume_mounts.iter().flatten() {
                let Some(sub) = m.sub_path.as_ref().filter(|s| !s.is_empty()) else {
                    continue;
                };
                if let Some(content) = p
                    .csi
                    .iter()
                    .find(|v| v.name == m.name)
                    .and_then(|v| v.mounted.as_ref())
                    .and_then(|mm| mm.files.get(sub))
                {
                    files.insert(m.mount_path.clone(), Fingerprint::of(content));
                }
            }
            if !files.is_empty() {
                subpaths.insert(c.name.clone(), files);
            }
        }
        Ok((env, subpaths))
    }

    /// One rotation poll (≤v1.5 rotation reconciler): every mounted volume is re-published
    /// with the current SPC; new versions rewrite files, update SPCPS and synced Secrets.
    fn rotate_all(&mut self) {
        let keys: Vec<(Key, usize)> = self
            .pods
            .iter()
            .filter(|(_, p)| p.stage != Stage::Terminating)
            .flat_map(|(k, p)| {
                p.csi
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| v.mounted.is_some())
                    .map(move |(i, _)| (k.clone(), i))
            })
            .collect();
        let now = self.now();
        for (key, i) in keys {
            let Some(p) = self.pods.get(&key) else {
                continue;
            };
            let spc_name = p.csi[i].spc.clone();
            match self.publish(&key, i) {
                Err(e) => {
                    // kubelet's wrapper is not part of the rotation path: strip it.
                    let inner = e
                        .split_once(" : rpc error: ")
                        .map(|(_, r)| format!("rpc error: {r}"))
                        .unwrap_or(e);
                    self.record(
                        &key,
                        "Warning",
                        "MountRotationFailed",
                        &format!("provider mount err: {inner}"),
                        "csi-secrets-store-rotation",
                    );
                }
                Ok(m) => {
                    let unchanged = self
                        .pods
                        .get(&key)
                        .is_some_and(|p| p.csi[i].mounted.as_ref() == Some(&m));
                    if unchanged {
                        // Secret patch step still runs (and reports) even when nothing changed.
                        let owners = self.owners_for_key(&key, &spc_name);
                        self.sync_secrets(&key, &spc_name, &m, &owners, true);
                        continue;
                    }
                    let Some(p) = self.pods.get_mut(&key) else {
                        continue;
                    };
                    p.csi[i].mounted = Some(m.clone());
                    let spcps_key = (key.0.clone(), sync::spcps_name(&key.1, &key.0, &spc_name));
                    if let Some(s) = self.spcps.get_mut(&spcps_key)
                        && let Some(st) = s.status.as_mut()
                    {
                        st.objects = Some(
                            m.objects
                                .iter()
                                .map(|(id, v)| crate::snapshot::crd::SpcpsStatusObject {
                                    id: Some(id.clone()),
                                    version: Some(v.clone()),
                                })
                                .collect(),
                        );
                        s.metadata.managed_fields =
                            Some(sync::managed_write("secrets-store-csi-driver", now));
                    }
                    self.changed();
                    let msg = format!(
                        "successfully rotated mounted contents for spc {}/{spc_name}",
                        key.0
                    );
                    self.record(
                        &key,
                        "Normal",
                        "MountRotationComplete",
                        &msg,
                        "csi-secrets-store-rotation",
                    );
                    let owners = self.owners_for_key(&key, &spc_name);
                    self.sync_secrets(&key, &spc_name, &m, &owners, true);
                }
            }
        }
    }

    /// Stakater Reloader (env-vars strategy): workloads annotated `reloader.stakater.com/auto`
    /// that use the Secret, or naming it in `secret.reloader.stakater.com/reload`, get a
    /// `STAKATER_<NAME>_SECRET` env var with the data's hash, hence a rollout.
    fn reload_consumers(&mut self, ns: &str, secret: &str) {
        let Some(data) = self
            .secrets
            .get(&(ns.to_string(), secret.to_string()))
            .and_then(|s| s.data.clone())
        else {
            return;
        };
        let mut h = Sha256::new();
        for (k, v) in &data {
            h.update(k.as_bytes());
            h.update(&v.0);
        }
        let hash = hex::encode(h.finalize());
        let var = format!(
            "STAKATER_{}_SECRET",
            secret.to_uppercase().replace(['-', '.'], "_")
        );
        let keys: Vec<WorkloadKey> = self
            .workloads
            .iter()
            .filter(|(k, w)| k.1 == ns && reloader_watches(w, secret))
            .map(|(k, _)| k.clone())
            .collect();
        for k in keys {
            let Some(t) = self.workloads.get_mut(&k).and_then(|w| w.template_mut()) else {
                continue;
            };
            for c in t.spec.iter_mut().flat_map(|s| s.containers.iter_mut()) {
                let env = c.env.get_or_insert_with(Vec::new);
                env.retain(|e| e.name != var);
                env.push(k8s_openapi::api::core::v1::EnvVar {
                    name: var.clone(),
                    value: Some(hash.clone()),
                    value_from: None,
                });
            }
            self.reconcile_needed = true;
            self.changed();
        }
    }

    fn owners_for_key(&self, key: &Key, spc: &str) -> Vec<OwnerReference> {
        let spcps = self
            .spcps
            .get(&(key.0.clone(), sync::spcps_name(&key.1, &key.0, spc)));
        match (self.pods.get(key), spcps) {
            (Some(p), Some(s)) => sync::owners_for(&p.pod.metadata, s),
            _ => Vec::new(),
        }
    }

    /// Garbage collection: objects whose every owner is gone are deleted (background).
    fn collect_garbage(&mut self) {
        self.gc_needed = false;
        let mut live: HashSet<String> = HashSet::new();
        live.extend(self.workloads.values().map(|w| w.uid()));
        live.extend(
            self.replica_sets
                .values()
                .filter_map(|r| r.metadata.uid.clone()),
        );
        live.extend(self.pods.values().map(|p| p.uid().to_string()));
        live.extend(self.spcps.values().filter_map(|s| s.metadata.uid.clone()));
        let doomed: Vec<Key> = self
            .secrets
            .iter()
            .filter(|(_, s)| {
                let owners = s.metadata.owner_references.as_deref().unwrap_or(&[]);
                !owners.is_empty() && owners.iter().all(|o| !live.contains(&o.uid))
            })
            .map(|(k, _)| k.clone())
            .collect();
        for k in doomed {
            self.secrets.remove(&k);
            self.changed();
        }
    }
}

fn reloader_watches(w: &Workload, secret: &str) -> bool {
    let ann = w.meta().annotations.clone().unwrap_or_default();
    let named = ann
        .get("secret.reloader.stakater.com/reload")
        .is_some_and(|v| v.split(',').any(|s| s.trim() == secret));
    let auto = ann
        .get("reloader.stakater.com/auto")
        .is_some_and(|v| v == "true")
        || ann
            .get("secret.reloader.stakater.com/auto")
            .is_some_and(|v| v == "true");
    named || (auto && w.template().is_some_and(|t| uses_secret(t, secret)))
}

fn uses_secret(t: &PodTemplateSpec, secret: &str) -> bool {
    let Some(spec) = &t.spec else { return false };
    let in_volumes = spec
        .volumes
        .iter()
        .flatten()
        .any(|v| v.secret.as_ref().and_then(|s| s.secret_name.as_deref()) == Some(secret));
    let in_env = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .any(|c| {
            c.env.iter().flatten().any(|e| {
                e.value_from
                    .as_ref()
                    .and_then(|f| f.secret_key_ref.as_ref())
                    .is_some_and(|r| r.name == secret)
            }) || c
                .env_from
                .iter()
                .flatten()
                .any(|e| e.secret_ref.as_ref().is_some_and(|r| r.name == secret))
        });
    in_volumes || in_env
}

fn owned_by(meta: &ObjectMeta, uid: &str) -> bool {
    meta.owner_references.iter().flatten().any(|o| o.uid == uid)
}

/// Pod status as kubelet reports it for the pod's stage.
fn set_status(p: &mut LabPod, waiting: Option<(&str, &str)>) {
    let names: Vec<String> = p
        .pod
        .spec
        .iter()
        .flat_map(|s| s.containers.iter().map(|c| c.name.clone()))
        .collect();
    let state = match (waiting, p.started_at) {
        (Some((reason, message)), _) => ContainerState {
            waiting: Some(ContainerStateWaiting {
                reason: Some(reason.into()),
                message: (!message.is_empty()).then(|| message.to_string()),
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
    p.pod.status = Some(PodStatus {
        phase: Some(if running { "Running" } else { "Pending" }.into()),
        start_time: p.pod.metadata.creation_timestamp.clone(),
        container_statuses: Some(
            names
                .into_iter()
                .map(|name| ContainerStatus {
                    name,
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
    });
}
