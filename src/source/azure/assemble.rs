//! Pure assembly of the observation from fetched (or cached) results: what was found, and
//! for what could not be seen, the gap with its reason. No IO here.
//!
//! Gap keys: `identities` come from one query, so a failure is global (`gaps.all`), and a
//! clientId the query did not find is a gap keyed by that clientId (not visible ≠ absent);
//! `vaults` and `role_assignments` are per vault, keyed by the vault name as the SPC wrote it
//! (`Coll::unknown_in(vault)`): one vault that cannot be read leaves the others known (the
//! engine asks per vault).

use std::collections::{BTreeMap, BTreeSet};

use super::arm::{AssignmentRow, IdentityRow};
use super::cloud::Cloud;
use super::roles::{self, RoleDef};
use super::{Fetched, VaultLookup};
use crate::snapshot::{
    Coll, FederatedCredentialObs, Gaps, Items, ManagedIdentityObs, Observed, RoleAssignmentObs,
    VaultObs,
};

pub fn identities(
    lookups: &[(String, Fetched<Option<IdentityRow>>)],
    fics: &BTreeMap<&str, Fetched<Vec<FederatedCredentialObs>>>,
) -> Coll<ManagedIdentityObs> {
    let mut out = Coll::default();
    for (client_id, r) in lookups {
        match r {
            Ok(Some(row)) => out.items.push(ManagedIdentityObs {
                name: row.name.clone(),
                resource_id: row.id.clone(),
                client_id: row.client_id.clone(),
                principal_id: row.principal_id.clone(),
                tenant_id: row.tenant_id.clone(),
                federated_credentials: match fics.get(row.id.as_str()) {
                    Some(Ok(list)) => Observed::Known(list.clone()),
                    Some(Err(e)) => Observed::unknown(format!(
                        "cannot list federated credentials of {}: {}",
                        row.name, e.reason
                    )),
                    None => Observed::unknown("federated credentials not looked up"),
                },
            }),
            // Resource Graph answers with the subscriptions the credential may read only (and
            // within `--subscription`): no row is not "no such identity" — unknown, per clientId.
            Ok(None) => {
                out.gaps.namespaces.insert(
                    client_id.clone(),
                    format!(
                        "no managed identity with clientId {client_id} in the subscriptions visible to kvchain (it may be in another subscription or tenant, or an app registration)"
                    ),
                );
            }
            Err(e) => {
                out.gaps.all.get_or_insert_with(|| {
                    format!(
                        "cannot look up managed identities by clientId: {}",
                        e.reason
                    )
                });
            }
        }
    }
    out
}

/// The vaults Resource Graph returned, and a gap for each name it did not return unless Azure
/// said no vault holds that name (`in_use`: Check Name Availability, asked per such name).
pub fn vaults(
    lookups: &[(String, VaultLookup)],
    in_use: &BTreeMap<&str, Fetched<bool>>,
) -> Coll<VaultObs> {
    let mut out = Coll::default();
    for (name, r) in lookups {
        match r {
            Ok((_, Ok(Some(v)))) => out.items.push(VaultObs {
                name: v.name.clone(),
                resource_id: v.id.clone(),
                tenant_id: v.tenant_id.clone(),
                rbac: v.rbac,
                access_policies: v.access_policies.clone(),
                network: v.network.clone(),
                // Not listed: a list per object type would cost requests on every refresh.
                object_names: None,
                // Set by `management_groups` once the vault's listing is read.
                management_groups: None,
                // Set by `soft_deleted::attach` where an object was not found.
                deleted_objects: None,
                purge_protection: Some(v.purge_protection),
            }),
            // Key Vault names are global: a name no vault holds is read, absent (KVC506 may
            // name the nearest vault; audit EE4).
            Ok((_, Ok(None))) if matches!(in_use.get(name.as_str()), Some(Ok(false))) => {}
            // Resource Graph answers with the subscriptions the credential may read only (and
            // within `--subscription`): no row is not "no such vault" — unknown, per vault,
            // as for identities (audit CC2), when the name is in use or Azure did not say.
            Ok((_, Ok(None))) => {
                let why = match in_use.get(name.as_str()) {
                    Some(Ok(_)) => "a vault holds that name: it is in another subscription or tenant, or soft-deleted".to_string(),
                    Some(Err(e)) => format!(
                        "it may be in another subscription or tenant; whether a vault holds that name is unknown: {}",
                        e.reason
                    ),
                    None => "it may be in another subscription or tenant".to_string(),
                };
                out.gaps.namespaces.insert(
                    name.clone(),
                    format!(
                        "vault {name} not found in the subscriptions visible to kvchain ({why})"
                    ),
                );
            }
            Ok((_, Err(e))) => {
                let reason = format!("cannot look up vault {name}: {}", e.reason);
                out.gaps.namespaces.insert(name.clone(), reason);
            }
            Err(reason) => {
                out.gaps.namespaces.insert(name.clone(), reason.clone());
            }
        }
    }
    out
}

/// The objects named in a vault Azure said no vault holds (`in_use`: Check Name Availability
/// answered the name free): not "not found in the subscriptions visible to kvchain", which
/// would say the vault may be elsewhere; there is no vault to read them from (audit XA-more).
pub fn objects_of_absent_vaults(
    objects: &mut [crate::snapshot::VaultObjectObs],
    in_use: &BTreeMap<&str, Fetched<bool>>,
) {
    for o in objects {
        if matches!(in_use.get(o.vault.as_str()), Some(Ok(false)))
            && o.state.unknown_reason().is_some()
        {
            o.state = Observed::unknown(crate::snapshot::no_vault_named(&o.vault));
        }
    }
}

