//! App state and the one place it changes: [`App::update`] turns an [`AppEvent`] (key, mouse,
//! resize, tick, source event, diagnosed snapshot, action outcome) into state changes and
//! [`Effect`]s for the runner to carry out (quit, copy, send a command to the source). No IO
//! here, so every behaviour is testable without a terminal.
//!
//! `update` dispatches to handlers beside it, each an `impl App` of one job: `keys` (keys
//! and mouse), `perform` (a normal-mode action), `actions` (write/read actions and their
//! watch), `data` (new snapshots and source statuses), `filtering` (a typed filter),
//! `permissions`. They use this module and `model` (events, effects, small state types);
//! nothing here uses them.

mod actions;
mod data;
mod filtering;
mod keys;
mod model;
mod namespace;
mod perform;
mod permissions;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::KeyEventKind;
use ratatui::layout::Rect;

use super::config::UiConfig;
use super::keymap::{KeyMap, UiAction};
use super::layout::Areas;
use super::theme::Theme;
use super::tree::{Filter, TreeView};
use super::verified::Verified;
use super::views::events::ClassifiedEvent;
use crate::action::Action;
use crate::action::reveal::UNMASK_FOR;
use crate::action::timeline::Timeline;
use crate::chain::{Chain, Link, LinkKind, SpcVerdict};
use crate::snapshot::{Snapshot, SourceInfo, SourceKind};
use crate::source::{LabStatus, Progress};

use model::reveal_label;
pub use model::{
    AppEvent, Discarded, Effect, Level, Mode, Pane, Permission, RevealState, Unreachable, Watch,
};

