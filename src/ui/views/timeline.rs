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

fn step_line<'a>(app: &App, step: &Step) -> Line<'a> {
    let t = &app.theme;
    Line::from(vec![
        Span::raw(format!("{:<28} ", step.label)),
        Span::styled(step.state.describe(), t.status(status_of(&step.state))),
    ])
}

pub fn draw_timeline(f: &mut Frame, area: Rect, app: &App, tl: &Timeline) -> u16 {
    let t = &app.theme;
    let mut lines: Vec<Line> = Vec::new();
    if tl.finished && !tl.verdict.is_empty() {
        lines.push(Line::styled("verdict", t.title()));
        lines.extend(tl.verdict.iter().map(|s| step_line(app, s)));
        if let Some(next) = &tl.follow_up {
            lines.push(Line::styled(next.clone(), t.accent()));
        }
        lines.push(Line::styled("steps", t.title()));
    }
    lines.extend(tl.steps.iter().map(|s| step_line(app, s)));
    let state = if tl.finished { "done" } else { "watching" };
    let title = format!(
        " {} · +{} of {} · {state} ",
        tl.title,
        short_duration(tl.elapsed),
        short_duration(tl.deadline)
    );
    draw_closable(f, area, app, title, lines)
}

pub fn draw_verified(f: &mut Frame, area: Rect, app: &App, v: &Verified) -> u16 {
    let t = &app.theme;
    let lines: Vec<Line> = v
        .items
        .iter()
        .map(|(status, text)| {
            Line::from(vec![
                Span::styled(format!("{} ", status.symbol()), t.status(*status)),
                Span::raw(text.clone()),
            ])
        })
        .collect();
    draw_closable(f, area, app, format!(" {} ", v.title), lines)
}

/// The events pane while it shows an action's result: titled, scrollable, `esc` closes it.
/// Returns the scroll offset drawn at (bounded to the content).
fn draw_closable(f: &mut Frame, area: Rect, app: &App, title: String, lines: Vec<Line>) -> u16 {
    let t = &app.theme;
    let block = Block::bordered()
        .title(title)
        .title_bottom(Line::styled(" esc closes ", t.muted()))
        .border_style(t.border(app.focus == Pane::Events))
        .title_style(t.title());
    let p = Paragraph::new(lines)
        .block(block)
        .wrap(Wrap { trim: false });
    let scroll = super::scroll::clamp(&p, area, app.events_scroll);
    f.render_widget(p.scroll((scroll, 0)), area);
    scroll
}
