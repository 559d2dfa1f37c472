//! The detail pane: the selected link's observed values next to the expected ones (differing
//! characters marked), then each finding with its confirm and fix commands and its evidence.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Block;

use super::diff::diff_spans;
use crate::chain::{Chain, Fact, Finding, Link};
use crate::ui::app::{App, Pane};
use crate::ui::fix_text::Fix;
use crate::ui::theme::Theme;

/// The pane's title in `room` cells: the link, the pod (its namespace) and its SPC. Too wide,
/// it drops the namespace (the tree says it), then cuts the pod's name in its middle: cut at
/// its end it lost the SPC's name at 80 columns (audit VVV-time).
fn title(link: &str, ns: &str, name: &str, spc: &str, room: usize) -> String {
    let whole = format!(" {link} · {ns}/{name} · spc/{spc} ");
    if super::hang::cells(&whole) <= room {
        return whole;
    }
    let around = super::hang::cells(&format!(" {link} ·  · spc/{spc} "));
    let name = super::tree_row::middle_cut(name, room.saturating_sub(around).max(12));
    format!(" {link} · {name} · spc/{spc} ")
}

/// Returns the scroll offset drawn at: the asked one, bounded so the last line stays in view.
pub fn draw(f: &mut Frame, area: Rect, app: &App) -> u16 {
    let t = &app.theme;
    let focused = app.focus == Pane::Detail;
    let chain = app.selected_chain();
    let spc = app.selected_spc();
    let title = match (chain, spc) {
        (None, Some(v)) => super::spc_detail::title(v),
        (Some(c), _) => title(
            app.link.title(),
            &c.namespace,
            &crate::ui::subject::name(c),
            &c.spc,
            usize::from(area.width.saturating_sub(2)),
        ),
        (None, None) => " Detail ".to_string(),
    };
    let mut block = Block::bordered()
        .title(title)
        .border_style(t.border(focused))
        .title_style(t.title());
    let inner_w = usize::from(area.width.saturating_sub(2));
    // The copy-fix key works on an SPC's findings as on a link's.
    let copy_hint = |block: Block<'static>, link_keys: bool| match app.fix_command() {
        Some(_) => block.title_bottom(Line::styled(
            format!(
                " {} copy fix{} ",
                app.keymap.hint(crate::ui::keymap::UiAction::CopyFix),
                if link_keys { " · ←/→ link" } else { "" }
            ),
            t.muted(),
        )),
        None => block,
    };
    let lines = match chain {
        None if let Some(v) = spc => {
            block = copy_hint(block, false);
            super::spc_detail::lines(t, v, inner_w, app.full_text)
        }
        Some(c) => {
            let link = c.link(app.link);
            block = copy_hint(block, true);
            let mut lines = Vec::new();
            if let Some(r) = &app.revealed {
                // The only place a value may be drawn: after a second explicit request, for
                // a few seconds.
                let (text, style) = match r.unmasked_until {
                    Some(until) => (
                        format!(
                            "{} (hidden again in {}s)",
                            r.value.expose(),
                            until.saturating_duration_since(app.now).as_secs()
                        ),
                        t.status(crate::chain::Status::Warning),
                    ),
                    None => (r.value.masked(), t.muted()),
                };
                lines.push(Line::from(vec![
                    Span::styled(format!("value of {}: ", r.label), t.title()),
                    Span::styled(text, style),
                ]));
            }
            lines.extend(wrapped_lines(t, c, link, inner_w, app.full_text));
            lines
        }
        None => vec![Line::styled(
            "Select a pod (or one of its SecretProviderClasses) to see its chain.",
            t.muted(),
        )],
    };
    // A finding's fix, evidence and `about` run past the pane at 80×24: the border says
    // which lines show, as the lesson's and the timeline's do.
    super::scroll::draw_marked(f, area, lines, block, app.detail_scroll, t.accent())
}

/// The lines of a link's detail, one per item before wrapping (public for tests and the
/// bench).
pub fn link_lines(t: &Theme, chain: &Chain, link: &Link, width: usize) -> Vec<Line<'static>> {
    link_lines_with(t, chain, link, width, false)
}

/// [`link_lines`], with evidence in full (`full`) or its decisive line.
pub fn link_lines_with(
    t: &Theme,
    chain: &Chain,
    link: &Link,
    width: usize,
    full: bool,
) -> Vec<Line<'static>> {
    rows(t, chain, link, width, full)
        .into_iter()
        .map(|(line, _)| line)
        .collect()
}

