//! What replaces the events pane after an action: the propagation timeline (its verdict per
//! hop once it ends, then every step), or the results of an in-container verify, one line
//! per item.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::action::timeline::{Step, StepState, Timeline, short_duration};
use crate::chain::Status;
use crate::ui::app::{App, Pane};
use crate::ui::verified::Verified;

fn status_of(state: &StepState) -> Status {
    match state {
        StepState::Waiting => Status::Pending,
        StepState::Done(_) | StepState::Unaffected(_) => Status::Ok,
        StepState::Unknown(_) => Status::Unknown,
        StepState::Never(_) | StepState::Stuck(_) => Status::Broken,
    }
}

/// A step's pod (`pod NAME`, `new pod NAME`) and the rest of its label (`mounted version`,
/// `app: CSI volume at /mnt/kv`), when its label names one.
fn split_subject(label: &str) -> Option<(&str, &str)> {
    let prefix = ["new pod ", "pod "]
        .into_iter()
        .find(|p| label.starts_with(p))?;
    let name_end = [": ", " / "]
        .into_iter()
        .filter_map(|sep| {
            let at = label[prefix.len()..].find(sep)? + prefix.len();
            Some((at, sep))
        })
        .min_by_key(|(at, _)| *at);
    let (at, sep) = name_end?;
    let rest = &label[at + sep.len()..];
    (!rest.is_empty()).then_some((&label[..at], rest))
}

/// The rows of a list of steps at `width` cells. A step's label and state share a row where
/// they fit, the state in a column when every label leaves it room; a step that does not fit
/// continues indented under its label, so no continuation reads as a step of its own. Steps
/// of one pod in a row go under a line naming it: a pod's name (`checkout-d7jg2fdwwk-rpk4g`)
/// in each label left no room for the state at 80 columns, where a fixed 28-cell label column
/// put most steps on two rows (audit UUU-time).
fn step_lines(app: &App, steps: &[Step], width: usize) -> Vec<Line<'static>> {
    let t = &app.theme;
    let parts: Vec<(Option<&str>, &str)> = steps
        .iter()
        .map(|s| match split_subject(&s.label) {
            Some((subject, rest)) => (Some(subject), rest),
            None => (None, s.label.as_str()),
        })
        .collect();
    // The column the states start at: the longest label's end, when it leaves a state room.
    let indent = |subject: Option<&str>| if subject.is_some() { 2 } else { 0 };
    let column = (parts.iter())
        .map(|(subject, label)| indent(*subject) + super::hang::cells(label))
        .max()
        .unwrap_or(0);
    let column = (column + 2 + STATE_ROOM <= width).then_some(column);
    let mut lines = Vec::new();
    let mut last_subject: Option<&str> = None;
    for (step, (subject, label)) in steps.iter().zip(&parts) {
        if let Some(subject) = subject
            && last_subject != Some(*subject)
        {
            lines.extend(super::hang::wrap(&Line::raw(subject.to_string()), width, 2));
        }
        last_subject = *subject;
        let lead = " ".repeat(indent(*subject));
        let hang = indent(*subject) + 2;
        let used = indent(*subject) + super::hang::cells(label);
        let gap = column.map_or(2, |c| c.saturating_sub(used) + 2);
        let state = step.state.describe();
        let style = t.status(status_of(&step.state));
        // The state's head (`✓ at +1m41s`, `✗ never`) is never cut: where it does not fit
        // after the label's last row, the state starts a row of its own.
        let head = state.split(" — ").next().unwrap_or_default();
        let label_rows = super::hang::wrap(&Line::raw(format!("{lead}{label}")), width, hang);
        let last = label_rows.last().map_or(0, Line::width);
        if last + gap + super::hang::cells(head) <= width {
            let line = Line::from(vec![
                Span::raw(format!("{lead}{label}{}", " ".repeat(gap))),
                Span::styled(state, style),
            ]);
            lines.extend(super::hang::wrap(&line, width, hang));
        } else {
            lines.extend(label_rows);
            let line = Line::styled(format!("{}{state}", " ".repeat(hang)), style);
            lines.extend(super::hang::wrap(&line, width, hang));
        }
    }
    lines
}

/// The cells a state needs beside its label for the labels to line up (`✓ at +1m52s`).
const STATE_ROOM: usize = 12;

/// The rows the result shown in the events pane (a timeline or `x` results) needs at `width`
/// columns, its borders included; `None` when none is shown.
pub fn rows(app: &App, width: u16) -> Option<u16> {
    let inner = width.saturating_sub(2).max(1);
    let lines = match (&app.verified, &app.timeline) {
        (Some(v), _) => verified_lines(app, v, usize::from(inner)),
        (None, Some(tl)) => timeline_lines(app, tl, usize::from(inner)),
        (None, None) => return None,
    };
    let n = Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .line_count(inner);
    Some(u16::try_from(n).unwrap_or(u16::MAX).saturating_add(2))
}

