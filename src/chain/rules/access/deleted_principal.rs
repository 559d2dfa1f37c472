//! KVC501 beside a role assignment left on a deleted principal (audit TTT-azure): Azure does not
//! remove a principal's role assignments when it is deleted and lists them as "Identity not
//! found" (Microsoft Learn, "Understand Azure role assignments"). A managed identity deleted and
//! recreated under its name gets a new principalId, so the assignment made for the old one
//! grants the new one nothing: it needs its own.

use super::policy_allows;
use crate::snapshot::{ManagedIdentityObs, ObjectType, RoleAssignmentObs, VaultObs};

/// What KVC501 says of the deleted principals' grants (`left`): the message's tail, the
/// evidence, the confirm's look-ups and the commands that delete them (by id, as `--assignee`
/// resolves a principal through the directory, which no longer holds it).
pub(super) struct Left {
    pub message: String,
    pub seen: Vec<String>,
    pub confirm: String,
    pub deletes: String,
}

pub(super) fn left_on_deleted(
    identity: &ManagedIdentityObs,
    left: &[&RoleAssignmentObs],
) -> Option<Left> {
    if left.is_empty() {
        return None;
    }
    let held: Vec<String> = left
        .iter()
        .map(|r| {
            format!(
                "{} at {} for principal {}",
                r.role_name, r.scope, r.principal_id
            )
        })
        .collect();
    let one = held.len() == 1;
    let message = format!(
        "; the role assignment{} {} name{} a principal that no longer exists (Azure lists it as \"Identity not found\"; a deleted identity's assignments are not removed with it): an identity deleted and recreated under its name gets a new principal id, so that assignment, made for {} old principal id, grants {} (principal {}) nothing, and the recreated identity needs its own",
        if one { "" } else { "s" },
        held.join(", "),
        if one { "s" } else { "" },
        if one { "its" } else { "an" },
        identity.name,
        identity.principal_id,
    );
    let seen = left
        .iter()
        .map(|r| {
            format!(
                "{} at {} assigned to principalId {}: no such principal in the directory (Identity not found)",
                r.role_name, r.scope, r.principal_id
            )
        })
        .collect();
    let mut ids: Vec<&str> = left.iter().map(|r| r.principal_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let confirm = ids
        .iter()
        // The directory answers "Resource '<id>' does not exist" for a deleted principal.
        .map(|id| format!("az ad sp show --id {id}"))
        .collect::<Vec<_>>()
        .join(" ; ");
    let deletes = left
        .iter()
        .map(|r| super::on_client_id::delete_by_id(r))
        .collect::<Vec<_>>()
        .join(" && ");
    Some(Left {
        message,
        seen,
        confirm,
        deletes,
    })
}

/// KVC501 beside an access policy left on a deleted principal, on an access-policy vault (audit
/// UUU-azure, as [`left_on_deleted`] for role assignments): Key Vault keeps a policy whose
/// object id no longer exists, and a managed identity deleted and recreated under its name has
/// a new principalId, so the old principal's policy with get on type `t` grants the new one
/// nothing. Named; deleted by its object id once the principal's own policy is set.
pub(super) fn policies_left_on_deleted(
    identity: &ManagedIdentityObs,
    vault: &VaultObs,
    t: ObjectType,
) -> Option<Left> {
    if vault.rbac {
        return None;
    }
    let left: Vec<&str> = (vault.access_policies.iter())
        .filter(|a| a.to_deleted_principal() && policy_allows(a.permissions(t)))
        .map(|a| a.object_id.as_str())
        .collect();
    if left.is_empty() {
        return None;
    }
    let one = left.len() == 1;
    let message = format!(
        "; the access polic{} for object id{} {} name{} a principal that no longer exists (Key Vault does not remove an access policy with its principal): an identity deleted and recreated under its name gets a new principal id, so {} made for {} old principal id grant{} {} (principal {}) nothing, and the recreated identity needs its own",
        if one { "y" } else { "ies" },
        if one { "" } else { "s" },
        left.join(", "),
        if one { "s" } else { "" },
        if one { "that policy" } else { "those policies" },
        if one { "its" } else { "an" },
        if one { "s" } else { "" },
        identity.name,
        identity.principal_id,
    );
    let seen = left
        .iter()
        .map(|id| {
            format!(
                "access policy of Key Vault {} for objectId {id} (get on {}): no such principal in the directory",
                vault.name,
                t.collection()
            )
        })
        .collect();
    let confirm = left
        .iter()
        .map(|id| format!("az ad sp show --id {id}"))
        .collect::<Vec<_>>()
        .join(" ; ");
    let deletes = left
        .iter()
        .map(|id| {
            format!(
                "az keyvault delete-policy -n {} --object-id {id}",
                vault.name
            )
        })
        .collect::<Vec<_>>()
        .join(" && ");
    Some(Left {
        message,
        seen,
        confirm,
        deletes,
    })
}
