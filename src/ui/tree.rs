//! The navigation tree: cluster → namespace → workload → pod → SecretProviderClass → object.
//!
//! Built from the diagnosed chains once per snapshot (or filter change), never per frame.
//! Rows are flattened only for opened subtrees, and drawing turns only the rows inside the
//! viewport into text, so a frame costs O(viewport) even with 10,000 pods. Open state and the
//! selection are keyed by stable ids ([`NodeKey`]), so they survive refreshes.
//!
//! Why not tui-tree-widget: it needs a `TreeItem` (with its text) for every row of every opened
//! subtree on every draw; an opened namespace of 10,000 pods would cost 10,000 allocations per
//! frame. The flattening and viewport slicing below are small and keep frames O(viewport).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::chain::{Chain, SpcVerdict, Status};

mod fallback;
mod filter;
mod nodes;
mod spcs;
pub use filter::Filter;
pub use nodes::{Counts, NodeKey, NsNode, PodNode, Row, SpcNode, WlNode};
pub use spcs::SpcCounts;

/// The tree model plus its view state (opened nodes, selection, scroll offset).
#[derive(Clone, Debug)]
pub struct TreeView {
    pub cluster_label: String,
    pub namespaces: Vec<NsNode>,
    /// Pods (and chains without a pod) by worst status over the whole (filtered) tree.
    pub counts: Counts,
    /// Of those, the chains no pod starts ([`crate::ui::subject`]) and the pod templates
    /// diagnosed as the pod they would create ([`Chain::is_template`], audit JJ4): not pods.
    pub without_pod: usize,
    /// The SecretProviderClasses no chain mounts among `counts` ([`spcs`]): no pods either.
    pub spcs: SpcCounts,
    pub rows: Vec<Row>,
    /// Chain indexes in tree order (filtered, sorted by namespace, workload, pod, SPC).
    pub order: Vec<usize>,
    /// Per position of `order`: the SPC node is open (shows its objects).
    chain_open: Vec<bool>,
    pub selected: usize,
    pub offset: usize,
    opened: HashSet<NodeKey>,
    /// Nodes the user closed on purpose (default-open nodes stay closed after a refresh).
    closed: HashSet<NodeKey>,
    selected_key: Option<NodeKey>,
    /// The selected node's ancestors, nearest first ([`fallback`]).
    lineage: Vec<NodeKey>,
    /// A selected node that vanished, with its ancestors then: the selection fell back to the
    /// nearest survivor and goes back when the node (or a nearer ancestor) returns.
    lost: Option<(NodeKey, Vec<NodeKey>)>,
    /// Open namespaces and workloads by default (small trees).
    pub open_by_default: bool,
}

impl Default for TreeView {
    fn default() -> Self {
        TreeView {
            cluster_label: String::new(),
            namespaces: Vec::new(),
            counts: Counts::default(),
            without_pod: 0,
            spcs: SpcCounts::default(),
            rows: vec![Row::Cluster],
            order: Vec::new(),
            chain_open: Vec::new(),
            selected: 0,
            offset: 0,
            opened: HashSet::new(),
            closed: HashSet::new(),
            selected_key: None,
            lineage: Vec::new(),
            lost: None,
            open_by_default: true,
        }
    }
}

/// Trees with more pods than this start with namespaces closed.
pub const OPEN_BY_DEFAULT_MAX_PODS: usize = 200;

impl TreeView {
    fn is_open(&self, key: &NodeKey, default: bool) -> bool {
        if self.opened.contains(key) {
            true
        } else if self.closed.contains(key) {
            false
        } else {
            default
        }
    }

    /// Rebuild the model from `chains` (sorted or not), keeping open state and selection.
    pub fn rebuild(&mut self, chains: &[Arc<Chain>], filter: &Filter, cluster_label: &str) {
        self.rebuild_with(chains, &[], filter, cluster_label);
    }

