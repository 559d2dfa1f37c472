//! An object the SecretProviderClass's vault lacks that another vault kvchain read holds, under
//! the same type and name: the SPC's keyvaultName may name the wrong vault (a SecretProviderClass
//! reads every object from its one keyvaultName, FACTS §5). Recovering or creating the object
//! in the named vault, the fix for a deleted one, would then fail (nothing to recover) or make
//! a second copy of a value that lives elsewhere.

use crate::chain::context::Ctx;
use crate::chain::rules::{access, remedy};
use crate::snapshot::ObjectType;

/// The vaults other than `vault` whose object listing holds `name` of type `t` (Key Vault
/// names ignore case).
fn holders<'v>(cx: &Ctx<'v>, vault: &str, t: ObjectType, name: &str) -> Vec<&'v str> {
    (cx.azure().vaults.items.iter())
        .filter(|v| !v.name.eq_ignore_ascii_case(vault))
        .filter(|v| {
            (v.object_names.as_deref()).is_some_and(|ns| {
                ns.iter()
                    .any(|(ty, n)| *ty == t && n.eq_ignore_ascii_case(name))
            })
        })
        .map(|v| v.name.as_str())
        .collect()
}

/// What KVC601 says of object `name` (type `t`) missing from `vault` when other vaults hold it:
/// the hint naming them, and the fix. When exactly one vault holds every object of the SPC and
/// the chain's identity may read them all there, the fix points keyvaultName at it, with
/// `made_again` (the recover or create in the named vault) kept as the alternative; otherwise
/// the fix stays `made_again`, the hint saying what the move would lack.
pub(super) fn other_vault(
    cx: &Ctx,
    vault: &str,
    t: ObjectType,
    name: &str,
    made_again: &str,
) -> Option<(String, String)> {
    let held = holders(cx, vault, t, name);
    let first = *held.first()?;
    let objects: Vec<(ObjectType, &str)> = (cx.params.as_deref()?.objects.iter())
        .filter_map(|o| Some((o.object_type?, o.object_name.as_str())))
        .collect();
    let all_there = held.len() == 1
        && objects
            .iter()
            .all(|(ty, n)| holders(cx, vault, *ty, n).contains(&first));
    let readable = all_there
        && access::chain_identity(cx)
            .zip(cx.ix.vault(first))
            .and_then(|(i, v)| access::reads_granted(cx, v, &i.principal_id))
            == Some(true);
    let hint = format!(
        "; Key Vault {} holds a {} {name}: keyvaultName may name the wrong vault{}",
        held.join(", "),
        t.as_str(),
        match (all_there, readable) {
            (true, true) => "",
            (true, false) => " (the identity may not read it there: a move needs a grant too)",
            (false, _) => " (not every object of the SecretProviderClass is there)",
        }
    );
    let fix = if readable {
        format!(
            "{}  # Key Vault {first} holds every object the SecretProviderClass reads, and its identity may read them there; or, to keep {vault}: {made_again}",
            remedy::patch_spc_parameter(cx, "keyvaultName", first)
        )
    } else {
        made_again.to_string()
    };
    Some((hint, fix))
}
