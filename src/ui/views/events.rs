//! The events pane: the selected pod's events, each classified to the link it speaks about
//! (from the real message shapes in FACTS.md §3), or what an action produced (see
//! [`super::timeline`]).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Block;

use crate::chain::{Chain, LinkKind, Status};
use crate::snapshot::EventObs;
use crate::ui::app::{App, Pane};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassifiedEvent {
    pub warning: bool,
    pub reason: String,
    pub message: String,
    pub count: u32,
    pub last_seen: Option<jiff::Timestamp>,
    /// The link the message points at, when it is recognisable.
    pub link: Option<LinkKind>,
    /// The diagnosis keeps this failure as history (a `history` fact: older than a success
    /// signal, or a retired pod's): drawn muted and tagged so, not as a current warning.
    pub history: bool,
}

/// Which link an event speaks about: the link of the code the diagnosis classifies it as (one
/// classifier, from the real message shapes in FACTS.md §3, so the pane and the chains never
/// disagree), else the link its reason belongs to (a mount or a sync event kvchain has no
/// code for, and the success events of both).
pub fn link_of(reason: &str, message: &str) -> Option<LinkKind> {
    if let Some(code) = crate::chain::events::classify_event(reason, message) {
        return Some(code.link());
    }
    if reason == "FailedMount" || reason.starts_with("MountRotation") {
        Some(LinkKind::Mount)
    } else if reason == "FailedToCreateSecret" || reason.starts_with("SecretRotation") {
        Some(LinkKind::Sync)
    } else {
        None
    }
}

/// The link of `chain` whose finding cites event `e` as its evidence: the diagnosis's own
/// reading, which knows what the message alone cannot tell (an AADSTS700016 for an identity
/// that exists is the SPC's tenant, KVC404 on the Federation link, not a missing identity).
/// Only a finding that quotes this event's whole message re-tags it (evidence keeps the full
/// text, hidden characters escaped as shown): a 403 ForbiddenByRbac and a 404 SecretNotFound
/// of the same secret share their first line (the GET), and the Object finding that quotes
/// the 404 says nothing of the 403, which keeps its own code's link (audit K4). A message too
/// short to tell events apart matches nothing.
pub fn cited_on(chain: &Chain, e: &EventObs) -> Option<LinkKind> {
    let quotes = quotes_of(e)?;
    (chain.links.iter())
        .find(|l| (l.findings.iter()).any(|f| f.evidence.iter().any(|ev| quotes(ev))))
        .map(|l| l.link)
}

/// The link whose `history` fact quotes `e` (rules::history: an event older than the chain's
/// latest success signal, or a retired pod's), when no finding cites it ([`cited_on`] first).
pub fn history_on(chain: &Chain, e: &EventObs) -> Option<LinkKind> {
    let quotes = quotes_of(e)?;
    (chain.links.iter())
        .find(|l| (l.facts.iter()).any(|f| f.label.starts_with("history") && quotes(&f.observed)))
        .map(|l| l.link)
}

/// Whether a text quotes `e`'s message (as written, or as the reports show it); none for a
/// message too short to tell one event from another.
fn quotes_of(e: &EventObs) -> Option<impl Fn(&str) -> bool + '_> {
    let message = e.message.trim();
    if message.len() < 24 {
        return None;
    }
    let shown = crate::shown::shown(message);
    Some(move |text: &str| text.contains(message) || text.contains(&*shown))
}

pub fn classify(e: &EventObs) -> ClassifiedEvent {
    ClassifiedEvent {
        warning: e.type_ == "Warning",
        reason: e.reason.clone(),
        message: e.message.clone(),
        count: e.count,
        last_seen: e.last_seen,
        link: link_of(&e.reason, &e.message),
        history: false,
    }
}

/// Cells a wrapped event's rows start in: under its reason, past the `! ` / `· ` mark.
const EVENT_HANG: usize = 2;

