//! A live source that can move to another kubeconfig context (the TUI's `:ctx`), like k9s:
//! the running source is replaced by one on the new context, and the UI keeps its own state
//! (filter, theme, selection rules) — the next snapshot carries the new context's label.
//!
//! The new context is connected before the old one stops, so a context that cannot be
//! reached is a status line and the current view stays.

use futures::future::BoxFuture;
use tokio::sync::mpsc;

use super::{ConnectError, LiveSource, connect};
use crate::snapshot::SourceInfo;
use crate::source::args::{AzureArgs, KubeArgs};
use crate::source::{Source, SourceCommand, SourceEvent};

pub struct Switching {
    current: LiveSource,
    kube: KubeArgs,
    azure: AzureArgs,
}

impl Switching {
    /// `current` was connected with `kube`; later contexts are connected with the same flags.
    pub fn new(current: LiveSource, kube: KubeArgs, azure: AzureArgs) -> Self {
        Switching {
            current,
            kube,
            azure,
        }
    }
}

/// The `:ctx` listing: every context, the one shown marked with `*`.
pub fn listing(contexts: &[String], shown: &str) -> String {
    let names: Vec<String> = contexts
        .iter()
        .map(|c| {
            if c == shown {
                format!("*{c}")
            } else {
                c.clone()
            }
        })
        .collect();
    format!("contexts: {}  (:ctx NAME switches)", names.join(" "))
}

impl Source for Switching {
    fn info(&self) -> SourceInfo {
        self.current.info()
    }

    fn run(
        self: Box<Self>,
        events: mpsc::UnboundedSender<SourceEvent>,
        mut commands: mpsc::UnboundedReceiver<SourceCommand>,
    ) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            let Switching {
                mut current,
                kube,
                azure,
            } = *self;
            loop {
                let shown = current.info().label;
                let (to_inner, inner_commands) = mpsc::unbounded_channel();
                let (inner_events, mut from_inner) = mpsc::unbounded_channel();
                let task = tokio::spawn(Box::new(current).run(inner_events, inner_commands));
                let mut inner_running = true;
                let next = loop {
                    tokio::select! {
                        event = from_inner.recv(), if inner_running => match event {
                            Some(e) => {
                                if events.send(e).is_err() {
                                    task.abort();
                                    return;
                                }
                            }
                            None => inner_running = false,
                        },
                        command = commands.recv() => match command {
                            None => {
                                // The UI closed: let the source stop as it would unwrapped.
                                drop(to_inner);
                                let _ = task.await;
                                return;
                            }
                            Some(SourceCommand::Context(None)) => {
                                let line = match super::connect::contexts(&kube) {
                                    Ok((names, _)) => listing(&names, &shown),
                                    Err(e) => format!("no kube contexts: {}", reason(e)),
                                };
                                let _ = events.send(SourceEvent::Status(line));
                            }
                            Some(SourceCommand::Context(Some(name))) => {
                                match connect(&kube.for_context(&name), &azure).await {
                                    Ok(live) => break live,
                                    Err(e) => {
                                        let _ = events.send(SourceEvent::Status(format!(
                                            "context {name}: {}; still on {shown}",
                                            reason(e)
                                        )));
                                    }
                                }
                            }
                            Some(other) => {
                                let _ = to_inner.send(other);
                            }
                        },
                    }
                };
                task.abort();
                if let Some(n) = next.notice() {
                    let _ = events.send(SourceEvent::Status(n.to_string()));
                }
                current = next;
            }
        })
    }
}

fn reason(e: ConnectError) -> String {
    match e {
        ConnectError::NoKubeconfig(why) => format!("no cluster configured ({why})"),
        ConnectError::Other(e) => format!("{e:#}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listing_marks_the_context_shown() {
        let names = ["aks-a".to_string(), "aks-b".to_string()];
        assert_eq!(
            listing(&names, "aks-b"),
            "contexts: aks-a *aks-b  (:ctx NAME switches)"
        );
    }
}
