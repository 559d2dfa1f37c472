//! What an SPC's `secretObjects` say whoever mounts it: entries the driver refuses (KVC806),
//! keys fed by no mounted file (KVC801), TLS Secrets it cannot build (KVC804), and a Secret
//! another SPC of the namespace writes too (KVC807, `two_writers`).

use super::remedy;
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::index::Index;
use crate::chain::model::Link;
use crate::snapshot::{ObjectType, SecretObjectSpec};

use super::typed::{check as typed_keys, refused_keys};

/// How many history files (`<file>/<i>`) the provider writes for object `o` with
/// `objectVersionHistory: n`: `n`, or fewer when the vault (read) holds fewer enabled
/// versions, since the provider skips disabled ones (FACTS §5).
fn history_written(cx: &Ctx, o: &crate::spc::SpcObject, n: i32) -> i32 {
    match history_versions(cx, o) {
        Some(v) => n.min(v.iter().filter(|v| v.enabled).count() as i32),
        None => n,
    }
}

/// The versions of history object `o` in the vault, newest first, when read.
fn history_versions<'v>(
    cx: &Ctx<'v>,
    o: &crate::spc::SpcObject,
) -> Option<&'v [crate::snapshot::ObjectVersion]> {
    // A pinned version is fetched alone, whatever history it has.
    if o.object_version
        .as_deref()
        .is_some_and(|v| !v.is_empty() && v != "latest")
    {
        return None;
    }
    let vault = cx.params.as_deref()?.keyvault_name.as_deref()?;
    match &cx.ix.object(vault, o.object_type?, &o.object_name)?.state {
        crate::snapshot::Observed::Known(Some(obj)) => Some(&obj.versions),
        _ => None,
    }
}

/// The history object whose index `name` (`<file>/<i>`) names, with the index, when `i` is
/// within `objectVersionHistory` but past the enabled versions the vault holds.
fn history_index_lost<'p>(
    cx: &Ctx,
    params: &'p crate::spc::AzureSpc,
    name: &str,
) -> Option<(&'p crate::spc::SpcObject, i32)> {
    params.objects.iter().find_map(|o| {
        let n = o.object_version_history.filter(|n| *n > 1)?;
        let i = name
            .strip_prefix(o.file_name())?
            .strip_prefix('/')?
            .parse::<i32>()
            .ok()?;
        ((0..n).contains(&i) && i >= history_written(cx, o, n)).then_some((o, i))
    })
}

/// The history object `name` (`<x>/<i>`) means and its index, with its
/// objectVersionHistory when `i` is past it (`Some(n)`, `i >= n`), or `None` when `<x>` is
/// the Key Vault name of an object whose files its alias names.
fn history_slip<'p>(
    params: &'p crate::spc::AzureSpc,
    name: &str,
) -> Option<(&'p crate::spc::SpcObject, i32, Option<i32>)> {
    let (x, i) = name.rsplit_once('/')?;
    let i = i.parse::<i32>().ok().filter(|i| *i >= 0)?;
    params.objects.iter().find_map(|o| {
        let n = o.object_version_history.filter(|n| *n > 1)?;
        if o.file_name() == x && i >= n {
            Some((o, i, Some(n)))
        } else if o.object_alias.as_deref().is_some_and(|a| !a.is_empty())
            && o.object_name == x
            && i < n
        {
            Some((o, i, None))
        } else {
            None
        }
    })
}

/// The history object (objectVersionHistory > 1) whose file name, without an index, is
/// `name`: it writes `name/<i>` only.
fn history_bare<'p>(
    params: &'p crate::spc::AzureSpc,
    name: &str,
) -> Option<&'p crate::spc::SpcObject> {
    params
        .objects
        .iter()
        .find(|o| o.writes_versions() && o.file_name() == name)
}

/// Whether the driver writes a file named `name` for this SPC (alias or name; `alias/i` with
/// version history, for the enabled versions the vault holds).
fn is_mounted_file(cx: &Ctx, name: &str) -> bool {
    let Some(p) = cx.params.as_deref() else {
        return false;
    };
    p.objects.iter().any(|o| {
        let f = o.file_name();
        match o.object_version_history {
            Some(n) if n > 1 => name
                .strip_prefix(f)
                .and_then(|r| r.strip_prefix('/'))
                .and_then(|i| i.parse::<i32>().ok())
                .is_some_and(|i| (0..history_written(cx, o, n)).contains(&i)),
            _ => f == name,
        }
    })
}

