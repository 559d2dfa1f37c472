//! KVC901: a copy taken at container start (an env var, a file mounted with subPath: FACTS §4)
//! of a synced Secret rewritten since. Whether the copy is old is decided per key: the Secret
//! is rewritten whole when any one of its objects rotates, and a key whose vault object did
//! not change still holds the value the process took.

use jiff::Timestamp;

use super::describe;
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::index::Use;
use crate::chain::model::{Link, Severity};
use crate::glance;
use crate::snapshot::{ContainerObs, ContainerStateObs, ObjectVersion, PodObs, VolumeSourceObs};

/// Whether what a container took at start changed since.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Change {
    /// The value is the one the Secret holds now.
    Same,
    /// A vault version created after the container started is in the Secret now.
    Changed,
    /// Not known (versions or times not observed, or a lag between version and write).
    Unknown,
}

/// KVC901 for consumer `how`, in pod `pod` (the chain's pod, or one that reads the Secret
/// without mounting the SPC: a copy goes stale whoever mounts), of `secretObjects[i]`.
pub(super) fn check(cx: &Ctx, link: &mut Link, i: usize, secret: &str, pod: &PodObs, how: &Use) {
    if cx.template {
        return;
    }
    match how {
        // The kubelet reads a pull secret at each pull: nothing holds a copy.
        Use::ImagePull => {}
        Use::Env { container, .. } | Use::EnvFrom { container, .. } => {
            // An env key is judged by its own object; envFrom takes every key.
            let key = match how {
                Use::Env { key, .. } => Some([*key]),
                _ => None,
            };
            let keys = key.as_ref().map(|k| &k[..]);
            // An optional reference the kubelet left unset holds no copy to go stale.
            if !super::required(pod, how) && unset_at_start(cx, link, i, secret, pod, how, keys) {
                return;
            }
            stale(
                cx,
                link,
                i,
                secret,
                pod,
                container,
                || describe(how),
                "the process",
                keys,
            );
        }
        Use::Volume { volume } => {
            let source = pod
                .volumes
                .iter()
                .find(|v| v.name == *volume)
                .map(|v| &v.source);
            let kind = match source {
                Some(VolumeSourceObs::Projected { .. }) => "projected volume",
                _ => "volume",
            };
            for c in &pod.containers {
                for m in c.mounts.iter().filter(|m| m.volume == *volume) {
                    let Some(sub) = &m.sub_path else { continue };
                    // The file's name is its key unless items renamed them (not observed).
                    let file = sub.split('/').next().unwrap_or(sub);
                    let renamed = matches!(source, Some(VolumeSourceObs::Secret { keys, .. }) if !keys.is_empty());
                    let keys = [file];
                    let what = || {
                        format!(
                            "container {} file {} ({kind} {volume} with subPath {sub}, which never sees updates)",
                            c.name, m.path
                        )
                    };
                    let keys = (!renamed).then_some(&keys[..]);
                    stale(cx, link, i, secret, pod, c, what, "the file", keys);
                }
            }
        }
    }
}

/// An optional env reference (`secretKeyRef.optional`, `envFrom[].secretRef.optional`) to a
/// Secret or key missing when the container started: the kubelet started it with the
/// variable unset (Kubernetes docs, "Optional Secrets"), so it took no value and nothing it
/// holds goes stale. Said as an info when the Secret was created since (a restart would read
/// it); nothing when the key is not in the Secret (KVC905's info says so). Returns whether
/// the container took no value (no KVC901 then).
fn unset_at_start(
    cx: &Ctx,
    link: &mut Link,
    i: usize,
    secret: &str,
    pod: &PodObs,
    how: &Use,
    keys: Option<&[&str]>,
) -> bool {
    let (Use::Env { container, .. } | Use::EnvFrom { container, .. }) = how else {
        return false;
    };
    let ContainerStateObs::Running { started_at } = &container.state else {
        return false;
    };
    let Some(s) = cx.synced_secret(i) else {
        return false;
    };
    // The key is not in the Secret: the variable is unset now as at start.
    if keys.is_some_and(|k| k.iter().all(|k| !s.data.contains_key(*k))) {
        return true;
    }
    let Some(created) = s.created_at.filter(|c| c > started_at) else {
        return false;
    };
    let mut f = cx.remedied(
        Code::KVC901,
        format!("Pod/{}", pod.name),
        format!(
            "{} of pod {} reads Secret {secret} optionally, and the Secret was created at {}, after the container started at {}: the kubelet started it with the variable unset (optional, unset), so the process holds no value from it",
            describe(how),
            pod.name,
            glance::time(created),
            glance::time(*started_at)
        ),
        vec![
            format!(
                "container {} running since {}",
                container.name,
                glance::time(*started_at)
            ),
            format!("Secret {secret} created {}", glance::time(created)),
        ],
    );
    f.severity = Severity::Info;
    let restart = if std::ptr::eq(pod, cx.pod) {
        f.fix.to_string()
    } else {
        crate::chain::rules::remedy::restart_pod(cx, pod)
    };
    f.fix = format!("# nothing is broken (the reference is optional); for the process to read the value, restart it: {restart}").into();
    link.findings.push(f);
    true
}

