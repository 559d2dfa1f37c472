//! KVC901: a copy taken at container start (an env var, a file mounted with subPath: FACTS §4)
//! of a synced Secret rewritten since. Whether the copy is old is decided per key: the Secret
//! is rewritten whole when any one of its objects rotates, and a key whose vault object did
//! not change still holds the value the process took.

use super::describe;
use super::versions::{Change, change_of, key_change};
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::index::Use;
use crate::chain::model::{Finding, Link, Severity};
use crate::glance;
use crate::snapshot::{
    ContainerObs, ContainerStateObs, KeyPaths, MountObs, PodObs, VolumeSourceObs,
};

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
            let source = Source::Secret {
                i,
                name: secret,
                keys,
            };
            let what = || describe(how);
            if let Some(f) = stale(cx, source, pod, container, what, "the process", None) {
                link.findings.push(f);
            }
        }
        Use::Volume { volume } => {
            for c in &pod.containers {
                for m in c.mounts.iter().filter(|m| m.volume == *volume) {
                    if let Some(f) = synced_sub_path(cx, i, secret, pod, c, m) {
                        link.findings.push(f);
                    }
                }
            }
        }
    }
}

/// KVC901 for file `m` that container `c` of `pod` mounts with subPath from a Secret volume
/// of synced Secret `secretObjects[i]` (None: no subPath, or the copy is not old).
fn synced_sub_path(
    cx: &Ctx,
    i: usize,
    secret: &str,
    pod: &PodObs,
    c: &ContainerObs,
    m: &MountObs,
) -> Option<Finding> {
    let sub = m.sub_path.as_deref()?;
    let source = pod.volume(&m.volume).map(|v| &v.source);
    let kind = match source {
        Some(VolumeSourceObs::Projected { .. }) => "projected volume",
        _ => "volume",
    };
    // Which key the file holds: without `items` the file's name is its key; with them the
    // item whose path it is (Kubernetes: "Projection of Secret keys to specific paths"); a
    // snapshot that kept no paths leaves every key in question.
    let layout = source.map_or(KeyPaths::Every, |v| v.key_paths(secret));
    let keys: Option<Vec<&str>> = match layout {
        KeyPaths::Every => Some(vec![sub.split('/').next().unwrap_or(sub)]),
        // The item written at that path, or those under it when it names their directory;
        // none: the subPath holds nothing of the Secret.
        KeyPaths::Items(keys, paths) => {
            let dir = format!("{sub}/");
            let held: Vec<&str> = (keys.iter().zip(paths))
                .filter(|(_, p)| p.as_str() == sub || p.starts_with(&dir))
                .map(|(k, _)| k.as_str())
                .collect();
            if held.is_empty() {
                return None;
            }
            Some(held)
        }
        KeyPaths::Unrecorded => None,
    };
    let what = || {
        format!(
            "container {} file {} ({kind} {} with subPath {sub}, which never sees updates)",
            c.name, m.path, m.volume
        )
    };
    let keys = keys.as_deref();
    stale(
        cx,
        Source::Secret {
            i,
            name: secret,
            keys,
        },
        pod,
        c,
        what,
        "the file",
        Some(m),
    )
}

/// KVC901 for file `m` that container `c` of the chain's pod mounts with subPath from the
/// chain's CSI volume: the file is bound as it was when the container started, and the
/// driver's later writes (rotation, FACTS §1, §4) never reach it.
fn csi_sub_path(cx: &Ctx, c: &ContainerObs, m: &MountObs) -> Option<Finding> {
    let sub = m.sub_path.as_deref()?;
    if m.volume != cx.volume.name {
        return None;
    }
    // The mounted file a subPath names is the path's first segment (objectAlias, else
    // objectName; `alias/<i>` with history holds a directory).
    let file = match sub.split_once('/') {
        Some((_, n)) if n.parse::<u32>().is_ok() => sub,
        Some((dir, _)) => dir,
        None => sub,
    };
    let what = || {
        format!(
            "container {} file {} (CSI volume {} with subPath {sub}, which never sees updates)",
            c.name, m.path, m.volume
        )
    };
    stale(
        cx,
        Source::Mounted { file },
        cx.pod,
        c,
        what,
        "the file",
        Some(m),
    )
}

