//! Collections the live source reads through several requests say every refusal among them.
//! Workloads come from six kinds: each refused kind is a permission to ask for, so each is
//! named (audit Q5; README "Every such gap is listed first by `check`").

use crate::live_gaps::check_in_context;
use crate::live_support::*;
use serde_json::Value;

const REFUSED: [&str; 3] = [
    "cannot list deployments at the cluster scope: forbidden",
    "cannot list replicasets at the cluster scope: forbidden",
    "cannot list cronjobs at the cluster scope: forbidden",
];

fn three_workload_kinds_refused() -> FakeApi {
    let api = world();
    api.deny(DEPLOYMENTS, None);
    api.deny(REPLICA_SETS, None);
    api.deny(CRON_JOBS, None);
    api
}

#[tokio::test]
async fn every_refused_workload_kind_is_named() {
    let snap = snapshot_of(&three_workload_kinds_refused()).await;
    let why = snap.workloads.gaps.all.as_deref().expect("a workloads gap");
    for refused in REFUSED {
        assert!(why.contains(refused), "{refused:?} missing from {why:?}");
    }
    // The kinds that answered are not said refused.
    assert!(
        !why.contains("statefulsets") && !why.contains("list jobs"),
        "{why}"
    );
}

#[tokio::test]
async fn the_report_names_every_refused_workload_kind() {
    let run = check_in_context(&three_workload_kinds_refused(), &["-A", "-o", "json"]).await;
    let r: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}"));
    let gaps = r["gaps"].to_string();
    for refused in REFUSED {
        assert!(gaps.contains(refused), "{refused:?} missing from {gaps}");
    }
}
