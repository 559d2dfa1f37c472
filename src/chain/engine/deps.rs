//! Which objects a pod's chains read, and which readers a change reaches.
//!
//! Within one namespace (chains never read another namespace's objects, see
//! [`super::Engine`]), a pod's chains read: the pod itself with its SecretProviderClass pod
//! statuses and events ([`Dep::Pod`]); each SecretProviderClass its volumes name, with the
//! aggregates over the pods that mount it — how many have it mounted, how many reference it,
//! which consumers of its synced Secrets do not mount it ([`Dep::Spc`]); the Secrets it syncs
//! or reads, with their consumers and Ingresses ([`Dep::Secret`]); the ServiceAccounts (the
//! rules look for a near name or an annotated one when the pod's is wrong: [`Dep::Sas`]); every
//! SecretProviderClass when one it names is missing (did-you-mean: [`Dep::Spcs`]); and the
//! workloads on its owner path ([`Dep::Workload`]). A chain whose client-id fix restarts every
//! workload running as its ServiceAccount (KVC203/KVC204) also reads those pods, their
//! owner paths and the SecretProviderClasses they mount ([`Dep::Runners`]). A chain holding a KVC804 reads the owner paths of every pod
//! mounting its SPC: the fix names the workloads whose containers read the tls entry's file.
//! A StatefulSet's pod, changed, reaches the chains reading the set ([`Dep::Workload`]): their
//! fixes delete the pods of it that are not Running and Ready.
//!
//! A change touches the keys of the object before and after it, so a pod that stops mounting
//! an SPC still reaches the chains that counted it.

use crate::chain::index::{HashMap, HashSet, Index, SPC_ATTRIBUTE};
use crate::snapshot::{
    EnvSourceObs, IngressObs, Name, PodObs, SpcPodStatusObs, VolumeSourceObs, WorkloadObs,
};

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Dep {
    Pod(Name),
    Spc(Name),
    Secret(Name),
    Workload(Name, Name),
    Sas,
    /// The pods running as a ServiceAccount (by its name).
    Runners(Name),
    Spcs,
    /// The time itself: a message names it or an age taken from it (see `Clock::now`).
    Clock,
    /// The pods bound to a node (by its name): which are there.
    Node(Name),
}

/// A pod of one namespace, as the engine numbers them (see `Space`).
pub(super) type PodId = u32;

/// Which pods read which key: each key held once, the pods as numbers. (Held by name, the
/// index was a third of the engine's memory at 10,000 pods: every pod's name once per key
/// it reads.) A pod's own key ([`Dep::Pod`]) is not held: only the pod reads it.
#[derive(Default)]
pub(super) struct Readers {
    ids: HashMap<Dep, u32>,
    keys: Vec<Keyed>,
    free: Vec<u32>,
}

#[derive(Default)]
struct Keyed {
    dep: Option<Dep>,
    pods: HashSet<PodId>,
}

impl Readers {
    pub fn clear(&mut self) {
        *self = Readers::default();
    }

    /// `pod` reads `deps`; returns the numbers its reads are kept under.
    pub fn add(&mut self, pod: PodId, deps: Vec<Dep>) -> Box<[u32]> {
        deps.into_iter()
            .map(|dep| {
                let id = match self.ids.get(&dep) {
                    Some(&id) => id,
                    None => {
                        let id = self.free.pop().unwrap_or(self.keys.len() as u32);
                        if id as usize == self.keys.len() {
                            self.keys.push(Keyed::default());
                        }
                        self.keys[id as usize].dep = Some(dep.clone());
                        self.ids.insert(dep, id);
                        id
                    }
                };
                self.keys[id as usize].pods.insert(pod);
                id
            })
            .collect()
    }

    /// `pod` no longer reads the keys `add` numbered `reads`; a key nobody reads is forgotten.
    pub fn remove(&mut self, pod: PodId, reads: &[u32]) {
        for &id in reads {
            let keyed = &mut self.keys[id as usize];
            keyed.pods.remove(&pod);
            if keyed.pods.is_empty() {
                if let Some(dep) = keyed.dep.take() {
                    self.ids.remove(&dep);
                }
                keyed.pods = HashSet::default();
                self.free.push(id);
            }
        }
    }

    /// The pods that read `dep` (none for [`Dep::Pod`]: see [`Readers`]).
    pub fn of(&self, dep: &Dep) -> impl Iterator<Item = PodId> + '_ {
        self.ids
            .get(dep)
            .into_iter()
            .flat_map(|&id| self.keys[id as usize].pods.iter().copied())
    }
}

