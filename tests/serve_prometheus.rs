//! A real Prometheus (Debian's `prometheus` package) scrapes `kvchain serve` once, and
//! `promtool` checks the exposition and the example alert rules. Needs `prometheus` and
//! `promtool` on PATH: ignored by default; `.ci/run` installs the package when absent and
//! runs it with `--ignored`.

mod live_support;

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use kvchain::commands::serve;
use kvchain::source::live::{LiveSource, Scope};
use live_support::*;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One plain HTTP/1.0 GET: (status code, body).
async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let Ok(mut s) = tokio::net::TcpStream::connect(addr).await else {
        return (0, String::new());
    };
    let req = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n");
    if s.write_all(req.as_bytes()).await.is_err() {
        return (0, String::new());
    }
    let mut raw = String::new();
    let _ = s.read_to_string(&mut raw).await;
    let code = raw
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = raw
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (code, body)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `promtool ARGS` with `stdin`; panics with its output unless it succeeds.
async fn promtool(args: &[&str], stdin: &str) {
    let mut child = tokio::process::Command::new("promtool")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool on PATH (.ci/run installs Debian's prometheus package)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .await
        .unwrap();
    let out = child.wait_with_output().await.unwrap();
    assert!(
        out.status.success(),
        "promtool {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
#[ignore = "needs prometheus and promtool (Debian's prometheus package); .ci/run runs it"]
async fn prometheus_scrapes_the_exporter_and_promtool_accepts_it() {
    let api = world();
    let server = api.serve().await;
    let live = LiveSource::new(client(&server), "aks-test", Scope::All, no_azure())
        .with_options(options());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let exporter = listener.local_addr().unwrap();
    let task = tokio::spawn(serve::serve(live, listener));

    // The exposition as curl gets it (classic text format) passes promtool's linter.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let body = loop {
        let (code, body) = get(exporter, "/metrics").await;
        if code == 200 && body.contains("kvchain_chain_status{") {
            break body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "exporter never ready"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    promtool(&["check", "metrics"], &body).await;

    // The example alerts are valid rules.
    let rule: serde_yaml::Value = serde_yaml::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/assets/deploy/prometheusrule.yaml"
        ))
        .unwrap(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.yaml");
    std::fs::write(&rules, serde_yaml::to_string(&rule["spec"]).unwrap()).unwrap();
    promtool(&["check", "rules", rules.to_str().unwrap()], "").await;

    // A real Prometheus scrapes it (asking for OpenMetrics, as it does by default).
    let port = free_port();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global: {{scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}}\n\
             rule_files: [{}]\n\
             scrape_configs:\n- job_name: kvchain\n  static_configs: [{{targets: ['{exporter}']}}]\n",
            rules.display()
        ),
    )
    .unwrap();
    let _prometheus = tokio::process::Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("prometheus on PATH");
    let prom: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let query = |q: &'static str| async move {
        let (code, body) = get(prom, &format!("/api/v1/query?query={q}")).await;
        if code != 200 {
            return Vec::new();
        }
        let v: Value = serde_json::from_str(&body).unwrap_or_default();
        v["data"]["result"].as_array().cloned().unwrap_or_default()
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let series = loop {
        let up = query("up%7Bjob%3D%22kvchain%22%7D").await;
        let series = query("kvchain_chain_status").await;
        if up.first().and_then(|u| u["value"][1].as_str()) == Some("1") && !series.is_empty() {
            break series;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "Prometheus did not scrape the exporter in 60s: {:?}",
            get(prom, "/api/v1/targets").await
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    // One series per chain and link: the bare pod's chain and the Deployment's (diagnosed from
    // its pod template, none of its pods exist in this world).
    assert_eq!(
        series.len(),
        2 * kvchain::chain::LinkKind::ALL.len(),
        "{series:?}"
    );
    for s in &series {
        let m = &s["metric"];
        assert_eq!(m["namespace"], "payments");
        assert!(m["link"].is_string() && m["spc"].is_string() && m["workload"].is_string());
    }
    let counter = query("kvchain_diagnoses_total").await;
    assert!(!counter.is_empty(), "the counter keeps its _total name");
    task.abort();
}
