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
    /// The lesson pane (`demo --lesson`), above the detail or the whole body's width; zero
    /// height without a lesson.
    pub lesson: Rect,
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
    let (tree, detail, events) = panes(body, DETAIL_SHARE, 0);
    Areas {
        strip,
        tree,
        detail,
        events,
        status,
        banner,
        lesson: Rect::default(),
        too_small: false,
    }
}

/// The detail's share of the right column (the events pane has the rest).
const DETAIL_SHARE: u16 = 65;

/// Tree, detail and events in the body, the detail taking `detail_share` percent of the
/// right column, or `detail_least` rows when that is more (the events pane keeping
/// [`EVENTS_LEAST`]).
fn panes(body: Rect, detail_share: u16, detail_least: u16) -> (Rect, Rect, Rect) {
    // The tree gets 40% but at least 30 and at most 70 columns.
    let tree_w = (body.width * 2 / 5).clamp(30, 70);
    let [tree, right] =
        Layout::horizontal([Constraint::Length(tree_w), Constraint::Min(0)]).areas(body);
    let [detail, events] = if detail_least == 0 {
        Layout::vertical([
            Constraint::Percentage(detail_share),
            Constraint::Percentage(100 - detail_share),
        ])
        .areas(right)
    } else {
        let share = u16::try_from(u32::from(right.height) * u32::from(detail_share) / 100)
            .unwrap_or(u16::MAX);
        let h = share
            .max(detail_least)
            .min(right.height.saturating_sub(EVENTS_LEAST));
        Layout::vertical([Constraint::Length(h), Constraint::Min(0)]).areas(right)
    };
    (tree, detail, events)
}

/// Rows the events pane keeps when the detail takes its least: its borders and one event.
const EVENTS_LEAST: u16 = 3;

/// `a` while the events pane shows an action's result (a rotation or restart timeline, `x`
/// results) taking `rows_at(width)` rows, without a lesson: the result grows to its rows, up
/// to the right column's share it takes under one ([`DETAIL_SHARE_WATCHING`]); the detail
/// gives up the rest only. At 80×24 the events pane's 35% left four lines, the verdict cut
/// after its third hop, the one that says whether a restart is needed out of view (audit
/// VVV-time).
pub fn showing_result(mut a: Areas, rows_at: impl Fn(u16) -> u16) -> Areas {
    if a.too_small {
        return a;
    }
    let column = Rect {
        height: a.detail.height + a.events.height,
        ..a.detail
    };
    let detail_least = u32::from(column.height) * u32::from(DETAIL_SHARE_WATCHING) / 100;
    let most = column.height - u16::try_from(detail_least).unwrap_or(column.height);
    let h = rows_at(column.width).clamp(a.events.height, most.max(a.events.height));
    let [detail, events] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(h)]).areas(column);
    (a.detail, a.events) = (detail, events);
    a
}

/// Rows the detail keeps under a lesson: its header, the status line and a few more.
const DETAIL_KEEPS: u16 = 5;
/// Rows the detail keeps under a lesson that spans the body (borders included): its header,
/// the link's check with what was observed and expected, and its finding's first line — what
/// each six-hops step asks to read there. Eight rows of body left it three lines at 80×24,
/// the finding out of view (audit VVV-time).
const DETAIL_KEEPS_SPANNED: u16 = 10;
/// Rows tree, detail and events keep under a lesson that spans the body.
const BODY_KEEPS: u16 = DETAIL_KEEPS_SPANNED + EVENTS_LEAST;
/// Rows the lesson keeps when it spans the body, borders included (three lines of its step;
/// its border says how to scroll the rest).
const LESSON_KEEPS: u16 = 5;
/// Rows they keep under such a lesson while the events pane shows an action's result (a
/// rotation or restart timeline, `x` results): at 80×24 the lesson would leave that pane a
/// single row (audit TTT-time, six-hops step 8), the verdict out of view while the step asks
/// to watch it. The lesson keeps three lines of its step, its border saying which and how to
/// scroll the rest; the tree keeps its column.
const BODY_KEEPS_WATCHING: u16 = 14;
/// Rows the lesson keeps then, borders included (three lines of its step), however many the
/// status bar takes: the action's message wraps it to three rows at 80×24 just as the result
/// opens, and the body's rows came out of the lesson's, leaving one line of the step that
/// says what to watch (audit UUU-time).
const LESSON_KEEPS_WATCHING: u16 = LESSON_KEEPS;
/// The detail's share while the events pane shows an action's result under a spanning
/// lesson: the result is what the step is about.
const DETAIL_SHARE_WATCHING: u16 = 40;

