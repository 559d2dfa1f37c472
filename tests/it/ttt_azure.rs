//! Audit TTT-azure: the Azure side the lab did not model — a role assignment left on a deleted
//! identity's old principal, grants at resource-group and subscription scope, the access model
//! end to end. The lab worlds are tests/fixtures/lab/ttt_azure/*.yaml; their vault values are
//! canaries (`CANARY-ttt-az`) that no output may show.

use serde_json::Value;

use super::mmm_lab::report;

const CANARY: &str = "CANARY-ttt-az";

/// The JSON report of world `name` (tests/fixtures/lab/ttt_azure/), its text and JSON checked
/// for the canary.
fn world(name: &str) -> Value {
    report(&format!("ttt_azure/{name}"), CANARY)
}

pub(crate) fn findings<'a>(r: &'a Value, code: &str) -> Vec<&'a Value> {
    (r["findings"].as_array().unwrap().iter())
        .filter(|f| f["code"] == code)
        .collect()
}

pub(crate) fn codes(r: &Value) -> Vec<&str> {
    (r["findings"].as_array().unwrap().iter())
        .map(|f| f["code"].as_str().unwrap())
        .collect()
}

/// Azure does not remove a principal's role assignments when it is deleted; it lists them as
/// "Identity not found" (Microsoft Learn, "Understand Azure role assignments"), and a managed
/// identity recreated under its name has a new principalId (FACTS §7: RBAC is granted to the
/// principalId). id-web's old principal held Key Vault Administrator on kv-ttt. KVC501 said
/// only "no role assignment" — not that one exists for the old principal, which is what a
/// user sees in the portal and wonders about. It names that assignment and says the recreated
/// identity needs its own; the fix grants the new principal the role its read needs (Secrets
/// User, not a copy of the Administrator, which KVC504 would then flag) at that scope, and
/// deletes the assignment left on the deleted principal by its id (`--assignee` resolves a
/// principal through the directory, which no longer holds it).
#[test]
fn a_grant_left_on_a_recreated_identitys_old_principal_is_named() {
    const OLD: &str = "9c8d7e6f-5a4b-4c3d-9e2f-1a0b9c8d7e6f";
    const NEW: &str = "2e3f4a5b-6c7d-4e8f-9a0b-1c2d3e4f5a6b";
    let r = world("ttt-az-recreated-admin.yaml");
    let found = findings(&r, "KVC501");
    assert_eq!(found.len(), 1, "{r}");
    let f = found[0];
    let message = f["message"].as_str().unwrap();
    for said in [
        OLD,
        "Key Vault Administrator",
        "Identity not found",
        "needs its own",
    ] {
        assert!(message.contains(said), "{said}: {message}");
    }
    let fix = f["fix"].as_str().unwrap();
    assert!(
        fix.starts_with(&format!(
            "az role assignment create --assignee-object-id {NEW} --assignee-principal-type ServicePrincipal --role \"Key Vault Secrets User\" --scope /subscriptions/"
        )),
        "{fix}"
    );
    assert!(
        fix.contains(&format!(
            "&& az role assignment delete --ids $(az role assignment list --scope /subscriptions/00000000-0000-0000-0000-00000000ab01/resourceGroups/rg-kvchain-lab/providers/Microsoft.KeyVault/vaults/kv-ttt --query \"[?principalId=='{OLD}' && roleDefinitionName=='Key Vault Administrator'].id\" -o tsv)"
        )),
        "{fix}"
    );
    assert!(!fix.contains("--role \"Key Vault Administrator\""), "{fix}");
    let confirm = f["confirm"].as_str().unwrap();
    assert!(
        confirm.contains(&format!("az ad sp show --id {OLD}")),
        "{confirm}"
    );
    // The Administrator is no role of id-web's: no over-privilege finding for it.
    assert!(!codes(&r).contains(&"KVC504"), "{r}");
}

const VAULT_ID: &str = "/subscriptions/00000000-0000-0000-0000-00000000ab01/resourceGroups/rg-kv-ttt/providers/Microsoft.KeyVault/vaults/kv-ttt";
const PID: &str = "2e3f4a5b-6c7d-4e8f-9a0b-1c2d3e4f5a6b";

