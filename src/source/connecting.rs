//! A live source whose API server has not answered yet. The TUI starts on it at once and
//! draws "connecting to https://… (context X)" with the time elapsed, instead of a blank
//! terminal for as long as the server stays silent; once the server answers, the real source
//! takes over the same channels.

use futures::future::BoxFuture;
use tokio::sync::mpsc;

use super::{Progress, Source, SourceCommand, SourceEvent};
use crate::snapshot::{SourceInfo, SourceKind};

pub type Reach = BoxFuture<'static, Result<Box<dyn Source>, String>>;

pub struct Connecting {
    label: String,
    server: String,
    reach: Reach,
}

impl Connecting {
    pub fn new(label: String, server: String, reach: Reach) -> Self {
        Connecting {
            label,
            server,
            reach,
        }
    }

    /// What the loading screen says.
    pub fn stage(&self) -> String {
        format!("connecting to {} (context {})", self.server, self.label)
    }
}

impl Source for Connecting {
    fn info(&self) -> SourceInfo {
        SourceInfo {
            kind: SourceKind::Live,
            label: self.label.clone(),
            observed_at: jiff::Timestamp::now(),
            unread: Vec::new(),
            unread_objects: Vec::new(),
            hidden: Default::default(),
        }
    }

    fn run(
        self: Box<Self>,
        events: mpsc::UnboundedSender<SourceEvent>,
        mut commands: mpsc::UnboundedReceiver<SourceCommand>,
    ) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            let _ = events.send(SourceEvent::Progress(Progress {
                stage: self.stage(),
                done: 0,
                total: None,
            }));
            let reached = {
                let quit = async {
                    // Commands sent before the server answers are dropped (their replies say
                    // so); only the end of the channel (the UI quit) matters.
                    while commands.recv().await.is_some() {}
                };
                tokio::select! {
                    r = self.reach => r,
                    () = quit => return,
                }
            };
            match reached {
                Ok(source) => source.run(events, commands).await,
                Err(e) => {
                    let _ = events.send(SourceEvent::Failed(e));
                    while commands.recv().await.is_some() {}
                }
            }
        })
    }
}
