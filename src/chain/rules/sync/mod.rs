//! Sync link: `secretObjects` → the Kubernetes Secret the driver writes (FACTS §2).
//! Static: objectName must be a mounted file name, TLS Secrets need tls.key + tls.crt from a
//! secret-type object, validation fields present. Runtime: the Secret exists (only while a pod
//! mounts the SPC), matches the mount, and nothing relies on it without keeping it alive.

mod edited;
mod failed_create;
mod invalid_entry;
mod missing;
mod renamed_side;
pub(crate) mod shape;
mod stale_readers;
mod tls;
mod tls_pfx;
mod twin_entries;
mod two_writers;
mod typed;
mod unapplied;
mod unlisted;
mod unmanaged;
mod unread_mount;
mod waiting;
pub(crate) use edited::mount_predates_edit;
pub(crate) use failed_create::{
    Settled, event_cause, foreign_cause, note_exportability_unknown, refused_unrendered_key,
    settled,
};
pub(crate) use missing::awaiting_mount;
pub(crate) use renamed_side::proven_rename;
pub(crate) use shape::{object_typos, written_by_others, written_by_twin_entries_only};
pub(crate) use stale_readers::stale_blocks_readers;
pub(crate) use typed::{absorb_stale_values, refused_patch};
pub(crate) use unapplied::mount_unapplied;
pub(crate) use unmanaged::patch_symptom as unmanaged_patch_symptom;
pub(crate) use waiting::present;

use super::remedy;
use super::{set, unknown};
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::index::Use;
use crate::chain::model::{Fact, Link, Severity, Status, Text};
use crate::snapshot::SecretObjectSpec;

const TLS: &str = "kubernetes.io/tls";

/// Returns the entries of `secretObjects` the driver can never build (bit `i` for entry `i`,
/// the first 64): a static cause says why, and their consumers wait on it.
pub(crate) fn check(cx: &mut Ctx, link: &mut Link) -> u64 {
    let Some(spc) = cx.spc else {
        super::no_spc(cx, link);
        return 0;
    };
    if spc.secret_objects.is_empty() {
        // No secretObjects, no synced Secret (FACTS §2): nothing to check (audit VVV-honest).
        link.not_applicable("no secretObjects: the driver syncs no Secret from this SPC");
        set(link, Status::Ok, "no sync");
        return 0;
    }
    super::note(cx, link, || {
        let names: Vec<&str> = spc
            .secret_objects
            .iter()
            .map(|s| s.secret_name.as_str())
            .collect();
        Fact::new("secretObjects", names.join(", "))
    });
    match spc.secret_objects.as_slice() {
        [one] => set(link, Status::Ok, Text::from(one.secret_name.as_str())),
        _ => set(link, Status::Ok, "synced"),
    }
    // The SPC's own findings come first, so the causes index the link's findings alike.
    // A shared side's causes are read in place (copying them was an allocation per chain).
    if cx.side.is_none() {
        cx.sync_causes = statics(cx, spc, link);
    }
    let causes: &[Option<usize>] = match &cx.side {
        Some(side) => {
            link.findings.extend_from_slice(&side.sync);
            &side.sync_causes
        }
        None => &cx.sync_causes,
    };
    let never_built = causes
        .iter()
        .take(64)
        .enumerate()
        .filter(|(_, c)| c.is_some())
        .fold(0u64, |mask, (i, _)| mask | 1 << i);
    if cx.template {
        // A Secret document of a synced name in the files is known not to be the driver's.
        unmanaged::in_files(cx, link, spc, causes);
        if link.status == Status::Ok {
            set(link, Status::Pending, "template");
        }
        return never_built;
    }
    // The SPC's findings are the same for every pod that mounts it; the remount a tls edit of
    // `objects` needs with rotation off is this pod's.
    tls::remount_after_edit(cx, spc, link);
    for (i, (so, cause)) in spc.secret_objects.iter().zip(causes).enumerate() {
        runtime(cx, link, i, so, *cause);
    }
    // Whether an Ingress serves a synced Secret (KVC803) needs the Ingresses: unread, the
    // check is not made (audit DDD1).
    if link.status == Status::Ok
        && link.findings.is_empty()
        && let Some(reason) = cx.snap().ingresses.unknown_in(cx.ns())
    {
        super::unknown_check(
            link,
            "Ingresses unknown",
            super::consumers::ingress_check(spc),
            reason,
        );
    }
    never_built
}

