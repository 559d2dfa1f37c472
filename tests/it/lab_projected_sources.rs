//! A projected volume's `secret` and `configMap` sources in the lab's kubelet, as Kubernetes'
//! projected volume plugin reads them (pkg/volume/projected collectData: each source through
//! the secret/configMap plugin's payload, errors aggregated): a source whose Secret (or
//! ConfigMap) is missing fails the volume's setup with FailedMount
//! `MountVolume.SetUp failed for volume "V" : secret "NAME" not found` (`configmap "NAME" not
//! found`), as a `secret` volume does, and the pod stays in ContainerCreating; so does an
//! `items[].key` the object lacks. A source marked `optional: true` never fails. The kubelet
//! retries the mount, so the pod starts once the Secret exists.

use std::time::Duration;

use kvchain::chain::{self, Code};
use kvchain::snapshot::{ContainerStateObs, Snapshot};
use kvchain::source::lab::world::World;
use kvchain::source::lab::{self, export};

use crate::lab_nodes::{CLUSTER, HEALTHY, SHOP, mounted_by_app};

/// Secret app-tls with key tls.crt only.
const TLS: &str = "apiVersion: v1\nkind: Secret\nmetadata: {name: app-tls, namespace: shop}\ntype: Opaque\nstringData: {tls.crt: cert-canary}\n";
/// ConfigMap app-config with key app.conf only.
const CONFIG: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app-config, namespace: shop}\ndata: {app.conf: x}\n";

/// The healthy app with a projected volume `bundle` of `sources` (a flow YAML list).
fn with_projected(sources: &str) -> String {
    let app = HEALTHY.replacen(
        "      volumes:\n",
        &format!(
            "      volumes:\n        - name: bundle\n          projected: {{sources: {sources}}}\n"
        ),
        1,
    );
    assert_ne!(app, HEALTHY);
    mounted_by_app(&app, "bundle")
}

fn world(docs: &[&str]) -> World {
    let mut all = vec![CLUSTER, SHOP];
    all.extend_from_slice(docs);
    let sc = lab::scenario::parse(
        "proj",
        std::path::Path::new("proj.yaml"),
        &all.join("\n---\n"),
    )
    .expect("scenario loads");
    let mut w = World::new(sc);
    w.advance(Duration::from_secs(60));
    w
}

fn phases(s: &Snapshot) -> Vec<(String, ContainerStateObs)> {
    let pods: Vec<_> = (s.pods.items.iter())
        .filter(|p| p.name.starts_with("checkout-"))
        .map(|p| {
            let app = p.containers.iter().find(|c| c.name == "app").unwrap();
            (p.phase.to_string(), app.state.clone())
        })
        .collect();
    assert_eq!(pods.len(), 2, "{:#?}", s.pods.items);
    pods
}

fn assert_running(s: &Snapshot) {
    for (phase, state) in phases(s) {
        assert_eq!(phase, "Running", "{state:?}");
    }
}

/// Every checkout pod waits in ContainerCreating and the kubelet said `error` of volume bundle.
fn assert_fails_to_mount(s: &Snapshot, error: &str) {
    for (phase, state) in phases(s) {
        assert_eq!(phase, "Pending");
        assert!(
            matches!(&state, ContainerStateObs::Waiting { reason, .. } if reason == "ContainerCreating"),
            "{state:?}"
        );
    }
    let message = format!("MountVolume.SetUp failed for volume \"bundle\" : {error}");
    assert!(
        (s.events.items.iter())
            .any(|e| e.reason == "FailedMount" && e.source == "kubelet" && e.message == message),
        "{message}: {:#?}",
        s.events.items
    );
}

#[test]
fn a_projected_secret_source_whose_secret_is_missing_fails_the_mount() {
    let s = export::snapshot(&world(&[&with_projected("[{secret: {name: app-tls}}]")]));
    assert_fails_to_mount(&s, "secret \"app-tls\" not found");
    // The diagnosis names the volume (KVC108), quoting the kubelet.
    let c = chain::diagnose(&s)
        .into_iter()
        .find(|c| c.pod.starts_with("checkout-"))
        .expect("checkout chain");
    assert!(
        c.findings().any(|f| f.code == Code::KVC108
            && f.message
                .starts_with("volume bundle (projected) fails to mount")
            && f.evidence
                .iter()
                .any(|e| e.contains("secret \"app-tls\" not found"))),
        "{:#?}",
        c.links
    );
    assert_running(&export::snapshot(&world(&[
        &with_projected("[{secret: {name: app-tls}}]"),
        TLS,
    ])));
}

#[test]
fn an_optional_projected_source_never_fails() {
    assert_running(&export::snapshot(&world(&[&with_projected(
        "[{secret: {name: app-tls, optional: true}}, {configMap: {name: app-config, optional: true}}]",
    )])));
    // Optional, the object there without the key: the key is left out.
    assert_running(&export::snapshot(&world(&[
        &with_projected(
            "[{secret: {name: app-tls, optional: true, items: [{key: tls.key, path: k}]}}]",
        ),
        TLS,
    ])));
}

#[test]
fn an_items_key_the_object_lacks_fails_the_mount() {
    let s = export::snapshot(&world(&[
        &with_projected("[{secret: {name: app-tls, items: [{key: tls.key, path: k}]}}]"),
        TLS,
    ]));
    assert_fails_to_mount(&s, "references non-existent secret key: tls.key");
    let s = export::snapshot(&world(&[
        &with_projected("[{configMap: {name: app-config, items: [{key: other.conf, path: c}]}}]"),
        CONFIG,
    ]));
    assert_fails_to_mount(
        &s,
        "configmap references non-existent config key: other.conf",
    );
    assert_running(&export::snapshot(&world(&[
        &with_projected(
            "[{secret: {name: app-tls, items: [{key: tls.crt, path: c}]}}, {configMap: {name: app-config, items: [{key: app.conf, path: a}]}}]",
        ),
        TLS,
        CONFIG,
    ])));
}

/// Two sources failing: one message, the errors aggregated in source order.
#[test]
fn the_errors_of_several_sources_are_aggregated() {
    let s = export::snapshot(&world(&[&with_projected(
        "[{secret: {name: app-tls}}, {configMap: {name: app-config}}]",
    )]));
    assert_fails_to_mount(
        &s,
        "[secret \"app-tls\" not found, configmap \"app-config\" not found]",
    );
}

/// The kubelet retries the mount: once the Secret exists the pods start.
#[test]
fn the_pod_starts_once_the_secret_exists() {
    let mut w = world(&[&with_projected("[{secret: {name: app-tls}}]")]);
    assert_fails_to_mount(&export::snapshot(&w), "secret \"app-tls\" not found");
    let tls: k8s_openapi::api::core::v1::Secret = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "app-tls", "namespace": "shop"},
        "type": "Opaque",
        "data": {"tls.crt": "Y2VydA=="}
    }))
    .unwrap();
    w.secrets.insert(("shop".into(), "app-tls".into()), tls);
    w.advance(Duration::from_secs(180));
    assert_running(&export::snapshot(&w));
}
