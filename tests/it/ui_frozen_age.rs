//! `demo --snapshot FILE` shows a recording: its data is as old as the recording, not as the
//! moment the file was loaded. README: the status bar shows the data age, "on a live cluster
//! the time since the API server last answered"; a snapshot says when it was observed
//! (`observed_at`) and, from a live cluster, when the server last answered (`read_at`), and
//! the frozen TUI's "data age stays" that of the file (it is never refreshed).

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use kvchain::snapshot::SourceKind;
use kvchain::ui::app::{App, AppEvent};
use kvchain::ui::config::UiConfig;
use kvchain::ui::testing::{self, lab_snapshot};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// The status bar of a frozen TUI on a snapshot observed `observed_ago` and read
/// `read_ago` before now.
fn status_of_frozen(observed_ago: i64, read_ago: Option<i64>) -> String {
    status_of_frozen_from(SourceKind::Live, observed_ago, read_ago)
}

/// The same, of a snapshot recorded from a source of `kind`.
pub(crate) fn status_of_frozen_from(
    kind: SourceKind,
    observed_ago: i64,
    read_ago: Option<i64>,
) -> String {
    let mut snapshot = lab_snapshot("fake");
    snapshot.source.kind = kind;
    snapshot.source.label = "aks-prod".into();
    let now = Timestamp::now();
    snapshot.source.observed_at = now - SignedDuration::from_secs(observed_ago);
    snapshot.source.read_at = read_ago.map(|s| now - SignedDuration::from_secs(s));
    let mut app = App::new(snapshot.source.clone(), UiConfig::default());
    app.frozen = Some("frozen snapshot snap.json".into());
    app.update(AppEvent::Resize(200, 35));
    app.apply(Arc::new(snapshot), testing::demo_chains());
    let mut t = Terminal::new(TestBackend::new(200, 35)).unwrap();
    t.draw(|f| kvchain::ui::views::draw(f, &mut app)).unwrap();
    let screen = t.backend().to_string();
    screen.lines().last().unwrap_or_default().to_string()
}

#[test]
fn a_frozen_snapshot_is_as_old_as_its_observation() {
    // Recorded two and a half hours ago, loaded now.
    let status = status_of_frozen(150 * 60, None);
    assert!(status.contains("data 2h"), "{status}");
}

#[test]
fn a_frozen_snapshot_of_a_silent_cluster_is_as_old_as_its_last_answer() {
    // Recorded 2h30 ago, the API server's last answer 5h30 ago.
    let status = status_of_frozen(150 * 60, Some(330 * 60));
    assert!(status.contains("data 5h"), "{status}");
}
