//! The lab world: Kubernetes objects (as k8s-openapi types, so the snapshot is produced by the
//! same conversion as a live cluster), the Azure side, and the per-pod state kubelet and the
//! CSI driver keep. Synchronous and deterministic: [`World::advance`] moves lab time in
//! one-second ticks and computes every consequence.

mod actions;
mod config;
mod controllers;
mod daemon;
mod events;
mod job_runs;
mod kubelet;
mod lifecycle;
mod pod;
mod reloader;
mod requeue;
mod rolling;
mod rollout;
mod rotation;
mod stateful;
mod sub_path;
mod used;
mod waiting;

pub(crate) use controllers::replaced_by_update;
pub use events::LabEvent;
use pod::set_status;
pub use pod::{CsiVolume, Held, LabPod, LabReplicaSet, Stage, Workload, WorkloadKey};
pub(crate) use stateful::start as stateful_start;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{
    Event, EventSource, ObjectReference, Pod, PodSpec, PodTemplateSpec, Secret, ServiceAccount,
};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};
use sha2::{Digest, Sha256};

use super::azure::{LabIdentity, LabVault};
use super::clock::Clock;
use super::mount::{self, AzureWorld, Mounted, VolumeRequest};
use super::scenario::{
    ClusterSpec, FederatedCredential, LabAction, RoleAssignment, Scenario, TimedEvent,
};
use super::sync::{self, SyncOutcome};
use super::vaults::Vaults;
use super::webhook;
use crate::fingerprint::Fingerprint;
use crate::snapshot::crd::SecretProviderClass;

pub type Key = (String, String);

const TICK: Duration = Duration::from_secs(1);

/// The first tick boundary (a whole multiple of [`TICK`] from the start) after `t`.
fn next_tick_after(t: Duration) -> Duration {
    let n = t.as_nanos() / TICK.as_nanos() + 1;
    Duration::from_nanos(u64::try_from(n * TICK.as_nanos()).unwrap_or(u64::MAX))
}

/// kubelet's volume-mount back-off: starts small, doubles, caps at 2m2s.
const BACKOFF_MAX: Duration = Duration::from_secs(122);
/// PodGC deletes a pod bound to a node that does not exist once the node has been missing for
/// its quarantine (`quarantineTime`, 40 s).
const PODGC_QUARANTINE: Duration = Duration::from_secs(40);
/// kubelet retries a container whose config cannot be built.
const CONFIG_RETRY: Duration = Duration::from_secs(10);
const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

