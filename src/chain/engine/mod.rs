//! Incremental diagnosis: when one object changes, re-diagnose only the chains that read it.
//!
//! A chain reads the objects of its own namespace and the globals (source clock, cluster
//! facts, the Azure side) — never another namespace's objects (offline manifests are the
//! exception: an SPC "in the files, but in another namespace" is named, so a manifests source
//! is diagnosed whole on every change). The engine therefore keeps one [`space::Space`] per
//! namespace and, inside it, which pods' chains read which object ([`deps`]). A change of a
//! Kubernetes object re-diagnoses the pods whose chains read it (plus the namespace's template
//! and orphan chains, which are few). The clock moves with every snapshot a source sends, but
//! few verdicts depend on it (an expiry, a rotation lag, a failure that stopped recurring):
//! when it moves, chains whose message names the time ([`deps::Dep::Clock`]) are re-diagnosed,
//! and those that compared it with an instant once it passes that instant (see
//! `Index::clock`). Any other change of the globals, or the clock going back, re-diagnoses
//! everything, the Azure joins being rebuilt only when the Azure side itself changed.
//!
//! [`Engine::chains`] equals [`super::diagnose`] of [`Engine::snapshot`] (property-tested in
//! `tests/it/engine_props.rs`), in the same order within each namespace.

mod deps;
mod diff;
mod feed;
mod space;

pub use diff::diff;
pub use feed::{Fed, Feed};

use std::collections::BTreeMap;
use std::sync::Arc;

use super::azure_index::AzureIndex;
use super::index::{Globals, HashSet};
use super::model::Chain;
use super::rules::remedy::cluster_audiences;
use crate::snapshot::*;
use deps::{Dep, PodId};
use space::{Space, With};

/// One Kubernetes object a source observed, shared with the snapshot it came in.
#[derive(Clone, Debug)]
pub enum Object {
    Pod(Arc<PodObs>),
    ServiceAccount(Arc<ServiceAccountObs>),
    Spc(Arc<SpcObs>),
    SpcStatus(Arc<SpcPodStatusObs>),
    Secret(Arc<SecretObs>),
    Event(Arc<EventObs>),
    Workload(Arc<WorkloadObs>),
    Ingress(Arc<IngressObs>),
}

/// What happened to an object: created or updated, or deleted (carrying its last state, as a
/// watch's delete event does).
#[derive(Clone, Debug)]
pub enum Change {
    Upsert(Object),
    Delete(Object),
}

/// What one [`Engine::apply`] cost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Work {
    /// Namespaces touched.
    pub namespaces: usize,
    /// Chains built anew (the rest were kept).
    pub chains: usize,
}

/// What runs over every chain the engine builds, with the objects of the chains' namespace
/// (e.g. marking suppressed findings), so kept chains need not be gone over again.
pub type Finish = dyn Fn(&Snapshot, &mut [Chain]) + Send + Sync;

pub struct Engine {
    finish: Option<Arc<Finish>>,
    source: SourceInfo,
    cluster: ClusterFacts,
    azure: AzureObs,
    azure_index: AzureIndex<'static>,
    /// The token audiences the SPCs of every namespace read: one CSIDriver serves them all,
    /// so a namespace's KVC105 names the others' too (`rules::remedy::audience`).
    audiences: Vec<&'static str>,
    /// Empty collections carrying the gaps of each kind: the shape of a new namespace.
    shape: Snapshot,
    spaces: BTreeMap<String, Space>,
}

impl Engine {
    /// Split `snapshot` by namespace and diagnose all of it.
    pub fn new(snapshot: Snapshot) -> Self {
        Self::with_finish(snapshot, None)
    }

