//! Memory at scale: a fake API server serving 10,000 pods (plus SPC pod statuses, ReplicaSets
//! and ServiceAccounts), generated page by page so the server itself holds almost nothing.
//! Ignored by default (it takes a while in debug builds); run it with
//! `cargo test --test live_scale -- --ignored --nocapture` and read the figures it prints.

mod live_support;

use std::time::{Duration, Instant};

use kvchain::source::live::{LiveSource, Scope};
use live_support::*;
use serde_json::{Value, json};

const PODS_N: usize = 10_000;

fn ns(i: usize) -> String {
    format!("team-{:02}", i % 50)
}

fn gen_pod(i: usize) -> Value {
    let csi = i.is_multiple_of(3);
    let mut volumes = vec![
        json!({"name": "kube-api-access-x1", "projected": {"sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}}]}}),
    ];
    if csi {
        volumes.push(json!({"name": "secrets-store", "csi": {"driver": "secrets-store.csi.k8s.io", "readOnly": true,
            "volumeAttributes": {"secretProviderClass": format!("spc-{}", i % 40)}}}));
    }
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": format!("app-{i}-7d9f8c6b5d-x{i:05}"), "namespace": ns(i),
            "uid": format!("00000000-0000-4000-8000-{i:012}"), "resourceVersion": "100",
            "creationTimestamp": "2026-11-23T09:00:00Z",
            "labels": {"app": format!("app-{}", i % 400), "pod-template-hash": "7d9f8c6b5d",
                       "azure.workload.identity/use": "true"},
            "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-20T10:00:00Z"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": format!("app-{}-7d9f8c6b5d", i % 400),
                                 "uid": "rs-uid", "controller": true, "blockOwnerDeletion": true}],
            "managedFields": [{"apiVersion": "v1", "fieldsType": "FieldsV1", "manager": "kube-controller-manager",
                "operation": "Update", "time": "2026-11-23T09:00:00Z",
                "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}, "f:spec": {"f:containers": {}}}}]
        },
        "spec": {
            "serviceAccountName": format!("sa-{}", i % 400), "nodeName": format!("aks-np-{}", i % 30),
            "containers": [{
                "name": "app", "image": "myregistry.azurecr.io/app:1.2.3",
                "env": [{"name": "AZURE_CLIENT_ID", "value": "11111111-2222-3333-4444-555555555555"},
                        {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
                        {"name": "LOG_LEVEL", "value": "info"}],
                "volumeMounts": [{"name": "kube-api-access-x1", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true}],
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}
            }],
            "volumes": volumes
        },
        "status": {"phase": "Running", "podIP": "10.244.1.7", "startTime": "2026-11-23T09:00:00Z",
            "conditions": [{"type": "Ready", "status": "True"}, {"type": "Initialized", "status": "True"}],
            "containerStatuses": [{"name": "app", "ready": true, "restartCount": 0, "image": "app:1.2.3",
                "imageID": "sha256:abc", "state": {"running": {"startedAt": "2026-11-23T09:00:04Z"}}}]}
    })
}

fn gen_spcps(i: usize) -> Value {
    let p = i * 3;
    json!({"apiVersion": "secrets-store.csi.x-k8s.io/v1", "kind": "SecretProviderClassPodStatus",
        "metadata": {"name": format!("app-{p}-{}-spc-{}", ns(p), p % 40), "namespace": ns(p), "resourceVersion": "100"},
        "status": {"mounted": true, "podName": format!("app-{p}-7d9f8c6b5d-x{p:05}"), "secretProviderClassName": format!("spc-{}", p % 40),
            "objects": [{"id": "secret/db-password", "version": "b82206cb5ac249918008b0b97fd1fd66"}]}})
}

fn gen_rs(i: usize) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": format!("app-{i}-7d9f8c6b5d"), "namespace": ns(i), "resourceVersion": "100",
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": format!("app-{i}"), "uid": "d", "controller": true}]}})
}

fn gen_sa(i: usize) -> Value {
    json!({"apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": format!("sa-{i}"), "namespace": ns(i), "resourceVersion": "100",
            "annotations": {"azure.workload.identity/client-id": "11111111-2222-3333-4444-555555555555"}}})
}

fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

fn scale_api() -> FakeApi {
    let api = FakeApi::empty();
    api.generate(PODS, PODS_N, gen_pod);
    api.generate(SPCPS, PODS_N / 3, gen_spcps);
    api.generate(REPLICA_SETS, 2_000, gen_rs);
    api.generate(SERVICE_ACCOUNTS, 400, gen_sa);
    api
}

const SERVE_ENV: &str = "KVCHAIN_SCALE_SERVE";

/// The fake API server, run in a child process so its page generation does not count
/// towards the measured resident memory. Does nothing unless started by the test below.
#[tokio::test]
#[ignore = "helper process for ten_thousand_pods_memory"]
async fn scale_server_process() {
    if std::env::var_os(SERVE_ENV).is_none() {
        return;
    }
    let server = scale_api().serve().await;
    println!("LISTENING {}", server.uri());
    use std::io::Write;
    std::io::stdout().flush().unwrap();
    tokio::time::sleep(Duration::from_secs(600)).await;
}

