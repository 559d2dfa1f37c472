//! Sources of observations. Each produces [`Snapshot`]s through one trait, so diagnosis and the
//! UI never know whether they look at a live cluster, the lab or manifests on disk.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use jiff::Timestamp;
use tokio::sync::{mpsc, oneshot};

use crate::action::reveal::{RevealTarget, Revealed};
use crate::action::{Action, ActionOutcome};
use crate::snapshot::{Snapshot, SourceInfo};

/// What a running source tells the UI.
#[derive(Debug)]
pub enum SourceEvent {
    /// Loading progress before (and between) complete snapshots.
    Progress(Progress),
    /// A complete, consistent view.
    Snapshot(Arc<Snapshot>),
    /// A transient condition worth showing ("watch pods: reconnecting").
    Status(String),
    /// The lab's clock and fault catalogue changed.
    Lab(LabStatus),
    /// A fatal error: the source stopped.
    Failed(String),
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// What is loading, e.g. "pods", "Key Vault objects".
    pub stage: String,
    pub done: usize,
    pub total: Option<usize>,
}

/// What the UI asks a source to do.
#[derive(Debug)]
pub enum SourceCommand {
    /// Re-read everything now.
    Refresh,
    /// Lab only: clock and fault controls.
    Lab(LabControl),
    /// A confirmed user action; the outcome comes back on `reply`.
    Act {
        action: Action,
        reply: oneshot::Sender<ActionOutcome>,
    },
    /// May the user do what `question` asks at all? Asked ahead of time, so keys for actions
    /// the user lacks permission for are shown disabled with the reason. Sources without
    /// access control (the lab) say yes; the carrying out still checks again.
    Permission {
        question: PermissionQuestion,
        reply: oneshot::Sender<Result<(), String>>,
    },
    /// The user explicitly asked to see a value (never sent in `--no-reveal`/`--read-only`).
    Reveal {
        target: RevealTarget,
        reply: oneshot::Sender<Result<Revealed, String>>,
    },
}

/// What a permission question is about: an action, or a reveal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PermissionQuestion {
    Act(Action),
    Reveal(RevealTarget),
}

impl From<Action> for PermissionQuestion {
    fn from(a: Action) -> Self {
        PermissionQuestion::Act(a)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum LabControl {
    Pause,
    Resume,
    /// Multiply the clock speed (e.g. 2.0 faster, 0.5 slower).
    ScaleSpeed(f64),
    /// Jump the clock forward.
    Advance(Duration),
    /// Break (`apply: true`) or repair a link with a named fault.
    Fault {
        id: String,
        apply: bool,
    },
}

/// The lab's clock and fault catalogue, for the status bar and the break/repair menu.
#[derive(Clone, Debug, PartialEq)]
pub struct LabStatus {
    pub time: Timestamp,
    /// Lab seconds per real second.
    pub speed: f64,
    pub paused: bool,
    pub faults: Vec<FaultInfo>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultInfo {
    pub id: String,
    pub title: String,
    /// The link the fault breaks.
    pub link: crate::chain::LinkKind,
    pub active: bool,
}

/// A producer of snapshots.
pub trait Source: Send + 'static {
    fn info(&self) -> SourceInfo;

    /// Runs the source: sends events until `commands` is closed (the UI quit), then returns.
    fn run(
        self: Box<Self>,
        events: mpsc::UnboundedSender<SourceEvent>,
        commands: mpsc::UnboundedReceiver<SourceCommand>,
    ) -> BoxFuture<'static, ()>;
}

pub mod audited;
pub mod azure;
pub mod lab;
pub mod live;
pub mod manifests;
