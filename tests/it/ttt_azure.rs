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

fn findings<'a>(r: &'a Value, code: &str) -> Vec<&'a Value> {
    (r["findings"].as_array().unwrap().iter())
        .filter(|f| f["code"] == code)
        .collect()
}

fn codes(r: &Value) -> Vec<&str> {
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
