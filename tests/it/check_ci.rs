//! `kvchain check` in CI: SARIF (validated against the OASIS SARIF 2.1.0 schema in
//! tests/fixtures), JUnit (well-formed XML, one case per chain), exit status per `--fail-on`,
//! `--min-severity`, and suppressions by annotation and by config rule.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Run the binary from the repository root, with an empty config directory so a developer's
/// own config (and its ignore rules) never leaks in.
pub(crate) fn kvchain(args: &[&str]) -> Output {
    let home = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env("XDG_CONFIG_HOME", home.path())
        .env("HOME", home.path())
        .output()
        .expect("run kvchain")
}

pub(crate) fn stdout_json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

pub(crate) fn sarif_schema_errors(doc: &Value) -> Vec<String> {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn sarif_of_broken_manifests_validates_and_points_at_the_object_lines() {
    let out = kvchain(&["check", "-f", "assets/examples/broken", "-o", "sarif"]);
    assert_eq!(out.status.code(), Some(1));
    let doc = stdout_json(&out);
    let errors = sarif_schema_errors(&doc);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(doc["version"], "2.1.0");
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), kvchain::chain::Code::ALL.len());
    // Rule help is the code's long documentation (same source as `kvchain explain`).
    let r401 = rules.iter().find(|r| r["id"] == "KVC401").unwrap();
    assert!(
        r401["help"]["text"]
            .as_str()
            .unwrap()
            .contains("AADSTS70021")
    );
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 18, "one result per de-duplicated finding");
    for r in results {
        let rule = r["ruleId"].as_str().unwrap();
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], rule);
        let phys = &r["locations"][0]["physicalLocation"];
        let uri = phys["artifactLocation"]["uri"]
            .as_str()
            .unwrap_or_else(|| panic!("{r:#}"));
        assert!(!uri.starts_with('/'), "relative to the repository: {uri}");
        let line = phys["region"]["startLine"].as_u64().unwrap() as usize;
        let text = std::fs::read_to_string(root().join(uri)).unwrap();
        let at = text.lines().nth(line - 1).unwrap();
        assert!(
            at.trim_start().starts_with("name:"),
            "{rule}: {uri}:{line} is {at:?}"
        );
    }
    // The missing SPC's finding lands on the Deployment that references it.
    let kvc101 = results.iter().find(|r| r["ruleId"] == "KVC101").unwrap();
    let phys = &kvc101["locations"][0]["physicalLocation"];
    assert_eq!(
        phys["artifactLocation"]["uri"],
        "assets/examples/broken/orders.yaml"
    );
    assert_eq!(phys["region"]["startLine"], 30);
}

#[test]
fn the_schema_check_rejects_a_wrong_document() {
    let out = kvchain(&["check", "-f", "assets/examples/broken", "-o", "sarif"]);
    let mut doc = stdout_json(&out);
    doc["runs"][0]["results"][0]["level"] = Value::from("fatal");
    assert!(!sarif_schema_errors(&doc).is_empty());
    let mut doc = stdout_json(&out);
    doc.as_object_mut().unwrap().remove("version");
    assert!(!sarif_schema_errors(&doc).is_empty());
}

#[test]
fn clean_sarif_still_has_an_empty_results_array() {
    let out = kvchain(&["check", "-f", "assets/examples/healthy", "-o", "sarif"]);
    assert_eq!(out.status.code(), Some(0));
    let doc = stdout_json(&out);
    assert!(sarif_schema_errors(&doc).is_empty());
    assert_eq!(doc["runs"][0]["results"], Value::Array(vec![]));
}

#[test]
fn lab_sarif_validates_with_logical_locations_only() {
    let out = kvchain(&["check", "--lab", "default", "-o", "sarif"]);
    let doc = stdout_json(&out);
    let errors = sarif_schema_errors(&doc);
    assert!(errors.is_empty(), "{errors:#?}");
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        assert!(r["locations"][0]["physicalLocation"].is_null());
        assert!(r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].is_string());
    }
}

/// (testcases, failures, names) of a JUnit document, reading it with a strict XML parser.
fn junit_cases(xml: &str) -> (usize, usize, Vec<String>) {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let (mut cases, mut failures, mut names) = (0, 0, Vec::new());
    loop {
        match reader
            .read_event()
            .unwrap_or_else(|e| panic!("not well-formed: {e}\n{xml}"))
        {
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"testcase" => {
                cases += 1;
                let name = e.try_get_attribute("name").unwrap().unwrap();
                names.push(
                    name.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .unwrap()
                        .into_owned(),
                );
            }
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"failure" => failures += 1,
            Event::Eof => break,
            _ => {}
        }
    }
    (cases, failures, names)
}