    /// [`Engine::new`], running `finish` over the chains each diagnosis builds.
    pub fn with_finish(snapshot: Snapshot, finish: Option<Arc<Finish>>) -> Self {
        let Snapshot {
            source,
            cluster,
            pods,
            service_accounts,
            spcs,
            spc_statuses,
            secrets,
            events,
            workloads,
            ingresses,
            azure,
        } = snapshot;
        let mut shape = Snapshot::default();
        shape.pods.gaps = pods.gaps.clone();
        shape.service_accounts.gaps = service_accounts.gaps.clone();
        shape.spcs.gaps = spcs.gaps.clone();
        shape.spc_statuses.gaps = spc_statuses.gaps.clone();
        shape.secrets.gaps = secrets.gaps.clone();
        shape.events.gaps = events.gaps.clone();
        shape.workloads.gaps = workloads.gaps.clone();
        shape.ingresses.gaps = ingresses.gaps.clone();
        let mut engine = Engine {
            finish,
            audiences: cluster_audiences(spcs.items.iter()),
            azure_index: AzureIndex::build(&azure).into_owned(),
            source,
            cluster,
            azure,
            shape,
            spaces: BTreeMap::new(),
        };
        engine.distribute(pods.items, |o| &o.namespace, |k| &mut k.pods.items);
        engine.distribute(
            service_accounts.items,
            |o| &o.namespace,
            |k| &mut k.service_accounts.items,
        );
        engine.distribute(spcs.items, |o| &o.namespace, |k| &mut k.spcs.items);
        engine.distribute(
            spc_statuses.items,
            |o| &o.namespace,
            |k| &mut k.spc_statuses.items,
        );
        engine.distribute(secrets.items, |o| &o.namespace, |k| &mut k.secrets.items);
        engine.distribute(events.items, |o| &o.namespace, |k| &mut k.events.items);
        engine.distribute(
            workloads.items,
            |o| &o.namespace,
            |k| &mut k.workloads.items,
        );
        engine.distribute(
            ingresses.items,
            |o| &o.namespace,
            |k| &mut k.ingresses.items,
        );
        engine.rediagnose_all();
        engine
    }

    /// Put each of `items` into its namespace's collection (`coll` of the namespace's
    /// objects): shared with the snapshot they came in, not copied.
    fn distribute<T>(
        &mut self,
        items: Items<T>,
        namespace: fn(&T) -> &str,
        coll: fn(&mut Snapshot) -> &mut Items<T>,
    ) {
        for o in items.into_shared() {
            let space = self.space(namespace(&o));
            coll(&mut space.kube).push_shared(o);
        }
    }

    fn space(&mut self, ns: &str) -> &mut Space {
        if !self.spaces.contains_key(ns) {
            let kube = self.shape.clone();
            self.spaces.insert(ns.to_string(), Space::new(kube));
        }
        self.spaces.get_mut(ns).expect("inserted above")
    }

    /// What a re-diagnosis reads beside a namespace's objects, and the namespaces to
    /// re-diagnose (borrowed apart, so both can be used at once).
    fn parts(&mut self) -> (With<'_>, &mut BTreeMap<String, Space>) {
        let with = With {
            globals: Globals {
                source: &self.source,
                cluster: &self.cluster,
                azure: &self.azure,
                audiences: Some(&self.audiences),
            },
            azure: &self.azure_index,
            finish: self.finish.as_deref(),
        };
        (with, &mut self.spaces)
    }

    fn rediagnose_all(&mut self) -> Work {
        let (with, spaces) = self.parts();
        let mut work = Work::default();
        for space in spaces.values_mut() {
            work.namespaces += 1;
            work.chains += space.rediagnose_all(with);
        }
        work
    }

    /// New globals: the source (its clock), the cluster facts, the Azure side. When only the
    /// clock moved, the chains that read it are re-diagnosed; otherwise everything is. The
    /// Azure joins are rebuilt only when `azure` differs from what the engine holds.
    pub fn set_globals(
        &mut self,
        source: SourceInfo,
        cluster: ClusterFacts,
        azure: AzureObs,
    ) -> Work {
        let globals = Globals {
            source: &source,
            cluster: &cluster,
            azure: &azure,
            audiences: None,
        };
        self.update(Some(globals), [])
    }

    /// Apply `changes`, then re-diagnose the chains that read what changed.
    pub fn apply(&mut self, changes: impl IntoIterator<Item = Change>) -> Work {
        self.update(None, changes)
    }