fn access(r: &Value) -> &Value {
    let chains = r["chains"].as_array().unwrap();
    assert_eq!(chains.len(), 1, "{r}");
    super::mmm_lab::link(&chains[0], "access")
}

/// Azure RBAC inherits down the scopes: a role assigned at a resource group applies to every
/// resource in it (FACTS §8; Microsoft Learn, "Understand scope for Azure RBAC"). The lab had
/// vault and object scopes only, so a trainer could not show a grant at the vault's resource
/// group (the way many teams grant) mounting, nor one at another resource group refused.
/// Secrets User at rg-kv-ttt, the vault's own: the mount works, Access is ok, no Access finding.
#[test]
fn a_grant_at_the_vaults_resource_group_reads_it() {
    let r = world("ttt-az-rg-grant.yaml");
    assert_eq!(access(&r)["status"], "ok", "{r}");
    assert_eq!(codes(&r), ["KVC702"], "{r}");
}

/// Secrets User at resource group rg-app-ttt, which does not hold kv-ttt (in rg-kv-ttt): it
/// reaches nothing there, Key Vault answers 403 (FACTS §5). KVC501, its fix the role at the
/// vault's own scope, filled from the snapshot (its resource group rg-kv-ttt, no placeholder).
#[test]
fn a_grant_at_another_resource_group_does_not_reach_the_vault() {
    let r = world("ttt-az-rg-other.yaml");
    assert_eq!(codes(&r), ["KVC501", "KVC702"], "{r}");
    let fix = findings(&r, "KVC501")[0]["fix"].as_str().unwrap();
    assert_eq!(
        fix,
        format!(
            "az role assignment create --assignee-object-id {PID} --assignee-principal-type ServicePrincipal --role \"Key Vault Secrets User\" --scope {VAULT_ID}"
        )
    );
}

/// Key Vault Reader at the vault's resource group: `vaults/*/read` reads metadata, no secret
/// value (FACTS §8): KVC502 names the Reader at the resource group, and its fix grants Secrets
/// User at the vault.
#[test]
fn a_reader_at_the_resource_group_is_the_wrong_role_for_a_secret() {
    let r = world("ttt-az-rg-reader.yaml");
    assert_eq!(codes(&r), ["KVC502", "KVC702"], "{r}");
    let f = findings(&r, "KVC502")[0];
    let seen = f["evidence"].to_string();
    assert!(
        seen.contains("Key Vault Reader at /subscriptions/00000000-0000-0000-0000-00000000ab01/resourceGroups/rg-kv-ttt:"),
        "{f:#}"
    );
    assert_eq!(
        f["fix"].as_str().unwrap(),
        format!(
            "az role assignment create --assignee-object-id {PID} --assignee-principal-type ServicePrincipal --role \"Key Vault Secrets User\" --scope {VAULT_ID}"
        )
    );
}

/// Key Vault Administrator at the subscription: inherited by the vault, the mount works; the
/// identity may write every vault of the subscription (KVC504, a warning, exit 0). The fix
/// grants the one read it makes at the vault, then deletes the Administrator where it is
/// assigned — at the subscription, the scope `az role assignment delete` must name — with a
/// note that the deletion reaches every vault under it.
#[test]
fn an_administrator_at_the_subscription_is_deleted_at_the_subscription() {
    let r = world("ttt-az-sub-admin.yaml");
    assert_eq!(access(&r)["status"], "warning", "{r}");
    assert_eq!(codes(&r), ["KVC504", "KVC702"], "{r}");
    assert_eq!(
        findings(&r, "KVC504")[0]["fix"].as_str().unwrap(),
        format!(
            "az role assignment create --assignee-object-id {PID} --assignee-principal-type ServicePrincipal --role \"Key Vault Secrets User\" --scope {VAULT_ID} && az role assignment delete --assignee {PID} --role \"Key Vault Administrator\" --scope /subscriptions/00000000-0000-0000-0000-00000000ab01  # /subscriptions/00000000-0000-0000-0000-00000000ab01 covers every vault under it: first grant the identity's reads on its other vaults there"
        )
    );
}

