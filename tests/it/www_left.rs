//! Audit WWW-left: what the last audits found and left. Lab worlds written from the documents
//! (FACTS, codes.yaml) before kvchain was run on them; their vault values are canaries
//! (`CANARY-www-left`) that no output may show.

use serde_json::Value;

use super::mmm_lab::report_after;

const CANARY: &str = "CANARY-www-left";

fn world(name: &str) -> Value {
    report_after(&format!("{name}.yaml"), &[], CANARY)
}

fn findings<'a>(r: &'a Value, code: &str) -> Vec<&'a Value> {
    (r["findings"].as_array().unwrap().iter())
        .filter(|f| f["code"] == code)
        .collect()
}

fn fix(f: &Value) -> &str {
    f["fix"].as_str().unwrap_or_default()
}

fn causes(r: &Value) -> Vec<&str> {
    (r["findings"].as_array().unwrap().iter())
        .filter(|f| f.get("follows").is_none())
        .map(|f| f["code"].as_str().unwrap())
        .collect()
}

/// FACTS §7: a token's subject is system:serviceaccount:<ns>:<sa>, and an identity holds at
/// most 20 credentials. fic-api names demo:api-sa, an account that does not exist in the
/// namespace read whole and no pod runs as: nothing uses it, so KVC401 corrects it in place
/// rather than creating demo-api beside it.
#[test]
fn a_credential_for_an_account_nothing_has_is_corrected_in_place() {
    let r = world("www-left-fic-wrong-subject");
    assert_eq!(causes(&r), ["KVC401"], "{r}");
    let f = fix(findings(&r, "KVC401")[0]);
    let (command, _) = f.split_once("  # ").unwrap_or((f, ""));
    assert!(
        command.starts_with(
            "az identity federated-credential update --name fic-api --identity-name id-api -g rg-id "
        ),
        "{f}"
    );
    assert!(
        command.contains("--subject system:serviceaccount:demo:api "),
        "{f}"
    );
    assert!(!f.contains("federated-credential create"), "{f}");
}

/// The same with service account api-sa present in demo: a workload may use fic-api as
/// written, so it stays, and the credential for demo:api is created under a free name.
#[test]
fn a_credential_an_existing_account_may_use_is_left_and_another_created() {
    let r = world("www-left-fic-wrong-subject-in-use");
    assert_eq!(causes(&r), ["KVC401"], "{r}");
    let f = fix(findings(&r, "KVC401")[0]);
    assert!(
        f.starts_with("az identity federated-credential create --name demo-api --identity-name id-api -g rg-id "),
        "{f}"
    );
    assert!(
        f.contains("--subject system:serviceaccount:demo:api "),
        "{f}"
    );
    assert!(!f.contains("--name fic-api"), "{f}");
}

/// FACTS §2: the driver makes a Kubernetes Secret only for a secretObjects entry. Worker, a
/// workload that mounts nothing, reads Secret db-password (named after api-kv's object)
/// through env; api-kv has no secretObjects, so nothing makes it and the kubelet holds the
/// container (CreateContainerConfigError). KVC109 says so on api-kv's chain (the worker has
/// no chain of its own), its fix the secretObjects entry; `check` exits 1, not silence.
#[test]
fn a_reader_of_a_secret_named_after_an_unsynced_object_is_said() {
    let r = world("www-left-unsynced-namesake");
    let held = findings(&r, "KVC109");
    assert_eq!(held.len(), 1, "{r}");
    let f = held[0];
    assert_eq!(f["severity"], "error", "{f:#}");
    let message = f["message"].as_str().unwrap();
    assert!(
        message.contains("Deployment/worker") && message.contains("db-password"),
        "{f:#}"
    );
    assert!(
        fix(f).starts_with("kubectl patch secretproviderclass api-kv -n demo --type json")
            && fix(f).contains("\"secretName\":\"db-password\""),
        "{f:#}"
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "--lab"])
        .arg(super::mmm_lab::fixture("www-left-unsynced-namesake.yaml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}
