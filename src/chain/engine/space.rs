//! One namespace of the incremental engine: its objects, its chains, who reads what.

use super::deps::{self, Dep, PodId, Readers};
use crate::chain::azure_index::{AzureIndex, AzureJoins};
use crate::chain::build;
use jiff::Timestamp;

use crate::chain::index::{ClockUse, Globals, HashMap, HashSet, Index};
use std::sync::Arc;

use crate::chain::model::Chain;
use crate::chain::orphans;
use crate::chain::replicas::Texts;
use crate::snapshot::{Name, PodObs, Snapshot};

/// A namespace's objects with their chains as the last diagnosis left them.
#[derive(Default)]
pub(super) struct Space {
    /// This namespace's Kubernetes objects; the collections carry the engine's gaps. Its
    /// source, cluster and Azure parts are unused (the engine's globals are read instead).
    pub kube: Snapshot,
    /// Pod name → its number (unique names; see `flat`).
    ids: HashMap<Name, PodId>,
    /// What the engine keeps per pod, by number; numbers of deleted pods are reused.
    pods: Vec<Pod>,
    free: Vec<PodId>,
    /// Key → pods whose chains read it.
    readers: Readers,
    /// Template chains and orphan consumer chains, recomputed with every change.
    extra: Vec<Arc<Chain>>,
    /// How many chains carry each id; ids carried more than once (only manifests make them).
    id_count: HashMap<String, u32>,
    clashing: usize,
    /// Pods sharing a name, or clashing ids: the namespace is diagnosed whole each time, its
    /// chains kept in one ordered list (`extra`), as a full diagnosis orders and dedupes them.
    flat: bool,
    /// How the extra chains (all of them when `flat`) read the clock when last built.
    extra_clock: ClockUse,
    /// Pods whose chains compared the clock with an instant, and the earliest such instant:
    /// they are re-diagnosed once the clock passes it. (Those that read the time itself are
    /// readers of [`Dep::Clock`].)
    clock_until: HashMap<PodId, Timestamp>,
}

/// One pod's place in the namespace and what its last diagnosis left.
#[derive(Default)]
struct Pod {
    name: Name,
    /// Position in `kube.pods.items`; `None` once deleted: the number is freed when the pod
    /// is re-diagnosed, which drops what its chains read.
    at: Option<usize>,
    /// Its chains, ids as built (`<ns>/<pod>/<spc>`).
    chains: Vec<Arc<Chain>>,
    /// The keys its chains read, as [`Readers`] numbers them.
    reads: Box<[u32]>,
}

/// What every namespace's diagnosis reads besides its own objects, and what runs over the
/// chains it builds.
#[derive(Clone, Copy)]
pub(super) struct With<'e> {
    pub globals: Globals<'e>,
    pub azure: &'e AzureIndex<'static>,
    pub finish: Option<&'e super::Finish>,
}

impl Space {
    pub fn new(kube: Snapshot) -> Self {
        let mut space = Space {
            kube,
            ..Space::default()
        };
        space.reindex_pods();
        space
    }

    /// Number the pods afresh (nothing diagnosed yet).
    fn reindex_pods(&mut self) {
        self.ids.clear();
        self.pods.clear();
        self.free.clear();
        self.readers.clear();
        self.clock_until.clear();
        let mut duplicate = false;
        for (i, p) in self.kube.pods.items.iter().enumerate() {
            match self.ids.get(&p.name) {
                // The later one answers to the name, as `upsert_pod` finds it.
                Some(&id) => {
                    duplicate = true;
                    self.pods[id as usize].at = Some(i);
                }
                None => {
                    self.ids.insert(p.name.clone(), self.pods.len() as PodId);
                    self.pods.push(Pod {
                        name: p.name.clone(),
                        at: Some(i),
                        ..Pod::default()
                    });
                }
            }
        }
        if duplicate {
            self.flat = true;
        }
    }

