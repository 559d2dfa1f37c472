//! KVC604 for a secret version not valid yet: its `nbf` attribute lies ahead, yet Key Vault
//! returns it ("A secret's get operation will work for not-yet-valid and expired secrets,
//! outside the nbf / exp window", Microsoft Learn, About Azure Key Vault secrets), so the
//! provider mounts it now (audit TTT-azure). Whoever set the date meant the value for later:
//! a planned switch the pods make at once.

use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::index::Clock;
use crate::chain::model::Finding;
use crate::glance;
use crate::snapshot::{ObjectType, ObjectVersion, VaultObject};
use crate::spc::SpcObject;

/// The finding for `target`, the version the mount reads of secret `o`, when its `nbf` is
/// still ahead. Keys and certificates are left out: the documents promise the get outside the
/// window for secrets only (a key's dates govern its crypto operations, a certificate's
/// `nbf` is its X.509 validity).
pub(super) fn not_yet_valid(
    cx: &Ctx,
    clock: Clock<'_>,
    vault: &str,
    t: ObjectType,
    o: &SpcObject,
    obj: &VaultObject,
    target: &ObjectVersion,
) -> Option<Finding> {
    let name = o.object_name.as_str();
    let nbf = target.not_before?;
    if t != ObjectType::Secret || clock.after(nbf) {
        return None;
    }
    let now = clock.now();
    // The newest enabled version valid now, which the pods could be held on until then.
    let valid_now = (obj.versions.iter())
        .filter(|v| v.enabled && !std::ptr::eq(*v, target))
        .find(|v| v.not_before.is_none_or(|b| b <= now));
    let hold = valid_now.map_or(String::new(), |v| {
        format!(
            "  # or, if the date is meant, hold the pods on version {} until then: objectVersion: {} in SecretProviderClass {} (removed after {})",
            v.version,
            v.version,
            cx.spc_name,
            glance::time(nbf)
        )
    });
    let (confirm, _) = super::show(cx, t, name, Some(&target.version));
    Some(cx.finding(
        Code::KVC604,
        format!("KeyVault/{vault}"),
        format!(
            "secret {name} version {} is not valid before {} (observed at {}), yet Key Vault returns it (a secret's get works outside its nbf/exp window): the mount serves now a value dated for later",
            target.version,
            glance::time(nbf),
            glance::time(now)
        ),
        vec![format!("attributes.nbf: {}", glance::time(nbf))],
        confirm,
        format!(
            "az keyvault secret set-attributes --vault-name {vault} -n {name} --version {} --not-before \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"{hold}",
            target.version
        ),
    ))
}