pub struct App {
    pub source: SourceInfo,
    pub snapshot: Option<Arc<Snapshot>>,
    pub chains: Vec<Arc<Chain>>,
    /// The SecretProviderClasses no chain mounts, checked on their own off the UI task
    /// ([`crate::chain::unmounted_spcs`]): rows of the tree, as `check` lists them.
    pub spcs: Vec<SpcVerdict>,
    pub tree: TreeView,
    pub filter: Filter,
    pub focus: Pane,
    pub mode: Mode,
    /// The link shown in the detail pane.
    pub link: LinkKind,
    /// The chain `link` was chosen for (a new chain starts at its worst link).
    link_chain: Option<crate::chain::SharedText>,
    /// The link that chain's diagnosis pointed at then ([`super::strip_text::focus_link`]).
    link_focus: Option<LinkKind>,
    pub detail_scroll: u16,
    pub events_scroll: u16,
    /// Rows of the help scrolled past: at 80×24 its columns, a config path or the reasons
    /// keys are disabled, can be taller than the screen.
    pub help_scroll: u16,
    /// Events of the selected pod (indexes into `snapshot.events`), classified.
    pub pod_events: Vec<ClassifiedEvent>,
    /// Events on the selected pod's name that an earlier pod of that name got (another
    /// `involvedObject.uid`): left out of `pod_events`, counted so the pane says so.
    pub earlier_pod_events: usize,
    /// The propagation timeline of the last action (shown instead of the events).
    pub timeline: Option<Timeline>,
    /// Watch prepared when an action is confirmed, started when it succeeds.
    pending_watch: Option<Watch>,
    watch: Option<Watch>,
    /// After a marker rotation: the restore of the value it replaced (`u`).
    pending_restore: Option<Action>,
    pub restore: Option<Action>,
    /// The last verify's results (shown in the events pane until esc).
    pub verified: Option<Verified>,
    /// Title of the verify under way.
    verifying: Option<String>,
    pub revealed: Option<RevealState>,
    /// The lesson being run (`demo --lesson`), see [`super::lesson`], and how far its pane
    /// is scrolled (`J`/`K`).
    pub lesson: Option<crate::source::lab::lesson::LessonRun>,
    pub lesson_scroll: u16,
    /// Snapshots applied so far, and the count the lesson last looked at.
    pub(crate) snapshots_applied: u64,
    pub(crate) lesson_seen: u64,
    /// Faults a lesson asked the lab to apply whose answer has not come back yet.
    pub(crate) lesson_replies: usize,
    /// What the source said about permissions, by [`App::permission_probe`] key.
    pub permissions: HashMap<String, Permission>,
    pub progress: Option<Progress>,
    pub lab: Option<LabStatus>,
    /// The workload the open break menu acts on, fixed when it opened: a refresh that moves
    /// the selection (a rollout, a deleted workload) must not re-target the next break.
    pub menu_target: Option<crate::source::FaultTarget>,
    /// What the selected row named when the menu opened that no fault can act on (an
    /// Ingress): the menu says the default target stands in for it.
    pub menu_passed_over: Option<crate::source::FaultTarget>,
    /// When `lab` arrived: the lab clock runs on between two statuses.
    lab_received: Option<Instant>,
    pub message: Option<(String, Level)>,
    pub failed: Option<String>,
    /// The source cannot reach its cluster and is retrying ([`Unreachable`]).
    pub unreachable: Option<Unreachable>,
    pub received_at: Option<Instant>,
    /// The wall clock when the snapshot arrived: a frozen snapshot's data is as old as the
    /// time since it was recorded, not since it was loaded.
    pub received_wall: Option<jiff::Timestamp>,
    pub now: Instant,
    /// Seconds of data age last drawn (a tick redraws only when it changes).
    drawn_age: Option<u64>,
    pub spinner: usize,
    pub config: UiConfig,
    pub theme: Theme,
    pub keymap: KeyMap,
    pub size: Rect,
    /// What the snapshot could not see ([`super::gaps`]), for the banner and status bar.
    pub gaps: Vec<super::gaps::Gap>,
    /// Events and evidence in full (`e`), else their decisive line ([`crate::glance`]).
    pub full_text: bool,
    /// Why the lab was opened instead of a cluster ([`App::lab_fallback`]).
    pub fallback: Option<String>,
    pub fallback_open: bool,
    /// When the UI started: the connecting screen counts from here.
    pub started: Instant,
    /// Something changed since the last draw.
    pub dirty: bool,
    /// A source that only replays a recording (`frozen snapshot FILE`): nothing to re-read,
    /// and actions are refused at the key with this, before any confirmation (audit Y5).
    pub frozen: Option<String>,
}

impl App {
    pub fn new(source: SourceInfo, config: UiConfig) -> App {
        let theme = config.theme();
        let keymap = config.keymap.clone();
        let mut app = App {
            source,
            snapshot: None,
            chains: Vec::new(),
            spcs: Vec::new(),
            tree: TreeView::default(),
            filter: Filter::default(),
            focus: Pane::Tree,
            mode: Mode::Normal,
            link: LinkKind::Pod,
            link_chain: None,
            link_focus: None,
            detail_scroll: 0,
            events_scroll: 0,
            help_scroll: 0,
            pod_events: Vec::new(),
            earlier_pod_events: 0,
            timeline: None,
            pending_watch: None,
            watch: None,
            pending_restore: None,
            restore: None,
            verified: None,
            verifying: None,
            revealed: None,
            lesson: None,
            lesson_scroll: 0,
            snapshots_applied: 0,
            lesson_seen: 0,
            lesson_replies: 0,
            permissions: HashMap::new(),
            progress: None,
            lab: None,
            menu_target: None,
            menu_passed_over: None,
            lab_received: None,
            message: None,
            failed: None,
            unreachable: None,
            received_at: None,
            received_wall: None,
            now: Instant::now(),
            drawn_age: None,
            spinner: 0,
            config,
            theme,
            keymap,
            size: Rect::new(0, 0, 80, 24),
            gaps: Vec::new(),
            full_text: false,
            fallback: None,
            fallback_open: false,
            started: Instant::now(),
            dirty: true,
            frozen: None,
        };
        app.tree.cluster_label = app.cluster_label();
        app
    }