    /// [`TreeView::rebuild`] with the SecretProviderClasses no chain mounts, a row each under
    /// its namespace ([`spcs`]).
    pub fn rebuild_with(
        &mut self,
        chains: &[Arc<Chain>],
        spcs: &[SpcVerdict],
        filter: &Filter,
        cluster_label: &str,
    ) {
        self.cluster_label = cluster_label.to_string();
        let mut order: Vec<usize> = (0..chains.len())
            .filter(|i| filter.matches(&chains[*i]))
            .collect();
        fn wl_key(c: &Chain) -> (&str, &str) {
            c.workload
                .as_ref()
                .map(|w| (w.kind.as_str(), w.name.as_str()))
                .unwrap_or(("", ""))
        }
        // Sources usually send chains already in this order: check before sorting.
        let cmp = |a: &usize, b: &usize| {
            let (a, b) = (&chains[*a], &chains[*b]);
            (
                a.namespace.as_str(),
                wl_key(a),
                a.pod.as_str(),
                a.spc.as_str(),
            )
                .cmp(&(
                    b.namespace.as_str(),
                    wl_key(b),
                    b.pod.as_str(),
                    b.spc.as_str(),
                ))
        };
        if !order.is_sorted_by(|a, b| cmp(a, b).is_le()) {
            // Rank the (few) workloads once, so most comparisons are between integers and
            // pod names are only compared within a workload: half the cost of a plain sort.
            let mut ids: HashMap<(&str, &str, &str), usize> = HashMap::new();
            let wl_id: Vec<usize> = order
                .iter()
                .map(|i| {
                    let c = &chains[*i];
                    let (k, n) = wl_key(c);
                    let next = ids.len();
                    *ids.entry((c.namespace.as_str(), k, n)).or_insert(next)
                })
                .collect();
            let mut keys: Vec<((&str, &str, &str), usize)> = ids.into_iter().collect();
            keys.sort_unstable();
            let mut rank = vec![0; keys.len()];
            for (r, (_, id)) in keys.iter().enumerate() {
                rank[*id] = r;
            }
            let mut ranked: Vec<(usize, usize)> = order
                .iter()
                .zip(&wl_id)
                .map(|(ci, id)| (rank[*id], *ci))
                .collect();
            ranked.sort_unstable_by(|(ra, a), (rb, b)| {
                ra.cmp(rb).then_with(|| {
                    let (a, b) = (&chains[*a], &chains[*b]);
                    (a.pod.as_str(), a.spc.as_str()).cmp(&(b.pod.as_str(), b.spc.as_str()))
                })
            });
            order = ranked.into_iter().map(|(_, ci)| ci).collect();
        }
        let small = order.len() <= OPEN_BY_DEFAULT_MAX_PODS;
        let default_open = (self.open_by_default && small) || filter.is_active();

        // Pods and SPCs are rarely opened; when none is, skip 10,000 key look-ups (each
        // would allocate its key).
        let any_pod_open = self.opened.iter().any(|k| matches!(k, NodeKey::Pod { .. }));
        let any_chain_open = self.opened.iter().any(|k| matches!(k, NodeKey::Chain(_)));
        let mut namespaces: Vec<NsNode> = Vec::new();
        let mut counts = Counts::default();
        let mut chain_open = Vec::with_capacity(order.len());
        for (pos, &ci) in order.iter().enumerate() {
            let c = &chains[ci];
            if namespaces.last().is_none_or(|n| n.name != c.namespace) {
                let open = self.is_open(&NodeKey::Namespace(c.namespace.to_string()), default_open);
                namespaces.push(NsNode {
                    name: c.namespace.to_string(),
                    open,
                    counts: Counts::default(),
                    workloads: Vec::new(),
                    spcs: Vec::new(),
                });
            }
            let ns = namespaces.last_mut().expect("pushed above");
            let (kind, name) = wl_key(c);
            if ns
                .workloads
                .last()
                .is_none_or(|w| w.kind != kind || w.name != name)
            {
                let key = NodeKey::Workload {
                    namespace: c.namespace.to_string(),
                    kind: kind.to_string(),
                    name: name.to_string(),
                };
                let open = self.is_open(&key, default_open);
                ns.workloads.push(WlNode {
                    kind: kind.to_string(),
                    name: name.to_string(),
                    open,
                    worst: Status::Ok,
                    pods: Vec::new(),
                });
            }
            let wl = ns.workloads.last_mut().expect("pushed above");
            let worst = c.shown_worst();
            wl.worst = wl.worst.max(worst);
            let same_pod = wl
                .pods
                .last()
                .is_some_and(|p| chains[order[p.chains.start]].pod == c.pod);
            if !same_pod {
                let open = any_pod_open
                    && self.opened.contains(&NodeKey::Pod {
                        namespace: c.namespace.to_string(),
                        name: crate::ui::subject::name(c).into_owned(),
                    });
                wl.pods.push(PodNode {
                    open,
                    worst,
                    chains: pos..pos,
                });
            } else if let Some(p) = wl.pods.last_mut() {
                p.worst = p.worst.max(worst);
            }
            let pod = wl.pods.last_mut().expect("pushed above");
            pod.chains.end = pos + 1;
            chain_open.push(any_chain_open && self.opened.contains(&NodeKey::Chain(c.id.clone())));
        }
        let mut without_pod = 0;
        for ns in &mut namespaces {
            for wl in &ns.workloads {
                for p in &wl.pods {
                    ns.counts.add(p.worst);
                    counts.add(p.worst);
                    if order.get(p.chains.start).is_some_and(|ci| {
                        let c = &chains[*ci];
                        !crate::ui::subject::has_pod(c) || c.is_template()
                    }) {
                        without_pod += 1;
                    }
                }
            }
        }
        self.without_pod = without_pod;
        self.spcs = spcs::merge(&mut namespaces, spcs, filter, &mut counts, |ns| {
            self.is_open(&NodeKey::Namespace(ns.to_string()), default_open)
        });
        self.namespaces = namespaces;
        self.order = order;
        self.chain_open = chain_open;
        self.counts = counts;
        self.flatten(chains);
    }

