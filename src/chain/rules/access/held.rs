//! What an identity holds on its vault, said beside a 403 that only an event shows.

use super::{touches, vault_gap};
use crate::chain::context::Ctx;

/// What the chain's identity holds on its vault, as read, for a 403 known only from an event
/// (audit S4: "no role" was said beside a role the identity holds). None when the identity,
/// the vault or its grants were not read.
pub(crate) fn held_on_vault(cx: &Ctx) -> Option<String> {
    let (identity, vault) = (cx.identity?, cx.vault?);
    let principal = identity.principal_id.as_str();
    if !vault.rbac {
        let has_policy =
            (vault.access_policies.iter()).any(|a| a.object_id.eq_ignore_ascii_case(principal));
        return Some(match has_policy {
            true => format!(
                "{}'s access policy lacks the permission the read needs",
                identity.name
            ),
            false => format!("{} has no access policy on it", identity.name),
        });
    }
    if vault_gap(&cx.azure().role_assignments.gaps, &vault.name).is_some() {
        return None;
    }
    let mut roles: Vec<&str> = (cx.ix.assignments(principal))
        .filter(|r| touches(&r.scope, &vault.resource_id))
        .map(|r| r.role_name.as_str())
        .collect();
    roles.sort_unstable();
    roles.dedup();
    Some(match roles.as_slice() {
        [] => format!("{} holds no role on it", identity.name),
        _ => format!(
            "{} holds {} on it, which does not grant the read it refused",
            identity.name,
            roles.join(", ")
        ),
    })
}