pub fn draw_timeline(f: &mut Frame, area: Rect, app: &App, tl: &Timeline) -> u16 {
    let width = usize::from(area.width.saturating_sub(2)).max(1);
    let lines = timeline_lines(app, tl, width);
    let state = if tl.finished { "done" } else { "watching" };
    // The object in the title, the progress in the bottom border with the way out: a title
    // holding both was cut at 80 columns before it said whether the watch was done.
    let title = format!(" {} ", tl.title);
    let (elapsed, deadline) = (short_duration(tl.elapsed), short_duration(tl.deadline));
    let progress = move |shown: Option<(usize, usize, usize)>| match shown {
        None => vec![format!(" +{elapsed} of {deadline} · {state} · esc closes ")],
        // Longest first: the first that fits the border is drawn.
        Some((first, last, total)) => vec![
            format!(
                " +{elapsed} of {deadline} · {state} · lines {first}–{last} of {total} · esc closes "
            ),
            format!(" +{elapsed} · {state} · lines {first}–{last} of {total} · esc closes "),
            format!(" +{elapsed} · {state} · lines {first}–{last}/{total} · esc closes "),
            format!(" +{elapsed} · {state} · lines {first}–{last}/{total} · esc "),
        ],
    };
    draw_closable(f, area, app, title, progress, lines)
}

/// The timeline's lines at `width` cells: its verdict once it ended, then every step.
fn timeline_lines(app: &App, tl: &Timeline, width: usize) -> Vec<Line<'static>> {
    let t = &app.theme;
    let mut lines: Vec<Line> = Vec::new();
    if tl.finished && !tl.verdict.is_empty() {
        lines.push(Line::styled("verdict", t.title()));
        lines.extend(step_lines(app, &tl.verdict, width));
        if let Some(next) = &tl.follow_up {
            let next = Line::styled(next.clone(), t.accent());
            lines.extend(super::hang::wrap(&next, width, 2));
        }
        lines.push(Line::styled("steps", t.title()));
    }
    lines.extend(step_lines(app, &tl.steps, width));
    lines
}

pub fn draw_verified(f: &mut Frame, area: Rect, app: &App, v: &Verified) -> u16 {
    let width = usize::from(area.width.saturating_sub(2)).max(1);
    let lines = verified_lines(app, v, width);
    let bottom = |shown: Option<(usize, usize, usize)>| match shown {
        None => vec![" esc closes ".to_string()],
        Some((first, last, total)) => vec![
            format!(" lines {first}–{last} of {total} · esc closes "),
            format!(" lines {first}–{last}/{total} · esc "),
        ],
    };
    draw_closable(f, area, app, format!(" {} ", v.title), bottom, lines)
}

/// `x` results at `width` cells, one item a line, continued under its text, not under its
/// symbol, like the timeline's steps.
fn verified_lines(app: &App, v: &Verified, width: usize) -> Vec<Line<'static>> {
    let t = &app.theme;
    (v.items.iter())
        .flat_map(|(status, text)| {
            let line = Line::from(vec![
                Span::styled(format!("{} ", status.symbol()), t.status(*status)),
                Span::raw(text.clone()),
            ]);
            super::hang::wrap(&line, width, 2)
        })
        .collect()
}

/// The events pane while it shows an action's result: titled, scrollable, `esc` closes it.
/// `bottom` words the bottom border, given which lines show (first, last, of) when the
/// result is taller than the pane — the first of its wordings that fits: a verdict cut at the
/// pane's edge read as whole (audit VVV-time). Returns the scroll offset drawn at (bounded to
/// the content).
fn draw_closable(
    f: &mut Frame,
    area: Rect,
    app: &App,
    title: String,
    bottom: impl Fn(Option<(usize, usize, usize)>) -> Vec<String>,
    lines: Vec<Line>,
) -> u16 {
    let t = &app.theme;
    let p = Paragraph::new(lines).wrap(Wrap { trim: false });
    let total = p.line_count(area.width.saturating_sub(2).max(1));
    let scroll = super::scroll::clamp(&p.clone().block(Block::bordered()), area, app.events_scroll);
    let shown = usize::from(area.height.saturating_sub(2));
    let lines = (total > shown).then(|| {
        let first = usize::from(scroll) + 1;
        (first, (usize::from(scroll) + shown).min(total), total)
    });
    let room = usize::from(area.width.saturating_sub(2));
    let wordings = bottom(lines);
    let said = (wordings.iter())
        .find(|w| super::hang::cells(w) <= room)
        .or(wordings.last())
        .cloned()
        .unwrap_or_default();
    let block = Block::bordered()
        .title(title)
        .title_bottom(Line::styled(said, t.muted()))
        .border_style(t.border(app.focus == Pane::Events))
        .title_style(t.title());
    f.render_widget(p.block(block).scroll((scroll, 0)), area);
    scroll
}