/// Starts the fake server in a child process; returns it and a client for it.
fn spawn_server() -> (std::process::Child, kube::Client) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "scale_server_process",
            "--nocapture",
        ])
        .env(SERVE_ENV, "1")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("server process");
    let stdout = child.stdout.take().unwrap();
    let uri = std::io::BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix("LISTENING ").map(String::from))
        .expect("server address");
    let client = kube::Client::try_from(kube::Config::new(uri.parse().unwrap())).unwrap();
    (child, client)
}

/// Stops the helper process this test started (by its handle, nothing else).
fn stop(mut child: std::process::Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "scale measurement; run explicitly"]
async fn ten_thousand_pods_memory_check() {
    let (child, client) = spawn_server();
    let before = rss_kib("VmRSS:");
    let started = Instant::now();
    let live = LiveSource::new(client, "scale", Scope::All, no_azure()).with_options(options());
    let snap = tokio::time::timeout(Duration::from_secs(600), live.snapshot())
        .await
        .unwrap();
    let elapsed = started.elapsed();
    let after = rss_kib("VmRSS:");
    let peak = rss_kib("VmHWM:");
    stop(child);
    assert_eq!(snap.pods.items.len(), PODS_N);
    assert_eq!(snap.spc_statuses.items.len(), PODS_N / 3);
    println!(
        "check, 10k pods: complete snapshot in {elapsed:?}; RSS before {} MiB, after {} MiB, peak (VmHWM) {} MiB; snapshot JSON {} MiB",
        before / 1024,
        after / 1024,
        peak / 1024,
        serde_json::to_vec(&snap).unwrap().len() / (1024 * 1024)
    );
}

/// The TUI case: the running source keeps its store and the UI holds the snapshot it got.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "scale measurement; run explicitly"]
async fn ten_thousand_pods_memory_running() {
    use kvchain::source::{Source, SourceEvent};
    let (child, client) = spawn_server();
    let before = rss_kib("VmRSS:");
    let started = Instant::now();
    let live = LiveSource::new(client, "scale", Scope::All, no_azure()).with_options(options());
    let (etx, mut erx) = tokio::sync::mpsc::unbounded_channel();
    let (_ctx, crx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(Box::new(live).run(etx, crx));
    let mut progress = 0;
    let snap = loop {
        match tokio::time::timeout(Duration::from_secs(600), erx.recv())
            .await
            .unwrap()
            .unwrap()
        {
            SourceEvent::Snapshot(s) => break s,
            SourceEvent::Progress(_) => progress += 1,
            _ => {}
        }
    };
    let elapsed = started.elapsed();
    // Let the watches idle a moment with the snapshot held, as the UI would.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib("VmRSS:");
    let peak = rss_kib("VmHWM:");
    stop(child);
    assert_eq!(snap.pods.items.len(), PODS_N);
    println!(
        "running, 10k pods: first snapshot in {elapsed:?} after {progress} progress events; RSS before {} MiB, with store + UI snapshot {} MiB, peak (VmHWM) {} MiB",
        before / 1024,
        after / 1024,
        peak / 1024,
    );
}

/// `kvchain serve`: the running source, the latest diagnosis it holds, and one scrape of
/// /metrics and /report.json (both built per request).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "scale measurement; run explicitly"]
async fn ten_thousand_pods_memory_serve() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (child, client) = spawn_server();
    let before = rss_kib("VmRSS:");
    let started = Instant::now();
    let live = LiveSource::new(client, "scale", Scope::All, no_azure()).with_options(options());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(kvchain::commands::serve::serve(live, listener));
    let get = |path: &'static str| async move {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(format!("GET {path} HTTP/1.0\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).await.unwrap();
        String::from_utf8_lossy(&raw).into_owned()
    };
    let deadline = Instant::now() + Duration::from_secs(600);
    while !get("/readyz").await.starts_with("HTTP/1.0 200") {
        assert!(Instant::now() < deadline, "never ready");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let ready = started.elapsed();
    let metrics = get("/metrics").await;
    let report = get("/report.json").await;
    let series = metrics
        .lines()
        .filter(|l| l.starts_with("kvchain_chain_status{"))
        .count();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib("VmRSS:");
    let peak = rss_kib("VmHWM:");
    task.abort();
    stop(child);
    println!(
        "serve, 10k pods: ready in {ready:?}; /metrics {} KiB ({series} chain_status series), /report.json {} MiB; RSS before {} MiB, serving {} MiB, peak (VmHWM) {} MiB",
        metrics.len() / 1024,
        report.len() / (1024 * 1024),
        before / 1024,
        after / 1024,
        peak / 1024,
    );
    assert!(series > 0);
}
