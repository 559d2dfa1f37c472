//! The lesson pane (above the detail): the current step's text, what its check waits for,
//! and how to move on.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph, Wrap};

use crate::chain::Status;
use crate::source::lab::lesson::LessonRun;
use crate::ui::app::{App, Pane};
use crate::ui::keymap::UiAction;

/// The rows the pane needs at `width` columns (its borders included): every line of the
/// step's text and what its check waits for, wrapped.
pub fn rows(app: &App, run: &LessonRun, width: u16) -> u16 {
    let (_, lines) = content(app, run);
    let inner = width.saturating_sub(2).max(1);
    let n = paragraph(lines).line_count(inner);
    u16::try_from(n).unwrap_or(u16::MAX).saturating_add(2)
}

/// Draws the pane scrolled by `app.lesson_scroll` and returns that offset bounded to the text.
/// A step taller than the pane (80×24 gives it eleven rows at most) says on its border which
/// lines show and how to scroll them: the pane takes the focus (`shift-tab` from the tree)
/// and then the keys that move in any pane; the rest of the step was out of reach.
pub fn draw(f: &mut Frame, area: Rect, app: &App, run: &LessonRun) -> u16 {
    let t = &app.theme;
    let (title, lines) = content(app, run);
    let p = paragraph(lines);
    let total = p.line_count(area.width.saturating_sub(2).max(1));
    let scroll = super::scroll::clamp(&p.clone().block(Block::bordered()), area, app.lesson_scroll);
    let focused = app.focus == Pane::Lesson;
    let mut block = Block::bordered()
        .title(title)
        .border_style(t.border(true))
        .title_style(t.title());
    if focused {
        block = block.border_type(BorderType::Thick);
    }
    let shown = usize::from(area.height.saturating_sub(2));
    if total > shown {
        let first = usize::from(scroll) + 1;
        let last = (usize::from(scroll) + shown).min(total);
        let keys = app.keymap.hint(UiAction::Down) + "/" + &app.keymap.hint(UiAction::Up);
        let how = if focused {
            keys
        } else {
            format!("{} then {keys}", app.keymap.hint(UiAction::PrevPane))
        };
        block = block.title_bottom(Line::styled(
            format!(" {how}: lines {first}–{last} of {total} "),
            t.accent(),
        ));
    }
    f.render_widget(p.block(block).scroll((scroll, 0)), area);
    scroll
}

