//! An API server that answers with errors of its own (429, 5xx): README "Degrading, not
//! failing" — a transient one is asked again a bounded number of times and passes unnoticed;
//! one that keeps failing ends `check` in bounded time, named by its answer (server, context,
//! HTTP status, the Status reason and message), never as "cannot reach" nor as a Rust dump;
//! in a fleet it is a `cluster` gap while the other contexts are still reported.

use std::time::{Duration, Instant};

use crate::live_support::*;

/// `kvchain check ARGS` against `kubeconfig`, with its exit code, stdout, stderr and how long
/// it took. A hang fails the test instead of holding it.
async fn check(
    kubeconfig: &std::path::Path,
    args: &[&str],
) -> (Option<i32>, String, String, Duration) {
    let started = Instant::now();
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "--no-azure"])
        .args(args)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .env("NO_COLOR", "1")
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("check ends within a minute")
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        started.elapsed(),
    )
}

fn says_the_answer(text: &str, server: &str) {
    assert!(
        text.contains(&format!("API server {server} (context aks-payments) answered 503 InternalError: Internal error occurred: etcdserver: leader changed")),
        "{text}"
    );
    for dump in ["Status {", "ListMeta", "Some(", "ApiError"] {
        assert!(!text.contains(dump), "a Debug dump ({dump}): {text}");
    }
}

#[tokio::test]
async fn a_server_answering_503_ends_check_at_once_with_its_answer_not_cannot_reach() {
    let api = world();
    api.fail_every_request(Some(503));
    let server = api.serve().await;
    let dir = tempfile::tempdir().unwrap();
    let path = kubeconfig(&server, dir.path());
    let (code, stdout, stderr, took) = check(&path, &["--context", "aks-payments"]).await;
    // Reached but not read: the documented exit 2, after a few tries within seconds.
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert!(took < Duration::from_secs(20), "took {took:?}");
    says_the_answer(&stderr, &server.uri());
    assert!(!stderr.contains("cannot reach"), "{stderr}");
    // It was asked again, but a bounded number of times.
    let versions = api
        .requests()
        .iter()
        .filter(|r| r.contains("/version"))
        .count();
    assert!((2..=4).contains(&versions), "{versions} /version requests");
}

#[tokio::test]
async fn a_transient_503_is_asked_again_and_passes_unnoticed() {
    let api = world();
    let server = api.serve().await;
    let dir = tempfile::tempdir().unwrap();
    let path = kubeconfig(&server, dir.path());
    let args = ["--context", "aks-payments", "-o", "json"];
    let report = |stdout: &str| -> (serde_json::Value, serde_json::Value) {
        let r: serde_json::Value = serde_json::from_str(stdout).expect("a JSON report");
        (r["summary"].clone(), r["gaps"].clone())
    };
    let (code, healthy, _, _) = check(&path, &args).await;
    // An etcd leader change: the first two requests fail, then the server is fine.
    api.fail_next_requests(&[503, 503]);
    let (after, stdout, stderr, _) = check(&path, &args).await;
    assert_eq!(after, code, "{stderr}");
    // The same report as without the hiccup: the same chains and verdicts, no new gap.
    assert_eq!(report(&stdout), report(&healthy), "{stdout}");
}

/// A11-3: one failing control plane must not hold the fleet report; with `--request-timeout`
/// its reason is still its answer, not "no answer within".
#[tokio::test]
async fn a_fleet_reports_a_503_cluster_as_a_gap_in_bounded_time() {
    let api = world();
    api.fail_every_request(Some(503));
    let server = api.serve().await;
    let dir = tempfile::tempdir().unwrap();
    let path = kubeconfig(&server, dir.path());
    for timeout in [None, Some("3s")] {
        let mut args = vec![
            "--context",
            "aks-payments",
            "--context",
            "elsewhere",
            "-o",
            "json",
        ];
        if let Some(t) = timeout {
            args.extend(["--request-timeout", t]);
        }
        let (code, stdout, stderr, took) = check(&path, &args).await;
        assert_eq!(code, Some(3), "{timeout:?}: {stdout}{stderr}");
        assert!(took < Duration::from_secs(20), "{timeout:?}: took {took:?}");
        let report: serde_json::Value = serde_json::from_str(&stdout).expect("a JSON report");
        let gaps = report["gaps"].as_array().expect("gaps");
        let reason = |cluster: &str| {
            gaps.iter()
                .find(|g| g["kind"] == "cluster" && g["cluster"] == cluster)
                .and_then(|g| g["reason"].as_str())
                .unwrap_or_else(|| panic!("no cluster gap for {cluster}: {stdout}"))
                .to_string()
        };
        says_the_answer(&reason("aks-payments"), &server.uri());
        assert!(
            !reason("aks-payments").contains("no answer within"),
            "{stdout}"
        );
        // The other context is reported too, with its own reason.
        assert!(
            reason("elsewhere").contains("cannot reach http://127.0.0.1:9 (context elsewhere)"),
            "{stdout}"
        );
    }
}

