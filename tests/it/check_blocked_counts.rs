//! README "Finding codes": a finding that only follows from an earlier broken link (`blocked
//! by <link>`) is listed after its cause and counted apart — `N blocked by a cause above` in
//! the headline, JSON `summary.blocked` — not as an error or warning of its own, and decides
//! no exit status: one typo is one error (audit 16, A16-4).

use std::process::Command;

use serde_json::Value;

use crate::lab_nodes::{CLUSTER, HEALTHY, SHOP};

/// The healthy shop with `objects[0].objectName` misspelt: KVC601 on the Object link is the
/// cause; the synced Secret that no mount writes (KVC802) follows from it.
pub(crate) fn scenario(dir: &std::path::Path, annotation: Option<&str>) -> std::path::PathBuf {
    let mut app = HEALTHY.replace(
        "objectName: checkout-db-password",
        "objectName: checkout-db-pasword",
    );
    assert_ne!(
        app, HEALTHY,
        "the healthy scenario names checkout-db-password"
    );
    if let Some(a) = annotation {
        app = app.replacen(
            "    reloader.stakater.com/auto: \"true\"\n",
            &format!("    reloader.stakater.com/auto: \"true\"\n    {a}\n"),
            1,
        );
    }
    let path = dir.join("typo.yaml");
    std::fs::write(&path, [CLUSTER, SHOP, &app].join("\n---\n")).unwrap();
    path
}

pub(crate) fn check(path: &std::path::Path, args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "--lab"])
        .arg(path)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn one_typo_is_one_error_and_its_effect_is_counted_as_blocked() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path(), None);
    let (code, json) = check(&path, &["-o", "json"]);
    assert_eq!(code, Some(1), "{json}");
    let report: Value = serde_json::from_str(&json).unwrap();
    let findings = report["findings"].as_array().unwrap();
    let effect = findings
        .iter()
        .find(|f| f["follows"] == "vaultObject")
        .unwrap_or_else(|| panic!("a finding blocked by the Object link: {json}"));
    assert!(
        effect["message"]
            .as_str()
            .unwrap()
            .starts_with("blocked by Object: "),
        "{effect}"
    );
    let causes: Vec<&str> = findings
        .iter()
        .filter(|f| f.get("follows").is_none())
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(causes, ["KVC601"], "{json}");
    let s = &report["summary"];
    assert_eq!(
        (&s["errors"], &s["warnings"], &s["blocked"]),
        (&Value::from(1), &Value::from(0), &Value::from(1)),
        "{s}"
    );
    let (_, text) = check(&path, &[]);
    let headline = text.lines().next().unwrap();
    assert!(
        headline.contains("1 error, 0 warnings, 0 info, 1 blocked by a cause above"),
        "{headline}"
    );
}

/// The cause suppressed (an ignore annotation): its effect does not fail the run in its place,
/// even with `--fail-on warning`.
#[test]
fn an_effect_does_not_fail_the_run_when_its_cause_is_suppressed() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path(), Some("kvchain.dev/ignore: KVC601"));
    for fail_on in ["error", "warning"] {
        let (code, text) = check(&path, &["--fail-on", fail_on]);
        assert_eq!(code, Some(0), "--fail-on {fail_on}: {text}");
        assert!(
            text.lines()
                .next()
                .is_some_and(|l| l.contains("1 blocked by a cause above, 1 suppressed")),
            "{text}"
        );
    }
}
