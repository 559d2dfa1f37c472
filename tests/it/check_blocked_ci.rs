//! Audit FF2, FF4: the CI formats count as `check` counts. README "Finding codes": a finding
//! that only follows an earlier link's cause (`blocked by <link>`) "is counted apart …, not as
//! an error or warning of its own, and decides no exit status: one typo is one error"; JUnit
//! fails a chain "when it has an unsuppressed finding `--fail-on` counts". And "a link the
//! break kept from being tried is drawn `…` (pending) … so the one red box is the cause".
//! SARIF 2.1.0 §3.27.10: `note` is the least severe failure level; code scanning fails a
//! pull-request check on `error` only.

use serde_json::Value;

use crate::check_blocked_counts::scenario;

/// `check --lab FILE ARGS` of the typo scenario (KVC601 the cause, KVC802 blocked by Object).
fn check(annotation: Option<&str>, args: &[&str]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    crate::check_blocked_counts::check(&scenario(dir.path(), annotation), args)
}

#[test]
fn junit_fails_no_case_on_an_effect_whose_cause_is_accepted() {
    for fail_on in ["error", "warning"] {
        let (code, xml) = check(
            Some("kvchain.dev/ignore: KVC601"),
            &["-o", "junit", "--fail-on", fail_on],
        );
        assert_eq!(code, Some(0), "{xml}");
        assert!(xml.contains("failures=\"0\""), "--fail-on {fail_on}: {xml}");
        assert!(!xml.contains("<failure"), "--fail-on {fail_on}: {xml}");
        // Still in view, in the case's system-out.
        assert!(xml.contains("blocked by Object: "), "{xml}");
    }
}

#[test]
fn junit_fails_the_case_on_the_cause_only() {
    let (code, xml) = check(None, &["-o", "junit", "--fail-on", "warning"]);
    assert_eq!(code, Some(1), "{xml}");
    let failure = xml
        .lines()
        .find(|l| l.contains("<failure message="))
        .unwrap_or_else(|| panic!("{xml}"));
    assert!(
        failure.contains("message=\"KVC601: ") && !failure.contains("KVC802"),
        "{failure}"
    );
}

#[test]
fn sarif_gives_one_error_for_one_cause_and_marks_the_effect_blocked() {
    let (_, out) = check(None, &["-o", "sarif"]);
    let sarif: Value = serde_json::from_str(&out).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let errors: Vec<&str> = results
        .iter()
        .filter(|r| r["level"] == "error")
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert_eq!(errors, ["KVC601"], "{out}");
    let effect = results
        .iter()
        .find(|r| r["properties"]["blockedBy"] == "vaultObject")
        .unwrap_or_else(|| panic!("a result blocked by the Object link: {out}"));
    assert_eq!(effect["level"], "note", "{effect}");
    assert!(effect["properties"]["severity"].is_string(), "{effect}");
    assert!(
        effect.get("suppressions").is_none(),
        "not accepted: {effect}"
    );
}

/// The JUnit strip of each chain reads as the text report's strip.
#[test]
fn junit_strip_draws_a_blocked_link_pending_as_the_text_report_does() {
    let (_, text) = check(None, &[]);
    let (_, xml) = check(None, &["-o", "junit"]);
    // One strip per pod in JUnit, per workload in the text: compared as sets.
    let strip = |s: &str| -> std::collections::BTreeSet<String> {
        s.lines()
            .map(|l| l.trim_start().trim_start_matches("<system-out>"))
            .filter(|l| l.starts_with("✓ Pod") || l.starts_with("✗ Pod") || l.starts_with("… Pod"))
            .map(str::to_string)
            .collect()
    };
    let text_strips = strip(&text);
    assert!(
        text_strips.iter().any(|l| l.contains("✗ Object  … Mount")),
        "{text}"
    );
    assert_eq!(strip(&xml), text_strips, "{xml}");
}