/// Files the driver writes for this SPC (alias or name; `alias/i` with version history).
pub(super) fn mounted_files(cx: &Ctx) -> Vec<String> {
    let Some(p) = cx.params.as_deref() else {
        return Vec::new();
    };
    let mut files = Vec::with_capacity(p.objects.len());
    for o in &p.objects {
        match o.object_version_history {
            Some(n) if n > 1 => {
                for i in 0..history_written(cx, o, n) {
                    files.push(format!("{}/{i}", o.file_name()));
                }
            }
            _ => files.push(o.file_name().to_string()),
        }
    }
    files
}

pub(super) fn static_checks(cx: &Ctx, link: &mut Link, so: &SecretObjectSpec) {
    let params = cx.params.as_deref();
    // A Secret known absent has no content to clash over: its absence's cause is said first,
    // the latent clash after it (`runtime`, audit UU4).
    if !super::two_writers::absent(cx, so) {
        super::two_writers::check(cx, link, so);
    }
    // Driver validation (secretutil.ValidateSecretObject): the Secret is never created.
    let mut invalid = Vec::new();
    if so.secret_name.is_empty() {
        invalid.push("secret name is empty");
    }
    if so.type_.is_empty() {
        invalid.push("secret type is empty");
    }
    if so.data.is_empty() {
        invalid.push("data is empty");
    }
    if !invalid.is_empty() {
        // The driver only logs a failed validation (no event): the SPC itself shows it.
        let confirm = remedy::show_spc(cx, "{.spec.secretObjects}");
        link.findings.push(cx.finding(
            Code::KVC806,
            cx.spc_resource(),
            format!(
                "secretObjects entry {:?} of SecretProviderClass {} is invalid ({}): the driver never creates it",
                so.secret_name,
                cx.spc_name,
                invalid.join(", ")
            ),
            vec![format!("secretObjects: {{secretName: {:?}, type: {:?}, data: {} entries}}", so.secret_name, so.type_, so.data.len())],
            confirm,
            remedy::edit_spc(cx, &super::invalid_entry::completed(cx, so)),
        ));
        // The driver refuses the entry whole before it reads a key: what its keys or type
        // would give is moot, and a Secret without a name cannot be named (audit LL14).
        return;
    }
    // With `objects` unreadable the provider mounts nothing (the Mount link says why) and the
    // files it would write are unknown: whether a key names one cannot be told.
    if params.is_some_and(|p| p.problems.is_empty()) {
        unmatched_keys(cx, link, so);
    }
    typed_keys(cx, link, so);
    refused_keys(cx, link, so);
    super::tls::check(cx, link, so);
}

/// Whether another SecretProviderClass of the namespace writes Secret `secret` now too, or
/// one SPC writes it from two `secretObjects` entries (KVC807): its content and its write
/// times then follow whichever SPC or entry wrote last, and say nothing of what this entry,
/// this SPC's mounts or readers hold. One that no pod mounts writes nothing.
pub(crate) fn written_by_others(cx: &Ctx, secret: &str) -> bool {
    writers(cx, secret).is_some_and(|(spcs, twins)| spcs || twins)
}

/// [`written_by_others`] only because entries of one SecretProviderClass name `secret`
/// twice: merging them is the whole repair, no reader needs another Secret.
pub(crate) fn written_by_twin_entries_only(cx: &Ctx, secret: &str) -> bool {
    writers(cx, secret).is_some_and(|(spcs, twins)| !spcs && twins)
}

/// [`writers_of`] for the chain: the SPC side's, worked out once per SPC, when `secret` is one
/// of the chain's SPC's synced Secrets (every replica asks it, twice).
fn writers(cx: &Ctx, secret: &str) -> Option<(bool, bool)> {
    let side = cx.side.as_ref().zip(cx.spc);
    let entry = side.and_then(|(side, spc)| {
        let i = (spc.secret_objects.iter()).position(|so| so.secret_name == secret)?;
        side.writers.get(i).copied()
    });
    entry.unwrap_or_else(|| writers_of(cx.ix, cx.ns(), secret))
}

