//! KVC801 for a `secretObjects` entry whose objectName is no mounted file, when it is neither
//! a history index nor a misspelt alias field (`shape::unmatched_keys` handles those): what
//! the entry names, and which side to change. FACTS §2: `data[].objectName` must equal a
//! mounted file; §5: the file is the objectAlias if set, else the objectName.
//!
//! A name the vault holds that no `objects` item lists is an item forgotten: the fix adds it
//! (`{objectName, objectType}`) and leaves the other items alone. Pointing the entry at
//! another mounted file would put that object's value under this key, and renaming an item
//! would take its file from whatever reads it (another entry, or a container by subPath) —
//! both wrong unless the name is a slip of a file the SPC mounts (audit H5).

use super::SecretObjectSpec;
use crate::chain::context::Ctx;
use crate::snapshot::{ObjectType, Observed, SecretObjectData, VolumeSourceObs};
use crate::spc::{AzureSpc, SpcObject};

/// What KVC801 says of one unmatched entry: the reason, the edit, and whether the reason
/// should list the files the SPC mounts.
pub(super) struct Judged {
    pub why: String,
    pub edit: String,
    pub list_files: bool,
}

/// What the snapshot shows of the SPC's vault about one name.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Vault {
    /// An object of that name, of this type (secret first: a certificate also has a secret).
    Holds(ObjectType),
    /// The vault's names were listed, and none is this one.
    Lacks,
    /// Not known (no vault read, as with `check -f`).
    Unknown,
}

pub(super) fn judge(
    cx: &Ctx,
    params: &AzureSpc,
    so: &SecretObjectSpec,
    d: &SecretObjectData,
    files: &[String],
) -> Judged {
    let name = d.object_name.as_str();
    let entry = format!("secretObjects[{}].data[key={}]", so.secret_name, d.key);
    let head = format!("key {}: objectName {name} matches no mounted file", d.key);
    if let Some(o) =
        (params.objects.iter()).find(|o| o.object_name == name && o.object_alias.is_some())
    {
        return Judged {
            why: format!(
                "{head}: {name} is the Key Vault name, the file is its objectAlias {}",
                o.file_name()
            ),
            edit: format!("{entry}.objectName: {}", o.file_name()),
            list_files: false,
        };
    }
    // A slip of a mounted file: the entry's typo, or the item's (written under its Key Vault
    // name, then renaming it makes the file). A name far from every file is no typo of one.
    let near = crate::chain::rules::slip::nearest(files.iter().map(String::as_str), name);
    let near_item = near.and_then(|f| {
        (params.objects.iter()).find(|o| o.object_alias.is_none() && o.object_name == f)
    });
    let vault = vault_side(cx, params, name);
    // The near item missing in the vault is the typo (KVC601's): not a forgotten item.
    let near_missing = near_item.is_some_and(|o| missing_in_vault(cx, params, o));
    let add = |t: &str| {
        format!("objects: add an item {{objectName: {name}, objectType: {t}}} for {entry}")
    };
    match (vault, near) {
        (Vault::Holds(t), _) if !near_missing => Judged {
            why: format!(
                "{head}: no item of objects lists {name}, which Key Vault {} holds as a {}",
                cx.keyvault(),
                t.as_str()
            ),
            edit: format!("{} (the other items stay as they are)", add(t.as_str())),
            list_files: false,
        },
        (_, Some(f)) => {
            let edit = match near_item {
                // Renaming the item to a name the vault is known to lack fails the mount.
                Some(o) if vault != Vault::Lacks && !is_read(cx, Some(d), f) => format!(
                    "{entry}.objectName: {f}, or if {name} is the Key Vault object's name: objects[{}].objectName: {name}",
                    o.index
                ),
                Some(_) if vault != Vault::Lacks => format!(
                    "{entry}.objectName: {f}, or if {name} is a Key Vault object of its own: {}",
                    add("secret")
                ),
                _ => format!("{entry}.objectName: {f}"),
            };
            Judged {
                why: head,
                edit,
                list_files: true,
            }
        }
        // The vault lacks the name, so no item can mount it: the one mounted file that could
        // hold the key (the only one, or the only one nothing else reads) is named (audit DD8).
        (Vault::Lacks, None) if only_candidate(cx, d, files).is_some() => Judged {
            why: format!(
                "{head}: no item of objects lists {name}, and Key Vault {} holds no object of that name",
                cx.keyvault()
            ),
            edit: format!(
                "{entry}.objectName: {} (the one mounted file no other key or container reads)",
                only_candidate(cx, d, files).unwrap_or_default()
            ),
            list_files: true,
        },
        (Vault::Lacks, None) => Judged {
            why: format!(
                "{head}: no item of objects lists {name}, and Key Vault {} holds no object of that name",
                cx.keyvault()
            ),
            edit: format!(
                "{} once Key Vault {} holds it (or the name of the object meant), or {entry}.objectName: the mounted file the key should hold",
                add("secret"),
                cx.keyvault()
            ),
            list_files: true,
        },
        (_, None) if files.is_empty() => Judged {
            why: head,
            edit: format!(
                "{} (likely: the SPC mounts no file; objectType key or cert if it is one)",
                add("secret")
            ),
            list_files: true,
        },
        // The vault not read (`check -f`): an item it lacks fails the whole mount (FACTS §5),
        // so the one mounted file that could hold the key, when there is one, is the other
        // reading (audit AAA2).
        (_, None) => Judged {
            why: format!("{head}: no item of objects lists {name}"),
            edit: match only_candidate(cx, d, files) {
                Some(f) if vault == Vault::Unknown => format!(
                    "{} if Key Vault {} holds {name} (not read here: an item the vault lacks fails the whole mount), the other items as they are; or, if the key should hold the one mounted file no other key or container reads, {entry}.objectName: {f}",
                    add("secret"),
                    cx.keyvault()
                ),
                _ => format!(
                    "{} (likely: an item forgotten; objectType key or cert if it is one), the other items as they are",
                    add("secret")
                ),
            },
            list_files: true,
        },
    }
}

