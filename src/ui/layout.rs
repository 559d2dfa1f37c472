//! Screen layout as a pure function of the terminal size, shared by drawing and mouse hits.
//!
//! ```text
//! ┌ chain strip: nine link boxes ─────────────────────────────┐
//! ├ tree ──────────────┬ detail (observed vs expected, fix) ───┤
//! │                    ├ events / rotation timeline ───────────┤
//! └ status bar ────────┴───────────────────────────────────────┘
//! ```

use ratatui::layout::{Constraint, Layout, Rect};

pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;
/// Height of the chain strip (boxes with a border, a title and a reason line).
pub const STRIP_HEIGHT: u16 = 4;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Areas {
    pub strip: Rect,
    pub tree: Rect,
    pub detail: Rect,
    pub events: Rect,
    pub status: Rect,
    /// One line under the strip when the source has gaps (else zero height).
    pub banner: Rect,
    /// Below 80×24: only a "terminal too small" message is drawn.
    pub too_small: bool,
}

pub fn layout(area: Rect) -> Areas {
    layout_with(area, false, 1)
}

/// The layout with a one-line gap banner under the strip when `banner` is set, and a status
/// bar of `status` lines (a long message wraps).
pub fn layout_with(area: Rect, banner: bool, status: u16) -> Areas {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return Areas {
            too_small: true,
            ..Areas::default()
        };
    }
    let [strip, banner, body, status] = Layout::vertical([
        Constraint::Length(STRIP_HEIGHT),
        Constraint::Length(u16::from(banner)),
        Constraint::Min(0),
        Constraint::Length(status.max(1)),
    ])
    .areas(area);
    // The tree gets 40% but at least 30 and at most 70 columns.
    let tree_w = (area.width * 2 / 5).clamp(30, 70);
    let [tree, right] =
        Layout::horizontal([Constraint::Length(tree_w), Constraint::Min(0)]).areas(body);
    let [detail, events] =
        Layout::vertical([Constraint::Percentage(65), Constraint::Percentage(35)]).areas(right);
    Areas {
        strip,
        tree,
        detail,
        events,
        status,
        banner,
        too_small: false,
    }
}
