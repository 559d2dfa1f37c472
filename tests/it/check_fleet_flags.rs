//! A check of several clusters judges each cluster exactly as a single `check` of it would
//! (README "Several clusters": "each exactly as a single `check` would"): config `ignore:`
//! rules, `--fail-on` and `--min-severity` hold per cluster, and the exit status is the worst
//! cluster's, ranked as the single check ranks its own (1 before 3 before 0; a cluster that
//! could not be read has no verdict, 3). A CI job that suppresses a known finding, or fails on
//! warnings, gets the same verdict whether it checks one cluster or the fleet.

use super::check_fleet::{check, fleet};
use serde_json::Value;

/// A config file whose one `ignore:` rule is `rule` (its YAML mapping; lines after the first
/// indented 4).
fn config(dir: &std::path::Path, rule: &str) -> String {
    let path = dir.join("config.yaml");
    std::fs::write(&path, format!("ignore:\n  - {}\n", rule.trim())).unwrap();
    path.to_str().unwrap().to_string()
}

fn findings_of<'a>(report: &'a Value, cluster: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["cluster"] == cluster)
        .collect()
}

/// The `broken` cluster's pod names a SecretProviderClass that is gone: KVC101, an error
/// (README: "a pod that names one has KVC101 (error, exit 1)"). Suppressed by a config rule,
/// it is shown as suppressed and no longer fails the fleet, as it no longer fails `check
/// --context broken`.
#[tokio::test]
async fn a_suppressed_error_does_not_fail_the_fleet() {
    let f = fleet().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        "code: KVC101\n    reason: SPC ships with the next release",
    );
    let both = ["--context", "healthy", "--context", "broken", "-o", "json"];
    let (code, out, err) = check(&f, &both).await;
    assert_eq!(
        code,
        Some(1),
        "the error fails the fleet unsuppressed: {out}\n{err}"
    );
    let (single, out1, err1) = check(&f, &["--context", "broken", "--config", &cfg]).await;
    assert_eq!(single, Some(0), "suppressed, one cluster: {out1}\n{err1}");

    let (code, out, err) = check(&f, &[&both[..], &["--config", &cfg]].concat()).await;
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    assert_eq!(
        code, single,
        "the fleet's verdict is the single check's: {out}\n{err}"
    );
    let kvc101: Vec<&Value> = findings_of(&report, "broken")
        .into_iter()
        .filter(|f| f["code"] == "KVC101")
        .collect();
    assert!(!kvc101.is_empty(), "still reported: {out}");
    for f in kvc101 {
        assert_eq!(f["suppressed"]["by"], "config ignore rule 0", "{f}");
        assert_eq!(f["suppressed"]["reason"], "SPC ships with the next release");
    }
    let (_, text, _) = check(
        &f,
        &[
            "--context",
            "healthy",
            "--context",
            "broken",
            "--config",
            &cfg,
        ],
    )
    .await;
    assert!(text.contains("KVC101 error suppressed"), "{text}");
}

/// `--fail-on warning`: a warning in one cluster fails the run (1), and that outranks the
/// cluster that could not be read (3), as an error finding outranks it in a single check.
#[tokio::test]
async fn fail_on_warning_fails_the_fleet_on_a_warning() {
    let f = fleet().await;
    let args = ["--context", "healthy", "--context", "dead", "-o", "json"];
    let (code, out, err) = check(&f, &args).await;
    assert_eq!(code, Some(3), "no error, one cluster unread: {out}\n{err}");
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    let warnings = findings_of(&report, "healthy")
        .into_iter()
        .filter(|f| f["severity"] == "warning" && f.get("suppressed").is_none())
        .count();
    assert!(warnings > 0, "the healthy world has a warning: {out}");
    let (single, _, _) = check(&f, &["--context", "healthy", "--fail-on", "warning"]).await;
    assert_eq!(single, Some(1));
    let (code, out, err) = check(&f, &[&args[..], &["--fail-on", "warning"]].concat()).await;
    assert_eq!(code, Some(1), "{out}\n{err}");
}

/// `--min-severity error` hides the warnings from the fleet's report as from a single one,
/// and counts them (`summary.hidden` of the cluster).
#[tokio::test]
async fn min_severity_hides_per_cluster_and_counts_what_it_hid() {
    let f = fleet().await;
    let args = ["--context", "healthy", "--context", "broken", "-o", "json"];
    let (_, out, err) = check(&f, &[&args[..], &["--min-severity", "error"]].concat()).await;
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    let shown: Vec<&Value> = report["findings"].as_array().unwrap().iter().collect();
    assert!(
        shown.iter().all(|f| f["severity"] == "error"),
        "only errors are printed: {out}"
    );
    let healthy = report["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["cluster"] == "healthy")
        .unwrap();
    assert!(
        healthy["summary"]["hidden"].as_u64().unwrap_or(0) > 0,
        "what was hidden is counted: {healthy}"
    );
}