/// The mounted file data entry `d` should read when only one can: the only one no other
/// entry or container reads. A file something else reads is never offered, even the SPC's
/// only one: its value would land under this key too (audit H5).
fn only_candidate<'f>(cx: &Ctx, d: &SecretObjectData, files: &'f [String]) -> Option<&'f str> {
    let mut unread = files.iter().filter(|f| !is_read(cx, Some(d), f));
    match (unread.next(), unread.next()) {
        (Some(f), None) => Some(f),
        _ => None,
    }
}

/// What the snapshot shows of the SPC's vault about `name`: a listing of its names, or a
/// look-up of that name under a type.
pub(super) fn vault_side(cx: &Ctx, params: &AzureSpc, name: &str) -> Vault {
    let Some(vault) = params.keyvault_name.as_deref() else {
        return Vault::Unknown;
    };
    let listed = cx.ix.vault(vault).and_then(|v| v.object_names.as_deref());
    let types = [ObjectType::Secret, ObjectType::Key, ObjectType::Cert];
    let found = types.into_iter().find(|&t| {
        listed.is_some_and(|names| names.iter().any(|(ty, n)| *ty == t && n == name))
            || matches!(
                cx.ix.object(vault, t, name).map(|o| &o.state),
                Some(Observed::Known(Some(_)))
            )
    });
    match (found, listed) {
        (Some(t), _) => Vault::Holds(t),
        (None, Some(_)) => Vault::Lacks,
        (None, None) => Vault::Unknown,
    }
}

/// Whether the vault is known to lack item `o` (its look-up found nothing, or the listing
/// leaves it out).
pub(super) fn missing_in_vault(cx: &Ctx, params: &AzureSpc, o: &SpcObject) -> bool {
    let (Some(vault), Some(t)) = (params.keyvault_name.as_deref(), o.object_type) else {
        return false;
    };
    match cx.ix.object(vault, t, &o.object_name).map(|x| &x.state) {
        Some(Observed::Known(found)) => found.is_none(),
        _ => cx
            .ix
            .vault(vault)
            .and_then(|v| v.object_names.as_deref())
            .is_some_and(|names| !names.iter().any(|(ty, n)| *ty == t && *n == o.object_name)),
    }
}

/// Whether something reads mounted file `file` besides data entry `skip` (if any): a
/// `secretObjects` data entry of the SPC naming it, or a container of the namespace's pods that
/// mounts the SPC's volume with that file as subPath (a whole-directory mount does not show
/// which files it reads).
pub(super) fn is_read(cx: &Ctx, skip: Option<&SecretObjectData>, file: &str) -> bool {
    let entries = cx
        .spc
        .map(|s| s.secret_objects.as_slice())
        .unwrap_or_default();
    let by_entry = (entries.iter().flat_map(|other| &other.data))
        .any(|x| x.object_name == file && !skip.is_some_and(|d| std::ptr::eq(x, d)));
    by_entry
        || cx.ix.pods_mounting(cx.ns(), cx.spc_name).any(|pod| {
            let spc_volume = |v: &str| {
                pod.volume(v).is_some_and(|v| matches!(&v.source, VolumeSourceObs::Csi { attributes, .. }
                    if attributes.get(crate::chain::index::SPC_ATTRIBUTE).is_some_and(|s| s == cx.spc_name)))
            };
            (pod.containers.iter()).any(|c| {
                (c.mounts.iter())
                    .any(|m| m.sub_path.as_deref() == Some(file) && spc_volume(&m.volume))
            })
        })
}
