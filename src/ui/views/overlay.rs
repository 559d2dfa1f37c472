//! Things drawn over the panes: help (generated from the key table), loading, and the
//! "terminal too small" notice. The lab's menu is in [`super::lab_menu`], an action's
//! confirmation in [`super::confirm`].

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Gauge, Paragraph, Wrap};

use crate::chain::Status;
use crate::ui::app::App;
use crate::ui::keymap::{Group, UiAction};
use crate::ui::layout::{MIN_HEIGHT, MIN_WIDTH};

pub(crate) fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let [r] = Layout::horizontal([Constraint::Length(w.min(area.width))])
        .flex(Flex::Center)
        .areas(area);
    let [r] = Layout::vertical([Constraint::Length(h.min(area.height))])
        .flex(Flex::Center)
        .areas(r);
    r
}

pub fn too_small(f: &mut Frame, app: &App) {
    let area = f.area();
    let needs = format!("kvchain needs at least {MIN_WIDTH}×{MIN_HEIGHT}");
    // The last line wraps on a narrow terminal: room for all of it (a 20-column one cut it
    // to "kvchain needs at").
    let height = 2 + needs
        .chars()
        .count()
        .div_ceil(usize::from(area.width.max(1)));
    let text = vec![
        Line::styled("Terminal too small", app.theme.title()),
        Line::raw(format!("{}×{}", area.width, area.height)),
        Line::styled(needs, app.theme.muted()),
    ];
    let r = centered(area, area.width, u16::try_from(height).unwrap_or(u16::MAX));
    f.render_widget(Paragraph::new(text).centered().wrap(Wrap { trim: true }), r);
}

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

pub fn loading(f: &mut Frame, app: &App) {
    let t = &app.theme;
    // Wide enough for "connecting to https://<server> (context <name>) · 12s"; room for a
    // two-line reason and the retry line when the server cannot be reached.
    let height = if app.unreachable.is_some() { 7 } else { 6 };
    let r = centered(f.area(), f.area().width.saturating_sub(4).min(76), height);
    f.render_widget(Clear, r);
    let block = Block::bordered()
        .title(" kvchain ")
        .title_style(t.title())
        .border_style(t.border(true));
    let inner = block.inner(r);
    f.render_widget(block, r);
    let [l1, l2] = Layout::vertical([Constraint::Length(2), Constraint::Length(1)]).areas(inner);
    if let Some(e) = &app.failed {
        f.render_widget(
            Paragraph::new(vec![Line::styled(
                format!("✗ {e}"),
                t.status(Status::Broken),
            )])
            .wrap(Wrap { trim: true }),
            inner,
        );
        return;
    }
    if let Some(u) = &app.unreachable {
        let key = app.keymap.hint(crate::ui::keymap::UiAction::Refresh);
        let next = match u.retry_at.checked_duration_since(app.now) {
            Some(d) if !d.is_zero() => format!(
                "reconnecting in {}s (attempt {} failed) · {key} retries now",
                d.as_millis().div_ceil(1000),
                u.attempt
            ),
            _ => format!("reconnecting now (attempt {})…", u.attempt + 1),
        };
        let [why, retry] =
            Layout::vertical([Constraint::Length(3), Constraint::Length(1)]).areas(inner);
        f.render_widget(
            Paragraph::new(Line::styled(
                format!("✗ {}", u.why),
                t.status(Status::Broken),
            ))
            .wrap(Wrap { trim: true }),
            why,
        );
        f.render_widget(Paragraph::new(Line::styled(next, t.accent())), retry);
        return;
    }
    let spin = SPINNER[app.spinner % SPINNER.len()];
    let stage = app
        .progress
        .as_ref()
        .map(|p| match p.total {
            Some(total) => format!("Loading {} {}/{}", p.stage, p.done, total),
            // Nothing counted yet: the stage says it all ("connecting to https://…").
            None if p.done == 0 => p.stage.clone(),
            None => format!("Loading {} {}", p.stage, p.done),
        })
        .unwrap_or_else(|| format!("Connecting to {}", super::status::source_label(app)));
    // From the first frame: a server that never answers shows as a growing number.
    let elapsed = app.now.saturating_duration_since(app.started).as_secs();
    let stage = format!("{stage} · {elapsed}s");
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(format!("{spin} "), t.accent()),
            Span::raw(stage),
        ]))
        .wrap(Wrap { trim: true }),
        l1,
    );
    if let Some(p) = &app.progress
        && let Some(total) = p.total.filter(|t| *t > 0)
    {
        let ratio = (p.done as f64 / total as f64).clamp(0.0, 1.0);
        f.render_widget(
            Gauge::default()
                .ratio(ratio)
                .gauge_style(t.accent())
                .use_unicode(true),
            l2,
        );
    }
}

