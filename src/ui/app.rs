//! App state and the one place it changes: [`App::update`] turns an [`AppEvent`] (key, mouse,
//! resize, tick, source event, diagnosed snapshot, action outcome) into state changes and
//! [`Effect`]s for the runner to carry out (quit, copy, send a command to the source). No IO
//! here, so every behaviour is testable without a terminal.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::{Position, Rect};

use super::config::UiConfig;
use super::keymap::{KeyMap, UiAction};
use super::layout::Areas;
use super::theme::Theme;
use super::tree::{Filter, Row, TreeView};
use super::verified::Verified;
use super::views::events::{ClassifiedEvent, classify};
use crate::action::restart::RestartPlan;
use crate::action::reveal::{RevealTarget, Revealed, UNMASK_FOR};
use crate::action::timeline::{RestartWatch, RotationWatch, Timeline};
use crate::action::{Action, ActionOutcome};
use crate::chain::{Chain, Link, LinkKind, Status};
use crate::snapshot::{ObjectType, Snapshot, SourceInfo, SourceKind};
use crate::source::{
    LabControl, LabStatus, PermissionQuestion, Progress, SourceCommand, SourceEvent,
};

/// Everything that can change the state.
#[derive(Debug)]
pub enum AppEvent {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize(u16, u16),
    /// Once a second (data age), faster while loading (spinner).
    Tick,
    /// A source event other than a snapshot (snapshots arrive diagnosed).
    Source(SourceEvent),
    /// A snapshot and its chains, diagnosed off the UI task.
    Diagnosed {
        snapshot: Arc<Snapshot>,
        chains: Vec<Chain>,
    },
    ActionDone(ActionOutcome),
    /// The outcome of an in-container verify (shown in the events pane, one line per item).
    Verified(ActionOutcome),
    /// The source's answer to a reveal request.
    Revealed {
        target: RevealTarget,
        result: Result<Revealed, String>,
    },
    /// The source's answer to a permission question asked with [`Effect::CheckPermission`].
    Permission {
        key: String,
        result: Result<(), String>,
    },
}

/// What the runner must do after an update.
#[derive(Debug)]
pub enum Effect {
    Quit,
    /// Put text on the clipboard (OSC 52).
    Copy(String),
    /// Send a command to the source (refresh, lab controls).
    Command(SourceCommand),
    /// Carry out a confirmed action; the outcome comes back as [`AppEvent::ActionDone`].
    Act(Action),
    /// Ask the source for a value; the answer comes back as [`AppEvent::Revealed`].
    Reveal(RevealTarget),
    /// Ask the source whether `question` is permitted; the answer comes back as
    /// [`AppEvent::Permission`] with the same `key`.
    CheckPermission {
        key: String,
        question: PermissionQuestion,
    },
    /// The previous snapshot and chains. Freeing 10,000 chains is hundreds of thousands of
    /// deallocations (milliseconds): the runner drops them on the blocking pool, not between
    /// two frames.
    Discard(Discarded),
}

/// What a new snapshot replaced.
#[derive(Debug, Default)]
pub struct Discarded {
    pub chains: Vec<Chain>,
    pub snapshot: Option<Arc<Snapshot>>,
}

