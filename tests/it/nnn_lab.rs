//! Audit NNN: wrong verdicts and fixes left open by the last audits, each reproduced with a
//! scenario file of its own (tests/fixtures/lab/nnn-*.yaml, written from docs/scenarios.md's
//! format) run through `check --lab` and judged against FACTS and the Azure docs. Vault values
//! are canaries that no output may show.

use serde_json::Value;

use super::mmm_lab::{link, report, report_after};

/// The one finding with `code` on `resource`.
fn finding<'a>(r: &'a Value, code: &str, resource: &str) -> &'a Value {
    (r["findings"].as_array().unwrap().iter())
        .find(|f| f["code"] == code && f["resource"] == resource)
        .unwrap_or_else(|| panic!("no {code} on {resource}: {r}"))
}

fn text<'a>(f: &'a Value, field: &str) -> &'a str {
    f[field].as_str().unwrap_or_default()
}

/// FACTS §7: an identity holds at most 20 federated credentials, so at the limit a create
/// fails. None of id-api's is proven unused by what a diagnosis of namespace demo reads (one
/// namespace whole: the TUI's incremental engine gives a chain no other, and `check` must say
/// the same): 18 are another cluster's issuer's, the other two name accounts of other
/// namespaces. The fix says so in words and lists the credentials to choose from, a command
/// that runs as pasted, with no `<unused credential>` inside a command and no create that the
/// limit refuses.
#[test]
fn at_the_credential_limit_with_none_proven_unused_the_list_is_given_not_a_placeholder() {
    let r = report("nnn-fic-limit.yaml", "CANARY-nnn-fic20-9b3e");
    let f = finding(&r, "KVC401", "ManagedIdentity/id-api");
    let fix = text(f, "fix");
    assert!(!fix.contains('<') && !fix.contains('>'), "{fix}");
    let (command, note) = fix.split_once("  # ").unwrap_or((fix, ""));
    assert_eq!(
        command, "az identity federated-credential list --identity-name id-api -g rg-id -o table",
        "{fix}"
    );
    assert!(
        note.contains("20 federated credentials") && note.contains("none of them is proven unused"),
        "{fix}"
    );
}

/// FACTS §5: the driver merges the pod volume's volumeAttributes over the SPC's parameters,
/// and the vault URL is `https://<keyvaultName>.vault.azure.net/`; §11: a name no vault has
/// does not resolve. The override kv-elsewhere is like no visible vault, but the SPC's own
/// keyvaultName kv-nnn names a vault kvchain read, which holds the object: the fix names it
/// (the override goes), not "the name az keyvault list prints".
#[test]
fn an_override_naming_no_vault_is_fixed_with_the_vault_the_snapshot_knows() {
    let r = report("nnn-override-no-vault.yaml", "CANARY-nnn-override-0c4b");
    let f = finding(&r, "KVC506", "KeyVault/kv-elsewhere");
    let fix = text(f, "fix");
    assert!(!fix.contains("az keyvault list prints"), "{fix}");
    assert!(
        fix.starts_with("kubectl edit deployment/api -n demo")
            && fix.contains("remove volumeAttributes.keyvaultName")
            && fix.contains("kv-nnn"),
        "{fix}"
    );
}

/// FACTS §4: rotation off (the driver's default) never re-fetches a mounted volume, and the
/// synced Secret keeps what it was created with (§11): it does not "rotate". KVC902's words
/// are true for the setting read: nothing restarts the reader when the Secret changes, and
/// with rotation off it changes only when the driver makes it again.
#[test]
fn no_reloader_with_rotation_off_is_not_told_as_a_secret_that_rotates() {
    let r = report("nnn-env-rotation-off.yaml", "CANARY-nnn-norot-51d8");
    let f = finding(&r, "KVC902", "Deployment/api");
    let message = text(f, "message");
    assert!(!message.contains("rotates"), "{message}");
    assert!(
        message.contains("when a new mount writes the Secret again")
            && message.contains("rotation off"),
        "{message}"
    );
}