    /// Insert or replace pod `new` (by name), or remove it; returns the previous state.
    pub fn upsert_pod(&mut self, new: Arc<PodObs>, delete: bool) -> Option<Arc<PodObs>> {
        let pods = &mut self.kube.pods.items;
        let id = self.ids.get(&new.name).copied();
        let here = id.and_then(|id| Some((id, self.pods[id as usize].at?)));
        match (here, delete) {
            (Some((_, i)), false) => Some(pods.replace_shared(i, new)),
            (Some((id, i)), true) => {
                let old = pods.swap_remove_shared(i);
                self.pods[id as usize].at = None;
                if let Some(moved) = pods.get(i) {
                    let moved = self.ids[&moved.name];
                    self.pods[moved as usize].at = Some(i);
                }
                Some(old)
            }
            (None, false) => {
                let at = Some(pods.len());
                match id {
                    Some(id) => self.pods[id as usize].at = at,
                    None => {
                        let pod = Pod {
                            name: new.name.clone(),
                            at,
                            ..Pod::default()
                        };
                        let id = match self.free.pop() {
                            Some(id) => {
                                self.pods[id as usize] = pod;
                                id
                            }
                            None => {
                                self.pods.push(pod);
                                (self.pods.len() - 1) as PodId
                            }
                        };
                        self.ids.insert(new.name.clone(), id);
                    }
                }
                pods.push_shared(new);
                None
            }
            (None, true) => None,
        }
    }

    /// The chains of pod `name` (none when the namespace is diagnosed whole: see `flat`).
    pub fn pod_chains(&self, name: &str) -> &[Arc<Chain>] {
        self.ids
            .get(name)
            .map_or(&[], |&id| self.pods[id as usize].chains.as_slice())
    }

    /// The chains no pod of this namespace holds in [`Space::pod_chains`]: template and orphan
    /// chains, or every chain when the namespace is diagnosed whole.
    pub fn extra(&self) -> &[Arc<Chain>] {
        &self.extra
    }

    /// The chains in the order a full diagnosis of [`Space::kube`] gives them: pods', then
    /// templates' and orphan consumers'.
    pub fn chains(&self) -> impl Iterator<Item = &Chain> {
        self.kube
            .pods
            .items
            .iter()
            .flat_map(|p| self.pod_chains(&p.name))
            .chain(&self.extra)
            .map(|c| &**c)
    }

    /// Re-diagnose every pod of the namespace; returns how many chains that built.
    pub fn rediagnose_all(&mut self, with: With<'_>) -> usize {
        self.id_count.clear();
        self.clashing = 0;
        self.extra.clear();
        self.flat = false;
        self.reindex_pods();
        let all = 0..self.pods.len() as PodId;
        self.rediagnose(with, all)
    }

    /// The clock moved forward to `now`: adds the pods whose chains it changes to `due`;
    /// returns whether anything of the namespace changes (the extra chains may alone).
    pub fn clock_due(&self, now: Timestamp, due: &mut HashSet<PodId>) -> bool {
        let before = due.len();
        due.extend(self.readers.of(&Dep::Clock));
        due.extend(
            self.clock_until
                .iter()
                .filter(|(_, until)| now > **until)
                .map(|(&id, _)| id),
        );
        let extra = match self.extra_clock {
            ClockUse::None => false,
            ClockUse::Until(until) => now > until,
            ClockUse::Exact => true,
        };
        extra || due.len() > before
    }

    /// Forget what pod `id`'s last diagnosis left; frees its number once it is deleted.
    /// Returns its position, if it is still there.
    fn forget(&mut self, id: PodId) -> Option<usize> {
        let pod = &mut self.pods[id as usize];
        let reads = std::mem::take(&mut pod.reads);
        let chains = std::mem::take(&mut pod.chains);
        let at = pod.at;
        if at.is_none() && !pod.name.is_empty() {
            let name = std::mem::take(&mut pod.name);
            self.ids.remove(&name);
            self.free.push(id);
        }
        self.readers.remove(id, &reads);
        self.clock_until.remove(&id);
        for c in chains {
            uncount(&mut self.id_count, &mut self.clashing, &c.id);
        }
        at
    }

