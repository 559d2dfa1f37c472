//! From kubeconfig to a running live source, and `kvchain check` on a live cluster.

use crate::live_support::*;
use kvchain::source::args::KubeArgs;
use kvchain::source::live::{ConnectError, Scope, connect};

fn args(path: std::path::PathBuf, all: bool) -> KubeArgs {
    KubeArgs {
        kubeconfig: Some(path),
        context: vec!["aks-payments".into()],
        namespace: None,
        all_namespaces: all,
        ..KubeArgs::default()
    }
}

#[tokio::test]
async fn context_flag_picks_the_cluster_and_default_scope_is_all_namespaces() {
    let api = world();
    let server = api.serve().await;
    let dir = tempfile::tempdir().unwrap();
    let live = connect(&args(kubeconfig(&server, dir.path()), false), &no_azure())
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"));
    assert_eq!(live.scope(), &Scope::All);
    assert_eq!(live.notice(), None);
    use kvchain::source::Source;
    assert_eq!(live.info().label, "aks-payments");
    let snap = live.snapshot().await;
    assert_eq!(snap.pods.items.len(), 1);
}

#[tokio::test]
async fn cluster_scope_forbidden_narrows_to_the_context_namespace_unless_all_was_asked() {
    let api = world();
    api.forbid("/api/v1/pods");
    let server = api.serve().await;
    let dir = tempfile::tempdir().unwrap();
    let path = kubeconfig(&server, dir.path());

    let live = connect(&args(path.clone(), false), &no_azure())
        .await
        .unwrap();
    assert_eq!(live.scope(), &Scope::Namespace(NS.into()));
    assert!(
        live.notice()
            .unwrap()
            .contains("showing namespace payments")
    );
    assert_eq!(live.snapshot().await.pods.items.len(), 1);

    // Explicit -A: the user asked for everything, so the gap is shown instead.
    let live = connect(&args(path, true), &no_azure()).await.unwrap();
    assert_eq!(live.scope(), &Scope::All);
    let snap = live.snapshot().await;
    assert_eq!(
        snap.pods.gaps.all.as_deref(),
        Some("cannot list pods at the cluster scope: forbidden")
    );
}

#[tokio::test]
async fn unreachable_cluster_is_an_error_not_a_lab_fallback() {
    let api = world();
    let server = api.serve().await;
    let dir = tempfile::tempdir().unwrap();
    let mut a = args(kubeconfig(&server, dir.path()), false);
    a.context = Vec::new(); // current-context points at a dead address
    match connect(&a, &no_azure()).await {
        Err(ConnectError::Other(e)) => assert!(e.to_string().contains("elsewhere"), "{e}"),
        Err(ConnectError::NoKubeconfig(w)) => panic!("fell back to the lab: {w}"),
        Ok(_) => panic!("connected to a dead cluster"),
    }
}

#[tokio::test]
async fn check_command_runs_on_the_live_cluster() {
    let api = world();
    let server = api.serve().await;
    let dir = tempfile::tempdir().unwrap();
    let path = kubeconfig(&server, dir.path());
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args([
            "check",
            "--no-azure",
            "--context",
            "aks-payments",
            "--kubeconfig",
        ])
        .arg(&path)
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.code().is_some_and(|c| c == 0 || c == 1),
        "{stderr}"
    );
    let all = format!("{}{stderr}", String::from_utf8_lossy(&out.stdout));
    for canary in [CANARY, CANARY_NAMED, CANARY_UNRELATED, CANARY_LAST_APPLIED] {
        assert!(!all.contains(canary));
    }
}

#[tokio::test]
async fn no_kubeconfig_anywhere_says_so() {
    let home = tempfile::tempdir().unwrap();
    // Neither KUBECONFIG nor ~/.kube/config; and, like kubectl, a KUBECONFIG naming only
    // files that do not exist counts as no kubeconfig (it replaces ~/.kube/config).
    for kubeconfig in [None, Some(home.path().join("missing-config"))] {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_kvchain"));
        cmd.args(["check", "--no-azure"])
            .env_remove("KUBERNETES_SERVICE_HOST")
            .env_remove("KUBERNETES_SERVICE_PORT")
            .env("HOME", home.path());
        match &kubeconfig {
            Some(p) => cmd.env("KUBECONFIG", p),
            None => cmd.env_remove("KUBECONFIG"),
        };
        let out = cmd.output().await.unwrap();
        assert_eq!(out.status.code(), Some(2), "{kubeconfig:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("no cluster configured"),
            "{kubeconfig:?}: {stderr}"
        );
        // It names where it looked, so a mistyped KUBECONFIG is obvious.
        let looked_at = match &kubeconfig {
            Some(p) => p.display().to_string(),
            None => home
                .path()
                .join(".kube")
                .join("config")
                .display()
                .to_string(),
        };
        assert!(stderr.contains(&looked_at), "{kubeconfig:?}: {stderr}");
        assert!(stderr.contains("in-cluster service account"), "{stderr}");
    }
}

