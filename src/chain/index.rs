//! Hash-map joins over a snapshot, built once per [`super::diagnose`] call.
//!
//! Every rule looks things up here instead of scanning the snapshot, so a diagnosis is
//! O(pods + objects) rather than O(pods × objects).

use std::borrow::Cow;
use std::collections::HashMap as StdHashMap;
use std::sync::{Arc, Mutex, OnceLock};

use rustc_hash::FxBuildHasher;

use super::azure_index::{AzureIndex, AzureJoins};
use crate::snapshot::*;

/// FxHash (rustc's hasher, from `rustc-hash`): the joins hash short names millions of times
/// per second, and SipHash's DoS resistance buys nothing for a read-only diagnosis of one's own
/// cluster.
pub(crate) type HashMap<K, V> = StdHashMap<K, V, FxBuildHasher>;
pub(crate) type HashSet<K> = std::collections::HashSet<K, FxBuildHasher>;

fn map<K, V>(capacity: usize) -> HashMap<K, V> {
    HashMap::with_capacity_and_hasher(capacity, Default::default())
}

/// Lower-case without allocating when the input already is (the usual case for GUIDs and
/// Key Vault names as Azure returns them).
pub(crate) fn lower(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

type Key<'a> = (&'a str, &'a str);

/// What the chains of every namespace read besides their namespace's own objects.
#[derive(Clone, Copy)]
pub(crate) struct Globals<'a> {
    pub source: &'a SourceInfo,
    pub cluster: &'a ClusterFacts,
    pub azure: &'a AzureObs,
    /// The token audiences every SPC of the cluster reads, sorted, when the index sees one
    /// namespace (the incremental engine keeps them); None: worked out from the index's own
    /// snapshot, which is the whole cluster's.
    pub audiences: Option<&'a [&'static str]>,
}

impl<'a> Globals<'a> {
    pub fn of(snap: &'a Snapshot) -> Self {
        Globals {
            source: &snap.source,
            cluster: &snap.cluster,
            azure: &snap.azure,
            audiences: None,
        }
    }
}

/// A pod's top-level workload (kind, name), and its object when observed.
pub(crate) type Workload<'a> = (Option<(&'a str, &'a str)>, Option<&'a WorkloadObs>);

