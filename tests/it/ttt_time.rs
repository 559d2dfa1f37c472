//! Audit TTT-time: evidence in time in the TUI's panes — the events pane's order, the rotation
//! timeline's wording and room — judged against FACTS §3, §4 and §11 and README (TUI). The
//! worlds are tests/fixtures/lab/sss_time/*.yaml and ttt_time/*.yaml; their vault values are
//! canaries that no screen may show.

use std::time::Duration;

use super::sss_time::{screen, tui_at};

/// FACTS §3, §11: in sss-time-rotation-halfway at 6m30s the 2m poll succeeded
/// (`SecretRotationComplete`, ≤v1.5 emits it after every successful patch step) and the 4m and
/// 6m polls failed (`MountRotationFailed`, db-password's version disabled): the failure is the
/// current evidence, the success history. The pane listed events oldest first, so at 80×24 the
/// old success filled its rows and the current failure sat below, out of view. Newest first
/// (by when each was last seen, as k9s sorts its events view by LAST SEEN), the failure is the
/// first row.
#[test]
fn the_events_pane_shows_the_newest_event_first() {
    let size = (80, 24);
    let mut app = tui_at(
        "sss-time-rotation-halfway.yaml",
        Duration::from_secs(390),
        "api",
        size,
    );
    let seen: Vec<_> = app.pod_events.iter().map(|e| e.last_seen).collect();
    assert!(seen.len() >= 2, "{:#?}", app.pod_events);
    assert!(
        seen.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {:#?}",
        app.pod_events
    );
    assert_eq!(app.pod_events[0].reason, "MountRotationFailed");
    let s = screen(&mut app, size);
    assert!(!s.contains("CANARY"), "{s}");
    let failure = s.find("MountRotationFailed");
    let success = s.find("SecretRotationComplete");
    assert!(failure.is_some(), "the current failure is in view:\n{s}");
    if let (Some(f), Some(ok)) = (failure, success) {
        assert!(f < ok, "{s}");
    }
}
