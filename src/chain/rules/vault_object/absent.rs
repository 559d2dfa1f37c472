//! An SPC object the vault does not hold under the name and type asked (KVC601): whether it
//! is there under another type (the fix is the objectType), a name close enough to be a slip
//! (the fix renames it in the SPC, keeping the file's name its readers use), or nothing (the
//! fix recovers it if deleted, else creates it).

use super::cli_kind;
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::Link;
use crate::chain::rules::{remedy, slip};
use crate::snapshot::{ObjectType, Observed};
use crate::spc::SpcObject;

/// What a KVC601 for an object the vault holds under another type says: the marker
/// `rules::apply_events` knows it by (a 403 or 404 for the type asked is its evidence).
pub(crate) const WRONG_TYPE: &str = "asks for the wrong objectType";

/// The type other than `t` under which `vault` holds an object named `name`, when the
/// snapshot shows one: a listing of the vault's names, or a look-up of that name under the
/// other type. Secret first: a certificate also has a secret and a key of its name, so a
/// name found under a second type is never a certificate's.
pub(crate) fn under_other_type(
    cx: &Ctx,
    vault: &str,
    t: ObjectType,
    name: &str,
) -> Option<ObjectType> {
    // Only when the type asked is known to be absent: a look-up that failed says nothing.
    if !matches!(
        cx.ix.object(vault, t, name).map(|f| &f.state),
        Some(Observed::Known(None))
    ) {
        return None;
    }
    let listed = cx.ix.vault(vault).and_then(|v| v.object_names.as_deref());
    [ObjectType::Secret, ObjectType::Key, ObjectType::Cert]
        .into_iter()
        .filter(|&other| other != t)
        .find(|&other| {
            listed.is_some_and(|names| names.iter().any(|(ty, n)| *ty == other && n == name))
                || matches!(
                    cx.ix.object(vault, other, name).map(|f| &f.state),
                    Some(Observed::Known(Some(_)))
                )
        })
}

/// KVC601 for an object that exists, but under another type than the SPC's objectType: the
/// fix is the objectType, not a new object (which would mount something else) nor a grant
/// for the type asked (FACTS §5: the provider fetches `<type>/<name>` only).
pub(super) fn wrong_type(
    cx: &Ctx,
    link: &mut Link,
    o: &SpcObject,
    t: ObjectType,
    other: ObjectType,
) {
    let vault = cx.keyvault();
    let name = o.object_name.as_str();
    link.findings.push(cx.finding(
        Code::KVC601,
        format!("KeyVault/{vault}"),
        format!(
            "{} {name} (objects[{}] of SecretProviderClass {}) does not exist in Key Vault {vault}, but a {} of that name does: objects[{}] {WRONG_TYPE} ({}, not {})",
            t.as_str(),
            o.index,
            cx.spc_name,
            other.as_str(),
            o.index,
            t.as_str(),
            other.as_str()
        ),
        vec![
            format!(
                "GET https://{}/{}/{name}: 404",
                crate::chain::rules::remedy::network::vault_host(cx, vault),
                t.collection()
            ),
            format!("{} {name} exists in Key Vault {vault}", other.as_str()),
            format!("objects[{}].objectType: {}", o.index, o.object_type_raw),
        ],
        format!(
            "az keyvault {} show --vault-name {vault} -n {name} --query attributes",
            cli_kind(other)
        ),
        retype_fix(cx, o, other),
    ));
}

/// The objectType edit, after the grant the corrected read needs when the identity is known
/// not to hold it (audit WW3): the Access link judges the read the SPC makes now, so the
/// read after the edit is this fix's to grant, never a second error beside this one.
fn retype_fix(cx: &Ctx, o: &SpcObject, other: ObjectType) -> String {
    let edit = remedy::edit_spc(
        cx,
        &format!("objects[{}].objectType: {}", o.index, other.as_str()),
    );
    match crate::chain::rules::access::may_read(cx, other, &o.object_name) {
        Some(false) => format!(
            "{} && {edit}",
            remedy::with_principal(&remedy::principal(cx), |who| {
                remedy::grant_read_as(cx, who, Some(other), None)
            })
        ),
        _ => edit,
    }
}

/// The vault's object of type `t` whose name is closest to `name`, if one is close enough to
/// be a slip (as KVC101 suggests SecretProviderClass names).
pub(super) fn nearest_name<'v>(
    cx: &Ctx<'v>,
    vault: &str,
    t: ObjectType,
    name: &str,
) -> Option<&'v str> {
    let names = cx.ix.vault(vault)?.object_names.as_deref()?;
    slip::nearest(
        names
            .iter()
            .filter(|(ty, _)| *ty == t)
            .map(|(_, n)| n.as_str()),
        name,
    )
}