pub(crate) struct Index<'a> {
    /// The Kubernetes objects: the whole snapshot, or one namespace of it (the incremental
    /// engine). Its source, cluster and Azure parts are not read: [`Index::globals`] are.
    pub snap: &'a Snapshot,
    pub globals: Globals<'a>,
    /// The Azure joins, built here or kept by the caller across diagnoses.
    azure: AzureJoins<'a>,
    pub spcs: HashMap<Key<'a>, &'a SpcObs>,
    pub service_accounts: HashMap<Key<'a>, &'a ServiceAccountObs>,
    /// (namespace, pod, spc) → status.
    pub spcps: HashMap<(&'a str, &'a str, &'a str), &'a SpcPodStatusObs>,
    /// (namespace, spc) → number of pods with the SPC mounted right now.
    pub mounted_per_spc: HashMap<Key<'a>, usize>,
    /// (namespace, spc) → the pod (and template) volumes referencing the SPC and their pods.
    /// Only the throttling estimate (KVC704, from an event), an SPC no pod writes from and
    /// KVC804's readers need it: built on first use, not per call. Owned names (namespace →
    /// SPC → users): a borrowed key would make `Index` invariant.
    spc_users: OnceLock<spc_users::SpcUsersMap>,
    /// namespace → positions in `snap.spcs` of its SecretProviderClasses, built on first use:
    /// only a volume naming an SPC that does not exist asks for the nearest name.
    spcs_by_namespace: by_namespace::ByNamespace,
    /// namespace → positions in `snap.service_accounts`, built on first use: only KVC202's
    /// fix asks for an account of the namespace that carries the SPC's client id.
    sas_by_namespace: by_namespace::ByNamespace,
    /// The token audiences the SPCs' parameters read, sorted: the same for every chain whose
    /// CSIDriver lacks one (KVC105), worked out by the rule on first use.
    spc_audiences: OnceLock<Vec<&'static str>>,
    /// `<namespace>/<service account>` → positions in `snap.pods` of one pod per workload (a
    /// pod nothing owns is its own) running as that account, in pod order. Built on first use:
    /// only a client-id fix (KVC203/KVC204) restarts them all.
    sa_runners: OnceLock<HashMap<String, Vec<usize>>>,
    /// `<namespace>/<kind>/<name>` → the pods each StatefulSet and DaemonSet controls, found
    /// in one pass on first use, and how they stand, worked out per set when asked: only a
    /// restart fix or a StatefulSet's template edit asks (`set_pods.rs`).
    set_pods: OnceLock<HashMap<String, set_pods::SetMembers>>,
    /// `<namespace>/<kind>/<name>` → the names of the pods each StatefulSet and DaemonSet
    /// owns, in name order, worked out in one pass on first use: only an OnDelete owner's fix
    /// asks (`set_pods.rs`).
    owned_pods: OnceLock<HashMap<String, Arc<[Name]>>>,
    /// namespace → Deployment → its newest ReplicaSet and that one's pods, worked out in one
    /// pass on first use: only the rollout replacing a stale pod asks (`rollouts.rs`).
    rollouts: OnceLock<HashMap<String, HashMap<String, rollouts::Newest>>>,
    /// namespace → Job → its pods summed up, worked out in one pass on first use: only a
    /// retired pod that names something gone asks (`job_runs.rs`).
    job_runs: OnceLock<HashMap<String, HashMap<String, job_runs::JobRun>>>,
    /// Each pod-creating controller's newest pod, worked out in one pass on first use: only a
    /// template chain's FailedCreate asks (`failed_creates.rs`).
    newest_created: failed_creates::NewestCreated,
    /// (SPC address, secretObjects index) → the positions in that synced Secret's consumer
    /// list of the pods that consume it without mounting the SPC (KVC903). Worked out once per
    /// Secret, not once per chain: each of a Deployment's n replicas would otherwise scan the
    /// n − 1 others.
    unmounted_consumers: Mutex<HashMap<(usize, usize), consumers::Positions>>,
    /// The restarts of each SPC's remount, once per pass (`pod_restarts.rs`).
    remounts: pod_restarts::Remounts,
    /// The pods waiting on each absent synced Secret, once per pass (`waiting.rs`).
    waiting: waiting::Waiting,
    /// Texts and pod lists a group of chains asks for alike, once per pass (`memo.rs`).
    texts: memo::Texts,
    pod_lists: memo::PodLists,
    pub secrets: HashMap<Key<'a>, &'a SecretObs>,
    /// (namespace, secret) → the SecretProviderClasses whose secretObjects write it (more
    /// than one is a conflict: KVC807).
    pub secret_writers: HashMap<Key<'a>, Vec<&'a SpcObs>>,
    /// (namespace, secret) → pods consuming it.
    pub secret_consumers: Consumers<'a>,
    /// (namespace, secret) → ingresses using it for TLS.
    pub ingress_tls: HashMap<Key<'a>, Vec<&'a IngressObs>>,
    /// (namespace, pod) → mount/sync events about the pod.
    pub pod_events: HashMap<Key<'a>, Vec<&'a EventObs>>,
    /// FailedCreate events on workloads (their pods could not be created).
    pub failed_creates: Vec<&'a EventObs>,
    /// The namespaces whose pods hold a driver's FailedToCreateSecret warning: every mounted
    /// chain asks whether another pod of its SPC holds one (audit UU3), and most namespaces
    /// hold none, which this answers without building the SPC's pod list.
    pub sync_failure_namespaces: HashSet<&'a str>,
    /// (namespace, kind, name) → workload.
    pub workloads: HashMap<(&'a str, &'a str, &'a str), &'a WorkloadObs>,
    /// How the rules read the source's clock since [`Index::take_clock_read`]: the
    /// incremental engine re-diagnoses only the chains whose verdict the clock's move changed.
    clock: ClockReads,
}

impl<'a> Index<'a> {
    pub fn build(snap: &'a Snapshot) -> Self {
        Self::build_with(snap, Globals::of(snap), || {
            AzureJoins::Built(AzureIndex::build(&snap.azure))
        })
    }

    /// The joins over `kube`'s Kubernetes objects, with `globals` and their Azure joins
    /// (`azure` makes them while other threads join the pods: building them is a walk over
    /// every Azure object, as serial as the rest).
    pub fn build_with(
        kube: &'a Snapshot,
        globals: Globals<'a>,
        azure: impl FnOnce() -> AzureJoins<'a>,
    ) -> Self {
        let snap = kube;
        // All three parts are memory-bound walks over thousands of scattered objects, and this
        // is the serial part of a large diagnosis: build the pod-sized two on other threads.
        if super::build::threads_for(snap.pods.items.len()) > 1 {
            std::thread::scope(|scope| {
                let statuses = scope.spawn(|| PodJoins::statuses(snap));
                let consumers = scope.spawn(|| consumers::of(snap));
                let ix = Self::without_pods(snap, globals, azure());
                match (statuses.join(), consumers.join()) {
                    (Ok(statuses), Ok(consumers)) => ix.with_pods(statuses, consumers),
                    (Err(panic), _) | (_, Err(panic)) => std::panic::resume_unwind(panic),
                }
            })
        } else {
            Self::without_pods(snap, globals, azure())
                .with_pods(PodJoins::statuses(snap), consumers::of(snap))
        }
    }

    /// Every join but those over pods, SPC pod statuses and events ([`PodJoins`]).
    fn without_pods(snap: &'a Snapshot, globals: Globals<'a>, azure: AzureJoins<'a>) -> Self {
        let mut ix = Index {
            snap,
            globals,
            azure,
            spcs: map(snap.spcs.items.len()),
            service_accounts: map(snap.service_accounts.items.len()),
            spcps: map(0),
            mounted_per_spc: map(0),
            spc_users: OnceLock::new(),
            spcs_by_namespace: OnceLock::new(),
            sas_by_namespace: OnceLock::new(),
            spc_audiences: OnceLock::new(),
            sa_runners: OnceLock::new(),
            set_pods: OnceLock::new(),
            owned_pods: OnceLock::new(),
            rollouts: OnceLock::new(),
            job_runs: OnceLock::new(),
            newest_created: OnceLock::new(),
            unmounted_consumers: Mutex::new(map(0)),
            remounts: Mutex::new(map(0)),
            waiting: Mutex::new(map(0)),
            texts: Mutex::new(map(0)),
            pod_lists: Mutex::new(map(0)),
            secrets: map(snap.secrets.items.len()),
            secret_writers: map(0),
            secret_consumers: map(0),
            ingress_tls: map(0),
            pod_events: map(0),
            failed_creates: Vec::new(),
            sync_failure_namespaces: HashSet::default(),
            workloads: map(snap.workloads.items.len()),
            clock: ClockReads::new(),
        };
        for s in &snap.spcs.items {
            ix.spcs.insert((&s.namespace, &s.name), s);
            for so in &s.secret_objects {
                let writers = ix
                    .secret_writers
                    .entry((&s.namespace, &so.secret_name))
                    .or_default();
                if !writers.iter().any(|w| std::ptr::eq(*w, s)) {
                    writers.push(s);
                }
            }
        }
        for sa in &snap.service_accounts.items {
            ix.service_accounts.insert((&sa.namespace, &sa.name), sa);
        }
        for s in &snap.secrets.items {
            ix.secrets.insert((&s.namespace, &s.name), s);
        }
        for ing in &snap.ingresses.items {
            for s in &ing.tls_secrets {
                ix.ingress_tls
                    .entry((&ing.namespace, s))
                    .or_default()
                    .push(ing);
            }
        }
        for w in &snap.workloads.items {
            ix.workloads.insert((&w.namespace, &w.kind, &w.name), w);
        }
        ix
    }

    fn with_pods(mut self, pods: PodJoins<'a>, consumers: Consumers<'a>) -> Self {
        self.spcps = pods.spcps;
        self.mounted_per_spc = pods.mounted_per_spc;
        self.secret_consumers = consumers;
        self.pod_events = pods.pod_events;
        self.failed_creates = pods.failed_creates;
        self.sync_failure_namespaces = pods.sync_failure_namespaces;
        self
    }

    /// One pod per workload (or bare pod) of namespace `ns` running as service account `sa`,
    /// in pod order: what the webhook injected the account's annotations into (FACTS §6).
    pub fn runners_of(&self, ns: &str, sa: &str) -> Vec<&'a PodObs> {
        let runners = self.sa_runners.get_or_init(|| {
            let mut runners: HashMap<String, Vec<usize>> = map(0);
            // Per account: a workload whose pods run as two accounts (mid-rollout) is a
            // runner of each. Its pod with the least name stands for it, whatever the pod
            // order (a Job's restart names the pod).
            let pods = &self.snap.pods.items;
            let mut first: HashMap<(String, String, String), usize> = map(0);
            for (i, pod) in pods.iter().enumerate() {
                let (kind, name) = self.workload_of(pod).unwrap_or(("Pod", &pod.name));
                let account = format!("{}/{}", pod.namespace, pod.service_account);
                first
                    .entry((account, kind.to_string(), name.to_string()))
                    .and_modify(|at| {
                        if pods.get(*at).is_some_and(|p| pod.name < p.name) {
                            *at = i;
                        }
                    })
                    .or_insert(i);
            }
            for ((account, _, _), i) in first {
                runners.entry(account).or_default().push(i);
            }
            // Pod order, as every other list of the index.
            runners.values_mut().for_each(|v| v.sort_unstable());
            runners
        });
        let pods = &self.snap.pods.items;
        (runners.get(&format!("{ns}/{sa}")).into_iter().flatten())
            .filter_map(|&i| pods.get(i))
            .collect()
    }

    /// Whether SecretProviderClass `spc` writes its synced Secrets now, or will as soon as its
    /// pods mount: the driver writes them only from a pod's mount (FACTS §2, §11), so an SPC
    /// no pod (or manifest template) references writes nothing. Pods not visible in its
    /// namespace: not known to write nothing (unknown is not absent).
    pub fn writes_now(&self, spc: &SpcObs) -> bool {
        self.writes_now_known(spc) != Some(false)
    }

    /// [`Index::writes_now`] as far as was read: `None` when nothing read can tell. With the
    /// pods unread, the SPC pod statuses that were read still tell (audit SS1): the driver
    /// writes a synced Secret only from a successful mount, and every successful mount leaves
    /// one (FACTS §1, §2), so an SPC no status names writes nothing now. Only with both
    /// unread is it unknown.
    ///
    /// A pod that names the SPC writes once it has it mounted: a Running pod has (the kubelet
    /// starts containers only once every volume is set up), as a template's pods will (a
    /// manifest, a workload whose pods cannot be created); a pod still waiting for its mount
    /// with no status saying mounted writes nothing, and one whose mount fails (a 403) never
    /// will until its cause is fixed (audit RRR-facts: an error on the working chain, whose
    /// Secret had one writer). With the statuses unread, such a pod's mount is unknown.
    pub fn writes_now_known(&self, spc: &SpcObs) -> Option<bool> {
        let ns = spc.namespace.as_str();
        if (self.mounted_per_spc)
            .get(&(ns, spc.name.as_str()))
            .is_some_and(|&n| n > 0)
        {
            return Some(true);
        }
        let statuses_read = self.snap.spc_statuses.unread_in(ns).is_none();
        let mut waiting = false;
        for p in self.pods_mounting(ns, &spc.name) {
            if p.template_of.is_some() || (p.phase == "Running" && !p.deleting) {
                return Some(true);
            }
            waiting |= !p.retired();
        }
        if waiting {
            return statuses_read.then_some(false);
        }
        let pods_unread = self.snap.pods.unknown_in(ns).is_some();
        (!pods_unread || statuses_read).then_some(false)
    }

    /// The SecretProviderClasses that sync Secret `secret` of `ns` and write it now
    /// ([`Index::writes_now`]): more than one is a live conflict (KVC807).
    pub fn writers_now(&self, ns: &str, secret: &str) -> Vec<&'a SpcObs> {
        self.secret_writers
            .get(&(ns, secret))
            .into_iter()
            .flatten()
            .copied()
            .filter(|w| self.writes_now(w))
            .collect()
    }

    /// Whether `pod` mounts a SecretProviderClass that syncs Secret `secret` of its namespace:
    /// one that makes it, if not the one asked about (KVC807 names the conflict).
    pub fn mounts_a_writer(&self, pod: &PodObs, secret: &str) -> bool {
        self.secret_writers
            .get(&(pod.namespace.as_str(), secret))
            .is_some_and(|ws| ws.iter().any(|w| pod.mounts_spc(&w.name)))
    }

    /// The source's clock. Rules read it only where a verdict depends on it, so a chain
    /// that never read it is the same at any time.
    pub fn clock(&self) -> Clock<'_> {
        self.clock.at(self.globals.source.observed_at)
    }

    /// How the clock was read since the last call (and forget it).
    pub fn take_clock_read(&self) -> ClockUse {
        self.clock.take()
    }

    pub fn identity(&self, client_id: &str) -> Option<&'a ManagedIdentityObs> {
        self.azure.identity(self.globals.azure, client_id)
    }

    pub fn vault(&self, name: &str) -> Option<&'a VaultObs> {
        self.azure.vault(self.globals.azure, name)
    }

    /// Role assignments of `principal` (a principalId), in listing order.
    pub fn assignments(&self, principal: &str) -> impl Iterator<Item = &'a RoleAssignmentObs> {
        self.azure.assignments(self.globals.azure, principal)
    }

    /// The role assignments to groups ([`AzureIndex::group_assignments`]).
    pub fn group_assignments(&self) -> impl Iterator<Item = &'a RoleAssignmentObs> {
        self.azure.group_assignments(self.globals.azure)
    }

    /// The role assignments of deleted principals
    /// ([`AzureIndex::deleted_principal_assignments`]).
    pub fn deleted_principal_assignments(&self) -> impl Iterator<Item = &'a RoleAssignmentObs> {
        self.azure.deleted_principal_assignments(self.globals.azure)
    }

    /// Whether `id` names a managed identity seen ([`AzureIndex::is_identity`]).
    pub fn is_identity(&self, id: &str) -> bool {
        self.azure.is_identity(id)
    }

    pub fn object(&self, vault: &str, t: ObjectType, name: &str) -> Option<&'a VaultObjectObs> {
        self.azure.object(self.globals.azure, vault, t, name)
    }

    /// The top-level workload owning a pod: Pod → ReplicaSet → Deployment, Pod → Job → CronJob.
    pub fn workload_of<'p>(&self, pod: &'p PodObs) -> Option<(&'p str, &'p str)>
    where
        'a: 'p,
    {
        if let Some(t) = &pod.template_of {
            return Some((&t.kind, &t.name));
        }
        let (kind, name) = self.owner_path(pod, |_, _| {})?;
        if kind == "ReplicaSet" && !self.snap.workloads.gaps.is_empty() {
            // ReplicaSets not visible: `<deployment>-<pod-template-hash>` is the convention.
            if let Some((dep, hash)) = name.rsplit_once('-')
                && hash.len() >= 5
                && hash.chars().all(|c| c.is_ascii_alphanumeric())
            {
                // An Argo Rollout's ReplicaSets follow it too; its pods carry its own hash
                // label.
                if pod.labels.contains_key("rollouts-pod-template-hash") {
                    return Some(("Rollout", dep));
                }
                return Some(("Deployment", dep));
            }
        }
        Some((kind, name))
    }

    /// Walk a (non-template) pod's owners as [`Index::workload_of`] does: its controller (else
    /// first) owner, then at most two hops through observed workloads (ReplicaSet →
    /// Deployment, Job → CronJob). `visit` sees every hop; the last one is returned.
    pub fn owner_path<'p>(
        &self,
        pod: &'p PodObs,
        mut visit: impl FnMut(&'p str, &'p str),
    ) -> Option<(&'p str, &'p str)>
    where
        'a: 'p,
    {
        let owner = pod
            .owners
            .iter()
            .find(|o| o.controller)
            .or(pod.owners.first())?;
        let mut kind = owner.kind.as_str();
        let mut name = owner.name.as_str();
        visit(kind, name);
        for _ in 0..2 {
            // A built-in workload that holds a pod template is the top: an owner above it is
            // an operator that manages it (Kubernetes docs, "Owners and Dependents"), whose
            // kind kvchain knows nothing of, while the pods, their rollout and Reloader's
            // restart are still the workload's (audit UUU-honest: the chain was the
            // operator's, with a pod-less template chain of the Deployment beside it).
            if matches!(kind, "Deployment" | "StatefulSet" | "DaemonSet" | "CronJob") {
                break;
            }
            let Some(w) = self.workloads.get(&(pod.namespace.as_str(), kind, name)) else {
                break;
            };
            let Some(up) = w.owners.iter().find(|o| o.controller).or(w.owners.first()) else {
                break;
            };
            kind = &up.kind;
            name = &up.name;
            visit(kind, name);
        }
        Some((kind, name))
    }

    pub fn workload(&self, ns: &str, kind: &str, name: &str) -> Option<&'a WorkloadObs> {
        self.workloads.get(&(ns, kind, name)).copied()
    }

    /// [`Index::workload_of`] the pod, and that workload's object when observed.
    pub fn workload_with_object(&self, pod: &'a PodObs) -> Workload<'a> {
        let workload = self.workload_of(pod);
        let object = workload.and_then(|(kind, name)| self.workload(&pod.namespace, kind, name));
        (workload, object)
    }
}

