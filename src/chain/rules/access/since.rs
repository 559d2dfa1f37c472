//! When the grants that let the chain's identity read its objects now were made (ARM's
//! `createdOn`): a Key Vault 403 recorded before every one of them was refused for want of a
//! grant that exists now, so it describes a past state (FACTS §11, evidence in time). A 403
//! recorded after one of them stays current: Key Vault refused a grant that was there (its
//! message asks to "observe propagation time", or something kvchain does not read).

use jiff::Timestamp;

use super::{covers, grants, needed_action, touches};
use crate::chain::context::Ctx;
use crate::chain::events;
use crate::glance;
use crate::snapshot::{ObjectType, RoleAssignmentObs};

/// Why a 403 for want of a grant, last seen at `seen`, is history: every object it may be
/// about (the one its message names, else each of the SPC's) is read now through role
/// assignments all made after it. `None` when one of them was made before it or at an unknown
/// time, when an object has no such grant, or when the vault enforces access policies (which
/// carry no time). With the reason, when that grant was made.
pub(crate) fn granted_after(
    cx: &Ctx,
    message: &str,
    seen: Timestamp,
) -> Option<(String, Timestamp)> {
    let vault = super::chain_vault(cx)?;
    let identity = super::chain_identity(cx)?;
    let p = cx.params.as_deref()?;
    if !vault.rbac
        || super::vault_gap(&cx.azure().role_assignments.gaps, &vault.name).is_some()
        || events::deny_assignment(message).is_some()
    {
        return None;
    }
    let named = events::object_name(message);
    let objects: Vec<(ObjectType, &str)> = (p.objects.iter())
        .filter(|o| named.is_none_or(|n| o.object_name.eq_ignore_ascii_case(n)))
        .map(|o| Some((o.object_type?, o.object_name.as_str())))
        .collect::<Option<_>>()?;
    if objects.is_empty() {
        return None;
    }
    // The first grant that let each object be read: the event predates the latest of them.
    let mut last: Option<(&RoleAssignmentObs, Timestamp)> = None;
    for (t, name) in objects {
        let action = needed_action(t);
        let granting: Vec<&RoleAssignmentObs> = (cx.ix.assignments(&identity.principal_id))
            .filter(|r| touches(&r.scope, vault))
            .filter(|r| grants(r, action) && covers(&r.scope, vault, t, name))
            .collect();
        // Made before the event, or at a time not known: the 403 may be of a grant there.
        let made = (granting.iter())
            .map(|r| r.created_on.filter(|&at| at > seen).map(|at| (*r, at)))
            .collect::<Option<Vec<_>>>()?;
        let earliest = made.into_iter().min_by_key(|(_, at)| *at)?;
        if last.is_none_or(|(_, at)| earliest.1 > at) {
            last = Some(earliest);
        }
    }
    let (r, at) = last?;
    let why = format!(
        "it predates the grant: {} at {} was assigned at {}",
        r.role_name,
        r.scope,
        glance::time(at)
    );
    Some((why, at))
}
