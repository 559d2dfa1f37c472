//! New data from the source: snapshots applied to the tree (keeping the selection), lab and
//! progress statuses, and what the selection shows (the link, the pod's events).

use std::sync::Arc;

use super::{App, Discarded, Level};
use crate::chain::{Chain, SpcVerdict, Status};
use crate::snapshot::{Snapshot, SourceKind};
use crate::source::SourceEvent;
use crate::ui::subject;
use crate::ui::tree::Row;
use crate::ui::views::events::{cited_on, classify, history_on};

/// How the status bar says the source is retrying its connection; replaced once data arrives.
const RECONNECTING: &str = "reconnecting";

impl App {
    /// The lab clock to show: the time of the world the panes show. The lab sends its world
    /// whenever it changes but its status (clock, speed) about once a second, so at ×30 the
    /// status's time trails the latest snapshot's by up to 30 lab seconds.
    pub fn lab_clock(&self) -> Option<jiff::Timestamp> {
        let status = self.lab.as_ref()?.time;
        let shown = (self.snapshot.as_deref())
            .filter(|s| s.source.kind == SourceKind::Lab)
            .map(|s| s.source.observed_at);
        Some(shown.map_or(status, |t| t.max(status)))
    }

    pub(super) fn on_source(&mut self, ev: SourceEvent) {
        match ev {
            SourceEvent::Progress(p) => self.progress = Some(p),
            SourceEvent::Status(s) => self.source_status(s),
            SourceEvent::Lab(l) => {
                self.lab = Some(l);
                self.lab_received = Some(self.now);
                self.tick_watch();
            }
            SourceEvent::Unreachable {
                why,
                retry_in,
                attempt,
            } => {
                // The word first: a long reason is cut at the right edge of the status bar.
                self.say(
                    format!("{RECONNECTING} (attempt {attempt}): {why}"),
                    Level::Warn,
                );
                if self.snapshot.is_none() {
                    // Nothing was seen: the whole cluster is a gap, not an empty healthy one.
                    self.gaps = vec![crate::ui::gaps::Gap {
                        what: "everything".into(),
                        // Short, so the banner has room for it; the full error is in the
                        // loading box and the status bar.
                        reason: "cannot reach the API server; reconnecting".into(),
                    }];
                }
                self.unreachable = Some(super::Unreachable {
                    why,
                    retry_at: self.now + retry_in,
                    attempt,
                });
            }
            SourceEvent::Failed(e) => {
                self.say(format!("source stopped: {e}"), Level::Error);
                self.failed = Some(e);
            }
            // Snapshots are diagnosed before they reach the app; one that arrives raw (tests)
            // is diagnosed here.
            SourceEvent::Snapshot(s) => {
                let chains: Vec<Arc<Chain>> = crate::chain::diagnose(&s)
                    .into_iter()
                    .map(Arc::new)
                    .collect();
                let spcs = crate::chain::unmounted_spcs(&s, &chains);
                // Tests only (the runner diagnoses off this task): drop in place.
                drop(self.apply_diagnosed(s, chains, spcs));
            }
        }
    }

    /// A new snapshot: rebuild the tree (keeping selection and open nodes). Returns what it
    /// replaced, for the caller to drop wherever it likes. No SecretProviderClass verdicts:
    /// the chains given need not be the snapshot's (tests), so which SPCs no chain mounts is
    /// not known here ([`App::apply_diagnosed`] is given them).
    pub fn apply(&mut self, snapshot: Arc<Snapshot>, chains: Vec<Chain>) -> Discarded {
        self.apply_shared(snapshot, chains.into_iter().map(Arc::new).collect())
    }

    /// [`App::apply`] with chains shared with the diagnoser.
    pub fn apply_shared(&mut self, snapshot: Arc<Snapshot>, chains: Vec<Arc<Chain>>) -> Discarded {
        self.apply_diagnosed(snapshot, chains, Vec::new())
    }

