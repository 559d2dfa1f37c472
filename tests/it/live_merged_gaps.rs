//! Collections the live source reads through several requests say every refusal among them.
//! Workloads come from six kinds: each refused kind is a permission to ask for, so each is
//! named (audit Q5; README "Every such gap is listed first by `check`"). Secrets come from
//! the driver's label watch plus reads by name: when the watch is refused — cluster-wide or,
//! with `-n`, in the namespace (audit Q6) — the Secrets the chains name are still read one by
//! one, "so only namespaces where even that is forbidden stay unknown" (README).

use std::time::Duration;

use crate::live_gaps::check_in_context;
use crate::live_support::*;
use kvchain::chain::{LinkKind, Status, diagnose};
use kvchain::snapshot::Snapshot;
use kvchain::source::live::{LiveSource, Scope};
use serde_json::Value;

async fn snapshot_in(api: &FakeApi, scope: Scope) -> Snapshot {
    let server = api.serve().await;
    let live =
        LiveSource::new(client(&server), "aks-test", scope, no_azure()).with_options(options());
    tokio::time::timeout(Duration::from_secs(30), live.snapshot())
        .await
        .expect("snapshot within 30s")
}

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

fn secret_names(s: &Snapshot) -> Vec<String> {
    let mut names: Vec<String> = s.secrets.items.iter().map(|x| x.name.to_string()).collect();
    names.sort();
    names
}

#[tokio::test]
async fn with_n_secrets_that_cannot_be_listed_are_read_by_name() {
    // get on Secrets, no list or watch: the common namespace role for a namespace-scoped user.
    let api = world();
    api.deny_verb(SECRETS, "list");
    api.deny_verb(SECRETS, "watch");
    let snap = snapshot_in(&api, Scope::Namespace(NS.into())).await;
    assert!(snap.secrets.gaps.is_empty(), "{:?}", snap.secrets.gaps);
    assert_eq!(secret_names(&snap), ["foosecret", "legacy-synced"]);
    let chains = diagnose(&snap);
    let chain = chains
        .iter()
        .find(|c| c.pod == POD && c.spc == "azure-sync")
        .expect("the pod's chain");
    for kind in [LinkKind::Sync, LinkKind::Consumers] {
        let link = chain.link(kind);
        assert_ne!(link.status, Status::Unknown, "{kind:?}: {link:?}");
    }
}

#[tokio::test]
async fn with_n_a_namespace_where_even_the_read_by_name_is_refused_stays_unknown() {
    let api = world();
    api.deny(SECRETS, Some(NS));
    let snap = snapshot_in(&api, Scope::Namespace(NS.into())).await;
    assert!(snap.secrets.items.is_empty());
    let why = snap.secrets.unknown_in(NS).expect("a gap in payments");
    // Either grant would make it known: both refusals are said.
    for refused in [
        "cannot list secrets in payments: forbidden",
        "cannot get secrets in payments: forbidden",
    ] {
        assert!(why.contains(refused), "{refused:?} missing from {why:?}");
    }
}