#[test]
fn junit_has_one_case_per_chain_and_fails_the_chains_with_errors() {
    let out = kvchain(&["check", "-f", "assets/examples/broken", "-o", "junit"]);
    assert_eq!(out.status.code(), Some(1));
    let xml = String::from_utf8(out.stdout).unwrap();
    let (cases, failures, names) = junit_cases(&xml);
    // 6 chains; all but reports (warnings only) have an error finding.
    assert_eq!(cases, 6, "{names:?}");
    assert_eq!(failures, 5);
    assert!(
        names.iter().any(|n| n.starts_with("Deployment/orders")),
        "{names:?}"
    );
    // --fail-on warning: the warnings-only chain fails too.
    let out = kvchain(&[
        "check",
        "-f",
        "assets/examples/broken",
        "-o",
        "junit",
        "--fail-on",
        "warning",
    ]);
    let (_, failures, _) = junit_cases(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(failures, 6);
}

#[test]
fn exit_status_follows_fail_on() {
    let run = |path: &str, fail_on: &str| {
        kvchain(&["check", "-f", path, "-o", "json", "--fail-on", fail_on])
            .status
            .code()
    };
    let broken = "assets/examples/broken";
    let warnings_only = "assets/examples/broken/reports.yaml";
    assert_eq!(run(broken, "error"), Some(1));
    assert_eq!(run(broken, "warning"), Some(1));
    assert_eq!(run(broken, "never"), Some(0));
    assert_eq!(run(warnings_only, "error"), Some(0));
    assert_eq!(run(warnings_only, "warning"), Some(1));
    assert_eq!(run(warnings_only, "never"), Some(0));
    assert_eq!(run("assets/examples/healthy", "warning"), Some(0));
    // Default is error.
    let out = kvchain(&["check", "-f", warnings_only]);
    assert_eq!(out.status.code(), Some(0));
    let bad = kvchain(&["check", "-f", broken, "--fail-on", "sometimes"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn min_severity_filters_the_output_not_the_exit_status() {
    let out = kvchain(&[
        "check",
        "-f",
        "assets/examples/broken",
        "-o",
        "json",
        "--min-severity",
        "error",
        "--fail-on",
        "warning",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let report = stdout_json(&out);
    let sev: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["severity"].as_str().unwrap())
        .collect();
    assert_eq!(sev.len(), 8);
    assert!(sev.iter().all(|s| *s == "error"), "{sev:?}");
    // Warnings-only input printed at --min-severity error: nothing printed, still fails on warning.
    let out = kvchain(&[
        "check",
        "-f",
        "assets/examples/broken/reports.yaml",
        "-o",
        "json",
        "--min-severity",
        "error",
        "--fail-on",
        "warning",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let report = stdout_json(&out);
    assert!(report["findings"].as_array().unwrap().is_empty());
    // What was hidden is counted, so a summary never reads "0 warnings" alone over a run that
    // fails on warnings (README: hidden from the listing, not from the verdict).
    let hidden = report["summary"]["hidden"].as_u64().unwrap();
    assert!(hidden > 0, "{}", report["summary"]);
    let args = |o: &'static str| {
        [
            "check",
            "-f",
            "assets/examples/broken/reports.yaml",
            "-o",
            o,
            "--min-severity",
            "error",
            "--fail-on",
            "warning",
        ]
    };
    let text = String::from_utf8(kvchain(&args("text")).stdout).unwrap();
    let headline = text.lines().next().unwrap();
    assert!(
        headline.contains("hidden by --min-severity error; the exit status counts"),
        "{headline}"
    );
    // JUnit: the failing job shows a failure, not only passes.
    let junit = String::from_utf8(kvchain(&args("junit")).stdout).unwrap();
    assert!(
        junit.contains(r#"<testsuite name="kvchain: hidden""#),
        "{junit}"
    );
    let top = junit
        .lines()
        .find(|l| l.starts_with("<testsuites"))
        .unwrap();
    assert!(!top.contains(r#"failures="0""#), "{top}");
    // Nothing failing hidden (the default --fail-on error): no failure is invented.
    let out = kvchain(&[
        "check",
        "-f",
        "assets/examples/broken/reports.yaml",
        "-o",
        "junit",
        "--min-severity",
        "error",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        !String::from_utf8(out.stdout)
            .unwrap()
            .contains("kvchain: hidden")
    );
}

/// A copy of the broken examples with `extra` appended to one file and `edit` applied to it.
fn broken_copy(file: &str, edit: impl Fn(String) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(root().join("assets/examples/broken")).unwrap() {
        let p = e.unwrap().path();
        let text = std::fs::read_to_string(&p).unwrap();
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        let text = if name == file { edit(text) } else { text };
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

fn finding<'a>(report: &'a Value, code: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == code)
        .unwrap_or_else(|| panic!("no {code}"))
}

#[test]
fn an_ignore_annotation_on_the_workload_suppresses_visibly() {
    let dir = broken_copy("billing.yaml", |t| {
        t.replacen(
            "kind: Deployment\nmetadata:\n",
            "kind: Deployment\nmetadata:\n  annotations:\n    kvchain.dev/ignore: \"KVC202, KVC103\"\n    kvchain.dev/ignore-reason: SA created by the platform team\n",
            1,
        )
    });
    let path = dir.path().to_str().unwrap();
    let out = kvchain(&["check", "-f", path, "-o", "json"]);
    let report = stdout_json(&out);
    let f = finding(&report, "KVC202");
    assert!(
        f["suppressed"]["by"]
            .as_str()
            .unwrap()
            .contains("Deployment/billing"),
        "{f:#}"
    );
    assert_eq!(f["suppressed"]["reason"], "SA created by the platform team");
    assert!(finding(&report, "KVC101")["suppressed"].is_null());
    assert_eq!(report["summary"]["suppressed"], 2);
    assert_eq!(report["summary"]["errors"], 7);
    // Still shown in text, labelled.
    let text = String::from_utf8(kvchain(&["check", "-f", path]).stdout).unwrap();
    assert!(text.contains("KVC202 warning suppressed"), "{text}");
    assert!(text.contains("2 suppressed"), "{text}");
    assert!(
        text.lines()
            .next()
            .is_some_and(|l| l.ends_with(" info, 2 blocked by a cause above, 2 suppressed")),
        "the count closes the summary line: {text}"
    );
    // SARIF: an inSource suppression with the reason as justification.
    let sarif = stdout_json(&kvchain(&["check", "-f", path, "-o", "sarif"]));
    assert!(sarif_schema_errors(&sarif).is_empty());
    let r = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "KVC202")
        .unwrap();
    assert_eq!(r["suppressions"][0]["kind"], "inSource");
    assert!(
        r["suppressions"][0]["justification"]
            .as_str()
            .unwrap()
            .contains("platform team")
    );
}

#[test]
fn suppressing_every_error_changes_the_exit_status() {
    let ns = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  annotations:\n    kvchain.dev/ignore: \"*\"\n---\n";
    let dir = broken_copy("billing.yaml", |t| format!("{ns}{t}"));
    let path = dir.path().to_str().unwrap();
    let out = kvchain(&["check", "-f", path, "-o", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let report = stdout_json(&out);
    let all = report["findings"].as_array().unwrap();
    assert_eq!(all.len(), 18, "suppressed findings stay in the report");
    assert!(all.iter().all(|f| {
        f["suppressed"]["by"]
            .as_str()
            .unwrap()
            .contains("Namespace/shop")
    }));
}

#[test]
fn config_ignore_rules_match_code_namespace_and_resource_glob() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        "ignore:\n  - code: KVC101\n    namespace: sh*\n    resource: Deployment/ord*\n    reason: orders SPC ships with the next release\n  - code: KVC902\n    namespace: other\n",
    )
    .unwrap();
    let cfg = config.to_str().unwrap();
    let out = kvchain(&[
        "check",
        "-f",
        "assets/examples/broken",
        "-o",
        "json",
        "--config",
        cfg,
    ]);
    let report = stdout_json(&out);
    let f = finding(&report, "KVC101");
    assert_eq!(f["suppressed"]["by"], "config ignore rule 0");
    assert_eq!(
        f["suppressed"]["reason"],
        "orders SPC ships with the next release"
    );
    // Wrong namespace: rule 1 does not apply.
    assert!(finding(&report, "KVC902")["suppressed"].is_null());
    // A rule naming an unknown code is an input error naming the field.
    std::fs::write(&config, "ignore:\n  - code: KVC999\n").unwrap();
    let out = kvchain(&["check", "-f", "assets/examples/broken", "--config", cfg]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ignore[0].code") && err.contains("config.yaml"),
        "{err}"
    );
}
