//! A tree over nothing is never drawn healthy (README "Degrading, not failing": unknown is not
//! absent, absent is not healthy): a cluster not reached yet, one that refuses, a namespace
//! filter that matches no chain. And a refresh says what it really does.

use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kvchain::chain::Status;
use kvchain::snapshot::{SourceInfo, SourceKind};
use kvchain::source::{SourceCommand, SourceEvent};
use kvchain::ui::app::{App, AppEvent, Effect};
use kvchain::ui::config::UiConfig;
use kvchain::ui::testing::{self, lab_snapshot};
use kvchain::ui::tree::Row;
use kvchain::ui::views;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn live_info() -> SourceInfo {
    SourceInfo {
        kind: SourceKind::Live,
        label: "dead".into(),
        ..lab_snapshot("x").source
    }
}

fn screen(app: &mut App) -> String {
    let mut t = Terminal::new(TestBackend::new(app.size.width, app.size.height)).unwrap();
    t.draw(|f| views::draw(f, app)).unwrap();
    t.backend().to_string()
}

/// The tree's first row (the root), as drawn.
fn root_line(app: &mut App) -> String {
    screen(app)
        .lines()
        .find(|l| l.contains(" dead") || l.contains("lab: "))
        .unwrap_or_default()
        .to_string()
}

fn unreachable(attempt: u32) -> AppEvent {
    AppEvent::Source(SourceEvent::Unreachable {
        why: "cannot reach https://127.0.0.1:1 (context dead): client error (Connect)".into(),
        retry_in: Duration::from_secs(8),
        attempt,
    })
}

fn ctrl_r(app: &mut App) -> Vec<Effect> {
    app.update(AppEvent::Key(KeyEvent::new(
        KeyCode::Char('r'),
        KeyModifiers::CONTROL,
    )))
}

#[test]
fn a_root_with_no_data_yet_is_unknown_not_ok() {
    let mut app = App::new(live_info(), UiConfig::default());
    app.update(AppEvent::Resize(120, 30));
    assert_eq!(
        app.tree.row_status(Row::Cluster, &app.chains),
        Status::Unknown
    );
    let root = root_line(&mut app);
    assert!(root.contains("? dead"), "{root}");
    assert!(!root.contains('✓'), "{root}");
    // Nothing was counted: no `✗0 ✓0` verdict in the status bar.
    let status = screen(&mut app)
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    assert!(!status.contains("✓0") && !status.contains("✗0"), "{status}");
}

#[test]
fn an_unreachable_cluster_is_a_gap_with_its_reason_and_says_it_reconnects() {
    let mut app = App::new(live_info(), UiConfig::default());
    app.update(AppEvent::Resize(120, 30));
    app.update(unreachable(1));
    let root = root_line(&mut app);
    assert!(
        root.contains("? dead") && root.contains("cannot reach"),
        "{root}"
    );
    assert_eq!(app.gaps.len(), 1, "the whole cluster is a gap");
    let s = screen(&mut app);
    assert!(s.contains("⚠ not seen"), "gap banner:\n{s}");
    assert!(s.contains("⚠ 1 gap"), "status bar count:\n{s}");
    assert!(
        s.contains("reconnecting in"),
        "the next attempt is announced:\n{s}"
    );
    assert!(!s.contains("source stopped"), "{s}");
}

#[test]
fn refresh_while_unreachable_retries_the_connection_and_says_so() {
    let mut app = App::new(live_info(), UiConfig::default());
    app.update(unreachable(3));
    let fx = ctrl_r(&mut app);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Command(SourceCommand::Refresh))),
        "{fx:?}"
    );
    let (msg, _) = app.message.clone().expect("a message");
    assert!(msg.contains("retrying the connection now"), "{msg}");
    // Data arriving ends the outage: the gap and the retry state go.
    app.apply(Arc::new(lab_snapshot("default")), testing::demo_chains());
    assert!(app.unreachable.is_none() && app.gaps.is_empty());
}

#[test]
fn refresh_on_a_stopped_source_does_not_claim_a_refresh() {
    let mut app = App::new(live_info(), UiConfig::default());
    app.update(AppEvent::Source(SourceEvent::Failed("boom".into())));
    ctrl_r(&mut app);
    let (msg, _) = app.message.clone().expect("a message");
    assert!(!msg.contains("refresh requested"), "{msg}");
    assert!(msg.contains("stopped"), "{msg}");
}

