//! A live snapshot assembled from list responses shaped like the upstream examples.

use std::time::Duration;

use crate::live_support::*;
use kvchain::snapshot::{
    DriverInstall, EnvSourceObs, Fingerprint, Observed, SourceKind, VolumeSourceObs,
};
use kvchain::source::live::{LiveSource, Scope};

#[tokio::test]
async fn snapshot_from_lists_has_every_kind_cluster_facts_and_no_secret_values() {
    let api = world();
    let snap = snapshot_of(&api).await;

    assert_eq!(snap.source.kind, SourceKind::Live);
    assert_eq!(snap.source.label, "aks-test");

    // Pods: CSI wiring, SA, node, running container from the real status shape.
    assert!(snap.pods.gaps.is_empty(), "{:?}", snap.pods.gaps);
    let pod = &snap.pods.items[0];
    assert_eq!((pod.namespace.as_str(), pod.name.as_str()), (NS, POD));
    assert_eq!(pod.service_account, "workload-sa");
    assert_eq!(pod.phase, "Running");
    let VolumeSourceObs::Csi {
        driver, attributes, ..
    } = &pod.volumes[0].source
    else {
        panic!("csi volume expected: {:?}", pod.volumes)
    };
    assert_eq!(driver, "secrets-store.csi.k8s.io");
    assert_eq!(attributes["secretProviderClass"], "azure-sync");

    assert_eq!(
        snap.service_accounts
            .items
            .iter()
            .find(|s| s.name != "default")
            .expect("the workload's service account")
            .annotations["azure.workload.identity/client-id"],
        "11111111-2222-3333-4444-555555555555"
    );
    let spc = snap
        .spcs
        .items
        .iter()
        .find(|s| s.name == "azure-sync")
        .expect("spc");
    assert_eq!(spc.parsed.keyvault_name.as_deref(), Some("kv-payments"));
    assert_eq!(spc.secret_objects[0].secret_name, "foosecret");
    let st = &snap.spc_statuses.items[0];
    assert!(st.mounted);
    assert_eq!(st.objects[0].version, "b82206cb5ac249918008b0b97fd1fd66");
    assert!(st.updated_at.is_some(), "managedFields time kept");

    // Secrets: the driver's (watched by label) and the one a chain names (read by name);
    // never the unrelated one. Values are fingerprints; the driver's write time is kept.
    let mut names: Vec<_> = snap.secrets.items.iter().map(|s| s.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["foosecret", "legacy-synced"]);
    let foo = snap
        .secrets
        .items
        .iter()
        .find(|s| s.name == "foosecret")
        .unwrap();
    assert_eq!(foo.data["username"], Fingerprint::of(CANARY.as_bytes()));
    assert_eq!(
        foo.updated_at.map(|t| t.to_string()).as_deref(),
        Some("2026-11-23T09:10:00Z")
    );
    assert!(
        !api.requests().iter().any(|r| r.contains("helm-release")),
        "an unrelated Secret was read"
    );
    assert!(
        api.requests()
            .iter()
            .any(|r| r.contains("labelSelector=secrets-store.csi.k8s.io%2Fmanaged%3Dtrue")),
        "secrets are watched by the driver's label: {:?}",
        api.requests()
    );

    // Events: FailedMount kept, the unrelated Scheduled event dropped.
    assert_eq!(snap.events.items.len(), 1);
    assert_eq!(snap.events.items[0].reason, "FailedMount");

    // Workloads: the Deployment (full) and its ReplicaSet (metadata only, owner kept).
    let rs = snap
        .workloads
        .items
        .iter()
        .find(|w| w.kind == "ReplicaSet")
        .expect("rs");
    assert_eq!(rs.owners[0].name, "busybox-deployment");
    assert!(snap.workloads.items.iter().any(|w| w.kind == "Deployment"));
    let EnvSourceObs::SecretKey { secret, .. } = &pod_env_probe() else {
        unreachable!()
    };
    assert_eq!(secret, "foosecret");

    // Cluster facts.
    assert_eq!(
        snap.cluster.oidc_issuer,
        Observed::Known(ISSUER.to_string())
    );
    assert_eq!(
        snap.cluster.tenant_id,
        Observed::Known("72f988bf-86f1-41af-91ab-2d7cd011db47".to_string())
    );
    assert_eq!(
        snap.cluster.workload_identity_webhook,
        Observed::Known(true)
    );
    let csi = snap.cluster.csi_driver.known().expect("csi facts");
    assert!(csi.installed);
    assert_eq!(
        csi.token_audiences,
        Observed::Known(vec!["api://AzureADTokenExchange".to_string()])
    );
    assert_eq!(csi.rotation_enabled, Observed::Known(true));
    assert_eq!(csi.rotation_poll_interval, Duration::from_secs(120));
    assert_eq!(csi.sync_secret_enabled, Observed::Known(true));
    assert_eq!(csi.azure_provider, Observed::Known(true));
    assert_eq!(
        csi.install,
        Some(DriverInstall::AksAddon),
        "add-on DaemonSet name"
    );

    // Azure disabled: unknown with the reason, not empty.
    assert!(
        snap.azure
            .identities
            .gaps
            .all
            .as_deref()
            .unwrap_or_default()
            .contains("--no-azure")
    );

    // Canary: no secret value in the snapshot, its JSON or its Debug form.
    let dump = format!("{snap:?}\n{}", serde_json::to_string(&snap).unwrap());
    for canary in [CANARY, CANARY_NAMED, CANARY_UNRELATED, CANARY_LAST_APPLIED] {
        assert!(!dump.contains(canary), "{canary} leaked");
        use base64::Engine;
        let encoded = base64::engine::general_purpose::STANDARD.encode(canary);
        assert!(!dump.contains(&encoded), "{canary} leaked base64-encoded");
    }
}