/// The same Administrator at the subscription, for an identity two workloads mount two vaults
/// with (kv-ttt in rg-kv-ttt, kv-ttt2 in rg-kv2-ttt). RBAC inherits the subscription's grant to
/// both (FACTS §8), so each chain's KVC504 fix, pasted alone, deleted the grant the other
/// chain's mount reads through (its next mount or rotation poll: 403), while the finding spoke
/// of "the vault" alone. Each finding now says the role is assigned above its vault and reaches
/// every vault there, and its fix says the other vaults' reads come first. Audit UUU-azure:
/// both said "other vaults" without naming one the snapshot lists; each now names the other
/// vault under the subscription (kv-ttt's finding kv-ttt2, and kv-ttt2's kv-ttt).
#[test]
fn an_administrator_above_two_vaults_is_not_deleted_as_if_it_were_one_vaults() {
    let r = report("ttt_azure/ttt-az-sub-admin-two-vaults.yaml", CANARY);
    let found = findings(&r, "KVC504");
    assert_eq!(found.len(), 2, "{r}");
    for f in found {
        let message = f["message"].as_str().unwrap();
        let other = if f["resource"] == "KeyVault/kv-ttt" {
            "kv-ttt2"
        } else {
            "kv-ttt"
        };
        assert!(
            message.contains(&format!("is assigned at /subscriptions/00000000-0000-0000-0000-00000000ab01, above the vault, so it reaches every vault there (Key Vault {other})")),
            "{message}"
        );
        let fix = f["fix"].as_str().unwrap();
        assert!(
            fix.ends_with(&format!("covers every vault under it: first grant the identity's reads on its other vaults there (Key Vault {other})")),
            "{fix}"
        );
    }
}

/// A scope names exactly one place, and an object scope lies in a vault: the lab refuses the
/// rest with the field's path (docs/scenarios.md), exit 2.
#[test]
fn a_role_assignment_scope_names_one_place() {
    let good =
        std::fs::read_to_string(super::mmm_lab::fixture("ttt_azure/ttt-az-rg-grant.yaml")).unwrap();
    for (scope, said) in [
        (
            "{resourceGroup: rg-kv-ttt, subscription: true}",
            "spec.scope: give exactly one of vault, resourceGroup, subscription: true",
        ),
        (
            "{resourceGroup: rg-kv-ttt, object: secrets/api-token}",
            "spec.scope.object: an object scope lies in a vault",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bad.yaml");
        std::fs::write(&file, good.replace("{resourceGroup: rg-kv-ttt}", scope)).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
            .args(["check", "--lab"])
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{scope}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(said), "{scope}: {stderr}");
    }
}

/// "A secret's get operation will work for not-yet-valid and expired secrets, outside the
/// nbf / exp window" (Microsoft Learn, About Azure Key Vault secrets). The lab had no nbf and
/// kvchain read none: a new version dated 48h ahead (a planned switch) is mounted at once, and
/// nothing said so. The lab serves it (the mount works, exit 0), and KVC604 (a warning, the
/// Object link "not valid yet", not "expiring") says the mount serves a value dated for later:
/// its fix moves nbf to now with set-attributes, its note holds the pods on the version valid
/// now until the date. Past the date, nothing is said.
#[test]
fn a_secret_version_not_valid_yet_is_served_and_said() {
    let r = world("ttt-az-nbf-future.yaml");
    assert_eq!(codes(&r), ["KVC604", "KVC702"], "{r}");
    let chains = r["chains"].as_array().unwrap();
    let object = super::mmm_lab::link(&chains[0], "vaultObject");
    assert_eq!(object["status"], "warning", "{object}");
    assert_eq!(object["summary"], "not valid yet", "{object}");
    assert_eq!(
        super::mmm_lab::link(&chains[0], "mount")["status"],
        "warning"
    );
    let f = findings(&r, "KVC604")[0];
    let message = f["message"].as_str().unwrap();
    assert!(
        message.contains("is not valid before 2026-01-17 09:00:00Z")
            && message.contains("Key Vault returns it"),
        "{message}"
    );
    let fix = f["fix"].as_str().unwrap();
    assert!(
        fix.starts_with("az keyvault secret set-attributes --vault-name kv-ttt -n api-token --version ")
            && fix.contains(" --not-before \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"  # or, if the date is meant, hold the pods on version "),
        "{fix}"
    );
    let later = super::mmm_lab::report_after(
        "ttt_azure/ttt-az-nbf-future.yaml",
        &["--for", "49h"],
        CANARY,
    );
    assert_eq!(codes(&later), ["KVC702"], "{later}");
}
