//! The lab's break menu (README §Keys `b`, docs/scenarios.md "Trainer faults"): lessons and
//! docs name faults by id (`b, sa-client-id-mismatch, enter`), so the menu shows every id, at
//! 80 columns as at 160, beside a description that wraps whole.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kvchain::source::SourceEvent;
use kvchain::ui::app::{App, AppEvent};
use kvchain::ui::config::UiConfig;
use kvchain::ui::testing::{self, lab_snapshot, lab_status};
use kvchain::ui::views;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn menu_screen(w: u16, h: u16, speed: f64) -> String {
    let mut app = App::new(lab_snapshot("default").source, UiConfig::default());
    app.update(AppEvent::Resize(w, h));
    let mut lab = lab_status();
    lab.speed = speed;
    app.update(AppEvent::Source(SourceEvent::Lab(lab)));
    app.apply(Arc::new(lab_snapshot("default")), testing::demo_chains());
    app.update(AppEvent::Key(KeyEvent::new(
        KeyCode::Char('b'),
        KeyModifiers::NONE,
    )));
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| views::draw(f, &mut app)).unwrap();
    t.backend().to_string()
}

#[test]
fn the_break_menu_shows_every_fault_id_at_80_and_160_columns() {
    for (w, h) in [(80, 24), (160, 45)] {
        let s = menu_screen(w, h, 30.0);
        for f in lab_status().faults {
            assert!(s.contains(&f.id), "{w}x{h}: no id {}:\n{s}", f.id);
        }
        assert!(s.contains("remove the Key Vault Secrets User"), "{s}");
    }
}

#[test]
fn the_menu_title_shows_the_lab_speed_rounded() {
    let s = menu_screen(160, 45, 0.10986328125);
    assert!(s.contains("×0.11"), "{s}");
    assert!(!s.contains("0.1098"), "{s}");
}

/// An applied fault that reaches past its target says what it reaches and the target it was
/// applied through, wrapped whole (a fault on one workload keeps "— on Deployment …").
#[test]
fn an_applied_cluster_wide_fault_says_what_it_reaches() {
    let mut app = App::new(lab_snapshot("default").source, UiConfig::default());
    app.update(AppEvent::Resize(100, 30));
    let mut lab = lab_status();
    lab.faults[0].target = lab.default_target.clone();
    lab.faults[0].reach = Some("the CSI driver: every chain in the cluster".into());
    app.update(AppEvent::Source(SourceEvent::Lab(lab)));
    app.apply(Arc::new(lab_snapshot("default")), testing::demo_chains());
    app.update(AppEvent::Key(KeyEvent::new(
        KeyCode::Char('b'),
        KeyModifiers::NONE,
    )));
    let mut t = Terminal::new(TestBackend::new(100, 30)).unwrap();
    t.draw(|f| views::draw(f, &mut app)).unwrap();
    let screen = t.backend().to_string();
    let words: Vec<&str> = (screen.split(|c: char| c.is_whitespace() || "\"│║".contains(c)))
        .filter(|w| !w.is_empty())
        .collect();
    let said =
        "— on the CSI driver: every chain in the cluster (applied through Deployment payments/api)";
    let said: Vec<&str> = said.split_whitespace().collect();
    assert!(
        words.windows(said.len()).any(|w| w == said.as_slice()),
        "{screen}"
    );
}