pub struct World {
    pub name: String,
    pub clock: Clock,
    pub cluster: ClusterSpec,
    pub identities: Vec<LabIdentity>,
    pub vaults: Vaults,
    pub role_assignments: Vec<RoleAssignment>,
    /// The Cluster's node first, then the scenario's Node documents.
    pub nodes: Vec<crate::snapshot::NodeObs>,
    identity_index: HashMap<String, Vec<usize>>,
    ra_index: HashMap<String, Vec<usize>>,
    parse_cache: mount::ParseCache,
    pub namespaces: BTreeSet<String>,
    pub service_accounts: BTreeMap<Key, ServiceAccount>,
    pub spcs: BTreeMap<Key, SecretProviderClass>,
    pub workloads: BTreeMap<WorkloadKey, Workload>,
    pub replica_sets: BTreeMap<Key, LabReplicaSet>,
    /// StatefulSet uid → its current revision (`status.currentRevision`) and that revision's
    /// pod template: what the controller re-creates a pod below the partition from.
    stateful_revisions: HashMap<String, (String, PodTemplateSpec)>,
    /// Boxed: a map node holds eleven entries, a third of them empty on average.
    pub pods: BTreeMap<Key, Box<LabPod>>,
    /// Controller uid → the spec its last pod was admitted with (see `share_spec`).
    pod_specs: HashMap<String, Arc<PodSpec>>,
    pub secrets: BTreeMap<Key, Secret>,
    /// ConfigMaps by key, their keys only: the kubelet's env and volume checks read them.
    pub config_maps: BTreeMap<Key, super::config_map::LabConfigMap>,
    pub spcps: BTreeMap<Key, sync::LabSpcps>,
    pub ingresses: Vec<Ingress>,
    pub events: Vec<LabEvent>,
    /// Hash of (object uid, reason, message) → indexes in `events` with that hash.
    event_index: rustc_hash::FxHashMap<u64, Vec<usize>>,
    timeline: Vec<TimedEvent>,
    next_timed: usize,
    /// Timeline events that could not happen, with why: the scenario asked for something the
    /// world refused, which a trainer must see (reported as unread input).
    pub timeline_failures: Vec<String>,
    /// Faults currently applied, with what is needed to undo them.
    /// The faults applied, in the order they were (their undos are exact only undone in
    /// reverse order where they touch the same piece of the world).
    pub(super) faults: Vec<super::faults::Applied>,
    waiting: waiting::Waiting,
    terminating: BTreeSet<Key>,
    /// Running Job pods, with when their run ends ([`job_runs`]).
    job_runs: BTreeMap<Key, Timestamp>,
    next_rotation: Duration,
    /// Synced Secrets missing (deleted by hand, or their create refused), made at a mounted
    /// pod's status requeue ([`requeue`]).
    deleted_synced: Vec<(String, String)>,
    /// The lab time of the last tick: the requeues due since are run.
    last_tick: Timestamp,
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
                    // The scenario's credentials stand when the lab starts.
                    fics: (i.spec.federated_credentials.iter())
                        .map(|f| FederatedCredential {
                            modified_at: Some(now),
                            ..f.clone()
                        })
                        .collect(),
                    former_principal_ids: i.spec.former_principal_ids.clone(),
                })
                .collect(),
            vaults: sc
                .vaults
                .iter()
                .map(|v| LabVault::from_spec(v, now))
                .collect(),
            // The scenario's grants stand when the lab starts.
            role_assignments: (sc.role_assignments.iter())
                .map(|ra| RoleAssignment {
                    created_at: Some(now),
                    ..ra.clone()
                })
                .collect(),
            nodes: super::nodes::lab_nodes(&sc.cluster, &sc.nodes),
            identity_index: HashMap::new(),
            ra_index: HashMap::new(),
            parse_cache: mount::ParseCache::default(),
            cluster: sc.cluster.clone(),
            namespaces: BTreeSet::new(),
            service_accounts: BTreeMap::new(),
            spcs: BTreeMap::new(),
            workloads: BTreeMap::new(),
            replica_sets: BTreeMap::new(),
            stateful_revisions: HashMap::new(),
            pods: BTreeMap::new(),
            pod_specs: HashMap::new(),
            secrets: BTreeMap::new(),
            config_maps: BTreeMap::new(),
            spcps: BTreeMap::new(),
            ingresses: Vec::new(),
            events: Vec::new(),
            event_index: rustc_hash::FxHashMap::default(),
            timeline: sc.timeline.clone(),
            next_timed: 0,
            timeline_failures: Vec::new(),
            faults: Vec::new(),
            waiting: waiting::Waiting::default(),
            terminating: BTreeSet::new(),
            job_runs: BTreeMap::new(),
            next_rotation: poll,
            deleted_synced: Vec::new(),
            last_tick: Timestamp::UNIX_EPOCH,
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
            // The API server merges `stringData` into `data` on write (stringData wins) and
            // never returns it: readers of the Secret see `data` only.
            if let Some(sd) = s.string_data.take() {
                let data = s.data.get_or_insert_with(BTreeMap::new);
                for (k, v) in sd {
                    data.insert(k, k8s_openapi::ByteString(v.into_bytes()));
                }
            }
            let key = w.stamp(&mut s.metadata);
            w.secrets.insert(key, s);
        }
        for mut cm in sc.config_maps {
            let key = w.stamp(&mut cm.metadata);
            w.config_maps.insert(key, cm);
        }
        for mut i in sc.ingresses {
            w.stamp(&mut i.metadata);
            w.ingresses.push(i);
        }
        let workloads = sc
            .deployments
            .into_iter()
            .map(|d| Workload::Deployment(Box::new(d)))
            .chain(
                sc.stateful_sets
                    .into_iter()
                    .map(|s| Workload::StatefulSet(Box::new(s))),
            )
            .chain(
                sc.daemon_sets
                    .into_iter()
                    .map(|d| Workload::DaemonSet(Box::new(d))),
            )
            .chain(sc.jobs.into_iter().map(|j| Workload::Job(Box::new(j))));
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

    /// Takes every pod out of the world (with the specs kept for sharing): for the export of
    /// a world that is dropped next, never for one that keeps running.
    pub fn take_pods(&mut self) -> BTreeMap<Key, Box<LabPod>> {
        self.pod_specs.clear();
        std::mem::take(&mut self.pods)
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// SecretProviderClass parameters parsed as the provider does: the parse a mount made of
    /// the same parameters when there is one (parsing the objects YAML dominates large worlds).
    pub fn parsed(&self, params: &BTreeMap<String, String>) -> crate::spc::AzureSpc {
        self.parse_cache
            .get(params)
            .map_or_else(|| crate::spc::parse(params), |p| (**p).clone())
    }

    pub fn poll_interval(&self) -> Duration {
        self.cluster.csi_driver.rotation_poll_interval
    }

    fn uid(&mut self) -> String {
        self.uid_counter += 1;
        let h = Sha256::digest(format!("{}/{}", self.name, self.uid_counter).as_bytes());
        let x = hex::encode(&h[..16]);
        // Sized exactly (`format!` grows to 64 bytes): every object of the world holds one.
        let parts = [
            &x[..8],
            "-",
            &x[8..12],
            "-4",
            &x[13..16],
            "-8",
            &x[17..20],
            "-",
            &x[20..],
        ];
        parts.concat()
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
        // Keyed lower-case: a clientId is a GUID, read in any case (FACTS §7 names the only
        // case-sensitive comparisons: issuer, subject, audience).
        for (i, id) in self.identities.iter().enumerate() {
            self.identity_index
                .entry(id.client_id.to_ascii_lowercase())
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

    /// Moves lab time forward by `d`, computing every consequence tick by tick. Ticks fall on
    /// whole multiples of [`TICK`] from the start, whatever the caller's steps (audit OO2): the
    /// TUI advances a fraction of a second at a time, `check --lab` whole seconds, and the lab
    /// is deterministic, so both must see pods start (and everything else a tick does) at the
    /// same lab times. Between ticks only the clock moves.
    pub fn advance(&mut self, d: Duration) {
        let target = self.clock.elapsed() + d;
        loop {
            let next = next_tick_after(self.clock.elapsed());
            if next > target {
                break;
            }
            self.clock.set_elapsed(next);
            self.tick();
        }
        self.clock.set_elapsed(target);
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
                self.timeline_failures.push(format!(
                    "scenario {}, Timeline event at {} ({}): did not happen: {err}",
                    self.name,
                    humantime::format_duration(e.at),
                    e.action
                ));
            }
        }
        self.finish_terminations();
        self.finish_job_runs();
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
        let now = self.now();
        if !self.deleted_synced.is_empty() {
            // The first tick has no span behind it.
            let since = Some(self.last_tick).filter(|t| *t != Timestamp::UNIX_EPOCH);
            self.run_requeues(since.unwrap_or(now));
        }
        self.last_tick = now;
        if self.gc_needed {
            self.collect_garbage();
        }
        if elapsed.as_secs().is_multiple_of(60) {
            self.expire_events();
        }
    }

    /// Carries out a timeline or trainer action.
    pub fn perform(&mut self, action: &LabAction) -> Result<String, String> {
        match action {
            LabAction::RotateSecret { vault, name, value } => {
                self.rotate_secret(vault, name, value.as_deref().map(str::as_bytes))
            }
            LabAction::DeletePod { namespace, name } => self.delete_pod(namespace, name),
            LabAction::DeleteSecret { namespace, name } => self.delete_secret(namespace, name),
            LabAction::RolloutRestart {
                namespace,
                kind,
                name,
            } => self.rollout_restart(kind, namespace, name),
            LabAction::PauseRollout { namespace, name } => self.set_paused(namespace, name, true),
            LabAction::ResumeRollout { namespace, name } => self.set_paused(namespace, name, false),
            LabAction::DeleteWorkload {
                namespace,
                kind,
                name,
            } => self.delete_workload(kind, namespace, name),
            LabAction::ApplyFault { id } => super::faults::apply(self, id),
            LabAction::RepairFault { id } => super::faults::repair(self, id),
        }
    }
}
