//! `kvchain snapshot save` says what it could not read, as `check` does (audit F10): it
//! reported "snapshot of 0 pods written" and exit 0 when pods and SecretProviderClasses were
//! forbidden, which read as an empty cluster. The file is still written; stderr leads with
//! `INCOMPLETE:` and lists the gaps ("Not visible"), and the exit status is 3.

use crate::live_support::*;

struct Run {
    code: Option<i32>,
    stderr: String,
    file: Option<String>,
}

/// `kvchain snapshot save --no-azure -n payments -o snap.json` against `api`.
async fn save(api: &FakeApi) -> Run {
    let server = api.serve().await;
    let dir = tempfile::tempdir().unwrap();
    let path = kubeconfig(&server, dir.path());
    let snap = dir.path().join("snap.json");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args([
            "snapshot",
            "save",
            "--no-azure",
            "--context",
            "aks-payments",
        ])
        .args(["-n", NS, "-o"])
        .arg(&snap)
        .arg("--kubeconfig")
        .arg(&path)
        .env("NO_COLOR", "1")
        .output()
        .await
        .unwrap();
    Run {
        code: out.status.code(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        file: std::fs::read_to_string(&snap).ok(),
    }
}

#[tokio::test]
async fn a_snapshot_without_pods_or_spcs_says_so_and_exits_3() {
    let api = world();
    api.deny_everything();
    let run = save(&api).await;
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    let err = &run.stderr;
    assert!(
        err.starts_with("kvchain: INCOMPLETE: pods in payments, ")
            && err.contains(" could not be read — snapshot of 0 pods written to "),
        "{err}"
    );
    for line in [
        "Not visible (incomplete",
        "  cannot list pods in payments: forbidden",
        "  cannot list secretproviderclasses in payments: forbidden",
    ] {
        assert!(err.contains(line), "missing {line:?} in\n{err}");
    }
    // Still written: what was seen, gaps included, for `check --snapshot` to report again.
    let file = run.file.expect("the snapshot file is written");
    assert!(file.contains("\"kvchain_snapshot\": 1"), "{file}");
}

#[tokio::test]
async fn a_snapshot_with_pods_and_spcs_read_exits_0() {
    // (The fake API serves no nodes: that gap is listed, but hides no chain.)
    let run = save(&world()).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with("kvchain: snapshot of 1 pods written"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("INCOMPLETE"), "{}", run.stderr);
}
