//! One namespace of the incremental engine: its objects, its chains, who reads what.

use super::deps::{self, Dep};
use crate::chain::azure_index::{AzureIndex, AzureJoins};
use crate::chain::build;
use jiff::Timestamp;

use crate::chain::index::{ClockUse, Globals, HashMap, HashSet, Index};
use std::sync::Arc;

use crate::chain::model::Chain;
use crate::chain::orphans;
use crate::snapshot::{Name, PodObs, Snapshot};

/// A namespace's objects with their chains as the last diagnosis left them.
#[derive(Default)]
pub(super) struct Space {
    /// This namespace's Kubernetes objects; the collections carry the engine's gaps. Its
    /// source, cluster and Azure parts are unused (the engine's globals are read instead).
    pub kube: Snapshot,
    /// Pod name → position in `kube.pods.items` (unique names; see `flat`).
    pod_at: HashMap<Name, usize>,
    /// Pod name → its chains, ids as built (`<ns>/<pod>/<spc>`).
    pod_chains: HashMap<Name, Vec<Arc<Chain>>>,
    /// Template chains and orphan consumer chains, recomputed with every change.
    extra: Vec<Arc<Chain>>,
    /// Pod name → the keys its chains read.
    reads: HashMap<Name, Vec<Dep>>,
    /// Key → pods whose chains read it.
    readers: HashMap<Dep, HashSet<Name>>,
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
    clock_until: HashMap<Name, Timestamp>,
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

    fn reindex_pods(&mut self) {
        self.pod_at.clear();
        let mut duplicate = false;
        for (i, p) in self.kube.pods.items.iter().enumerate() {
            duplicate |= self.pod_at.insert(p.name.clone(), i).is_some();
        }
        if duplicate {
            self.flat = true;
        }
    }

    /// Insert or replace pod `new` (by name), or remove it; returns the previous state.
    pub fn upsert_pod(&mut self, new: Arc<PodObs>, delete: bool) -> Option<Arc<PodObs>> {
        let pods = &mut self.kube.pods.items;
        match (self.pod_at.get(&new.name).copied(), delete) {
            (Some(i), false) => Some(pods.replace_shared(i, new)),
            (Some(i), true) => {
                let old = pods.swap_remove_shared(i);
                self.pod_at.remove(&old.name);
                if let Some(moved) = pods.get(i) {
                    self.pod_at.insert(moved.name.clone(), i);
                }
                Some(old)
            }
            (None, false) => {
                self.pod_at.insert(new.name.clone(), pods.len());
                pods.push_shared(new);
                None
            }
            (None, true) => None,
        }
    }

    /// The chains of pod `name` (none when the namespace is diagnosed whole: see `flat`).
    pub fn pod_chains(&self, name: &str) -> &[Arc<Chain>] {
        self.pod_chains.get(name).map_or(&[], Vec::as_slice)
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
            .flat_map(|p| self.pod_chains.get(&p.name).into_iter().flatten())
            .chain(&self.extra)
            .map(|c| &**c)
    }

    /// Re-diagnose every pod of the namespace; returns how many chains that built.
    pub fn rediagnose_all(&mut self, with: With<'_>) -> usize {
        self.pod_chains.clear();
        self.reads.clear();
        self.readers.clear();
        self.clock_until.clear();
        self.id_count.clear();
        self.clashing = 0;
        self.extra.clear();
        self.flat = false;
        self.reindex_pods();
        let all: Vec<Name> = self.pod_at.keys().cloned().collect();
        self.rediagnose(with, all)
    }

    /// The clock moved forward to `now`: the pods whose chains it changes, with an empty list
    /// when only the extra chains change; `None` when nothing does.
    pub fn clock_due(&self, now: Timestamp) -> Option<Vec<Name>> {
        let mut pods: Vec<Name> = self
            .readers
            .get(&Dep::Clock)
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        pods.extend(
            self.clock_until
                .iter()
                .filter(|(_, until)| now > **until)
                .map(|(name, _)| name.clone()),
        );
        let extra = match self.extra_clock {
            ClockUse::None => false,
            ClockUse::Until(until) => now > until,
            ClockUse::Exact => true,
        };
        (extra || !pods.is_empty()).then_some(pods)
    }

