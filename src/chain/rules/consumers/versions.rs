//! What became of a copy taken at container start (KVC901): the vault version each key or
//! mounted file held then, against the one mounted now.

use jiff::Timestamp;

use crate::chain::context::Ctx;
use crate::snapshot::ObjectVersion;

/// Whether what a container took at start changed since.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Change {
    /// The value is the one the Secret holds now.
    Same,
    /// A vault version created after the container started is in the Secret now.
    Changed,
    /// Not known (versions or times not observed, or a lag between version and write).
    Unknown,
}

/// What became of `keys` (all of the entry's when `None`) since `started`: each key maps
/// through `secretObjects[i].data[]` to the file it is built from, the file to its
/// `parameters.objects` entry (and history index), and that to the version mounted now and
/// the version(s) it pointed to at container start. Any key changed: changed; every key the
/// same: same; else unknown. The Secret is not this pod's mount: an existing Secret is not
/// rewritten when a pod mounts (FACTS §11), so what a reader took is bounded by the Secret's
/// own following of the vault, never by its pod's creation.
pub(super) fn change_of(cx: &Ctx, i: usize, keys: Option<&[&str]>, started: Timestamp) -> Change {
    let Some(so) = cx.spc.map(|spc| &spc.secret_objects[i]) else {
        return Change::Unknown;
    };
    let entries: Vec<_> = so
        .data
        .iter()
        .filter(|d| keys.is_none_or(|k| k.contains(&d.key.as_str())))
        .collect();
    if entries.is_empty() {
        return Change::Unknown;
    }
    let mut all_same = true;
    for d in entries {
        match key_change(cx, &d.object_name, started, None).0 {
            Change::Changed => return Change::Changed,
            Change::Unknown => all_same = false,
            Change::Same => {}
        }
    }
    if all_same {
        Change::Same
    } else {
        Change::Unknown
    }
}

/// The vault versions a copy may hold, and the one mounted now.
pub(super) struct Versions {
    pub(super) then: Vec<String>,
    pub(super) now: String,
}

/// [`change_of`] for the key built from mounted file `file`, with the versions compared.
/// `mounted_after`: the copy is of the file this pod's own mount wrote, which read the vault
/// after this moment (the pod's creation); None for a copy of a synced Secret.
pub(super) fn key_change(
    cx: &Ctx,
    file: &str,
    started: Timestamp,
    mounted_after: Option<Timestamp>,
) -> (Change, Option<Versions>) {
    let (Some(p), Some(st)) = (cx.params.as_deref(), cx.status) else {
        return (Change::Unknown, None);
    };
    // `alias/<i>` with objectVersionHistory: entry i of the object's history.
    let (base, nth) = match file.rsplit_once('/') {
        Some((b, n)) if n.parse::<u32>().is_ok() => (b, Some(n)),
        _ => (file, None),
    };
    let Some((j, o)) = p
        .objects
        .iter()
        .enumerate()
        .find(|(_, o)| o.file_name() == base)
    else {
        return (Change::Unknown, None);
    };
    let Some(t) = o.object_type else {
        return (Change::Unknown, None);
    };
    let mounted = st.objects.iter().find(|so| match nth {
        None => o.is_status_id(&so.id),
        Some(n) => so
            .id
            .strip_suffix(n)
            .and_then(|id| id.strip_suffix('/'))
            .is_some_and(|id| o.is_status_id(id)),
    });
    let Some(mounted) = mounted else {
        return (Change::Unknown, None);
    };
    let vault = p.keyvault_name.as_deref().unwrap_or_default();
    let Some(obj) = cx
        .vault_object(j, vault, t, &o.object_name)
        .and_then(|f| f.state.known())
        .and_then(|s| s.as_ref())
    else {
        return (Change::Unknown, None);
    };
    let Some(now) = obj.version(&mounted.version) else {
        return (Change::Unknown, None);
    };
    // A copy of the chain's pod's own mounted file: its first mount read the vault after the
    // pod was created, so what the container took is what the index pointed to at some moment
    // from then to its start. A reader of the synced Secret took what the Secret held then,
    // written by some earlier mount or poll, whoever mounts now: an existing Secret is not
    // rewritten at mount and a restart does not refresh it (FACTS §11), so a pod (re)started
    // between a new version and the next poll read the old value. With rotation on, the
    // Secret follows the vault's latest version within a poll: what it held at the start was
    // fetched no earlier than two polls before it. Without rotation there is no bound: the
    // Secret may hold any older value.
    let since = if o.object_version.is_none() {
        let followed = cx
            .cluster()
            .csi_driver
            .known()
            .and_then(|csi| csi.followed_since(started));
        mounted_after.max(followed)
    } else {
        None
    };
    let index = nth.and_then(|n| n.parse::<usize>().ok()).unwrap_or(0);
    let Some(then) = pointed_to(&obj.versions, nth.is_some(), index, since, started, now) else {
        return (Change::Unknown, None);
    };
    // Each candidate value the container may have taken, against the one held now: the same
    // version, or (where the source fingerprints versions) the same value under another
    // version (rotated away and back).
    let same = |v: &ObjectVersion| {
        v.version == now.version || (v.fingerprint.is_some() && v.fingerprint == now.fingerprint)
    };
    let versions = Some(Versions {
        then: then.iter().map(|v| v.version.to_string()).collect(),
        now: now.version.to_string(),
    });
    if then.iter().all(|v| same(v)) && !then.is_empty() {
        return (Change::Same, versions);
    }
    // Not one candidate holds the value held now: the copy is old.
    if then.iter().all(|v| !same(v)) {
        return (Change::Changed, versions);
    }
    (Change::Unknown, versions)
}