/// FACTS §4: env is read at container start, and a running container keeps its values; §2,
/// docs/scenarios.md deleteSecret: the driver makes a deleted synced Secret again at its next
/// reconcile. With nothing else on the Consumers link (Reloader restarts api), a running
/// reader of the Secret deleted under it is not "blocked: Sync" like a container never
/// started: it runs on the values it started with, and a restart would wait for the Secret.
#[test]
fn a_running_reader_of_a_deleted_secret_runs_on_its_start_values() {
    let r = report_after(
        "nnn-deleted-secret-reloaded.yaml",
        &["--for", "2m30s"],
        "CANARY-nnn-deleted-7a2c",
    );
    let chains = r["chains"].as_array().unwrap();
    assert_eq!(chains.len(), 1, "{r}");
    assert_eq!(link(&chains[0], "sync")["summary"], "Secret missing", "{r}");
    let consumers = link(&chains[0], "consumers");
    assert_eq!(consumers["status"], "warning", "{consumers}");
    assert_eq!(
        consumers["summary"], "running on start values",
        "{consumers}"
    );
}

/// Kubernetes ValidateSecret (docs/scenarios.md): a `kubernetes.io/dockerconfigjson` Secret's
/// `.dockerconfigjson` must be JSON. The vault value rotated to text that is not: the rotation
/// reconciler's patch of the existing regcred is refused (SecretRotationFailed, FACTS §3). A
/// remount fetches the same value and fails again, so the fix is the Key Vault value, not
/// KVC806's "delete pod … then remount".
#[test]
fn a_docker_config_patch_refused_for_its_value_is_fixed_in_the_vault() {
    let r = report_after(
        "nnn-docker-config-rotated.yaml",
        &["--for", "5m"],
        "CANARY-nnn-docker",
    );
    let f = finding(&r, "KVC806", "Secret/regcred");
    let fix = text(f, "fix");
    assert!(
        crate::xd_paste::after_guards(fix).starts_with("az keyvault secret set --vault-name kv-nnn --name registry-config --file \"$DOCKER_CONFIG_JSON\""),
        "{fix}"
    );
    assert!(!fix.contains("kubectl delete pod"), "{fix}");
    assert!(text(f, "message").contains("JSON"), "{f}");
    // The Secret's values differ from the mount because the patch is refused: that is this
    // finding's evidence, not a KVC805 of its own whose fix deleted the Secret, the last value
    // the API server accepted, for a remount that fetches the same refused value (one
    // symptom, one cause).
    let codes: Vec<&str> = (r["findings"].as_array().unwrap().iter())
        .filter(|f| f["resource"] == "Secret/regcred")
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert_eq!(codes, ["KVC806"], "{r}");
    let evidence = f["evidence"].to_string();
    assert!(
        evidence.contains("key .dockerconfigjson (fp:"),
        "the differing fingerprints stay as evidence: {evidence}"
    );
    assert!(
        !r.to_string().contains("kubectl delete secret regcred"),
        "{r}"
    );
}

/// Key Vault object identifiers are case-insensitive ("Object identifiers", Azure Key Vault
/// keys, secrets and certificates overview: compare them as case-insensitive strings): an SPC
/// objectName DB-Password reads the vault's secret db-password. The lab mounts it, and the
/// diagnosis finds the object, not KVC601 "did you mean db-password?".
#[test]
fn an_object_name_in_another_case_names_the_vault_object() {
    let r = report("nnn-object-case.yaml", "CANARY-nnn-case-3e1f");
    let chains = r["chains"].as_array().unwrap();
    assert_eq!(chains.len(), 1, "{r}");
    for l in ["vaultObject", "mount", "sync"] {
        assert_eq!(link(&chains[0], l)["status"], "ok", "{l}: {r}");
    }
    let codes: Vec<&str> = (r["findings"].as_array().unwrap().iter())
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert_eq!(codes, ["KVC902"], "{r}");
}
