//! Where a role assignment's scope lies against a vault: at or above it (resource group,
//! subscription, root, a management group known to hold it), on one of its objects, or at a
//! management group that may or may not hold it (audit CC1).

use crate::snapshot::{ObjectType, VaultObs};

pub(crate) use crate::snapshot::scope_under as under;

/// The scope is the vault or one of its ancestors: by path (resource group, subscription, root
/// `/`), or a management group known to hold the vault's subscription. A management group's
/// path is no prefix of the vault id (audit CC1): one the snapshot does not place above the
/// vault is [`maybe_above`] unless the vault's listing was read whole (audit EE6).
pub(super) fn above(scope: &str, vault: &VaultObs) -> bool {
    vault.resource_id.is_empty()
        || under(&vault.resource_id, scope)
        || (vault.management_groups.iter().flatten()).any(|g| {
            g.trim_end_matches('/')
                .eq_ignore_ascii_case(scope.trim_end_matches('/'))
        })
}

/// A management-group scope the snapshot does not place above the vault, whose own
/// role-assignment listing was not read: RBAC inherits from management groups to the
/// subscriptions under them, and kvchain does not read which those are, so the grant may reach
/// the vault or not. When the listing was read whole, ARM returned every assignment that
/// applies at the vault, a management group's included: one it did not return does not reach
/// the vault (audit EE6).
pub(super) fn maybe_above(scope: &str, vault: &VaultObs) -> bool {
    vault.management_groups.is_none()
        && crate::snapshot::is_management_group(scope)
        && !above(scope, vault)
}

/// A management-group scope the vault's own listing, read whole, did not return: the group
/// does not hold the vault's subscription, so its grants do not reach the vault (audit EE6).
pub(super) fn not_above(scope: &str, vault: &VaultObs) -> bool {
    vault.management_groups.is_some()
        && crate::snapshot::is_management_group(scope)
        && !above(scope, vault)
}

/// The assignment's scope covers the vault (an ancestor or the vault itself), or is the named
/// object inside it (`<vault>/secrets/<name>`, likewise keys and certificates).
pub(super) fn covers(scope: &str, vault: &VaultObs, t: ObjectType, name: &str) -> bool {
    if above(scope, vault) {
        return true;
    }
    let vault_id = vault.resource_id.as_str();
    if !under(scope, vault_id) {
        return false;
    }
    let rest = &scope.trim_end_matches('/')[vault_id.trim_end_matches('/').len()..];
    rest.strip_prefix('/')
        .and_then(|r| r.split_once('/'))
        .is_some_and(|(c, n)| {
            c.eq_ignore_ascii_case(t.collection()) && n.eq_ignore_ascii_case(name)
        })
}

/// The scope is the vault, one of its ancestors, or an object inside it.
pub(super) fn touches(scope: &str, vault: &VaultObs) -> bool {
    above(scope, vault) || under(scope, &vault.resource_id)
}

/// Why a grant of the right role at `scope` does not read `vault`, when its scope is neither
/// the vault, above it, inside it nor a management group (judged apart, [`maybe_above`]): a
/// role assignment applies at its scope and below it only (Azure RBAC, "Understand scope"), so
/// one at another resource group or subscription is no grant on the vault. Named in KVC501's
/// evidence, where "0 role assignments on the vault" alone would read as the grant missing
/// (audit WWW-left).
pub(super) fn beside(scope: &str, vault: &VaultObs) -> Option<String> {
    if vault.resource_id.is_empty()
        || touches(scope, vault)
        || crate::snapshot::is_management_group(scope)
    {
        return None;
    }
    // The vault's resource group: its id is `/subscriptions/<s>/resourceGroups/<g>/…`.
    let segments: Vec<&str> = vault.resource_id.split('/').collect();
    let home = match segments.get(3..5) {
        Some([kind, group]) if kind.eq_ignore_ascii_case("resourceGroups") => {
            format!("resource group {group}")
        }
        _ => vault.resource_id.clone(),
    };
    Some(format!(
        "does not reach vault {}, in {home} (an assignment applies at its scope and below it only)",
        vault.name
    ))
}
