//! A live source whose API server has not answered yet. The TUI starts on it at once and
//! draws "connecting to https://… (context X)" with the time elapsed, instead of a blank
//! terminal for as long as the server stays silent; once the server answers, the real source
//! takes over the same channels.
//!
//! A server that refuses (or fails) is tried again with backoff, as the live source does for
//! a server lost later: the UI is told why and when the next attempt comes
//! ([`SourceEvent::Unreachable`]), and a refresh (`ctrl-r`) tries again at once.

use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::mpsc;

use super::{Progress, Source, SourceCommand, SourceEvent};
use crate::snapshot::{SourceInfo, SourceKind};

pub type Reach = BoxFuture<'static, Result<Box<dyn Source>, String>>;

/// Makes one attempt to reach the server; called again for every retry.
pub type Reacher = Box<dyn FnMut() -> Reach + Send>;

/// The first pause after a failed attempt; it doubles up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_secs(1);
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

pub struct Connecting {
    label: String,
    server: String,
    reach: Reacher,
    first_backoff: Duration,
}

impl Connecting {
    pub fn new(label: String, server: String, reach: Reacher) -> Self {
        Connecting {
            label,
            server,
            reach,
            first_backoff: FIRST_BACKOFF,
        }
    }

    /// Start the backoff at `first` instead of [`FIRST_BACKOFF`] (tests).
    pub fn with_backoff(mut self, first: Duration) -> Self {
        self.first_backoff = first;
        self
    }

    /// What the loading screen says.
    pub fn stage(&self) -> String {
        format!("connecting to {} (context {})", self.server, self.label)
    }
}

/// The pause after `attempt` failed attempts: doubling from `first`, at most [`MAX_BACKOFF`].
pub fn backoff(first: Duration, attempt: u32) -> Duration {
    let doubled = first.saturating_mul(1 << attempt.saturating_sub(1).min(16));
    doubled.min(MAX_BACKOFF.max(first))
}

impl Source for Connecting {
    fn info(&self) -> SourceInfo {
        SourceInfo {
            kind: SourceKind::Live,
            label: self.label.clone(),
            // This machine's clock, not the API server's (audit UUU-time checked it): the TUI
            // keeps it in `App::source` until the first snapshot replaces it, and nothing
            // shown or compared reads it there: ages, the events pane, the timeline's clock
            // and `source_clock` take every time from a snapshot, whose `observed_at` is on
            // the server's clock (`server_clock::on_server`).
            observed_at: jiff::Timestamp::now(),
            ..SourceInfo::default()
        }
    }

    fn run(
        mut self: Box<Self>,
        events: mpsc::UnboundedSender<SourceEvent>,
        mut commands: mpsc::UnboundedReceiver<SourceCommand>,
    ) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            let stage = self.stage();
            let mut attempt = 0u32;
            loop {
                let _ = events.send(SourceEvent::Progress(Progress {
                    stage: stage.clone(),
                    done: 0,
                    total: None,
                }));
                let reached = {
                    let quit = async {
                        // Commands sent before the server answers are dropped (their replies
                        // say so); only the end of the channel (the UI quit) matters.
                        while commands.recv().await.is_some() {}
                    };
                    tokio::select! {
                        r = (self.reach)() => r,
                        () = quit => return,
                    }
                };
                let why = match reached {
                    Ok(source) => return source.run(events, commands).await,
                    Err(e) => e,
                };
                attempt += 1;
                let retry_in = backoff(self.first_backoff, attempt);
                tracing::warn!(attempt, "{why}; reconnecting in {retry_in:?}");
                let _ = events.send(SourceEvent::Unreachable {
                    why,
                    retry_in,
                    attempt,
                });
                // Wait out the backoff; a refresh cuts it short, the UI quitting ends it all.
                let pause = tokio::time::sleep(retry_in);
                tokio::pin!(pause);
                loop {
                    tokio::select! {
                        () = &mut pause => break,
                        c = commands.recv() => match c {
                            None => return,
                            Some(SourceCommand::Refresh) => break,
                            Some(_) => {}
                        },
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let s = Duration::from_secs;
        let got: Vec<_> = (1..=7).map(|a| backoff(s(1), a)).collect();
        assert_eq!(got, [s(1), s(2), s(4), s(8), s(16), s(30), s(30)]);
        assert_eq!(backoff(s(1), u32::MAX), s(30));
    }
}
