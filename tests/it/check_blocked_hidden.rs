//! Audit Y4: `--min-severity` hides findings and counts what it hid (README "what was hidden
//! is counted"); a finding blocked by a cause above is counted apart (README: "`…, 1 blocked
//! by a cause above` in the headline, JSON `summary.blocked`, not as an error or warning of
//! its own"), hidden or not. `assets/examples/broken` has one: KVC903, blocked by KVC801.

use std::process::Command;

use serde_json::Value;

/// `check -f assets/examples/broken` plus `args`: (exit status, stdout).
pub(crate) fn check(args: &[&str]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "-f", "assets/examples/broken"])
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env("XDG_CONFIG_HOME", dir.path())
        .env("HOME", dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.code(), stdout)
}

fn summary(args: &[&str]) -> Value {
    summary_of(check, args)
}

/// The JSON report's summary of `run` (a `check` of this file's kind) given `args`.
pub(crate) fn summary_of(run: impl Fn(&[&str]) -> (Option<i32>, String), args: &[&str]) -> Value {
    let (_, out) = run(&[&["-o", "json"], args].concat());
    serde_json::from_str::<Value>(&out).unwrap()["summary"].clone()
}

pub(crate) fn n(s: &Value, key: &str) -> u64 {
    s[key].as_u64().unwrap_or(0)
}

#[test]
fn hiding_below_error_keeps_the_blocked_finding_counted_apart() {
    let all = summary(&[]);
    assert!(
        n(&all, "blocked") >= 1,
        "the example has a blocked finding: {all}"
    );
    let shown = summary(&["--min-severity", "error"]);
    assert_eq!(n(&shown, "blocked"), n(&all, "blocked"), "{shown}");
    assert_eq!(n(&shown, "errors"), n(&all, "errors"), "{shown}");
    // What was hidden is the warnings and info of the full report, no more.
    assert_eq!(
        n(&shown, "hidden"),
        n(&all, "warnings") + n(&all, "info"),
        "{all}\n{shown}"
    );
}

#[test]
fn the_headline_counts_hidden_warnings_as_the_full_report_does() {
    let (_, full) = check(&[]);
    let (code, text) = check(&["--min-severity", "error", "--fail-on", "warning"]);
    assert_eq!(code, Some(1), "{text}");
    let warnings = full
        .lines()
        .next()
        .and_then(|l| l.split(" errors, ").nth(1))
        .and_then(|l| l.split(' ').next())
        .unwrap()
        .to_string();
    let headline = text.lines().next().unwrap();
    assert!(
        headline.contains(&format!("({warnings} warnings, "))
            && headline.contains("blocked by a cause above"),
        "full: {}\nfiltered: {headline}",
        full.lines().next().unwrap()
    );
}
