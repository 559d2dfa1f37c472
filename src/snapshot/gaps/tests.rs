use super::*;
use crate::snapshot::{AzureObs, ClusterFacts, CsiDriverFacts};

#[test]
fn unread_workloads_hide_chains_when_templates_are_among_them() {
    let hides = |reason: &str| {
        Gap {
            kind: "workloads",
            reason: reason.into(),
            ..Gap::default()
        }
        .hides_chains()
    };
    assert!(hides("cannot list deployments in shop: forbidden"));
    assert!(hides(
        "cannot list replicasets at the cluster scope: forbidden; cannot list cronjobs at \
         the cluster scope: forbidden"
    ));
    assert!(hides(
        "not listed within 1m: list statefulsets: no answer yet"
    ));
    assert!(
        hides("workloads not observed"),
        "no kind named: any may be unread"
    );
    assert!(!hides("cannot list replicasets in shop: forbidden"));
    assert!(!hides(
        "cannot list jobs in shop: forbidden; cannot list replicasets in shop: forbidden"
    ));
}

fn complete() -> Snapshot {
    Snapshot {
        cluster: ClusterFacts {
            oidc_issuer: Observed::Known("https://issuer/".into()),
            tenant_id: Observed::Known("t".into()),
            workload_identity_webhook: Observed::Known(true),
            csi_driver: Observed::Known(CsiDriverFacts {
                token_audiences: Observed::Known(vec![]),
                rotation_enabled: Observed::Known(true),
                sync_secret_enabled: Observed::Known(true),
                azure_provider: Observed::Known(true),
                placement: Observed::Known(vec![]),
                driver_pods: Observed::Known(vec![]),
                ..CsiDriverFacts::default()
            }),
            nodes: Observed::Known(vec![]),
            name: None,
            resource_group: None,
            reloader: None,
        },
        azure: AzureObs {
            identities: Coll::known(vec![]),
            vaults: Coll::known(vec![]),
            role_assignments: Coll::known(vec![]),
            objects: vec![],
            requests: 0,
            throttled: 0,
        },
        ..Snapshot::default()
    }
}

#[test]
fn a_complete_view_has_no_gaps() {
    let s = complete();
    assert_eq!(s.gaps(), vec![]);
    assert!(!s.incomplete());
}

#[test]
fn every_recorded_gap_is_listed_with_kind_place_and_reason() {
    let mut s = complete();
    s.pods.gaps.namespaces.insert(
        "payments".into(),
        "cannot list pods in payments: forbidden".into(),
    );
    s.events.gaps.all = Some("cannot list events at the cluster scope: forbidden".into());
    s.cluster.oidc_issuer = Observed::unknown("cannot get /.well-known: forbidden");
    s.azure
        .vaults
        .gaps
        .namespaces
        .insert("kv-x".into(), "cannot look up vault kv-x: 403".into());
    let gaps = s.gaps();
    let what: Vec<_> = gaps.iter().map(Gap::what).collect();
    assert_eq!(
        what,
        [
            "pods in payments",
            "events",
            "cluster.oidcIssuer",
            "azure.vaults for vault kv-x",
        ]
    );
    assert!(gaps[0].reason_says_what() && gaps[1].reason_says_what());
    assert!(!gaps[2].reason_says_what());
    assert_eq!(gaps[0].reason, "cannot list pods in payments: forbidden");
    assert!(s.incomplete(), "pods unread in payments");
}

/// README "Live clusters": pods forbidden cluster-wide narrow the view to the context's
/// namespace "and says so": every other namespace is a gap that hides chains.
#[test]
fn a_view_narrowed_to_one_namespace_is_incomplete_outside_it() {
    let mut s = complete();
    s.pods.gaps.outside = Some(crate::snapshot::Outside {
        namespace: "shop".into(),
        reason: "cannot list pods at the cluster scope: forbidden".into(),
    });
    let gaps = s.gaps();
    assert_eq!(gaps.len(), 1);
    assert_eq!(
        gaps[0].describe(),
        "pods outside namespace shop: cannot list pods at the cluster scope: forbidden"
    );
    assert!(gaps[0].hides_chains() && s.incomplete());
    assert!(!gaps[0].covers("shop") && gaps[0].covers("pay"));
    assert_eq!(s.pods.unknown_in("shop"), None);
    assert!(s.pods.unknown_in("pay").is_some());
}

#[test]
fn only_unread_pods_or_spcs_make_a_view_incomplete() {
    let mut s = complete();
    s.secrets.gaps.all = Some("cannot list secrets at the cluster scope: forbidden".into());
    s.cluster.oidc_issuer = Observed::unknown("forbidden");
    assert!(!s.incomplete(), "a link is unknown, no chain is missing");
    s.spcs.gaps.all = Some(not_installed(
        "secretproviderclasses.secrets-store.csi.x-k8s.io",
    ));
    assert!(!s.incomplete(), "a missing CRD means no SPC exists");
    s.spcs.gaps.namespaces.insert(
        "payments".into(),
        "cannot list secretproviderclasses".into(),
    );
    assert!(s.incomplete());
}

#[test]
fn a_gap_says_where_even_when_it_is_everywhere() {
    let mut s = complete();
    s.source.kind = crate::snapshot::SourceKind::Live;
    s.pods.gaps.all = Some("cannot list pods at the cluster scope: forbidden".into());
    s.spcs.gaps.namespaces.insert(
        "shop".into(),
        "cannot list secretproviderclasses in shop".into(),
    );
    s.cluster.nodes = Observed::unknown("forbidden");
    s.azure.vaults.gaps.all = Some(AZURE_DISABLED.into());
    let gaps = s.gaps();
    let described: Vec<_> = gaps.iter().map(Gap::describe).collect();
    assert_eq!(
        described,
        [
            "pods (all namespaces): cannot list pods at the cluster scope: forbidden",
            "secretproviderclasses in shop: cannot list secretproviderclasses in shop",
            "cluster.nodes: forbidden",
            "azure.vaults: Azure disabled (--no-azure)",
        ]
    );
    assert!(gaps[0].covers("shop") && gaps[0].covers("payments"));
    assert!(gaps[1].covers("shop") && !gaps[1].covers("payments"));
    assert!(!gaps[0].chosen && gaps[3].chosen, "--no-azure is a choice");
    assert_eq!(
        hiding_chains(&gaps, 5, Gap::what_where).as_deref(),
        Some("pods (all namespaces), secretproviderclasses in shop")
    );
    assert_eq!(
        hiding_chains(&gaps, 1, Gap::what_where).as_deref(),
        Some("pods (all namespaces) and 1 more")
    );
    assert_eq!(hiding_chains(&gaps[2..], 5, Gap::what_where), None);
    // Manifests cannot hold what they do not list: their gaps are the source's nature.
    s.source.kind = crate::snapshot::SourceKind::Manifests;
    assert!(s.gaps().iter().all(|g| g.chosen));
}

#[test]
fn json_shape_is_kind_namespace_reason() {
    let g = Gap {
        kind: "pods",
        namespace: Some("payments".into()),
        vault: None,
        reason: "cannot list pods in payments: forbidden".into(),
        ..Gap::default()
    };
    assert_eq!(
        serde_json::to_value(&g).unwrap(),
        serde_json::json!({"kind": "pods", "namespace": "payments",
                           "reason": "cannot list pods in payments: forbidden"})
    );
}