/// The command that stores a missing object under the name the SPC asks for. The value is the
/// user's to give (a file, never the command line).
/// The object is not there: either it never existed or it was deleted. Key Vault's soft delete
/// (always on) keeps a deleted object under its name, and creating one under that name fails
/// with 409 Conflict ("currently in a deleted but recoverable state") until it is recovered or
/// purged. The lookup answers 404 alike in both cases (the deleted objects are not read), so
/// the fix recovers first and creates only when there is nothing to recover.
/// A secret or key may have been the one a certificate manages (docs/scenarios.md:
/// `delete-object` deletes a certificate with them): Key Vault refuses operations on those
/// ("Perform the operation on the corresponding certificate", `SecretManagedByKeyVault`), and
/// the certificate's soft-deleted name blocks a create, so when the object's own recover
/// fails the certificate of that name is recovered, bringing its key and secret back (audit
/// HHH3). For an object no certificate managed, that recover fails and the create runs.
/// `managed`: the SPC shows the object to be a certificate's ([`of_certificate`]): the
/// certificate's recover comes first, as Key Vault refuses the secret's own (audit W2).
pub(super) fn create(vault: &str, t: ObjectType, name: &str, managed: bool) -> String {
    let make = match t {
        ObjectType::Secret => {
            format!(
                "az keyvault secret set --vault-name {vault} -n {name} --file {}",
                remedy::required("VALUE_FILE")
            )
        }
        ObjectType::Key => {
            format!("az keyvault key create --vault-name {vault} -n {name} --kty RSA")
        }
        ObjectType::Cert => format!(
            "az keyvault certificate import --vault-name {vault} -n {name} --file {}",
            remedy::required("PFX_OR_PEM_FILE")
        ),
    };
    let (managed_by, why) = match t {
        ObjectType::Cert => (String::new(), ""),
        _ => (
            format!("az keyvault certificate recover --vault-name {vault} -n {name} || "),
            "; a certificate's own secret and key come back with the certificate",
        ),
    };
    let own = format!(
        "az keyvault {} recover --vault-name {vault} -n {name} || ",
        cli_kind(t)
    );
    if managed && t != ObjectType::Cert {
        return format!(
            "{managed_by}{own}{make}  # the SecretProviderClass reads it as a certificate's: Key Vault recovers a certificate's secret and key with the certificate, not alone; recover if it was deleted (soft delete keeps it; creating it again fails 409 Conflict), else create it"
        );
    }
    format!(
        "{own}{managed_by}{make}  # recover if it was deleted (soft delete keeps it; creating it again fails 409 Conflict){why}, else create it"
    )
}

/// Whether the SecretProviderClass shows its object `name` of type `t` to be one a certificate
/// manages (its secret or key, FACTS §5, §9): an objectType cert of that name beside it; for a
/// secret, objectFormat pfx (only a certificate's secret has one) or its file synced as a
/// `kubernetes.io/tls` Secret (a key and a certificate). A deleted object is not read, so what
/// the SPC asks of it is the evidence there is.
pub(super) fn of_certificate(cx: &Ctx, t: ObjectType, name: &str) -> bool {
    let Some(p) = cx.params.as_deref() else {
        return false;
    };
    if t == ObjectType::Cert {
        return false;
    }
    if (p.objects.iter()).any(|o| o.object_type == Some(ObjectType::Cert) && o.object_name == name)
    {
        return true;
    }
    if t != ObjectType::Secret {
        return false;
    }
    let mine = || {
        (p.objects.iter())
            .filter(|o| o.object_type == Some(ObjectType::Secret) && o.object_name == name)
    };
    if mine()
        .any(|o| (o.object_format.as_deref()).is_some_and(|f| f.trim().eq_ignore_ascii_case("pfx")))
    {
        return true;
    }
    let files: Vec<&str> = mine().map(SpcObject::file_name).collect();
    (cx.spc.iter())
        .flat_map(|s| &s.secret_objects)
        .filter(|so| so.type_ == "kubernetes.io/tls")
        .flat_map(|so| &so.data)
        .any(|d| files.contains(&d.object_name.as_str()))
}

/// The edit that points `o` at the existing object `name`. Without an alias the file is named
/// after the object (FACTS §5): when a `secretObjects` entry or a subPath reads the file by its
/// present name, the file keeps it (an alias), since renaming the object alone would break
/// them; when they read it by the new name, or nothing names it, the rename is all.
pub(super) fn renamed(cx: &Ctx, o: &SpcObject, name: &str) -> String {
    let at = format!("objects[{}]", o.index);
    let old = o.object_name.as_str();
    let synced = cx
        .spc
        .iter()
        .flat_map(|s| &s.secret_objects)
        .flat_map(|so| &so.data)
        .any(|d| d.object_name == old);
    let sub_path = cx
        .pod
        .containers
        .iter()
        .flat_map(|c| &c.mounts)
        .any(|m| m.volume == cx.volume.name && m.sub_path.as_deref() == Some(old));
    if o.object_alias.is_none() && (synced || sub_path) {
        format!(
            "{at}: objectName {name}, objectAlias {old} (the file keeps the name its readers use)"
        )
    } else {
        format!("{at}.objectName: {name}")
    }
}

/// Whose `objects` names the object: the pod volume's volumeAttributes when they override the
/// SecretProviderClass's, else the SecretProviderClass.
pub(super) fn whose(cx: &Ctx) -> String {
    if remedy::overridden(cx).any(|(k, _)| k == "objects") {
        format!(
            "pod volume {}'s volumeAttributes.objects, which override SecretProviderClass {}'s",
            cx.volume.name, cx.spc_name
        )
    } else {
        format!("SecretProviderClass {}", cx.spc_name)
    }
}