#[allow(clippy::too_many_arguments)] // one finding's facts, each read once
fn stale(
    cx: &Ctx,
    link: &mut Link,
    i: usize,
    secret: &str,
    pod: &PodObs,
    container: &ContainerObs,
    // Described only for a container found holding an old copy: most are not.
    what: impl FnOnce() -> String,
    holder: &str,
    keys: Option<&[&str]>,
) {
    let ContainerStateObs::Running { started_at } = &container.state else {
        return;
    };
    // Two SPCs write it (KVC807): its last write says nothing of what this pod took.
    if crate::chain::rules::sync::written_by_others(cx, secret) {
        return;
    }
    let Some(s) = cx.synced_secret(i) else {
        return;
    };
    let Some(updated) = s.updated_at else { return };
    if updated <= *started_at {
        return;
    }
    let mine = std::ptr::eq(pod, cx.pod);
    let change = change_of(cx, i, keys, *started_at, pod, mine);
    let read = match keys {
        Some(k) => format!("key {}", k.join(", ")),
        None => "its keys".to_string(),
    };
    let (changed, holds) = match change {
        Change::Same => (
            "was rewritten",
            format!(
                "but {read} holds the value it held when the container started (the same vault version, or one with the same value): {holder} holds the same value, unless the SecretProviderClass's objects were edited since"
            ),
        ),
        Change::Changed => ("changed", format!("{holder} holds the old value")),
        Change::Unknown => (
            "was rewritten",
            format!(
                "whether the vault version of {read} changed since is not known: {holder} may hold the old value"
            ),
        ),
    };
    let who = format!("Pod/{}", pod.name);
    let mut f = cx.remedied(
        Code::KVC901,
        who,
        format!(
            "{} of pod {} reads Secret {secret}, which {changed} at {} after the container started at {}: {}",
            what(),
            pod.name,
            glance::time(updated),
            glance::time(*started_at),
            holds
        ),
        vec![
            format!(
                "container {} running since {}",
                container.name,
                glance::time(*started_at)
            ),
            format!("Secret {secret} last written {}", glance::time(updated)),
        ],
    );
    if !mine {
        // Another workload's pod: its own restart.
        f.fix = crate::chain::rules::remedy::restart_pod(cx, pod).into();
    }
    // The container's own start, where it is listed (a sidecar among the init containers).
    f.confirm = format!(
        "kubectl get pod {} -n {} -o jsonpath='{{{}}}'",
        pod.name,
        cx.ns(),
        crate::chain::rules::remedy::container_path(
            ".status",
            container,
            true,
            ".state.running.startedAt"
        )
    )
    .into();
    match change {
        Change::Same => {
            f.severity = Severity::Info;
            f.fix = format!(
                "# nothing to do unless SecretProviderClass {} was edited after the pod started; then: {}",
                cx.spc_name, f.fix
            )
            .into();
        }
        Change::Unknown => f.severity = Severity::Warning,
        Change::Changed => {}
    }
    if change != Change::Same {
        if let Some(r) = super::rollout::replacing(cx, pod) {
            being_replaced(cx, &mut f, &r);
        } else if let Some((kind, name)) = super::rollout::reloader_due(cx, pod, secret, updated) {
            f.severity = Severity::Info;
            f.message = format!(
                "{}; Reloader watches Secret {secret} for {kind} {name}: its rollout is due",
                f.message
            )
            .into();
            f.fix = format!(
                "# nothing to do yet: Reloader rolls {kind} {name} out on this change; follow it: kubectl rollout status {}/{name} -n {}",
                kind.to_ascii_lowercase(),
                cx.ns()
            )
            .into();
        }
    }
    link.findings.push(f);
}

/// A pod whose Deployment is rolling out a newer revision: its old copy goes with it. While
/// the rollout progresses that is an info with nothing to do (a restart would only start the
/// rollout again); stalled, the finding stands and its fix is what keeps the new pods from
/// running.
fn being_replaced(cx: &Ctx, f: &mut crate::chain::model::Finding, r: &super::rollout::Rollout) {
    let ns = cx.ns();
    let status = format!("kubectl rollout status deployment/{} -n {ns}", r.deployment);
    match &r.stalled {
        None => {
            f.severity = Severity::Info;
            f.message = format!(
                "{}; the rollout of Deployment {} to revision {} (ReplicaSet {}, {} of {} new pods running) is replacing this pod",
                f.message, r.deployment, r.revision, r.replica_set, r.ready, r.pods
            )
            .into();
            f.fix = format!(
                "# nothing to do: the rollout in progress replaces this pod; follow it: {status}"
            )
            .into();
        }
        Some((why, show)) => {
            f.message = format!(
                "{}; the rollout of Deployment {} to revision {} that would replace this pod is stalled: {why}",
                f.message, r.deployment, r.revision
            )
            .into();
            f.fix = format!(
                "# another restart would stall the same way: fix what keeps the new pods from running (their own chains say), then the rollout replaces this pod: {show} && {status}"
            )
            .into();
        }
    }
}