/// The step's lines wrapped to the pane, as [`rows`] counts them and [`draw`] draws them.
/// Zero-width spaces are taken out first: ratatui's wrap breaks at one but then lays the word
/// after it on one row however wide it is, so a run of wide characters (CJK) past one ran over
/// the border, its last character drawn on it (the property test below found it). They show
/// nothing, so nothing a reader sees is lost.
fn paragraph(mut lines: Vec<Line<'static>>) -> Paragraph<'static> {
    for span in lines.iter_mut().flat_map(|l| l.spans.iter_mut()) {
        if span.content.contains('\u{200b}') {
            span.content = span.content.replace('\u{200b}', "").into();
        }
    }
    Paragraph::new(lines).wrap(Wrap { trim: true })
}

/// What keeps the step's check from passing, when an earlier link's cause holds its link
/// back on the target's chains (`Check::blocked_by`): that link, and the fault a skipped step
/// left applied there with the keys that repair it (audit XC-left). Empty otherwise.
fn held_back(app: &App, run: &LessonRun, check: &crate::source::lab::lesson::Check) -> String {
    let Some(link) = check.blocked_by(app.chains.iter().map(|c| &**c), &run.target) else {
        return String::new();
    };
    let menu = app.keymap.hint(UiAction::LabMenu);
    let fault = (app.skipped_still_applied().into_iter())
        .find(|id| crate::source::lab::faults::find(id).is_some_and(|f| f.link == link));
    match fault {
        Some(id) => format!(
            " — blocked: the {} link breaks first, as {id} (a skipped step's) is still applied; {menu}, {id}, enter repairs it",
            link.title()
        ),
        None => format!(" — blocked: the {} link breaks first", link.title()),
    }
}

/// The pane's title and lines: the step's text, reflowed, and what its check waits for.
fn content(app: &App, run: &LessonRun) -> (String, Vec<Line<'static>>) {
    let t = &app.theme;
    let n = run.lesson.steps.len();
    let next = app.keymap.hint(UiAction::LessonNext);
    let (title, mut lines) = match run.current() {
        Some(step) => {
            let mut lines: Vec<Line> = step
                .text
                .lines()
                .map(|l| Line::raw(l.to_string()))
                .collect();
            lines.push(match &step.check {
                Some(c) => Line::from(vec![
                    Span::styled("… waiting for: ", t.status(Status::Pending)),
                    Span::styled(c.describe(), t.accent()),
                    Span::styled(held_back(app, run, c), t.status(Status::Warning)),
                    Span::styled(format!(" ({next} skips)"), t.muted()),
                ]),
                None => Line::styled(format!("{next}: next step"), t.muted()),
            });
            (
                format!(
                    " Lesson · {} · step {} of {n} ",
                    run.lesson.title,
                    run.step + 1
                ),
                lines,
            )
        }
        None => {
            // "Done" only claims success when nothing is left broken.
            let left = app.active_faults();
            let line = if left.is_empty() {
                Line::styled(
                    format!("✓ every step done. {next} closes the lesson."),
                    t.status(Status::Ok),
                )
            } else {
                Line::styled(
                    format!(
                        "! done — {} still applied: {} (b repairs). {next} closes the lesson.",
                        crate::glance::plural(left.len(), "fault"),
                        left.join(", ")
                    ),
                    t.status(Status::Warning),
                )
            };
            (
                format!(" Lesson · {} · done ", run.lesson.title),
                vec![line],
            )
        }
    };

    // Reflow: the YAML text is wrapped by hand; let the pane wrap it to its own width.
    let joined = lines
        .iter()
        .take(lines.len().saturating_sub(1))
        .map(|l| l.to_string())
        .collect::<Vec<_>>()
        .join(" ");
    if !joined.is_empty() {
        let last = lines.pop().unwrap_or_default();
        lines = vec![Line::raw(joined), last];
    }
    // Steps run on top of what skipped steps left broken: say so under the step's text.
    let left = app.skipped_still_applied();
    if run.current().is_some() && !left.is_empty() {
        let last = lines.pop().unwrap_or_default();
        lines.push(Line::styled(
            format!("! still applied from skipped steps: {}", left.join(", ")),
            t.status(Status::Warning),
        ));
        lines.push(last);
    }
    // The break menu toggles: "repair it" with the fault not applied would break it.
    let menu = app.keymap.hint(UiAction::LabMenu);
    let active = |id: &str| app.fault_active(id);
    let notes = [
        run.repair_note(active, &menu, &next),
        run.break_note(active, &menu, &next),
    ];
    for note in notes.into_iter().flatten() {
        let last = lines.pop().unwrap_or_default();
        lines.push(Line::styled(format!("! {note}"), t.status(Status::Warning)));
        lines.push(last);
    }
    (title, lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::buffer::Buffer;
    use ratatui::widgets::Widget;

    /// The case the property test below found: a zero-width space before a run of wide
    /// characters wider than the pane. Each character is drawn inside the border.
    #[test]
    fn wide_characters_after_a_zero_width_space_stay_inside_the_border() {
        let text = format!(
            "{}kv-shop-lab/checkout-db-password-{}{}\u{200b}{}",
            "\u{a0}".repeat(7),
            "kv-shop-lab/checkout-db-password-".repeat(11),
            "https://x.vault.azure.net/".repeat(3),
            "中".repeat(17)
        );
        let lines = vec![Line::raw(text), Line::raw("… waiting for: x")];
        let width = 34;
        let n = u16::try_from(paragraph(lines.clone()).line_count(width - 2)).unwrap();
        let area = Rect::new(0, 0, width, n + 2);
        let mut buf = Buffer::empty(area);
        paragraph(lines)
            .block(Block::bordered())
            .render(area, &mut buf);
        let mut inside = 0;
        for y in 1..=n {
            assert_eq!(
                buf[(width - 1, y)].symbol(),
                "│",
                "row {y} runs over the border"
            );
            inside += (1..width - 1)
                .filter(|&x| buf[(x, y)].symbol() == "中")
                .count();
        }
        assert_eq!(inside, 17);
    }

    proptest::proptest! {
        /// Audit VVV-time: a step naming a long object or URL is wrapped in the pane, not
        /// cut: drawn at any width in the rows [`rows`] counts for it, every character of
        /// the step shows, in order, its end too; wide characters and combining marks
        /// neither panic nor push text past the border.
        #[test]
        fn a_step_with_long_words_is_drawn_whole_in_the_rows_counted(
            text in crate::ui::views::hang::tests::awkward_text(),
            width in 20u16..100,
        ) {
            let lines = vec![Line::raw(text.clone()), Line::raw("… waiting for: x")];
            let inner = width - 2;
            let n = u16::try_from(paragraph(lines.clone()).line_count(inner)).unwrap();
            let area = Rect::new(0, 0, width, n + 2);
            let mut buf = Buffer::empty(area);
            paragraph(lines).block(Block::bordered()).render(area, &mut buf);
            let mut drawn = String::new();
            for y in 1..=n {
                for x in 1..width - 1 {
                    drawn.push_str(buf[(x, y)].symbol());
                }
            }
            let keep = |s: &str| -> String {
                s.chars().filter(|c| !c.is_whitespace() && *c != '\u{200b}').collect()
            };
            let said = keep(&format!("{text}… waiting for: x"));
            proptest::prop_assert_eq!(keep(&drawn), said);
        }
    }
}
