//! `:ns NAME` over a namespace with no chain: one that exists without chains, one that does
//! not exist, or one whose existence was not read (unknown is not absent). The snapshot tells
//! which ([`crate::snapshot::Snapshot::namespace_presence`]): the lab's namespaces and a live
//! cluster's, where its ServiceAccounts were read, each holding a `default` one.

use super::{App, Level};
use crate::snapshot::Presence;

/// How many namespaces the status line names after "does not exist".
const NAMED: usize = 6;

impl App {
    /// Whether namespace `ns` exists, as the latest snapshot tells it.
    fn presence(&self, ns: &str) -> Presence {
        match &self.snapshot {
            Some(s) => s.namespace_presence(ns),
            None => Presence::Unknown("nothing read yet".into()),
        }
    }

    /// The tree root's words for `:ns ns` over no chain.
    pub(super) fn empty_namespace_short(&self, ns: &str) -> String {
        match self.presence(ns) {
            Presence::Present => format!("no chains in {ns}"),
            Presence::Absent => format!("no namespace {ns}"),
            Presence::Unknown(_) => format!("{ns} not read"),
        }
    }

    /// The tree pane's sentence for `:ns ns` over no chain, with how to show every namespace.
    pub fn empty_namespace_sentence(&self, ns: &str) -> String {
        let what = match self.presence(ns) {
            Presence::Present => format!("No chains in namespace {ns}"),
            Presence::Absent => format!("Namespace {ns} does not exist"),
            Presence::Unknown(why) => format!(
                "No chains seen in namespace {ns}, and whether it exists is unknown ({why})"
            ),
        };
        format!("{what} (:ns with no name or esc shows all).")
    }

    /// The status line for `:ns ns` over no chain.
    pub(super) fn say_empty_namespace(&mut self, ns: &str) {
        let (text, level) = match self.presence(ns) {
            Presence::Present => (format!("no chains in namespace {ns}"), Level::Warn),
            Presence::Absent => (
                format!(
                    "namespace {ns} does not exist ({})",
                    self.known_namespaces()
                ),
                Level::Error,
            ),
            Presence::Unknown(why) => (
                format!("no chains seen in namespace {ns}; whether it exists is unknown: {why}"),
                Level::Warn,
            ),
        };
        self.say(text, level)
    }

    /// "namespaces: a, b, c and 4 more" of the latest snapshot.
    fn known_namespaces(&self) -> String {
        let known: Vec<&str> = (self.snapshot.iter())
            .flat_map(|s| s.namespaces())
            .collect();
        if known.is_empty() {
            return "no namespace holds an object".into();
        }
        let mut text = format!("namespaces: {}", known[..known.len().min(NAMED)].join(", "));
        if known.len() > NAMED {
            text.push_str(&format!(" and {} more", known.len() - NAMED));
        }
        text
    }
}