/// What the SPC says about its synced Secrets, whoever mounts it: invalid entries (KVC806),
/// keys fed by no mounted file (KVC801), TLS Secrets without a key (KVC804), and users of the
/// Secret that do not keep it alive (KVC803).
///
/// Returns, per entry, the index of the first finding that already says why the driver cannot
/// build it (so runtime effects of that entry follow it instead of naming a second cause).
pub(crate) fn statics(
    cx: &Ctx,
    spc: &crate::snapshot::SpcObs,
    link: &mut Link,
) -> Vec<Option<usize>> {
    let causes: Vec<Option<usize>> = spc
        .secret_objects
        .iter()
        .map(|so| {
            let before = link.findings.len();
            shape::static_checks(cx, link, so);
            // Two writers (KVC807) do not keep the driver from building the Secret: the
            // clash is no cause of its absence, which the runtime checks explain (audit UU4).
            (link.findings[before..].iter())
                .position(|f| f.code != Code::KVC807)
                .map(|j| before + j)
        })
        .collect();
    let mut causes = causes;
    stopped_at_refusal(cx, spc, link, &mut causes);
    for (so, cause) in spc.secret_objects.iter().zip(&causes) {
        match cause {
            // The driver never builds this Secret: whoever serves it waits on the cause; it
            // is not a Secret at risk of garbage collection.
            Some(i) => {
                // A Secret the driver did build (an empty tls.key from a key object, which it
                // writes without an error) is there, unusable (audit CCC11).
                let exists = (cx.ix.secrets).contains_key(&(cx.ns(), so.secret_name.as_str()));
                let state = match exists {
                    true => {
                        "it exists but holds what this entry builds, not what the Ingress can serve, until this is fixed"
                    }
                    false => "it has none until this is fixed",
                };
                let waiting = ingress_users(cx, so).map(|u| {
                    format!(
                        "{u} serves Secret {} (spec.tls[].secretName): {state}",
                        so.secret_name
                    )
                    .into()
                });
                link.findings[*i].evidence.extend(waiting);
            }
            None => lifetime(cx, link, so),
        }
    }
    // After the entries' own findings, which `causes` index.
    twin_entries::check(cx, spc, link);
    causes
}

/// The SPCPS controller returns from its reconcile at the first Secret create the API server
/// refuses, at every retry ([D] the backoff's `return`; a data error only `continue`s), so
/// the Secrets of later entries that do not exist yet are never made either: their absence
/// follows that entry's finding, which names them (audit CCC5). Secrets that exist are the
/// rotation reconciler's, which goes on past a failure.
fn stopped_at_refusal(
    cx: &Ctx,
    spc: &crate::snapshot::SpcObs,
    link: &mut Link,
    causes: &mut [Option<usize>],
) {
    let Some((i, f)) = causes.iter().enumerate().find_map(|(i, c)| {
        c.filter(|&f| link.findings[f].message.contains(typed::REFUSED))
            .map(|f| (i, f))
    }) else {
        return;
    };
    if cx.snap().secrets.unknown_in(cx.ns()).is_some() {
        return;
    }
    let later: Vec<usize> = (i + 1..spc.secret_objects.len())
        .filter(|&j| {
            let name = spc.secret_objects[j].secret_name.as_str();
            causes[j].is_none() && !name.is_empty() && !cx.ix.secrets.contains_key(&(cx.ns(), name))
        })
        .collect();
    if later.is_empty() {
        return;
    }
    let names: Vec<String> = (later.iter())
        .map(|&j| format!("Secret {}", spc.secret_objects[j].secret_name))
        .collect();
    for &j in &later {
        causes[j] = Some(f);
    }
    let finding = &mut link.findings[f];
    finding.message = format!(
        "{}; the driver stops at this entry at every attempt, so it never makes {} (later entr{}) either",
        finding.message,
        names.join(", "),
        if later.len() == 1 { "y" } else { "ies" }
    )
    .into();
}

