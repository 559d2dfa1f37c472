//! The one place actions are written to the audit log, whatever the source.
//!
//! [`Audited`] wraps a source: it passes every command through, and for a confirmed write it
//! waits for the inner source's outcome, appends the record, then answers the UI. Sources
//! carry out actions; they never audit, so the lab and a live cluster cannot drift apart.

use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use tokio::sync::{mpsc, oneshot};

use super::{LabControl, Source, SourceCommand, SourceEvent};
use crate::action::audit::AuditLog;
use crate::action::{Action, ActionOutcome};
use crate::snapshot::SourceInfo;

pub struct Audited {
    inner: Box<dyn Source>,
    /// `None`: no data directory; actions still run and say that nothing was recorded.
    log: Option<AuditLog>,
}

impl Audited {
    /// Records to `path`, or to [`AuditLog::default_path`].
    pub fn new(inner: Box<dyn Source>, path: Option<std::path::PathBuf>) -> Self {
        let label = inner.info().label;
        let log = path
            .or_else(AuditLog::default_path)
            .map(|p| AuditLog::new(p, &label));
        Audited { inner, log }
    }
}

/// Appends the record of a write; a record that cannot be written is said in the outcome.
fn record(log: Option<&AuditLog>, action: &Action, mut outcome: ActionOutcome) -> ActionOutcome {
    let (kind, target) = action.describe();
    tracing::info!(action = kind, %target, ok = outcome.ok, "{}", outcome.message);
    if !action.writes() {
        return outcome;
    }
    match log {
        Some(log) => {
            if let Err(e) = log.record(action, &outcome) {
                outcome.message = format!(
                    "{} (not recorded in the audit log {}: {e})",
                    outcome.message,
                    log.path().display()
                );
            }
        }
        None => outcome.message = format!("{} (no audit log: no data directory)", outcome.message),
    }
    outcome
}

/// A lab fault changes what the trainees see: it is recorded like an action, when asked for
/// (the lab says on the status line whether it applied).
fn record_fault(log: Option<&AuditLog>, control: &LabControl) {
    let LabControl::Fault { id, apply, target } = control else {
        return;
    };
    let kind = if *apply { "lab-break" } else { "lab-repair" };
    let target = match target {
        Some(t) => format!("fault {id} on {t}"),
        None => format!("fault {id}"),
    };
    tracing::info!(action = kind, %target, "lab fault requested");
    if let Some(log) = log
        && let Err(e) = log.record_entry(kind, target, "requested", "")
    {
        tracing::warn!("audit log {}: {e}", log.path().display());
    }
}

type Answer = (
    Action,
    oneshot::Sender<ActionOutcome>,
    Result<ActionOutcome, oneshot::error::RecvError>,
);

impl Source for Audited {
    fn info(&self) -> SourceInfo {
        self.inner.info()
    }

    fn frozen(&self) -> Option<String> {
        self.inner.frozen()
    }

    fn run(
        self: Box<Self>,
        events: mpsc::UnboundedSender<SourceEvent>,
        mut commands: mpsc::UnboundedReceiver<SourceCommand>,
    ) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            let Audited { inner, log } = *self;
            let (to_inner, inner_commands) = mpsc::unbounded_channel();
            // `None` once the UI has quit: dropping the sender tells the inner source to stop.
            let mut to_inner = Some(to_inner);
            let mut running = inner.run(events, inner_commands);
            let mut waiting: FuturesUnordered<BoxFuture<'static, Answer>> = FuturesUnordered::new();
            loop {
                tokio::select! {
                    _ = &mut running => {
                        // The inner source has stopped, so every pending answer is settled
                        // now; an action it never answered may still have been carried out.
                        while let Some((action, reply, answer)) = waiting.next().await {
                            let outcome = answer.unwrap_or_else(|_| ActionOutcome {
                                ok: false,
                                message: "kvchain stopped before the source answered; the action may have been carried out".into(), audit: None
                            });
                            let _ = reply.send(record(log.as_ref(), &action, outcome));
                        }
                        return;
                    }
                    command = commands.recv(), if to_inner.is_some() => {
                        let Some(tx) = &to_inner else { continue };
                        let forwarded = match command {
                            None => {
                                to_inner = None;
                                continue;
                            }
                            Some(SourceCommand::Lab(c @ LabControl::Fault { .. })) => {
                                record_fault(log.as_ref(), &c);
                                SourceCommand::Lab(c)
                            }
                            Some(SourceCommand::Act { action, reply }) => {
                                let (inner_reply, answer) = oneshot::channel();
                                let act = action.clone();
                                waiting.push(Box::pin(async move { (act, reply, answer.await) }));
                                SourceCommand::Act { action, reply: inner_reply }
                            }
                            Some(other) => other,
                        };
                        if tx.send(forwarded).is_err() {
                            return;
                        }
                    }
                    Some((action, reply, answer)) = waiting.next() => {
                        let outcome = answer.unwrap_or_else(|_| ActionOutcome {
                            ok: false,
                            message: "the source dropped the action without an answer".into(), audit: None
                        });
                        let _ = reply.send(record(log.as_ref(), &action, outcome));
                    }
                }
            }
        })
    }
}
