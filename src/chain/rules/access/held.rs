//! What an identity holds on its vault, said beside a 403 that only an event shows.

use super::{maybe_above, touches, vault_gap};
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
        .filter(|r| touches(&r.scope, vault))
        .map(|r| r.role_name.as_str())
        .collect();
    roles.sort_unstable();
    roles.dedup();
    // A role at a management group not known to hold the vault (audit CC1): it may be there.
    let maybe: Vec<String> = (cx.ix.assignments(principal))
        .filter(|r| maybe_above(&r.scope, vault))
        .map(|r| format!("{} at {}", r.role_name, r.scope))
        .collect();
    let maybe = match maybe.as_slice() {
        [] => String::new(),
        _ => format!(
            " (and {}, which reaches it only if that management group holds the vault's subscription)",
            maybe.join(", ")
        ),
    };
    Some(match roles.as_slice() {
        [] => format!("{} holds no role on it{maybe}", identity.name),
        _ => format!(
            "{} holds {} on it{maybe}, which does not grant the read it refused",
            identity.name,
            roles.join(", ")
        ),
    })
}