/// The Ingresses that name `so`'s Secret for TLS, as `Ingress/<name>`, sorted, once each.
fn ingress_users(cx: &Ctx, so: &SecretObjectSpec) -> impl Iterator<Item = String> {
    let mut users: Vec<String> = cx
        .ix
        .ingress_tls
        .get(&(cx.ns(), so.secret_name.as_str()))
        .into_iter()
        .flatten()
        .map(|i| format!("Ingress/{}", i.name))
        .collect();
    users.sort();
    users.dedup();
    users.into_iter()
}

/// KVC803: the synced Secret is used by something that does not mount the SPC (an Ingress,
/// another workload): it lives only as long as the mounting pods' owners do.
fn lifetime(cx: &Ctx, link: &mut Link, so: &SecretObjectSpec) {
    // Seen absent, the Secret is no risk but a loss: what names it says so (KVC904, KVC802).
    let key = (cx.ns(), so.secret_name.as_str());
    if cx.snap().secrets.unknown_in(cx.ns()).is_none() && !cx.ix.secrets.contains_key(&key) {
        return;
    }
    // A workload scaled to zero: the Ingress's own chain says its Secret is frozen and scales
    // it up (KVC803 there, the one cause).
    if crate::chain::orphans::is_parked(cx.pod, cx.workload_object) {
        return;
    }
    // Other workloads consuming it without the mount are KVC903 on the consumers link.
    let users: Vec<String> = ingress_users(cx, so).collect();
    if users.is_empty() {
        return;
    }
    link.findings.push(cx.remedied(
        Code::KVC803,
        format!("Secret/{}", so.secret_name),
        format!(
            "synced Secret {} is used by {} which {} not mount SecretProviderClass {}: the driver makes the mounting pods' owners its owners, so it is garbage-collected when they go (and never created until a pod mounts the SPC)",
            so.secret_name,
            users.join(", "),
            if users.len() == 1 { "does" } else { "do" },
            cx.spc_name
        ),
        users.iter().map(|u| format!("{u} references Secret {}", so.secret_name)).collect(),
    ));
}

/// `so` is `secretObjects[i]`.
fn runtime(cx: &Ctx, link: &mut Link, i: usize, so: &SecretObjectSpec, cause: Option<usize>) {
    if so.secret_name.is_empty() {
        return;
    }
    if let Some(reason) = cx.snap().secrets.unknown_in(cx.ns()) {
        if link.status == Status::Ok {
            unknown(link, "Secret unknown", reason);
        }
        return;
    }
    let Some(secret) = cx.synced_secret(i) else {
        missing::missing(cx, link, so, cause);
        if two_writers::absent(cx, so) {
            two_writers::check(cx, link, so);
        }
        return;
    };
    super::compare(cx, link, "synced Secret type", &secret.type_, &so.type_);
    // A TLS Secret without tls.key is never a cause of its own: the entry that cannot make
    // it is the static KVC804 (its fix names the entry or object to change); an entry that
    // does make it now left a Secret written before (KVC805, below), or another SPC wrote it
    // (KVC807). The live keys are that cause's evidence, not a second finding.
    if so.type_ == TLS
        && !secret.data.contains_key("tls.key")
        && let Some(f) = cause.and_then(|i| link.findings.get_mut(i))
    {
        f.evidence.push(
            format!(
                "Secret {} keys: {}",
                secret.name,
                secret.data.keys().cloned().collect::<Vec<_>>().join(", ")
            )
            .into(),
        );
    }
    // Written from two SPCs' mounts, it matches one of them at a time: KVC807 is the cause.
    // An entry the driver cannot build (a static cause) is not stale but stuck: deleting the
    // Secret to have it made again would leave none (the cause says what to change).
    if cause.is_none() && !shape::written_by_others(cx, &so.secret_name) {
        let before = link.findings.len();
        content(cx, link, so, secret);
        // The mount could not be read: the Secret is not known to hold it (unknown, not ok).
        if link.findings.len() == before
            && cx.status.is_none()
            && let Some(reason) = cx.snap().spc_statuses.unread_in(cx.ns())
        {
            unread_mount::check(cx, link, so, secret, reason);
        }
    }
}