/// No server at all: `check` says what happened (the connection was refused), as kubectl
/// does, not only where kube's client gave up (`ServiceError: client error (Connect)`).
#[tokio::test]
async fn a_refused_connection_is_named_as_refused() {
    // A port that was free a moment ago: nobody listens on it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let path = kubeconfig_for(&server, dir.path());
    let (code, stdout, stderr, _) = check(&path, &[]).await;
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert!(
        stderr.contains(&format!(
            "cannot reach {server} (context hung): Connection refused"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("ServiceError"), "{stderr}");
}

/// Audit SS3: the SecretProviderClass list keeps answering 500 until startup gives up. The
/// driver's Secrets listed (200); only the by-name Secret reads never ran, as they wait for
/// the SPCs that name the Secrets. The gap is the SPCs' (with their last error), and no
/// "secrets: not listed" blames a list that answered.
#[tokio::test]
async fn an_spc_list_that_never_answers_leaves_no_secrets_gap() {
    let api = world();
    api.fail_next_lists(SPCS, &[500; 200]);
    let server = api.serve().await;
    let mut opts = options();
    opts.startup_deadline = Duration::from_secs(2);
    let live = kvchain::source::live::LiveSource::new(
        client(&server),
        "aks-test",
        kvchain::source::live::Scope::All,
        no_azure(),
    )
    .with_options(opts);
    let snap = tokio::time::timeout(Duration::from_secs(30), live.snapshot())
        .await
        .expect("snapshot within 30s");
    let why = snap.spcs.gaps.all.as_deref().expect("SPCs unknown");
    assert!(
        why.starts_with("not listed within 2s: list secretproviderclasses: 500"),
        "{why}"
    );
    assert!(
        snap.secrets.gaps.is_empty(),
        "the Secrets list answered: {:?}",
        snap.secrets.gaps
    );
}

/// Audit SS6: one kind (the SPC list) gets no answer within `--request-timeout`: its gap names
/// the limit and the flag, as the whole-server case does ("no answer within 1s
/// (--request-timeout)"), not a bare "request timed out".
#[tokio::test]
async fn one_kind_past_the_request_timeout_names_the_limit_and_the_flag() {
    let api = world();
    api.hang_path(SPCS);
    let server = api.serve().await;
    let dir = tempfile::tempdir().unwrap();
    let kube = kvchain::source::args::KubeArgs {
        kubeconfig: Some(kubeconfig(&server, dir.path())),
        context: vec!["aks-payments".into()],
        request_timeout: Some(Duration::from_secs(1)),
        ..Default::default()
    };
    let c = kvchain::source::live::prepare(&kube)
        .await
        .expect("kubeconfig");
    let mut opts = options();
    opts.startup_deadline = Duration::from_secs(3);
    let live = kvchain::source::live::LiveSource::new(
        c.client,
        "aks-payments",
        kvchain::source::live::Scope::All,
        no_azure(),
    )
    .with_options(opts);
    let snap = tokio::time::timeout(Duration::from_secs(30), live.snapshot())
        .await
        .expect("snapshot within 30s");
    let why = snap.spcs.gaps.all.as_deref().expect("SPCs unknown");
    assert_eq!(
        why,
        "not listed within 3s: list secretproviderclasses: no answer within 1s (--request-timeout)"
    );
}
