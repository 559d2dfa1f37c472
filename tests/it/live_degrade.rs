//! Degrading, not failing: a 403 makes only the affected collection unknown (per namespace
//! when namespaced), a missing CRD is a fact, and a permission granted later is picked up.

use std::sync::Arc;
use std::time::Duration;

use crate::live_support::*;
use kvchain::snapshot::{Observed, Snapshot};
use kvchain::source::live::{LiveSource, Scope};
use kvchain::source::{Source, SourceEvent};
use tokio::sync::mpsc;

async fn snapshot(api: &FakeApi, scope: Scope) -> Snapshot {
    let server = api.serve().await;
    let live =
        LiveSource::new(client(&server), "aks-test", scope, no_azure()).with_options(options());
    tokio::time::timeout(Duration::from_secs(15), live.snapshot())
        .await
        .expect("a 403 or a missing CRD must not stall the snapshot")
}

#[tokio::test]
async fn forbidden_secrets_in_a_namespace_make_only_secrets_there_unknown() {
    let api = world();
    api.forbid("/api/v1/namespaces/payments/secrets");
    let snap = snapshot(&api, Scope::Namespace(NS.into())).await;
    // (The by-name read is refused too, and said beside it: live_merged_gaps.rs.)
    assert!(
        snap.secrets
            .unknown_in(NS)
            .is_some_and(|why| why.starts_with("cannot list secrets in payments: forbidden")),
        "{:?}",
        snap.secrets.gaps
    );
    assert!(snap.secrets.items.is_empty());
    assert_eq!(
        snap.secrets.unknown_in("other"),
        None,
        "only that namespace"
    );
    // Everything else is still known.
    assert!(snap.pods.gaps.is_empty() && snap.pods.items.len() == 1);
    assert!(snap.spcs.gaps.is_empty() && snap.spcs.items.len() == 2);
    assert!(snap.spc_statuses.gaps.is_empty());
    assert!(snap.cluster.csi_driver.known().is_some());
}

#[tokio::test]
async fn forbidden_secrets_make_the_sync_link_unknown_not_broken() {
    use kvchain::chain::{LinkKind, Status};
    let api = world();
    api.forbid("/api/v1/namespaces/payments/secrets");
    let snap = snapshot(&api, Scope::Namespace(NS.into())).await;
    let chains = kvchain::chain::diagnose(&snap);
    let chain = chains
        .iter()
        .find(|c| c.pod == POD && c.spc == "azure-sync")
        .expect("the pod's chain");
    let sync = chain.link(LinkKind::Sync);
    assert_eq!(sync.status, Status::Unknown, "{sync:?}");
    assert!(
        sync.facts
            .iter()
            .any(|f| format!("{f:?}").contains("cannot list secrets in payments: forbidden")),
        "{sync:?}"
    );
    // The links that do not depend on Secrets are still judged.
    assert_ne!(chain.link(LinkKind::Pod).status, Status::Unknown);
}

#[tokio::test]
async fn no_cluster_wide_secret_access_falls_back_to_reads_by_name() {
    // Common RBAC: Secrets readable per namespace, not listable cluster-wide. The chains'
    // Secrets are still read by name, so nothing they need is unknown.
    let api = world();
    api.forbid("/api/v1/secrets");
    let snap = snapshot(&api, Scope::All).await;
    assert!(snap.secrets.gaps.is_empty(), "{:?}", snap.secrets.gaps);
    let mut names: Vec<_> = snap.secrets.items.iter().map(|s| s.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["foosecret", "legacy-synced"]);
}

#[tokio::test]
async fn no_secret_access_at_all_is_unknown_where_the_chains_need_it() {
    let api = world();
    api.forbid("/api/v1/secrets");
    api.forbid("/api/v1/namespaces/payments/secrets");
    let snap = snapshot(&api, Scope::All).await;
    assert_eq!(
        snap.secrets.unknown_in(NS),
        Some("cannot get secrets in payments: forbidden")
    );
    assert!(snap.secrets.items.is_empty());
    assert_eq!(snap.pods.items.len(), 1);
}

