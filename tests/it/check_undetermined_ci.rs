//! Audit F6: a run without a verdict — a pod stuck past its mount's time with the events that
//! would say why unread, `check` exits 3 (UNDETERMINED) — is no clean bill in CI formats
//! either (README "In CI"). SARIF: an error-level `undetermined` notification, so
//! `executionSuccessful` is false, and `properties.incomplete` true; JUnit: the chain is an
//! `<error type="undetermined">` case, as an incomplete read is. A pod merely starting (or a
//! cause found) leaves a clean run clean.

use jiff::SignedDuration;
use kvchain::chain::diagnose;
use kvchain::output::{Context, FailOn, junit, sarif};
use kvchain::snapshot::*;
use serde_json::Value;

use super::rules_unstarted::FORBIDDEN;

/// The app's pod created `age` ago, still in ContainerCreating, events unreadable; files only
/// (no synced Secret to wait on), so no finding of its own.
fn stuck(age: SignedDuration) -> Snapshot {
    super::rules_unstarted::waiting(age, true)
}

fn cx() -> Context<'static> {
    Context {
        scan: None,
        base: None,
        fail_on: FailOn::Error,
        ..Context::default()
    }
}

fn sarif_of(s: &Snapshot) -> Value {
    let chains = diagnose(s);
    serde_json::from_str(&sarif::render(s, &chains, &cx())).unwrap()
}

#[test]
fn sarif_of_an_undetermined_run_is_no_successful_execution() {
    let s = stuck(SignedDuration::from_mins(6));
    assert!(kvchain::report::undetermined(&s, &diagnose(&s)), "exit 3");
    let doc = sarif_of(&s);
    let errors = crate::check_ci::sarif_schema_errors(&doc);
    assert!(errors.is_empty(), "{errors:#?}");
    let run = &doc["runs"][0];
    assert_eq!(run["invocations"][0]["executionSuccessful"], false);
    assert_eq!(run["properties"]["incomplete"], true);
    assert_eq!(run["properties"]["undetermined"], 1);
    let notes = run["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    let n = notes
        .iter()
        .find(|n| n["descriptor"]["id"] == "undetermined")
        .unwrap_or_else(|| panic!("{notes:#?}"));
    assert_eq!(n["level"], "error");
    let text = n["message"]["text"].as_str().unwrap();
    assert!(
        text.contains("Undetermined") && text.contains(FORBIDDEN),
        "{text}"
    );
    // Its descriptor is declared where the index says.
    let index = n["descriptor"]["index"].as_u64().unwrap() as usize;
    assert_eq!(
        run["tool"]["driver"]["notifications"][index]["id"],
        "undetermined"
    );

    // Within the mount's time the pod is merely starting: the run stays successful.
    let doc = sarif_of(&stuck(SignedDuration::from_secs(40)));
    let run = &doc["runs"][0];
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);
    assert_eq!(run["properties"]["incomplete"], false);
}

#[test]
fn junit_of_an_undetermined_run_has_an_error_case_for_the_chain() {
    let s = stuck(SignedDuration::from_mins(6));
    let xml = junit::render(&s, &diagnose(&s), &cx());
    assert!(
        xml.contains("type=\"undetermined\"") && xml.contains("<error"),
        "{xml}"
    );
    assert!(xml.contains(FORBIDDEN), "says why: {xml}");
    let xml = junit::render(
        &stuck(SignedDuration::from_secs(40)),
        &diagnose(&stuck(SignedDuration::from_secs(40))),
        &cx(),
    );
    assert!(!xml.contains("undetermined"), "{xml}");
}
