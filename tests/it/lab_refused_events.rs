//! docs/scenarios.md "Timeline": an event the world refuses when its time comes did not
//! happen, and `check --lab` lists it under "Not read" with its time, action and why (exit 1),
//! "so a timeline never fails silently" — in every output format, JUnit, Mermaid and SVG
//! included (README "In CI": what could not be read is never a quiet pass). README "Secret
//! values" / "Lab": a lab secret value never leaves the lab, so the refused `rotateSecret` is
//! described by what it acts on, never by its value.

use std::path::Path;
use std::process::{Command, Output, Stdio};

const VALUE: &str = "CANARY-rot-1002";

/// The documented complete example, its rotation aimed at a secret the vault lacks.
fn scenario(dir: &Path) -> std::path::PathBuf {
    let doc = include_str!("../../docs/scenarios.md");
    let start = doc.rfind("```yaml\n").unwrap() + "```yaml\n".len();
    let end = start + doc[start..].find("```").unwrap();
    let example = &doc[start..end];
    let rotation = "rotateSecret: {vault: kv-demo, name: db-password, value: still-not-real}";
    assert!(
        example.contains(rotation),
        "the example rotates db-password"
    );
    let text = example.replace(
        rotation,
        &format!("rotateSecret: {{vault: kv-demo, name: nope, value: {VALUE}}}"),
    );
    let path = dir.join("refused.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

fn check(path: &Path, format: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "--lab", path.to_str().unwrap(), "-o", format])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run kvchain")
}

#[test]
fn a_refused_rotation_is_listed_in_every_format_without_its_value() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path());
    for format in ["text", "json", "sarif", "junit", "mermaid", "svg"] {
        let out = check(&path, format);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{format}: {stderr}");
        assert!(
            !stdout.contains(VALUE) && !stderr.contains(VALUE),
            "{format} prints the rotation's value:\n{stdout}{stderr}"
        );
        assert!(
            !stdout.contains("RotateSecret {") && !stdout.contains("Some("),
            "{format}: no internal Debug text:\n{stdout}"
        );
        assert!(
            stdout.contains("rotateSecret nope in kv-demo"),
            "{format} names the event as written:\n{stdout}"
        );
        assert!(stdout.contains("3m"), "{format} gives its time:\n{stdout}");
    }
}

/// README "In CI": JUnit shows what could not be read as a case of `kvchain: not visible`;
/// a refused event is such a gap, never `errors="0"` over an exit status of 1.
#[test]
fn junit_counts_the_refused_event_as_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = check(&scenario(dir.path()), "junit");
    let xml = String::from_utf8_lossy(&out.stdout);
    let head = xml.lines().nth(1).unwrap_or("");
    assert!(
        head.contains("<testsuites") && !head.contains(r#"errors="0""#),
        "{head}"
    );
    let suite = xml
        .split(r#"<testsuite name="kvchain: not visible""#)
        .nth(1)
        .expect("a `kvchain: not visible` suite");
    let suite = suite.split("</testsuite>").next().unwrap();
    assert!(
        suite.contains(r#"type="unread""#) && suite.contains("rotateSecret nope in kv-demo"),
        "{suite}"
    );
}

/// The lab action is described as the scenario writes it, for every action, and `Debug` (used
/// by logs and test failures) never holds a value either.
#[test]
fn lab_actions_read_as_written_and_hold_no_value() {
    use kvchain::source::lab::scenario::LabAction;
    let rotate = LabAction::RotateSecret {
        vault: "kv-demo".into(),
        name: "db-password".into(),
        value: Some(VALUE.into()),
    };
    assert_eq!(rotate.to_string(), "rotateSecret db-password in kv-demo");
    assert!(!format!("{rotate:?}").contains(VALUE));
    let restart = LabAction::RolloutRestart {
        namespace: "demo".into(),
        kind: "Deployment".into(),
        name: "api".into(),
    };
    assert_eq!(restart.to_string(), "rolloutRestart Deployment/api in demo");
    let fault = LabAction::ApplyFault {
        id: "delete-object".into(),
    };
    assert_eq!(fault.to_string(), "applyFault delete-object");
}

/// A scenario's Debug form (logs, test failures) holds no vault value either.
#[test]
fn a_scenario_debug_form_holds_no_vault_value() {
    let doc = include_str!("../../docs/scenarios.md");
    let start = doc.rfind("```yaml\n").unwrap() + "```yaml\n".len();
    let end = start + doc[start..].find("```").unwrap();
    let sc = kvchain::source::lab::scenario::parse(
        "example",
        Path::new("docs/scenarios.md"),
        &doc[start..end],
    )
    .unwrap();
    let debug = format!("{sc:?}");
    assert!(!debug.contains("still-not-real"), "timeline value in Debug");
    let values: Vec<&String> = sc
        .vaults
        .iter()
        .flat_map(|v| &v.spec.secrets)
        .filter_map(|s| s.value.as_ref())
        .collect();
    assert!(!values.is_empty());
    for v in values {
        assert!(!debug.contains(v.as_str()), "vault value {v:?} in Debug");
    }
}