    /// [`App::apply_shared`] with the SecretProviderClasses no chain mounts, checked on their
    /// own where the chains were made ([`crate::chain::unmounted_spcs`]): rows of the tree.
    pub fn apply_diagnosed(
        &mut self,
        snapshot: Arc<Snapshot>,
        chains: Vec<Arc<Chain>>,
        spcs: Vec<SpcVerdict>,
    ) -> Discarded {
        let first = self.snapshot.is_none();
        // Data arrived: the cluster answers again. A "reconnecting (attempt N): cannot reach …"
        // left in the status bar would now be false; anything said since stays.
        if let Some(lost) = self.unreachable.take()
            && self
                .message
                .as_ref()
                .is_some_and(|(m, _)| m.starts_with(RECONNECTING))
        {
            self.say(
                format!(
                    "reconnected to {} after {} failed attempt{}",
                    snapshot.source.label,
                    lost.attempt,
                    if lost.attempt == 1 { "" } else { "s" }
                ),
                Level::Info,
            );
        }
        self.source.label.clone_from(&snapshot.source.label);
        self.source.kind = snapshot.source.kind;
        self.source.observed_at = snapshot.source.observed_at;
        self.source.not_live.clone_from(&snapshot.source.not_live);
        let old_chains = std::mem::replace(&mut self.chains, chains);
        self.spcs = spcs;
        if let Some(w) = &mut self.watch {
            w.observe(&snapshot, &self.chains);
            self.timeline = Some(w.timeline());
        }
        self.gaps = crate::ui::gaps::gaps(&snapshot);
        let old_snapshot = self.snapshot.replace(snapshot);
        self.snapshots_applied += 1;
        self.received_at = Some(self.now);
        self.received_wall = Some(jiff::Timestamp::now());
        self.progress = None;
        let label = self.cluster_label();
        self.tree
            .rebuild_with(&self.chains, &self.spcs, &self.filter, &label);
        if first {
            self.select_first_worst();
        }
        self.selection_changed();
        Discarded {
            chains: old_chains,
            snapshot: old_snapshot,
        }
    }

    /// Why the tree's root stands over no chains at all, drawn beside its `?`: no data (and
    /// why), or data in which nothing is shown. `None` when there are chains to judge.
    pub fn empty_reason(&self) -> Option<String> {
        if self.tree.counts.total() > 0 {
            return None;
        }
        Some(match &self.snapshot {
            None if self.unreachable.is_some() => "no data: cannot reach the cluster".into(),
            None if self.failed.is_some() => "no data: the source stopped".into(),
            None => "no data yet".into(),
            // Pods or SecretProviderClasses unread: chains may exist that could not be
            // seen, so "no chains" would read as a verdict (audit W2).
            Some(s) if s.incomplete() => "chains not seen: reads failed".into(),
            Some(_) => match &self.filter.namespace {
                Some(ns) => self.empty_namespace_short(ns),
                None if !self.filter.text.is_empty() => "nothing matches the filter".into(),
                None => "no chains".into(),
            },
        })
    }

    pub(super) fn cluster_label(&self) -> String {
        match self.source.kind {
            SourceKind::Lab => format!("lab: {}", self.source.label),
            SourceKind::Live => self.source.label.clone(),
            SourceKind::Manifests => format!("manifests: {}", self.source.label),
        }
    }

    /// On the first snapshot, land on the first broken (else warning, else unknown) pod when it
    /// is visible.
    fn select_first_worst(&mut self) {
        // Large trees start closed: then the first namespace with that status will do.
        for want in [Status::Broken, Status::Warning, Status::Unknown] {
            for pods in [true, false] {
                if let Some(i) = self.tree.rows.iter().position(|r| {
                    let kind_ok = if pods {
                        matches!(r, Row::Pod(..) | Row::Spc(..))
                    } else {
                        matches!(r, Row::Namespace(..))
                    };
                    kind_ok && self.tree.row_status(*r, &self.chains) == want
                }) {
                    self.tree.select(i, &self.chains);
                    return;
                }
            }
        }
    }

    pub(super) fn rebuild_tree(&mut self) {
        let label = self.cluster_label();
        self.tree
            .rebuild_with(&self.chains, &self.spcs, &self.filter, &label);
        // A new filter is a new question: show the selected chain's cause again.
        self.link_chain = None;
        self.selection_changed();
    }

