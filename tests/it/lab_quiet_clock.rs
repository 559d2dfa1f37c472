//! The TUI diagnoses each snapshot a source sends, and its clock moves only with them. In a
//! quiet lab (rotation off: nothing polls, nothing changes) the verdicts that turn with time
//! must still arrive: `rotation-disabled` writes a new version at 1m that the mounts never
//! fetch (FACTS §4), which is KVC703 once it is older than a poll and its slack, as
//! `check --lab rotation-disabled` says. The TUI showed only KVC702 at 09:08 (audit D2): the
//! lab sent no snapshot after the rotation, so its diagnosis stayed at 09:01.

use std::time::Duration;

use kvchain::chain::Code;
use kvchain::chain::engine::Feed;
use kvchain::source::lab;
use kvchain::source::{LabControl, Source, SourceCommand, SourceEvent};
use tokio::sync::mpsc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_lab_still_moves_the_diagnosis_clock() {
    let source = lab::open("rotation-disabled", None).expect("built-in scenario");
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let (commands, commands_rx) = mpsc::unbounded_channel();
    let running = tokio::spawn(Box::new(source).run(events_tx, commands_rx));
    // The lab paused and moved by hand: past the rotation at 1m (a change: a snapshot goes
    // out), then to 5m30s, past the lag's threshold and before anything else happens (the
    // SPCPS controller's next reconcile is at 6m).
    let lab = |c: LabControl| commands.send(SourceCommand::Lab(c)).unwrap();
    lab(LabControl::Pause);
    lab(LabControl::Advance(Duration::from_secs(90)));
    tokio::time::sleep(Duration::from_millis(300)).await;
    lab(LabControl::Advance(Duration::from_secs(240)));
    let mut feed = Feed::new(None);
    let mut last_time = None;
    // A snapshot carrying the new time is due within a second or so: wait for it, generously.
    let lags =
        |feed: &Feed| (feed.chains().iter()).any(|c| c.findings().any(|f| f.code == Code::KVC703));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while let Ok(Some(e)) = tokio::time::timeout_at(deadline, events.recv()).await {
        if let SourceEvent::Snapshot(s) = e {
            last_time = Some(s.source.observed_at);
            feed.update(s);
            if lags(&feed) {
                break;
            }
        }
    }
    drop(commands);
    let _ = running.await;
    let at = last_time.expect("snapshots");
    let chains = feed.chains();
    let lagging: Vec<_> = chains
        .iter()
        .flat_map(|c| c.findings())
        .filter(|f| f.code == Code::KVC703)
        .collect();
    assert!(
        !lagging.is_empty(),
        "no KVC703 in the last diagnosis (lab time {at}): {:#?}",
        chains
            .iter()
            .flat_map(|c| c.findings())
            .map(|f| f.code)
            .collect::<Vec<_>>()
    );
}
