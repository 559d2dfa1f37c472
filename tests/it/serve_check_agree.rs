//! Audit MMM-out: README "Run it in the cluster": `/report.json` is "the `kvchain check -o
//! json` report of the latest diagnosis", and `kvchain_findings` counts "as `check`'s summary
//! counts errors, warnings and info", suppressed and blocked ones apart. One fake cluster,
//! read in part (events refused: links unknown, chains not verified), with a
//! config rule suppressing one finding: `serve` and `check --context` must tell the same.

use std::net::SocketAddr;
use std::time::Duration;

use crate::live_support::*;
use crate::serve_blocked_metrics::{assert_counts_agree, sum};
use kvchain::commands::serve;
use kvchain::source::live::{LiveSource, Scope};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.0\r\nHost: x\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).await.unwrap();
    let code = raw.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = raw.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (code, body.to_string())
}

/// What two reports of one world must share: each finding's identity and standing, each
/// gap, each chain's id and status.
fn facts(r: &Value) -> Value {
    let pick = |key: &str, fields: &[&str]| -> Value {
        (r[key].as_array().unwrap().iter())
            .map(|v| fields.iter().map(|f| v[*f].clone()).collect::<Vec<_>>())
            .collect::<Vec<_>>()
            .into()
    };
    serde_json::json!({
        "summary": r["summary"],
        "findings": pick("findings", &["code", "severity", "resource", "suppressed", "follows", "chains"]),
        "gaps": pick("gaps", &["kind", "namespace", "reason"]),
        "chains": pick("chains", &["id", "status", "codes"]),
        "spcs": r["spcs"],
    })
}

/// Events refused: links unknown, chains not verified, nothing hidden.
#[tokio::test]
async fn serve_reports_and_counts_what_check_reports_on_the_same_cluster() {
    let check = agree(EVENTS).await;
    assert!(
        check["summary"]["suppressed"].as_u64() >= Some(1),
        "{}",
        check["summary"]
    );
    assert!(
        check["summary"]["unverified"].as_u64() >= Some(1),
        "{}",
        check["summary"]
    );
}

/// SecretProviderClasses refused: chains may be missing, `/readyz` still 200 (README: a
/// refusal is a gap in the metrics, `kvchain_incomplete 1`, not an unready pod).
#[tokio::test]
async fn serve_is_ready_and_incomplete_where_check_is_incomplete() {
    let check = agree(SPCS).await;
    assert_eq!(check["summary"]["incomplete"], true, "{}", check["summary"]);
}

/// `serve` and `check` on one fake cluster with `refused` denied everywhere and a rule
/// suppressing KVC201: asserts they agree, returns the check report.
async fn agree(refused: &str) -> Value {
    let api = world();
    api.deny(refused, None);
    let server = api.serve().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.yaml");
    std::fs::write(&config, "ignore:\n  - code: KVC201\n    reason: accepted\n").unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args([
            "check",
            "--no-azure",
            "--context",
            "aks-payments",
            "-A",
            "-o",
            "json",
        ])
        .arg("--kubeconfig")
        .arg(kubeconfig(&server, dir.path()))
        .arg("--config")
        .arg(&config)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let check: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));

    let rules = kvchain::suppress::Rules::new(&[kvchain::suppress::IgnoreRule {
        code: "KVC201".into(),
        reason: Some("accepted".into()),
        ..Default::default()
    }])
    .unwrap();
    let live = LiveSource::new(client(&server), "aks-payments", Scope::All, no_azure())
        .with_options(options());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(serve::serve_with(live, listener, rules));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while get(addr, "/readyz").await.0 != 200 {
        assert!(tokio::time::Instant::now() < deadline, "never ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let report: Value = serde_json::from_str(&get(addr, "/report.json").await.1).unwrap();
    let scrape = get(addr, "/metrics").await.1;
    task.abort();

    assert_eq!(facts(&report), facts(&check));
    let s = &check["summary"];
    let n = |k: &str| s[k].as_u64().unwrap_or(0);
    assert_counts_agree(&scrape, &check);
    assert_eq!(
        sum(&scrape, "kvchain_chains", None),
        n("chains"),
        "{scrape}"
    );
    let gaps = check["gaps"].as_array().unwrap().len() as u64;
    assert_eq!(sum(&scrape, "kvchain_gaps", None), gaps, "{scrape}");
    assert_eq!(
        sum(&scrape, "kvchain_incomplete", None),
        u64::from(s["incomplete"] == true)
    );
    for secret in [CANARY, CANARY_NAMED, CANARY_LAST_APPLIED, CANARY_UNRELATED] {
        assert!(
            !scrape.contains(secret) && !stdout.contains(secret),
            "a secret value"
        );
    }
    check
}
