//! Memory at scale: a fake API server serving 10,000 pods (plus 2,000 SecretProviderClasses,
//! SPC pod statuses, ReplicaSets and ServiceAccounts), generated page by page so the server
//! itself holds almost nothing. Ignored by default (it takes a while in debug builds); run
//! each measurement in a process of its own (the peak is the process's), e.g.
//! `cargo test --release --test live_scale -- --ignored --nocapture --exact
//! ten_thousand_pods_memory_running`, and read the figures it prints.

mod live_support;

use std::time::{Duration, Instant};

use futures::StreamExt;
use kvchain::source::live::{LiveSource, Scope};
use live_support::*;
use serde_json::{Value, json};

const PODS_N: usize = 10_000;
/// 40 SecretProviderClass names in each of the 50 namespaces; pods mount 200 of them.
const SPCS_N: usize = 2_000;

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

fn gen_spc(i: usize) -> Value {
    json!({"apiVersion": "secrets-store.csi.x-k8s.io/v1", "kind": "SecretProviderClass",
        "metadata": {"name": format!("spc-{}", i / 50), "namespace": ns(i), "resourceVersion": "100",
            "uid": format!("10000000-0000-4000-8000-{i:012}")},
        "spec": {"provider": "azure",
            "secretObjects": [{"secretName": format!("db-{}", i / 50), "type": "Opaque",
                "data": [{"objectName": "db-password", "key": "password"}]}],
            "parameters": {"clientID": "11111111-2222-3333-4444-555555555555",
                "keyvaultName": format!("kv-{}", i % 7), "tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47",
                "objects": "array:\n  - |\n    objectName: db-password\n    objectType: secret\n"}}})
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
    api.generate(SPCS, SPCS_N, gen_spc);
    api.generate(SPCPS, PODS_N / 3, gen_spcps);
    api.generate(REPLICA_SETS, 2_000, gen_rs);
    api.generate(SERVICE_ACCOUNTS, 400, gen_sa);
    // What `kvchain check` asks before it lists (the version) and the cluster facts.
    api.raw(
        "/version",
        json!({"major": "1", "minor": "33", "gitVersion": "v1.33.2"}),
    );
    api.raw(
        "/.well-known/openid-configuration",
        json!({"issuer": ISSUER, "jwks_uri": format!("{ISSUER}openid/v1/jwks")}),
    );
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
    let (child, uri) = spawn_server_uri();
    let client = kube::Client::try_from(kube::Config::new(uri.parse().unwrap())).unwrap();
    (child, client)
}

/// Starts the fake server in a child process; returns it and its address.
fn spawn_server_uri() -> (std::process::Child, String) {
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
    (child, uri)
}