/// The joins keyed by pod: as many entries as pods, so the larger part of [`Index::build`].
/// Built as two halves that can run in parallel: [`PodJoins::statuses`] (this struct) and
/// [`consumers::of`].
struct PodJoins<'a> {
    spcps: HashMap<(&'a str, &'a str, &'a str), &'a SpcPodStatusObs>,
    mounted_per_spc: HashMap<Key<'a>, usize>,
    pod_events: HashMap<Key<'a>, Vec<&'a EventObs>>,
    failed_creates: Vec<&'a EventObs>,
    sync_failure_namespaces: HashSet<&'a str>,
}

impl<'a> PodJoins<'a> {
    /// SecretProviderClassPodStatuses and pod events.
    fn statuses(snap: &'a Snapshot) -> Self {
        let mut ix = PodJoins {
            spcps: map(snap.spc_statuses.items.len()),
            mounted_per_spc: map(snap.spcs.items.len()),
            pod_events: map(0),
            failed_creates: Vec::new(),
            sync_failure_namespaces: HashSet::default(),
        };
        for st in &snap.spc_statuses.items {
            ix.spcps
                .insert((&st.namespace, &st.pod_name, &st.spc_name), st);
            if st.mounted {
                *ix.mounted_per_spc
                    .entry((&st.namespace, &st.spc_name))
                    .or_default() += 1;
            }
        }
        for e in &snap.events.items {
            if e.involved_kind == "Pod" && crate::chain::events::is_relevant_reason(&e.reason) {
                if e.reason == "FailedToCreateSecret" && e.type_ != "Normal" {
                    ix.sync_failure_namespaces.insert(&e.namespace);
                }
                ix.pod_events
                    .entry((&e.namespace, &e.involved_name))
                    .or_default()
                    .push(e);
            } else if e.reason == "FailedCreate" && e.involved_kind != "Pod" {
                ix.failed_creates.push(e);
            }
        }
        ix
    }
}

/// Whether `pod` mounts SecretProviderClass `spc`, or may once its manifest is rendered: a
/// volume that names an unrendered template value (`${SPC}`) may name this one.
pub(crate) fn may_mount(pod: &PodObs, spc: &str) -> bool {
    pod.mounts_spc(spc)
        || pod.volumes.iter().any(|v| {
            matches!(&v.source, VolumeSourceObs::Csi { attributes, .. }
                if attributes.get(SPC_ATTRIBUTE).is_some_and(|s| super::rules::params::is_placeholder(s)))
        })
}

pub(crate) use crate::snapshot::mounts::{DRIVER, SPC_ATTRIBUTE};

mod by_namespace;
mod clock;
mod consumers;
mod failed_creates;
mod job_runs;
mod memo;
mod pod_restarts;
mod rollouts;
mod set_pods;
mod spc_users;
mod waiting;

use clock::ClockReads;
pub(crate) use clock::{Clock, ClockUse};
use consumers::Consumers;
pub(crate) use consumers::{Consumer, Readers, Use, pod_address};
pub(crate) use pod_restarts::PodRestarts;
pub(crate) use rollouts::{owned_by, revision};