/// The KVC901 that makes the latent KVC102 of subPath mount `m` of container `c` a present
/// fault: the copy is old (error) or may be (warning), and nothing already on its way
/// replaces the pod. One symptom, one cause: the pod link then says nothing of that mount.
pub(crate) fn sub_path_now_stale(cx: &Ctx, c: &ContainerObs, m: &MountObs) -> bool {
    if m.sub_path.is_none() || cx.template {
        return false;
    }
    let f = if m.volume == cx.volume.name {
        csi_sub_path(cx, c, m)
    } else {
        let Some(VolumeSourceObs::Secret { secret_name, .. }) =
            cx.pod.volume(&m.volume).map(|v| &v.source)
        else {
            return false;
        };
        let Some(i) = cx.spc.and_then(|s| {
            s.secret_objects
                .iter()
                .position(|o| o.secret_name == *secret_name)
        }) else {
            return false;
        };
        synced_sub_path(cx, i, secret_name, cx.pod, c, m)
    };
    f.is_some_and(|f| f.severity >= Severity::Warning)
}

/// KVC901 for each subPath file of the chain's CSI volume (the Consumers link of an SPC with
/// or without `secretObjects`: a file is read either way).
pub(super) fn csi_sub_paths(cx: &Ctx, link: &mut Link) {
    if cx.template {
        return;
    }
    for c in &cx.pod.containers {
        for m in &c.mounts {
            if let Some(f) = csi_sub_path(cx, c, m) {
                link.findings.push(f);
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

/// What a copy taken at container start was taken from.
enum Source<'a> {
    /// Synced Secret `secretObjects[i]`, its keys `keys` (None: all of them).
    Secret {
        i: usize,
        name: &'a str,
        keys: Option<&'a [&'a str]>,
    },
    /// Mounted file `file` of the chain's CSI volume.
    Mounted { file: &'a str },
}

/// KVC901 for a copy `container` of `pod` took at start from `source`, when the source was
/// written since. `sub_path`: the subPath mount the copy is (its fix also removes it).
fn stale(
    cx: &Ctx,
    source: Source,
    pod: &PodObs,
    container: &ContainerObs,
    // Described only for a container found holding an old copy: most are not.
    what: impl FnOnce() -> String,
    holder: &str,
    sub_path: Option<&MountObs>,
) -> Option<Finding> {
    let ContainerStateObs::Running { started_at } = &container.state else {
        return None;
    };
    let mine = std::ptr::eq(pod, cx.pod);
    let (updated, change, read, secret, created) = match source {
        Source::Secret { i, name, keys } => {
            // Two SPCs write it (KVC807): its last write says nothing of what this pod took.
            if crate::chain::rules::sync::written_by_others(cx, name) {
                return None;
            }
            let synced = cx.synced_secret(i)?;
            let updated = synced.updated_at?;
            if updated <= *started_at {
                return None;
            }
            let change = change_of(cx, i, keys, *started_at);
            let read = match keys {
                Some(k) => format!("key {}", k.join(", ")),
                None => "its keys".to_string(),
            };
            (updated, (change, None), read, Some(name), synced.created_at)
        }
        Source::Mounted { file } => {
            // The driver's status of this pod's mount, rewritten since the start.
            let st = cx.status.filter(|st| st.earlier_pod(pod).is_none())?;
            let updated = st.updated_at?;
            if !mine || updated <= *started_at {
                return None;
            }
            let (change, versions) = key_change(cx, file, *started_at, pod.created_at);
            (
                updated,
                (change, versions),
                format!("file {file}"),
                None,
                None,
            )
        }
    };
    let (change, versions) = change;
    // What could still have changed a copy whose source holds the same value: an edit of the
    // SPC's objects, and for a synced Secret a value it held before this write. A mounted
    // file is written by the driver alone: no Secret is in its path.
    let (unless, unless_fix) = match secret {
        Some(_) => (
            ", or the Secret held another value before this write (one left from an earlier secretObjects, or written by hand, that rotation has since corrected: a KVC805 before it said so)",
            ", or the Secret held another value when it started (rotation rewrote it since)",
        ),
        None => ("", ""),
    };
    let (changed, holds) = match change {
        Change::Same => (
            "was rewritten",
            format!(
                "but {read} holds the value it held when the container started (the same vault version, or one with the same value): {holder} holds the same value, unless the SecretProviderClass's objects were edited since{unless}"
            ),
        ),
        Change::Changed => (
            "changed",
            match &versions {
                Some(v) => format!(
                    "{holder} holds the old value (version {} then, version {} mounted now)",
                    v.then.join(" or "),
                    v.now
                ),
                None => format!("{holder} holds the old value"),
            },
        ),
        Change::Unknown => (
            "was rewritten",
            format!(
                "whether the vault version of {read} changed since is not known: {holder} may hold the old value"
            ),
        ),
    };
    let who = format!("Pod/{}", pod.name);
    let (whose, seen) = match secret {
        Some(secret) => (
            format!("reads Secret {secret}, which"),
            format!("Secret {secret} last written {}", glance::time(updated)),
        ),
        None => (
            format!(
                "is a copy of {read} of SecretProviderClass {}, whose mount",
                cx.spc_name
            ),
            format!(
                "SecretProviderClassPodStatus of pod {} updated {}",
                pod.name,
                glance::time(updated)
            ),
        ),
    };
    let mut f = cx.remedied(
        Code::KVC901,
        who,
        format!(
            "{} of pod {} {whose} {changed} at {} after the container started at {}: {}",
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
            seen,
        ],
    );
    if !mine {
        // Another workload's pod: its own restart.
        f.fix = crate::chain::rules::remedy::restart_pod(cx, pod).into();
    } else if let Some(m) = sub_path {
        // The restart brings the current value; the next rotation would leave it behind
        // again while the subPath stays (KVC102, said here rather than beside it).
        // The restart's note (a DaemonSet's rollout, an OnDelete pod…) goes after both.
        let edit = crate::chain::rules::remedy::mount_as_directory(cx, &container.name, m);
        f.fix = crate::chain::rules::remedy::in_turn(&[&f.fix, &edit]).into();
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
                "# nothing to do unless SecretProviderClass {} was edited after the pod started{unless_fix}; then: {}",
                cx.spc_name, f.fix
            )
            .into();
        }
        Change::Unknown => f.severity = Severity::Warning,
        Change::Changed => {}
    }
    // A rollout in progress says most (whose revision replaces the pod); else a pod being
    // deleted takes its old copy with it.
    let replacing = (change != Change::Same)
        .then(|| super::rollout::replacing(cx, pod))
        .flatten();
    if let Some(r) = replacing {
        being_replaced(cx, &mut f, &r);
    } else if pod.deleting {
        going_with_pod(cx, &mut f, pod, change);
    } else if change != Change::Same
        && let Some(secret) = secret
        && let Some(reloader) = super::rollout::reloader_due(cx, pod, secret, updated, created)
    {
        let (kind, name) = match reloader {
            super::rollout::Reloader::Due(kind, name) => (kind, name),
            // Past its reaction time with no rollout: the annotation acted on nothing. The
            // finding and its restart stand; where to look for Reloader is said.
            super::rollout::Reloader::Missed(kind, name) => {
                f.message = format!(
                    "{}; Reloader's annotations ask it to roll out {kind} {name} when Secret {secret} changes, yet no rollout followed this write: Stakater Reloader is not running, or does not watch namespace {}",
                    f.message,
                    cx.ns()
                )
                .into();
                f.confirm = format!(
                    "{} && kubectl get deployments -A | grep -i reloader",
                    f.confirm
                )
                .into();
                return Some(f);
            }
            // No Reloader acts on the annotation (KVC902 says what to run): the finding and
            // its restart stand.
            super::rollout::Reloader::Absent(kind, name, why) => {
                f.message = format!(
                    "{}; Reloader's annotations ask it to roll out {kind} {name} when Secret {secret} changes, but no Reloader acts on them: {why}",
                    f.message
                )
                .into();
                return Some(f);
            }
            // A re-created Secret: no rollout comes, the finding and its restart stand.
            super::rollout::Reloader::Created(kind, name) => {
                f.message = format!(
                    "{}; Reloader watches Secret {secret} for {kind} {name}, but this write created the Secret, and Reloader rolls out on creates only with --reload-on-create (default false): no rollout comes",
                    f.message
                )
                .into();
                return Some(f);
            }
        };
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
    Some(f)
}

/// A pod being deleted: the kubelet stops its containers within the grace period and its
/// controller (if any) makes a replacement that reads the Secret as it is now (FACTS §4: a
/// restart is what a start-time copy needs, and this one is under way). Its old copy goes
/// with it: an info with nothing to do, never a restart of the workload's other pods
/// (audit II4). How long it has been terminating is not read.
///
/// What goes with it is said as the copy was judged: an old value only when the copy is old,
/// one it may hold when that is not known, nothing old when it holds the current value
/// (audit JJ3).
fn going_with_pod(cx: &Ctx, f: &mut Finding, pod: &PodObs, change: Change) {
    let replaced = if pod.owners.is_empty() {
        ""
    } else {
        ", and its controller's replacement reads the Secret as it is now"
    };
    let goes = match change {
        Change::Changed => ": the old value goes with it",
        Change::Unknown => ": the old value it may hold goes with it",
        Change::Same => "",
    };
    f.severity = Severity::Info;
    f.message = format!(
        "{}; pod {} is being deleted{goes}{replaced}",
        f.message, pod.name
    )
    .into();
    f.fix = format!(
        "# nothing to do: pod {} is being deleted; follow it: kubectl get pod {} -n {} -w",
        pod.name,
        pod.name,
        cx.ns()
    )
    .into();
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
