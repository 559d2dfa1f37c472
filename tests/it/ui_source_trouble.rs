//! What the TUI says when its source is in trouble, and once it is not any more (README
//! "Degrading, not failing": unknown is not absent; "Connecting": `reconnecting …` only while
//! the server cannot be reached).

use std::sync::Arc;
use std::time::Duration;

use kvchain::snapshot::{Coll, SourceInfo, SourceKind};
use kvchain::source::SourceEvent;
use kvchain::ui::app::{App, AppEvent};
use kvchain::ui::config::UiConfig;
use kvchain::ui::testing::{self, lab_snapshot};
use kvchain::ui::views;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn screen(app: &mut App) -> String {
    let mut t = Terminal::new(TestBackend::new(app.size.width, app.size.height)).unwrap();
    t.draw(|f| views::draw(f, app)).unwrap();
    t.backend().to_string()
}

fn status_line(app: &mut App) -> String {
    screen(app).lines().last().unwrap_or_default().to_string()
}

/// The demo chains, the broken `payments/worker-5c6d-xk2p9` selected, over `events`.
fn app_over(events: Coll<kvchain::snapshot::EventObs>) -> App {
    let mut snapshot = lab_snapshot("default");
    snapshot.events = events;
    let mut app = App::new(snapshot.source.clone(), UiConfig::default());
    app.update(AppEvent::Resize(140, 35));
    app.apply(Arc::new(snapshot), testing::demo_chains());
    assert_eq!(
        app.selected_pod(),
        Some(("payments".into(), "worker-5c6d-xk2p9".into()))
    );
    app
}

#[test]
fn events_that_could_not_be_read_are_said_so_not_called_absent() {
    let mut events = Coll::known(Vec::new());
    events.gaps.namespaces.insert(
        "payments".into(),
        "cannot list events in payments: forbidden".into(),
    );
    let mut app = app_over(events);
    let shown = screen(&mut app);
    assert!(
        shown.contains("events could not be read: cannot list events in payments: forbidden"),
        "{shown}"
    );
    assert!(!shown.contains("no events for this pod"), "{shown}");

    // Unread at the cluster scope: the same.
    let mut events = Coll::known(Vec::new());
    events.gaps.all = Some("not listed within 1m: list events: 500 InternalError".into());
    let shown = screen(&mut app_over(events));
    assert!(
        shown.contains("events could not be read: not listed within 1m"),
        "{shown}"
    );
}

#[test]
fn events_read_and_none_for_the_pod_are_no_events() {
    let mut events = Coll::known(testing::demo_events());
    events
        .items
        .retain(|e| e.involved_name != "worker-5c6d-xk2p9");
    // Another namespace's gap says nothing about this one.
    events.gaps.namespaces.insert(
        "shop".into(),
        "cannot list events in shop: forbidden".into(),
    );
    let shown = screen(&mut app_over(events));
    assert!(shown.contains("no events for this pod"), "{shown}");
    assert!(!shown.contains("could not be read"), "{shown}");
}

fn live(label: &str) -> SourceInfo {
    SourceInfo {
        kind: SourceKind::Live,
        label: label.into(),
        ..lab_snapshot("x").source
    }
}

fn unreachable(attempt: u32) -> AppEvent {
    AppEvent::Source(SourceEvent::Unreachable {
        why: "cannot reach https://127.0.0.1:1 (context fake): client error (Connect)".into(),
        retry_in: Duration::from_secs(8),
        attempt,
    })
}

fn data(app: &mut App) {
    let mut snapshot = lab_snapshot("fake");
    snapshot.source = live("fake");
    app.apply(Arc::new(snapshot), testing::demo_chains());
}

#[test]
fn data_after_reconnecting_ends_the_reconnecting_status() {
    let mut app = App::new(live("fake"), UiConfig::default());
    app.update(AppEvent::Resize(140, 35));
    for attempt in 1..=4 {
        app.update(unreachable(attempt));
    }
    let before = status_line(&mut app);
    assert!(
        before.contains("reconnecting (attempt 4): cannot reach"),
        "{before}"
    );

    data(&mut app);
    let after = status_line(&mut app);
    assert!(!after.contains("reconnecting"), "{after}");
    assert!(!after.contains("cannot reach"), "{after}");
    assert!(after.contains("reconnected to fake"), "{after}");
}

#[test]
fn what_the_source_said_after_the_reconnecting_status_is_kept() {
    let mut app = App::new(live("fake"), UiConfig::default());
    app.update(AppEvent::Resize(140, 35));
    app.update(unreachable(2));
    // The connected source's own notice, sent before its first snapshot.
    let notice = "cannot list pods at the cluster scope; showing namespace shop only";
    app.update(AppEvent::Source(SourceEvent::Status(notice.into())));
    data(&mut app);
    let after = status_line(&mut app);
    assert!(after.contains(notice), "{after}");
}
