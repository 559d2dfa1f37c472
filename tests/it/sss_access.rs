//! Audit SSS-access: honesty when kvchain cannot read everything. A workload whose pods
//! cannot be created is a chain of its own, diagnosed from its pod template (README TUI
//! "Tree": "a workload's template diagnosed …"; KVC202 "the pod cannot be created"). With
//! Deployments, StatefulSets, DaemonSets or CronJobs unread such chains may be missing, as
//! they may behind unread pods: README `kvchain check` exit status 3, "'0 errors' would
//! otherwise pass for 'all healthy'". ReplicaSets and Jobs are read as metadata only (their
//! owners), so refusing them alone hides no chain.

use crate::live_gaps::{Run, assert_text_and_sarif_incomplete, check_without};
use crate::live_support::*;
use serde_json::json;

const SSS_CANARY: &str = "CANARY-sss-ac";

/// The live world with its synced Secret holding this audit's canary, no FailedMount event,
/// and Deployment `orders` whose ServiceAccount does not exist: its ReplicaSet can create no
/// pod (the API server refuses a pod naming a missing ServiceAccount), so nothing but its
/// template says it is broken.
fn uncreated_orders() -> FakeApi {
    let api = world();
    api.replace_silently(EVENTS, Vec::new());
    api.replace_silently(SECRETS, vec![synced_secret("foosecret", SSS_CANARY, true)]);
    let mut d = upstream("deployment-synck8s-azure.yaml", VARS);
    d["metadata"]["namespace"] = json!(NS);
    d["metadata"]["name"] = json!("orders");
    d["spec"]["template"]["spec"]["serviceAccountName"] = json!("orders-sa");
    api.add(DEPLOYMENTS, d);
    api
}

async fn check(api: &FakeApi, format: &str) -> Run {
    check_without(api, format, SSS_CANARY).await
}

#[tokio::test]
async fn the_broken_workload_is_found_when_deployments_can_be_read() {
    // The control: what the unread Deployment hides below is an error.
    let run = check(&uncreated_orders(), "json").await;
    let r = run.json();
    assert_eq!(run.code, Some(1), "{:#}", r["findings"]);
    assert!(
        r["chains"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["workload"] == "Deployment/orders" && c["codes"] == json!(["KVC202"])),
        "{:#}",
        r["chains"]
    );
}

#[tokio::test]
async fn deployments_unread_make_the_check_incomplete_not_clean() {
    let api = uncreated_orders();
    api.deny(DEPLOYMENTS, Some(NS));
    let run = check(&api, "json").await;
    let r = run.json();
    assert_eq!(
        run.code,
        Some(3),
        "no error seen, chains may be missing: {r:#}"
    );
    assert_eq!(r["summary"]["errors"], 0);
    assert_eq!(r["summary"]["incomplete"], true, "{}", r["summary"]);
    let gap = r["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["kind"] == "workloads")
        .unwrap_or_else(|| panic!("a workloads gap: {:#}", r["gaps"]));
    assert_eq!(gap["namespace"], NS);
    assert_eq!(gap["hides_chains"], true, "{gap}");

    assert_text_and_sarif_incomplete(&api, "workloads", SSS_CANARY).await;
}

#[tokio::test]
async fn replica_sets_alone_unread_hide_no_chain() {
    // ReplicaSets are read for their owner only: the Deployment's template is still read.
    let api = uncreated_orders();
    api.deny(REPLICA_SETS, Some(NS));
    let run = check(&api, "json").await;
    let r = run.json();
    assert_eq!(
        run.code,
        Some(1),
        "the KVC202 is still seen: {:#}",
        r["findings"]
    );
    assert!(r["summary"].get("incomplete").is_none(), "{}", r["summary"]);
    let gap = r["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["kind"] == "workloads")
        .unwrap_or_else(|| panic!("a workloads gap: {:#}", r["gaps"]));
    assert_ne!(gap["hides_chains"], true, "{gap}");
}
