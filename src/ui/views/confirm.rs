//! The confirmation of an action (README "Actions": "always confirmed first with the exact
//! operation spelled out"). The dialog is sized to its text: wrapped to the terminal (up to a
//! readable width), as tall as the text needs up to the whole screen. A text taller still
//! scrolls (the keys that move the selection, or the arrows while a name is typed), and the
//! border says so and which lines show: never cut silently (audit EEE7, where a fixed box hid
//! the end of a DaemonSet's or a paused Deployment's confirmation and its "y to confirm").

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::overlay::centered;
use crate::chain::Status;
use crate::ui::app::App;
use crate::ui::keymap::UiAction;

/// The widest the dialog grows, borders included: longer lines are hard to read.
const MAX_WIDTH: u16 = 100;
/// The narrowest: room for the border's hint (`j/k scroll · y confirm · …`).
const MIN_WIDTH: u16 = 60;
/// Columns kept free beside it, so the panes behind still frame it.
const MARGIN: u16 = 4;
/// Rows under the text for a name being typed: a blank line, then the input.
const TYPED_ROWS: u16 = 2;

/// Where the dialog goes on `screen` and how much of its text shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    pub area: Rect,
    /// Rows the text takes, wrapped to the dialog.
    pub rows: u16,
    /// Rows of it in view at once.
    pub shown: u16,
}

impl Geometry {
    /// How far the text can scroll: 0 when it fits.
    pub fn max_scroll(&self) -> u16 {
        self.rows.saturating_sub(self.shown)
    }
}

fn text(prompt: &str) -> Paragraph<'_> {
    Paragraph::new(prompt).wrap(Wrap { trim: true })
}

/// The dialog for `prompt` on `screen`; `typed`: a name is typed under it.
pub fn geometry(screen: Rect, prompt: &str, typed: bool) -> Geometry {
    let extra = if typed { TYPED_ROWS } else { 0 };
    // As wide as the text (a short one stays small), within the screen and MAX_WIDTH.
    let natural = u16::try_from(prompt.chars().count()).unwrap_or(u16::MAX);
    let width = natural
        .saturating_add(2)
        .clamp(MIN_WIDTH, MAX_WIDTH)
        .min(screen.width.saturating_sub(MARGIN));
    let inner_width = width.saturating_sub(2).max(1);
    let rows = u16::try_from(text(prompt).line_count(inner_width)).unwrap_or(u16::MAX);
    let height = rows.saturating_add(extra + 2).min(screen.height);
    Geometry {
        area: centered(screen, width, height),
        rows,
        shown: height.saturating_sub(extra + 2),
    }
}

pub fn draw(f: &mut Frame, app: &App, prompt: &str, typed: Option<&str>, scroll: u16) {
    let t = &app.theme;
    let g = geometry(f.area(), prompt, typed.is_some());
    let scroll = scroll.min(g.max_scroll());
    f.render_widget(Clear, g.area);
    let scrolls = g.max_scroll() > 0;
    let how = if typed.is_some() {
        "enter confirms · esc cancels"
    } else {
        "y confirm · any other key cancels"
    };
    let hint = match (scrolls, typed.is_some()) {
        (false, _) => format!(" {how} "),
        // Typing takes the letters: only the arrows scroll then.
        (true, true) => format!(" ↑/↓ scroll · {how} "),
        (true, false) => format!(
            " {}/{} scroll · {how} ",
            app.keymap.hint(UiAction::Down),
            app.keymap.hint(UiAction::Up)
        ),
    };
    let title = if scrolls {
        format!(
            " Confirm · lines {}–{} of {} ",
            scroll + 1,
            scroll + g.shown,
            g.rows
        )
    } else {
        " Confirm ".to_string()
    };
    let block = Block::bordered()
        .title(title)
        .title_bottom(Line::styled(hint, t.muted()))
        .title_style(t.title())
        .border_style(t.status(Status::Warning))
        .style(t.base());
    let inner = block.inner(g.area);
    f.render_widget(block, g.area);
    let [body, input] = Layout::vertical([
        Constraint::Length(g.shown),
        Constraint::Length(if typed.is_some() { TYPED_ROWS } else { 0 }),
    ])
    .areas(inner);
    f.render_widget(text(prompt).scroll((scroll, 0)), body);
    if let Some(typed) = typed {
        let line = Line::from(vec![
            Span::styled("> ", t.muted()),
            Span::styled(format!("{typed}█"), t.command()),
        ]);
        f.render_widget(Paragraph::new(vec![Line::raw(""), line]), input);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCREEN: Rect = Rect::new(0, 0, 80, 24);

    #[test]
    fn a_short_text_fits_without_scrolling() {
        let g = geometry(
            SCREEN,
            "Write a new version of secret db. y to confirm",
            false,
        );
        assert_eq!((g.rows, g.shown, g.max_scroll()), (1, 1, 0));
        assert_eq!(g.area.height, 3);
        assert!(g.area.width <= 80 - MARGIN);
    }

    #[test]
    fn a_long_text_grows_to_the_screen_then_scrolls() {
        let long = "word ".repeat(600);
        let g = geometry(SCREEN, &long, false);
        assert_eq!(g.area.height, 24, "the whole screen");
        assert_eq!(g.shown, 22);
        assert!(g.max_scroll() > 0 && g.rows == g.shown + g.max_scroll());
        // A name being typed keeps its two rows under the text.
        let typed = geometry(SCREEN, &long, true);
        assert_eq!(typed.shown, 20);
    }

    #[test]
    fn the_width_follows_the_terminal_up_to_a_readable_measure() {
        let long = "word ".repeat(100);
        assert_eq!(geometry(SCREEN, &long, false).area.width, 76);
        let wide = Rect::new(0, 0, 260, 60);
        assert_eq!(geometry(wide, &long, false).area.width, MAX_WIDTH);
    }
}
