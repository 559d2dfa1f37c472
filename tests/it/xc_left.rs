//! Audit XC-left: the leftovers the last session's note named, each made true. Lab scenarios
//! are tests/fixtures/lab/xc-left-*.yaml (written from docs/scenarios.md's format); their
//! vault values are canaries (`CANARY-xcleft-`) that no output may show.

use kvchain::chain::testkit::{self as tk, APP};
use kvchain::chain::{Code, diagnose};
use serde_json::Value;

use super::mmm_lab::report_after;
use super::rules_event_objects::{failing, not_found};

const CANARY: &str = "CANARY-xcleft";
const PIN: &str = "xc-left-pin-missing.yaml";
const MISSING: &str = "0123456789abcdef0123456789abcdef";
const HELD: &str = "587ec93b07b19301173cdb945d773fe6";

fn findings<'a>(r: &'a Value, code: &str) -> Vec<&'a Value> {
    (r["findings"].as_array().unwrap().iter())
        .filter(|f| f["code"] == code)
        .collect()
}

/// FACTS §5 (objectVersion: that version is fetched, "" or latest the latest), §9 (a version
/// the vault does not hold answers 404), codes.yaml KVC601 (a pinned version not there: the
/// objectVersion edit is its fix) and KVC603 (a pin: rotation never picks up a new version).
/// A pin to a version the vault lacks fails the mount: one cause, KVC601, whose message names
/// the pin and whose fix is the edit; KVC603's "remove objectVersion" for the same pin would be
/// a second voice of it. Before, KVC603 stood beside KVC601 for db-password.
#[test]
fn a_pin_to_a_missing_version_is_one_cause_and_a_held_pin_keeps_kvc603() {
    let r = report_after(PIN, &[], CANARY);
    let missing = findings(&r, "KVC601");
    assert_eq!(missing.len(), 1, "{r:#}");
    let f = missing[0];
    let message = f["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("db-password has no version {MISSING}"))
            && message.contains("objects[0] pins it with objectVersion"),
        "{message}"
    );
    assert!(
        f["fix"]
            .as_str()
            .unwrap()
            .contains("objects[0].objectVersion"),
        "{f}"
    );
    // The pin that resolves (api-key's) is still said; the missing one is not said twice.
    let pins = findings(&r, "KVC603");
    assert_eq!(pins.len(), 1, "{r:#}");
    let pin = pins[0]["message"].as_str().unwrap();
    assert!(
        pin.contains(&format!("objects[1] api-key pins objectVersion {HELD}")),
        "{pin}"
    );
    assert!(
        !r.to_string()
            .contains(&format!("pins objectVersion {MISSING}")),
        "{r:#}"
    );
}

/// The same pin known only from the refused mount (the Azure side unread): the provider's
/// per-object wrapper names the version asked (FACTS §5), KVC601 says it is not there and
/// edits the pin; KVC603 for that pin is not said beside it. Before, it was.
#[test]
fn a_pin_a_refused_mount_names_is_one_cause_with_the_vault_unread() {
    let name = tk::object_name(APP);
    let s = failing(
        "secret",
        Some(tk::V2),
        404,
        "SecretNotFound",
        &not_found("secret", &format!("{name}/{}", tk::V2)),
    );
    let chains = diagnose(&s);
    let all: Vec<_> = chains.iter().flat_map(|c| c.findings()).collect();
    assert!(
        all.iter()
            .any(|f| f.code == Code::KVC601 && f.message.contains(tk::V2)),
        "{all:#?}"
    );
    assert!(!all.iter().any(|f| f.code == Code::KVC603), "{all:#?}");
}

/// The other direction, the vault unread and no mount refused: the pin is all that is known,
/// and KVC603 says it (unknown is not absent).
#[test]
fn a_pin_with_the_vault_unread_and_no_refusal_keeps_kvc603() {
    let mut s = tk::healthy();
    let name = tk::object_name(APP);
    let item = vec![
        ("objectName", name.as_str()),
        ("objectType", "secret"),
        ("objectVersion", tk::V2),
    ];
    tk::set_objects(tk::spc_mut(&mut s, APP), tk::objects_yaml(&[&item]));
    s.azure = kvchain::snapshot::AzureObs::unknown("no Azure credentials");
    let chains = diagnose(&s);
    let all: Vec<_> = chains.iter().flat_map(|c| c.findings()).collect();
    assert!(all.iter().any(|f| f.code == Code::KVC603), "{all:#?}");
}
