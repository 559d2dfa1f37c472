//! `kvchain check --context a --context b` and `--all-contexts`: one report over several
//! clusters, `cluster` on every chain, finding and gap; a context that cannot be read is a
//! gap, not an abort; the exit status is over all of them.

use crate::live_support::*;
use serde_json::{Value, json};
use wiremock::MockServer;

/// Contexts `healthy` and `broken` on two fake API servers, `dead` on a closed port.
pub(crate) fn kubeconfig3(
    healthy: &MockServer,
    broken: &MockServer,
    dir: &std::path::Path,
) -> std::path::PathBuf {
    let text = format!(
        "apiVersion: v1
kind: Config
clusters:
- name: one
  cluster:
    server: {}
- name: two
  cluster:
    server: {}
- name: gone
  cluster:
    server: http://127.0.0.1:9
contexts:
- name: healthy
  context: {{cluster: one, user: alice}}
- name: broken
  context: {{cluster: two, user: alice}}
- name: dead
  context: {{cluster: gone, user: alice}}
current-context: healthy
users:
- name: alice
  user:
    token: not-a-secret-test-token
",
        healthy.uri(),
        broken.uri()
    );
    let path = dir.join("kubeconfig-fleet");
    std::fs::write(&path, text).unwrap();
    path
}

pub(crate) struct Fleet {
    pub(crate) _servers: (MockServer, MockServer),
    pub(crate) _dir: tempfile::TempDir,
    pub(crate) kubeconfig: std::path::PathBuf,
}

pub(crate) async fn fleet() -> Fleet {
    let healthy = world();
    healthy.replace_silently(EVENTS, Vec::new());
    let broken = world();
    broken.replace_silently(EVENTS, Vec::new());
    // The pod's SecretProviderClass is gone: its chain is broken.
    broken.replace_silently(SPCS, Vec::new());
    fleet_of(&healthy, &broken).await
}

/// Context `healthy`, and `broken` read in part: its SecretProviderClasses are forbidden, so
/// its chains may be missing.
pub(crate) async fn fleet_read_in_part() -> Fleet {
    let healthy = world();
    healthy.replace_silently(EVENTS, Vec::new());
    let partial = world();
    partial.replace_silently(EVENTS, Vec::new());
    partial.deny(SPCS, None);
    fleet_of(&healthy, &partial).await
}

/// Contexts `healthy` and `broken` served from `healthy` and `other` ([`kubeconfig3`]).
pub(crate) async fn fleet_of(healthy: &FakeApi, other: &FakeApi) -> Fleet {
    let (a, b) = (healthy.serve().await, other.serve().await);
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = kubeconfig3(&a, &b, dir.path());
    Fleet {
        _servers: (a, b),
        _dir: dir,
        kubeconfig,
    }
}

pub(crate) async fn check(f: &Fleet, args: &[&str]) -> (Option<i32>, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "--no-azure", "--request-timeout", "5s"])
        .args(args)
        .arg("--kubeconfig")
        .arg(&f.kubeconfig)
        .env("NO_COLOR", "1")
        .output()
        .await
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn clusters_of<'a>(report: &'a Value, key: &str) -> std::collections::BTreeSet<&'a str> {
    report[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} array"))
        .iter()
        .map(|v| {
            v["cluster"]
                .as_str()
                .unwrap_or_else(|| panic!("{key} item without cluster: {v}"))
        })
        .collect()
}

#[tokio::test]
async fn several_contexts_make_one_report_and_a_dead_one_is_a_gap() {
    let f = fleet().await;
    let (code, out, err) = check(
        &f,
        &["--context", "healthy", "--context", "dead", "-o", "json"],
    )
    .await;
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    assert_eq!(
        code,
        Some(3),
        "no error anywhere, one cluster unread: {out}\n{err}"
    );
    assert_eq!(clusters_of(&report, "chains"), ["healthy"].into());
    let gap = report["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["kind"] == "cluster")
        .unwrap_or_else(|| panic!("no cluster gap: {out}"));
    assert_eq!(gap["cluster"], "dead");
    let reason = gap["reason"].as_str().unwrap();
    assert!(
        reason.contains("http://127.0.0.1:9") && reason.contains("context dead"),
        "names the server and the context: {reason}"
    );
    assert_eq!(
        report["clusters"],
        json!([
            {"cluster": "healthy", "read": true, "incomplete": false, "label": "healthy", "summary": report["clusters"][0]["summary"], "unread": []},
            {"cluster": "dead", "read": false}
        ])
    );
}

#[tokio::test]
async fn all_contexts_reads_every_context_and_an_error_anywhere_exits_1() {
    let f = fleet().await;
    let (code, out, err) = check(&f, &["--all-contexts", "-o", "json"]).await;
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    assert_eq!(code, Some(1), "{out}\n{err}");
    assert_eq!(clusters_of(&report, "chains"), ["broken", "healthy"].into());
    assert_eq!(
        clusters_of(&report, "findings"),
        ["broken", "healthy"].into()
    );
    assert!(clusters_of(&report, "gaps").contains("dead"));
    let errors_in = |c: &str| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["cluster"] == c && f["severity"] == "error")
            .count()
    };
    assert!(
        errors_in("broken") > 0 && errors_in("healthy") == 0,
        "{out}"
    );
    let total: u64 = report["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["summary"]["chains"].as_u64())
        .sum();
    assert_eq!(report["summary"]["chains"], total);
}

