//! Audit MMM-out: README `--min-severity`: it "hides lower findings from every output format;
//! the exit status is still decided on all findings, and what was hidden is counted". SARIF
//! dropped the hidden findings and said nothing of them: with `--fail-on warning` a run that
//! exits 1 on hidden warnings was an empty `results` array and a successful execution, a clean
//! bill in code scanning. Its run's properties count them as JSON's `summary.hidden` does, and
//! how many of them fail the run.

use std::process::Command;

use serde_json::Value;

/// `check --lab missing-label` (one warning, KVC201) with `args`: (exit status, stdout).
fn check(args: &[&str]) -> (Option<i32>, Value) {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "--lab", "missing-label"])
        .args(args)
        .env("XDG_CONFIG_HOME", dir.path())
        .env("HOME", dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let doc = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    (out.status.code(), doc)
}

#[test]
fn sarif_counts_the_findings_min_severity_hid_and_those_that_fail_the_run() {
    let hide = ["--min-severity", "error", "--fail-on", "warning"];
    let (code, json) = check(&[&hide[..], &["-o", "json"]].concat());
    assert_eq!(code, Some(1), "{json}");
    let hidden = json["summary"]["hidden"].as_u64().unwrap();
    assert_eq!(hidden, 1, "{json}");
    let (code, sarif) = check(&[&hide[..], &["-o", "sarif"]].concat());
    assert_eq!(code, Some(1));
    let run = &sarif["runs"][0];
    assert_eq!(
        run["results"],
        Value::Array(vec![]),
        "hidden from SARIF too"
    );
    assert_eq!(run["properties"]["hidden"], hidden, "{}", run["properties"]);
    assert_eq!(
        run["properties"]["hiddenFailing"], 1,
        "{}",
        run["properties"]
    );
    let errors = crate::check_ci::sarif_schema_errors(&sarif);
    assert!(errors.is_empty(), "{errors:#?}");
    // Nothing hidden: nothing said.
    let (_, sarif) = check(&["-o", "sarif"]);
    assert!(sarif["runs"][0]["properties"].get("hidden").is_none());
}