/// What became of `keys` (all of the entry's when `None`) since `started`: each key maps
/// through `secretObjects[i].data[]` to the file it is built from, the file to its
/// `parameters.objects` entry (and history index), and that to the version mounted now and
/// the version(s) it pointed to at container start. Any key changed: changed; every key the
/// same: same; else unknown.
fn change_of(
    cx: &Ctx,
    i: usize,
    keys: Option<&[&str]>,
    started: Timestamp,
    pod: &PodObs,
    mine: bool,
) -> Change {
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
        match key_change(cx, &d.object_name, started, pod, mine) {
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

/// [`change_of`] for the key built from mounted file `file`.
fn key_change(cx: &Ctx, file: &str, started: Timestamp, pod: &PodObs, mine: bool) -> Change {
    let (Some(p), Some(st)) = (cx.params.as_deref(), cx.status) else {
        return Change::Unknown;
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
        return Change::Unknown;
    };
    let Some(t) = o.object_type else {
        return Change::Unknown;
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
        return Change::Unknown;
    };
    let vault = p.keyvault_name.as_deref().unwrap_or_default();
    let Some(obj) = cx
        .vault_object(j, vault, t, &o.object_name)
        .and_then(|f| f.state.known())
        .and_then(|s| s.as_ref())
    else {
        return Change::Unknown;
    };
    let Some(now) = obj.version(&mounted.version) else {
        return Change::Unknown;
    };
    // The chain's pod mounts the SPC: its first mount read the vault after the pod was
    // created, so what the container took is what the index pointed to at some moment from
    // then to its start. Any other reader took what the Secret held then, written by some
    // earlier mount (pinned versions aside: not proven either way).
    // With rotation on, the Secret follows the vault's latest version within a poll: what it
    // held at the start was fetched no earlier than two polls before it (the margin FACTS §11
    // gives a working rotation). A reader that does not mount the SPC has no other bound: a
    // Secret deleted and rebuilt since it started (a repaired `delete-mounting-workload`)
    // would otherwise leave "may hold the old value" for good over versions long settled.
    let since = if o.object_version.is_none() {
        let mounted_after = mine.then_some(pod.created_at).flatten();
        mounted_after.max(followed_since(cx, started))
    } else {
        None
    };
    let index = nth.and_then(|n| n.parse::<usize>().ok()).unwrap_or(0);
    let Some(then) = pointed_to(&obj.versions, nth.is_some(), index, since, started, now) else {
        return Change::Unknown;
    };
    // Each candidate value the container may have taken, against the one held now: the same
    // version, or (where the source fingerprints versions) the same value under another
    // version (rotated away and back).
    let same = |v: &ObjectVersion| {
        v.version == now.version || (v.fingerprint.is_some() && v.fingerprint == now.fingerprint)
    };
    if then.iter().all(|v| same(v)) && !then.is_empty() {
        return Change::Same;
    }
    // Not one candidate holds the value held now: the copy is old.
    if then.iter().all(|v| !same(v)) {
        return Change::Changed;
    }
    Change::Unknown
}

/// The earliest moment the Secret's content at `started` can have been fetched from the vault
/// while rotation runs: two poll intervals before it. None with rotation off or not known (a
/// Secret is then rewritten only when it is missing, FACTS §11: it may hold any older value).
fn followed_since(cx: &Ctx, started: Timestamp) -> Option<Timestamp> {
    let csi = cx.cluster().csi_driver.known()?;
    if csi.rotation_enabled.known() != Some(&true) {
        return None;
    }
    let margin = jiff::SignedDuration::try_from(csi.rotation_poll_interval * 2).ok()?;
    started.checked_sub(margin).ok()
}

/// The versions history index `index` (0 = newest; `history`: `objectVersionHistory`, which
/// skips disabled versions, FACTS §5) may have pointed to when the container that `started`
/// took its copy: at any moment from `since` (unknown: any earlier moment) to `started`, and
/// never past the version it points to now (rotation only moves forward). None when the
/// versions' creation times are not all known.
fn pointed_to<'a>(
    versions: &'a [ObjectVersion],
    history: bool,
    index: usize,
    since: Option<Timestamp>,
    started: Timestamp,
    now: &ObjectVersion,
) -> Option<Vec<&'a ObjectVersion>> {
    let listed: Vec<(&ObjectVersion, Timestamp)> = versions
        .iter()
        .filter(|v| !history || v.enabled)
        .map(|v| v.created.map(|c| (v, c)))
        .collect::<Option<_>>()?;
    let limit = now.created?;
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
            && *c <= limit
            && !out.iter().any(|o| o.version == v.version)
        {
            out.push(v);
        }
    }
    Some(out)
}
