//! From kubeconfig to a running live source, and `kvchain check` on a live cluster.

use crate::live_support::*;
use kvchain::cli::KubeArgs;
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
