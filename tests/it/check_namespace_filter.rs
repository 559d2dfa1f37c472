//! README "kvchain check": "With `-f` or `--lab`, `-n NS` keeps only the chains of that
//! namespace; a namespace the input does not mention at all is an input error (exit 2)". A
//! snapshot file holds every namespace the same way, so `check --snapshot -n` and `snapshot
//! save --lab -n` filter alike: never a silent `-n`.

use std::process::{Command, Output, Stdio};

pub(crate) fn kvchain(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run kvchain")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A snapshot of the default lab (namespace shop) in a temporary directory.
fn saved(dir: &std::path::Path, extra: &[&str]) -> (Output, std::path::PathBuf) {
    let path = dir.join("snap.json");
    let mut args = vec![
        "snapshot",
        "save",
        "--lab",
        "default",
        "-o",
        path.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    (kvchain(&args), path)
}

#[test]
fn check_snapshot_with_an_unknown_namespace_is_exit_2_naming_the_ones_there_are() {
    let dir = tempfile::tempdir().unwrap();
    let (out, snap) = saved(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = kvchain(&["check", "--snapshot", snap.to_str().unwrap(), "-n", "nope"]);
    let e = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{e}");
    assert!(e.contains("-n nope") && e.contains("shop"), "{e}");
    assert!(out.stdout.is_empty(), "no report over the wrong namespace");
}

#[test]
fn check_snapshot_with_its_namespace_keeps_its_chains() {
    let dir = tempfile::tempdir().unwrap();
    let (_, snap) = saved(dir.path(), &[]);
    let all = kvchain(&["check", "--snapshot", snap.to_str().unwrap(), "-o", "json"]);
    let shop = kvchain(&[
        "check",
        "--snapshot",
        snap.to_str().unwrap(),
        "-n",
        "shop",
        "-o",
        "json",
    ]);
    assert_eq!(shop.status.code(), all.status.code(), "{}", stderr(&shop));
    let chains = |o: &Output| {
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["summary"]["chains"].as_u64().unwrap()
    };
    assert_eq!(
        chains(&shop),
        chains(&all),
        "the default lab is all in shop"
    );
}

#[test]
fn snapshot_save_lab_with_an_unknown_namespace_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (out, path) = saved(dir.path(), &["-n", "nope"]);
    let e = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{e}");
    assert!(e.contains("-n nope") && e.contains("shop"), "{e}");
    assert!(
        !path.exists(),
        "no file for a namespace the lab does not have"
    );
}

/// `generated:300` spreads its pods over team-000, team-001 and team-002.
#[test]
fn snapshot_save_lab_with_a_namespace_holds_only_that_namespace() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("team.json");
    let p = path.to_str().unwrap();
    let whole = dir.path().join("whole.json");
    let w = whole.to_str().unwrap();
    let out = kvchain(&["snapshot", "save", "--lab", "generated:300", "-o", w]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let everything = std::fs::read_to_string(&whole).unwrap();
    assert!(everything.contains("team-000") && everything.contains("team-002"));
    let out = kvchain(&[
        "snapshot",
        "save",
        "--lab",
        "generated:300",
        "-n",
        "team-001",
        "-o",
        p,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for kind in [
        "pods",
        "service_accounts",
        "spcs",
        "secrets",
        "events",
        "workloads",
    ] {
        let items = v["snapshot"][kind]["items"].as_array().unwrap();
        assert!(
            items.iter().all(|o| o["namespace"] == "team-001"),
            "{kind} outside team-001"
        );
    }
    let pods = v["snapshot"]["pods"]["items"].as_array().unwrap();
    assert!(!pods.is_empty(), "team-001's pods are kept");
}

/// FFF7. A snapshot file is a recording: `check --snapshot` says when it was made, in the
/// headline and in JSON (`recorded_at`), instead of reading as the cluster now.
#[test]
fn check_snapshot_says_it_reads_a_recording_and_when_it_was_made() {
    let dir = tempfile::tempdir().unwrap();
    let (out, snap) = saved(dir.path(), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = kvchain(&["check", "--snapshot", snap.to_str().unwrap()]);
    let headline = String::from_utf8_lossy(&text.stdout)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(
        headline.contains("(default), a snapshot recorded 2026-01-15 "),
        "{headline}"
    );
    let json = kvchain(&["check", "--snapshot", snap.to_str().unwrap(), "-o", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(
        v["recorded_at"]
            .as_str()
            .is_some_and(|t| t.starts_with("2026-01-15T")),
        "{}",
        v["recorded_at"]
    );
    // The lab read directly is no recording.
    let lab = kvchain(&["check", "--lab", "default", "-o", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&lab.stdout).unwrap();
    assert!(v.get("recorded_at").is_none(), "{}", v["recorded_at"]);
}
