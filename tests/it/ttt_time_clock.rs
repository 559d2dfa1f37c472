//! Audit TTT-time, live clock skew: on a live cluster every time the diagnosis compares was
//! stamped by the cluster (an event's `lastTimestamp`), so "now" is the API server's clock,
//! read from the `Date` header of its answers (RFC 9110 §6.6.1), not this machine's. FACTS §11
//! "Evidence ages": a rotation failure is history only once it has not repeated for two poll
//! intervals (the fake driver polls every 2m).

use crate::live_history::{DENIED, access_link};
use crate::live_support::*;
use jiff::{SignedDuration, Timestamp};
use kvchain::chain::{Code, Status};
use serde_json::json;

/// A MountRotationFailed last seen `seconds_ago` on the server's clock, which runs `offset`
/// from this machine's.
fn failure_on_server_clock(offset: SignedDuration, seconds_ago: i64) -> serde_json::Value {
    let server_now = Timestamp::now().checked_add(offset).unwrap();
    let at = |s: i64| {
        server_now
            .checked_sub(SignedDuration::from_secs(s))
            .unwrap()
            .to_string()
    };
    json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": format!("{POD}.mountrotationfailed"), "namespace": NS},
        "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": POD, "namespace": NS,
                           "uid": "6f1c3a0e-93a4-4c1e-bd2e-0c1d2e3f4a5b"},
        "reason": "MountRotationFailed", "message": DENIED, "type": "Warning", "count": 4,
        "source": {"component": "csi-secrets-store-rotation"},
        "firstTimestamp": at(600), "lastTimestamp": at(seconds_ago)
    })
}

#[tokio::test]
async fn a_current_rotation_failure_stays_current_when_this_machine_runs_an_hour_ahead() {
    // The server's clock is an hour behind ours: its failure of 30 s ago is, on our clock,
    // an hour old — past two poll intervals, it would read as history.
    let behind = SignedDuration::from_hours(-1);
    let api = world();
    api.clock_offset(behind);
    api.add(EVENTS, failure_on_server_clock(behind, 30));
    let link = access_link(&api).await;
    assert_eq!(link.status, Status::Broken, "{link:#?}");
    assert!(
        link.findings.iter().any(|f| f.code == Code::KVC501),
        "{link:#?}"
    );
}

#[tokio::test]
async fn an_old_rotation_failure_is_history_when_this_machine_runs_an_hour_behind() {
    // The server's clock is an hour ahead: its failure of 10 minutes ago (five polls without
    // it) is, on our clock, 50 minutes in the future — never older than two polls.
    let ahead = SignedDuration::from_hours(1);
    let api = world();
    api.clock_offset(ahead);
    api.add(EVENTS, failure_on_server_clock(ahead, 600));
    let link = access_link(&api).await;
    assert!(link.findings.is_empty(), "{link:#?}");
    assert!(
        link.facts.iter().any(|f| f.label.starts_with("history")),
        "{link:#?}"
    );
}
