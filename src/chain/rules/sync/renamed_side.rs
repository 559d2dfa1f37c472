//! One side of a name renamed: an `objects` item the vault lacks (KVC601) beside a
//! `secretObjects` entry naming an object the vault holds that no item lists (KVC801). FACTS
//! §2: `data[].objectName` must equal a mounted file; §5: the file is the objectAlias if set,
//! else the objectName. When the snapshot allows one pairing only — one item the vault lacks,
//! unaliased, whose file nothing reads, and one unlisted name the vault holds under that item's
//! type — the rename is proven: the item takes the entry's name, which mounts the object the
//! vault has under the file the entry reads. One cause: KVC601 offers it, and KVC801 follows
//! KVC601 ([`super::object_typos`]).

use super::unlisted::{Vault, is_read, missing_in_vault, vault_side};
use crate::chain::context::Ctx;
use crate::spc::SpcObject;

/// The proven rename: `objects[item.index].objectName: name`, the name entry
/// `secretObjects[secret]` reads.
pub(crate) struct Renamed<'c> {
    pub item: &'c SpcObject,
    pub name: &'c str,
    pub secret: &'c str,
}

/// The rename the snapshot proves, if any (see the module's words).
pub(crate) fn proven_rename<'c>(cx: &'c Ctx) -> Option<Renamed<'c>> {
    let (params, spc) = (cx.params.as_deref()?, cx.spc?);
    if spc.secret_objects.is_empty() {
        return None; // most SPCs
    }
    let mut missing = (params.objects.iter()).filter(|o| missing_in_vault(cx, params, o));
    let (Some(item), None) = (missing.next(), missing.next()) else {
        return None;
    };
    let t = item.object_type?;
    if item.object_alias.is_some() || is_read(cx, None, &item.object_name) {
        return None;
    }
    let mut unlisted: Vec<(&str, &str)> = (spc.secret_objects.iter())
        .flat_map(|so| {
            (so.data.iter()).map(move |d| (d.object_name.as_str(), so.secret_name.as_str()))
        })
        .filter(|(n, _)| {
            !params.objects.iter().any(|o| o.file_name() == *n)
                && !crate::chain::rules::params::is_placeholder(n)
        })
        .collect();
    unlisted.dedup_by_key(|(n, _)| *n);
    let [(name, secret)] = unlisted[..] else {
        return None;
    };
    (vault_side(cx, params, name) == Vault::Holds(t)).then_some(Renamed { item, name, secret })
}
