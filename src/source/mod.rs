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
    /// The source cannot reach what it reads (an API server refusing connections) and has no
    /// data from it; it tries again after `retry_in`, or at once on [`SourceCommand::Refresh`].
    Unreachable {
        why: String,
        retry_in: Duration,
        /// Failed attempts so far (1 after the first).
        attempt: u32,
    },
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
    /// `:ctx`: list the kubeconfig's contexts (`None`, answered as a status line) or switch to
    /// one. Only a live source started from a kubeconfig switches
    /// ([`live::switch`](crate::source::live::switch)); others say they have none.
    Context(Option<String>),
}

/// Sends a command that carries its own reply channel (`Act`, `Permission`, `Reveal`).
/// `None` when the source has stopped.
pub fn request<T>(
    commands: &mpsc::UnboundedSender<SourceCommand>,
    command: impl FnOnce(oneshot::Sender<T>) -> SourceCommand,
) -> Option<Reply<T>> {
    let (reply, answer) = oneshot::channel();
    commands.send(command(reply)).ok()?;
    Some(Reply(answer))
}

/// The answer to a [`request`], still to come.
#[must_use = "a reply does nothing unless awaited"]
pub struct Reply<T>(oneshot::Receiver<T>);

/// Why a [`Reply`] brought no answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unanswered {
    /// The source dropped the reply channel: it does not handle this command.
    Refused,
    /// Nothing came within the time allowed.
    Late,
}

impl<T> Reply<T> {
    pub async fn within(self, limit: Duration) -> Result<T, Unanswered> {
        match tokio::time::timeout(limit, self.0).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(_)) => Err(Unanswered::Refused),
            Err(_) => Err(Unanswered::Late),
        }
    }
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
    /// Break (`apply: true`) or repair a link with a named fault; a break acts on `target`'s
    /// chain (the workload the trainer selected), else on the lab's default target. A repair
    /// undoes the fault wherever it was applied; its `target` (the workload the fault broke)
    /// is for the audit record.
    Fault {
        id: String,
        apply: bool,
        target: Option<FaultTarget>,
    },
}

/// The workload whose chain a lab fault breaks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultTarget {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl std::fmt::Display for FaultTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
    }
}

/// The lab's clock and fault catalogue, for the status bar and the break/repair menu.
#[derive(Clone, Debug, PartialEq)]
pub struct LabStatus {
    pub time: Timestamp,
    /// Lab seconds per real second.
    pub speed: f64,
    pub paused: bool,
    pub faults: Vec<FaultInfo>,
    /// What a break acts on when no workload is selected.
    pub default_target: Option<FaultTarget>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultInfo {
    pub id: String,
    pub title: String,
    /// The link the fault breaks.
    pub link: crate::chain::LinkKind,
    pub active: bool,
    /// The workload an applied fault broke (by the trainer, a lesson or the timeline).
    pub target: Option<FaultTarget>,
    /// What else an applied fault reaches, when the piece it changed serves more than its
    /// target (`the CSI driver: every chain in the cluster`): the menu says so rather than
    /// "on Deployment shop/checkout" alone.
    pub reach: Option<String>,
}

/// A producer of snapshots.
pub trait Source: Send + 'static {
    fn info(&self) -> SourceInfo;

    /// Why nothing can be re-read or acted on (`frozen snapshot FILE`), for a source that
    /// only replays what was recorded: the UI refuses those keys at once with it.
    fn frozen(&self) -> Option<String> {
        None
    }

    /// Runs the source: sends events until `commands` is closed (the UI quit), then returns.
    fn run(
        self: Box<Self>,
        events: mpsc::UnboundedSender<SourceEvent>,
        commands: mpsc::UnboundedReceiver<SourceCommand>,
    ) -> BoxFuture<'static, ()>;
}

pub mod args;
pub mod audited;
pub mod azure;
pub mod connecting;
pub mod frozen;
pub mod lab;
pub mod live;
pub mod manifest_scan;
pub mod manifests;

#[cfg(test)]
mod tests {
    use super::*;

    fn permission() -> impl FnOnce(oneshot::Sender<Result<(), String>>) -> SourceCommand {
        |reply| SourceCommand::Permission {
            question: PermissionQuestion::Act(Action::Restart {
                namespace: "shop".into(),
                pod: "web-0".into(),
            }),
            reply,
        }
    }

    #[tokio::test]
    async fn a_request_brings_the_answer_or_says_why_not() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let answered = request(&tx, permission()).expect("source running");
        let Some(SourceCommand::Permission { reply, .. }) = rx.recv().await else {
            panic!("the command reaches the source");
        };
        reply.send(Err("no".into())).unwrap();
        let limit = Duration::from_secs(5);
        assert_eq!(answered.within(limit).await, Ok(Err("no".into())));

        let refused = request(&tx, permission()).expect("source running");
        drop(rx.recv().await);
        assert_eq!(refused.within(limit).await, Err(Unanswered::Refused));

        let late = request(&tx, permission()).expect("source running");
        let _kept = rx.recv().await;
        let waited = late.within(Duration::from_millis(20)).await;
        assert_eq!(waited, Err(Unanswered::Late));

        drop(rx);
        assert!(
            request(&tx, permission()).is_none(),
            "the source has stopped"
        );
    }
}
