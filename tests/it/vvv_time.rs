//! Audit VVV-time: what a trainer and a developer see over time at 80×24 — the detail pane
//! under a spanning lesson, the rotation timeline's stuck reasons and messages, long words.

use crossterm::event::KeyCode;
use ratatui::layout::Rect;

use super::lessons::tui::{key, screen, six_hops_started, tick};

/// The text a pane's rectangle holds on a drawn screen (one string per row).
pub(crate) fn pane(screen: &str, r: Rect) -> Vec<String> {
    (screen.lines())
        .skip(usize::from(r.y))
        .take(usize::from(r.height))
        .map(|l| {
            (l.chars())
                .skip(usize::from(r.x))
                .take(usize::from(r.width))
                .collect()
        })
        .collect()
}

/// README (TUI, Lesson): each six-hops step asks to "read the finding in the detail pane"
/// while the lesson, too tall for the detail column at 80×24, spans the tree's width. It took
/// every row but eight of the body, which left the detail three lines — its header, a blank
/// and the link's first check — and the finding the step is about out of view. The detail
/// now keeps room for its finding; the lesson keeps three lines of its step (its border says
/// how to scroll the rest).
#[test]
fn under_the_spanning_six_hops_lesson_the_detail_shows_the_finding_at_80x24() {
    let (mut app, mut src, mut rev) = six_hops_started();
    app.update(kvchain::ui::app::AppEvent::Resize(80, 24));
    let mut seen = 0;
    for step in 1..=6 {
        key(&mut app, &mut src, KeyCode::Char('n'));
        for _ in 0..12 {
            tick(&mut app, &mut src, &mut rev);
        }
        let s = screen(&mut app);
        assert!(!s.contains("CANARY"), "{s}");
        let a = app.areas();
        assert!(a.lesson.width > a.detail.width, "the lesson spans: {a:?}");
        assert!(
            a.lesson.height >= 5,
            "step {step}: the lesson keeps three lines: {a:?}\n{s}"
        );
        let detail = pane(&s, a.detail).join("\n");
        let broken = (app.selected_link()).is_some_and(|l| !l.findings.is_empty());
        if broken {
            seen += 1;
            assert!(
                detail.contains("KVC"),
                "step {step}: the detail shows its finding:\n{detail}\n---\n{s}"
            );
        }
    }
    assert!(seen >= 3, "the steps break hops: {seen}");
}