/// The versions history index `index` (0 = newest; `history`: `objectVersionHistory`, which
/// skips disabled versions, FACTS §5) may have pointed to when the container that `started`
/// took its copy: at any moment from `since` (unknown: any earlier moment) to `started`, and
/// never past the version it points to now (rotation only moves forward). A version disabled
/// now may have been enabled then (when is not observed): the history is taken both with and
/// without it, so a copy of a version disabled since is never called the value held now
/// (audit CCC2). None when the versions' creation times are not all known.
fn pointed_to<'a>(
    versions: &'a [ObjectVersion],
    history: bool,
    index: usize,
    since: Option<Timestamp>,
    started: Timestamp,
    now: &ObjectVersion,
) -> Option<Vec<&'a ObjectVersion>> {
    let mut out = pointed_among(versions, history, index, since, started, now)?;
    // With history, a version disabled since may have been the one listed then.
    if history && versions.iter().any(|v| !v.enabled) {
        for v in pointed_among(versions, false, index, since, started, now)? {
            if !out.iter().any(|o| o.version == v.version) {
                out.push(v);
            }
        }
    }
    Some(out)
}

/// [`pointed_to`] over the versions listed as they are now (`enabled_only`: as history lists
/// them, without the disabled ones).
fn pointed_among<'a>(
    versions: &'a [ObjectVersion],
    enabled_only: bool,
    index: usize,
    since: Option<Timestamp>,
    started: Timestamp,
    now: &ObjectVersion,
) -> Option<Vec<&'a ObjectVersion>> {
    let listed: Vec<(&ObjectVersion, Timestamp)> = versions
        .iter()
        .filter(|v| !enabled_only || v.enabled)
        .map(|v| v.created.map(|c| (v, c)))
        .collect::<Option<_>>()?;
    // Rotation only moves an index forward, unless a version is disabled (then it moves
    // back to an older one): the listing with disabled versions has no such bound.
    let limit = if enabled_only || !versions.iter().any(|v| !v.enabled) {
        Some(now.created?)
    } else {
        None
    };
    // The index moves only when a version is created: the moments to look at are `since` and
    // each creation after it, up to the start.
    let moments = since.into_iter().chain(
        listed
            .iter()
            .map(|(_, c)| *c)
            .filter(|c| *c <= started && since.is_none_or(|s| *c > s)),
    );
    let mut out: Vec<&ObjectVersion> = Vec::new();
    for t in moments {
        let mut at: Vec<&(&ObjectVersion, Timestamp)> =
            listed.iter().filter(|(_, c)| *c <= t).collect();
        at.sort_by_key(|a| std::cmp::Reverse(a.1));
        if let Some((v, c)) = at.get(index)
            && limit.is_none_or(|l| *c <= l)
            && !out.iter().any(|o| o.version == v.version)
        {
            out.push(v);
        }
    }
    Some(out)
}
