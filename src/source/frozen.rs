//! A snapshot read from a file (`demo --snapshot`): shown as it was recorded, never refreshed.
//! Actions, reveals and lab controls are refused with the reason, so the UI greys them.

use std::sync::Arc;

use futures::future::BoxFuture;
use tokio::sync::mpsc;

use super::{Source, SourceCommand, SourceEvent};
use crate::action::ActionOutcome;
use crate::snapshot::{Snapshot, SourceInfo};

pub struct FrozenSource {
    snapshot: Arc<Snapshot>,
    /// `frozen snapshot FILE`.
    what: String,
    reason: String,
}

impl FrozenSource {
    pub fn new(snapshot: Snapshot, file: &str) -> Self {
        let what = format!("frozen snapshot {file}");
        FrozenSource {
            reason: format!("{what}: nothing to act on, actions are disabled"),
            what,
            snapshot: Arc::new(snapshot),
        }
    }
}

impl Source for FrozenSource {
    fn frozen(&self) -> Option<String> {
        Some(self.what.clone())
    }

    fn info(&self) -> SourceInfo {
        let mut info = self.snapshot.source.clone();
        info.label = format!("{} (frozen snapshot)", info.label);
        info
    }

    fn run(
        self: Box<Self>,
        events: mpsc::UnboundedSender<SourceEvent>,
        mut commands: mpsc::UnboundedReceiver<SourceCommand>,
    ) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            if events
                .send(SourceEvent::Snapshot(Arc::clone(&self.snapshot)))
                .is_err()
            {
                return;
            }
            let _ = events.send(SourceEvent::Status(self.reason.clone()));
            while let Some(cmd) = commands.recv().await {
                match cmd {
                    SourceCommand::Refresh => {
                        let _ = events.send(SourceEvent::Snapshot(Arc::clone(&self.snapshot)));
                    }
                    SourceCommand::Lab(_) | SourceCommand::Context(_) => {
                        let _ = events.send(SourceEvent::Status(self.reason.clone()));
                    }
                    SourceCommand::Act { reply, .. } => {
                        let _ = reply.send(ActionOutcome {
                            ok: false,
                            message: self.reason.clone(),
                            audit: None,
                        });
                    }
                    SourceCommand::Permission { reply, .. } => {
                        let _ = reply.send(Err(self.reason.clone()));
                    }
                    SourceCommand::Reveal { reply, .. } => {
                        let _ = reply.send(Err(self.reason.clone()));
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Action;
    use crate::source::{PermissionQuestion, request};

    #[tokio::test]
    async fn a_frozen_source_shows_its_snapshot_and_refuses_actions_with_the_reason() {
        let snap = crate::source::lab::run_check("default", None).unwrap();
        let pods = snap.pods.items.len();
        let source = Box::new(FrozenSource::new(snap, "bug.json"));
        assert!(source.info().label.contains("frozen"));
        let (etx, mut erx) = mpsc::unbounded_channel();
        let (ctx, crx) = mpsc::unbounded_channel();
        tokio::spawn(source.run(etx, crx));
        let Some(SourceEvent::Snapshot(s)) = erx.recv().await else {
            panic!("snapshot first")
        };
        assert_eq!(s.pods.items.len(), pods);
        let restart = Action::Restart {
            namespace: "shop".into(),
            pod: "x".into(),
        };
        let limit = std::time::Duration::from_secs(5);
        let allowed = request(&ctx, |reply| SourceCommand::Permission {
            question: PermissionQuestion::Act(restart.clone()),
            reply,
        })
        .unwrap()
        .within(limit)
        .await
        .unwrap();
        assert!(allowed.unwrap_err().contains("frozen snapshot bug.json"));
        let outcome = request(&ctx, |reply| SourceCommand::Act {
            action: restart,
            reply,
        })
        .unwrap()
        .within(limit)
        .await
        .unwrap();
        assert!(!outcome.ok && outcome.message.contains("disabled"));
    }
}
