//! The listing objectVersionHistory makes: on an access-policy vault it needs `list` beside
//! `get` (FACTS §5).

use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::Finding;
use crate::chain::rules::remedy;
use crate::snapshot::{AccessPolicyObs, ObjectType, RoleAssignmentObs, VaultObs};

/// KVC502 for objects of type `t` read with objectVersionHistory on an access-policy vault
/// whose policies for `principal` grant get but not list: the provider lists the versions
/// first (FACTS §5: history "needs list permission"), and Key Vault refuses the listing
/// (AccessDenied). Under RBAC the listing is its own action ([`history_unlisted_rbac`]).
pub(super) fn history_unlisted(
    cx: &Ctx,
    vault: &VaultObs,
    principal: &str,
    policies: &[&AccessPolicyObs],
    p: &crate::spc::AzureSpc,
    t: ObjectType,
) -> Option<Finding> {
    let with_history: Vec<&str> = p
        .version_listed(t)
        .map(|o| o.object_name.as_str())
        .collect();
    let held: Vec<String> = (policies.iter())
        .flat_map(|a| a.permissions(t).iter().cloned())
        .collect();
    let lists = |x: &String| x.eq_ignore_ascii_case("list") || x.eq_ignore_ascii_case("all");
    if with_history.is_empty() || held.iter().any(lists) {
        return None;
    }
    let what = format!("{} {}", t.as_str(), with_history.join(", "));
    Some(cx.finding(
        Code::KVC502,
        format!("KeyVault/{}", vault.name),
        format!(
            "{what} is read with objectVersionHistory, which lists its versions first, but the access policy of principal {principal} on Key Vault {} grants {} without list: the listing fails with 403 (AccessDenied)",
            vault.name,
            t.collection()
        ),
        vec![format!(
            "access policy {} permissions: {}",
            t.collection(),
            held.join(", ")
        )],
        remedy::policy_confirm(&vault.name, principal),
        // set-policy replaces the type's permissions: those held are kept, list added.
        format!(
            "az keyvault set-policy -n {} --object-id {principal} {}",
            vault.name,
            remedy::policy_flag(cx, &vault.name, principal, t, "list")
        ),
    ))
}

/// The data action that lists a secret's versions under Azure RBAC: the properties, no value.
/// Keys and certificates list theirs with the action that reads them (`keys/read`,
/// `certificates/read`), so only a secret's listing asks for more than its read.
const LIST_SECRET_VERSIONS: &str = "Microsoft.KeyVault/vaults/secrets/readMetadata/action";

/// KVC502 for secrets read with objectVersionHistory on an RBAC vault whose grants allow the
/// read (getSecret) but not the listing the provider makes first (FACTS §5: history "needs
/// list permission"; FACTS §8: the listing is `secrets/readMetadata/action`, which Secrets User
/// and Certificate User hold and a custom role may not): Key Vault refuses the listing with 403
/// (ForbiddenByRbac). Built-in read roles grant both, so only custom roles (or a
/// notDataActions taking it back) meet this (audit GGG-A4).
pub(super) fn history_unlisted_rbac(
    cx: &Ctx,
    vault: &VaultObs,
    principal: &str,
    assignments: &[&RoleAssignmentObs],
    p: &crate::spc::AzureSpc,
    t: ObjectType,
) -> Option<Finding> {
    if t != ObjectType::Secret {
        return None;
    }
    let unlisted: Vec<&str> = p
        .version_listed(t)
        .map(|o| o.object_name.as_str())
        .filter(|n| {
            !assignments
                .iter()
                .any(|r| r.grants(LIST_SECRET_VERSIONS) && super::covers(&r.scope, vault, t, n))
        })
        .collect();
    if unlisted.is_empty() {
        return None;
    }
    // A grant kvchain cannot judge (a group's, an unreadable role) may hold the listing.
    if super::undetermined(cx, vault, principal, assignments, t, &unlisted).is_some() {
        return None;
    }
    let held: Vec<String> = (assignments.iter())
        .filter(|r| {
            unlisted
                .iter()
                .any(|n| super::covers(&r.scope, vault, t, n))
        })
        .map(|r| super::granted_actions(r))
        .collect();
    let role = remedy::role_for(t);
    Some(cx.finding(
        Code::KVC502,
        format!("KeyVault/{}", vault.name),
        format!(
            "secret {} is read with objectVersionHistory, which lists its versions first, but no role of principal {principal} on Key Vault {} grants {LIST_SECRET_VERSIONS} (the listing; getSecret reads a value only): the listing fails with 403 (ForbiddenByRbac)",
            unlisted.join(", "),
            vault.name
        ),
        held,
        remedy::access_confirm(cx, principal),
        format!(
            "az role assignment create --assignee-object-id {principal} --assignee-principal-type ServicePrincipal --role \"{role}\" --scope {}  # {role} grants getSecret and readMetadata (the listing)",
            remedy::vault_scope(cx)
        ),
    ))
}