/// [`link_lines_with`] as the pane draws them, wrapped at `width`: a line too long goes on
/// under where its text started (its label's width in), a command so that its rows still
/// paste as that command ([`super::paste`]).
pub fn wrapped_lines(
    t: &Theme,
    chain: &Chain,
    link: &Link,
    width: usize,
    full: bool,
) -> Vec<Line<'static>> {
    wrap(t, rows(t, chain, link, width, full), width)
}

/// Detail rows wrapped at `width`, each as its [`Flow`] says.
pub(super) fn wrap(
    t: &Theme,
    rows: Vec<(Line<'static>, Flow)>,
    width: usize,
) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for (line, how) in rows {
        match how {
            Flow::Hang(hang) => out.extend(super::hang::wrap(&line, width, hang)),
            Flow::Command {
                label,
                command,
                note,
            } => out.extend(super::paste::rows(
                Span::styled(label, t.muted()),
                &command,
                note.as_deref(),
                (t.command(), t.muted()),
                width,
            )),
        }
    }
    out
}

/// How a line of the detail continues when it is too long for the pane.
pub(super) enum Flow {
    /// Under column `.0`: where the line's text starts after its label.
    Hang(usize),
    /// As a command to paste ([`super::paste`]).
    Command {
        label: &'static str,
        command: String,
        note: Option<String>,
    },
}

/// Width of a label such as `"  seen     "`: where the text after it starts.
fn at(label: &str) -> Flow {
    Flow::Hang(super::hang::cells(label))
}

/// The detail's lines, each with how it wraps.
fn rows(
    t: &Theme,
    chain: &Chain,
    link: &Link,
    width: usize,
    full: bool,
) -> Vec<(Line<'static>, Flow)> {
    let mut out = Vec::new();
    let shown = crate::ui::strip_text::shown(chain, link.link);
    let (st, word) = match shown.applies {
        true => (t.status(shown.status), shown.status.as_str()),
        false => (t.muted(), crate::chain::model::NOT_APPLICABLE),
    };
    let mut head = vec![
        Span::styled(format!("{} {word}", shown.symbol()), st),
        Span::raw(" · "),
        Span::styled(link.summary.clone(), st),
    ];
    if let Some(cause) = shown.not_reached {
        head.push(Span::styled(
            format!(
                " · not reached: the chain breaks earlier, at {}",
                cause.title()
            ),
            t.muted(),
        ));
    }
    out.push((Line::from(head), Flow::Hang(2)));
    if !link.facts.is_empty() {
        out.push((Line::raw(""), Flow::Hang(0)));
        out.extend(fact_lines(t, &link.facts, width, full));
    }
    for finding in &link.findings {
        finding_rows(t, finding, full, &mut out);
    }
    if link.facts.is_empty() && link.findings.is_empty() {
        out.push((Line::raw(""), Flow::Hang(0)));
        // The key value the check found good (the SA's name, the role…), not an empty "ok".
        out.push((
            Line::styled(
                format!(
                    "{} of {}: {} — checked, no finding",
                    link.link.title(),
                    crate::ui::subject::name(chain),
                    link.summary
                ),
                t.muted(),
            ),
            Flow::Hang(0),
        ));
    }
    out
}