/// The upstream Deployment's env reference, converted like the live pods are.
fn pod_env_probe() -> EnvSourceObs {
    let d: k8s_openapi::api::apps::v1::Deployment =
        serde_json::from_value(upstream("deployment-synck8s-azure.yaml", VARS)).unwrap();
    let owner = kvchain::snapshot::OwnerRef {
        kind: "Deployment".into(),
        name: "busybox-deployment".into(),
        uid: Default::default(),
        controller: true,
    };
    let p =
        kvchain::snapshot::convert::pod_from_template(owner, NS.into(), &d.spec.unwrap().template);
    p.containers[0].env[0].source.clone()
}

#[tokio::test]
async fn namespace_scope_lists_only_that_namespace() {
    let api = world();
    let server = api.serve().await;
    let live = LiveSource::new(
        client(&server),
        "aks-test",
        Scope::Namespace(NS.into()),
        no_azure(),
    )
    .with_options(options());
    let snap = live.snapshot().await;
    assert_eq!(snap.pods.items.len(), 1);
    let reqs = api.requests();
    assert!(
        reqs.iter()
            .any(|r| r.contains("/api/v1/namespaces/payments/pods?"))
    );
    assert!(
        !reqs.iter().any(|r| r.contains("/api/v1/pods?")),
        "listed pods cluster-wide"
    );
}

#[tokio::test]
async fn a_helm_installed_driver_is_told_from_its_daemonset_name() {
    let api = world();
    // The chart's DaemonSet (release csi-secrets-store) instead of the add-on's.
    let mut driver = serde_json::json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": "csi-secrets-store-secrets-store-csi-driver", "namespace": "kube-system"},
        "spec": {"selector": {"matchLabels": {"app": "secrets-store-csi-driver"}},
                 "template": {"spec": {"containers": [
                    {"name": "secrets-store", "image": "registry.k8s.io/csi-secrets-store/driver:v1.5.4",
                     "args": ["--endpoint=$(CSI_ENDPOINT)", "--enable-secret-rotation=true"]}]}}},
        "status": {"numberReady": 1, "desiredNumberScheduled": 1, "currentNumberScheduled": 1, "numberMisscheduled": 0}});
    driver["metadata"]["resourceVersion"] = serde_json::json!("1");
    api.replace_silently(DAEMON_SETS, vec![driver]);
    let server = api.serve().await;
    let live = LiveSource::new(client(&server), "aks-test", Scope::All, no_azure())
        .with_options(options());
    let snap = live.snapshot().await;
    let csi = snap.cluster.csi_driver.known().expect("csi facts");
    assert_eq!(csi.install, Some(DriverInstall::Helm));
}

/// The Secrets SecretProviderClasses name are read while pods, a big cluster's longest list,
/// are still listing; the ones only pods name follow once pods are in. Each is read once.
#[tokio::test]
async fn named_secrets_are_read_while_pods_still_list() {
    let api = world();
    // A CSI volume with a node-publish Secret: only the pods list tells its name.
    let mut p = pod("azure-sync", "Running");
    p["metadata"]["name"] = serde_json::json!("sp-creds-pod");
    p["metadata"]["uid"] = serde_json::json!("6f1c3a0e-93a4-4c1e-bd2e-0c1d2e3f4a5c");
    p["spec"]["volumes"][0]["csi"]["nodePublishSecretRef"] =
        serde_json::json!({"name": "sp-creds"});
    api.add(PODS, p);
    api.add(SECRETS, synced_secret("sp-creds", CANARY_NAMED, false));
    // The first pods list fails: the watcher lists again only after its backoff (≥ 0.8 s).
    api.fail_next_lists(PODS, &[500]);
    let snap = snapshot_of(&api).await;

    let mut names: Vec<_> = snap.secrets.items.iter().map(|s| s.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["foosecret", "legacy-synced", "sp-creds"]);
    assert_eq!(snap.pods.items.len(), 2);

    let reqs = api.requests();
    let reads = |name: &str| {
        let path = format!("/api/v1/namespaces/{NS}/secrets/{name}");
        let at: Vec<usize> = (reqs.iter().enumerate())
            .filter(|(_, r)| r.starts_with("GET ") && r.contains(&path))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(at.len(), 1, "{name} read once: {reqs:#?}");
        at[0]
    };
    let pods_listed = (reqs.iter())
        .rposition(|r| r.contains("/api/v1/pods?") && !r.contains("watch=true"))
        .expect("pods listed");
    assert!(
        reads("legacy-synced") < pods_listed,
        "the SPC's Secret is read before pods are listed again: {reqs:#?}"
    );
    assert!(
        reads("sp-creds") > pods_listed,
        "the pod's Secret is known only from the pods list: {reqs:#?}"
    );
}