#[test]
fn a_namespace_with_no_chains_draws_an_unknown_root_with_the_reason() {
    let mut app = App::new(lab_snapshot("default").source, UiConfig::default());
    app.update(AppEvent::Resize(120, 30));
    app.apply(Arc::new(lab_snapshot("default")), testing::demo_chains());
    assert_ne!(
        app.tree.row_status(Row::Cluster, &app.chains),
        Status::Unknown
    );
    for c in ":ns nosuch".chars() {
        app.update(AppEvent::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::NONE,
        )));
    }
    app.update(AppEvent::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    assert_eq!(
        app.tree.row_status(Row::Cluster, &app.chains),
        Status::Unknown
    );
    let root = root_line(&mut app);
    assert!(root.contains("? lab: default"), "{root}");
    // The snapshot holds no object in it, not even a default ServiceAccount: not there.
    assert!(root.contains("no namespace nosuch"), "{root}");
    assert!(!root.contains('✓'), "{root}");
}

/// The tree pane's text, its wrapped lines joined (the pane is the left 40%, at most 70).
pub(crate) fn tree_text(app: &mut App) -> String {
    let width = (app.size.width * 2 / 5).clamp(30, 70);
    let mut t = Terminal::new(TestBackend::new(app.size.width, app.size.height)).unwrap();
    t.draw(|f| views::draw(f, app)).unwrap();
    let buf = t.backend().buffer();
    let lines: Vec<String> = (0..app.size.height)
        .map(|y| {
            let inside: String = (1..width - 1).map(|x| buf[(x, y)].symbol()).collect();
            inside.trim().to_string()
        })
        .filter(|l| !l.is_empty())
        .collect();
    lines.join(" ")
}

pub(crate) fn type_keys(app: &mut App, keys: &str) {
    for c in keys.chars() {
        app.update(AppEvent::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::NONE,
        )));
    }
    app.update(AppEvent::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
}

/// Audit EEE12: `:ns nothere` with no filter set says there are no chains in that namespace
/// and how to show them all again, not "Nothing matches the filter" (none was set). With a
/// filter as well, the line names both, as esc clears both.
#[test]
fn an_empty_namespace_says_so_and_how_to_show_all() {
    let mut app = App::new(lab_snapshot("default").source, UiConfig::default());
    app.update(AppEvent::Resize(120, 30));
    app.apply(Arc::new(lab_snapshot("default")), testing::demo_chains());
    type_keys(&mut app, ":ns nothere");
    let s = tree_text(&mut app);
    assert!(!s.contains("Nothing matches the filter"), "{s}");
    assert!(
        s.contains("Namespace nothere does not exist (:ns with no name or esc shows all)"),
        "{s}"
    );
    // :ns with no name does show them all.
    type_keys(&mut app, ":ns");
    assert!(app.filter.namespace.is_none());
    assert!(!screen(&mut app).contains("No chains in namespace"));
    // A filter and a namespace: both named.
    type_keys(&mut app, ":ns nothere");
    type_keys(&mut app, "/zzz");
    let s = tree_text(&mut app);
    assert!(
        s.contains("Nothing in namespace nothere matches the filter (esc clears both)"),
        "{s}"
    );
}

/// The no-cluster notice is sized to its text: its last line ("… for the lab.") is inside the
/// box at 80 and 120 columns, however long the list of places looked in.
#[test]
fn the_no_cluster_notice_shows_its_last_line_whole() {
    for w in [80, 120] {
        let mut app = App::new(lab_snapshot("default").source, UiConfig::default());
        app.update(AppEvent::Resize(w, 30));
        app.apply(Arc::new(lab_snapshot("default")), testing::demo_chains());
        app.lab_fallback(
            "KUBECONFIG file /tmp/audit8/missing.yaml (no such file); the in-cluster service \
             account (KUBERNETES_SERVICE_HOST not set: not in a pod)",
        );
        let s = screen(&mut app);
        let last = s
            .lines()
            .position(|l| l.contains("any key continues"))
            .expect("the box's bottom border");
        let above = s.lines().nth(last - 1).unwrap_or_default();
        assert!(above.contains("lab."), "{w} columns:\n{s}");
    }
}

/// Key hints that do not fit are dropped whole: never `q qu` or `y copy f`.
#[test]
fn status_hints_are_whole_or_absent() {
    for w in [80u16, 100, 120] {
        let mut app = App::new(lab_snapshot("default").source, UiConfig::default());
        app.update(AppEvent::Resize(w, 30));
        app.apply(Arc::new(lab_snapshot("default")), testing::demo_chains());
        let s = screen(&mut app);
        let bar = s
            .lines()
            .last()
            .unwrap_or_default()
            .trim_end_matches(['"', ' '])
            .to_string();
        let whole = [
            "help",
            "filter",
            "link",
            "copy fix",
            "restart",
            "rotate",
            "break/repair",
            "quit",
        ];
        assert!(
            whole.iter().any(|h| bar.ends_with(h)),
            "{w} columns: the bar ends mid-hint: {bar:?}"
        );
    }
}