#[tokio::test]
async fn missing_driver_crds_are_facts_not_crashes() {
    let api = world();
    api.remove_collection(SPCS);
    api.remove_collection(SPCPS);
    api.replace_silently(CSI_DRIVERS, Vec::new());
    let snap = snapshot(&api, Scope::All).await;
    assert_eq!(
        snap.spcs.gaps.all.as_deref(),
        Some("CRD secretproviderclasses.secrets-store.csi.x-k8s.io not installed")
    );
    assert_eq!(
        snap.spc_statuses.gaps.all.as_deref(),
        Some("CRD secretproviderclasspodstatuses.secrets-store.csi.x-k8s.io not installed")
    );
    assert_eq!(snap.pods.items.len(), 1);
    let csi = snap
        .cluster
        .csi_driver
        .known()
        .expect("known: the CSIDriver object is absent");
    // The add-on DaemonSet still exists in this world, so the driver counts as installed, but
    // without its CSIDriver object kubelet requests no tokens for it: known, and empty.
    assert!(csi.installed);
    assert_eq!(csi.token_audiences, Observed::Known(Vec::new()));
}

#[tokio::test]
async fn unreadable_cluster_facts_are_unknown_with_reason() {
    let api = world();
    api.forbid("/.well-known");
    api.forbid("/apis/storage.k8s.io/v1/csidrivers");
    api.forbid("/apis/apps/v1/namespaces/kube-system/daemonsets");
    api.forbid("/apis/admissionregistration.k8s.io");
    let snap = snapshot(&api, Scope::All).await;
    assert_eq!(
        snap.cluster.oidc_issuer,
        Observed::unknown("cannot get /.well-known/openid-configuration: forbidden")
    );
    assert!(snap.cluster.tenant_id.unknown_reason().is_some());
    assert_eq!(
        snap.cluster.workload_identity_webhook.unknown_reason(),
        Some("cannot list mutatingwebhookconfigurations at the cluster scope: forbidden")
    );
    // Both refused reads, each with its own confirm (audit SS4): the DaemonSets are not hidden
    // behind the CSIDriver.
    assert_eq!(
        snap.cluster.csi_driver.unknown_reason(),
        Some(
            "cannot get csidrivers at the cluster scope: forbidden; cannot list daemonsets in kube-system: forbidden"
        )
    );
    assert_eq!(snap.pods.items.len(), 1);
}

#[tokio::test]
async fn permission_granted_later_fills_the_gap() {
    let api = world();
    api.forbid("/api/v1/namespaces/payments/secrets");
    let server = api.serve().await;
    let src = LiveSource::new(
        client(&server),
        "aks-test",
        Scope::Namespace(NS.into()),
        no_azure(),
    )
    .with_options(options());
    let (etx, mut erx) = mpsc::unbounded_channel();
    let (_ctx, crx) = mpsc::unbounded_channel();
    tokio::spawn(Box::new(src).run(etx, crx));
    let mut next = async |pred: &dyn Fn(&Snapshot) -> bool| -> Arc<Snapshot> {
        loop {
            let ev = tokio::time::timeout(Duration::from_secs(20), erx.recv())
                .await
                .expect("snapshot in time")
                .expect("source running");
            if let SourceEvent::Snapshot(s) = ev
                && pred(&s)
            {
                return s;
            }
        }
    };
    next(&|s| s.secrets.unknown_in(NS).is_some()).await;
    api.allow("/api/v1/namespaces/payments/secrets");
    let s = next(&|s| s.secrets.gaps.is_empty() && s.secrets.items.len() == 2).await;
    assert!(s.secrets.items.iter().any(|x| x.name == "foosecret"));
}

/// Audit FFF6 (README: a kind that gets no answer in time is a gap naming its request): one
/// hung cluster-fact request (the CSIDriver get, no `--request-timeout`) leaves the facts that
/// answered known, and the one it holds back says which request it waits for.
#[tokio::test]
async fn a_hung_cluster_fact_request_blanks_only_its_fact_and_is_named() {
    let api = world();
    api.hang_path("/apis/storage.k8s.io/v1/csidrivers");
    let server = api.serve().await;
    let mut opts = options();
    opts.startup_deadline = Duration::from_secs(2);
    let live =
        LiveSource::new(client(&server), "aks-test", Scope::All, no_azure()).with_options(opts);
    let snap = tokio::time::timeout(Duration::from_secs(15), live.snapshot())
        .await
        .expect("the deadline ends the wait");
    assert_eq!(
        snap.cluster.csi_driver.unknown_reason(),
        Some("not listed within 2s: get csidrivers: no answer yet")
    );
    assert!(
        snap.cluster.oidc_issuer.known().is_some(),
        "{:?}",
        snap.cluster.oidc_issuer
    );
    assert_eq!(
        snap.cluster.workload_identity_webhook,
        Observed::Known(true)
    );
    // (This fake serves no nodes: a 404, answered, is said as such, not as the deadline.)
    assert!(
        snap.cluster
            .nodes
            .unknown_reason()
            .is_none_or(|r| !r.contains("not listed")),
        "{:?}",
        snap.cluster.nodes
    );
}
