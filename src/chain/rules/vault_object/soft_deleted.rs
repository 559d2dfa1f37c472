//! KVC601 for an object the snapshot lists among the vault's soft-deleted ones (audit
//! UUU-azure). Soft delete is always on: a deleted object stays under its name until its
//! scheduled purge, a GET answers 404 as for a name never used, a create of the name fails 409
//! Conflict (ObjectIsDeletedButRecoverable) and `recover` brings it back with its versions
//! (Microsoft Learn, "Azure Key Vault soft-delete overview"). So the one fix that works is the
//! recover: never a create, never a name a few letters off (the object the SPC names was
//! there), never another vault. A certificate's own secret or key comes back only with its
//! certificate.

use super::cli_kind;
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::Link;
use crate::snapshot::{ObjectType, VaultObs};
use crate::spc::SpcObject;

/// KVC601 for `o`, read as type `t`, when vault `listed` lists it among its soft-deleted
/// objects (`mounted`: the version the pod has mounted): false, and nothing said, otherwise.
pub(super) fn soft_deleted(
    cx: &Ctx,
    link: &mut Link,
    o: &SpcObject,
    t: ObjectType,
    listed: &VaultObs,
    mounted: Option<&str>,
) -> bool {
    let Some(d) = listed.deleted(t, &o.object_name) else {
        return false;
    };
    let whose = super::absent::whose(cx);
    let vault = cx.keyvault();
    let kv = cx.keyvault_arg();
    let name = o.object_name.as_str();
    let when = d.deleted_on.map_or(String::new(), |at| {
        format!(" on {}", at.strftime("%Y-%m-%d %H:%M UTC"))
    });
    // Said of the mount, not of one pod: replicas share this link.
    let mounted = mounted.map_or(String::new(), |v| {
        format!(" (its version {v} is mounted: it was deleted since)")
    });
    let until = d.scheduled_purge.map_or(String::new(), |at| {
        format!(", recoverable until {}", at.strftime("%Y-%m-%d %H:%M UTC"))
    });
    let protected = match listed.purge_protection {
        Some(true) => {
            "; purge protection is on, so it cannot be purged before then: recover is the only way back"
        }
        _ => "",
    };
    // Key Vault recovers a certificate's secret and key with the certificate, not alone.
    let (kind, by) = match d.managed {
        true => (
            "certificate",
            format!(
                " (the {} of certificate {name}, which Key Vault deleted with it and recovers only with it)",
                t.as_str()
            ),
        ),
        false => (cli_kind(t), String::new()),
    };
    link.findings.push(cx.finding(
        Code::KVC601,
        format!("KeyVault/{vault}"),
        format!(
            "{} {name} (objects[{}] of {whose}){mounted} was deleted from Key Vault {vault}{when} and is soft-deleted{by}{until}: a GET answers 404, and creating it again fails 409 Conflict (ObjectIsDeletedButRecoverable) until it is recovered{protected}",
            t.as_str(),
            o.index,
        ),
        vec![
            format!(
                "GET https://{}/{}/{name}: 404",
                crate::chain::rules::remedy::network::vault_host(cx, vault),
                t.collection()
            ),
            format!(
                "{} {name} listed by az keyvault {kind} list-deleted --vault-name {vault}",
                if d.managed { "certificate" } else { t.as_str() }
            ),
        ],
        format!("az keyvault {kind} show-deleted --vault-name {kv} -n {name}"),
        format!(
            "az keyvault {kind} recover --vault-name {kv} -n {name}  # brings back every version under its name; a new mount reads it"
        ),
    ));
    true
}