/// Returns the scroll offset drawn at: the asked one, bounded so the last line stays in view.
pub fn draw(f: &mut Frame, area: Rect, app: &App) -> u16 {
    let t = &app.theme;
    let focused = app.focus == Pane::Events;
    if let Some(v) = &app.verified {
        return super::timeline::draw_verified(f, area, app, v);
    }
    if let Some(tl) = &app.timeline {
        return super::timeline::draw_timeline(f, area, app, tl);
    }
    let title = match app.selected_subject() {
        Some((ns, name)) => format!(" Events · {ns}/{name} "),
        None => " Events ".to_string(),
    };
    let mut block = Block::bordered()
        .title(title)
        .border_style(t.border(focused))
        .title_style(t.title());
    if !app.pod_events.is_empty() {
        let key = app.keymap.hint(crate::ui::keymap::UiAction::FullText);
        let what = if app.full_text {
            "decisive line"
        } else {
            "full text"
        };
        block = block.title_bottom(Line::styled(format!(" {key} {what} "), t.muted()));
    }
    let inner_w = usize::from(area.width.saturating_sub(2));
    let mut lines: Vec<Line> = if app.pod_events.is_empty() {
        // Unknown is not absent: events that could not be read are said so, with why.
        vec![match app.events_unread() {
            Some(why) => Line::styled(
                format!("events could not be read: {why}"),
                t.status(Status::Unknown),
            ),
            None => Line::styled(
                match (app.selected_pod(), app.selected_subject()) {
                    (Some(_), _) => "no events for this pod".to_string(),
                    // An Ingress's chain: no pod, so no pod events to list.
                    (None, Some((_, name))) => format!("{name} is not a pod: no pod events"),
                    // An SPC no pod mounts: no pod, no pod events (its findings say why).
                    (None, None) if let Some(v) = app.selected_spc() => format!(
                        "SecretProviderClass/{} ({}): no pod events",
                        crate::shown::shown(&v.name),
                        v.unmounted_label()
                    ),
                    (None, None) => "select a pod to see its events".to_string(),
                },
                t.muted(),
            ),
        }]
    } else {
        // Ages against the source's clock now, not the last snapshot's time: a quiet source
        // sends no new snapshot, and its events must still age (audit D15).
        let now = app
            .source_clock()
            .or_else(|| app.snapshot.as_ref().map(|s| s.source.observed_at));
        app.pod_events
            .iter()
            .flat_map(|e| {
                // A failure the diagnosis keeps as history is no current warning: muted.
                let current = e.warning && !e.history;
                let mut spans = vec![
                    Span::styled(
                        if e.warning { "! " } else { "· " },
                        if current {
                            t.status(Status::Warning)
                        } else {
                            t.muted()
                        },
                    ),
                    Span::styled(e.reason.clone(), t.title()),
                ];
                if e.count > 1 {
                    spans.push(Span::styled(format!(" ×{}", e.count), t.muted()));
                }
                match (e.link, e.history) {
                    (Some(l), true) => spans.push(Span::styled(
                        format!(" [{}, history]", l.title()),
                        t.muted(),
                    )),
                    (None, true) => spans.push(Span::styled(" [history]", t.muted())),
                    (Some(l), false) => {
                        spans.push(Span::styled(format!(" [{}]", l.title()), t.accent()));
                    }
                    (None, false) => {}
                }
                if let (Some(seen), Some(now)) = (e.last_seen, now) {
                    let ago = crate::glance::ago(seen, now);
                    spans.push(Span::styled(format!(" {ago}"), t.muted()));
                }
                spans.push(Span::raw(" "));
                spans.push(Span::raw(if app.full_text {
                    e.message.replace('\n', " ")
                } else {
                    crate::glance::decisive(&e.message)
                }));
                // A long message goes on under the reason, two cells in, so each event reads
                // as one block, not as lines of their own at column 0.
                super::hang::wrap(&Line::from(spans), inner_w, EVENT_HANG)
            })
            .collect()
    };
    if app.earlier_pod_events > 0 {
        // Left out, not absent: the pod's name carries events of an earlier pod.
        let n = app.earlier_pod_events;
        lines.push(Line::styled(
            format!(
                "{n} event{} of an earlier pod of this name (another uid) left out",
                if n == 1 { "" } else { "s" }
            ),
            t.muted(),
        ));
    }
    // Five rows at 80×24: the border says there are more, as the detail's does.
    super::scroll::draw_marked(f, area, lines, block, app.events_scroll, t.accent())
}

#[cfg(test)]
mod tests {
    use super::*;

    const WRAP: &str = "MountVolume.SetUp failed for volume \"secrets-store-inline\" : rpc error: code = Unknown desc = failed to mount secrets store objects for pod app/web-0, err: rpc error: code = Unknown desc = ";

    /// The pane tags an event with the link the diagnosis gives it (FACTS §3 shapes): a token
    /// the CSIDriver does not request (for either audience) is the pod's wiring (KVC105),
    /// however the provider words it, not the identity.
    #[test]
    fn events_are_tagged_with_the_link_the_diagnosis_gives_them() {
        let cases = [
            (
                "failed to build auth config for mode None: failed to parse workload identity tokens, error: service account tokens not found",
                LinkKind::Pod,
            ),
            (
                "failed to build auth config for mode None: failed to parse workload identity tokens, error: token for audience api://AzureADTokenExchange not found",
                LinkKind::Pod,
            ),
            (
                "AADSTS70021: No matching federated identity record found for presented assertion.",
                LinkKind::Federation,
            ),
            (
                "RESPONSE 403: 403 Forbidden {\"innererror\":{\"code\":\"ForbiddenByRbac\"}}",
                LinkKind::Access,
            ),
            ("something kvchain has no code for", LinkKind::Mount),
        ];
        for (cause, link) in cases {
            let message = format!("{WRAP}{cause}");
            assert_eq!(link_of("FailedMount", &message), Some(link), "{cause}");
        }
        assert_eq!(
            link_of("MountRotationComplete", "rotated"),
            Some(LinkKind::Mount)
        );
        assert_eq!(
            link_of(
                "SecretRotationComplete",
                "successfully rotated K8s secret web"
            ),
            Some(LinkKind::Sync)
        );
        assert_eq!(
            link_of(
                "FailedScheduling",
                "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
            ),
            Some(LinkKind::Pod)
        );
        assert_eq!(link_of("Pulled", "Successfully pulled image"), None);
    }
}
