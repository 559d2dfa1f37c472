//! Where the selection goes when its node vanishes: a rollout replaced the pod, the workload
//! was deleted, a filter hid it. Never to whatever row now sits at the same height (that is
//! another workload, and the lab's break menu acts on the selected workload): to the nearest
//! surviving ancestor — the new pod of the same workload, else the workload, else its
//! namespace. The vanished node is remembered, and the selection goes back to it (or to a
//! nearer ancestor) when it returns, until the user moves.

use std::sync::Arc;

use super::{NodeKey, Row, TreeView};
use crate::chain::Chain;

impl TreeView {
    /// Put the selection back on its node after the rows changed (see the module doc).
    pub(super) fn restore_selection(&mut self, chains: &[Arc<Chain>]) {
        let Some(key) = self.selected_key.clone() else {
            self.selected = self.selected.min(self.rows.len().saturating_sub(1));
            return;
        };
        let current = self.find(&key, chains);
        if let Some((lost, lineage)) = self.lost.clone() {
            if let Some(i) = self.find(&lost, chains) {
                self.lost = None;
                return self.settle(i, chains);
            }
            let depth = current.map_or(0, |i| self.rows[i].depth());
            if let Some(i) = self.survivor(&lost, &lineage, chains)
                && self.rows[i].depth() > depth
            {
                return self.settle(i, chains);
            }
        }
        match current {
            Some(i) => self.settle(i, chains),
            None => {
                let lineage = std::mem::take(&mut self.lineage);
                let i = self.survivor(&key, &lineage, chains).unwrap_or(0);
                self.lost = Some((key, lineage));
                self.settle(i, chains);
            }
        }
    }

    fn settle(&mut self, i: usize, chains: &[Arc<Chain>]) {
        self.selected = i.min(self.rows.len().saturating_sub(1));
        let row = self.selected_row();
        if self
            .selected_key
            .as_ref()
            .is_none_or(|k| !self.key_eq(row, k, chains))
        {
            self.selected_key = Some(self.key(row, chains));
        }
        self.lineage = self.lineage_of(row, chains);
    }

    fn find(&self, key: &NodeKey, chains: &[Arc<Chain>]) -> Option<usize> {
        self.rows.iter().position(|r| self.key_eq(*r, key, chains))
    }

    /// The row standing in for the vanished `key`: its nearest visible ancestor; for a node
    /// below a workload whose own pod is gone, a pod of the same workload (the one nearest the
    /// old position: a rollout's new pod).
    fn survivor(&self, key: &NodeKey, lineage: &[NodeKey], chains: &[Arc<Chain>]) -> Option<usize> {
        let below_workload = matches!(
            key,
            NodeKey::Pod { .. } | NodeKey::Chain(_) | NodeKey::Object { .. }
        );
        for ancestor in lineage {
            let Some(i) = self.find(ancestor, chains) else {
                continue;
            };
            if let (true, Row::Workload(n, w)) = (below_workload, self.rows[i]) {
                let pod = self
                    .rows
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| matches!(r, Row::Pod(pn, pw, _) if (*pn, *pw) == (n, w)))
                    .min_by_key(|(j, _)| j.abs_diff(self.selected))
                    .map(|(j, _)| j);
                return Some(pod.unwrap_or(i));
            }
            return Some(i);
        }
        None
    }

    /// A row's ancestors, nearest first, as keys (they survive a rebuild; indexes do not).
    pub(super) fn lineage_of(&self, row: Row, chains: &[Arc<Chain>]) -> Vec<NodeKey> {
        let ns_key = |n: usize| NodeKey::Namespace(self.namespaces[n].name.clone());
        let mut out = Vec::new();
        match row {
            Row::Cluster => return out,
            Row::Namespace(_) => {}
            Row::Workload(n, _) | Row::SpcGroup(n) => out.push(ns_key(n)),
            Row::Spc(n, _) => {
                out.push(self.key(Row::SpcGroup(n), chains));
                out.push(ns_key(n));
            }
            Row::Pod(n, w, _) => {
                out.push(self.key(Row::Workload(n, w), chains));
                out.push(ns_key(n));
            }
            Row::Chain(n, w, p, _) => {
                out.push(self.key(Row::Pod(n, w, p), chains));
                out.push(self.key(Row::Workload(n, w), chains));
                out.push(ns_key(n));
            }
            Row::Object { chain, .. } => {
                if let Some(c) = chains.get(chain) {
                    let namespace = c.namespace.to_string();
                    let (kind, name) = c
                        .workload
                        .as_ref()
                        .map_or((String::new(), String::new()), |w| {
                            (w.kind.to_string(), w.name.to_string())
                        });
                    out.push(NodeKey::Chain(c.id.clone()));
                    out.push(NodeKey::Pod {
                        namespace: namespace.clone(),
                        name: crate::ui::subject::name(c).into_owned(),
                    });
                    out.push(NodeKey::Workload {
                        namespace: namespace.clone(),
                        kind,
                        name,
                    });
                    out.push(NodeKey::Namespace(namespace));
                }
            }
        }
        out.push(NodeKey::Cluster);
        out
    }
}