    /// The lab opened because no cluster is configured: what was looked for, shown in an
    /// overlay until a key dismisses it (the status bar says LAB in the warning colour).
    pub fn lab_fallback(&mut self, why: impl Into<String>) {
        self.fallback = Some(why.into());
        self.fallback_open = true;
    }

    pub fn read_only(&self) -> bool {
        self.config.read_only
    }

    pub fn is_lab(&self) -> bool {
        self.source.kind == SourceKind::Lab || self.lab.is_some()
    }

    pub fn loading(&self) -> bool {
        self.snapshot.is_none()
    }

    /// Whether a key's action is available now (greyed in help and hints otherwise).
    pub fn enabled(&self, action: UiAction) -> bool {
        if self.frozen.is_some() && Self::frozen_refuses(action) {
            return false;
        }
        if action.writes() && self.read_only() {
            return false;
        }
        if action.reveals() && (self.read_only() || self.config.no_reveal) {
            return false;
        }
        if action.lab_only() && !self.is_lab() {
            return false;
        }
        true
    }

    /// What a frozen snapshot cannot do (README "demo --snapshot"): write, exec, reveal, drive
    /// the lab, or re-read anything (so the help greys `ctrl-r` too).
    pub fn frozen_refuses(action: UiAction) -> bool {
        action.writes()
            || action.reveals()
            || action.lab_only()
            || matches!(action, UiAction::Verify | UiAction::Refresh)
    }

    pub fn areas(&self) -> Areas {
        let status = super::views::status::height(self, self.size.width);
        let a = super::layout::layout_with(self.size, self.banner_shown(), status);
        let watching = self.timeline.is_some() || self.verified.is_some();
        match &self.lesson {
            Some(run) => {
                let rows = |w| super::views::lesson::rows(self, run, w);
                super::layout::with_lesson(a, rows, watching)
            }
            None if watching => super::layout::showing_result(a, |w| {
                super::views::timeline::rows(self, w).unwrap_or_default()
            }),
            None => a,
        }
    }

    /// The banner under the strip: gaps, or kinds listed but not kept current.
    pub fn banner_shown(&self) -> bool {
        !self.gaps.is_empty() || !self.source.not_live.is_empty()
    }

    pub fn selected_chain(&self) -> Option<&Chain> {
        self.tree
            .row_chain(self.tree.selected_row())
            .and_then(|i| self.chains.get(i))
            .map(|c| &**c)
    }

    pub fn selected_link(&self) -> Option<&Link> {
        self.selected_chain()
            .and_then(|c| c.links.get(self.link.index()))
    }

    /// Data age, if any data arrived: since the source last read from its cluster, not since
    /// the snapshot arrived (a live source re-sends the same objects on its clock tick and on
    /// every failed reconnect, audit W3): the snapshot's own lag plus the time since. A frozen
    /// snapshot (`demo --snapshot`) was read when it was recorded (`read_at`, else
    /// `observed_at`): its lag runs from then to when it was loaded (fixer H item 3).
    pub fn age(&self) -> Option<Duration> {
        let since = self
            .received_at
            .map(|t| self.now.saturating_duration_since(t))?;
        let lag = self
            .snapshot
            .as_ref()
            .and_then(|s| {
                let src = &s.source;
                match (&self.frozen, self.received_wall) {
                    (Some(_), Some(loaded)) => {
                        Some(loaded.duration_since(src.read_at.unwrap_or(src.observed_at)))
                    }
                    _ => Some(src.observed_at.duration_since(src.read_at?)),
                }
            })
            .and_then(|d| Duration::try_from(d).ok())
            .unwrap_or_default();
        Some(since + lag)
    }

    /// When an unmasked value must be hidden again (the loop wakes up then).
    pub fn reveal_deadline(&self) -> Option<Instant> {
        self.revealed.as_ref().and_then(|r| r.unmasked_until)
    }