#[tokio::test]
async fn text_names_each_cluster_and_the_unread_ones_first() {
    let f = fleet().await;
    let (code, out, _) = check(&f, &["--context", "dead", "--context", "healthy"]).await;
    assert_eq!(code, Some(3), "{out}");
    let first_line = out.lines().next().unwrap();
    assert!(
        first_line.starts_with("INCOMPLETE: 1 cluster could not be read — ")
            && first_line.contains("2 clusters (1 not read)"),
        "{first_line}"
    );
    let unread = out
        .find("cluster dead: ")
        .unwrap_or_else(|| panic!("{out}"));
    let healthy = out
        .find("═══ cluster healthy")
        .unwrap_or_else(|| panic!("{out}"));
    assert!(unread < healthy, "{out}");
    assert!(!out.contains("═══ cluster dead"), "{out}");
}

#[tokio::test]
async fn one_context_is_the_plain_single_cluster_report() {
    let f = fleet().await;
    let (_, out, err) = check(&f, &["--context", "healthy", "-o", "json"]).await;
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    assert!(
        report.get("clusters").is_none(),
        "unchanged contract: {out}"
    );
    assert!(report["chains"][0].get("cluster").is_none());
}

/// A cluster read in part (SecretProviderClasses forbidden: chains may be missing) has no
/// verdict: its section starts INCOMPLETE, and so does the fleet's first line, which is what a
/// CI log shows (README: "0 errors" over unread objects is no verdict).
#[tokio::test]
async fn a_cluster_read_in_part_makes_the_fleet_line_incomplete() {
    let f = fleet_read_in_part().await;
    let (code, out, err) = check(&f, &["--context", "healthy", "--context", "broken"]).await;
    assert_eq!(code, Some(3), "{out}\n{err}");
    let first_line = out.lines().next().unwrap();
    assert!(
        first_line.starts_with("INCOMPLETE: 1 cluster read without a verdict — ")
            && first_line.contains("2 clusters (0 not read, 1 incomplete)"),
        "{first_line}"
    );
    let (code, out, _) = check(&f, &["--context", "healthy"]).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("INCOMPLETE"), "{out}");
}

/// Audit XX5: a kubeconfig's context names are free strings. The fleet's text report wrote
/// them raw (the headline of a cluster read, the line of one that could not be read and its
/// reason): `ESC[2J` cleared the reader's screen and OSC 52 set their clipboard. They are
/// written as `\u{…}` like every echoed value (README), in the report and on stderr.
#[tokio::test]
async fn context_names_with_terminal_escapes_are_escaped_in_the_text_report() {
    let healthy = world();
    healthy.replace_silently(EVENTS, Vec::new());
    let server = healthy.serve().await;
    // JSON strings are YAML double-quoted scalars: `\u001b` holds the raw ESC in the file.
    let (clear, clip) = (
        serde_json::to_string("one\u{1b}[2J").unwrap(),
        serde_json::to_string("two\u{1b}]52;c;Q1RY\u{7}").unwrap(),
    );
    let text = format!(
        "apiVersion: v1
kind: Config
clusters:
- name: up
  cluster: {{server: {}}}
- name: gone
  cluster: {{server: http://127.0.0.1:9}}
contexts:
- name: {clear}
  context: {{cluster: up, user: alice}}
- name: {clip}
  context: {{cluster: gone, user: alice}}
current-context: {clear}
users:
- name: alice
  user: {{token: not-a-secret-test-token}}
",
        server.uri()
    );
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig-escapes");
    std::fs::write(&kubeconfig, text).unwrap();
    let f = Fleet {
        _servers: (server, healthy.serve().await),
        _dir: dir,
        kubeconfig,
    };
    let (code, out, err) = check(&f, &["--all-contexts"]).await;
    assert_eq!(code, Some(3), "one cluster unread: {out}\n{err}");
    for (what, text) in [("report", &out), ("stderr", &err)] {
        assert!(
            !text.contains(['\u{1b}', '\u{7}']),
            "raw ESC or BEL in the {what}: {text:?}"
        );
    }
    // Both names are still there, escaped: the section of the one read, the line of the other.
    assert!(out.contains("═══ cluster one\\u{1b}[2J\n"), "{out}");
    assert!(
        out.contains("  cluster two\\u{1b}]52;c;Q1RY\\u{7}: cannot reach http://127.0.0.1:9"),
        "{out}"
    );
}