/// A finding's lines: its code and message, what the code is, a suppression, the object, the
/// confirm and fix commands, the evidence and what the code means. The one renderer of a
/// finding, for a chain's link and for a SecretProviderClass no pod mounts alike.
pub(super) fn finding_rows(
    t: &Theme,
    finding: &Finding,
    full: bool,
    out: &mut Vec<(Line<'static>, Flow)>,
) {
    out.push((Line::raw(""), Flow::Hang(0)));
    // A suppressed finding stays listed, dimmed, with who suppressed it and why.
    let fs = if finding.suppressed.is_some() {
        t.muted()
    } else {
        t.status(finding.severity.status())
    };
    // The message goes on under the code, the finding's block two columns in.
    out.push((
        Line::from(vec![
            Span::styled(
                format!("{} {}", finding.severity.status().symbol(), finding.code),
                fs,
            ),
            Span::styled(format!(" {} ", finding.severity.as_str()), t.muted()),
            Span::raw(finding.message.to_string()),
        ]),
        Flow::Hang(2),
    ));
    out.push((
        Line::styled(format!("  {}", finding.code.title()), t.muted()),
        Flow::Hang(2),
    ));
    if let Some(sup) = &finding.suppressed {
        let reason = sup
            .reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        out.push((
            Line::styled(format!("  suppressed by {}{reason}", sup.by), t.muted()),
            Flow::Hang(2),
        ));
    }
    if !finding.resource.is_empty() {
        out.push((
            Line::from(vec![
                Span::styled(OBJECT, t.muted()),
                Span::raw(object_named(&finding.resource, &finding.namespace)),
            ]),
            at(OBJECT),
        ));
    }
    if !finding.confirm.is_empty() {
        out.push(command_line(t, "  confirm  ", &finding.confirm));
    }
    if !finding.fix.is_empty() {
        out.push(command_line(t, "  fix      ", &finding.fix));
    }
    // Evidence last: event messages run long, and the commands must stay in view.
    for e in &finding.evidence {
        out.push((
            Line::from(vec![
                Span::styled(SEEN, t.muted()),
                Span::raw(if full {
                    e.replace('\n', " ")
                } else {
                    crate::glance::evidence(e)
                }),
            ]),
            at(SEEN),
        ));
    }
    // What the code means (docs/codes.yaml), its first sentence: the whole paragraph ran
    // to 2,700 characters (KVC901), fifty lines of an 80-column pane repeating the
    // message above; `kvchain explain` prints the page.
    let (gist, more) = crate::codedoc::gist(finding.code);
    if !gist.is_empty() {
        let mut about = vec![
            Span::styled(ABOUT, t.muted()),
            Span::styled(gist, t.muted()),
        ];
        if more {
            about.push(Span::styled(
                format!(" More: kvchain explain {}", finding.code),
                t.muted(),
            ));
        }
        out.push((Line::from(about), at(ABOUT)));
    }
}

/// The labels of a finding's lines, their text starting at one column.
const OBJECT: &str = "  object   ";
const SEEN: &str = "  seen     ";
const ABOUT: &str = "  about    ";

/// Kinds a finding names that live in no namespace: Azure resources (in resource groups)
/// and cluster-scoped Kubernetes objects.
const UNNAMESPACED: [&str; 4] = ["KeyVault", "ManagedIdentity", "CSIDriver", "Node"];

/// `Kind/name (namespace)`, the namespace only for an object a namespace holds: a vault
/// followed by the chain's namespace read as if it lived there.
fn object_named(resource: &str, namespace: &str) -> String {
    let kind = resource.split_once('/').map_or(resource, |(k, _)| k);
    if namespace.is_empty() || UNNAMESPACED.contains(&kind) {
        resource.to_string()
    } else {
        format!("{resource} ({namespace})")
    }
}

/// A confirm or fix line: a command after the `$ ` prompt (its note muted), a description
/// without one ([`crate::ui::fix_text`]): no prompt before what is not to be run.
fn command_line(t: &Theme, label: &'static str, text: &str) -> (Line<'static>, Flow) {
    let mut spans = vec![Span::styled(label, t.muted())];
    match crate::ui::fix_text::parse(text) {
        Fix::Command { command, note } => {
            spans.push(Span::styled(format!("$ {command}"), t.command()));
            if let Some(note) = note {
                spans.push(Span::styled(format!("  # {note}"), t.muted()));
            }
            let how = Flow::Command {
                label,
                command: command.to_string(),
                note: note.map(str::to_string),
            };
            (Line::from(spans), how)
        }
        Fix::Prose(prose) => {
            spans.push(Span::raw(prose.to_string()));
            (Line::from(spans), at(label))
        }
    }
}

/// Facts as `label  observed │ expected` when both fit on one line, else stacked so the two
/// values sit one above the other, character under character. A past event kept as history
/// reads like the evidence: its decisive line unless `full` (`e`).
fn fact_lines(t: &Theme, facts: &[Fact], width: usize, full: bool) -> Vec<(Line<'static>, Flow)> {
    let label_w = facts
        .iter()
        .map(|f| f.label.chars().count())
        .max()
        .unwrap_or(0)
        .min(24);
    let shown = |f: &Fact| -> String {
        if !full && f.expected.is_none() && f.label.starts_with("history") {
            crate::glance::history(&f.observed)
        } else {
            f.observed.to_string()
        }
    };
    let longest = |f: &Fact| {
        shown(f)
            .chars()
            .count()
            .max(f.expected.as_ref().map_or(0, |e| e.chars().count()))
    };
    let col = facts.iter().map(longest).max().unwrap_or(0);
    let side_by_side = label_w + 2 + col + 3 + col <= width;
    let mut out = Vec::new();
    if side_by_side && facts.iter().any(|f| f.expected.is_some()) {
        out.push((
            Line::from(vec![
                Span::raw(" ".repeat(label_w + 2)),
                Span::styled(format!("{:<col$}", "observed"), t.muted()),
                Span::styled(" │ ", t.muted()),
                Span::styled("expected", t.muted()),
            ]),
            Flow::Hang(label_w + 2),
        ));
    }
    for fact in facts {
        let label = format!("{:<label_w$}  ", fact.label);
        let base = if fact.matches() {
            ratatui::style::Style::default()
        } else {
            t.status(crate::chain::Status::Broken)
        };
        match &fact.expected {
            None => out.push((
                Line::from(vec![Span::styled(label, t.muted()), Span::raw(shown(fact))]),
                Flow::Hang(label_w + 2),
            )),
            Some(exp) => {
                let ok_style = t.status(crate::chain::Status::Ok);
                let (obs, expd) = if fact.matches() {
                    (
                        vec![Span::raw(fact.observed.clone())],
                        vec![Span::styled(exp.clone(), ok_style)],
                    )
                } else {
                    diff_spans(
                        &fact.observed,
                        exp,
                        ratatui::style::Style::default(),
                        t.diff_observed().patch(base),
                        t.diff_expected(),
                    )
                };
                let mark = if fact.matches() { "✓" } else { "✗" };
                let mark_style = if fact.matches() { ok_style } else { base };
                if side_by_side {
                    let pad = col.saturating_sub(fact.observed.chars().count());
                    let mut spans = vec![Span::styled(label, t.muted())];
                    spans.extend(obs);
                    spans.push(Span::raw(" ".repeat(pad)));
                    spans.push(Span::styled(format!(" {mark} "), mark_style));
                    spans.extend(expd);
                    out.push((Line::from(spans), Flow::Hang(label_w + 2)));
                } else if fact.matches() {
                    // Equal values need no comparison: one line.
                    let mut spans = vec![
                        Span::styled(format!("{} ", fact.label), t.muted()),
                        Span::styled(format!("{mark} "), mark_style),
                    ];
                    spans.extend(obs);
                    out.push((Line::from(spans), Flow::Hang(2)));
                } else {
                    // Stacked, so the two values sit character under character.
                    out.push((
                        Line::from(vec![
                            Span::styled(format!("{} ", fact.label), t.muted()),
                            Span::styled(mark.to_string(), mark_style),
                        ]),
                        Flow::Hang(2),
                    ));
                    // Under the value: observed and expected stay character under
                    // character as long as they wrap alike.
                    let mut o = vec![Span::styled(" obs ", t.muted())];
                    o.extend(obs);
                    out.push((Line::from(o), Flow::Hang(5)));
                    let mut e = vec![Span::styled(" exp ", t.muted())];
                    e.extend(expd);
                    out.push((Line::from(e), Flow::Hang(5)));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::{LinkKind, Suppressed};
    use crate::ui::testing::{break_link, healthy_chain};

    use crate::ui::testing::lines_text as text;

    #[test]
    fn a_suppressed_finding_is_listed_dimmed_with_its_reason() {
        let t = Theme::default_theme();
        let mut c = healthy_chain("payments", Some("api"), "api-1");
        break_link(&mut c, LinkKind::Federation);
        let link = c.link(LinkKind::Federation).clone();
        let header_style = |lines: &[Line]| {
            lines
                .iter()
                .find(|l| text(std::slice::from_ref(l)).contains("KVC401"))
                .map(|l| l.spans[0].style)
                .unwrap()
        };
        assert_ne!(header_style(&link_lines(&t, &c, &link, 100)), t.muted());
        let mut link = link;
        link.findings[0].suppressed = Some(Suppressed {
            by: "annotation kvchain.dev/ignore on Deployment/api".into(),
            reason: Some("migrating".into()),
        });
        let lines = link_lines(&t, &c, &link, 100);
        let all = text(&lines);
        assert!(all.contains("KVC401"), "{all}");
        assert!(
            all.contains(
                "suppressed by annotation kvchain.dev/ignore on Deployment/api: migrating"
            ),
            "{all}"
        );
        assert_eq!(header_style(&lines), t.muted());
        // What the code means follows (the first sentence of `kvchain explain`'s page).
        let (gist, _) = crate::codedoc::gist(crate::chain::Code::KVC401);
        assert!(all.contains(&gist), "{all}");
    }
}