    fn expire_reveal(&mut self) {
        if self
            .reveal_deadline()
            .is_some_and(|until| self.now >= until)
        {
            self.revealed = None;
            self.say("value hidden again", Level::Info);
            self.dirty = true;
        }
    }

    pub(crate) fn say(&mut self, text: impl Into<String>, level: Level) {
        self.message = Some((text.into(), level));
    }

    // ------------------------------------------------------------------ update

    pub fn update(&mut self, event: AppEvent) -> Vec<Effect> {
        let mut fx = Vec::new();
        // Whatever woke the loop: an unmasked value never outlives its deadline.
        self.expire_reveal();
        match event {
            AppEvent::Key(k) => {
                // Key release/repeat reports (kitty protocol) are not presses.
                if k.kind == KeyEventKind::Press {
                    self.on_key(k, &mut fx);
                    self.dirty = true;
                }
            }
            AppEvent::Mouse(m) => {
                if self.on_mouse(m) {
                    self.dirty = true;
                }
            }
            AppEvent::Resize(w, h) => {
                self.size = Rect::new(0, 0, w, h);
                self.dirty = true;
            }
            AppEvent::Tick => {
                if self.loading() {
                    self.spinner = self.spinner.wrapping_add(1);
                    self.dirty = true;
                }
                // Live sources have no clock of their own between snapshots: wall time.
                if self.lab.is_none() {
                    self.tick_watch();
                }
                let age = self.age().map(|d| d.as_secs());
                if age != self.drawn_age {
                    self.drawn_age = age;
                    self.dirty = true;
                }
            }
            AppEvent::Source(ev) => {
                self.on_source(ev);
                self.dirty = true;
            }
            AppEvent::Diagnosed {
                snapshot,
                chains,
                spcs,
            } => {
                let old = self.apply_diagnosed(snapshot, chains, spcs);
                fx.push(Effect::Discard(old));
                self.dirty = true;
            }
            AppEvent::Revealed { target, result } => {
                match result {
                    Ok(value) => {
                        let label = reveal_label(&target);
                        let key = self.keymap.hint(UiAction::Reveal);
                        self.say(
                            format!(
                                "{label}: shown masked; {key} again unmasks it for {}s",
                                UNMASK_FOR.as_secs()
                            ),
                            Level::Info,
                        );
                        self.revealed = Some(RevealState {
                            target,
                            label,
                            value,
                            unmasked_until: None,
                        });
                    }
                    Err(e) => self.say(format!("reveal: {e}"), Level::Error),
                }
                self.dirty = true;
            }
            AppEvent::Permission { key, result } => {
                let p = match result {
                    Ok(()) => Permission::Allowed,
                    Err(why) => Permission::Denied(why),
                };
                self.permissions.insert(key, p);
                self.dirty = true;
            }
            AppEvent::ActionDone(outcome) => {
                let level = if outcome.ok {
                    Level::Info
                } else {
                    Level::Error
                };
                let pending = self.pending_watch.take();
                let restore = self.pending_restore.take();
                if outcome.ok
                    && let Some(mut w) = pending
                {
                    // The source's snapshot after the write may have been diagnosed before
                    // this outcome arrived; a quiet source sends no other.
                    if let Some(s) = &self.snapshot {
                        w.observe(s, &self.chains);
                    }
                    self.timeline = Some(w.timeline());
                    self.watch = Some(w);
                    self.verified = None;
                    if restore.is_some() {
                        self.restore = restore;
                    }
                }
                self.say(outcome.message, level);
                self.dirty = true;
            }
            AppEvent::Verified(outcome) => {
                let title = self.verifying.take().unwrap_or_else(|| "verify".into());
                let v = Verified::new(title, &outcome);
                let level = if v.ok { Level::Info } else { Level::Error };
                self.say(v.summary(), level);
                self.verified = Some(v);
                self.events_scroll = 0;
                self.dirty = true;
            }
        }
        self.drive_lesson(&mut fx);
        self.ask_permissions(&mut fx);
        fx
    }
}