    /// Recompute the visible rows from the open flags, then restore the selection by key.
    pub fn flatten(&mut self, chains: &[Arc<Chain>]) {
        let mut rows = Vec::with_capacity(self.rows.len().max(16));
        rows.push(Row::Cluster);
        for (ni, ns) in self.namespaces.iter().enumerate() {
            rows.push(Row::Namespace(ni));
            if !ns.open {
                continue;
            }
            for (wi, wl) in ns.workloads.iter().enumerate() {
                rows.push(Row::Workload(ni, wi));
                if !wl.open {
                    continue;
                }
                for (pi, pod) in wl.pods.iter().enumerate() {
                    rows.push(Row::Pod(ni, wi, pi));
                    if !pod.open {
                        continue;
                    }
                    for (k, pos) in pod.chains.clone().enumerate() {
                        rows.push(Row::Chain(ni, wi, pi, k));
                        if self.chain_open[pos] {
                            let ci = self.order[pos];
                            let n = chains.get(ci).map_or(0, |c| c.objects.len());
                            rows.extend((0..n).map(|object| Row::Object { chain: ci, object }));
                        }
                    }
                }
            }
            if !ns.spcs.is_empty() {
                rows.push(Row::SpcGroup(ni));
                rows.extend((0..ns.spcs.len()).map(|k| Row::Spc(ni, k)));
            }
        }
        self.rows = rows;
        self.restore_selection(chains);
    }

    /// Compare a row with a key without allocating.
    fn key_eq(&self, row: Row, key: &NodeKey, chains: &[Arc<Chain>]) -> bool {
        match (row, key) {
            (Row::Cluster, NodeKey::Cluster) => true,
            (Row::Namespace(n), NodeKey::Namespace(k)) => self.namespaces[n].name == *k,
            (
                Row::Workload(n, w),
                NodeKey::Workload {
                    namespace,
                    kind,
                    name,
                },
            ) => {
                let wl = &self.namespaces[n].workloads[w];
                self.namespaces[n].name == *namespace && wl.kind == *kind && wl.name == *name
            }
            (Row::Pod(n, w, p), NodeKey::Pod { namespace, name }) => {
                self.namespaces[n].name == *namespace
                    && self.pod_name(n, w, p, chains).as_ref() == name.as_str()
            }
            (Row::Chain(..), NodeKey::Chain(id)) => self
                .row_chain(row)
                .and_then(|ci| chains.get(ci))
                .is_some_and(|c| c.id == *id),
            (Row::Object { chain, object }, NodeKey::Object { chain: id, name }) => {
                chains.get(chain).is_some_and(|c| {
                    c.id == *id && c.objects.get(object).is_some_and(|o| o.name == *name)
                })
            }
            (Row::SpcGroup(n), NodeKey::SpcGroup { namespace }) => {
                self.namespaces[n].name == *namespace
            }
            (Row::Spc(n, k), NodeKey::Spc { namespace, name }) => {
                let ns = &self.namespaces[n];
                ns.name == *namespace && ns.spcs[k].name == *name
            }
            _ => false,
        }
    }

