//! Audit Y3: README's usage lists every `-o` format for `check`; a check of several clusters
//! prints text or JSON only and says so before reading any cluster (exit 2, the format named
//! as typed), while one distinct context — a context repeated, or `--all-contexts` over a
//! one-context kubeconfig — is "the plain single-cluster report, unchanged", any format.

use super::check_fleet::{check, fleet};
use serde_json::Value;

#[tokio::test]
async fn a_context_repeated_is_the_single_cluster_report_in_sarif() {
    let f = fleet().await;
    let (code, out, err) = check(
        &f,
        &[
            "--context",
            "healthy",
            "--context",
            "healthy",
            "-o",
            "sarif",
        ],
    )
    .await;
    assert_eq!(code, Some(0), "{out}\n{err}");
    let doc: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    assert_eq!(doc["runs"][0]["properties"]["source"], "live", "{out}");
}

#[tokio::test]
async fn all_contexts_over_one_context_is_the_single_cluster_report() {
    let f = fleet().await;
    // The same kubeconfig with only the `healthy` context left.
    let text = std::fs::read_to_string(&f.kubeconfig).unwrap();
    let one: String = text
        .split_inclusive('\n')
        .filter(|l| !l.contains("name: broken") && !l.contains("name: dead"))
        .filter(|l| !l.contains("cluster: two") && !l.contains("cluster: gone"))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig-one");
    std::fs::write(&path, one).unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args([
            "check",
            "--no-azure",
            "--request-timeout",
            "5s",
            "--all-contexts",
        ])
        .args(["-o", "junit", "--kubeconfig"])
        .arg(&path)
        .output()
        .await
        .unwrap();
    let xml = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{xml}\n{err}");
    assert!(
        xml.contains("<testsuites") && xml.contains("<testcase"),
        "{xml}"
    );
}

#[tokio::test]
async fn several_clusters_refuse_other_formats_naming_them() {
    let f = fleet().await;
    for format in ["sarif", "junit", "mermaid", "svg"] {
        let (code, out, err) = check(
            &f,
            &["--context", "healthy", "--context", "broken", "-o", format],
        )
        .await;
        assert_eq!(code, Some(2), "{format}: {out}\n{err}");
        assert!(out.is_empty(), "{out}");
        assert!(
            err.contains(&format!("-o {format}:")) && err.contains("text or json"),
            "{err}"
        );
    }
}