    /// Re-diagnose the pods named in `pods` and the namespace's extra chains; returns how
    /// many chains that built.
    pub fn rediagnose(&mut self, with: With<'_>, pods: impl IntoIterator<Item = Name>) -> usize {
        if self.flat {
            return self.rediagnose_flat(with);
        }
        let kube = &self.kube;
        let ix = Index::build_with(kube, with.globals, AzureJoins::Lent(with.azure));
        // Every chain built here, in one list so `with.finish` runs once over them.
        let mut fresh: Vec<Chain> = Vec::new();
        let mut owners: Vec<(Name, std::ops::Range<usize>)> = Vec::new();
        for name in pods {
            for dep in self.reads.remove(&name).unwrap_or_default() {
                if let Some(r) = self.readers.get_mut(&dep) {
                    r.remove(&name);
                }
            }
            self.clock_until.remove(&name);
            for c in self.pod_chains.remove(&name).unwrap_or_default() {
                uncount(&mut self.id_count, &mut self.clashing, &c.id);
            }
            let Some(&at) = self.pod_at.get(&name) else {
                continue;
            };
            let pod = &kube.pods.items[at];
            ix.take_clock_read();
            let chains = build::chains_of(&ix, &[pod], false);
            let clock = ix.take_clock_read();
            let spcs: Vec<&str> = chains.iter().map(|c| c.spc.as_str()).collect();
            let mut reads = deps::reads(&ix, pod, &spcs);
            match clock {
                ClockUse::None => {}
                ClockUse::Until(until) => {
                    self.clock_until.insert(name.clone(), until);
                }
                ClockUse::Exact => reads.push(Dep::Clock),
            }
            for dep in &reads {
                self.readers
                    .entry(dep.clone())
                    .or_default()
                    .insert(name.clone());
            }
            self.reads.insert(name.clone(), reads);
            owners.push((name, fresh.len()..fresh.len() + chains.len()));
            fresh.extend(chains);
        }
        let pods_built = fresh.len();
        let templates = orphans::uncreated(&ix);
        let mut extra = build::chains_of(&ix, &templates, false);
        let kept = self.pod_chains.values().flatten().map(|c| &**c);
        let in_pods = kept.chain(&fresh);
        let orphans = build::orphan_chains(&ix, in_pods.chain(&extra), &templates);
        extra.extend(orphans);
        self.extra_clock = ix.take_clock_read();
        drop(ix);
        for c in std::mem::take(&mut self.extra) {
            uncount(&mut self.id_count, &mut self.clashing, &c.id);
        }
        fresh.extend(extra);
        for c in &mut fresh {
            count(&mut self.id_count, &mut self.clashing, &c.id);
            build::stamp_findings(c);
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
        for (name, range) in owners {
            let chains: Vec<Arc<Chain>> = rest.by_ref().take(range.len()).collect();
            self.pod_chains.insert(name, chains);
        }
        built
    }

    /// The whole namespace as one ordered list, as a full diagnosis builds it.
    fn rediagnose_flat(&mut self, with: With<'_>) -> usize {
        self.pod_chains.clear();
        self.reads.clear();
        self.readers.clear();
        self.clock_until.clear();
        let ix = Index::build_with(&self.kube, with.globals, AzureJoins::Lent(with.azure));
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
    pub fn readers_of(&self, keys: &[Dep], out: &mut HashSet<Name>) {
        for k in keys {
            if let Dep::Pod(name) = k {
                out.insert(name.clone());
            }
            if let Some(r) = self.readers.get(k) {
                out.extend(r.iter().cloned());
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