    /// Keep the link choice and the pod's events in step with the selected row.
    pub(crate) fn selection_changed(&mut self) {
        let chain = self.selected_chain();
        let id = chain.map(|c| c.id.clone());
        let focus = chain.map(crate::ui::strip_text::focus_link);
        // A new chain, or the same chain broken somewhere else (a fault applied, a repair):
        // show its worst link; the user's own choice stands while neither changes.
        if id != self.link_chain || focus != self.link_focus {
            if let Some(f) = focus {
                self.link = f;
            }
            if id != self.link_chain {
                self.detail_scroll = 0;
                self.events_scroll = 0;
            }
            self.link_chain = id;
            self.link_focus = focus;
        }
        // A revealed value never outlives the selection it was asked for.
        if self
            .revealed
            .as_ref()
            .is_some_and(|r| Some(&r.target) != self.selected_reveal_target().as_ref())
        {
            self.revealed = None;
        }
        let chain = self.selected_chain();
        // Events recorded on the pod's name that belong to an earlier pod of that name (a
        // StatefulSet's replica re-created, a bare pod replaced) are not this pod's, as
        // `kubectl describe pod` selects them by `involvedObject.uid` too: shown, a past pod's
        // 403 read as a warning tagged with a link of a pod that never failed (audit SSS-time).
        // They are counted, so the pane says they were left out.
        let mut earlier = 0;
        self.pod_events = match (self.snapshot.as_deref(), self.selected_pod()) {
            (Some(s), Some((ns, pod))) => {
                let obs = (s.pods.items.iter()).find(|p| p.namespace == ns && p.name == pod);
                s.events
                    .items
                    .iter()
                    .filter(|e| e.namespace == ns && e.involved_name == pod)
                    .filter(|e| {
                        let mine = obs.is_none_or(|p| crate::chain::chain_events::about_pod(p, e));
                        earlier += usize::from(!mine);
                        mine
                    })
                    .map(|e| {
                        let mut c = classify(e);
                        // Where the diagnosis cites the event, its link is the tag.
                        if let Some(link) = chain.and_then(|ch| cited_on(ch, e)) {
                            c.link = Some(link);
                        } else if let Some(link) = chain.and_then(|ch| history_on(ch, e)) {
                            // Kept as history, not as a finding: no current warning (FACTS
                            // §11, events are history; audit SSS-time left the pane drawing
                            // an answered failure as one).
                            c.link = Some(link);
                            c.history = c.warning;
                        }
                        // An event of a link a break upstream kept from being tried (the
                        // kubelet's mount timeout beside a missing object) is that break's
                        // symptom: the strip draws its link "not reached", and so does the tag.
                        if let (Some(ch), Some(link)) = (chain, c.link)
                            && let Some(cause) = crate::ui::strip_text::shown(ch, link).not_reached
                        {
                            c.link = Some(cause);
                        }
                        c
                    })
                    .collect()
            }
            _ => Vec::new(),
        };
        // Newest first, as k9s sorts its events view (LAST SEEN): the pane shows its top, and
        // oldest first left a current failure below an old success, out of view at 80×24
        // (audit TTT-time). An event of no known time is not the newest: last. Stable, so
        // events seen at the same instant keep the snapshot's order.
        self.pod_events
            .sort_by_key(|e| std::cmp::Reverse(e.last_seen));
        self.earlier_pod_events = earlier;
    }

    /// Why the selected pod's events could not be read, when they are a gap (forbidden, not
    /// listed in time): the events pane must say so, not "no events for this pod".
    pub fn events_unread(&self) -> Option<String> {
        let (ns, _) = self.selected_pod()?;
        let snapshot = self.snapshot.as_deref()?;
        snapshot.events.gaps.reason_for(&ns).map(str::to_string)
    }

    /// (namespace, pod) of the selected row, for pod, SPC and object rows; none for a chain
    /// no pod starts (an Ingress's): it has no pod to restart, verify or show events of.
    pub fn selected_pod(&self) -> Option<(String, String)> {
        let c = self.selected_chain()?;
        subject::has_pod(c).then(|| (c.namespace.to_string(), c.pod.to_string()))
    }

    /// (namespace, name) of what the selected chain is about: its pod, or for a chain no pod
    /// starts what it comes from (`Ingress/edge`), for the panes' titles.
    pub fn selected_subject(&self) -> Option<(String, String)> {
        let c = self.selected_chain()?;
        Some((c.namespace.to_string(), subject::name(c).into_owned()))
    }

    /// The SecretProviderClass no chain mounts that the selected row is ([`Row::Spc`]).
    pub fn selected_spc(&self) -> Option<&SpcVerdict> {
        self.selected_spc_at(self.tree.selected_row())
    }

    /// The SecretProviderClass no chain mounts that `row` is.
    pub fn selected_spc_at(&self, row: Row) -> Option<&SpcVerdict> {
        self.tree.row_spc(row).and_then(|i| self.spcs.get(i))
    }
}
