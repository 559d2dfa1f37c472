//! What Azure would not show about one identity or object (a 403 listing an identity's
//! federated credentials, or an object's versions) is a gap like any other. README: "What is
//! missing becomes a gap with the Azure error", "`gaps` lists everything the source could not
//! see", "Every such gap is listed first by `check` ('Not visible', JSON `gaps`)": once per
//! identity or object, naming it and the error, in every format; and JUnit names each
//! unknown link's own reason, never another gap's.

use std::process::Output;

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::snapshot::*;
use serde_json::Value;

const FIC_ERR: &str = "403 AuthorizationFailed: cannot list federated credentials of the identity";
const OBJ_ERR: &str = "403 Forbidden: cannot list versions of the secret";
const ROLES_ERR: &str = "cannot list role assignments on the vault: 403 AuthorizationFailed";

/// The healthy app with a second pod (two chains over one identity and one object), neither
/// mounted yet, and Azure refusing the identity's credentials and the object's versions.
fn snapshot(roles_gap: bool) -> Snapshot {
    let mut s = tk::healthy();
    let mut second = tk::pod_mut(&mut s, APP).clone();
    second.name = format!("{}-2", second.name).into();
    second.uid = format!("{}-2", second.uid).into();
    s.pods.items.push(second);
    tk::unmount(&mut s, APP);
    // Merely starting (created moments ago): its links are what the Azure reads left unknown.
    for p in &mut s.pods.items {
        p.created_at = Some(tk::ago(jiff::SignedDuration::from_secs(30)));
    }
    tk::identity_mut(&mut s, APP).federated_credentials = Observed::unknown(FIC_ERR);
    tk::object_mut(&mut s, APP).state = Observed::unknown(OBJ_ERR);
    if roles_gap {
        s.azure.role_assignments.items.clear();
        s.azure
            .role_assignments
            .gaps
            .namespaces
            .insert(tk::vault_name(NS), ROLES_ERR.into());
    }
    s
}

/// `check --snapshot` of `s` in `format`.
fn check(s: &Snapshot, format: &str) -> Output {
    super::vvv_honest::check_snapshot(s, format)
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn text_lists_the_identity_and_the_object_azure_would_not_show_with_the_error() {
    let out = check(&snapshot(false), "text");
    let text = String::from_utf8_lossy(&out.stdout);
    let unseen = text
        .split("Not visible")
        .nth(1)
        .and_then(|rest| rest.split("\nnamespace").next())
        .unwrap_or_else(|| panic!("no Not visible section:\n{text}"));
    let fic = unseen
        .lines()
        .find(|l| l.contains(FIC_ERR))
        .unwrap_or_else(|| panic!("{unseen}"));
    assert!(fic.contains(&tk::identity_name(APP)), "{fic}");
    let obj = unseen
        .lines()
        .find(|l| l.contains(OBJ_ERR))
        .unwrap_or_else(|| panic!("{unseen}"));
    assert!(
        obj.contains(&tk::object_name(APP)) && obj.contains(&tk::vault_name(NS)),
        "{obj}"
    );
}

#[test]
fn json_gaps_hold_each_identity_and_object_once_however_many_chains_use_them() {
    let doc = json(&check(&snapshot(false), "json"));
    assert_eq!(
        doc["chains"].as_array().map(Vec::len),
        Some(2),
        "two chains"
    );
    let gaps = doc["gaps"].as_array().unwrap();
    let fic: Vec<&Value> = gaps.iter().filter(|g| g["reason"] == FIC_ERR).collect();
    assert_eq!(fic.len(), 1, "{gaps:#?}");
    assert_eq!(fic[0]["identity"], tk::identity_name(APP).as_str());
    let obj: Vec<&Value> = gaps.iter().filter(|g| g["reason"] == OBJ_ERR).collect();
    assert_eq!(obj.len(), 1, "{gaps:#?}");
    assert_eq!(obj[0]["vault"], tk::vault_name(NS).as_str());
    assert!(
        obj[0]["object"]
            .as_str()
            .is_some_and(|o| o.contains(&tk::object_name(APP))),
        "{obj:#?}"
    );
}

#[test]
fn sarif_notifies_each_one() {
    let doc = json(&check(&snapshot(false), "sarif"));
    let notes = doc["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    for err in [FIC_ERR, OBJ_ERR] {
        let n: Vec<&Value> = notes
            .iter()
            .filter(|n| n["properties"]["reason"] == err)
            .collect();
        assert_eq!(n.len(), 1, "{err}: {notes:#?}");
        assert_eq!(n[0]["level"], "warning", "links are unknown: {n:#?}");
    }
}

/// The chains' unknown links each name their own gap: Access the role assignments, Federation
/// the identity's credentials, Object the object's versions.
#[test]
fn junit_names_each_unknown_links_own_reason() {
    let out = check(&snapshot(true), "junit");
    let xml = String::from_utf8_lossy(&out.stdout);
    let message = xml
        .lines()
        .filter_map(|l| l.split("<skipped message=\"").nth(1))
        .find_map(|m| m.strip_prefix("not verified: "))
        .unwrap_or_else(|| panic!("no unverified chain:\n{xml}"));
    for (link, err) in [
        ("Federation", FIC_ERR),
        ("Access", ROLES_ERR),
        ("Object", OBJ_ERR),
    ] {
        let part = message
            .split("; ")
            .find(|p| p.starts_with(&format!("{link} unknown")))
            .unwrap_or_else(|| panic!("{link} not named: {message}"));
        assert!(part.contains(err), "{link} blames another gap: {part}");
    }
}