/// The keys `secretObjects` entry `so` makes that its live Secret lacks: the Secret was
/// written before they were added (FACTS §11: created, then only rotation updates it).
/// Empty when the SPC's entry is one the driver cannot build or another SPC writes the Secret
/// too (those have causes of their own), or when a key is still a template placeholder.
pub(crate) fn keys_lacking<'s>(
    cx: &Ctx,
    so: &'s SecretObjectSpec,
    secret: &crate::snapshot::SecretObs,
) -> Vec<&'s str> {
    // Most Secrets have every key: the lookups settle them before anything else is asked.
    let mut lacking: Vec<&str> = so
        .data
        .iter()
        .map(|d| d.key.as_str())
        .filter(|k| !secret.data.contains_key(*k))
        .collect();
    if lacking.is_empty() || shape::written_by_others(cx, &so.secret_name) {
        return Vec::new();
    }
    lacking.retain(|k| !super::params::is_placeholder(k));
    lacking
}

/// Who mounted what a stale Secret is compared with, said of the workload's pods so its
/// replicas' chains say the same and reports keep one finding for the one Secret (each
/// chain's evidence and fix name its own pod): `the pods of Deployment/x have`, `pod y has`.
fn mounted_by(cx: &Ctx) -> String {
    match cx.workload {
        Some(_) => format!("the pods of {} have", cx.owner_resource()),
        None => format!("pod {} has", cx.pod.name),
    }
}

