//! `kvchain serve` logs to stderr — what `kubectl logs` shows of the pod — at `info` unless
//! `KVCHAIN_LOG` says otherwise (audit FFF10): a refused read is in the log, a secret value
//! never is, at any level.

use std::process::Stdio;
use std::time::Duration;

use crate::live_support::*;
use base64::Engine as _;
use tokio::io::AsyncReadExt;

/// Runs the binary's `serve` against `api` for a few seconds with `log` as `KVCHAIN_LOG`
/// (unset with `None`); returns its stderr.
async fn serve_stderr(api: &FakeApi, log: Option<&str>, until: &str) -> String {
    let server = api.serve().await;
    let dir = tempfile::tempdir().unwrap();
    let path = kubeconfig(&server, dir.path());
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_kvchain"));
    cmd.args(["serve", "--no-azure", "--context", "aks-payments"])
        .args(["--listen", "127.0.0.1:0", "--kubeconfig"])
        .arg(&path)
        // No log file anywhere: the data directory is empty and stays so.
        .env("HOME", dir.path())
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .env_remove("KVCHAIN_LOG_FILE")
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    match log {
        Some(l) => cmd.env("KVCHAIN_LOG", l),
        None => cmd.env_remove("KVCHAIN_LOG"),
    };
    let mut child = cmd.spawn().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut buf = [0u8; 8192];
    while tokio::time::Instant::now() < deadline {
        match tokio::time::timeout_at(deadline, stderr.read(&mut buf)).await {
            Ok(Ok(0)) | Err(_) => break,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Ok(Err(e)) => panic!("{e}"),
        }
        if String::from_utf8_lossy(&out).contains(until) {
            break;
        }
    }
    child.kill().await.unwrap();
    assert!(
        !dir.path().join("data").exists(),
        "serve wrote a log file rather than stderr"
    );
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn serve_logs_a_refused_read_to_stderr_by_default() {
    let api = world();
    api.deny(EVENTS, None);
    let refused = "cannot list events at the cluster scope: forbidden";
    let stderr = serve_stderr(&api, None, refused).await;
    assert!(stderr.contains(refused), "{stderr}");
    assert!(
        stderr.contains("INFO") || stderr.contains("WARN"),
        "{stderr}"
    );
}

#[tokio::test]
async fn serve_logs_no_secret_value_even_at_trace() {
    let api = world();
    api.deny(EVENTS, None);
    let stderr = serve_stderr(&api, Some("trace"), "diagnosed").await;
    assert!(
        stderr.contains("DEBUG") || stderr.contains("TRACE"),
        "{stderr}"
    );
    for canary in [CANARY, CANARY_NAMED, CANARY_LAST_APPLIED, CANARY_UNRELATED] {
        let b64 = base64::engine::general_purpose::STANDARD.encode(canary);
        assert!(!stderr.contains(canary), "{canary} in the log");
        assert!(!stderr.contains(&b64), "{canary} (base64) in the log");
    }
}
