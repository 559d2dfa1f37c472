//! The tree's nodes and rows: plain indexes and names, built by [`super::TreeView::rebuild`].

use crate::chain::{SharedText, Status};

/// Stable identity of a tree node, independent of its position.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum NodeKey {
    Cluster,
    Namespace(String),
    Workload {
        namespace: String,
        kind: String,
        name: String,
    },
    Pod {
        namespace: String,
        name: String,
    },
    /// A chain (pod × SPC), by [`Chain::id`].
    Chain(SharedText),
    Object {
        chain: SharedText,
        name: String,
    },
    /// The group of a namespace's SecretProviderClasses no chain mounts.
    SpcGroup {
        namespace: String,
    },
    /// A SecretProviderClass no chain mounts ([`crate::chain::unmounted_spcs`]).
    Spc {
        namespace: String,
        name: String,
    },
}

/// Counts of pods (or chains) by worst status as the outputs show it, indexed by `Status as
/// usize`: a pod only suppressed findings break counts as `Suppressed`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts(pub [usize; 6]);

impl Counts {
    pub fn add(&mut self, s: Status) {
        self.0[s as usize] += 1;
    }
    pub fn get(&self, s: Status) -> usize {
        self.0[s as usize]
    }
    pub fn total(&self) -> usize {
        self.0.iter().sum()
    }
    pub fn worst(&self) -> Status {
        Status::WORST_FIRST
            .into_iter()
            .find(|s| self.get(*s) > 0)
            .unwrap_or(Status::Ok)
    }
}

#[derive(Clone, Debug)]
pub struct NsNode {
    pub name: String,
    pub open: bool,
    /// Pods by worst status.
    pub counts: Counts,
    pub workloads: Vec<WlNode>,
    /// Its SecretProviderClasses no chain mounts, by name: a group after its workloads.
    pub spcs: Vec<SpcNode>,
}

/// A SecretProviderClass no chain mounts: its verdict is `index` of the list the tree was
/// built with ([`super::TreeView::rebuild_with`]).
#[derive(Clone, Debug)]
pub struct SpcNode {
    pub name: String,
    pub index: usize,
    /// [`crate::chain::SpcVerdict::shown_status`].
    pub status: Status,
    /// Its namespace's pods were not read: not known to be mounted by no pod.
    pub pods_unread: bool,
}

/// A workload, or the "bare pods" group of a namespace (`kind` empty).
#[derive(Clone, Debug)]
pub struct WlNode {
    pub kind: String,
    pub name: String,
    pub open: bool,
    pub worst: Status,
    pub pods: Vec<PodNode>,
}

/// A pod: no strings and no vectors of its own (10,000 of them are rebuilt per snapshot);
/// its name and chains are found through [`TreeView::order`].
#[derive(Clone, Debug)]
pub struct PodNode {
    pub open: bool,
    pub worst: Status,
    /// Its chains (one per SecretProviderClass volume): a range of [`TreeView::order`].
    pub chains: std::ops::Range<usize>,
}

/// A flattened, visible row: indexes into the model, no strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Row {
    Cluster,
    Namespace(usize),
    Workload(usize, usize),
    Pod(usize, usize, usize),
    Chain(usize, usize, usize, usize),
    Object {
        chain: usize,
        object: usize,
    },
    /// The group of a namespace's SecretProviderClasses no chain mounts.
    SpcGroup(usize),
    /// A SecretProviderClass no chain mounts: (namespace, its place in [`NsNode::spcs`]).
    Spc(usize, usize),
}

impl Row {
    pub fn depth(self) -> usize {
        match self {
            Row::Cluster => 0,
            Row::Namespace(..) => 1,
            Row::Workload(..) | Row::SpcGroup(..) => 2,
            Row::Spc(..) => 3,
            Row::Pod(..) => 3,
            Row::Chain(..) => 4,
            Row::Object { .. } => 5,
        }
    }
}
