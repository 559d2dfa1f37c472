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

/// The six-hops step that breaks the SPC's `objects` YAML told the class "Access and Object
/// read `?`: nothing names an object to check", while the strip beside it reads `… blocked:
/// Mount` on both (audit TTT-honest made them wait on the Mount link's KVC705: which
/// permissions and objects the chain needs is what that YAML says, and nothing went unread).
/// A lesson's text is read against the screen: it must say what the strip shows.
#[test]
fn the_six_hops_objects_step_says_what_the_strip_shows() {
    use kvchain::chain::{LinkKind, Status};
    use kvchain::source::LabControl;

    let mut src = lab::open("lesson-six-hops", None).expect("built-in scenario");
    src.world_mut().run_until_stable(Duration::from_secs(600));
    let (lesson, _) = lab::find_lesson(&src, "six-hops").expect("lesson");
    let step = (lesson.steps.iter())
        .find(|s| s.fault.as_deref() == Some("break-objects-yaml"))
        .expect("the step that breaks the objects YAML");
    src.control(&LabControl::Fault {
        id: "break-objects-yaml".into(),
        apply: true,
        target: None,
    })
    .expect("applied");
    src.world_mut().advance(Duration::from_secs(300));
    let snap = export::snapshot(src.world());
    let chains = diagnose(&snap);
    let chain = (chains.iter())
        .find(|c| c.pod.starts_with("checkout-"))
        .expect("a checkout chain");
    for kind in [LinkKind::Access, LinkKind::VaultObject] {
        let link = chain.link(kind);
        assert_eq!(link.status, Status::Pending, "{link:#?}");
        assert!(link.summary.contains("blocked"), "{link:#?}");
    }
    assert!(!step.text.contains("`?`"), "{}", step.text);
    assert!(step.text.contains("blocked"), "{}", step.text);
}
