//! Audit NNN-out 4: with a source that holds every namespace (`--snapshot`, `-f`, `--lab`),
//! `-n NS` keeps only the chains of NS (README "kvchain check"), as a live `-n NS` reads NS
//! alone and "is complete" (README "Degrading, not failing"). A read that failed in another
//! namespace hides no chain of NS: the report of NS is not INCOMPLETE for it. A read that
//! failed at the cluster scope does hide chains of NS, and still makes it INCOMPLETE (exit 3
//! unless an error is found; JSON `summary.incomplete`).

use serde_json::{Value, json};

use super::check_namespace_filter::kvchain;

/// A recording of the healthy lab (namespace shop, exit 0) whose pods could not be listed
/// as `gaps` says.
fn recorded_with(dir: &std::path::Path, gaps: Value) -> String {
    let path = dir.join("snap.json");
    let p = path.to_str().unwrap().to_string();
    let out = kvchain(&["snapshot", "save", "--lab", "healthy", "-o", &p]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    v["snapshot"]["pods"]["gaps"] = gaps;
    std::fs::write(&path, serde_json::to_string(&v).unwrap()).unwrap();
    p
}

/// `check --snapshot SNAP [-n shop] -o FORMAT`: (exit status, stdout).
fn check(snap: &str, ns: Option<&str>, format: &str) -> (Option<i32>, String) {
    let mut args = vec!["check", "--snapshot", snap, "-o", format];
    if let Some(ns) = ns {
        args.extend(["-n", ns]);
    }
    let out = kvchain(&args);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn a_read_failed_in_another_namespace_leaves_ns_complete() {
    let dir = tempfile::tempdir().unwrap();
    let why = "cannot list pods in payments: forbidden";
    let snap = recorded_with(dir.path(), json!({"namespaces": {"payments": why}}));
    // The whole recording is incomplete: the pods of payments are unknown.
    let (code, out) = check(&snap, None, "json");
    assert_eq!(code, Some(3), "{out}");
    // Its namespace shop alone is not: nothing of shop was left unread.
    let (code, out) = check(&snap, Some("shop"), "json");
    assert_eq!(code, Some(0), "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(v["summary"].get("incomplete").is_none(), "{}", v["summary"]);
    assert!(!out.contains(why), "payments' gap is not shop's: {out}");
    let (code, text) = check(&snap, Some("shop"), "text");
    assert_eq!(code, Some(0), "{text}");
    assert!(!text.starts_with("INCOMPLETE"), "{text}");
}

#[test]
fn a_read_failed_at_the_cluster_scope_leaves_ns_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    let why = "cannot list pods at the cluster scope: forbidden";
    let snap = recorded_with(dir.path(), json!({"all": why}));
    let (code, out) = check(&snap, Some("shop"), "json");
    assert_eq!(code, Some(3), "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["summary"]["incomplete"], true, "{}", v["summary"]);
    let (_, text) = check(&snap, Some("shop"), "text");
    assert!(text.starts_with("INCOMPLETE: pods"), "{text}");
}

/// Every namespace but shop unread (`outside`): shop itself was read, so its report is whole;
/// every namespace but another one unread covers shop.
#[test]
fn every_namespace_but_ns_unread_leaves_ns_complete() {
    let dir = tempfile::tempdir().unwrap();
    let why = "cannot list pods at the cluster scope: forbidden; only namespace shop is watched";
    let snap = recorded_with(
        dir.path(),
        json!({"outside": {"namespace": "shop", "reason": why}}),
    );
    let (code, out) = check(&snap, Some("shop"), "json");
    assert_eq!(code, Some(0), "{out}");
    let snap = recorded_with(
        dir.path(),
        json!({"outside": {"namespace": "payments", "reason": why}}),
    );
    let (code, out) = check(&snap, Some("shop"), "json");
    assert_eq!(code, Some(3), "{out}");
}
