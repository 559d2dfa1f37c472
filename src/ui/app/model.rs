//! What flows into the app and out of it ([`AppEvent`], [`Effect`]) and the small state types
//! it holds: panes, modes, permissions, a running propagation watch.

use std::sync::Arc;
use std::time::Instant;

use crossterm::event::{KeyEvent, MouseEvent};

use crate::action::reveal::{RevealTarget, Revealed};
use crate::action::timeline::{RestartWatch, RotationWatch, Timeline};
use crate::action::{Action, ActionOutcome};
use crate::chain::{Chain, SpcVerdict};
use crate::snapshot::Snapshot;
use crate::source::{PermissionQuestion, SourceCommand, SourceEvent};

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
        /// Shared with the diagnoser, which keeps the chains that did not change.
        chains: Vec<Arc<Chain>>,
        /// The SecretProviderClasses no chain mounts, checked where the chains were made
        /// ([`crate::chain::unmounted_spcs`]), never on the UI task.
        spcs: Vec<SpcVerdict>,
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
    /// Hand the terminal back and stop, as ctrl-z stops a program in a shell (job control);
    /// `fg` resumes it and the screen is drawn again.
    Suspend,
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
    pub chains: Vec<Arc<Chain>>,
    pub snapshot: Option<Arc<Snapshot>>,
}

/// A value the user asked to see: drawn masked, unmasked on a second request for
/// [`UNMASK_FOR`](crate::action::reveal::UNMASK_FOR), dropped (and zeroed) when that expires or the selection moves.
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
    /// The lesson's pane (`demo --lesson`), in the cycle only while it is shown: a step
    /// taller than the pane scrolls when it has the focus.
    Lesson,
}

impl Pane {
    const ORDER: [Pane; 5] = [
        Pane::Tree,
        Pane::Strip,
        Pane::Detail,
        Pane::Events,
        Pane::Lesson,
    ];
    /// The next pane (`tab`) or the previous (`shift-tab`), the lesson's only with `lesson`.
    pub(super) fn step(self, forward: bool, lesson: bool) -> Pane {
        let n = Pane::ORDER.len() - usize::from(!lesson);
        let i = Pane::ORDER.iter().position(|p| *p == self).unwrap_or(0) % n;
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
        /// Rows of the prompt scrolled past, when it is taller than the screen.
        scroll: u16,
    },
}

/// The source cannot reach its cluster and has no data from it; it tries again at
/// `retry_at` (or at once on a refresh).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unreachable {
    pub why: String,
    pub retry_at: Instant,
    /// Failed attempts so far.
    pub attempt: u32,
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
    /// A new snapshot and its diagnosis, which names a failing mount's cause as the tree does.
    pub(super) fn observe(&mut self, s: &Snapshot, chains: &[std::sync::Arc<crate::chain::Chain>]) {
        match self {
            Watch::Rotation(w) => w.observe_diagnosed(s, chains),
            Watch::Restart(w) => w.observe_diagnosed(s, chains),
        }
    }
    pub(super) fn tick(&mut self, now: jiff::Timestamp) {
        match self {
            Watch::Rotation(w) => w.tick(now),
            Watch::Restart(w) => w.tick(now),
        }
    }
    pub(super) fn timeline(&self) -> Timeline {
        match self {
            Watch::Rotation(w) => w.timeline(),
            Watch::Restart(w) => w.timeline(),
        }
    }
}

/// How a reveal target is named on screen (`vault/object`, `namespace/secret[key]`).
pub(super) fn reveal_label(t: &RevealTarget) -> String {
    match t {
        RevealTarget::VaultSecret {
            vault,
            object,
            version: None,
        } => format!("{vault}/{object}"),
        RevealTarget::VaultSecret {
            vault,
            object,
            version: Some(v),
        } => format!("{vault}/{object} (pinned version {})", &v[..v.len().min(8)]),
        RevealTarget::SecretKey {
            namespace,
            secret,
            key,
        } => format!("{namespace}/{secret}[{key}]"),
    }
}