    pub fn key(&self, row: Row, chains: &[Arc<Chain>]) -> NodeKey {
        match row {
            Row::Cluster => NodeKey::Cluster,
            Row::Namespace(n) => NodeKey::Namespace(self.namespaces[n].name.clone()),
            Row::Workload(n, w) => {
                let wl = &self.namespaces[n].workloads[w];
                NodeKey::Workload {
                    namespace: self.namespaces[n].name.clone(),
                    kind: wl.kind.clone(),
                    name: wl.name.clone(),
                }
            }
            Row::Pod(n, w, p) => NodeKey::Pod {
                namespace: self.namespaces[n].name.clone(),
                name: self.pod_name(n, w, p, chains).to_string(),
            },
            Row::Chain(..) => NodeKey::Chain(
                self.row_chain(row)
                    .and_then(|ci| chains.get(ci))
                    .map(|c| c.id.clone())
                    .unwrap_or_default(),
            ),
            Row::Object { chain, object } => {
                let c = chains.get(chain);
                NodeKey::Object {
                    chain: c.map(|c| c.id.clone()).unwrap_or_default(),
                    name: c
                        .and_then(|c| c.objects.get(object))
                        .map(|o| o.name.to_string())
                        .unwrap_or_default(),
                }
            }
            Row::SpcGroup(n) => NodeKey::SpcGroup {
                namespace: self.namespaces[n].name.clone(),
            },
            Row::Spc(n, k) => NodeKey::Spc {
                namespace: self.namespaces[n].name.clone(),
                name: self.namespaces[n].spcs[k].name.clone(),
            },
        }
    }

    /// The verdict a row stands for, as an index of the list the tree was built with.
    pub fn row_spc(&self, row: Row) -> Option<usize> {
        match row {
            Row::Spc(n, k) => Some(self.namespaces.get(n)?.spcs.get(k)?.index),
            _ => None,
        }
    }

