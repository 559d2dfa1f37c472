//! KVC501's known cause "assigned to the clientId instead of the principal (object) id"
//! (codes.yaml): RBAC matches an assignment's principal only (FACTS §7).

use super::policy_allows;
use crate::snapshot::{ManagedIdentityObs, ObjectType, RoleAssignmentObs, VaultObs};

/// What KVC501 says of grants made to the identity's clientId (`on_client`): the message's
/// tail and the commands that delete them. An assignment whose principal is a clientId is
/// deleted by its id: `--assignee` would resolve the clientId to the real principal and miss it.
pub(super) fn on_client_id(
    identity: &ManagedIdentityObs,
    on_client: &[&RoleAssignmentObs],
) -> (String, String) {
    if on_client.is_empty() {
        return (String::new(), String::new());
    }
    let held: Vec<String> = on_client
        .iter()
        .map(|r| format!("{} at {}", r.role_name, r.scope))
        .collect();
    let message = format!(
        "; the role assignment{} {} name{} the identity's clientId {} as principal instead of its principal (object) id: RBAC grants the principal only, so {} nothing",
        if held.len() == 1 { "" } else { "s" },
        held.join(", "),
        if held.len() == 1 { "s" } else { "" },
        identity.client_id,
        if held.len() == 1 {
            "it grants"
        } else {
            "they grant"
        },
    );
    let deletes = on_client
        .iter()
        .map(|r| delete_by_id(r))
        .collect::<Vec<_>>()
        .join(" && ");
    (message, deletes)
}

/// The command that deletes assignment `r` by its id, found at its own scope by principal and
/// role (`az role assignment list --scope` without `--include-inherited` lists that scope's).
pub(super) fn delete_by_id(r: &RoleAssignmentObs) -> String {
    format!(
        "az role assignment delete --ids $(az role assignment list --scope {} --query \"[?principalId=='{}' && roleDefinitionName=='{}'].id\" -o tsv)",
        r.scope, r.principal_id, r.role_name
    )
}

/// The same slip on an access-policy vault: a policy matches its objectId only, so one made for
/// the clientId grants nothing (audit GGG-A6). Named (`misassigned`), and deleted once the
/// principal's own policy is set (after `fix`).
pub(super) fn policy_on_client_id(
    identity: &ManagedIdentityObs,
    vault: &VaultObs,
    t: ObjectType,
    misassigned: &mut String,
    fix: &mut String,
) {
    if !vault.rbac
        && let Some(a) = vault.access_policies.iter().find(|a| {
            a.object_id.eq_ignore_ascii_case(&identity.client_id) && policy_allows(a.permissions(t))
        })
    {
        *misassigned = format!(
            "; the access policy for object id {} names the identity's clientId instead of its principal (object) id: an access policy matches the object id only, so it grants nothing",
            a.object_id
        );
        *fix = format!(
            "{fix} && az keyvault delete-policy -n {} --object-id {}",
            vault.name, a.object_id
        );
    }
}
