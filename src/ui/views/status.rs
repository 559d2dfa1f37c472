//! The status bar: source (kube context, or lab clock and speed), data age, pod counts by
//! status, then the prompt being typed, the last message, or key hints.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::chain::Status;
use crate::snapshot::SourceKind;
use crate::ui::app::{App, Level, Mode};
use crate::ui::keymap::UiAction;

use super::hang::cells;

pub fn source_label(app: &App) -> String {
    source_label_cut(app, 0)
}

/// [`source_label`] with the source's name `cut` cells shorter, given way in its middle: a
/// long context's name pushed the counts off the bar's edge (`✗1 ✓` at 80 columns, audit
/// XD-tui); the clock and speed stay whole.
fn source_label_cut(app: &App, cut: usize) -> String {
    let full = &app.source.label;
    let name = match cut {
        0 => full.clone(),
        _ => super::tree_row::middle_cut(full, cells(full).saturating_sub(cut).max(NAME_LEAST)),
    };
    let name = &name;
    match (&app.lab, app.source.kind) {
        (Some(l), _) => {
            let clock = crate::glance::clock(app.lab_clock().unwrap_or(l.time));
            let state = if l.paused { " ⏸" } else { "" };
            format!(
                "lab {name} {clock} ×{}{state}",
                crate::glance::speed(l.speed)
            )
        }
        (None, SourceKind::Lab) => format!("lab {name}"),
        (None, SourceKind::Live) => format!("ctx {name}"),
        (None, SourceKind::Manifests) => format!("files {name}"),
    }
}

/// The data age. A replayed snapshot (`demo --snapshot`) says its age is the recording's; a
/// recording of the lab has none on the wall clock (its times are the lab clock's, months
/// from now), so it says the lab time it shows.
pub fn age_label(app: &App) -> String {
    let recorded = app.snapshot.as_ref().filter(|_| app.frozen.is_some());
    match (app.age(), recorded) {
        (None, _) => "no data yet".into(),
        (Some(_), Some(s)) if s.source.kind == SourceKind::Lab => format!(
            "snapshot at lab time {}",
            crate::glance::clock(s.source.observed_at)
        ),
        (Some(d), Some(_)) => format!("snapshot data {} old", crate::glance::span(d.as_secs())),
        (Some(d), None) => format!("data {}", crate::glance::span(d.as_secs())),
    }
}

/// The fewest cells a source's name keeps when the bar is too narrow for it.
const NAME_LEAST: usize = 12;

/// The most lines the status bar takes for a message that does not fit on one.
const MAX_LINES: u16 = 3;

/// The status bar's height at `width`: one line, or as many as its message needs, up to
/// [`MAX_LINES`] — a lab fault's title and what the owner's controller does with it are never
/// cut at the edge (audit OOO-left), nor is any other message.
pub fn height(app: &App, width: u16) -> u16 {
    if !says_message(app) {
        return 1;
    }
    let lines = line(app, width).line_count(width);
    u16::try_from(lines).unwrap_or(u16::MAX).clamp(1, MAX_LINES)
}

/// The bar ends with the last message (not a prompt being typed, nor key hints, which are
/// only those that fit).
fn says_message(app: &App) -> bool {
    app.message.is_some() && !matches!(app.mode, Mode::Filter { .. } | Mode::Command { .. })
}

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    f.render_widget(line(app, area.width), area);
}

