//! The events pane: the selected pod's events, each classified to the link it speaks about
//! (from the real message shapes in FACTS.md §3), or what an action produced (see
//! [`super::timeline`]).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::chain::{LinkKind, Status};
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
}

/// Which link an event message speaks about. Checked most specific first: a FailedMount
/// carrying an AADSTS70021 is a federation problem, not a mount problem.
pub fn link_of(reason: &str, message: &str) -> Option<LinkKind> {
    let m = message;
    let has = |s: &str| m.contains(s);
    // The scheduler's per-node reasons are about placing the pod, whatever words they share.
    if reason == "FailedScheduling" {
        return Some(LinkKind::Pod);
    }
    // "AADSTS70021" is also the prefix of the newer 700211 / 700213 / 7002138 codes.
    if has("AADSTS70021") || has("No matching federated identity") {
        Some(LinkKind::Federation)
    } else if has("ForbiddenByRbac")
        || has("ForbiddenByPolicy")
        || has("does not have secrets get permission")
        || has("RESPONSE 403")
        || has("StatusCode=403")
        || has("ForbiddenByFirewall")
        || has("Client address is not authorized")
    {
        Some(LinkKind::Access)
    } else if has("SecretNotFound")
        || has("KeyNotFound")
        || has("CertificateNotFound")
        || has("was not found in this key vault")
        || has("Operation get is not allowed on a disabled")
    {
        Some(LinkKind::VaultObject)
    } else if has("service account tokens not found")
        || has("not found in the list of registered CSI drivers")
        || has("Readonly is not true")
        || has("failed to get secretproviderclass")
    {
        Some(LinkKind::Pod)
    } else if has("AADSTS700016") || has("identity not found") || has("failed to build auth config")
    {
        Some(LinkKind::Identity)
    } else if reason == "FailedToCreateSecret" || reason.starts_with("SecretRotation") {
        Some(LinkKind::Sync)
    } else if has("429")
        || has("Too Many Requests")
        || reason == "FailedMount"
        || reason.starts_with("MountRotation")
    {
        Some(LinkKind::Mount)
    } else {
        None
    }
}

pub fn classify(e: &EventObs) -> ClassifiedEvent {
    ClassifiedEvent {
        warning: e.type_ == "Warning",
        reason: e.reason.clone(),
        message: e.message.clone(),
        count: e.count,
        last_seen: e.last_seen,
        link: link_of(&e.reason, &e.message),
    }
}

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let focused = app.focus == Pane::Events;
    if let Some(v) = &app.verified {
        return super::timeline::draw_verified(f, area, app, v);
    }
    if let Some(tl) = &app.timeline {
        return super::timeline::draw_timeline(f, area, app, tl);
    }
    let title = match app.selected_pod() {
        Some((ns, pod)) => format!(" Events · {ns}/{pod} "),
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
    let lines: Vec<Line> = if app.pod_events.is_empty() {
        // Unknown is not absent: events that could not be read are said so, with why.
        vec![match app.events_unread() {
            Some(why) => Line::styled(
                format!("events could not be read: {why}"),
                t.status(Status::Unknown),
            ),
            None => Line::styled(
                if app.selected_pod().is_some() {
                    "no events for this pod"
                } else {
                    "select a pod to see its events"
                },
                t.muted(),
            ),
        }]
    } else {
        app.pod_events
            .iter()
            .map(|e| {
                let mut spans = vec![
                    Span::styled(
                        if e.warning { "! " } else { "· " },
                        if e.warning {
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
                if let Some(l) = e.link {
                    spans.push(Span::styled(format!(" [{}]", l.title()), t.accent()));
                }
                if let (Some(seen), Some(s)) = (e.last_seen, &app.snapshot) {
                    let ago = crate::glance::ago(seen, s.source.observed_at);
                    spans.push(Span::styled(format!(" {ago}"), t.muted()));
                }
                spans.push(Span::raw(" "));
                spans.push(Span::raw(if app.full_text {
                    e.message.replace('\n', " ")
                } else {
                    crate::glance::decisive(&e.message)
                }));
                Line::from(spans)
            })
            .collect()
    };
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: true })
            .scroll((app.events_scroll, 0)),
        area,
    );
}
