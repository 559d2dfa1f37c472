//! Audit F2, live: a pod stuck in ContainerCreating for long with its events forbidden is
//! UNDETERMINED (exit 3, README "Degrading"); with the SecretProviderClassPodStatuses
//! forbidden as well it stays so — never "0 errors" and exit 0.

use crate::live_gaps::check_in_context;
use crate::live_support::*;
use serde_json::json;

/// The world's pod, created long ago and still creating its container, with no SPCPS and no
/// events to read.
fn stuck() -> FakeApi {
    let api = world();
    let mut pod = pod("azure-sync", "Pending");
    pod["metadata"]["creationTimestamp"] = json!("2020-01-01T00:00:00Z");
    pod["status"]["containerStatuses"][0]["ready"] = json!(false);
    pod["status"]["containerStatuses"][0]["started"] = json!(false);
    pod["status"]["containerStatuses"][0]["state"] =
        json!({"waiting": {"reason": "ContainerCreating"}});
    api.replace_silently(PODS, vec![pod]);
    api.replace_silently(SPCPS, Vec::new());
    api.deny(EVENTS, None);
    api
}

#[tokio::test]
async fn a_stuck_pod_with_events_and_pod_statuses_unread_is_undetermined() {
    for also_spcps in [false, true] {
        let api = stuck();
        if also_spcps {
            api.deny(SPCPS, None);
        }
        let run = check_in_context(&api, &["-A"]).await;
        let headline = run.stdout.lines().next().unwrap_or_default();
        assert_eq!(
            run.code,
            Some(3),
            "SPCPS forbidden too: {also_spcps}\n{}\n{}",
            run.stdout,
            run.stderr
        );
        assert!(
            headline.starts_with("UNDETERMINED: 1 pod not started"),
            "SPCPS forbidden too: {also_spcps}: {headline}"
        );
    }
}