/// The bar's text at `width`, wrapped at words where the message needs more than one line.
fn line(app: &App, width: u16) -> Paragraph<'static> {
    let t = &app.theme;
    let mut spans = Vec::new();
    if app.fallback_open {
        // Loud until dismissed: this is a simulation, not the cluster the user expected.
        spans.push(Span::styled(
            " LAB ",
            t.status(Status::Warning)
                .add_modifier(ratatui::style::Modifier::REVERSED),
        ));
    }
    let label_at = spans.len();
    spans.extend([
        Span::styled(format!(" {} ", source_label(app)), t.selection()),
        Span::raw(" "),
    ]);
    // The cluster stopped answering: the age is the data's, and the line says why it grows.
    match app
        .snapshot
        .as_ref()
        .and_then(|s| s.source.unanswered.as_ref())
    {
        Some(why) => spans.extend([
            Span::styled(age_label(app), t.status(Status::Warning)),
            Span::styled(format!(" ⚠ {why}"), t.status(Status::Warning)),
        ]),
        None => spans.push(Span::styled(age_label(app), t.muted())),
    }
    if !app.gaps.is_empty() {
        spans.push(Span::styled(
            format!(" ⚠ {}", crate::ui::gaps::count_label(app.gaps.len())),
            t.status(Status::Warning),
        ));
    }
    // The good-citizen counter: how many Azure requests this session has made.
    if app.source.kind == SourceKind::Live
        && let Some(s) = &app.snapshot
    {
        spans.push(Span::styled(
            format!(" · azure {} req", s.azure.requests),
            t.muted(),
        ));
    }
    if app.read_only() {
        spans.push(Span::styled(" [read-only]", t.status(Status::Warning)));
    }
    let c = &app.tree.counts;
    // With no chain seen because pods or SPCs could not be read (unread is not absent) the
    // banner and the tree say why; the bar says none was seen.
    let unseen = app.snapshot.as_ref().is_some_and(|s| s.incomplete()) && c.total() == 0;
    if unseen {
        spans.push(Span::styled(" ? no chain seen", t.status(Status::Unknown)));
    }
    // The non-zero counts, as the cluster row shows them (audit OO3: a zero `✗0`/`✓0` here
    // beside a hidden zero `!` read unevenly). Before any data there is nothing to count.
    if app.snapshot.is_some() {
        spans.extend(crate::ui::views::tree::counts_spans(app, c));
    }
    spans.push(Span::raw("  "));
    // What must show whole: all so far and a prompt being typed. Too wide, the source's name
    // gives way (audit XD-tui).
    let prompt = match &app.mode {
        Mode::Filter { input, .. } | Mode::Command { input } => cells(input) + 2,
        _ => 0,
    };
    let over =
        (spans.iter().map(Span::width).sum::<usize>() + prompt).saturating_sub(usize::from(width));
    if over > 0 {
        let label = format!(" {} ", source_label_cut(app, over));
        spans[label_at] = Span::styled(label, t.selection());
    }
    match &app.mode {
        Mode::Filter { input, .. } => {
            spans.push(Span::styled(format!("/{input}▏"), t.accent()));
            spans.push(Span::styled("  enter keep · esc cancel", t.muted()));
        }
        Mode::Command { input } => {
            spans.push(Span::styled(format!(":{input}▏"), t.accent()));
        }
        _ => match &app.message {
            Some((m, level)) => {
                let st = match level {
                    Level::Info => t.accent(),
                    Level::Warn => t.status(Status::Warning),
                    Level::Error => t.status(Status::Broken),
                };
                spans.push(Span::styled(m.clone(), st));
            }
            // An overlay (a confirmation, the help, the break menu) takes the keys and its
            // border says them: the row's hints offered `y copy fix` where `y` confirms a
            // restart (audit XD-tui).
            None if matches!(app.mode, Mode::Normal) => {
                let used: usize = spans.iter().map(|s| s.width()).sum();
                spans.extend(hints(app, usize::from(width).saturating_sub(used)));
            }
            None => {}
        },
    }
    let bar = Paragraph::new(Line::from(spans)).style(t.base());
    match says_message(app) {
        true => bar.wrap(Wrap { trim: false }),
        false => bar,
    }
}

