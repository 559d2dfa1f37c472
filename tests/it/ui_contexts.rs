//! `:ctx` in the TUI, like k9s: it asks the source to list or switch contexts, keeps the
//! filter and the theme, and the status bar names the context of the latest snapshot.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kvchain::chain::Chain;
use kvchain::snapshot::{Snapshot, SourceKind};
use kvchain::source::SourceCommand;
use kvchain::ui::app::{App, AppEvent, Effect};
use kvchain::ui::config::UiConfig;
use kvchain::ui::testing::{self, lab_snapshot};
use kvchain::ui::views::status::source_label;

fn live_snapshot(context: &str) -> Snapshot {
    let mut s = lab_snapshot(context);
    s.source.kind = SourceKind::Live;
    s
}

fn command(app: &mut App, line: &str) -> Vec<Effect> {
    let mut fx: Vec<Effect> = line
        .chars()
        .flat_map(|c| {
            app.update(AppEvent::Key(KeyEvent::new(
                KeyCode::Char(c),
                KeyModifiers::NONE,
            )))
        })
        .collect();
    fx.extend(app.update(AppEvent::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    ))));
    fx
}

fn asked_context(fx: &[Effect]) -> Option<Option<String>> {
    fx.iter().find_map(|e| match e {
        Effect::Command(SourceCommand::Context(c)) => Some(c.clone()),
        _ => None,
    })
}

#[test]
fn ctx_switches_keeping_filter_and_theme_and_the_status_bar_names_the_context() {
    let chains: Vec<Chain> = testing::demo_chains();
    let first = live_snapshot("aks-one");
    let mut app = App::new(first.source.clone(), UiConfig::default());
    app.update(AppEvent::Resize(100, 30));
    app.apply(Arc::new(first), chains.clone());
    assert_eq!(source_label(&app), "ctx aks-one");

    command(&mut app, ":ns shop");
    command(&mut app, ":theme light");
    assert_eq!(app.theme.name, "light");

    assert_eq!(
        asked_context(&command(&mut app, ":ctx")),
        Some(None),
        "lists"
    );
    let fx = command(&mut app, ":ctx aks-two");
    assert_eq!(asked_context(&fx), Some(Some("aks-two".into())));

    // The source's next snapshot comes from the other cluster.
    app.apply(Arc::new(live_snapshot("aks-two")), chains);
    assert_eq!(source_label(&app), "ctx aks-two");
    assert_eq!(app.filter.namespace.as_deref(), Some("shop"), "filter kept");
    assert_eq!(app.theme.name, "light", "theme kept");
}

#[test]
fn the_lab_has_no_contexts_and_asks_nothing() {
    let s = lab_snapshot("default");
    let mut app = App::new(s.source.clone(), UiConfig::default());
    app.apply(Arc::new(s), testing::demo_chains());
    let fx = command(&mut app, ":ctx aks-two");
    assert_eq!(asked_context(&fx), None);
    let (msg, _) = app.message.clone().expect("a message");
    assert!(msg.contains("no kube contexts"), "{msg}");
}
