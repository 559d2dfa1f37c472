//! A cluster that stops answering (audit W3, W5). README "Degrading, not failing": a failing
//! or silent API server keeps the last data, and what is shown says how old it is; the
//! `…; reconnecting` status ends once the watch is back, on a quiet cluster too.

use std::sync::Arc;
use std::time::Duration;

use crate::live_support::*;
use kvchain::snapshot::{Snapshot, SourceKind};
use kvchain::source::live::{LiveOptions, LiveSource, Scope};
use kvchain::source::{Source, SourceEvent};
use kvchain::ui::app::{App, AppEvent};
use kvchain::ui::config::UiConfig;
use kvchain::ui::testing::{self, lab_snapshot};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;

/// Snapshots and status lines of a running live source.
struct Run {
    events: mpsc::UnboundedReceiver<SourceEvent>,
    _commands: mpsc::UnboundedSender<kvchain::source::SourceCommand>,
    statuses: Vec<String>,
    _server: wiremock::MockServer,
}

async fn start(api: &FakeApi, options: LiveOptions) -> Run {
    let server = api.serve().await;
    let src =
        LiveSource::new(client(&server), "aks-test", Scope::All, no_azure()).with_options(options);
    let (etx, events) = mpsc::unbounded_channel();
    let (ctx, crx) = mpsc::unbounded_channel();
    tokio::spawn(Box::new(src).run(etx, crx));
    Run {
        events,
        _commands: ctx,
        statuses: Vec::new(),
        _server: server,
    }
}

impl Run {
    /// The next event within `secs`, status lines kept.
    async fn next(&mut self, secs: u64) -> SourceEvent {
        let ev = tokio::time::timeout(Duration::from_secs(secs), self.events.recv())
            .await
            .unwrap_or_else(|_| panic!("nothing within {secs}s; statuses {:?}", self.statuses))
            .expect("source running");
        if let SourceEvent::Status(s) = &ev {
            self.statuses.push(s.clone());
        }
        ev
    }

    async fn snapshot_where(
        &mut self,
        secs: u64,
        pred: impl Fn(&Snapshot) -> bool,
    ) -> Arc<Snapshot> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if let SourceEvent::Snapshot(s) = self.next(left.as_secs().max(1)).await
                && pred(&s)
            {
                return s;
            }
        }
    }

    async fn status_where(&mut self, secs: u64, pred: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(s) = self.statuses.iter().find(|s| pred(s)) {
                return s.clone();
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            assert!(
                !left.is_zero(),
                "no such status in {secs}s: {:?}",
                self.statuses
            );
            self.next(left.as_secs().max(1)).await;
        }
    }
}

fn quick() -> LiveOptions {
    LiveOptions {
        clock_tick: Duration::from_millis(300),
        stale_after: Duration::from_secs(1),
        ..options()
    }
}

/// W3: the clock tick re-sends the same objects at a later time; the data time does not move
/// with it while the API server holds every request unanswered, and past `stale_after` the
/// snapshot says so.
#[tokio::test]
async fn a_hung_api_server_leaves_the_data_time_behind_the_clock() {
    let api = world();
    let mut run = start(&api, quick()).await;
    let first = run.snapshot_where(20, |_| true).await;
    let read = first
        .source
        .read_at
        .expect("a live snapshot says when it read");
    assert!(
        first.source.unanswered.is_none(),
        "{:?}",
        first.source.unanswered
    );

    api.hang(true);
    let hung_at = jiff::Timestamp::now();
    let silent = run
        .snapshot_where(15, |s| s.source.unanswered.is_some())
        .await;
    let last_read = silent.source.read_at.unwrap();
    // (A watch answered just before the hang may still deliver its last bytes.)
    let settled = hung_at + jiff::SignedDuration::from_secs(1);
    assert!(
        last_read >= read && last_read <= settled,
        "{last_read} vs {hung_at}"
    );
    let why = silent.source.unanswered.as_deref().unwrap();
    assert!(why.contains("no answer from the API server since"), "{why}");
    // Later ticks: the clock moves, the data time does not.
    let later = run
        .snapshot_where(10, |s| s.source.observed_at > silent.source.observed_at)
        .await;
    assert_eq!(later.source.read_at, Some(last_read));
    assert!(
        later.source.observed_at.duration_since(last_read) > jiff::SignedDuration::from_secs(1)
    );
    assert_eq!(later.pods.items, first.pods.items, "the last data is kept");
}

/// W3 in the TUI: the status bar's age is the data's, not the latest snapshot's, and the
/// line says why it grows.
#[test]
fn the_status_bar_ages_with_the_data_not_the_snapshot() {
    let mut snapshot = lab_snapshot("fake");
    snapshot.source.kind = SourceKind::Live;
    snapshot.source.label = "fake".into();
    let observed = snapshot.source.observed_at;
    snapshot.source.read_at = Some(observed - jiff::SignedDuration::from_secs(5 * 60));
    snapshot.source.unanswered = Some(
        "no answer from the API server since 12:00:00 UTC; the data shown was read then".into(),
    );
    let mut app = App::new(snapshot.source.clone(), UiConfig::default());
    app.update(AppEvent::Resize(200, 35));
    app.apply(Arc::new(snapshot), testing::demo_chains());
    let mut t = Terminal::new(TestBackend::new(200, 35)).unwrap();
    t.draw(|f| kvchain::ui::views::draw(f, &mut app)).unwrap();
    let screen = t.backend().to_string();
    let status = screen.lines().last().unwrap_or_default();
    assert!(status.contains("data 5m"), "{status}");
    assert!(
        status.contains("no answer from the API server since 12:00:00"),
        "{status}"
    );
}

/// W5: after the API server answered 500 for a while, the watches resume on a quiet cluster
/// (no event, no re-list): each kind that said `reconnecting` says `reconnected`.
#[tokio::test]
async fn reconnecting_ends_on_a_quiet_cluster_once_the_watch_is_back() {
    let api = world();
    let mut run = start(&api, quick()).await;
    run.snapshot_where(20, |_| true).await;
    // (500: the test client's own retry, kube's default, asks 503s again for minutes.)
    api.fail_every_request(Some(500));
    let failing = run
        .status_where(15, |s| s.ends_with("; reconnecting"))
        .await;
    api.fail_every_request(None);
    // Nothing is pushed: the watches come back to a cluster where nothing happens.
    let kind = failing
        .strip_prefix("watch ")
        .and_then(|s| s.split(':').next())
        .unwrap_or_else(|| panic!("a watch's failure: {failing}"))
        .to_string();
    let back = format!("watch {kind}: reconnected");
    run.status_where(40, |s| s == back).await;
}

/// W3 per kind: one kind's watch keeps failing while the others answer. The server is not
/// silent, but that kind's data is as old as its failure: past `stale_after` the snapshot
/// names the kind, since when, and why, where it said nothing but a `reconnecting` status.
#[tokio::test]
async fn one_kind_failing_while_the_others_answer_is_stale_for_that_kind() {
    let api = world();
    let mut run = start(&api, quick()).await;
    run.snapshot_where(20, |_| true).await;
    api.fail_next_watches(EVENTS, &[500; 400]);
    let stale = run
        .snapshot_where(20, |s| s.source.unanswered.is_some())
        .await;
    let why = stale.source.unanswered.as_deref().unwrap();
    assert!(
        why.starts_with("events not updated since ") && why.ends_with("; reconnecting"),
        "{why}"
    );
    assert!(why.contains("500"), "the failure is said: {why}");
    assert!(
        !why.contains("no answer from the API server"),
        "the other kinds answer: {why}"
    );
}
