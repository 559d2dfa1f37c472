//! Live source costs at 10,000 pods: decoding and converting a listed page of 500 pods (the
//! client's work between two pages of the initial list), converting one listed Pod on
//! arrival, and assembling a snapshot from the store (what every debounced change costs).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use k8s_openapi::api::core::v1::Pod;
use kube::core::ObjectList;
use kvchain::snapshot::convert;
use kvchain::source::live::listed::ListedPod;
use kvchain::source::live::store::LiveState;
use serde_json::json;

fn pod(i: usize) -> Pod {
    serde_json::from_value(pod_json(i)).expect("pod")
}

/// A page of `n` pods as the API server sends it to kube's watcher.
fn page(n: usize) -> String {
    let items: Vec<_> = (0..n).map(pod_json).collect();
    serde_json::to_string(&json!({"apiVersion": "v1", "kind": "PodList",
        "metadata": {"resourceVersion": "100", "continue": "next"}, "items": items}))
    .expect("page")
}

fn pod_json(i: usize) -> serde_json::Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": format!("app-{i}-7d9f8c6b5d-x{i:05}"), "namespace": format!("team-{:02}", i % 50),
            "uid": format!("00000000-0000-4000-8000-{i:012}"), "resourceVersion": "100",
            "creationTimestamp": "2026-11-23T09:00:00Z",
            "labels": {"app": format!("app-{}", i % 400), "pod-template-hash": "7d9f8c6b5d",
                       "azure.workload.identity/use": "true"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                "name": format!("app-{}-7d9f8c6b5d", i % 400), "uid": "rs", "controller": true}],
            "managedFields": [{"apiVersion": "v1", "fieldsType": "FieldsV1", "manager": "kube-controller-manager",
                "operation": "Update", "time": "2026-11-23T09:00:00Z", "fieldsV1": {"f:spec": {}}}]
        },
        "spec": {
            "serviceAccountName": format!("sa-{}", i % 400), "nodeName": "aks-np-1",
            "containers": [{"name": "app", "image": "app:1.2.3",
                "env": [{"name": "AZURE_CLIENT_ID", "value": "11111111-2222-3333-4444-555555555555"},
                        {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}],
                "volumeMounts": [{"name": "secrets-store", "mountPath": "/mnt/secrets", "readOnly": true}]}],
            "volumes": [{"name": "secrets-store", "csi": {"driver": "secrets-store.csi.k8s.io", "readOnly": true,
                "volumeAttributes": {"secretProviderClass": format!("spc-{}", i % 40)}}}]
        },
        "status": {"phase": "Running", "containerStatuses": [{"name": "app", "ready": true, "restartCount": 0,
            "image": "app:1.2.3", "imageID": "sha256:abc", "state": {"running": {"startedAt": "2026-11-23T09:00:04Z"}}}]}
    })
}

fn benches(c: &mut Criterion) {
    let text = page(500);
    c.bench_function("live: decode and convert a listed page of 500 pods", |b| {
        b.iter(|| {
            let page: ObjectList<ListedPod> = serde_json::from_str(black_box(&text)).unwrap();
            page.items
                .iter()
                .map(ListedPod::observe)
                .collect::<Vec<_>>()
        })
    });

    let one = pod(7);
    c.bench_function("live: convert one listed Pod", |b| {
        b.iter(|| convert::pod(black_box(&one)))
    });

    let mut state = LiveState::default();
    for i in 0..10_000 {
        let obs = convert::pod(&pod(i));
        state
            .pods
            .apply((obs.namespace.clone(), obs.name.clone()), Some(obs));
    }
    c.bench_function("live: assemble snapshot, 10k pods", |b| {
        b.iter(|| state.assemble("bench", jiff::Timestamp::UNIX_EPOCH))
    });
}

criterion_group! {
    name = live;
    config = Criterion::default().sample_size(20);
    targets = benches
}
criterion_main!(live);
