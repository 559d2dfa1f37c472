//! A "not found" for an object the vault holds now, on an Object link whose own objects show
//! why it fails now (a disabled version, KVC602): the 404 is history, not a second cause
//! beside that one (one symptom, one cause; FACTS §11 "Evidence ages"). Seen with two faults
//! on one object (disabled, then deleted; the delete repaired): until the next poll the last
//! event was the 404 while the vault already showed the disabled version (audit QQQ-faults).
//! With nothing else on the link the 404 stays a finding that says it failed and now looks
//! right (`fold_events::contradicted`): nothing tells it past before the next attempt.

use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::events;
use crate::snapshot::{EventObs, Observed};

/// Why a KVC601 event `e` is history: the object it names, under the type it asked for, is in
/// the vault as read now and the link is not `clean` (a finding from its objects explains
/// the failures now).
pub(crate) fn back_now(cx: &Ctx, code: Option<Code>, e: &EventObs, clean: bool) -> Option<String> {
    if code != Some(Code::KVC601) || clean || events::object_version(&e.message).is_some() {
        return None;
    }
    let t = events::object_type(&e.message)?;
    let name = events::object_name(&e.message)?;
    let vault = cx.params.as_deref()?.keyvault_name.as_deref()?;
    // A 404 from another vault (the SPC pointed elsewhere then) says nothing of this one.
    if events::vault_named(&e.message).is_some_and(|v| !v.eq_ignore_ascii_case(vault)) {
        return None;
    }
    let found = cx.ix.object(vault, t, name)?;
    matches!(found.state, Observed::Known(Some(_))).then(|| {
        format!(
            "{} {name} is in Key Vault {vault} now: the Object link's own finding says why it fails",
            t.as_str()
        )
    })
}
