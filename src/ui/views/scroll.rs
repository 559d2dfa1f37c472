//! How far a bordered, wrapped pane may scroll: `G` asks for "as far as it goes" and a
//! paragraph scrolled past its end draws an empty pane, so the offset stops where the last
//! line of content sits at the bottom of the pane.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Wrap};

/// `scroll` bounded to the wrapped height of `p` (with its block) minus the pane's height:
/// the last line stays in view.
pub fn clamp(p: &Paragraph, area: Rect, scroll: u16) -> u16 {
    let inner_width = area.width.saturating_sub(2);
    scroll.min(max_scroll(p.line_count(inner_width), area.height))
}

/// `scroll` bounded for a pane of `area` whose text takes `total` rows inside its border.
pub fn clamp_rows(total: usize, area: Rect, scroll: u16) -> u16 {
    scroll.min(max_scroll(total + 2, area.height))
}

/// Which rows a bordered pane shows when its text (`total` rows inside the border) is taller
/// than it, for its bottom border: ` lines 3–12 of 40 `. None when every row shows: text cut
/// at the pane's edge with no sign read as the whole of it (audit XB-users).
pub fn shown(total: usize, area: Rect, scroll: u16) -> Option<String> {
    let rows = usize::from(area.height.saturating_sub(2));
    if total <= rows {
        return None;
    }
    let first = usize::from(scroll) + 1;
    let last = (usize::from(scroll) + rows).min(total);
    Some(format!(" lines {first}–{last} of {total} "))
}

/// Draws `lines` wrapped in `block` over `area`, scrolled by `scroll` bounded to their rows;
/// when they are taller than the pane, the bottom border says which lines show (in `mark`).
/// Returns the offset drawn, for the caller to keep.
pub fn draw_marked(
    f: &mut Frame,
    area: Rect,
    lines: Vec<Line<'_>>,
    mut block: Block<'_>,
    scroll: u16,
    mark: Style,
) -> u16 {
    let p = Paragraph::new(lines).wrap(Wrap { trim: false });
    let total = p.line_count(area.width.saturating_sub(2));
    let scroll = clamp_rows(total, area, scroll);
    if let Some(shown) = shown(total, area, scroll) {
        block = block.title_bottom(Line::styled(shown, mark).right_aligned());
    }
    f.render_widget(p.block(block).scroll((scroll, 0)), area);
    scroll
}

/// The largest useful offset: content rows (borders included) past the pane's height.
fn max_scroll(content_rows: usize, pane_rows: u16) -> u16 {
    let past = content_rows.saturating_sub(usize::from(pane_rows));
    u16::try_from(past).unwrap_or(u16::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::widgets::{Block, Wrap};

    #[test]
    fn content_shorter_than_the_pane_does_not_scroll() {
        assert_eq!(max_scroll(5, 10), 0);
        assert_eq!(max_scroll(10, 10), 0);
    }

    #[test]
    fn the_last_line_stays_at_the_bottom() {
        // 30 lines and two borders in a pane of 12 rows: 20 rows scrolled show lines 21..30.
        let lines: Vec<String> = (1..=30).map(|i| format!("line {i}")).collect();
        let p = Paragraph::new(lines.join("\n"))
            .block(Block::bordered())
            .wrap(Wrap { trim: false });
        let area = Rect::new(0, 0, 40, 12);
        assert_eq!(clamp(&p, area, 10_000), 20);
        assert_eq!(clamp(&p, area, 3), 3);
    }

    #[test]
    fn a_pane_taller_than_its_text_has_no_mark() {
        let area = Rect::new(0, 0, 40, 12);
        assert_eq!(shown(10, area, 0), None);
        assert_eq!(shown(30, area, 0).as_deref(), Some(" lines 1–10 of 30 "));
        assert_eq!(shown(30, area, 20).as_deref(), Some(" lines 21–30 of 30 "));
        assert_eq!(clamp_rows(30, area, 10_000), 20);
    }

    #[test]
    fn wrapped_lines_count_as_the_rows_they_take() {
        // One line of 100 characters in a pane 22 wide (20 inside): five rows, plus borders.
        let p = Paragraph::new("x".repeat(100))
            .block(Block::bordered())
            .wrap(Wrap { trim: false });
        assert_eq!(clamp(&p, Rect::new(0, 0, 22, 4), 10_000), 3);
    }
}
