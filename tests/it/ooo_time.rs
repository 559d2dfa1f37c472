//! Audit OOO-time: how kvchain judges time — events older than the latest success signal,
//! tenants, nodes and the synced Secret's life — against FACTS §1, §3, §4, §11 and the
//! README's sections on events, rotation and the synced Secret. The lab scenarios live in
//! tests/fixtures/lab/ooo-time-*.yaml (written from docs/scenarios.md's format); their vault
//! values are canaries that no output may show.

use serde_json::json;

use super::live_history::{DENIED, access_link, rotation_event};
use crate::live_support::*;

/// A core/v1 Event as some writers leave it: `firstTimestamp` and no `lastTimestamp`, no
/// `eventTime`, no `series`, and `count` 1 (or unset). Kubernetes' Event API: `count` is "the
/// number of times this event has occurred" and `lastTimestamp` "the time at which the most
/// recent occurrence of this event was recorded" — one occurrence is its own most recent one,
/// so it happened at `firstTimestamp`. FACTS §11: a rotation failure older than a later
/// `SecretRotationComplete` describes a past state; it is history, not a finding.
#[tokio::test]
async fn a_once_seen_event_without_last_timestamp_ages_by_its_first_timestamp() {
    let api = world();
    let mut failed = rotation_event("MountRotationFailed", "Warning", DENIED, 600);
    let e = failed.as_object_mut().unwrap();
    e.remove("lastTimestamp");
    e.insert("count".into(), json!(1));
    api.add(EVENTS, failed);
    api.add(
        EVENTS,
        rotation_event(
            "SecretRotationComplete",
            "Normal",
            "successfully rotated K8s secret foosecret",
            5,
        ),
    );
    let access = access_link(&api).await;
    assert!(access.findings.is_empty(), "{access:#?}");
    assert!(
        access.facts.iter().any(|f| f.label == "history (KVC501)"),
        "{access:#?}"
    );
}