/// The keys a pod's chains read (see the module documentation), given the index of its
/// namespace, the SPC names its chains ended up with, and those of its chains holding a
/// KVC804 (whose fix names the readers of the tls entry's file).
pub(super) fn reads(ix: &Index<'_>, pod: &PodObs, spcs: &[&str], tls_fixes: &[&str]) -> Vec<Dep> {
    let ns = pod.namespace.as_str();
    // Not its own key ([`Dep::Pod`]): only the pod reads that (see [`Readers`]).
    let mut deps = vec![Dep::Sas];
    for &name in spcs {
        deps.push(Dep::Spc(name.into()));
        match ix.spcs.get(&(ns, name)) {
            Some(spc) => {
                for so in &spc.secret_objects {
                    deps.push(Dep::Secret(so.secret_name.as_str().into()));
                    // Another SPC writing the same Secret is a live conflict (KVC807) only
                    // while a pod mounts it: a pod starting or stopping to mount that SPC
                    // (its key) changes this chain's verdict.
                    deps.extend(
                        ix.secret_writers
                            .get(&(ns, so.secret_name.as_str()))
                            .into_iter()
                            .flatten()
                            .filter(|w| w.name != name)
                            .map(|w| Dep::Spc(w.name.as_str().into())),
                    );
                }
            }
            None => deps.push(Dep::Spcs),
        }
    }
    deps.extend(secrets_of(pod).map(|s| Dep::Secret(s.into())));
    owner_path(ix, pod, &mut deps);
    if client_id_fix_possible(ix, pod, spcs) {
        deps.push(Dep::Runners(pod.service_account.clone()));
        for runner in ix.runners_of(ns, &pod.service_account) {
            owner_path(ix, runner, &mut deps);
            // The SPCs the other runners mount: one whose clientID is the account's own
            // keeps KVC204 from moving the annotation (`rules::sa_multi`, audit LL1).
            deps.extend(runner.volumes.iter().filter_map(|v| match &v.source {
                VolumeSourceObs::Csi { attributes, .. } => {
                    (attributes.get(SPC_ATTRIBUTE)).map(|name| Dep::Spc(name.as_str().into()))
                }
                _ => None,
            }));
        }
    }
    moved_accounts(ix, pod, spcs, &mut deps);
    // Consumers of the Secrets the chains sync are named by their workload.
    let synced: Vec<Name> = deps
        .iter()
        .filter_map(|d| match d {
            Dep::Secret(s) => Some(s.clone()),
            _ => None,
        })
        .collect();
    // Replicas share their owner path: walk it once per owner, not once per consumer (a
    // Secret every pod of a namespace reads made this 200 walks for each of 200 pods).
    let mut walked: HashSet<(&str, &str)> = HashSet::default();
    for secret in &synced {
        for c in ix
            .secret_consumers
            .get(&(ns, secret.as_str()))
            .into_iter()
            .flatten()
        {
            let first = c
                .pod
                .owners
                .iter()
                .find(|o| o.controller)
                .or(c.pod.owners.first());
            if first.is_some_and(|o| !walked.insert((o.kind.as_str(), o.name.as_str()))) {
                continue;
            }
            owner_path(ix, c.pod, &mut deps);
        }
    }
    // The remount of a pod whose SPC syncs Secrets restarts every pod mounting the SPC
    // (`remedy::remount`, audit NN4): their owners are named in the fix.
    for &name in spcs {
        if (ix.spcs.get(&(ns, name))).is_none_or(|spc| spc.secret_objects.is_empty()) {
            continue;
        }
        for p in ix.pods_mounting(ns, name) {
            let first = p.owners.iter().find(|o| o.controller).or(p.owners.first());
            if first.is_some_and(|o| !walked.insert((o.kind.as_str(), o.name.as_str()))) {
                continue;
            }
            owner_path(ix, p, &mut deps);
        }
    }
    // KVC804's fix names the workloads whose containers read a tls entry's file from the
    // SPC's volume (`rules::sync::tls`): the owners of every pod mounting that SPC. Only a
    // chain holding one reads them (a chain that gains one is re-diagnosed by its SPC's key),
    // so a healthy tls SPC mounted by many pods costs no scan per pod.
    for &name in tls_fixes {
        for p in ix.pods_mounting(ns, name) {
            let first = p.owners.iter().find(|o| o.controller).or(p.owners.first());
            if first.is_some_and(|o| !walked.insert((o.kind.as_str(), o.name.as_str()))) {
                continue;
            }
            owner_path(ix, p, &mut deps);
        }
    }
    node_peers(ix, pod, &mut deps);
    deps.sort_unstable();
    deps.dedup();
    deps
}