/// README §Live clusters: the no-cluster notice names every place it looked; a kubeconfig
/// that exists but defines no cluster is named too (which file was empty?).
#[tokio::test]
async fn an_empty_kubeconfig_is_named_in_the_no_cluster_notice() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.kubeconfig");
    std::fs::write(&empty, "\n").unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "--no-azure"])
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env("KUBECONFIG", &empty)
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "KUBECONFIG file {} defines no cluster",
            empty.display()
        )),
        "{stderr}"
    );
}

/// README "Degrading, not failing": a failing API server is reconnected with backoff, and the
/// UI is told so. A cluster that refuses the very first connection is no different: kvchain
/// keeps trying and the data arrives when the server comes up.
#[tokio::test]
async fn a_refused_first_connection_is_retried_until_the_server_answers() {
    use kvchain::source::connecting::Connecting;
    use kvchain::source::{Source, SourceEvent};
    use std::time::Duration;
    // A port nobody listens on (yet): connections are refused.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let args = KubeArgs {
        kubeconfig: Some(kubeconfig_for(&url, dir.path())),
        ..KubeArgs::default()
    };
    let c = kvchain::source::live::prepare(&args).await.unwrap();
    let reach = kvchain::commands::tui::reacher(c, &args, &no_azure());
    let source =
        Connecting::new("hung".into(), url.clone(), reach).with_backoff(Duration::from_millis(100));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let (_commands, crx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(Box::new(source).run(tx, crx));

    // Two failed attempts, each said with its reason and the wait before the next.
    let mut failures = Vec::new();
    while failures.len() < 2 {
        match next(&mut rx).await {
            SourceEvent::Unreachable {
                why,
                retry_in,
                attempt,
            } => failures.push((why, retry_in, attempt)),
            SourceEvent::Failed(e) => panic!("the source gave up: {e}"),
            _ => {}
        }
    }
    assert!(failures[0].0.contains(&url), "{:?}", failures[0]);
    assert_eq!((failures[0].2, failures[1].2), (1, 2));
    assert!(failures[1].1 > failures[0].1, "backoff grows: {failures:?}");

    // The server comes up on that port: the next attempt connects and data flows.
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let _server = world().serve_on(listener).await;
    loop {
        match next(&mut rx).await {
            SourceEvent::Snapshot(s) => {
                assert_eq!(s.pods.items.len(), 1);
                break;
            }
            SourceEvent::Failed(e) => panic!("the source gave up: {e}"),
            _ => {}
        }
    }
}

/// `ctrl-r` while the cluster is unreachable retries at once instead of waiting out the
/// backoff.
#[tokio::test]
async fn refresh_cuts_the_reconnect_backoff_short() {
    use kvchain::source::connecting::{Connecting, Reach};
    use kvchain::source::{Source, SourceCommand};
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;
    let tries = std::sync::Arc::new(AtomicU32::new(0));
    let counted = tries.clone();
    let reach = Box::new(move || -> Reach {
        counted.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Err("connection refused".to_string()) })
    });
    // An hour between attempts: only the refresh can bring the second one.
    let source = Connecting::new("c".into(), "https://x".into(), reach)
        .with_backoff(Duration::from_secs(3600));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let (commands, crx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(Box::new(source).run(tx, crx));
    assert_eq!(next_attempt(&mut rx).await, 1);
    commands.send(SourceCommand::Refresh).unwrap();
    assert_eq!(next_attempt(&mut rx).await, 2);
    assert_eq!(tries.load(Ordering::SeqCst), 2);
}

type Events = tokio::sync::mpsc::UnboundedReceiver<kvchain::source::SourceEvent>;

async fn next(rx: &mut Events) -> kvchain::source::SourceEvent {
    tokio::time::timeout(std::time::Duration::from_secs(60), rx.recv())
        .await
        .expect("an event within a minute")
        .expect("the source keeps running")
}

/// The attempt number of the next [`SourceEvent::Unreachable`].
async fn next_attempt(rx: &mut Events) -> u32 {
    loop {
        if let kvchain::source::SourceEvent::Unreachable { attempt, .. } = next(rx).await {
            return attempt;
        }
    }
}
