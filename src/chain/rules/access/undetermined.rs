//! Grants kvchain can see but not judge: a role assignment whose definition could not be read,
//! a role or an access policy held by a principal that may be a group the identity is a member
//! of. Group membership is not read (FACTS §8: RBAC and policies also apply through groups), so
//! such a grant makes the read unknown, never absent (and never a grant fix for a role the
//! identity may already hold).

use super::{covers, grants, policy_allows};
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
    let covers_one = |r: &RoleAssignmentObs| {
        names
            .iter()
            .any(|n| covers(&r.scope, &vault.resource_id, t, n))
    };
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
        let group = cx.azure().role_assignments.items.iter().find(|r| {
            r.to_group() && covers_one(r) && (r.unresolved.is_some() || grants(r, action))
        })?;
        return Some(format!(
            "{} is granted to group {} at {}; group membership is not readable, so whether principal {principal} is a member is unknown",
            group.role_name, group.principal_id, group.scope
        ));
    }
    // An access policy names an objectId only: any other than the principal may be a group,
    // unless it is a managed identity kvchain sees, by its principalId or clientId (no group).
    let identities = &cx.azure().identities.items;
    let policy = vault.access_policies.iter().find(|a| {
        !a.object_id.eq_ignore_ascii_case(principal)
            && !identities.iter().any(|i| {
                i.principal_id.eq_ignore_ascii_case(&a.object_id)
                    || i.client_id.eq_ignore_ascii_case(&a.object_id)
            })
            && policy_allows(match t {
                ObjectType::Secret => &a.secrets,
                ObjectType::Key => &a.keys,
                ObjectType::Cert => &a.certificates,
            })
    })?;
    Some(format!(
        "an access policy on Key Vault {} grants get on {} to object {}, which may be a group; group membership is not readable, so whether principal {principal} is a member is unknown",
        vault.name,
        t.collection(),
        policy.object_id
    ))
}