/// Whether several SecretProviderClasses mounted now write `secret` of `ns`, and whether
/// entries of one of them name it twice; None for a Secret no SPC writes. Most Secrets have
/// one writer and one entry: settled without looking at the pods.
pub(crate) fn writers_of(ix: &Index, ns: &str, secret: &str) -> Option<(bool, bool)> {
    let writers = ix.secret_writers.get(&(ns, secret))?;
    let spcs = writers.len() > 1 && ix.writers_now(ns, secret).len() > 1;
    let twins = (writers.iter()).any(|w| super::twin_entries::named_twice(w, secret));
    Some((spcs, twins))
}

/// KVC801: keys whose objectName is no mounted file. The driver builds a Secret whole or not
/// at all (FACTS §3: FailedToCreateSecret "failed to get data in spc … file matching objectName
/// <x> not found in the pod"), so one finding per Secret names every such key and its fix.
fn unmatched_keys(cx: &Ctx, link: &mut Link, so: &SecretObjectSpec) {
    let Some(params) = cx.params.as_deref() else {
        return;
    };
    let files = mounted_files(cx);
    let (mut why, mut evidence, mut edits) = (Vec::new(), Vec::new(), Vec::new());
    let mut list_files = false;
    let mut objects_confirm = false;
    // A placeholder is reported as unrendered (KVC306), not as a file no object writes.
    let unmatched = |d: &&crate::snapshot::SecretObjectData| {
        !is_mounted_file(cx, &d.object_name)
            && !crate::chain::rules::params::is_placeholder(&d.object_name)
    };
    // History indexes lost to disabled versions: what to re-enable (a command of its own).
    let mut reenable: Vec<String> = Vec::new();
    // Each unmatched entry by its position in data[] (the entry the driver names).
    for (di, d) in so.data.iter().enumerate().filter(|(_, d)| unmatched(d)) {
        let name = &d.object_name;
        evidence.push(format!(
            "secretObjects[{}].data[{di}]: {{objectName: {name}, key: {}}}",
            so.secret_name, d.key
        ));
        // `<file>/<i>` within objectVersionHistory but past the enabled versions: the
        // provider skips disabled ones (FACTS §5), so the newest enabled is `/0` and the
        // last indexes are not written. Re-enabling brings them back; nothing in
        // secretObjects is misspelt.
        if let Some((o, i)) = history_index_lost(cx, params, name) {
            let versions = history_versions(cx, o).unwrap_or_default();
            let n = o.object_version_history.unwrap_or(0) as usize;
            let disabled: Vec<&str> = versions
                .iter()
                .take(n)
                .filter(|v| !v.enabled)
                .map(|v| v.version.as_str())
                .collect();
            let enabled = versions.iter().filter(|v| v.enabled).count();
            let t = o.object_type.map_or("secret", |t| t.as_str());
            let shifted = if disabled.is_empty() {
                String::new()
            } else {
                format!(
                    " (version {} disabled and skipped: the indexes move on to older versions, and no enabled version is left for {name})",
                    disabled.join(", ")
                )
            };
            why.push(format!(
                "key {}: objectName {name} is history index {i} of {t} {}, which has {enabled} enabled version(s) in the vault{shifted}; objectVersionHistory skips disabled versions, so the provider does not write {name}",
                d.key, o.object_name
            ));
            evidence.push(format!(
                "vault {} {t} {}: versions (newest first) {}",
                cx.keyvault(),
                o.object_name,
                versions
                    .iter()
                    .map(|v| format!(
                        "{}{}",
                        v.version,
                        if v.enabled { "" } else { " (disabled)" }
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            let cli = match o.object_type {
                Some(ObjectType::Key) => "key",
                Some(ObjectType::Cert) => "certificate",
                _ => "secret",
            };
            reenable.extend(disabled.iter().map(|v| {
                format!(
                    "az keyvault {cli} set-attributes --vault-name {} -n {} --version {v} --enabled true",
                    cx.keyvault_arg(),
                    o.object_name
                )
            }));
            edits.push(format!(
                "remove secretObjects[{}].data[key={}] (objectName {name})",
                so.secret_name, d.key
            ));
            continue;
        }
        // `<file>/<i>` of a history object past its objectVersionHistory (the provider writes
        // `/0`…`/n-1`, FACTS §5), or under its Key Vault name where an alias names the files:
        // what to change is the history or the name, not a near file (one another key uses).
        if let Some((o, i, n)) = history_slip(params, name) {
            let file = o.file_name();
            let (reason, edit) = if n.is_some_and(|n| i >= n) {
                let n = n.unwrap_or(1);
                (
                    format!(
                        "objectName {name} is history index {i} of {} {}, whose objectVersionHistory: {n} writes {file}/0 to {file}/{} only",
                        o.object_type.map_or("object", |t| t.as_str()),
                        o.object_name,
                        n - 1
                    ),
                    format!(
                        "objects[{}] ({}).objectVersionHistory: {}, or secretObjects[{}].data[key={}].objectName: an index below {n}",
                        o.index,
                        o.object_name,
                        i + 1,
                        so.secret_name,
                        d.key
                    ),
                )
            } else {
                (
                    format!(
                        "{name} uses the Key Vault name {}, but its files are named by its objectAlias: {file}/{i}",
                        o.object_name
                    ),
                    format!(
                        "secretObjects[{}].data[key={}].objectName: {file}/{i}",
                        so.secret_name, d.key
                    ),
                )
            };
            why.push(format!(
                "key {}: objectName {name} matches no mounted file: {reason}",
                d.key
            ));
            let line = format!(
                "objects[{}]: {{objectName: {}, objectAlias: {}, objectVersionHistory: {}}}",
                o.index,
                o.object_name,
                o.object_alias.as_deref().unwrap_or(""),
                o.object_version_history.unwrap_or(0)
            );
            if !evidence.contains(&line) {
                evidence.push(line);
            }
            edits.push(edit);
            objects_confirm = true;
            continue;
        }
        // The bare file name of a history object: the provider writes `<file>/0` (the newest
        // enabled version) to `<file>/<n-1>` and no `<file>` (FACTS §2 "`alias/0` for
        // history", §5), alias or not. The item is listed: adding it again clashes (audit O1).
        if let Some(o) = history_bare(params, name) {
            let file = o.file_name();
            let n = o.object_version_history.unwrap_or(2);
            why.push(format!(
                "key {}: objectName {name} matches no mounted file: objects[{}] ({}) has objectVersionHistory: {n}, so its files are {file}/0 (the newest version) to {file}/{}, and no file is named {file}",
                d.key,
                o.index,
                o.object_name,
                n - 1
            ));
            evidence.push(format!(
                "objects[{}]: {{objectName: {}, objectAlias: {}, objectVersionHistory: {n}}}",
                o.index,
                o.object_name,
                o.object_alias.as_deref().unwrap_or("")
            ));
            edits.push(format!(
                "secretObjects[{}].data[key={}].objectName: {file}/0",
                so.secret_name, d.key
            ));
            objects_confirm = true;
            continue;
        }
        // The file meant, written under a key the provider ignores (`alias:` for objectAlias).
        let misspelt = params.objects.iter().find_map(|o| {
            let (key, _) = o.ignored.iter().find(|(_, v)| v == name)?;
            Some((o, key.as_str()))
        });
        if let Some((o, key)) = misspelt {
            why.push(format!(
                "key {}: objectName {name} matches no mounted file: objects[{}] sets it as `{key}`, a field the provider does not read (objectAlias?), so the file is named {}",
                d.key, o.index, o.object_name
            ));
            evidence.push(format!(
                "objects[{}]: {{objectName: {}, {key}: {name}}}",
                o.index, o.object_name
            ));
            edits.push(format!("objects[{}]: rename {key} to objectAlias", o.index));
            objects_confirm = true;
            continue;
        }
        // The alias meant, a slip of a mounted file, or an item `objects` forgot.
        let judged = super::unlisted::judge(cx, params, so, d, &files);
        why.push(judged.why);
        edits.push(judged.edit);
        list_files |= judged.list_files;
    }
    let Some(first) = so.data.iter().find(unmatched) else {
        return;
    };
    let mounted = if list_files {
        format!(" (files its objects mount: {})", files.join(", "))
    } else {
        String::new()
    };
    let confirm = if objects_confirm {
        remedy::show_spc(cx, "{.spec.parameters.objects}")
    } else {
        remedy::commands(cx, Code::KVC801).0
    };
    // A Secret written before (all its files mounted then) stays as it was: the driver cannot
    // write it again, and deleting it would leave none (never "delete it to rebuild").
    let exists = cx
        .ix
        .secrets
        .contains_key(&(cx.ns(), so.secret_name.as_str()));
    let never = if exists {
        "is never written again (the one there was built before and stays as it was)"
    } else {
        "is never created"
    };
    let mut fix = remedy::edit_spc(cx, &edits.join("; "));
    if !reenable.is_empty() {
        reenable.sort();
        reenable.dedup();
        // Re-enabling restores the indexes secretObjects names: the edit is the other way.
        fix = format!(
            "{}  # or, to do without that version: {}",
            reenable.join(" && "),
            fix.replacen("  # ", " and ", 1)
        );
    }
    link.findings.push(cx.finding(
        Code::KVC801,
        cx.spc_resource(),
        format!(
            "Secret {} {never}: {}{mounted}; the driver builds a Secret whole or not at all (\"file matching objectName {} not found in the pod\")",
            so.secret_name,
            why.join("; "),
            first.object_name
        ),
        evidence,
        confirm,
        fix,
    ));
}

/// The KVC801 findings of the sync link that only repeat a typo in `objects`: every name they
/// say matches no mounted file is a near-miss of an object failing in the vault (`objects`),
/// written under its Key Vault name (no alias), so fixing that object's name (KVC601's fix)
/// makes the file the entry names (audit 6 Q2). Any other KVC801 is a cause of its own: it is
/// judged against the SPC's declared objects, not against files a failure kept from being
/// written, and stays when the object is fixed.
pub(crate) fn object_typos(
    cx: &Ctx,
    objects: &[crate::chain::model::ChainObject],
    sync: &Link,
) -> Vec<crate::chain::model::SharedText> {
    let Some(spc) = cx.spc else {
        return Vec::new();
    };
    if !sync.findings.iter().any(|f| f.code == Code::KVC801) {
        return Vec::new(); // most chains
    }
    // Failing objects, seen in the vault (broken) or, with the vault unread, named by a
    // current object failure event (`failed to get objectType:…, objectName:<name>, …`).
    let failed_by_event = |name: &str| {
        cx.events.iter().any(|(code, e)| {
            code.is_some_and(|c| c.link() == crate::chain::model::LinkKind::VaultObject)
                && e.type_ != "Normal"
                && crate::chain::events::object_name(&e.message) == Some(name)
        })
    };
    let failing: Vec<&str> = objects
        .iter()
        .filter(|o| o.file == o.name)
        .filter(|o| {
            o.status == crate::chain::model::Status::Broken
                || (o.status != crate::chain::model::Status::Ok && failed_by_event(&o.name))
        })
        .map(|o| o.name.as_str())
        .collect();
    if failing.is_empty() {
        return Vec::new();
    }
    // As KVC601 offers a vault name: a slip of a few characters.
    let near = crate::chain::rules::slip::is_slip;
    // Or the name a proven rename of the failing item gives it (KVC601 offers that rename).
    let renamed = super::proven_rename(cx);
    let renamed = |n: &str| renamed.as_ref().is_some_and(|r| r.name == n);
    let mut out = Vec::new();
    for so in &spc.secret_objects {
        let unmatched: Vec<&str> = so
            .data
            .iter()
            .map(|d| d.object_name.as_str())
            .filter(|n| !is_mounted_file(cx, n) && !crate::chain::rules::params::is_placeholder(n))
            .collect();
        let explained = |n: &&str| failing.iter().any(|f| near(n, f)) || renamed(n);
        if unmatched.is_empty() || !unmatched.iter().all(explained) {
            continue;
        }
        let head = format!("Secret {} is never ", so.secret_name);
        out.extend(
            sync.findings
                .iter()
                .filter(|f| f.code == Code::KVC801 && f.message.starts_with(&head))
                .map(|f| f.message.clone()),
        );
    }
    out
}
