//! One rule module per link. Each `check` reads the [`Ctx`], may fill in what later links need
//! (auth mode, identity, vault), sets the link's status/summary/facts for the non-finding cases
//! (ok, unknown, pending) and pushes findings; `build::settle` then lets findings decide.

pub(crate) mod access;
pub(crate) mod consumers;
pub(crate) mod federation;
pub(crate) mod history;
pub(crate) mod identity;
pub(crate) mod mount;
pub(crate) mod node;
pub(crate) mod pod;
pub(crate) mod remedy;
pub(crate) mod service_account;
pub(crate) mod sync;
pub(crate) mod vault_object;

use std::borrow::Cow;

use super::catalog::Code;
use super::context::{Ctx, event_evidence};
use super::events;
use super::model::{Fact, Link, LinkKind, Status};

/// A context fact (what was checked and found fine). Every healthy chain would pay its
/// allocations, so these are kept only in detail mode ([`crate::chain::explain`]).
pub(crate) fn note(cx: &Ctx, link: &mut Link, f: impl FnOnce() -> Fact) {
    if cx.detail {
        link.facts.push(f());
    }
}

/// Observed vs expected: always kept when they differ, otherwise only in detail mode.
pub(crate) fn compare(cx: &Ctx, link: &mut Link, label: &str, observed: &str, expected: &str) {
    if cx.detail || observed != expected {
        link.facts.push(Fact::compare(label, observed, expected));
    }
}

/// Set a link's non-finding status: unknown / pending / ok with its reason.
pub(crate) fn set(link: &mut Link, status: Status, summary: impl Into<Cow<'static, str>>) {
    link.status = status;
    link.summary = summary.into();
}

/// The link cannot be checked: say why, in the summary and as a fact.
pub(crate) fn unknown(link: &mut Link, summary: &'static str, reason: &str) {
    set(link, Status::Unknown, summary);
    link.facts.push(Fact::new("unknown", reason));
}

/// Fold classified mount/sync events into the links they break.
///
/// Only current evidence counts: an event older than the chain's latest success signal (or a
/// rotation failure that stopped recurring) is history, kept as a fact on the link it once
/// broke ([`history`]).
pub(crate) fn apply_events(cx: &Ctx, links: &mut [Link]) {
    if cx.events.is_empty() {
        return; // most chains: no success signals to gather
    }
    let signals = history::Signals::of(cx);
    // Decided before any event adds findings: "clean" means the objects showed no problem.
    let current: Vec<bool> = cx
        .events
        .iter()
        .map(|(code, e)| {
            let link = code.map_or(LinkKind::Mount, |c| c.link());
            let clean = links[link.index()].findings.is_empty();
            match signals.past(e, clean) {
                Some(why) => {
                    history::record(&mut links[link.index()], *code, e, why);
                    false
                }
                None => e.type_ != "Normal",
            }
        })
        .collect();
    let has_cause = cx
        .events
        .iter()
        .zip(&current)
        .any(|((_, e), now)| *now && !events::is_followup(&e.message));
    let mut blocked_by: Option<LinkKind> = None;
    for ((code, e), now) in cx.events.iter().zip(&current) {
        if !now || (has_cause && events::is_followup(&e.message)) {
            continue;
        }
        let code = match code {
            Some(c) => *c,
            None if e.type_ == "Normal" => continue,
            None => Code::KVC701,
        };
        let evidence = event_evidence(e);
        let link = &mut links[code.link().index()];
        if let Some(f) = link.findings.iter_mut().find(|f| f.code == code) {
            // A rule already found it from the objects: the event corroborates.
            if !f.evidence.contains(&evidence) {
                f.evidence.push(evidence);
            }
        } else {
            let f = remedy::from_event(cx, code, e, evidence);
            link.findings.push(f);
        }
        if e.reason == "FailedMount" && code.link() != LinkKind::Mount {
            blocked_by = Some(blocked_by.map_or(code.link(), |b| b.min(code.link())));
        }
    }
    if let Some(cause) = blocked_by {
        let mount = &mut links[LinkKind::Mount.index()];
        if mount.status < Status::Broken {
            mount.status = Status::Broken;
            mount.summary = format!("blocked: {}", cause.title()).into();
        }
    }
}
