//! KVC601 and KVC602 known only from an event, the vault's objects unread (audit WW1): the
//! provider's per-object wrapper (FACTS §5, `failed to get objectType:<t>, objectName:<n>,
//! objectVersion:<v>: <cause>`) names the object, its type and the version asked, so the
//! confirm and the fix are that object's, built as the Azure-visible path builds them: the
//! type's own listing, `recover || create` for an object not there (a 404 answers alike for a
//! deleted object and one never made), `set-attributes --enabled true` for a disabled one, the
//! version listing and the objectVersion edit for a pinned version not there.

use super::absent::{create, of_certificate};
use super::{cli_kind, show};
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::events;
use crate::chain::model::Finding;
use crate::chain::rules::remedy;
use crate::snapshot::EventObs;

/// The finding for `code` (KVC601 or KVC602) from `e`, when its message carries the
/// per-object wrapper; `None` leaves the code's default commands.
pub(crate) fn from_event(cx: &Ctx, code: Code, e: &EventObs, evidence: String) -> Option<Finding> {
    let t = events::object_type(&e.message)?;
    let named = events::object_name(&e.message)?;
    let version = events::object_version(&e.message);
    // The SPC's entry for it, when read: `objects[i]` for the edits.
    let at = (cx.params.as_deref())
        .and_then(|p| {
            (p.objects.iter()).find(|o| o.object_type == Some(t) && o.object_name == named)
        })
        .map(|o| format!("objects[{}]", o.index));
    let whose = match &at {
        Some(at) => format!("{at} of SecretProviderClass {}", cx.spc_name),
        None => format!("an object of SecretProviderClass {}", cx.spc_name),
    };
    let (kv, vault) = (&*cx.keyvault_arg(), cx.keyvault());
    let name = remedy::sh_word(named);
    let (kind, what) = (cli_kind(t), t.as_str());
    let at = at.unwrap_or_else(|| "objects[i]".to_string());
    let (message, confirm, fix) = match (code, version) {
        (Code::KVC601, Some(v)) => (
            format!("{what} {named} ({whose}) has no version {v} in Key Vault {vault}"),
            format!("az keyvault {kind} list-versions --vault-name {kv} -n {name} -o table"),
            remedy::edit_spc(
                cx,
                &format!("{at}.objectVersion: \"\" or an existing version"),
            ),
        ),
        (Code::KVC601, None) => (
            format!("{what} {named} ({whose}) does not exist in Key Vault {vault}"),
            format!("az keyvault {kind} list --vault-name {kv} -o table"),
            // The 404 cannot tell a deleted object from a mistyped name: the listing can.
            format!(
                "{}; or, if {at}.objectName is mistyped, correct it in SecretProviderClass {}",
                create(kv, t, &name, of_certificate(cx, t, named)),
                cx.spc_name
            ),
        ),
        (Code::KVC602, _) => {
            // Unpinned, the latest version is the one refused; set-attributes without
            // --version changes the latest (az keyvault <type> set-attributes).
            let pin = version.map_or_else(String::new, |v| format!(" --version {v}"));
            let confirm = match version {
                Some(_) => show(cx, t, &name, version).0,
                None => format!(
                    "az keyvault {kind} list-versions --vault-name {kv} -n {name} --query \"[].{{id:{}, enabled:attributes.enabled}}\" -o table",
                    if t == crate::snapshot::ObjectType::Key {
                        "kid"
                    } else {
                        "id"
                    }
                ),
            };
            (
                format!(
                    "{what} {named} ({whose}) version {} is disabled in Key Vault {vault}",
                    version.unwrap_or("(latest)")
                ),
                confirm,
                format!(
                    "az keyvault {kind} set-attributes --vault-name {kv} -n {name}{pin} --enabled true"
                ),
            )
        }
        _ => return None,
    };
    Some(cx.finding(
        code,
        format!("KeyVault/{vault}"),
        message,
        vec![evidence],
        confirm,
        fix,
    ))
}
