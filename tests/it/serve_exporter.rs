//! `kvchain serve` against the fake API server: /metrics follows a fault as it appears and
//! disappears, one series per chain and link whatever the replica count (no pod labels),
//! /report.json is the check report, and the exporter only ever reads.

use std::net::SocketAddr;
use std::time::Duration;

use crate::live_support::*;
use kvchain::commands::serve;
use kvchain::source::live::{LiveSource, Scope};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Exporter {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
    _server: wiremock::MockServer,
}

impl Drop for Exporter {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn start(api: &FakeApi) -> Exporter {
    start_with(api, options()).await
}

async fn start_with(api: &FakeApi, options: kvchain::source::live::LiveOptions) -> Exporter {
    start_full(api, options, kvchain::suppress::Rules::default()).await
}

async fn start_full(
    api: &FakeApi,
    options: kvchain::source::live::LiveOptions,
    rules: kvchain::suppress::Rules,
) -> Exporter {
    let server = api.serve().await;
    let live =
        LiveSource::new(client(&server), "aks-test", Scope::All, no_azure()).with_options(options);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(serve::serve_with(live, listener, rules));
    Exporter {
        addr,
        task,
        _server: server,
    }
}

/// One plain HTTP/1.0 request: (status code, body).
async fn http(addr: SocketAddr, method: &str, path: &str) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("{method} {path} HTTP/1.0\r\nHost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).await.unwrap();
    let code = raw
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not HTTP: {raw}"));
    let body = raw
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (code, body)
}

/// The first /metrics body satisfying `pred`, within 20 s.
async fn scrape_until(addr: SocketAddr, what: &str, pred: impl Fn(&str) -> bool) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut last = String::new();
    while tokio::time::Instant::now() < deadline {
        let (code, body) = http(addr, "GET", "/metrics").await;
        if code == 200 && pred(&body) {
            return body;
        }
        last = body;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no scrape with {what} in 20s; last:\n{last}");
}

/// The `kvchain_chain_status` lines of a scrape.
fn chain_status(body: &str) -> Vec<&str> {
    body.lines()
        .filter(|l| l.starts_with("kvchain_chain_status{"))
        .collect()
}

/// The pod's SecretProviderClass, as the world holds it.
fn spc() -> Value {
    let mut spc = upstream("spc-azure-wi-synck8s.yaml", VARS);
    spc["metadata"]["namespace"] = json!(NS);
    spc
}

fn broken_link(body: &str) -> Option<&str> {
    chain_status(body).into_iter().find(|l| l.ends_with(" 4"))
}

#[tokio::test]
async fn metrics_follow_a_fault_as_it_appears_and_disappears() {
    let api = world();
    api.replace_silently(EVENTS, Vec::new());
    let exporter = start(&api).await;
    let healthy = scrape_until(exporter.addr, "chain series", |b| {
        !chain_status(b).is_empty()
    })
    .await;
    assert_eq!(broken_link(&healthy), None, "{healthy}");
    assert!(
        !healthy.contains("severity=\"error\""),
        "no error finding yet:\n{healthy}"
    );

    // Someone deletes the SecretProviderClass the pod mounts.
    api.push_watch(SPCS, &[("DELETED", spc())]);
    let broken = scrape_until(exporter.addr, "a broken link", |b| broken_link(b).is_some()).await;
    let line = broken_link(&broken).unwrap();
    assert!(
        line.contains("code=\"KVC") && line.contains("namespace=\"payments\""),
        "the series names the finding's code: {line}"
    );
    assert!(
        broken
            .lines()
            .any(|l| l.starts_with("kvchain_findings{") && l.contains("severity=\"error\"")),
        "{broken}"
    );
    // Both chains that mount it break: the bare pod's and the Deployment's (diagnosed from its
    // pod template, since none of its pods exist in this world).
    assert!(
        broken.contains("kvchain_chains{status=\"broken\"} 2"),
        "{broken}"
    );

    api.push_watch(SPCS, &[("ADDED", spc())]);
    let healed = scrape_until(exporter.addr, "the fault gone", |b| {
        broken_link(b).is_none() && !chain_status(b).is_empty()
    })
    .await;
    assert_eq!(
        chain_status(&healed).len(),
        chain_status(&healthy).len(),
        "the broken series is replaced, not added to:\n{healed}"
    );
    let diagnoses = |b: &str| -> u64 {
        b.lines()
            .find_map(|l| l.strip_prefix("kvchain_diagnoses_total "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no kvchain_diagnoses_total in\n{b}"))
    };
    assert!(diagnoses(&healed) > diagnoses(&healthy));
}

/// `n` replicas of the world's Deployment (through its ReplicaSet), each a pod of its own.
fn replicas(api: &FakeApi, n: usize) {
    api.replace_silently(PODS, Vec::new());
    for i in 0..n {
        let mut p = pod("azure-sync", "Running");
        p["metadata"]["name"] = json!(format!("busybox-deployment-5d8f7c9b8d-r{i}"));
        p["metadata"]["uid"] = json!(format!("0000000{i}-93a4-4c1e-bd2e-0c1d2e3f4a5b"));
        p["metadata"]["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "name": "busybox-deployment-5d8f7c9b8d", "uid": "rs-1", "controller": true}]);
        api.add(PODS, p);
    }
}

#[tokio::test]
async fn one_series_per_chain_and_link_whatever_the_replicas_and_no_pod_labels() {
    let api = world();
    replicas(&api, 5);
    let exporter = start(&api).await;
    let body = scrape_until(exporter.addr, "five chains", |b| {
        b.lines()
            .filter(|l| l.starts_with("kvchain_chains{"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum::<u64>()
            == 5
    })
    .await;
    let series = chain_status(&body);
    assert_eq!(
        series.len(),
        kvchain::chain::LinkKind::ALL.len(),
        "five replicas, one chain: one series per link\n{body}"
    );
    for l in &series {
        assert!(
            l.contains("workload=\"Deployment/busybox-deployment\"")
                && l.contains("spc=\"azure-sync\""),
            "{l}"
        );
    }
    assert!(
        !body.contains("-r0") && !body.contains("uid"),
        "no pod names or uids:\n{body}"
    );
    let links: std::collections::BTreeSet<&str> = series
        .iter()
        .filter_map(|l| l.split("link=\"").nth(1)?.split('"').next())
        .collect();
    assert_eq!(links.len(), kvchain::chain::LinkKind::ALL.len());
}

/// README "Suppressing findings": the config's `ignore:` rules reach `serve` as they reach
/// `check`. The SPC deleted, every finding of the namespace ignored: no link is broken where
/// alerts look, the codes are in `kvchain_suppressed_finding`, and /report.json marks them.
#[tokio::test]
async fn ignore_rules_keep_a_suppressed_break_out_of_the_alerts_but_in_view() {
    let api = world();
    api.replace_silently(EVENTS, Vec::new());
    let rules = kvchain::suppress::Rules::new(&[kvchain::suppress::IgnoreRule {
        code: "*".into(),
        namespace: Some(NS.into()),
        reason: Some("migrating (TICKET-9)".into()),
        ..Default::default()
    }])
    .unwrap();
    let exporter = start_full(&api, options(), rules).await;
    scrape_until(exporter.addr, "chain series", |b| {
        !chain_status(b).is_empty()
    })
    .await;
    api.push_watch(SPCS, &[("DELETED", spc())]);
    let body = scrape_until(exporter.addr, "the suppressed break", |b| {
        b.lines().any(|l| {
            l.starts_with("kvchain_suppressed_findings{") && l.contains("severity=\"error\"")
        })
    })
    .await;
    assert_eq!(broken_link(&body), None, "{body}");
    assert!(
        !body
            .lines()
            .any(|l| l.starts_with("kvchain_findings{") && l.contains("severity=\"error\"")),
        "{body}"
    );
    assert!(
        body.lines()
            .any(|l| l.starts_with("kvchain_suppressed_finding{") && l.ends_with(" 1")),
        "{body}"
    );
    let (code, report) = http(exporter.addr, "GET", "/report.json").await;
    assert_eq!(code, 200);
    let report: Value = serde_json::from_str(&report).unwrap();
    assert!(
        report["summary"]["suppressed"]
            .as_u64()
            .is_some_and(|n| n > 0),
        "{}",
        report["summary"]
    );
    assert!(
        report.to_string().contains("TICKET-9"),
        "the reason is in the report"
    );
}

#[tokio::test]
async fn report_json_is_the_check_report_and_the_exporter_only_reads() {
    let api = world();
    let exporter = start(&api).await;
    assert_eq!(http(exporter.addr, "GET", "/healthz").await.0, 200);
    scrape_until(exporter.addr, "a diagnosis", |b| {
        !chain_status(b).is_empty()
    })
    .await;
    assert_eq!(http(exporter.addr, "GET", "/readyz").await.0, 200);
    let (code, body) = http(exporter.addr, "GET", "/report.json").await;
    assert_eq!(code, 200);
    let report: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(report["source"], "live");
    assert_eq!(report["label"], "aks-test");
    assert!(report["chains"].as_array().is_some_and(|c| !c.is_empty()));
    assert!(report["gaps"].is_array() && report["findings"].is_array());
    for secret in [CANARY, CANARY_NAMED, CANARY_LAST_APPLIED, CANARY_UNRELATED] {
        assert!(!body.contains(secret), "a secret value in /report.json");
        let metrics = http(exporter.addr, "GET", "/metrics").await.1;
        assert!(!metrics.contains(secret), "a secret value in /metrics");
    }
    for method in ["POST", "PUT", "DELETE", "PATCH"] {
        assert_eq!(
            http(exporter.addr, method, "/metrics").await.0,
            405,
            "{method}"
        );
    }
    // Let the watchers run a while, then: not one request to the API server that could write.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let writes: Vec<String> = api
        .requests()
        .into_iter()
        .filter(|r| !r.starts_with("GET"))
        .collect();
    assert!(writes.is_empty(), "non-GET requests: {writes:?}");
}

/// The value of the unlabelled series `name` in a scrape.
fn gauge(body: &str, name: &str) -> f64 {
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in:\n{body}"))
}

/// Audit W4: a hung API server shows in the metrics. The clock tick keeps re-diagnosing the
/// last data, so `kvchain_last_diagnosis_timestamp_seconds` advances; the data time
/// (`kvchain_last_read_timestamp_seconds`) stays, and the view is marked incomplete (README
/// "Run it in the cluster": the `KvchainCannotSee` and `KvchainSourceSilent` alerts).
#[tokio::test]
async fn a_hung_api_server_is_an_incomplete_view_with_an_old_read_time() {
    let api = world();
    let quick = kvchain::source::live::LiveOptions {
        clock_tick: Duration::from_millis(300),
        stale_after: Duration::from_secs(1),
        ..options()
    };
    let e = start_with(&api, quick).await;
    let healthy = scrape_until(e.addr, "a diagnosis", |b| {
        b.contains("kvchain_last_read_timestamp_seconds")
    })
    .await;
    assert_eq!(gauge(&healthy, "kvchain_incomplete"), 0.0, "{healthy}");

    api.hang(true);
    let hung_at = jiff::Timestamp::now().as_millisecond() as f64 / 1000.0;
    let silent = scrape_until(e.addr, "kvchain_incomplete 1", |b| {
        gauge(b, "kvchain_incomplete") == 1.0
    })
    .await;
    let read = gauge(&silent, "kvchain_last_read_timestamp_seconds");
    let diagnosed = gauge(&silent, "kvchain_last_diagnosis_timestamp_seconds");
    assert!(read <= hung_at + 1.0, "read {read}, hung at {hung_at}");
    assert!(diagnosed - read > 1.0, "read {read}, diagnosed {diagnosed}");
    // Still scraped (a not-ready pod would drop out of Prometheus's targets) and saying why.
    let (code, body) = http(e.addr, "GET", "/readyz").await;
    assert_eq!(code, 200, "{body}");
    assert!(
        body.contains("no answer from the API server since"),
        "{body}"
    );
    // The report says it too (audit FFF5): a gap of its own, and no verdict.
    let (_, report) = http(e.addr, "GET", "/report.json").await;
    let report: Value = serde_json::from_str(&report).unwrap();
    let silence = report["gaps"]
        .as_array()
        .and_then(|g| g.iter().find(|g| g["kind"] == "cluster"))
        .unwrap_or_else(|| panic!("no cluster gap: {}", report["gaps"]));
    let why = silence["reason"].as_str().unwrap();
    assert!(
        why.starts_with("no answer from the API server since ")
            && why.ends_with("; the data shown was read then"),
        "{why}"
    );
    assert_eq!(
        report["summary"]["incomplete"], true,
        "{}",
        report["summary"]
    );
}

/// The pods gap's reason in a `/report.json`, if the report has one.
fn pods_gap(report: &Value) -> Option<String> {
    report["gaps"]
        .as_array()?
        .iter()
        .find(|g| g["kind"] == "pods")
        .and_then(|g| g["reason"].as_str())
        .map(str::to_string)
}

/// FFF2: data listed but not kept current (the `watch` refused) is no current data. Both at
/// start (a list-only role) and after the permission is revoked mid-run, the kind is a gap,
/// the view is incomplete and `/readyz` says it.
async fn served_as_not_live(e: &Exporter) {
    let refused = "cannot watch pods at the cluster scope: forbidden";
    let body = scrape_until(e.addr, "a pods gap", |b| {
        b.contains("kvchain_gaps{kind=\"pods\"} 1")
    })
    .await;
    assert_eq!(gauge(&body, "kvchain_incomplete"), 1.0, "{body}");
    let (code, ready) = http(e.addr, "GET", "/readyz").await;
    assert_eq!(code, 200, "{ready}");
    assert!(
        ready.starts_with("ready; not live-updated since ") && ready.contains(refused),
        "{ready}"
    );
    let (_, report) = http(e.addr, "GET", "/report.json").await;
    let report: Value = serde_json::from_str(&report).unwrap();
    let why = pods_gap(&report).unwrap_or_else(|| panic!("{}", report["gaps"]));
    assert!(
        why.starts_with("not live-updated since ") && why.ends_with(&format!(": {refused}")),
        "{why}"
    );
    assert_eq!(
        report["summary"]["incomplete"], true,
        "{}",
        report["summary"]
    );
    // What was listed still stands: the chains are diagnosed, not dropped.
    assert!(report["chains"].as_array().is_some_and(|c| !c.is_empty()));
}

#[tokio::test]
async fn a_list_only_role_is_served_as_not_kept_current() {
    let api = world();
    api.deny_verb(PODS, "watch");
    let e = start(&api).await;
    served_as_not_live(&e).await;
}

#[tokio::test]
async fn a_watch_revoked_mid_run_is_served_as_not_kept_current() {
    let api = world();
    let e = start(&api).await;
    let healthy = scrape_until(e.addr, "a diagnosis", |b| !chain_status(b).is_empty()).await;
    assert_eq!(gauge(&healthy, "kvchain_incomplete"), 0.0, "{healthy}");
    assert!(
        !healthy.contains("kvchain_gaps{kind=\"pods\"}"),
        "{healthy}"
    );
    assert_eq!(http(e.addr, "GET", "/readyz").await.1, "ready\n");
    // The re-opened watch is refused from now on.
    api.deny_verb(PODS, "watch");
    served_as_not_live(&e).await;
}