/// A pod on a node with a NoSchedule taint reads the other pods of its namespace there, with
/// their statuses and events: a success of the driver on the node says whether the driver
/// pods placed before the taint still run (`rules::node::presence`). It reads which pods
/// are there ([`Dep::Node`]) and each of them ([`Dep::Pod`], held for it as a reader).
fn node_peers(ix: &Index<'_>, pod: &PodObs, deps: &mut Vec<Dep>) {
    let Some(node) = pod.node.as_deref() else {
        return;
    };
    let tainted = ix.globals.cluster.nodes.known().is_some_and(|nodes| {
        nodes
            .iter()
            .any(|n| n.name == node && n.taints.iter().any(|t| t.effect == "NoSchedule"))
    });
    if !tainted {
        return;
    }
    deps.push(Dep::Node(node.into()));
    deps.extend(
        crate::chain::rules::node::pods_on(ix.snap.pods.items.iter(), &pod.namespace, node)
            .filter(|p| p.name != pod.name)
            .map(|p| Dep::Pod(p.name.clone())),
    );
}

/// Whether a chain of `pod` may carry a client-id fix (KVC203/KVC204, whose restart names
/// every workload running as the ServiceAccount): its account exists and its client-id
/// annotation is missing, differs from a clientID its SecretProviderClasses give, or names
/// with them a clientID no identity seen has. A
/// superset is enough: most chains agree, and they do not read the other pods.
fn client_id_fix_possible(ix: &Index<'_>, pod: &PodObs, spcs: &[&str]) -> bool {
    let ns = pod.namespace.as_str();
    let Some(sa) = ix.service_accounts.get(&(ns, pod.service_account.as_str())) else {
        return false;
    };
    let annotated = sa.annotations.get("azure.workload.identity/client-id");
    // The SPCs' clientIDs and any a volume writes over them (the driver merges those over).
    let spc_ids = spcs.iter().filter_map(|name| {
        (ix.spcs.get(&(ns, *name))).and_then(|spc| spc.parameters.get("clientID"))
    });
    let volume_ids = pod.volumes.iter().filter_map(|v| match &v.source {
        VolumeSourceObs::Csi { attributes, .. } => attributes.get("clientID"),
        _ => None,
    });
    // A clientID no identity seen has (KVC301) is fixed with the annotation and the same
    // restart when the account names it too (`rules::identity_side`, audit MM3).
    let identities = &ix.globals.azure.identities.items;
    let no_identity = |c: &str| !(identities.iter()).any(|i| i.client_id.eq_ignore_ascii_case(c));
    spc_ids.chain(volume_ids).any(|c| match annotated {
        None => true,
        Some(a) => !a.trim().eq_ignore_ascii_case(c.trim()) || no_identity(c.trim()),
    })
}

/// KVC303/KVC304's move onto workload identity annotates every account of the SPC's mounting
/// pods that names another identity and restarts its runners (`remedy::workload_identity`,
/// audit NN1): a chain of an SPC in node- or pod-identity mode (a superset: any value, on the
/// SPC or a volume) reads the runners of each mounting account and their owner paths.
fn moved_accounts(ix: &Index<'_>, pod: &PodObs, spcs: &[&str], deps: &mut Vec<Dep>) {
    const MODES: [&str; 2] = ["useVMManagedIdentity", "usePodIdentity"];
    let ns = pod.namespace.as_str();
    let on_volume = pod.volumes.iter().any(|v| match &v.source {
        VolumeSourceObs::Csi { attributes, .. } => {
            MODES.iter().any(|m| attributes.contains_key(*m))
        }
        _ => false,
    });
    let mut seen: HashSet<&str> = HashSet::default();
    for &name in spcs {
        let on_spc = (ix.spcs.get(&(ns, name)))
            .is_some_and(|spc| MODES.iter().any(|m| spc.parameters.contains_key(*m)));
        if !on_spc && !on_volume {
            continue;
        }
        for p in ix.pods_mounting(ns, name).chain(std::iter::once(pod)) {
            if !seen.insert(p.service_account.as_str()) {
                continue;
            }
            deps.push(Dep::Runners(p.service_account.clone()));
            for runner in ix.runners_of(ns, &p.service_account) {
                owner_path(ix, runner, deps);
            }
        }
    }
}

