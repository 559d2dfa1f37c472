//! Grants kvchain can see but not judge: a role assignment whose definition could not be read,
//! a role held by a group the identity may be a member of, an access policy naming an object
//! kvchain cannot resolve (a group, or a user or a service principal that grants the identity
//! nothing: a policy names an objectId only). Group membership is not read (FACTS §8: RBAC and policies also apply through groups), so
//! such a grant makes the read unknown, never absent (and never a grant fix for a role the
//! identity may already hold). Likewise a role at a management group the snapshot does not
//! place above the vault: RBAC inherits from it to the subscriptions under it, and the
//! management-group hierarchy is not read (audit CC1).

use super::{covers, grants, maybe_above, policy_allows};
use crate::chain::context::Ctx;
use crate::snapshot::{ObjectType, RoleAssignmentObs, VaultObs};

/// Why the read of `names` (objects of type `t`) by `principal` is not known to be refused,
/// though no grant of the principal's own allows it: `None` when nothing seen may grant it.
pub(super) fn undetermined(
    cx: &Ctx,
    vault: &VaultObs,
    principal: &str,
    own: &[&RoleAssignmentObs],
    t: ObjectType,
    names: &[&str],
) -> Option<String> {
    let action = super::needed_action(t);
    let covers_one = |r: &RoleAssignmentObs| names.iter().any(|n| covers(&r.scope, vault, t, n));
    if vault.rbac {
        // The principal's own assignment whose role is not known may be the grant.
        if let Some((r, why)) = own
            .iter()
            .filter(|r| covers_one(r))
            .find_map(|r| Some((r, r.unresolved.as_deref()?)))
        {
            return Some(format!(
                "the role assignment of principal {principal} at {} ({}): {why}, so whether it grants {action} is unknown",
                r.scope, r.role_definition_id
            ));
        }
        // The principal's own role at a management group that may hold the vault.
        let may_grant = |r: &RoleAssignmentObs| r.unresolved.is_some() || grants(r, action);
        if let Some(r) =
            (cx.ix.assignments(principal)).find(|r| maybe_above(&r.scope, vault) && may_grant(r))
        {
            return Some(format!(
                "{} is assigned to principal {principal} at {}; {}",
                r.role_name,
                r.scope,
                beyond(vault, &r.scope, principal)
            ));
        }
        let group = (cx.ix.group_assignments())
            .find(|r| (covers_one(r) || maybe_above(&r.scope, vault)) && may_grant(r))?;
        let reach = if maybe_above(&group.scope, vault) {
            format!("; {}", beyond(vault, &group.scope, &group.principal_id))
        } else {
            String::new()
        };
        return Some(format!(
            "{} is granted to group {} at {}; group membership is not readable, so whether principal {principal} is a member is unknown{reach}",
            group.role_name, group.principal_id, group.scope
        ));
    }
    // An access policy names an objectId only: any other than the principal may be a group,
    // a user or a service principal (the directory is not read), unless it is a managed
    // identity kvchain sees, by its principalId or clientId (no group), or a principal the
    // directory no longer holds (no member has it: audit UUU-azure). Only as a group can it
    // grant the principal anything, so the read is unknown, not refused; the reason names
    // all three (audit VVV-honest).
    let policy = vault.access_policies.iter().find(|a| {
        !a.object_id.eq_ignore_ascii_case(principal)
            && !cx.ix.is_identity(&a.object_id)
            && !a.to_deleted_principal()
            && policy_allows(a.permissions(t))
    })?;
    Some(format!(
        "an access policy on Key Vault {} grants get on {} to object {}, which kvchain cannot resolve (the directory is not read): a group, which grants its members, or a user or a service principal other than a managed identity kvchain sees, which grants principal {principal} nothing; group membership is not readable either, so whether principal {principal} may read through it is unknown",
        vault.name,
        t.collection(),
        policy.object_id
    ))
}

/// Why a role at management group `scope` may or may not reach `vault`, and the command that
/// tells: ARM lists at a scope the assignments that apply there, inherited from management
/// groups included (`az role assignment list --include-inherited` matches parent scopes by
/// path prefix, so it leaves management groups out).
pub(super) fn beyond(vault: &VaultObs, scope: &str, principal: &str) -> String {
    let subscription = (vault.resource_id.split('/'))
        .skip_while(|p| !p.eq_ignore_ascii_case("subscriptions"))
        .nth(1)
        .unwrap_or("?");
    format!(
        "kvchain does not read which subscriptions that management group holds, so whether it reaches Key Vault {} (subscription {subscription}) is unknown; ARM lists at the vault only the assignments that apply there: {} --query \"value[?properties.principalId=='{principal}'].properties.scope\" -o tsv prints {scope} when it does",
        vault.name,
        crate::chain::rules::remedy::vault_assignments(&vault.resource_id)
    )
}