/// A value the user asked to see: drawn masked, unmasked on a second request for
/// [`UNMASK_FOR`], dropped (and zeroed) when that expires or the selection moves.
#[derive(Debug)]
pub struct RevealState {
    pub target: RevealTarget,
    pub label: String,
    pub value: Revealed,
    pub unmasked_until: Option<Instant>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pane {
    Tree,
    Strip,
    Detail,
    Events,
}

impl Pane {
    const ORDER: [Pane; 4] = [Pane::Tree, Pane::Strip, Pane::Detail, Pane::Events];
    fn step(self, forward: bool) -> Pane {
        let i = Pane::ORDER.iter().position(|p| *p == self).unwrap_or(0);
        let n = Pane::ORDER.len();
        Pane::ORDER[if forward {
            (i + 1) % n
        } else {
            (i + n - 1) % n
        }]
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Mode {
    Normal,
    /// Typing a `/` filter; `previous` is restored on esc.
    Filter {
        input: String,
        previous: String,
    },
    /// Typing a `:` command.
    Command {
        input: String,
    },
    Help,
    LabMenu {
        selected: usize,
    },
    /// A write waits for `y`, or for `typed` to equal the object name (marker rotation).
    Confirm {
        action: Action,
        prompt: String,
        typed: Option<String>,
    },
}

/// A permission answer from the source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Permission {
    Asking,
    Allowed,
    Denied(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

/// A propagation watch started by a confirmed action; fed every new snapshot.
#[derive(Clone, Debug)]
pub enum Watch {
    Rotation(RotationWatch),
    Restart(RestartWatch),
}

impl Watch {
    fn observe(&mut self, s: &Snapshot) {
        match self {
            Watch::Rotation(w) => w.observe(s),
            Watch::Restart(w) => w.observe(s),
        }
    }
    fn tick(&mut self, now: jiff::Timestamp) {
        match self {
            Watch::Rotation(w) => w.tick(now),
            Watch::Restart(w) => w.tick(now),
        }
    }
    fn timeline(&self) -> Timeline {
        match self {
            Watch::Rotation(w) => w.timeline(),
            Watch::Restart(w) => w.timeline(),
        }
    }
}

pub struct App {
    pub source: SourceInfo,
    pub snapshot: Option<Arc<Snapshot>>,
    pub chains: Vec<Chain>,
    pub tree: TreeView,
    pub filter: Filter,
    pub focus: Pane,
    pub mode: Mode,
    /// The link shown in the detail pane.
    pub link: LinkKind,
    /// The chain `link` was chosen for (a new chain starts at its worst link).
    link_chain: Option<String>,
    /// The link that chain's diagnosis pointed at then ([`super::strip_text::focus_link`]).
    link_focus: Option<LinkKind>,
    pub detail_scroll: u16,
    pub events_scroll: u16,
    /// Events of the selected pod (indexes into `snapshot.events`), classified.
    pub pod_events: Vec<ClassifiedEvent>,
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
    /// The lesson being run (`demo --lesson`), see [`super::lesson`].
    pub lesson: Option<crate::source::lab::lesson::LessonRun>,
    /// Snapshots applied so far, and the count the lesson last looked at.
    pub(crate) snapshots_applied: u64,
    pub(crate) lesson_seen: u64,
    /// What the source said about permissions, by [`App::permission_probe`] key.
    pub permissions: HashMap<String, Permission>,
    pub progress: Option<Progress>,
    pub lab: Option<LabStatus>,
    /// When `lab` arrived: the lab clock runs on between two statuses.
    lab_received: Option<Instant>,
    pub message: Option<(String, Level)>,
    pub failed: Option<String>,
    pub received_at: Option<Instant>,
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
}

impl App {
    pub fn new(source: SourceInfo, config: UiConfig) -> App {
        let theme = config.theme();
        let keymap = config.keymap.clone();
        let mut app = App {
            source,
            snapshot: None,
            chains: Vec::new(),
            tree: TreeView::default(),
            filter: Filter::default(),
            focus: Pane::Tree,
            mode: Mode::Normal,
            link: LinkKind::Pod,
            link_chain: None,
            link_focus: None,
            detail_scroll: 0,
            events_scroll: 0,
            pod_events: Vec::new(),
            timeline: None,
            pending_watch: None,
            watch: None,
            pending_restore: None,
            restore: None,
            verified: None,
            verifying: None,
            revealed: None,
            lesson: None,
            snapshots_applied: 0,
            lesson_seen: 0,
            permissions: HashMap::new(),
            progress: None,
            lab: None,
            lab_received: None,
            message: None,
            failed: None,
            received_at: None,
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

    pub fn areas(&self) -> Areas {
        super::layout::layout_with(self.size, !self.gaps.is_empty())
    }

    pub fn selected_chain(&self) -> Option<&Chain> {
        self.tree
            .row_chain(self.tree.selected_row())
            .and_then(|i| self.chains.get(i))
    }

    pub fn selected_link(&self) -> Option<&Link> {
        self.selected_chain()
            .and_then(|c| c.links.get(self.link.index()))
    }

    /// Data age in whole seconds, if any data arrived.
    pub fn age(&self) -> Option<Duration> {
        self.received_at
            .map(|t| self.now.saturating_duration_since(t))
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
            AppEvent::Diagnosed { snapshot, chains } => {
                let old = self.apply(snapshot, chains);
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
                        w.observe(s);
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

    /// Actions whose permission the source can judge ahead of time, with the scope the answer
    /// holds for: restarting a kind of owner, or exec, in a namespace; rotating or revealing
    /// secrets of a vault. Only live clusters have access control; the carrying out checks
    /// again in any case.
    pub fn permission_probe(&self, action: UiAction) -> Option<(String, PermissionQuestion)> {
        if self.source.kind != SourceKind::Live {
            return None;
        }
        match action {
            UiAction::Restart => {
                let (namespace, pod) = self.selected_pod()?;
                let owner = self
                    .selected_chain()
                    .and_then(|c| c.workload.as_ref())
                    .map_or("Pod", |w| w.kind.as_str());
                Some((
                    format!("restart {namespace} {owner}"),
                    Action::Restart { namespace, pod }.into(),
                ))
            }
            UiAction::Verify => {
                let (namespace, pod) = self.selected_pod()?;
                Some((
                    format!("exec {namespace}"),
                    Action::Verify {
                        namespace,
                        pod,
                        container: String::new(),
                    }
                    .into(),
                ))
            }
            // Both write a new version of the same secret: one question per vault.
            UiAction::Rotate | UiAction::RotateMarker => {
                let (chain, object) = self.rotation_pick().ok()?;
                let c = self.chains.get(chain)?;
                let vault = c.vault.clone()?;
                let object = c.objects.get(object)?.name.clone();
                Some((
                    format!("rotate {vault}"),
                    Action::Rotate {
                        vault,
                        object,
                        marker: false,
                    }
                    .into(),
                ))
            }
            UiAction::Reveal => {
                let target = self.selected_reveal_target()?;
                let RevealTarget::VaultSecret { vault, .. } = &target else {
                    return None;
                };
                let key = format!("reveal {vault}");
                Some((key, PermissionQuestion::Reveal(target)))
            }
            _ => None,
        }
    }

    /// Why the selected row's `action` is not permitted, when the source said so.
    pub fn denied(&self, action: UiAction) -> Option<&str> {
        let (key, _) = self.permission_probe(action)?;
        match self.permissions.get(&key) {
            Some(Permission::Denied(why)) => Some(why),
            _ => None,
        }
    }

    /// Whether a key's action can be used on the selected row: enabled, and not denied.
    pub fn available(&self, action: UiAction) -> bool {
        self.enabled(action) && self.denied(action).is_none()
    }

    /// Ask once per scope, as the selection reaches a new one.
    fn ask_permissions(&mut self, fx: &mut Vec<Effect>) {
        for a in [
            UiAction::Restart,
            UiAction::Verify,
            UiAction::Rotate,
            UiAction::RotateMarker,
            UiAction::Reveal,
        ] {
            if !self.enabled(a) {
                continue;
            }
            if let Some((key, question)) = self.permission_probe(a)
                && !self.permissions.contains_key(&key)
            {
                self.permissions.insert(key.clone(), Permission::Asking);
                fx.push(Effect::CheckPermission { key, question });
            }
        }
    }

    fn on_source(&mut self, ev: SourceEvent) {
        match ev {
            SourceEvent::Progress(p) => self.progress = Some(p),
            SourceEvent::Status(s) => self.say(s, Level::Warn),
            SourceEvent::Lab(l) => {
                self.lab = Some(l);
                self.lab_received = Some(self.now);
                self.tick_watch();
            }
            SourceEvent::Failed(e) => {
                self.say(format!("source stopped: {e}"), Level::Error);
                self.failed = Some(e);
            }
            // Snapshots are diagnosed before they reach the app; one that arrives raw (tests)
            // is diagnosed here.
            SourceEvent::Snapshot(s) => {
                let chains = crate::chain::diagnose(&s);
                // Tests only (the runner diagnoses off this task): drop in place.
                drop(self.apply(s, chains));
            }
        }
    }

    /// A new snapshot: rebuild the tree (keeping selection and open nodes). Returns what it
    /// replaced, for the caller to drop wherever it likes.
    pub fn apply(&mut self, snapshot: Arc<Snapshot>, chains: Vec<Chain>) -> Discarded {
        let first = self.snapshot.is_none();
        self.source.label.clone_from(&snapshot.source.label);
        self.source.kind = snapshot.source.kind;
        self.source.observed_at = snapshot.source.observed_at;
        let old_chains = std::mem::replace(&mut self.chains, chains);
        if let Some(w) = &mut self.watch {
            w.observe(&snapshot);
            self.timeline = Some(w.timeline());
        }
        self.gaps = super::gaps::gaps(&snapshot);
        let old_snapshot = self.snapshot.replace(snapshot);
        self.snapshots_applied += 1;
        self.received_at = Some(self.now);
        self.progress = None;
        let label = self.cluster_label();
        self.tree.rebuild(&self.chains, &self.filter, &label);
        if first {
            self.select_first_worst();
        }
        self.selection_changed();
        Discarded {
            chains: old_chains,
            snapshot: old_snapshot,
        }
    }

    fn cluster_label(&self) -> String {
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
                        matches!(r, Row::Pod(..))
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

    fn rebuild_tree(&mut self) {
        let label = self.cluster_label();
        self.tree.rebuild(&self.chains, &self.filter, &label);
        // A new filter is a new question: show the selected chain's cause again.
        self.link_chain = None;
        self.selection_changed();
    }

    /// Keep the link choice and the pod's events in step with the selected row.
    pub(crate) fn selection_changed(&mut self) {
        let chain = self.selected_chain();
        let id = chain.map(|c| c.id.clone());
        let focus = chain.map(super::strip_text::focus_link);
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
        self.pod_events = match (self.snapshot.as_deref(), self.selected_pod()) {
            (Some(s), Some((ns, pod))) => s
                .events
                .items
                .iter()
                .filter(|e| e.namespace == ns && e.involved_name == pod)
                .map(classify)
                .collect(),
            _ => Vec::new(),
        };
    }

    /// (namespace, pod) of the selected row, for pod, SPC and object rows.
    pub fn selected_pod(&self) -> Option<(String, String)> {
        match self.tree.selected_row() {
            Row::Pod(n, w, p) | Row::Chain(n, w, p, _) => {
                let ns = &self.tree.namespaces[n];
                Some((
                    ns.name.clone(),
                    self.tree.pod_name(n, w, p, &self.chains).to_string(),
                ))
            }
            Row::Object { chain, .. } => self
                .chains
                .get(chain)
                .map(|c| (c.namespace.clone(), c.pod.clone())),
            _ => None,
        }
    }

    // ------------------------------------------------------------------ keys

    fn on_key(&mut self, key: KeyEvent, fx: &mut Vec<Effect>) {
        // ctrl-c always quits, whatever the mode or the bindings.
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            fx.push(Effect::Quit);
            return;
        }
        // The lab-fallback notice takes the first key, whatever it is.
        if std::mem::take(&mut self.fallback_open) {
            return;
        }
        match self.mode.clone() {
            Mode::Filter {
                mut input,
                previous,
            } => {
                match key.code {
                    KeyCode::Esc => {
                        self.filter.text = previous;
                        self.mode = Mode::Normal;
                    }
                    KeyCode::Enter => {
                        self.mode = Mode::Normal;
                        return;
                    }
                    KeyCode::Backspace => {
                        input.pop();
                        self.filter.text.clone_from(&input);
                        self.mode = Mode::Filter { input, previous };
                    }
                    KeyCode::Char(c) if key.modifiers.contains(KeyModifiers::CONTROL) => {
                        match c {
                            'u' => input.clear(),
                            'w' => erase_word(&mut input),
                            _ => return,
                        }
                        self.filter.text.clone_from(&input);
                        self.mode = Mode::Filter { input, previous };
                    }
                    KeyCode::Char(c) => {
                        input.push(c);
                        self.filter.text.clone_from(&input);
                        self.mode = Mode::Filter { input, previous };
                    }
                    _ => return,
                }
                self.rebuild_tree();
            }
            Mode::Command { mut input } => match key.code {
                KeyCode::Esc => self.mode = Mode::Normal,
                KeyCode::Enter => {
                    self.mode = Mode::Normal;
                    self.run_command(&input, fx);
                }
                KeyCode::Backspace => {
                    if input.pop().is_none() {
                        self.mode = Mode::Normal;
                    } else {
                        self.mode = Mode::Command { input };
                    }
                }
                KeyCode::Char(c) if key.modifiers.contains(KeyModifiers::CONTROL) => {
                    match c {
                        'u' => input.clear(),
                        'w' => erase_word(&mut input),
                        _ => {}
                    }
                    self.mode = Mode::Command { input };
                }
                KeyCode::Char(c) => {
                    input.push(c);
                    self.mode = Mode::Command { input };
                }
                _ => {}
            },
            Mode::Help => {
                if matches!(
                    self.keymap.action(&key),
                    Some(UiAction::Back | UiAction::Help | UiAction::Quit)
                ) {
                    self.mode = Mode::Normal;
                }
            }
            Mode::LabMenu { selected } => self.lab_menu_key(key, selected, fx),
            Mode::Confirm {
                action,
                prompt,
                typed: Some(mut typed),
            } => match key.code {
                KeyCode::Enter => {
                    self.mode = Mode::Normal;
                    let expected = match &action {
                        Action::Rotate { object, .. } => object.as_str(),
                        _ => "",
                    };
                    if typed == expected {
                        self.start(action, fx);
                    } else {
                        self.say("cancelled: the name typed does not match", Level::Warn);
                    }
                }
                KeyCode::Esc => {
                    self.mode = Mode::Normal;
                    self.say("cancelled", Level::Info);
                }
                KeyCode::Backspace => {
                    typed.pop();
                    self.mode = Mode::Confirm {
                        action,
                        prompt,
                        typed: Some(typed),
                    };
                }
                KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                    typed.push(c);
                    self.mode = Mode::Confirm {
                        action,
                        prompt,
                        typed: Some(typed),
                    };
                }
                _ => {}
            },
            Mode::Confirm { action, .. } => {
                self.mode = Mode::Normal;
                if key.code == KeyCode::Char('y') {
                    self.start(action, fx);
                } else {
                    self.say("cancelled", Level::Info);
                }
            }
            Mode::Normal => {
                if let Some(a) = self.keymap.action(&key) {
                    self.perform(a, fx);
                }
            }
        }
    }

    fn lab_menu_key(&mut self, key: KeyEvent, selected: usize, fx: &mut Vec<Effect>) {
        let n = self.lab.as_ref().map_or(0, |l| l.faults.len());
        match self.keymap.action(&key) {
            Some(UiAction::Top) => self.mode = Mode::LabMenu { selected: 0 },
            Some(UiAction::Bottom) => {
                self.mode = Mode::LabMenu {
                    selected: n.saturating_sub(1),
                }
            }
            Some(UiAction::Expand) if self.read_only() => self.say(
                "lab: the break menu is view-only with --read-only",
                Level::Warn,
            ),
            Some(UiAction::Up) => {
                self.mode = Mode::LabMenu {
                    selected: selected.saturating_sub(1),
                }
            }
            Some(UiAction::Down) => {
                self.mode = Mode::LabMenu {
                    selected: (selected + 1).min(n.saturating_sub(1)),
                }
            }
            Some(UiAction::Expand) => {
                if let Some(f) = self
                    .lab
                    .as_ref()
                    .and_then(|l| l.faults.get(selected))
                    .cloned()
                {
                    let target = if f.active {
                        f.target.clone()
                    } else {
                        self.fault_target()
                    };
                    let verb = if f.active { "repair" } else { "break" };
                    let on = target
                        .as_ref()
                        .map(|t| format!(" on {t}"))
                        .unwrap_or_default();
                    self.say(format!("lab: {verb} {}{on}", f.id), Level::Info);
                    fx.push(Effect::Command(SourceCommand::Lab(LabControl::Fault {
                        id: f.id,
                        apply: !f.active,
                        target: target.filter(|_| !f.active),
                    })));
                }
            }
            Some(UiAction::Back | UiAction::LabMenu | UiAction::Quit) => self.mode = Mode::Normal,
            _ => {}
        }
    }

    /// The workload a break acts on: the selected row's, else the lab's default target.
    pub fn fault_target(&self) -> Option<crate::source::FaultTarget> {
        let selected = match self.tree.selected_row() {
            Row::Workload(n, w) => {
                let ns = &self.tree.namespaces[n];
                let wl = &ns.workloads[w];
                // The "bare pods" group has no kind: nothing to roll out or re-wire.
                (!wl.kind.is_empty()).then(|| {
                    let r = crate::chain::WorkloadRef {
                        kind: wl.kind.clone(),
                        name: wl.name.clone(),
                    };
                    (ns.name.clone(), r)
                })
            }
            _ => self
                .selected_chain()
                .and_then(|c| Some((c.namespace.clone(), c.workload.clone()?))),
        };
        match selected {
            Some((namespace, w)) => Some(crate::source::FaultTarget {
                kind: w.kind,
                namespace,
                name: w.name,
            }),
            None => self.lab.as_ref().and_then(|l| l.default_target.clone()),
        }
    }

    fn run_command(&mut self, input: &str, fx: &mut Vec<Effect>) {
        let mut words = input.split_whitespace();
        match (words.next(), words.next()) {
            (Some("q" | "quit" | "q!"), _) => fx.push(Effect::Quit),
            (Some("ns" | "namespace"), arg) => {
                self.filter.namespace = arg.filter(|a| *a != "all" && *a != "-").map(String::from);
                self.rebuild_tree();
                match &self.filter.namespace {
                    Some(ns) if self.tree.namespaces.is_empty() => {
                        self.say(format!("no chains in namespace {ns}"), Level::Warn)
                    }
                    Some(ns) => self.say(format!("namespace {ns}"), Level::Info),
                    None => self.say("all namespaces", Level::Info),
                }
            }
            (Some("theme"), Some(name)) => match self.config.themes.position(name) {
                Some(i) => self.set_theme(i),
                None => self.say(
                    format!(
                        "unknown theme {name} (available: {})",
                        self.config.themes.names().join(", ")
                    ),
                    Level::Error,
                ),
            },
            (Some("help"), _) => self.mode = Mode::Help,
            (Some("ctx" | "context"), arg) => match super::contexts::command(self.source.kind, arg)
            {
                Ok((effect, text, level)) => {
                    fx.push(effect);
                    self.say(text, level);
                }
                Err(why) => self.say(why, Level::Error),
            },
            (None, _) => {}
            (Some(other), _) => self.say(
                format!(
                    "unknown command :{other} (try :ns NAME, :ns, :theme NAME, :ctx [NAME], :q)"
                ),
                Level::Error,
            ),
        }
    }

    fn set_theme(&mut self, index: usize) {
        self.config.theme_index = index;
        self.theme = self.config.theme();
        self.say(format!("theme: {}", self.theme.name), Level::Info);
    }

    /// Carry out a key's action in normal mode.
    pub fn perform(&mut self, action: UiAction, fx: &mut Vec<Effect>) {
        if !self.enabled(action) {
            let why = if action.lab_only() {
                "only available on the lab".to_string()
            } else if action.reveals() && self.config.no_reveal {
                "disabled by --no-reveal".to_string()
            } else {
                "disabled by --read-only".to_string()
            };
            self.say(format!("{}: {why}", action.description()), Level::Warn);
            return;
        }
        if let Some(why) = self.denied(action) {
            let msg = format!("{}: not permitted: {why}", action.description());
            self.say(msg, Level::Warn);
            return;
        }
        let page = usize::from(self.areas().tree.height.saturating_sub(3)).max(1);
        match action {
            UiAction::Quit => fx.push(Effect::Quit),
            UiAction::Up => self.move_by(-1),
            UiAction::Down => self.move_by(1),
            UiAction::PageUp => self.move_by(-(page as isize)),
            UiAction::PageDown => self.move_by(page as isize),
            UiAction::Top => self.move_to(0),
            UiAction::Bottom => self.move_to(usize::MAX),
            UiAction::Expand => match self.focus {
                Pane::Tree => {
                    let row = self.tree.selected_row();
                    if !self.tree.set_open(row, Some(true), &self.chains)
                        && matches!(row, Row::Chain(..) | Row::Object { .. })
                    {
                        self.focus = Pane::Detail;
                    }
                    self.selection_changed();
                }
                Pane::Strip => self.focus = Pane::Detail,
                _ => {}
            },
            UiAction::Collapse => match self.focus {
                Pane::Tree => {
                    let row = self.tree.selected_row();
                    if !self.tree.set_open(row, Some(false), &self.chains)
                        && let Some(p) = self.tree.parent_index()
                    {
                        self.tree.select(p, &self.chains);
                    }
                    self.selection_changed();
                }
                Pane::Detail | Pane::Events | Pane::Strip => self.focus = Pane::Tree,
            },
            UiAction::NextPane => self.focus = self.focus.step(true),
            UiAction::PrevPane => self.focus = self.focus.step(false),
            UiAction::LinkLeft => self.step_link(-1),
            UiAction::LinkRight => self.step_link(1),
            UiAction::Filter => {
                self.mode = Mode::Filter {
                    input: self.filter.text.clone(),
                    previous: self.filter.text.clone(),
                }
            }
            UiAction::Command => {
                self.mode = Mode::Command {
                    input: String::new(),
                }
            }
            UiAction::Back => {
                if self.focus != Pane::Tree {
                    self.focus = Pane::Tree;
                } else if self.filter.is_active() {
                    self.filter = Filter::default();
                    self.rebuild_tree();
                    self.say("filter cleared", Level::Info);
                } else if self.verified.is_some() {
                    self.verified = None;
                } else if self.timeline.is_some() {
                    self.timeline = None;
                    self.watch = None;
                } else {
                    self.message = None;
                }
            }
            UiAction::Help => self.mode = Mode::Help,
            UiAction::CopyFix => match self.fix_command() {
                Some(fix) => {
                    self.say(format!("copied: {fix}"), Level::Info);
                    fx.push(Effect::Copy(fix));
                }
                None => self.say("nothing to copy: no fix for this link", Level::Warn),
            },
            UiAction::FullText => {
                self.full_text = !self.full_text;
                let what = if self.full_text {
                    "full event text"
                } else {
                    "decisive line of each event"
                };
                self.say(what, Level::Info);
            }
            UiAction::CycleTheme => {
                let n = self.config.themes.themes.len().max(1);
                self.set_theme((self.config.theme_index + 1) % n);
            }
            UiAction::Refresh => {
                // Permissions may have changed too (a new role binding): ask again.
                self.permissions.clear();
                fx.push(Effect::Command(SourceCommand::Refresh));
                self.say("refresh requested", Level::Info);
            }
            UiAction::LabMenu => {
                if self.lab.as_ref().is_some_and(|l| !l.faults.is_empty()) {
                    // Always from the top: a remembered position applied the wrong fault.
                    self.mode = Mode::LabMenu { selected: 0 };
                } else {
                    self.say("the lab lists no faults", Level::Warn);
                }
            }
            UiAction::LabPause => {
                let paused = self.lab.as_ref().is_some_and(|l| l.paused);
                let c = if paused {
                    LabControl::Resume
                } else {
                    LabControl::Pause
                };
                fx.push(Effect::Command(SourceCommand::Lab(c)));
            }
            UiAction::LabFaster => fx.push(Effect::Command(SourceCommand::Lab(
                LabControl::ScaleSpeed(2.0),
            ))),
            UiAction::LabSlower => fx.push(Effect::Command(SourceCommand::Lab(
                LabControl::ScaleSpeed(0.5),
            ))),
            UiAction::LabAdvance => fx.push(Effect::Command(SourceCommand::Lab(
                LabControl::Advance(Duration::from_secs(60)),
            ))),
            UiAction::LessonNext => self.next_lesson_step(fx),
            UiAction::Restart => self.offer_restart(),
            UiAction::Rotate => self.offer_rotate(false),
            UiAction::RotateMarker => {
                if self.restore_applies() {
                    self.offer_restore()
                } else {
                    self.offer_rotate(true)
                }
            }
            UiAction::Verify => self.offer_verify(fx),
            UiAction::Reveal => self.offer_reveal(fx),
        }
    }

    fn move_by(&mut self, delta: isize) {
        match self.focus {
            Pane::Tree => {
                let i = self.tree.selected as isize + delta;
                self.move_to(i.max(0) as usize);
            }
            Pane::Strip => self.step_link(delta.signum()),
            Pane::Detail => {
                self.detail_scroll = (self.detail_scroll as isize + delta).clamp(0, 10_000) as u16
            }
            Pane::Events => {
                self.events_scroll = (self.events_scroll as isize + delta).clamp(0, 10_000) as u16
            }
        }
    }

    fn move_to(&mut self, index: usize) {
        match self.focus {
            Pane::Tree | Pane::Strip => {
                self.tree.select(index, &self.chains);
                self.selection_changed();
            }
            Pane::Detail => self.detail_scroll = if index == 0 { 0 } else { 10_000 },
            Pane::Events => self.events_scroll = if index == 0 { 0 } else { 10_000 },
        }
    }

    fn step_link(&mut self, delta: isize) {
        let i = (self.link.index() as isize + delta).clamp(0, 8) as usize;
        self.link = LinkKind::ALL[i];
        self.detail_scroll = 0;
    }

    /// The fix of the selected link's first cause, else of the chain's root cause (a link
    /// that is only blocked by an earlier one copies that one's fix).
    pub fn fix_command(&self) -> Option<String> {
        let chain = self.selected_chain()?;
        let link = chain.link(self.link);
        link.findings
            .iter()
            .filter(|f| f.follows.is_none())
            .chain(chain.root_cause())
            .map(|f| f.fix.trim())
            .find(|f| !f.is_empty())
            .map(String::from)
    }

    fn offer_restart(&mut self) {
        let Some((namespace, pod)) = self.selected_pod() else {
            self.say("restart: select a pod first", Level::Warn);
            return;
        };
        let owner = self.selected_chain().and_then(|c| c.workload.clone());
        let prompt = match owner {
            Some(w) => format!(
                "Restart pod {namespace}/{pod}: rollout restart of {}/{} (sets kubectl.kubernetes.io/restartedAt). y to confirm",
                w.kind, w.name
            ),
            None => format!(
                "Restart bare pod {namespace}/{pod}: DELETE it — nothing recreates a bare pod. y to confirm"
            ),
        };
        self.mode = Mode::Confirm {
            action: Action::Restart { namespace, pod },
            prompt,
            typed: None,
        };
    }

    /// `r` (re-stamp) and `M` (marker value): on an object row, or on a pod/SPC whose
    /// SecretProviderClass mounts exactly one secret.
    fn offer_rotate(&mut self, marker: bool) {
        let Some((chain, object)) = self.rotation_target() else {
            return;
        };
        let Some(c) = self.chains.get(chain) else {
            return;
        };
        let Some(o) = c.objects.get(object) else {
            return;
        };
        let Some(vault) = c.vault.clone() else {
            self.say(
                "rotate: the SecretProviderClass names no vault",
                Level::Warn,
            );
            return;
        };
        let backs_certificate = self
            .snapshot
            .as_deref()
            .and_then(|s| crate::action::timeline::vault_object(s, &vault, &o.name))
            .is_some_and(|v| v.backs_certificate);
        if let Some(why) = crate::action::keyvault::refusal(
            ObjectType::parse(&o.object_type),
            o.pinned_version.as_deref(),
            backs_certificate,
            self.read_only(),
        ) {
            self.say(format!("rotate {}: refused: {why}", o.name), Level::Warn);
            return;
        }
        let (prompt, typed) = if marker {
            (
                format!(
                    "Write a MARKER value as a new version of secret {} in vault {vault}. Every consumer will read the marker instead of the real value until the old value is written again: {restore} again on this object writes it back (offered when the timeline ends). Type the object name and press enter to confirm:",
                    o.name,
                    restore = self.keymap.hint(UiAction::RotateMarker),
                ),
                Some(String::new()),
            )
        } else {
            (
                format!(
                    "Write a new version of secret {} in vault {vault} (same value, re-stamped). y to confirm",
                    o.name
                ),
                None,
            )
        };
        self.mode = Mode::Confirm {
            action: Action::Rotate {
                vault,
                object: o.name.clone(),
                marker,
            },
            prompt,
            typed,
        };
    }

    /// The (chain, object) a rotation applies to, or says on the status line why there is none.
    fn rotation_target(&mut self) -> Option<(usize, usize)> {
        match self.rotation_pick() {
            Ok(target) => Some(target),
            Err(why) => {
                self.say(format!("rotate: {why}"), Level::Warn);
                None
            }
        }
    }

    /// The (chain, object) a rotation applies to: the selected object row, or the only secret
    /// object of the selected pod's or SPC's SecretProviderClass.
    fn rotation_pick(&self) -> Result<(usize, usize), &'static str> {
        let row = self.tree.selected_row();
        if let Row::Object { chain, object } = row {
            return Ok((chain, object));
        }
        let i = self
            .tree
            .row_chain(row)
            .ok_or("select a pod or one of its Key Vault objects")?;
        let c = self
            .chains
            .get(i)
            .ok_or("select a pod or one of its Key Vault objects")?;
        let secrets: Vec<usize> = (c.objects.iter().enumerate())
            .filter(|(_, o)| o.object_type == "secret")
            .map(|(n, _)| n)
            .collect();
        match secrets.as_slice() {
            [only] => Ok((i, *only)),
            [] => Err("its SecretProviderClass mounts no secret object"),
            _ => Err("several objects: open the SPC (l) and select one"),
        }
    }

    /// After a marker rotation, `M` on the same object (or on nothing rotatable) undoes it.
    fn restore_applies(&self) -> bool {
        let Some(Action::Restore { vault, object, .. }) = &self.restore else {
            return false;
        };
        let Ok((chain, o)) = self.rotation_pick() else {
            return true;
        };
        self.chains.get(chain).is_some_and(|c| {
            c.vault.as_deref() == Some(vault.as_str())
                && c.objects.get(o).is_some_and(|x| x.name == *object)
        })
    }

    /// `M` again: write the value a marker rotation replaced, after `y`.
    fn offer_restore(&mut self) {
        let Some(action) = self.restore.clone() else {
            return;
        };
        let Action::Restore {
            vault,
            object,
            version,
        } = &action
        else {
            return;
        };
        let prompt = format!(
            "Write the value of version {version} of secret {object} in vault {vault} again, as a new version (undoes the marker). y to confirm"
        );
        self.mode = Mode::Confirm {
            action,
            prompt,
            typed: None,
        };
    }

    /// Runs a confirmed action and starts watching it propagate.
    fn start(&mut self, action: Action, fx: &mut Vec<Effect>) {
        self.say(format!("{}: started", action_title(&action)), Level::Info);
        self.pending_watch = self.watch_for(&action);
        self.pending_restore = match (&action, &self.pending_watch) {
            (
                Action::Rotate {
                    vault,
                    object,
                    marker: true,
                },
                Some(Watch::Rotation(w)),
            ) => w.old_version().map(|v| Action::Restore {
                vault: vault.clone(),
                object: object.clone(),
                version: v.to_string(),
            }),
            _ => None,
        };
        if matches!(action, Action::Restore { .. }) {
            self.restore = None;
        }
        fx.push(Effect::Act(action));
    }

    fn offer_verify(&mut self, fx: &mut Vec<Effect>) {
        let Some((namespace, pod)) = self.selected_pod() else {
            self.say("verify: select a pod first", Level::Warn);
            return;
        };
        let container = self
            .snapshot
            .as_deref()
            .and_then(|s| s.pod(&namespace, &pod))
            .and_then(|p| p.containers.iter().find(|c| !c.init))
            .map(|c| c.name.clone());
        match container {
            Some(container) => {
                let title = format!("verify {namespace}/{pod} [{container}]");
                self.say(format!("{title}: started"), Level::Info);
                self.verifying = Some(title);
                fx.push(Effect::Act(Action::Verify {
                    namespace,
                    pod,
                    container,
                }));
            }
            None => self.say("verify: the pod has no observed container", Level::Warn),
        }
    }

    // ------------------------------------------------------------------ mouse

    fn on_mouse(&mut self, m: MouseEvent) -> bool {
        if self.mode != Mode::Normal {
            return false;
        }
        let a = self.areas();
        let pos = Position::new(m.column, m.row);
        let pane = if a.tree.contains(pos) {
            Pane::Tree
        } else if a.strip.contains(pos) {
            Pane::Strip
        } else if a.detail.contains(pos) {
            Pane::Detail
        } else if a.events.contains(pos) {
            Pane::Events
        } else {
            return false;
        };
        match m.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                self.focus = pane;
                match pane {
                    Pane::Tree => {
                        let inner_y = a.tree.y + 1;
                        if m.row >= inner_y {
                            let i = self.tree.offset + usize::from(m.row - inner_y);
                            if i < self.tree.rows.len() {
                                if i == self.tree.selected {
                                    let row = self.tree.selected_row();
                                    self.tree.set_open(row, None, &self.chains);
                                } else {
                                    self.tree.select(i, &self.chains);
                                }
                                self.selection_changed();
                            }
                        }
                    }
                    Pane::Strip => {
                        let w = (a.strip.width / 9).max(1);
                        let i = usize::from((m.column - a.strip.x) / w).min(8);
                        self.link = LinkKind::ALL[i];
                        self.detail_scroll = 0;
                    }
                    _ => {}
                }
                true
            }
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                let d = if m.kind == MouseEventKind::ScrollDown {
                    1
                } else {
                    -1
                };
                let saved = self.focus;
                self.focus = pane;
                self.move_by(if pane == Pane::Tree { d } else { 3 * d });
                self.focus = saved;
                true
            }
            _ => false,
        }
    }
}

impl App {
    /// `v`: ask for the selected secret object's value; `v` again on the same object unmasks
    /// it for [`UNMASK_FOR`].
    fn offer_reveal(&mut self, fx: &mut Vec<Effect>) {
        let target = self.selected_reveal_target();
        let Some(target) = target else {
            self.say(
                "reveal: select a Key Vault secret object (open the pod's SPC)",
                Level::Warn,
            );
            return;
        };
        if let Some(r) = &mut self.revealed
            && r.target == target
        {
            r.unmasked_until = Some(self.now + UNMASK_FOR);
            let label = r.label.clone();
            self.say(
                format!("{label}: unmasked for {}s", UNMASK_FOR.as_secs()),
                Level::Warn,
            );
            return;
        }
        self.revealed = None;
        self.say(
            format!("{}: asking the source…", reveal_label(&target)),
            Level::Info,
        );
        fx.push(Effect::Reveal(target));
    }

    /// The Key Vault secret of the selected object row, if it is one.
    fn selected_reveal_target(&self) -> Option<RevealTarget> {
        let Row::Object { chain, object } = self.tree.selected_row() else {
            return None;
        };
        let c = self.chains.get(chain)?;
        let o = c.objects.get(object)?;
        if o.object_type != "secret" {
            return None;
        }
        Some(RevealTarget::VaultSecret {
            vault: c.vault.clone()?,
            object: o.name.clone(),
        })
    }

    /// The watch that follows `action` from the current snapshot, if it has one.
    fn watch_for(&self, action: &Action) -> Option<Watch> {
        let s = self.snapshot.as_deref()?;
        let now = self.source_clock().unwrap_or(s.source.observed_at);
        match action {
            Action::Rotate {
                vault,
                object,
                marker,
            } => {
                let w = RotationWatch::new(s, vault, object)
                    .starting_at(now)
                    .same_value(!marker);
                let w = match (marker, w.old_version().map(str::to_string)) {
                    (true, Some(old)) => w.follow_up(format!(
                        "{} restores the value of version {} (before the marker) as a new version",
                        self.keymap.hint(UiAction::RotateMarker),
                        &old[..old.len().min(8)]
                    )),
                    _ => w,
                };
                Some(Watch::Rotation(w))
            }
            Action::Restore { vault, object, .. } => Some(Watch::Rotation(
                RotationWatch::new(s, vault, object)
                    .starting_at(now)
                    .same_value(false),
            )),
            Action::Restart { namespace, pod } => {
                let owner = s
                    .pod(namespace, pod)
                    .and_then(|p| RestartPlan::for_pod(s, p).replacing_owner());
                let w = RestartWatch::new(s, namespace, pod, owner).starting_at(now);
                Some(Watch::Restart(w))
            }
            Action::Verify { .. } => None,
        }
    }

    /// The source's clock now: the lab's, run on from its last status at its speed; else
    /// the last snapshot's time plus its age.
    pub fn source_clock(&self) -> Option<jiff::Timestamp> {
        let run_on = |at: jiff::Timestamp, since: Instant, speed: f64| {
            let d = self.now.saturating_duration_since(since).mul_f64(speed);
            jiff::SignedDuration::try_from(d)
                .ok()
                .and_then(|d| at.checked_add(d).ok())
                .unwrap_or(at)
        };
        match (&self.lab, self.lab_received) {
            (Some(l), Some(at)) if !l.paused => Some(run_on(l.time, at, l.speed)),
            (Some(l), _) => Some(l.time),
            _ => {
                let s = self.snapshot.as_deref()?;
                Some(run_on(s.source.observed_at, self.received_at?, 1.0))
            }
        }
    }

    /// Feed the source's clock to the running watch: a quiet source still ends it.
    fn tick_watch(&mut self) {
        let Some(now) = self.source_clock() else {
            return;
        };
        if let Some(w) = &mut self.watch {
            let before = w.timeline();
            w.tick(now);
            let after = w.timeline();
            if after != before {
                self.timeline = Some(after);
                self.dirty = true;
            }
        }
    }
}

fn reveal_label(t: &RevealTarget) -> String {
    match t {
        RevealTarget::VaultSecret { vault, object } => format!("{vault}/{object}"),
        RevealTarget::SecretKey {
            namespace,
            secret,
            key,
        } => format!("{namespace}/{secret}[{key}]"),
    }
}

fn action_title(a: &Action) -> String {
    match a {
        Action::Rotate { vault, object, .. } => format!("rotate {vault}/{object}"),
        Action::Restore { vault, object, .. } => format!("restore {vault}/{object}"),
        Action::Restart { namespace, pod } => format!("restart {namespace}/{pod}"),
        Action::Verify { namespace, pod, .. } => format!("verify {namespace}/{pod}"),
    }
}

/// ctrl-w in a text input: drop the last word and the spaces before it.
fn erase_word(input: &mut String) {
    let kept = input.trim_end().len();
    input.truncate(kept);
    let start = input.rfind(' ').map_or(0, |i| i + 1);
    input.truncate(start);
}