/// The assignments worth keeping (those of `principals`, or all when the identities are
/// unknown), deduplicated across vaults (a subscription-level assignment shows up under
/// each vault), and the per-vault gaps. Vaults that could not be looked up carry their gap
/// over from `vault_gaps`.
pub fn relevant_assignments(
    per_vault: &[AssignmentsOf<'_>],
    principals: Option<&BTreeSet<String>>,
    vault_gaps: &BTreeMap<String, String>,
) -> (BTreeSet<(Cloud, AssignmentRow)>, Gaps) {
    let mut kept = BTreeSet::new();
    let mut gaps = Gaps {
        namespaces: vault_gaps.clone(),
        ..Gaps::default()
    };
    for AssignmentsOf {
        vault: name,
        cloud,
        result: r,
    } in per_vault
    {
        match r {
            Ok(rows) => kept.extend(
                rows.iter()
                    // A group's grant may be the identity's: kept, so the rules can say so.
                    .filter(|a| {
                        principals.is_none_or(|p| p.contains(&a.principal_id.to_ascii_lowercase()))
                            || a.principal_type.eq_ignore_ascii_case("Group")
                    })
                    .map(|a| (*cloud, a.clone())),
            ),
            Err(e) => {
                let reason = format!("cannot list role assignments on {name}: {}", e.reason);
                gaps.namespaces.insert(name.to_string(), reason);
            }
        }
    }
    (kept, gaps)
}

/// Of the identities' own listings ([`super::arm::principal_role_assignments`]), the
/// assignments at a scope beside every vault read: neither a vault, inside one nor above one,
/// nor a management group (whether one holds a vault is its listing's to say). What touches a
/// vault is the vault's own listing's to say, so a vault whose listing failed stays unknown
/// rather than judged on a principal's; these only let KVC501 name a grant that does not reach
/// the vault. A failed listing adds nothing and is no gap: the vaults' verdicts do not use it.
pub fn beside_vaults<'r>(
    per_principal: &'r [(Cloud, Fetched<Vec<AssignmentRow>>)],
    vault_ids: &'r [&str],
) -> impl Iterator<Item = (Cloud, AssignmentRow)> + 'r {
    let beside = |scope: &str| {
        !crate::snapshot::is_management_group(scope)
            && !vault_ids.iter().any(|v| {
                crate::snapshot::scope_under(scope, v) || crate::snapshot::scope_under(v, scope)
            })
    };
    per_principal.iter().flat_map(move |(cloud, r)| {
        (r.iter().flatten())
            .filter(move |a| beside(&a.scope))
            .map(move |a| (*cloud, a.clone()))
    })
}

/// Records on each vault whose own listing was read (whole: a list cut at its cap is an
/// error) the management groups it returned assignments at: ARM lists at a vault only the
/// assignments that apply there (at, above or below it), so such a group holds the vault's
/// subscription, and one it did not return does not (audit CC1, EE6). A management group's
/// path is no prefix of the vault id, so nothing else tells. A vault whose listing failed keeps
/// `None`: unknown.
pub fn management_groups(vaults: &mut Coll<VaultObs>, per_vault: &[AssignmentsOf<'_>]) {
    for AssignmentsOf { vault, result, .. } in per_vault {
        let Ok(rows) = result else { continue };
        let Some(v) = (vaults.items.iter_mut()).find(|v| v.name.eq_ignore_ascii_case(vault)) else {
            continue;
        };
        let groups = v.management_groups.get_or_insert_with(Vec::new);
        for a in rows
            .iter()
            .filter(|a| crate::snapshot::is_management_group(&a.scope))
        {
            if !(groups.iter()).any(|g| g.eq_ignore_ascii_case(&a.scope)) {
                groups.push(a.scope.clone());
            }
        }
    }
}

/// One vault's role-assignment listing.
pub struct AssignmentsOf<'a> {
    pub vault: &'a str,
    pub cloud: Cloud,
    pub result: &'a Fetched<Vec<AssignmentRow>>,
}

/// Name and dataActions for each kept assignment: built-ins from the fixed table, custom
/// roles from `custom` (what ARM said about them).
pub fn role_assignments(
    kept: BTreeSet<(Cloud, AssignmentRow)>,
    gaps: Gaps,
    custom: impl Fn(&str) -> Option<Fetched<RoleDef>>,
) -> Coll<RoleAssignmentObs> {
    let mut out = Coll {
        items: Items::new(),
        gaps,
    };
    for (_, a) in kept {
        let def = roles::built_in(&a.role_definition_id)
            .map(Ok)
            .or_else(|| custom(&a.role_definition_id))
            .unwrap_or_else(|| Err(super::FetchError::other("not looked up")));
        // An unreadable definition is unknown, not empty: kept with its reason.
        let (role_name, data_actions, not_data_actions, unresolved) = match def {
            Ok(d) => (d.name, d.data_actions, d.not_data_actions, None),
            Err(e) => (
                format!(
                    "unresolved role {} ({})",
                    roles::definition_guid(&a.role_definition_id),
                    e.reason
                ),
                Vec::new(),
                Vec::new(),
                Some(format!(
                    "cannot read role definition {}: {}",
                    roles::definition_guid(&a.role_definition_id),
                    e.reason
                )),
            ),
        };
        out.items.push(RoleAssignmentObs {
            principal_id: a.principal_id,
            role_definition_id: a.role_definition_id,
            role_name,
            data_actions,
            scope: a.scope,
            not_data_actions,
            principal_type: a.principal_type,
            unresolved,
            // ARM's listing does not say whether the principal still exists.
            principal_exists: None,
            created_on: a.created_on,
        });
    }
    out
}