/// KVC805: the synced Secret is older than what the mount and `secretObjects` make: values
/// differ from the mounted files' fingerprints (when the source can see files), keys the
/// SPC's `secretObjects` now make are missing from it, or keys none makes any more are left
/// in it (an SPC edited after the Secret was written: FACTS §2, §4, §11). One finding per
/// Secret, the stale Secret named.
fn content(cx: &Ctx, link: &mut Link, so: &SecretObjectSpec, secret: &crate::snapshot::SecretObs) {
    let lacking = keys_lacking(cx, so, secret);
    let leftover = edited::leftover_keys(so, secret);
    let mut differ = Vec::new();
    // A retired pod's mount is its last one, not the present: the Secret, which rotation keeps
    // current for the live pods, is not judged against it (audit U1).
    if let Some((status, files)) = cx
        .status
        .filter(|_| !cx.retired())
        .and_then(|st| st.files.as_ref().map(|files| (st, files)))
    {
        differ = values_differ(so, secret, status, files);
    }
    let retyped = edited::retyped(so, secret);
    if differ.is_empty() && lacking.is_empty() && leftover.is_empty() && retyped.is_none() {
        return;
    }
    // Not the driver's (made first by someone else): nothing the driver does rewrites it, so
    // no edit, poll or rotation story applies (FACTS §2, §11).
    if !secret.driver_managed() {
        let d = unmanaged::Differences::new(&lacking, &leftover, &differ, retyped.is_some());
        return unmanaged::finding(cx, link, so, secret, d);
    }
    let values_differ = !differ.is_empty();
    let has: Vec<&str> = secret.data.keys().map(String::as_str).collect();
    let rotation = edited::rotation(cx, secret);
    let mut parts = Vec::new();
    if let Some(why) = &retyped {
        parts.push(why.clone());
        differ.push(format!(
            "Secret {} type: {}; secretObjects entry {} type: {}",
            secret.name, secret.type_, so.secret_name, so.type_
        ));
    }
    if values_differ {
        let due = match rotation {
            edited::Rotation::Due { poll, .. } => format!(
                " (rotation is on: its next poll, every {poll}s, rewrites a Secret whose data differs from the mount)"
            ),
            _ => String::new(),
        };
        parts.push(format!(
            "differs from what {} mounted: {}{due}",
            mounted_by(cx),
            differ
                .iter()
                .filter(|d| !d.starts_with("Secret "))
                .map(|d| d.split(' ').nth(1).unwrap_or(""))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !lacking.is_empty() {
        parts.push(format!(
            "lacks key {} that secretObjects of SecretProviderClass {} now make (it has {}): {}",
            lacking.join(", "),
            cx.spc_name,
            if has.is_empty() {
                "no keys".to_string()
            } else {
                has.join(", ")
            },
            edited::lacking_why(&rotation)
        ));
    }
    let readers = edited::leftover_readers(cx, so, &leftover);
    if !leftover.is_empty() {
        parts.push(edited::leftover_part(cx, so, &leftover, &readers));
    }
    if !lacking.is_empty() || !leftover.is_empty() {
        differ.push(format!(
            "Secret {} keys: {}; secretObjects[{}].data keys: {}",
            secret.name,
            has.join(", "),
            so.secret_name,
            so.data
                .iter()
                .map(|d| d.key.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !lacking.is_empty() {
        differ.extend(unmounted_objects(cx));
    }
    differ.extend(readers.iter().map(|r| r.evidence.clone()));
    let mut f = cx.remedied(
        Code::KVC805,
        format!("Secret/{}", secret.name),
        format!("synced Secret {} {}", secret.name, parts.join("; it also ")),
        differ,
    );
    if retyped.is_some() {
        // The default: only a new Secret from a new mount has the new type.
    } else if values_differ {
        // Rotation's next poll rewrites it: the env readers restart after that, not now.
        // Otherwise the default: a new Secret from a new mount.
        if let edited::Rotation::Due { poll, .. } = rotation {
            f.severity = Severity::Warning;
            f.fix = edited::due_rewrite_fix(cx, &secret.name, poll).into();
        }
    } else if !lacking.is_empty() {
        match rotation {
            // Rotation's next poll applies the edit: nothing to delete, nothing broken yet.
            edited::Rotation::Due { poll, .. } => {
                f.severity = Severity::Warning;
                f.fix = edited::due_fix(&secret.name, poll, &lacking.join(", ")).into();
            }
            // Rotation should have applied it: the driver log says why it has not (KVC703's
            // confirm and repair), the remount is the workaround until then.
            edited::Rotation::Stuck { .. } => {
                // When the SPC was edited (its managedFields) says whether a poll has passed.
                f.confirm = format!(
                    "{} && kubectl get secretproviderclass {} -n {} -o jsonpath='{{.metadata.managedFields[*].time}}' && {}",
                    f.confirm,
                    cx.spc_name,
                    cx.ns(),
                    remedy::DRIVER_LOG
                )
                .into();
                f.fix = remedy::rotation_stuck_fix(cx).into();
            }
            edited::Rotation::NotOn => {}
        }
    } else {
        // Only leftovers: nothing is broken now; the readers break when the Secret is rebuilt.
        f.severity = if readers.is_empty() {
            Severity::Info
        } else {
            Severity::Warning
        };
        f.fix = edited::leftover_fix(cx, so, &leftover, &readers).into();
    }
    link.findings.push(f);
}

/// The objects the SPC lists that the pod's mount (SecretProviderClassPodStatus) lacks, and
/// the versions it pins that the mount does not hold: the mount predates an edit of the SPC.
pub(crate) fn unmounted_objects(cx: &Ctx) -> Option<String> {
    let status = cx.status?;
    let params = cx.params.as_deref()?;
    let repinned = unapplied::repinned(params, status);
    let missing: Vec<&str> = params
        .objects
        .iter()
        .filter(|o| lacks(status, o))
        .map(|o| o.object_name.as_str())
        .collect();
    if missing.is_empty() && repinned.is_empty() {
        return None;
    }
    let mut now = Vec::new();
    if !missing.is_empty() {
        now.push(format!("also list {}", missing.join(", ")));
    }
    now.extend(repinned);
    Some(format!(
        "SecretProviderClassPodStatus of pod {} lists {}; the SPC's objects now {}: the mount predates the edit",
        cx.pod.name,
        if status.objects.is_empty() {
            "no objects".to_string()
        } else {
            status
                .objects
                .iter()
                .map(|o| o.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        },
        now.join(" and ")
    ))
}

/// Whether the pod's mount (its SecretProviderClassPodStatus) lacks SPC item `o`, an item the
/// provider takes. The SPCPS id is `<type>/<objectName>` (FACTS §1) of a type the provider
/// knows: an item whose objectType it refuses (`Invalid vaultObjectTypes`, FACTS §5) is in no
/// mount, and the refusal (KVC705) is why, not a mount older than the edit (audit FF1: the
/// mounted `secret/x` read as lacking an item retyped `secrets`).
pub(crate) fn lacks(status: &crate::snapshot::SpcPodStatusObs, o: &crate::spc::SpcObject) -> bool {
    let Some(t) = o.object_type else {
        return false;
    };
    // With version history the ids are `<type>/<name>/<i>` (FACTS §1): the prefix is read in
    // place, not formatted (every chain asks this of each of its SPC's objects).
    let history = |id: &str| {
        (id.strip_prefix(t.as_str()))
            .and_then(|r| r.strip_prefix('/'))
            .and_then(|r| r.strip_prefix(o.object_name.as_str()))
            .is_some_and(|r| r.starts_with('/'))
    };
    !status
        .objects
        .iter()
        .any(|so| o.is_status_id(&so.id) || history(&so.id))
}

/// Keys whose value differs from the fingerprint of the mounted file that makes it.
pub(crate) fn values_differ(
    so: &SecretObjectSpec,
    secret: &crate::snapshot::SecretObs,
    status: &crate::snapshot::SpcPodStatusObs,
    files: &crate::snapshot::FileFingerprints,
) -> Vec<String> {
    let mut differ = Vec::new();
    for (at, d) in so.data.iter().enumerate() {
        // A key named twice holds its last item's file (KVC807 says so): the earlier one is
        // no measure of it (audit CCC1).
        if so.data[at + 1..].iter().any(|e| e.key == d.key) {
            continue;
        }
        let Some(value) = secret.data.get(&d.key) else {
            continue;
        };
        // A TLS Secret holds the key and the certificates split out of the PEM file (FACTS §2),
        // never the whole file: compare with those parts, or not at all when they are unknown.
        let file = if so.type_ == TLS {
            let parts = status.pem_parts.get(&d.object_name);
            match d.key.as_str() {
                "tls.key" => parts.and_then(|p| p.key.as_ref()),
                "tls.crt" => parts.and_then(|p| p.cert.as_ref()),
                _ => None,
            }
        } else {
            files.get(d.object_name.as_str())
        };
        let Some(file) = file else {
            continue;
        };
        if file != value {
            differ.push(format!(
                "key {} ({} vs file {}: {})",
                d.key, value, d.object_name, file
            ));
        }
    }
    differ
}

/// Whether a data key of entry `so` is an unrendered template value (`${KEY}`): it makes no
/// key to judge, the API server refuses it, and the SPC's template finding (KVC306) says so.
pub(crate) fn unrendered_key(so: &SecretObjectSpec) -> bool {
    (so.data.iter()).any(|d| super::params::is_placeholder(&d.key))
}

/// Whether a consumer reads this Secret through env (a start-time snapshot).
pub(crate) fn is_env(u: &Use) -> bool {
    matches!(u, Use::Env { .. } | Use::EnvFrom { .. })
}