    /// [`Engine::set_globals`] (when given) and [`Engine::apply`] at once: a chain that reads
    /// both the clock and a changed object is diagnosed once, at the new time.
    pub(crate) fn update(
        &mut self,
        globals: Option<Globals<'_>>,
        changes: impl IntoIterator<Item = Change>,
    ) -> Work {
        let mut touched: BTreeMap<String, Vec<Dep>> = BTreeMap::new();
        let mut spcs_changed = false;
        for change in changes {
            let (object, delete) = match change {
                Change::Upsert(o) => (o, false),
                Change::Delete(o) => (o, true),
            };
            spcs_changed |= matches!(object, Object::Spc(_));
            let ns = namespace_of(&object).to_string();
            let keys = touched.entry(ns.clone()).or_default();
            let space = self.space(&ns);
            apply_one(space, object, delete, keys);
        }
        let (mut everything, moved) = match globals {
            Some(globals) => self.replace_globals(globals),
            None => (false, false),
        };
        // Another namespace's SPC that starts or stops reading an audience changes every
        // KVC105's fix: rare enough to re-diagnose everything.
        if spcs_changed {
            let spcs = self.spaces.values().flat_map(|s| s.kube.spcs.items.iter());
            let audiences = cluster_audiences(spcs);
            everything |= audiences != self.audiences;
            self.audiences = audiences;
        }
        if everything || self.source.kind == SourceKind::Manifests {
            return self.rediagnose_all();
        }
        let mut due: BTreeMap<String, HashSet<PodId>> = BTreeMap::new();
        if moved {
            let now = self.source.observed_at;
            for (ns, space) in &self.spaces {
                let mut pods = HashSet::default();
                if space.clock_due(now, &mut pods) {
                    touched.entry(ns.clone()).or_default();
                    due.insert(ns.clone(), pods);
                }
            }
        }
        let (with, spaces) = self.parts();
        let mut work = Work::default();
        for (ns, keys) in touched {
            let Some(space) = spaces.get_mut(&ns) else {
                continue;
            };
            let mut pods = due.remove(&ns).unwrap_or_default();
            space.readers_of(&keys, &mut pods);
            work.namespaces += 1;
            work.chains += space.rediagnose(with, pods);
        }
        work
    }

    /// Hold the new globals; returns whether every chain must be re-diagnosed (more than the
    /// clock changed) and whether the clock moved.
    fn replace_globals(&mut self, globals: Globals<'_>) -> (bool, bool) {
        let Globals {
            source,
            cluster,
            azure,
            ..
        } = globals;
        let moved = source.observed_at != self.source.observed_at;
        // Verdicts that turned true as time passed stay so only while it moves forward.
        let backwards = source.observed_at < self.source.observed_at;
        // Everything but the clock: another context, scenario or set of unread inputs. When
        // the cluster last answered judges no chain: it moves with every watch byte.
        let timeless = SourceInfo {
            observed_at: self.source.observed_at,
            read_at: self.source.read_at,
            unanswered: self.source.unanswered.clone(),
            // What `serve` says is not kept current judges no chain either.
            stale: self.source.stale.clone(),
            ..source.clone()
        };
        let mut everything = timeless != self.source || backwards;
        self.source.clone_from(source);
        // Compared before copied: the Azure side is large and rarely changes.
        if *cluster != self.cluster {
            self.cluster = cluster.clone();
            everything = true;
        }
        if *azure != self.azure {
            self.azure_index = AzureIndex::build(azure).into_owned();
            self.azure = azure.clone();
            everything = true;
        }
        (everything, moved)
    }

    /// The chains of pod `namespace/name` (empty for a pod whose namespace is diagnosed whole,
    /// whose chains are among [`Engine::extra_chains`]).
    pub fn pod_chains(&self, namespace: &str, name: &str) -> &[Arc<Chain>] {
        self.spaces
            .get(namespace)
            .map_or(&[], |space| space.pod_chains(name))
    }

    /// The chains no pod holds in [`Engine::pod_chains`], namespace by namespace: template
    /// and orphan chains, and every chain of a namespace diagnosed whole (ids clash there).
    pub fn extra_chains(&self) -> impl Iterator<Item = &Arc<Chain>> {
        self.spaces.values().flat_map(|s| s.extra())
    }

    /// How many namespaces hold objects.
    pub fn namespaces(&self) -> usize {
        self.spaces.len()
    }

    /// Every chain, namespace by namespace (each in the order [`super::diagnose`] gives).
    pub fn chains(&self) -> impl Iterator<Item = &Chain> {
        self.spaces.values().flat_map(Space::chains)
    }

    /// The observations the engine holds, as one snapshot (namespace by namespace).
    pub fn snapshot(&self) -> Snapshot {
        let mut s = self.shape.clone();
        s.source = self.source.clone();
        s.cluster = self.cluster.clone();
        s.azure = self.azure.clone();
        for space in self.spaces.values() {
            let k = &space.kube;
            share(&mut s.pods.items, &k.pods.items);
            share(&mut s.service_accounts.items, &k.service_accounts.items);
            share(&mut s.spcs.items, &k.spcs.items);
            share(&mut s.spc_statuses.items, &k.spc_statuses.items);
            share(&mut s.secrets.items, &k.secrets.items);
            share(&mut s.events.items, &k.events.items);
            share(&mut s.workloads.items, &k.workloads.items);
            share(&mut s.ingresses.items, &k.ingresses.items);
        }
        s
    }
}

