//! Whether a principal may read the chain's objects, without findings: what the client-id
//! mismatch (KVC204) asks of each side's identity.

use super::{covers, grants, needed_action, policy_allows, touches, undetermined, vault_gap};
use crate::chain::context::Ctx;
use crate::snapshot::{ObjectType, RoleAssignmentObs, VaultObs};

/// Whether `principal` may read every object of the chain's SecretProviderClass from `vault`
/// in the permission model the vault enforces (the same test as [`check`], without findings):
/// `None` when the objects or the vault's role assignments are not known.
pub(crate) fn reads_granted(cx: &Ctx, vault: &VaultObs, principal: &str) -> Option<bool> {
    let p = cx.params.as_deref()?;
    if !p.problems.is_empty() || p.objects.is_empty() {
        return None;
    }
    let mut all = true;
    for o in &p.objects {
        // An object of no known type is read by nobody (the provider refuses it).
        let Some(t) = o.object_type else {
            all = false;
            continue;
        };
        all &= may_read_from(cx, vault, principal, t, &o.object_name)?;
    }
    Some(all)
}

/// Whether `principal` may read object `name` of type `t` from `vault` in the permission model
/// the vault enforces: `None` when the vault's role assignments are not known, or a grant may
/// be the principal's without kvchain being able to tell (a group's, an unreadable role).
pub(super) fn may_read_from(
    cx: &Ctx,
    vault: &VaultObs,
    principal: &str,
    t: ObjectType,
    name: &str,
) -> Option<bool> {
    if vault.rbac && vault_gap(&cx.azure().role_assignments.gaps, &vault.name).is_some() {
        return None;
    }
    let assignments: Vec<&RoleAssignmentObs> = cx
        .ix
        .assignments(principal)
        .filter(|r| touches(&r.scope, vault))
        .collect();
    let granted = if vault.rbac {
        let action = needed_action(t);
        assignments
            .iter()
            .any(|r| grants(r, action) && covers(&r.scope, vault, t, name))
    } else {
        (vault.access_policies.iter())
            .filter(|a| a.object_id.eq_ignore_ascii_case(principal))
            .any(|a| policy_allows(a.permissions(t)))
    };
    if !granted && undetermined(cx, vault, principal, &assignments, t, &[name]).is_some() {
        return None;
    }
    Some(granted)
}

/// What a role grants, as evidence: its dataActions, and the notDataActions taken back.
pub(super) fn granted_actions(r: &RoleAssignmentObs) -> String {
    let minus = if r.not_data_actions.is_empty() {
        String::new()
    } else {
        format!(", notDataActions {:?}", r.not_data_actions)
    };
    format!(
        "{} at {}: dataActions {:?}{minus}",
        r.role_name, r.scope, r.data_actions
    )
}

/// Whether the chain's identity may read object `name` of type `t` from the chain's vault
/// ([`may_read_from`] for the chain's own): `None` when the identity, the vault or its grants
/// are not known, or a grant may be the identity's without kvchain being able to tell.
pub(crate) fn may_read(cx: &Ctx, t: ObjectType, name: &str) -> Option<bool> {
    let (vault, identity) = (chain_vault(cx)?, chain_identity(cx)?);
    may_read_from(cx, vault, &identity.principal_id, t, name)
}

/// The chain's vault: the one its Access link found, else looked up by the SPC's name (a rule
/// of a later link may run where the group's links were shared).
pub(crate) fn chain_vault<'a>(cx: &Ctx<'a>) -> Option<&'a VaultObs> {
    cx.vault.or_else(|| {
        let name = cx.params.as_deref()?.keyvault_name.as_deref()?;
        cx.ix.vault(name)
    })
}

/// The chain's managed identity: the one its Identity link found, else looked up by clientID.
pub(crate) fn chain_identity<'a>(cx: &Ctx<'a>) -> Option<&'a crate::snapshot::ManagedIdentityObs> {
    cx.identity.or_else(|| {
        let p = cx.params.as_deref();
        let client = (cx.mode.client_id()).or_else(|| p?.client_id.as_deref())?;
        cx.ix.identity(client)
    })
}