    /// Re-diagnose the pods numbered in `pods` and the namespace's extra chains; returns how
    /// many chains that built.
    pub fn rediagnose(&mut self, with: With<'_>, pods: impl IntoIterator<Item = PodId>) -> usize {
        if self.flat {
            return self.rediagnose_flat(with);
        }
        let pods: Vec<(PodId, usize)> = pods
            .into_iter()
            .filter_map(|id| self.forget(id).map(|at| (id, at)))
            .collect();
        let kube = &self.kube;
        let ix = Index::build_with(kube, with.globals, || AzureJoins::Lent(with.azure));
        // Every chain built here, in one list so `with.finish` runs once over them.
        let mut fresh: Vec<Chain> = Vec::new();
        let mut owners: Vec<(PodId, std::ops::Range<usize>)> = Vec::new();
        // Pods saying the same hold one copy of the text (a namespace's first diagnosis).
        let mut texts = Texts::default();
        for (id, at) in pods {
            let pod = &kube.pods.items[at];
            ix.take_clock_read();
            let chains = build::chains_sharing_texts(&ix, &[pod], &mut texts);
            let clock = ix.take_clock_read();
            let spcs: Vec<&str> = chains.iter().map(|c| c.spc.as_str()).collect();
            let tls_fixes: Vec<&str> = (chains.iter())
                .filter(|c| c.findings().any(|f| f.code == crate::chain::Code::KVC804))
                .map(|c| c.spc.as_str())
                .collect();
            let mut reads = deps::reads(&ix, pod, &spcs, &tls_fixes);
            match clock {
                ClockUse::None => {}
                ClockUse::Until(until) => {
                    self.clock_until.insert(id, until);
                }
                ClockUse::Exact => reads.push(Dep::Clock),
            }
            self.pods[id as usize].reads = self.readers.add(id, reads);
            owners.push((id, fresh.len()..fresh.len() + chains.len()));
            fresh.extend(chains);
        }
        let pods_built = fresh.len();
        let templates = orphans::templates(&ix);
        let mut extra = build::chains_of(&ix, &templates.uncreated, false);
        let kept = self.pods.iter().flat_map(|p| &p.chains).map(|c| &**c);
        let in_pods = kept.chain(&fresh);
        let referenced = build::Referenced::of_chains(in_pods.chain(&extra));
        let orphans = build::orphan_chains(&ix, &referenced, &templates, false);
        extra.extend(orphans);
        self.extra_clock = ix.take_clock_read();
        drop(ix);
        for c in std::mem::take(&mut self.extra) {
            uncount(&mut self.id_count, &mut self.clashing, &c.id);
        }
        fresh.extend(extra);
        // Their findings were stamped as they were built; ids change only when they clash,
        // and clashing ids take the flat path.
        for c in &fresh {
            count(&mut self.id_count, &mut self.clashing, &c.id);
        }
        if self.clashing > 0 {
            // Which chain keeps a clashing id depends on the order of all of them.
            self.flat = true;
            return self.rediagnose_flat(with);
        }
        let built = fresh.len();
        if let Some(finish) = with.finish {
            finish(&self.kube, &mut fresh);
        }
        // Shared: publishing them is a count, not a copy (the UI holds them between snapshots).
        self.extra = fresh
            .split_off(pods_built)
            .into_iter()
            .map(Arc::new)
            .collect();
        // Ranges run in order: split each pod's chains off the front.
        let mut rest = fresh.into_iter().map(Arc::new);
        for (id, range) in owners {
            self.pods[id as usize].chains = rest.by_ref().take(range.len()).collect();
        }
        built
    }

    /// The whole namespace as one ordered list, as a full diagnosis builds it.
    fn rediagnose_flat(&mut self, with: With<'_>) -> usize {
        self.reindex_pods();
        self.flat = true;
        let ix = Index::build_with(&self.kube, with.globals, || AzureJoins::Lent(with.azure));
        ix.take_clock_read();
        let mut chains = build::chains_over(&ix, false, |_| true);
        self.extra_clock = ix.take_clock_read();
        drop(ix);
        if let Some(finish) = with.finish {
            finish(&self.kube, &mut chains);
        }
        self.extra = chains.into_iter().map(Arc::new).collect();
        self.extra.len()
    }

    /// Pods whose chains read any of `keys`.
    pub fn readers_of(&self, keys: &[Dep], out: &mut HashSet<PodId>) {
        for k in keys {
            match k {
                Dep::Pod(name) => {
                    out.extend(self.ids.get(name));
                    // The pods of a tainted node read their peers there (`deps::reads`).
                    out.extend(self.readers.of(k));
                }
                k => out.extend(self.readers.of(k)),
            }
        }
    }
}

fn count(ids: &mut HashMap<String, u32>, clashing: &mut usize, id: &str) {
    let n = ids.entry(id.to_string()).or_default();
    *n += 1;
    if *n == 2 {
        *clashing += 1;
    }
}

fn uncount(ids: &mut HashMap<String, u32>, clashing: &mut usize, id: &str) {
    if let Some(n) = ids.get_mut(id) {
        *n -= 1;
        if *n == 1 {
            *clashing -= 1;
        } else if *n == 0 {
            ids.remove(id);
        }
    }
}