fn share<T>(to: &mut Items<T>, from: &Items<T>) {
    for o in from.shared() {
        to.push_shared(o.clone());
    }
}

fn namespace_of(o: &Object) -> &str {
    match o {
        Object::Pod(x) => &x.namespace,
        Object::ServiceAccount(x) => &x.namespace,
        Object::Spc(x) => &x.namespace,
        Object::SpcStatus(x) => &x.namespace,
        Object::Secret(x) => &x.namespace,
        Object::Event(x) => &x.namespace,
        Object::Workload(x) => &x.namespace,
        Object::Ingress(x) => &x.namespace,
    }
}

/// Replace the item `same` finds (or append), or remove it; touch the keys of the old and
/// the new state.
fn upsert<T>(
    items: &mut Items<T>,
    new: Arc<T>,
    delete: bool,
    same: impl Fn(&T, &T) -> bool,
    mut touch: impl FnMut(&T),
) {
    let at = items.iter().position(|x| same(x, &new));
    if let Some(i) = at {
        touch(&items[i]);
    }
    touch(&new);
    match (at, delete) {
        (Some(i), true) => {
            items.remove_shared(i);
        }
        (Some(i), false) => {
            items.replace_shared(i, new);
        }
        (None, false) => items.push_shared(new),
        (None, true) => {}
    }
}

fn apply_one(space: &mut Space, object: Object, delete: bool, keys: &mut Vec<Dep>) {
    let kube = &mut space.kube;
    match object {
        Object::Pod(pod) => {
            deps::touched_by_pod(&pod, keys);
            if let Some(old) = space.upsert_pod(pod, delete) {
                deps::touched_by_pod(&old, keys);
            }
        }
        Object::ServiceAccount(o) => {
            keys.push(Dep::Sas);
            upsert(
                &mut kube.service_accounts.items,
                o,
                delete,
                |a, b| a.name == b.name,
                |_| {},
            );
        }
        Object::Spc(o) => {
            keys.push(Dep::Spcs);
            keys.push(Dep::Spc(o.name.as_str().into()));
            // The Secrets it syncs, before and after: another SPC writing one of them
            // (KVC807) and the consumers that mount either are judged from these.
            upsert(
                &mut kube.spcs.items,
                o,
                delete,
                |a, b| a.name == b.name,
                |spc| {
                    keys.extend(
                        spc.secret_objects
                            .iter()
                            .map(|so| Dep::Secret(so.secret_name.as_str().into())),
                    );
                },
            );
        }
        Object::SpcStatus(o) => upsert(
            &mut kube.spc_statuses.items,
            o,
            delete,
            |a, b| a.name == b.name,
            |x| deps::touched_by_status(x, keys),
        ),
        Object::Secret(o) => {
            keys.push(Dep::Secret(o.name.as_str().into()));
            upsert(
                &mut kube.secrets.items,
                o,
                delete,
                |a, b| a.name == b.name,
                |_| {},
            );
        }
        Object::Event(e) => upsert(&mut kube.events.items, e, delete, same_event, |x| {
            if x.involved_kind == "Pod" {
                keys.push(Dep::Pod(x.involved_name.as_str().into()));
            } else if x.reason == "FailedCreate" {
                // A Job's FailedCreate says it is not complete (`rules::finished_job`): its
                // pods read it on their owner path.
                keys.push(Dep::Workload(
                    x.involved_kind.as_str().into(),
                    x.involved_name.as_str().into(),
                ));
            }
        }),
        Object::Workload(o) => upsert(
            &mut kube.workloads.items,
            o,
            delete,
            |a, b| a.kind == b.kind && a.name == b.name,
            |x| deps::touched_by_workload(x, keys),
        ),
        Object::Ingress(o) => upsert(
            &mut kube.ingresses.items,
            o,
            delete,
            |a, b| a.name == b.name,
            |x| deps::touched_by_ingress(x, keys),
        ),
    }
}

/// Events carry no name here: the same event is the same report about the same object
/// (its count and last-seen time move).
fn same_event(a: &EventObs, b: &EventObs) -> bool {
    a.involved_kind == b.involved_kind
        && a.involved_name == b.involved_name
        && a.involved_uid == b.involved_uid
        && a.reason == b.reason
        && a.message == b.message
        && a.source == b.source
}