/// Key hints for the current row, from the key table; disabled actions are shown greyed. Only
/// whole hints that fit in `room` columns: `q qu` would read as a different key.
///
/// At 80 columns a lab's clock and the counts leave about 34 cells, which held `? help  /
/// filter  → link` and none of the keys that act on the row (audit XE-tui). As k9s shows the
/// few keys of the current view, the hints are chosen in [`offered`]'s order of what matters
/// on the row — `?` first, as it lists every other key — and drawn in the key table's order.
fn hints(app: &App, mut room: usize) -> Vec<Span<'static>> {
    let t = &app.theme;
    let offered = offered(app);
    let mut shown = Vec::new();
    for &a in &offered {
        let need = hint_cells(app, a);
        // The trailing gap may fall off the edge; the words may not. A shorter hint after one
        // left out still fills the room, but not `q quit` (known to all, and read as more
        // needed than the `R restart` left out before it).
        let dropped = shown.len() < offered_before(&offered, a);
        if need.0 > room || (a == UiAction::Quit && dropped) {
            continue;
        }
        room = room.saturating_sub(need.1);
        shown.push(a);
    }
    let mut out = Vec::new();
    for a in ORDER.iter().copied().filter(|a| shown.contains(a)) {
        let enabled = app.available(a);
        let key_style = if enabled { t.accent() } else { t.muted() };
        out.push(Span::styled(app.keymap.hint(a), key_style));
        out.push(Span::styled(
            format!(" {}  ", label(a)),
            if enabled { t.base() } else { t.muted() },
        ));
    }
    out
}

/// How many hints `offered` lists before `a`.
fn offered_before(offered: &[UiAction], a: UiAction) -> usize {
    offered.iter().position(|&b| b == a).unwrap_or(0)
}

/// The order hints are drawn in, whichever of them fit.
const ORDER: [UiAction; 8] = [
    UiAction::Help,
    UiAction::Filter,
    UiAction::LinkRight,
    UiAction::CopyFix,
    UiAction::Restart,
    UiAction::Rotate,
    UiAction::LabMenu,
    UiAction::Quit,
];

/// The keys that apply to the selected row (audit XD-tui: `→` on an SPC no pod mounts or a
/// namespace row moved nothing on screen, and `y` there had no fix to copy), most needed
/// first: on a chain's row the fix to copy, the links, then what acts on the pod; on a row
/// of no chain the filter that finds one and the lab's break menu.
fn offered(app: &App) -> Vec<UiAction> {
    let mut actions = vec![UiAction::Help];
    if app.fix_command().is_some() {
        actions.push(UiAction::CopyFix);
    }
    if app.selected_chain().is_some() {
        actions.push(UiAction::LinkRight);
    }
    if app.selected_pod().is_some() {
        actions.push(UiAction::Restart);
    }
    // Where `r` opens a confirmation: an object row, or a pod (or its SPC) that mounts one
    // secret; elsewhere it says why not (audit XE-tui).
    if app.rotation_plan().is_ok() {
        actions.push(UiAction::Rotate);
    }
    let lab = app.is_lab().then_some(UiAction::LabMenu);
    match app.selected_chain() {
        Some(_) => actions.extend(lab.into_iter().chain([UiAction::Filter])),
        None => actions.extend([UiAction::Filter].into_iter().chain(lab)),
    }
    actions.push(UiAction::Quit);
    actions
}

fn label(a: UiAction) -> &'static str {
    match a {
        UiAction::Help => "help",
        UiAction::Filter => "filter",
        UiAction::LinkRight => "link",
        UiAction::CopyFix => "copy fix",
        UiAction::Restart => "restart",
        UiAction::Rotate => "rotate",
        UiAction::LabMenu => "break/repair",
        UiAction::Quit => "quit",
        _ => a.name(),
    }
}

/// A hint's cells without and with its trailing gap.
fn hint_cells(app: &App, a: UiAction) -> (usize, usize) {
    let words = app.keymap.hint(a).chars().count() + 1 + label(a).chars().count();
    (words, words + 2)
}