/// `a` with a lesson pane whose text takes `rows_at(width)` rows (borders included) at a
/// width: above the detail when it fits there with the detail keeping [`DETAIL_KEEPS`] rows,
/// else across the whole body (tree included), where a narrow terminal's detail column would
/// cut the step's instructions and what its check waits for (80×24: 4 of 13 lines).
/// `watching`: the events pane shows an action's result, which then gets the room
/// ([`BODY_KEEPS_WATCHING`]).
pub fn with_lesson(mut a: Areas, rows_at: impl Fn(u16) -> u16, watching: bool) -> Areas {
    if a.too_small {
        return a;
    }
    let above = rows_at(a.detail.width);
    if above + DETAIL_KEEPS <= a.detail.height {
        let [lesson, detail] =
            Layout::vertical([Constraint::Length(above), Constraint::Min(0)]).areas(a.detail);
        a.lesson = lesson;
        a.detail = detail;
        return a;
    }
    let body = Rect {
        width: a.tree.width + a.detail.width,
        ..a.tree
    };
    let (keeps, share, least, detail_least) = match watching {
        true => (
            BODY_KEEPS_WATCHING,
            DETAIL_SHARE_WATCHING,
            LESSON_KEEPS_WATCHING,
            0,
        ),
        false => (BODY_KEEPS, DETAIL_SHARE, LESSON_KEEPS, DETAIL_KEEPS_SPANNED),
    };
    let rows = rows_at(body.width);
    let h = rows.min(body.height.saturating_sub(keeps).max(least));
    let [lesson, rest] = Layout::vertical([Constraint::Length(h), Constraint::Min(0)]).areas(body);
    (a.tree, a.detail, a.events) = panes(rest, share, detail_least);
    a.lesson = lesson;
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Audit UUU-time: at 80×24 a message wrapping the status bar to three rows (the rotation
    /// test's own, as its timeline opens) took the body's two rows from the spanning lesson,
    /// which kept one line of its step. README (TUI, Lesson): the lesson keeps three lines
    /// while a result is shown; the panes below give up the rows.
    #[test]
    fn a_three_row_status_bar_leaves_the_watching_lesson_three_lines() {
        for status in 1..=3 {
            let a = layout_with(Rect::new(0, 0, 80, 24), false, status);
            let a = with_lesson(a, |_| 9, true);
            assert_eq!(a.lesson.height, 5, "status {status}: {a:?}");
            assert!(a.events.height >= 7, "status {status}: {a:?}");
            assert_eq!(
                a.lesson.height + a.tree.height + a.status.height + STRIP_HEIGHT,
                24
            );
        }
        // A step shorter than three lines takes only its own rows.
        let a = with_lesson(layout_with(Rect::new(0, 0, 80, 24), false, 3), |_| 4, true);
        assert_eq!(a.lesson.height, 4, "{a:?}");
    }

    /// Audit VVV-time: a spanning lesson (nothing being watched) took all but eight rows of the
    /// body at 80×24, the detail three lines; the detail keeps room for a finding, the lesson
    /// three lines, the events one, whatever the status bar takes.
    #[test]
    fn under_a_spanning_lesson_the_detail_keeps_room_for_its_finding() {
        for status in 1..=3 {
            let a = layout_with(Rect::new(0, 0, 80, 24), false, status);
            let a = with_lesson(a, |_| 12, false);
            assert_eq!(a.lesson.width, 80, "{a:?}");
            assert!(a.lesson.height >= 5, "status {status}: {a:?}");
            assert!(a.detail.height >= 9, "status {status}: {a:?}");
            assert!(a.events.height >= 3, "status {status}: {a:?}");
            assert_eq!(a.detail.height + a.events.height, a.tree.height);
        }
        // Taller, the lesson takes the rows the detail does not need.
        let a = with_lesson(
            layout_with(Rect::new(0, 0, 80, 30), false, 1),
            |_| 12,
            false,
        );
        assert_eq!(a.lesson.height, 12, "{a:?}");
        assert!(a.detail.height >= 10, "{a:?}");
    }

    /// A result shown without a lesson grows the events pane to its rows, up to 60% of the
    /// right column, and never shrinks it; any terminal height (audit VVV-time).
    #[test]
    fn a_shown_result_takes_its_rows_up_to_sixty_percent() {
        let a = layout_with(Rect::new(0, 0, 80, 24), false, 1);
        let column = a.detail.height + a.events.height;
        let small = showing_result(a, |_| 3);
        assert_eq!(small, a, "a short result leaves the layout as it was");
        let tall = showing_result(a, |_| 40);
        assert_eq!(tall.events.height, column - column * 40 / 100, "{tall:?}");
        assert_eq!(tall.detail.height + tall.events.height, column);
        let huge = layout_with(Rect::new(0, 0, 300, u16::MAX), false, 1);
        let huge = showing_result(huge, |_| u16::MAX);
        assert!(huge.events.height > huge.detail.height, "{huge:?}");
    }
}