/// The workloads `Index::workload_of` visits for `pod` (or the workload a template belongs to).
fn owner_path(ix: &Index<'_>, pod: &PodObs, deps: &mut Vec<Dep>) {
    match &pod.template_of {
        Some(t) => deps.push(Dep::Workload(t.kind.clone(), t.name.clone())),
        None => {
            ix.owner_path(pod, |kind, name| {
                deps.push(Dep::Workload(kind.into(), name.into()));
            });
        }
    }
}

/// Secrets a pod reads: CSI nodePublishSecretRef, secret and projected volumes, env, envFrom.
fn secrets_of(pod: &PodObs) -> impl Iterator<Item = &str> {
    let volumes = pod.volumes.iter().flat_map(|v| match &v.source {
        VolumeSourceObs::Csi {
            node_publish_secret,
            ..
        } => node_publish_secret
            .iter()
            .map(Name::as_str)
            .collect::<Vec<_>>(),
        VolumeSourceObs::Secret { secret_name, .. } => vec![secret_name.as_str()],
        VolumeSourceObs::Projected { secrets, .. } => secrets.iter().map(Name::as_str).collect(),
        VolumeSourceObs::Other => Vec::new(),
    });
    let env = pod.containers.iter().flat_map(|c| {
        c.env
            .iter()
            .filter_map(|e| match &e.source {
                EnvSourceObs::SecretKey { secret, .. } => Some(secret.as_str()),
                _ => None,
            })
            .chain(c.env_from_secrets.iter().map(Name::as_str))
    });
    volumes
        .chain(env)
        .chain(pod.image_pull_secrets.iter().map(Name::as_str))
}

/// The keys a pod's change reaches: its own chains, and the aggregates it takes part in.
pub(super) fn touched_by_pod(pod: &PodObs, out: &mut Vec<Dep>) {
    out.push(Dep::Pod(pod.name.clone()));
    // A StatefulSet's fixes read how its pods stand: a template edit or restart deletes the
    // pods its OrderedReady rollout waits for (`remedy::ordered_wait`, audit PP4; the restart
    // plan's stuck siblings). The chains reading the set on their owner path are reached.
    if let Some(o) = (pod.owners.iter()).find(|o| o.controller && o.kind == "StatefulSet") {
        out.push(Dep::Workload(o.kind.clone(), o.name.clone()));
    }
    if let Some(node) = &pod.node {
        out.push(Dep::Node(node.clone()));
    }
    out.push(Dep::Runners(pod.service_account.clone()));
    for v in &pod.volumes {
        if let VolumeSourceObs::Csi { attributes, .. } = &v.source {
            // Every attribute value: a misspelt key still names the SPC the chain reads.
            if let Some(spc) = attributes.get(SPC_ATTRIBUTE) {
                out.push(Dep::Spc(spc.as_str().into()));
            }
            out.extend(attributes.values().map(|v| Dep::Spc(v.as_str().into())));
        }
    }
    out.extend(secrets_of(pod).map(|s| Dep::Secret(s.into())));
}

pub(super) fn touched_by_status(st: &SpcPodStatusObs, out: &mut Vec<Dep>) {
    out.push(Dep::Pod(st.pod_name.as_str().into()));
    out.push(Dep::Spc(st.spc_name.as_str().into()));
}

pub(super) fn touched_by_workload(w: &WorkloadObs, out: &mut Vec<Dep>) {
    out.push(Dep::Workload(
        w.kind.as_str().into(),
        w.name.as_str().into(),
    ));
    // A ReplicaSet's revision tells its Deployment's older pods they are being replaced
    // (`rules::consumers::rollout`): a new one reaches every pod of the Deployment, which
    // reads its Deployment on its owner path.
    if w.kind == "ReplicaSet" {
        out.extend(
            w.owners
                .iter()
                .filter(|o| o.kind == "Deployment")
                .map(|o| Dep::Workload(o.kind.clone(), o.name.clone())),
        );
    }
}

pub(super) fn touched_by_ingress(i: &IngressObs, out: &mut Vec<Dep>) {
    out.extend(i.tls_secrets.iter().map(|s| Dep::Secret(s.as_str().into())));
}
