//! Audit MMM-out: README "Suppressing findings": "A suppressed finding is never silently gone"
//! and every format says it is suppressed (text dimmed with `suppressed`, JSON `"suppressed"`,
//! SARIF a `suppressions` entry, JUnit labelled). The pictures drew an accepted finding's code
//! exactly as an open one's: a slide of the chain said the opposite of the report. They mark
//! it `suppressed` beside the code.

use std::process::Command;

/// `check --lab default -o FORMAT --chain orders`, KVC401 (the orders chain's cause)
/// suppressed by a config rule when `suppress`.
fn picture(format: &str, suppress: bool) -> String {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.yaml");
    let rules = if suppress {
        "ignore:\n  - code: KVC401\n    reason: fixed in the next release\n"
    } else {
        "ignore: []\n"
    };
    std::fs::write(&config, rules).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args([
            "check", "--lab", "default", "--chain", "orders", "-o", format,
        ])
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn mermaid_marks_a_suppressed_code_suppressed() {
    let open = picture("mermaid", false);
    let line = |doc: &str| {
        (doc.lines().find(|l| l.contains("KVC401")))
            .unwrap_or_else(|| panic!("{doc}"))
            .to_string()
    };
    assert!(!line(&open).contains("suppressed"), "{open}");
    let accepted = picture("mermaid", true);
    assert!(
        line(&accepted).contains("KVC401</b> suppressed"),
        "{accepted}"
    );
}

#[test]
fn svg_marks_a_suppressed_code_suppressed() {
    let open = picture("svg", false);
    assert!(
        open.contains(">KVC401<") && !open.contains("suppressed"),
        "{open}"
    );
    let accepted = picture("svg", true);
    assert!(accepted.contains(">KVC401 suppressed<"), "{accepted}");
}
