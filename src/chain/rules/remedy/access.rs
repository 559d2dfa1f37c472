//! Key Vault access for the chain's identity: the roles (RBAC vaults) or the access policy
//! (access-policy vaults) the SPC's objects need (FACTS §8), the commands that grant them, and
//! the principal and vault scope they name.

use super::client_id;
use crate::chain::context::Ctx;

pub(crate) fn vault_scope(cx: &Ctx) -> String {
    match cx.vault {
        Some(v) if !v.resource_id.is_empty() => v.resource_id.clone(),
        _ => format!(
            "\"$(az keyvault show -n {} --query id -o tsv)\"",
            cx.keyvault_arg()
        ),
    }
}

pub(crate) fn principal(cx: &Ctx) -> String {
    cx.identity.map_or_else(
        || {
            format!(
                "\"$(az identity list --query \"[?clientId=='{}'].principalId\" -o tsv)\"",
                client_id(cx)
            )
        },
        |i| i.principal_id.clone(),
    )
}

/// The roles the SPC's objects need (one per object type; `only` narrows to one type, e.g.
/// the type a 403 names). Secrets User when nothing says otherwise.
pub(crate) fn roles_needed(
    cx: &Ctx,
    only: Option<crate::snapshot::ObjectType>,
) -> Vec<&'static str> {
    let mut roles: Vec<&'static str> = match only {
        Some(t) => vec![role_for(t)],
        None => cx
            .params
            .as_deref()
            .map(|p| {
                p.objects
                    .iter()
                    .filter_map(|o| o.object_type)
                    .map(role_for)
                    .collect()
            })
            .unwrap_or_default(),
    };
    roles.sort_unstable();
    roles.dedup();
    if roles.is_empty() {
        roles.push(role_for(crate::snapshot::ObjectType::Secret));
    }
    roles
}

/// `az role assignment create` of each role for the chain's identity on the vault.
pub(crate) fn grant_roles(cx: &Ctx, roles: &[&str]) -> String {
    roles
        .iter()
        .map(|role| {
            format!(
                "az role assignment create --assignee-object-id {} --assignee-principal-type ServicePrincipal --role \"{role}\" --scope {}",
                principal(cx),
                vault_scope(cx)
            )
        })
        .collect::<Vec<_>>()
        .join(" && ")
}

/// The object types the SPC reads (`only` narrows to one, e.g. the type a 403 names); a
/// secret when nothing says otherwise.
pub(crate) fn types_needed(
    cx: &Ctx,
    only: Option<crate::snapshot::ObjectType>,
) -> Vec<crate::snapshot::ObjectType> {
    let mut types: Vec<crate::snapshot::ObjectType> = match only {
        Some(t) => vec![t],
        None => cx
            .params
            .as_deref()
            .map(|p| p.objects.iter().filter_map(|o| o.object_type).collect())
            .unwrap_or_default(),
    };
    types.sort_unstable_by_key(|t| t.as_str());
    types.dedup();
    if types.is_empty() {
        types.push(crate::snapshot::ObjectType::Secret);
    }
    types
}

/// An access policy (access-policy vaults) with `get` on exactly `types`: the provider reads
/// nothing else (FACTS §8), and a policy is the principal's whole grant on the vault.
pub(crate) fn set_policy(
    vault: &str,
    principal: &str,
    types: &[crate::snapshot::ObjectType],
) -> String {
    use crate::snapshot::ObjectType;
    let flags: Vec<&str> = types
        .iter()
        .map(|t| match t {
            ObjectType::Secret => "--secret-permissions get",
            ObjectType::Key => "--key-permissions get",
            ObjectType::Cert => "--certificate-permissions get",
        })
        .collect();
    format!(
        "az keyvault set-policy -n {vault} --object-id {principal} {}",
        flags.join(" ")
    )
}

/// The principal's access policy on an access-policy vault.
pub(crate) fn policy_confirm(vault: &str, principal: &str) -> String {
    format!(
        "az keyvault show -n {vault} --query \"properties.accessPolicies[?objectId=='{principal}']\""
    )
}

pub(crate) fn role_for(t: crate::snapshot::ObjectType) -> &'static str {
    match t {
        crate::snapshot::ObjectType::Secret => "Key Vault Secrets User",
        _ => "Key Vault Certificate User",
    }
}