/// Help, generated from the key table: what is bound is what is listed. Returns the offset it
/// is drawn scrolled by, bounded to its text: at 80×24 its columns fill the screen, and a
/// config path or the reasons keys are disabled ran past its edges, cut with no sign (audit
/// XB-users); they wrap, and a help taller than the screen scrolls and says which lines show.
pub fn help(f: &mut Frame, app: &App) -> u16 {
    let t = &app.theme;
    let area = f.area();
    let r = centered(
        area,
        area.width.saturating_sub(4).min(110),
        area.height.saturating_sub(2),
    );
    f.render_widget(Clear, r);
    let mut block = Block::bordered()
        // ctrl-z is outside the table (app::keys takes it first in every mode): said here,
        // where 80×24 has room, rather than on a row the columns have none for.
        .title(" Keys — esc closes · ctrl-z suspends (fg resumes) ")
        .title_style(t.title())
        .border_style(t.border(true))
        .style(t.base());
    let inner = block.inner(r);
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(inner);
    let group_lines = |groups: &[Group]| {
        let mut lines = Vec::new();
        for g in groups {
            if !lines.is_empty() {
                lines.push(Line::raw(""));
            }
            lines.push(Line::styled(g.title(), t.title()));
            for (action, keys) in app.keymap.bindings() {
                if action.group() != *g {
                    continue;
                }
                let keys = if keys.is_empty() {
                    "(unbound)".to_string()
                } else {
                    keys.iter()
                        .map(|k| k.to_string())
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                // Disabled actions stay listed (so users learn they exist), greyed and marked.
                let enabled = app.enabled(*action);
                let mark = if enabled { " " } else { "⊘" };
                let style = if enabled { t.base() } else { t.muted() };
                lines.push(Line::from(vec![
                    Span::styled(
                        format!("{mark}{keys:<14}"),
                        if enabled { t.accent() } else { t.muted() },
                    ),
                    Span::styled(action.description(), style),
                ]));
            }
        }
        lines
    };
    let left_lines = group_lines(&[Group::Navigate, Group::Actions]);
    let mut right_lines = group_lines(&[Group::View, Group::Lab]);
    let mut why = Vec::new();
    if app.read_only() {
        why.push("--read-only");
    }
    if app.config.no_reveal {
        why.push("--no-reveal");
    }
    if !app.is_lab() {
        why.push("lab only");
    }
    // A replayed recording greys every action (App::frozen_refuses); without this the ⊘
    // marks of a lab replay had no reason at all.
    if app.frozen.is_some() {
        why.push("frozen snapshot (demo --snapshot)");
    }
    let hint = |a: UiAction| app.keymap.hint(a);
    right_lines.push(Line::raw(""));
    // On the right, which has room to spare at 80×24.
    if !why.is_empty() {
        right_lines.push(Line::styled(
            format!("⊘ disabled: {}", why.join(", ")),
            t.muted(),
        ));
    }
    // The tree's rows that are no pod's (audit XC-tui): which keys work there. Only when the
    // tree has such rows: the default help fits 80×24 whole (XB-users), this line past it.
    if app.tree.spcs.shown > 0 {
        right_lines.push(Line::styled(
            format!(
                "spc/NAME rows of \"(SecretProviderClasses mounted by no pod)\": {} copies a fix; {}, {}, {}, {} {} do not apply (no pod)",
                hint(UiAction::CopyFix),
                hint(UiAction::Restart),
                hint(UiAction::Rotate),
                hint(UiAction::Verify),
                // No chain, no links: the link keys say so there too (audit XD-tui).
                hint(UiAction::LinkLeft),
                hint(UiAction::LinkRight)
            ),
            t.muted(),
        ));
    }
    right_lines.push(Line::styled(
        format!(
            "theme {} · config {}",
            app.theme.name,
            app.config
                .file
                .as_ref()
                .map_or("(none)".to_string(), |p| p.display().to_string())
        ),
        t.muted(),
    ));
    // How to reach what a pane cuts: said once here (on the border, as the columns fill
    // 80×24), not on every pane's; each pane's border says which of its lines show.
    block = block.title_bottom(Line::styled(
        format!(
            " {} to a pane, {}/{} scroll what it cuts ",
            hint(UiAction::NextPane),
            hint(UiAction::Down),
            hint(UiAction::Up)
        ),
        t.muted(),
    ));
    let wrap = Wrap { trim: false };
    let (left_p, right_p) = (
        Paragraph::new(left_lines).wrap(wrap),
        Paragraph::new(right_lines).wrap(wrap),
    );
    let total = left_p
        .line_count(left.width)
        .max(right_p.line_count(right.width));
    let scroll = super::scroll::clamp_rows(total, r, app.help_scroll);
    if let Some(mark) = super::scroll::shown(total, r, scroll) {
        let keys = format!("{}/{}:", hint(UiAction::Down), hint(UiAction::Up));
        block =
            block.title_bottom(Line::styled(format!(" {keys}{mark}"), t.accent()).right_aligned());
    }
    f.render_widget(block, r);
    f.render_widget(left_p.scroll((scroll, 0)), left);
    f.render_widget(right_p.scroll((scroll, 0)), right);
    scroll
}
