//! One namespace of the incremental engine: its objects, its chains, who reads what.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use super::deps::{self, Dep};
use crate::chain::azure_index::AzureIndex;
use crate::chain::build;
use crate::chain::index::{Globals, Index};
use crate::chain::model::Chain;
use crate::chain::orphans;
use crate::snapshot::{PodObs, Snapshot};

/// A namespace's objects with their chains as the last diagnosis left them.
pub(super) struct Space {
    /// This namespace's Kubernetes objects; the collections carry the engine's gaps. Its
    /// source, cluster and Azure parts are unused (the engine's globals are read instead).
    pub kube: Snapshot,
    /// Pod name → its chains (ids final: a namespace with clashing ids is never partial).
    pod_chains: HashMap<String, Vec<Chain>>,
    /// Template chains and orphan consumer chains, recomputed with every change.
    extra: Vec<Chain>,
    /// Pod name → the keys its chains read.
    reads: HashMap<String, Vec<Dep>>,
    /// Key → pods whose chains read it.
    readers: HashMap<Dep, HashSet<String>>,
    /// Duplicate pod names or chain ids (manifests can have them): diagnosed whole each time,
    /// since which chain keeps a clashing id depends on the order of all of them.
    whole: bool,
}

impl Space {
    pub fn new(kube: Snapshot) -> Self {
        Space {
            kube,
            pod_chains: HashMap::new(),
            extra: Vec::new(),
            reads: HashMap::new(),
            readers: HashMap::new(),
            whole: true,
        }
    }

    /// The chains in the order a full diagnosis gives them: pods', then templates' and
    /// orphan consumers'.
    pub fn chains(&self) -> impl Iterator<Item = &Chain> {
        let mut seen = HashSet::new();
        self.kube
            .pods
            .items
            .iter()
            .filter(move |p| seen.insert(p.name.as_str()))
            .flat_map(|p| self.pod_chains.get(&p.name).into_iter().flatten())
            .chain(&self.extra)
    }

    /// Re-diagnose every pod of the namespace; returns how many chains that built.
    pub fn rediagnose_all(&mut self, globals: Globals<'_>, azure: &AzureIndex) -> usize {
        self.whole = true;
        self.rediagnose(globals, azure, &HashSet::new())
    }

    /// Re-diagnose the pods named in `pods` (all of them when the namespace had clashing
    /// ids), and the namespace's extra chains; returns how many chains that built.
    pub fn rediagnose(
        &mut self,
        globals: Globals<'_>,
        azure: &AzureIndex,
        pods: &HashSet<String>,
    ) -> usize {
        let all = self.whole || by_name_has_duplicates(&self.kube);
        if all {
            self.pod_chains.clear();
            self.reads.clear();
            self.readers.clear();
        }
        let kube = &self.kube;
        let ix = Index::build_with(kube, globals, Cow::Borrowed(azure));
        if by_name_has_duplicates(kube) {
            // Chains of same-named pods interleave with others: keep them as one ordered list.
            let templates = orphans::uncreated(&ix, kube);
            let pods: Vec<&PodObs> = kube
                .pods
                .items
                .iter()
                .chain(templates.iter().copied())
                .collect();
            let mut chains = build::chains_of(&ix, &pods, false);
            chains.extend(build::orphan_chains(&ix, &chains, &templates));
            build::finish(&mut chains);
            drop(ix);
            self.extra = chains;
            self.whole = true;
            return self.extra.len();
        }
        let mut by_name: HashMap<&str, Vec<&PodObs>> = HashMap::new();
        for p in kube
            .pods
            .items
            .iter()
            .filter(|p| all || pods.contains(&p.name))
        {
            by_name.entry(p.name.as_str()).or_default().push(p);
        }
        let mut built = 0;
        let gone = pods.iter().filter(|n| !by_name.contains_key(n.as_str()));
        let names: Vec<String> = by_name
            .keys()
            .map(|n| n.to_string())
            .chain(gone.cloned())
            .collect();
        for name in names {
            for dep in self.reads.remove(&name).unwrap_or_default() {
                if let Some(r) = self.readers.get_mut(&dep) {
                    r.remove(&name);
                }
            }
            let Some(list) = by_name.get(name.as_str()) else {
                self.pod_chains.remove(&name);
                continue;
            };
            let chains = build::chains_of(&ix, list, false);
            built += chains.len();
            let spcs: Vec<&str> = chains.iter().map(|c| c.spc.as_str()).collect();
            let mut reads = Vec::new();
            for p in list {
                reads.extend(deps::reads(&ix, p, &spcs));
            }
            for dep in &reads {
                self.readers
                    .entry(dep.clone())
                    .or_default()
                    .insert(name.clone());
            }
            self.reads.insert(name.clone(), reads);
            self.pod_chains.insert(name, chains);
        }
        let templates = orphans::uncreated(&ix, kube);
        let mut extra = build::chains_of(&ix, &templates, false);
        let orphans = build::orphan_chains(
            &ix,
            self.pod_chains.values().flatten().chain(&extra),
            &templates,
        );
        extra.extend(orphans);
        built += extra.len();
        drop(by_name);
        drop(ix);
        self.extra = extra;
        // Stored ids are the raw `<ns>/<pod>/<spc>` ones unless the namespace had clashes, and
        // then everything was rebuilt above: a clash now is settled over the whole namespace,
        // in order, as a full diagnosis does.
        let mut ids = HashSet::new();
        let clash = !self.chains().all(|c| ids.insert(c.id.as_str()));
        drop(ids);
        if clash {
            self.settle_clashes();
        } else {
            for c in self
                .pod_chains
                .values_mut()
                .flatten()
                .chain(&mut self.extra)
            {
                build::stamp_findings(c);
            }
        }
        self.whole = clash;
        built
    }

    /// Dedupe ids over the namespace's chains in output order (see `build::dedupe_ids`).
    fn settle_clashes(&mut self) {
        let mut order: Vec<(String, usize)> = Vec::new();
        let mut all: Vec<Chain> = Vec::new();
        let mut seen = HashSet::new();
        for p in &self.kube.pods.items {
            if seen.insert(p.name.as_str())
                && let Some(list) = self.pod_chains.remove(&p.name)
            {
                order.push((p.name.clone(), list.len()));
                all.extend(list);
            }
        }
        let extra = self.extra.len();
        all.append(&mut self.extra);
        build::finish(&mut all);
        let mut rest = all.into_iter();
        for (name, len) in order {
            self.pod_chains
                .insert(name, rest.by_ref().take(len).collect());
        }
        self.extra = rest.take(extra).collect();
    }

    /// Pods whose chains read any of `keys`.
    pub fn readers_of(&self, keys: &[Dep], out: &mut HashSet<String>) {
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

/// Pods sharing a name (manifests): their chains interleave in ways only a whole pass keeps.
fn by_name_has_duplicates(kube: &Snapshot) -> bool {
    let mut seen = HashSet::new();
    !kube.pods.items.iter().all(|p| seen.insert(p.name.as_str()))
}