/// Stops the helper process this test started (by its handle, nothing else).
fn stop(mut child: std::process::Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// What the live source lists, each paged as kube's watcher pages (500 a request).
const LISTED: &[&str] = &[
    PODS,
    SERVICE_ACCOUNTS,
    "/api/v1/secrets?labelSelector=secrets-store.csi.k8s.io%2Fmanaged%3Dtrue",
    EVENTS,
    DEPLOYMENTS,
    REPLICA_SETS,
    STATEFUL_SETS,
    DAEMON_SETS,
    JOBS,
    CRON_JOBS,
    INGRESSES,
    SPCS,
    SPCPS,
];

/// The cluster facts the source reads beside the lists, one request each.
const FACTS: &[&str] = &[
    "/.well-known/openid-configuration",
    "/api/v1/nodes",
    MWCS,
    "/apis/storage.k8s.io/v1/csidrivers/secrets-store.csi.k8s.io",
    "/apis/apps/v1/namespaces/kube-system/daemonsets",
    "/apis/rbac.authorization.k8s.io/v1/clusterroles/secretprovidersyncing-role",
];

/// By-name Secret reads in flight at once: the source's own politeness limit
/// (`CONCURRENCY` in src/source/live/secrets.rs).
const NAMED_READS_AT_ONCE: usize = 8;

/// One raw GET; the body and whether it succeeded (404s are answers too).
async fn get_raw(client: &kube::Client, url: String) -> Option<String> {
    let req = hyper::Request::get(url).body(Vec::new()).unwrap();
    client.request_text(req).await.ok()
}

/// Every page of `path` as raw text (only `metadata.continue` parsed); the bytes read and,
/// with `names`, the Secrets the SecretProviderClasses on the pages name.
async fn raw_list(client: &kube::Client, path: &str, names: bool) -> (usize, Vec<String>) {
    // Only what is needed: the continue token and, on SecretProviderClass pages, the names.
    #[derive(serde::Deserialize)]
    struct Page {
        metadata: PageMeta,
        #[serde(default)]
        items: Option<Vec<Spc>>,
    }
    #[derive(serde::Deserialize)]
    struct PageMeta {
        #[serde(rename = "continue")]
        next: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct Spc {
        metadata: SpcMeta,
        spec: SpcSpec,
    }
    #[derive(serde::Deserialize)]
    struct SpcMeta {
        namespace: String,
    }
    #[derive(serde::Deserialize)]
    struct SpcSpec {
        #[serde(rename = "secretObjects", default)]
        secret_objects: Vec<SecretObject>,
    }
    #[derive(serde::Deserialize)]
    struct SecretObject {
        #[serde(rename = "secretName")]
        secret_name: String,
    }
    #[derive(serde::Deserialize)]
    struct Skim {
        metadata: PageMeta,
    }
    let mut bytes = 0;
    let mut named = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut url = format!("{path}{sep}limit=500");
        if let Some(c) = &next {
            url.push_str(&format!("&continue={c}"));
        }
        let text = get_raw(client, url).await.expect("raw list");
        bytes += text.len();
        next = if names {
            let page: Page = serde_json::from_str(&text).expect("a list");
            for spc in page.items.into_iter().flatten() {
                for so in spc.spec.secret_objects {
                    let (ns, name) = (&spc.metadata.namespace, so.secret_name);
                    named.push(format!("/api/v1/namespaces/{ns}/secrets/{name}"));
                }
            }
            page.metadata.next
        } else {
            let page: Skim = serde_json::from_str(&text).expect("a list");
            page.metadata.next
        };
        if next.is_none() {
            break (bytes, named);
        }
    }
}

/// The floor for a first snapshot: the same requests the source makes, each as early as its
/// input allows, as raw text (nothing converted). Every kind the source lists, paged as
/// kube's watcher pages and in parallel; the cluster facts beside them; and, once the
/// SecretProviderClasses are in, the Secrets they name read by name at the source's
/// concurrency (in this world no Secret exists, so each answers 404; pods name none).
/// Returns the time and the bytes of the lists.
async fn raw_parallel_gets(client: &kube::Client) -> (Duration, usize) {
    let started = Instant::now();
    let lists = LISTED.iter().map(|path| async move {
        let (bytes, named) = raw_list(client, path, *path == SPCS).await;
        futures::stream::iter(named)
            .map(|url| get_raw(client, url))
            .buffer_unordered(NAMED_READS_AT_ONCE)
            .collect::<Vec<_>>()
            .await;
        bytes
    });
    let facts = FACTS.iter().map(|path| get_raw(client, path.to_string()));
    let (bytes, _) = futures::join!(
        futures::future::join_all(lists),
        futures::future::join_all(facts)
    );
    (started.elapsed(), bytes.into_iter().sum())
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
    assert_eq!(snap.spcs.items.len(), SPCS_N);
    println!(
        "check, 10k pods: complete snapshot in {elapsed:?}; RSS before {} MiB, after {} MiB, peak (VmHWM) {} MiB; snapshot JSON {} MiB",
        before / 1024,
        after / 1024,
        peak / 1024,
        serde_json::to_vec(&snap).unwrap().len() / (1024 * 1024)
    );
}

/// The TUI case: the running source keeps its store and the UI holds the snapshot it got and
/// its diagnosis.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "scale measurement; run explicitly"]
async fn ten_thousand_pods_memory_running() {
    running(false).await;
}

/// The same, diagnosed by the incremental feed the TUI keeps (its engine holds the objects by
/// namespace beside the snapshot).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "scale measurement; run explicitly"]
async fn ten_thousand_pods_memory_running_feed() {
    running(true).await;
}

async fn running(feed: bool) {
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
    // The UI diagnoses what it got and holds both.
    let mut kept = kvchain::chain::engine::Feed::new(None);
    let chains = if feed {
        kept.update(snap.clone());
        kept.chains().len()
    } else {
        kvchain::chain::diagnose(&snap).len()
    };
    // Let the watches idle a moment with the snapshot held, as the UI would.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib("VmRSS:");
    let peak = rss_kib("VmHWM:");
    stop(child);
    assert_eq!(snap.pods.items.len(), PODS_N);
    println!(
        "running{}, 10k pods: first snapshot in {elapsed:?} after {progress} progress events; RSS before {} MiB, with store + UI snapshot + {} chains {} MiB, peak (VmHWM) {} MiB",
        if feed { " (feed)" } else { "" },
        before / 1024,
        chains,
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

/// CPU time (user + system) process `pid` has used so far, from `/proc/PID/stat`.
fn cpu_of(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the server's stat");
    // The fields after the command name (which may hold spaces) start after its last ')'.
    let fields: Vec<&str> = stat[stat.rfind(')').expect("a stat line") + 2..]
        .split(' ')
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // SAFETY: sysconf only reads a system constant.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    Duration::from_millis(ticks * 1000 / hz)
}

/// CPU time this process (the client; the server runs in a child) has used so far.
fn cpu_used() -> Duration {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid rusage for the kernel to fill.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// Time to the first complete live snapshot against the floor: raw parallel GETs of the same
/// requests from the same server, alternated three times (the server's page generation is
/// shared by both, so the ratio is what the source adds). The client's CPU time is printed
/// too: unlike wall time, it barely moves when other processes load the machine; and the
/// server's (one thread): the raw GETs take about as long as it works, so what the source
/// adds is time the server waits for the client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "scale measurement; run explicitly"]
async fn ten_thousand_pods_first_snapshot_vs_raw_gets() {
    let (child, client) = spawn_server();
    let mut lines = Vec::new();
    for _ in 0..3 {
        let (cpu, server) = (cpu_used(), cpu_of(child.id()));
        let (raw, bytes) = raw_parallel_gets(&client).await;
        let (raw_cpu, raw_server) = (cpu_used() - cpu, cpu_of(child.id()) - server);
        let live = LiveSource::new(client.clone(), "scale", Scope::All, no_azure())
            .with_options(options());
        let (cpu, server) = (cpu_used(), cpu_of(child.id()));
        let started = Instant::now();
        let snap = live.snapshot().await;
        let first = started.elapsed();
        let (first_cpu, first_server) = (cpu_used() - cpu, cpu_of(child.id()) - server);
        assert_eq!(snap.pods.items.len(), PODS_N);
        lines.push(format!(
            "raw parallel GETs {raw:?} ({} MiB, client CPU {raw_cpu:?}, server CPU {raw_server:?}), first complete snapshot {first:?} (client CPU {first_cpu:?}, server CPU {first_server:?}): {:.2}x",
            bytes / (1024 * 1024),
            first.as_secs_f64() / raw.as_secs_f64()
        ));
    }
    stop(child);
    for l in lines {
        println!("first snapshot vs raw, 10k pods: {l}");
    }
}

/// `kvchain check` as a user runs it: the binary in its own process against the fake server,
/// its output read through a pipe; peak resident memory as the kernel counted it (`wait4`).
fn check_cli(format: &str) {
    use std::io::Read;
    let (server, uri) = spawn_server_uri();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = kubeconfig_for(&uri, dir.path());
    // `KVCHAIN_BIN` runs another build (an older release, to alternate with this one).
    let bin = std::env::var_os("KVCHAIN_BIN").unwrap_or(env!("CARGO_BIN_EXE_kvchain").into());
    let started = Instant::now();
    // Reaped by `wait4` below, which also reports its resource usage.
    #[allow(clippy::zombie_processes)]
    let mut child = std::process::Command::new(bin)
        .args(["check", "-A", "--no-azure", "-o", format, "--kubeconfig"])
        .arg(&kubeconfig)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("kvchain check");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut buf = vec![0; 64 * 1024];
        let mut total = 0usize;
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            total += n;
        }
        total
    });
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for the child this test spawned (its own pid); `usage` is a valid rusage.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let elapsed = started.elapsed();
    assert_eq!(pid, child.id() as i32);
    let bytes = reader.join().unwrap();
    stop(server);
    let code = libc::WEXITSTATUS(status);
    assert!(
        libc::WIFEXITED(status) && code == 1,
        "check exits 1 on the scale world's errors (status {status})"
    );
    println!(
        "check -o {format}, 10k pods / 2k SPCs (process): {elapsed:?}, {} KiB of output, peak RSS (ru_maxrss) {} MiB",
        bytes / 1024,
        usage.ru_maxrss / 1024
    );
    // The goal (README): 80 MB. A release build measures it; a debug build's code and
    // unoptimised frames are not what users run.
    if !cfg!(debug_assertions) {
        let goal_kib = 80_000_000 / 1024;
        assert!(
            usage.ru_maxrss <= goal_kib,
            "check -o {format} peaked at {} KiB, over the goal of {goal_kib} KiB (80 MB)",
            usage.ru_maxrss
        );
    }
}

#[test]
#[ignore = "scale measurement; run explicitly"]
fn ten_thousand_pods_memory_check_cli_text() {
    check_cli("text");
}

#[test]
#[ignore = "scale measurement; run explicitly"]
fn ten_thousand_pods_memory_check_cli_json() {
    check_cli("json");
}