    /// A pod's name (borrowed from its first chain); a chain no pod starts is named by what
    /// it is about ([`crate::ui::subject::name`]).
    pub fn pod_name<'c>(
        &self,
        n: usize,
        w: usize,
        p: usize,
        chains: &'c [Arc<Chain>],
    ) -> std::borrow::Cow<'c, str> {
        let pod = &self.namespaces[n].workloads[w].pods[p];
        self.order
            .get(pod.chains.start)
            .and_then(|ci| chains.get(*ci))
            .map_or(std::borrow::Cow::Borrowed(""), |c| {
                crate::ui::subject::name(c)
            })
    }

    /// Pods in the (filtered) tree: chains no pod starts are not counted.
    pub fn pods(&self) -> usize {
        (self.counts.total())
            .saturating_sub(self.without_pod)
            .saturating_sub(self.spcs.shown)
    }

    /// The chains of a pod node, as indexes into the chain list.
    pub fn pod_chains(&self, n: usize, w: usize, p: usize) -> &[usize] {
        &self.order[self.namespaces[n].workloads[w].pods[p].chains.clone()]
    }

    /// The chain a row stands for: its own (SPC, object rows) or the pod's worst.
    pub fn row_chain(&self, row: Row) -> Option<usize> {
        match row {
            Row::Chain(n, w, p, k) => {
                let range = &self.namespaces[n].workloads[w].pods[p].chains;
                (k < range.len()).then(|| self.order[range.start + k])
            }
            Row::Object { chain, .. } => Some(chain),
            Row::Pod(n, w, p) => self
                .order
                .get(self.namespaces[n].workloads[w].pods[p].chains.start)
                .copied(),
            _ => None,
        }
    }

    pub fn selected_row(&self) -> Row {
        self.rows
            .get(self.selected)
            .copied()
            .unwrap_or(Row::Cluster)
    }

    pub fn selected_key(&self) -> Option<&NodeKey> {
        self.selected_key.as_ref()
    }

    pub fn select(&mut self, index: usize, chains: &[Arc<Chain>]) {
        if self.rows.is_empty() {
            return;
        }
        self.selected = index.min(self.rows.len() - 1);
        self.selected_key = Some(self.key(self.rows[self.selected], chains));
        self.lineage = self.lineage_of(self.rows[self.selected], chains);
        // The user chose: a node lost earlier is no longer wanted back.
        self.lost = None;
    }

    /// Select the row whose key is `key`, if it is visible (otherwise the selection stays).
    pub fn select_key(&mut self, key: NodeKey, chains: &[Arc<Chain>]) {
        self.selected_key = Some(key);
        self.lost = None;
        self.flatten(chains);
    }

    /// Open (`Some(true)`), close (`Some(false)`) or toggle (`None`) a row. Returns whether
    /// anything changed.
    pub fn set_open(&mut self, row: Row, open: Option<bool>, chains: &[Arc<Chain>]) -> bool {
        let key = self.key(row, chains);
        let flag: &mut bool = match row {
            Row::Cluster | Row::Object { .. } | Row::SpcGroup(..) | Row::Spc(..) => return false,
            Row::Namespace(n) => &mut self.namespaces[n].open,
            Row::Workload(n, w) => &mut self.namespaces[n].workloads[w].open,
            Row::Pod(n, w, p) => &mut self.namespaces[n].workloads[w].pods[p].open,
            Row::Chain(n, w, p, k) => {
                let pos = self.namespaces[n].workloads[w].pods[p].chains.start + k;
                if chains
                    .get(self.order[pos])
                    .is_none_or(|c| c.objects.is_empty())
                {
                    return false;
                }
                &mut self.chain_open[pos]
            }
        };
        let new = open.unwrap_or(!*flag);
        if new == *flag {
            return false;
        }
        *flag = new;
        // Opening or closing is the user's move: the selection stays where they put it.
        self.lost = None;
        if new {
            self.closed.remove(&key);
            self.opened.insert(key);
        } else {
            self.opened.remove(&key);
            self.closed.insert(key);
        }
        self.flatten(chains);
        true
    }

    pub fn is_row_open(&self, row: Row) -> Option<bool> {
        match row {
            Row::Cluster | Row::Object { .. } | Row::SpcGroup(..) | Row::Spc(..) => None,
            Row::Namespace(n) => Some(self.namespaces[n].open),
            Row::Workload(n, w) => Some(self.namespaces[n].workloads[w].open),
            Row::Pod(n, w, p) => Some(self.namespaces[n].workloads[w].pods[p].open),
            Row::Chain(n, w, p, k) => {
                Some(self.chain_open[self.namespaces[n].workloads[w].pods[p].chains.start + k])
            }
        }
    }

    /// The row of the parent node (for `h` on a closed node).
    pub fn parent_index(&self) -> Option<usize> {
        let depth = self.selected_row().depth();
        (0..self.selected)
            .rev()
            .find(|i| self.rows[*i].depth() < depth)
    }

    /// Worst status of the node a row stands for.
    pub fn row_status(&self, row: Row, chains: &[Arc<Chain>]) -> Status {
        match row {
            // No chains under the root is not a healthy cluster: nothing was judged.
            Row::Cluster if self.counts.total() == 0 => Status::Unknown,
            Row::Cluster => self.counts.worst(),
            Row::Namespace(n) => self.namespaces[n].counts.worst(),
            Row::Workload(n, w) => self.namespaces[n].workloads[w].worst,
            Row::Pod(n, w, p) => self.namespaces[n].workloads[w].pods[p].worst,
            Row::Chain(..) => self
                .row_chain(row)
                .and_then(|ci| chains.get(ci))
                .map_or(Status::Unknown, |c| c.shown_worst()),
            Row::Object { chain, object } => chains
                .get(chain)
                .and_then(|c| c.objects.get(object))
                .map_or(Status::Unknown, |o| o.status),
            Row::SpcGroup(n) => (self.namespaces[n].spcs.iter())
                .map(|s| s.status)
                .max()
                .unwrap_or(Status::Unknown),
            Row::Spc(n, k) => self.namespaces[n].spcs[k].status,
        }
    }

    /// Keep the selection inside a viewport of `height` rows.
    pub fn scroll_into_view(&mut self, height: usize) {
        let height = height.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
        let max_offset = self.rows.len().saturating_sub(height);
        self.offset = self.offset.min(max_offset);
    }
}
