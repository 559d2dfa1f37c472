//! Audit UUU-time: the rotation timeline, lessons and live time as a trainer sees them at
//! 80×24 — what each pane shows is there to read at that moment (README, TUI).

use std::time::Duration;

use kvchain::chain::diagnose;
use kvchain::source::Source;
use kvchain::source::lab::{self, export};
use kvchain::ui::app::{App, AppEvent};
use kvchain::ui::config::UiConfig;

/// The trainer breaks and repairs from the menu (`b`); the status bar says what that did, in
/// as many rows as it needs (README `b`: "the status line — which grows to the lines a long
/// message needs, up to three … — says what the owner's controller does with a template
/// fault"). The menu, centred on the whole screen, covered that bar's first row at 80×24:
/// the clock, the counts and the start of the message were hidden while the menu was open.
#[test]
fn the_break_menu_leaves_the_status_bar_in_view() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use kvchain::source::SourceEvent;
    use kvchain::ui::app::Level;

    let mut src = lab::open("lesson-six-hops", None).expect("built-in scenario");
    src.world_mut().advance(Duration::from_secs(60));
    let info = src.info();
    let status = src.status();
    let snap = export::snapshot(src.world_mut());
    let chains = diagnose(&snap);
    let mut app = App::new(info, UiConfig::default());
    app.update(AppEvent::Resize(80, 24));
    app.update(AppEvent::Source(SourceEvent::Lab(status)));
    app.apply(std::sync::Arc::new(snap), chains);
    app.update(AppEvent::Key(KeyEvent::new(
        KeyCode::Char('b'),
        KeyModifiers::NONE,
    )));
    let said = "applied: Change the service account's client-id annotation — on ServiceAccount shop/checkout: every pod running as it";
    app.message = Some((said.into(), Level::Info));
    for (w, h) in [(80, 24), (120, 40)] {
        app.update(AppEvent::Resize(w, h));
        let bar = app.areas().status;
        assert!(bar.height > 1, "the message wraps at {w}x{h}: {bar:?}");
        let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).unwrap();
        t.draw(|f| kvchain::ui::views::draw(f, &mut app)).unwrap();
        let screen = t.backend().to_string();
        let rows: Vec<&str> = screen.lines().collect();
        let bar_rows = rows[usize::from(bar.y)..].join("\n");
        assert!(bar_rows.contains("lab lesson-six-hops"), "{screen}");
        assert!(bar_rows.contains("applied: Change"), "{screen}");
        assert!(
            screen.contains("Break / repair"),
            "the menu is open: {screen}"
        );
    }
}
