//! Audit MMM-out: `--min-severity` hides a suppressed finding below it, but "a suppressed
//! finding is never silently gone" (README "Suppressing findings") and "what was hidden is
//! counted" (README `--min-severity`). A finding blocked by a cause above stays counted as
//! `blocked`, hidden or not; a suppressed one stays counted as `suppressed` the same way, so
//! every finding of the full report is in exactly one count of the filtered one.

use crate::check_blocked_hidden::{n, summary_of};
use serde_json::Value;

/// `check -f assets/examples/broken` with a config whose rule suppresses KVC902 (a warning
/// on Deployment/reports), plus `args`: (exit status, stdout).
fn check(args: &[&str]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        "ignore:\n  - code: KVC902\n    reason: restarted nightly\n",
    )
    .unwrap();
    let config = config.to_str().unwrap();
    crate::check_blocked_hidden::check(&[&["--config", config], args].concat())
}

fn summary(args: &[&str]) -> Value {
    summary_of(check, args)
}

#[test]
fn a_suppressed_warning_hidden_by_min_severity_is_still_counted_suppressed() {
    let all = summary(&[]);
    assert_eq!(
        n(&all, "suppressed"),
        1,
        "the rule suppresses KVC902: {all}"
    );
    let shown = summary(&["--min-severity", "error"]);
    assert_eq!(n(&shown, "suppressed"), 1, "{shown}");
    // Every finding of the full report is in one count of the filtered one.
    let total = |s: &Value| {
        [
            "errors",
            "warnings",
            "info",
            "suppressed",
            "blocked",
            "hidden",
        ]
        .iter()
        .map(|k| n(s, k))
        .sum::<u64>()
    };
    assert_eq!(total(&shown), total(&all), "full {all}\nfiltered {shown}");
    let (_, text) = check(&["--min-severity", "error"]);
    let headline = text.lines().next().unwrap();
    assert!(headline.contains(", 1 suppressed"), "{headline}");
}
