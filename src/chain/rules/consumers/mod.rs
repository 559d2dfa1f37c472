//! Consumers link: who reads the synced Secret and whether they see current values. Env vars
//! are a start-time snapshot (FACTS §4): a rotated Secret needs a restart (Reloader, §10).

pub(crate) mod csi_reload;
mod env_readers;
mod no_reloader;
mod reloaded;
mod restarts;
pub(crate) use restarts::{
    chain_secret_annotations, reloader_config, reloader_restarts, reloader_watches,
    secret_annotations, spc_reloader_config, when_it_changes,
};
pub(crate) mod keys;
pub(crate) mod mount_in;
mod namesake;
pub(crate) mod offline;
use crate::reloader;
mod rollout;
pub(crate) mod stale;
mod template_reads;
mod versions;

use super::set;
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::index::Use;
use crate::chain::model::{Fact, Link, Severity, Status};
use crate::snapshot::{EnvSourceObs, PodObs, VolumeSourceObs};

/// `never_built`: the `secretObjects` entries the driver can never build (bit `i` for entry
/// `i`, from the sync link): their consumers wait on that cause, whatever else holds.
///
/// Returns the Consumers summary behind Sync when a container of this pod, not running, waits
/// for a synced Secret that does not exist (the kubelet holds it, FACTS §2, §11: "blocked:
/// Sync"), or started with an optional reference to one unset ([`UNSET_SUMMARY`]): its
/// Consumers link is then drawn behind Sync even beside a design warning
/// ([`super::unstarted::design_behind`]), which `settle` would let decide.
pub(crate) fn check(cx: &mut Ctx, link: &mut Link, never_built: u64) -> Option<&'static str> {
    let Some(spc) = cx.spc else {
        super::no_spc(cx, link);
        return None;
    };
    // A file mounted with subPath holds what the volume held at the container's start.
    stale::csi_sub_paths(cx, link);
    if spc.secret_objects.is_empty() {
        set(link, Status::Ok, "files only");
        namesake::held_readers(cx, spc, link);
        return None;
    }
    let mut env_users = 0usize;
    let mut total = 0usize;
    // The synced Secrets this pod reads through env: a rotation reaches it only by a restart.
    let mut env_secrets: Vec<&str> = Vec::new();
    // A Secret this pod needs that does not exist: its containers cannot start until the
    // sync link's cause is fixed (env: CreateContainerConfigError; volume: FailedMount).
    let secrets_known = cx.snap().secrets.unknown_in(cx.ns()).is_none();
    let mut blocked = false;
    // The missing Secrets it needs, for a running pod's link ([`running_on_start`]), and
    // whether one of them is one the driver cannot build (it waits on that cause).
    let mut missing: Vec<&str> = Vec::new();
    let mut unbuilt = false;
    // The optional env uses of a Secret that does not exist: started with the variables unset.
    let mut unset: Vec<(&str, String)> = Vec::new();
    // The consumers of a scaled-down template's Secrets have chains of their own, whose
    // KVC904 names this workload (one symptom, one finding).
    let parked = crate::chain::orphans::is_parked(cx.pod, cx.workload_object);
    // Readers asking for keys the Secret lacks, told per owner and Secret after the loop.
    let mut asks = Vec::new();
    // Other workloads' pods reading a synced Secret through env, with the Secret: their env
    // is a start-time snapshot too (FACTS §4), restarted or not by their own owner (audit X2).
    let mut other_env: Vec<(&PodObs, &str)> = Vec::new();
    // This pod's env uses by init containers that run to completion, with the Secret: read
    // once at the pod's start, run on by no process of theirs (no restart advice for them; the
    // fact says what they passed on is as old as the pod's start).
    let mut at_init: Vec<(&str, String)> = Vec::new();
    for (i, so) in spc.secret_objects.iter().enumerate() {
        let Some(readers) = cx.consumers_of(i) else {
            continue;
        };
        // Built before the SPC went wrong, a Secret still exists and is read as it is.
        let stuck = i < 64 && never_built & (1 << i) != 0;
        let unbuildable = stuck && cx.synced_secret(i).is_none();
        for c in readers.seen_from(cx.pod) {
            if std::ptr::eq(c.pod, cx.pod) {
                total += 1;
                let absent =
                    unbuildable || (secrets_known && !cx.template && cx.synced_secret(i).is_none());
                if absent && required(cx.pod, &c.how) {
                    blocked = true;
                    unbuilt |= unbuildable;
                    if !missing.contains(&so.secret_name.as_str()) {
                        missing.push(&so.secret_name);
                    }
                } else if absent && super::sync::is_env(&c.how) {
                    unset.push((&so.secret_name, describe(&c.how)));
                }
                // A Secret that never exists neither changes nor rotates: no restart advice,
                // and which keys it lacks is for after the cause is fixed.
                if unbuildable {
                    continue;
                }
                if !absent {
                    keys::check(
                        cx,
                        link,
                        &mut asks,
                        i,
                        &so.secret_name,
                        cx.pod,
                        &c.how,
                        stuck,
                    );
                }
                stale::check(cx, link, i, &so.secret_name, cx.pod, &c.how);
                if env_readers::read_at_init(&c.how) {
                    at_init.push((&so.secret_name, describe(&c.how)));
                } else if super::sync::is_env(&c.how) {
                    env_users += 1;
                    if !env_secrets.contains(&so.secret_name.as_str()) {
                        env_secrets.push(&so.secret_name);
                    }
                }
            } else if !parked {
                not_mounted(cx, link, &so.secret_name, c.pod, &c.how, None);
                // A copy taken at start goes stale, and a key the Secret lacks stops the
                // container, whoever mounts the SPC (FACTS §2, §4). The Secret exists here
                // (KVC903): were it never made (KVC904), its keys would be moot.
                if !unbuildable {
                    keys::check(
                        cx,
                        link,
                        &mut asks,
                        i,
                        &so.secret_name,
                        c.pod,
                        &c.how,
                        stuck,
                    );
                    stale::check(cx, link, i, &so.secret_name, c.pod, &c.how);
                    if super::sync::is_env(&c.how)
                        && !c.pod.retired()
                        && !env_readers::read_at_init(&c.how)
                    {
                        other_env.push((c.pod, &so.secret_name));
                    }
                }
            }
        }
    }
    keys::emit(cx, link, asks);
    // A pod already running read its env at start: a Secret deleted since holds nothing
    // (FACTS §4); only one whose containers were never created waits on it (Pending).
    let waits = blocked && cx.pod.phase != "Running";
    // Why the restart check could not be made (the owner's annotations unread).
    let mut restart_unknown = None;
    // A terminating pod is restarted by nothing and needs no restart: what holds its env is
    // going away with it (its owner may be gone too, so no restart target could be named:
    // audit S1). Nor does a finished one (Succeeded or Failed): its containers have exited
    // and no process holds the value (audit RRR-jobs left a complete Job's KVC902).
    if !env_secrets.is_empty() && !cx.pod.retired() {
        restarts::reloader(cx, link, &env_secrets, &mut restart_unknown);
    }
    env_readers::other_readers(cx, link, &other_env, &mut restart_unknown);
    env_readers::completed_init_readers(link, &at_init);
    // An Ingress serving a Secret the driver has not built has no certificate either.
    let served = |so: &crate::snapshot::SecretObjectSpec| {
        (cx.ix.ingress_tls).contains_key(&(cx.ns(), so.secret_name.as_str()))
    };
    let unserved = secrets_known
        && !cx.template
        && (spc.secret_objects.iter().enumerate())
            .any(|(i, so)| cx.synced_secret(i).is_none() && served(so));
    // Its containers started before the Secret went: they run on what they read then. A
    // Secret the driver cannot build keeps the link behind the Sync cause.
    let started = blocked && !waits && !unserved && !unbuilt;
    if started {
        running_on_start(link, &missing);
    }
    let unset = started_unset(link, &unset);
    // What the link is drawn behind Sync as, beside a design warning ([`design_behind`]).
    let behind = match (waits, unset) {
        (true, _) => Some("blocked: Sync"),
        (false, true) => Some(UNSET_SUMMARY),
        (false, false) => None,
    };
    blocked |= unserved;
    // With Secrets unread, whether an Ingress that serves one has a certificate is unknown,
    // not "no consumers" (audit DDD2).
    let ingress_served = !cx.template && spc.secret_objects.iter().any(served);
    super::note(cx, link, || {
        Fact::new("consumers in this pod", total.to_string())
    });
    let stale_env = env_readers::env_stale_against_mount(cx, link, &env_secrets);
    // Only a warning or an error decides the link's status: an info (a Job's run reads the
    // Secret once, KVC902's note) is no verdict, so with it alone a check a failed read left
    // undone still makes the link unknown, as it does with no finding (audit SSS-real: a
    // Job's Consumers link read "✓ env" where a CronJob's read "? Secret unknown").
    let judged = (link.findings.iter()).any(|f| f.severity > Severity::Info);
    // A link with findings still says which of its checks a failed read left undone: a
    // warning (no Reloader) is no "checked, and only this" (audit DDD3).
    if judged {
        if total > 0
            && let Some(reason) = cx.snap().secrets.unknown_in(cx.ns())
        {
            link.facts.push(Fact::new("unknown", reason));
            link.facts.push(Fact::new(
                "not checked",
                "whether the readers hold the synced Secret's current value (KVC901): the Secret's last write is unread",
            ));
        }
        if let Some((what, why)) = &restart_unknown {
            link.facts.push(Fact::new("unknown", *why));
            link.facts.push(Fact::new("not checked", what.clone()));
        }
    }
    if stale_env {
        return behind;
    }
    if started && link.findings.is_empty() {
        set(link, Status::Warning, "running on start values");
        return behind;
    }
    if blocked && link.findings.is_empty() {
        set(link, Status::Pending, "blocked: Sync");
        return behind;
    }
    if unset && link.findings.is_empty() {
        set(link, Status::Pending, UNSET_SUMMARY);
        return behind;
    }
    // Whether a reader holds the Secret's current value needs the Secret's last write: with
    // Secrets unreadable here, a stale env is as possible as a fresh one.
    if (total > 0 || ingress_served)
        && !judged
        && let Some(reason) = cx.snap().secrets.unknown_in(cx.ns())
    {
        super::unknown(link, "Secret unknown", reason);
        return behind;
    }
    // No reader in this pod, and the Ingresses that may serve its Secrets unread: "none" is
    // not known (audit DDD1).
    if total == 0
        && !judged
        && let Some(reason) = cx.snap().ingresses.unknown_in(cx.ns())
    {
        super::unknown_check(link, "Ingresses unknown", ingress_check(spc), reason);
        return behind;
    }
    if let Some((what, why)) = restart_unknown
        && !judged
    {
        super::unknown_check(link, "restart unknown", what, why);
        return behind;
    }
    // A template diagnosed for the pods it cannot create (not a manifest's, whose readers are
    // its own documents) reads the Secret once a pod of it exists, not now.
    if total == 0
        && cx.template
        && cx.source().kind != crate::snapshot::SourceKind::Manifests
        && (spc.secret_objects.iter()).any(|so| template_reads::reads(cx.pod, &so.secret_name))
    {
        set(link, Status::Pending, "template");
        link.facts.push(Fact::new(
            "runtime",
            "the pod template reads the synced Secret; no pod of it exists to read it yet",
        ));
        return behind;
    }
    set(
        link,
        Status::Ok,
        match (total, env_users) {
            (0, _) => "none",
            (_, 0) if !at_init.is_empty() => "env: init only",
            (_, 0) => "volume",
            _ => "env",
        },
    );
    if let Some(summary) = blocked_start(cx) {
        set(link, Status::Pending, summary);
    }
    behind
}

/// The Consumers summary of a pod whose optional env readers started with the synced Secret
/// missing ([`started_unset`]): behind the Sync link's cause.
pub(crate) const UNSET_SUMMARY: &str = "unset: Sync";

/// The optional env uses (`secretKeyRef.optional`, `envFrom[].secretRef.optional`) of synced
/// Secrets that do not exist, with the Secret each reads: the kubelet starts such a container
/// with the variables unset (Kubernetes docs, "Optional Secrets") and reads env only at
/// container start (FACTS §4), so the Secret made later reaches them only through a restart.
/// Said as a fact of the link, which waits on the Sync link's cause (one cause, no second
/// finding). Returns whether there were any.
fn started_unset(link: &mut Link, unset: &[(&str, String)]) -> bool {
    let mut secrets: Vec<&str> = unset.iter().map(|(s, _)| *s).collect();
    secrets.dedup();
    for secret in &secrets {
        let uses: Vec<&str> = (unset.iter())
            .filter(|(s, _)| s == secret)
            .map(|(_, u)| u.as_str())
            .collect();
        link.facts.push(Fact::new(
            "unset",
            format!(
                "{} read Secret {secret} optionally and it does not exist: the kubelet starts the container with those variables unset, and env is read only at container start, so once the Secret is made they get its values only when the container restarts",
                uses.join(", ")
            ),
        ));
    }
    !secrets.is_empty()
}

/// A running pod whose synced Secrets `missing` are gone (deleted since its containers
/// started): env is read at container start and a running container keeps it (FACTS §4), so
/// nothing holds it now; the driver makes a deleted Secret again at its next reconcile or
/// mount (FACTS §2), and until then a container that (re)starts waits for it as one never
/// started does (CreateContainerConfigError; a new pod's secret volume fails to mount).
fn running_on_start(link: &mut Link, missing: &[&str]) {
    link.facts.push(Fact::new(
        "running",
        format!(
            "its containers started before Secret {} went and keep the values they read then",
            missing.join(", ")
        ),
    ));
    link.facts.push(Fact::new(
        "if restarted",
        "a container (re)started before the driver makes the Secret again waits for it (CreateContainerConfigError), as a new pod does",
    ));
}

/// The check Ingresses unread leave undone: whether one serves a synced Secret of `spc` (it
/// then depends on the mounting pods' owners, KVC803).
pub(crate) fn ingress_check(spc: &crate::snapshot::SpcObs) -> String {
    let names: Vec<&str> = (spc.secret_objects.iter())
        .map(|so| so.secret_name.as_str())
        .collect();
    format!(
        "whether an Ingress serves synced Secret {} (it is then garbage-collected with the mounting pods' owners, KVC803)",
        names.join(", ")
    )
}

/// The kubelet starts no container before every volume of the pod is set up: another volume
/// failing keeps the pod in ContainerCreating although this chain's mount succeeded (KVC108 on
/// the Pod link says so); and it starts no container whose env names a Secret or key that does
/// not exist, or a ConfigMap (KVC109). Nothing here reads the secret: the Consumers link waits,
/// and this is its summary, saying on what (also beside a design warning, KVC902, which holds
/// before the pod starts as after: [`super::unstarted::design_behind`]).
pub(crate) fn blocked_start(cx: &Ctx) -> Option<String> {
    if let Some(volume) = super::other_volume::blocking_volume(cx) {
        Some(format!("blocked: volume {volume}"))
    } else if let Some(secret) =
        (super::env_secrets::blocking_secret(cx)).or_else(|| super::env_secret_typo::blocking(cx))
    {
        Some(format!("blocked: Secret {secret}"))
    } else {
        super::env_config_maps::blocking(cx).map(|c| format!("blocked: ConfigMap {c}"))
    }
}

/// Whether the pod cannot start without the Secret: an `optional` env key, envFrom or secret
/// volume starts without it (the variables unset, the volume empty).
pub(crate) fn required(pod: &PodObs, how: &Use) -> bool {
    match how {
        Use::Env { container, var, .. } => !optional_env(container, var),
        Use::EnvFrom { optional, .. } => !optional,
        // Without it the kubelet pulls anonymously: a private registry refuses the image.
        Use::ImagePull => true,
        Use::Volume { volume } => !pod.volumes.iter().any(|v| {
            v.name == *volume && matches!(v.source, VolumeSourceObs::Secret { optional: true, .. })
        }),
    }
}

/// Whether env var `var` of `container` reads its Secret with `secretKeyRef.optional: true`.
fn optional_env(container: &crate::snapshot::ContainerObs, var: &str) -> bool {
    container.env.iter().any(|e| {
        e.name == var && matches!(e.source, EnvSourceObs::SecretKey { optional: true, .. })
    })
}

/// What a missing Secret does to a required use of it: the kubelet refuses a container whose
/// env names it, cannot set up a secret volume of it, and pulls without an imagePullSecrets
/// entry it cannot find ("attempting to pull the image may not succeed"), which a private
/// registry refuses.
pub(crate) fn missing_stops(how: &Use) -> &'static str {
    match how {
        Use::Env { .. } | Use::EnvFrom { .. } => "CreateContainerConfigError for env",
        Use::Volume { .. } => "FailedMount for a secret volume",
        Use::ImagePull => "ErrImagePull for an image from a private registry, pulled without it",
    }
}

pub(crate) fn describe(how: &Use) -> String {
    match how {
        Use::Env {
            container,
            var,
            key,
        } => {
            format!("container {} env {var} (key {key})", container.name)
        }
        Use::EnvFrom { container, .. } => format!("container {} envFrom", container.name),
        Use::Volume { volume } => format!("volume {volume}"),
        Use::ImagePull => "imagePullSecrets".to_string(),
    }
}

/// [`describe`], naming a projected volume as such (its `secret` source is a consumer too).
pub(crate) fn describe_in(pod: &PodObs, how: &Use) -> String {
    match how {
        Use::Volume { volume }
            if pod.volumes.iter().any(|v| {
                v.name == *volume && matches!(v.source, VolumeSourceObs::Projected { .. })
            }) =>
        {
            format!("projected volume {volume}")
        }
        _ => describe(how),
    }
}

/// KVC903: another workload consumes the synced Secret without mounting the SPC.
/// `nobody`: `Some(exists)` when no pod at all mounts the SPC (the consumer's own orphan
/// chain): a Secret left by earlier mounts goes with its owners, and none is made again.
pub(crate) fn not_mounted(
    cx: &Ctx,
    link: &mut Link,
    secret: &str,
    other: &PodObs,
    how: &Use,
    nobody: Option<bool>,
) {
    let who = match cx.ix.workload_of(other) {
        Some((k, n)) => format!("{k}/{n}"),
        None => format!("Pod/{}", other.name),
    };
    // One finding per workload: each further way it reads the Secret (another container, a
    // projected volume's secret source) is evidence on it.
    let seen = format!("{who}: {}", describe_in(other, how));
    if let Some(f) = link
        .findings
        .iter_mut()
        .find(|f| f.code == Code::KVC903 && f.resource == who)
    {
        if !f.evidence.iter().any(|e| **e == *seen) {
            f.evidence.push(seen.into());
        }
        return;
    }
    // A workload scaled to zero that mounts the SPC keeps the Secret, frozen (audit YY4).
    let parked = if nobody == Some(true) {
        parked_mounters(cx)
    } else {
        Vec::new()
    };
    let finished = if nobody.is_none() {
        finished_mounters(cx)
    } else {
        Vec::new()
    };
    let why = match nobody {
        None if !finished.is_empty() => format!(
            "no pod mounts it now: the pods of {} that mounted it have finished, so the Secret stays as their last mount wrote it, frozen (rotation skips a finished pod's mount), until its owners go",
            finished.join(", ")
        ),
        Some(true) if !parked.is_empty() => format!(
            "no pod mounts it now: {} mounts it but is scaled to zero, so the Secret stays as its last mount wrote it, frozen (no rotation poll reaches a Secret no pod mounts), until its owners go; scaling {} up makes it follow the vault again ({})",
            parked.iter().map(|(w, _)| w.as_str()).collect::<Vec<_>>().join(", "),
            if parked.len() == 1 { "it" } else { "one" },
            parked[0].1
        ),
        Some(true) => "no pod mounts it now: the Secret left by earlier mounts goes with its owners and is not created again".to_string(),
        Some(false) => "no pod mounts it at all, so the driver never creates the Secret (no mount, no Secret)".to_string(),
        None => "the Secret lives while the mounting pods' owners do (a workload scaled to zero keeps it, frozen) and is garbage-collected with them; it is created and kept current only while some pod mounts the SPC".to_string(),
    };
    let mut f = cx.remedied(
        Code::KVC903,
        who.clone(),
        format!(
            "{who} consumes synced Secret {secret} ({}) but none of its pods mount SecretProviderClass {}: {why}",
            describe(how),
            cx.spc_name,
        ),
        vec![seen],
    );
    f.evidence.extend(parked.iter().map(|(w, _)| {
        format!(
            "{w}: replicas 0, its pod template mounts SecretProviderClass {}",
            cx.spc_name
        )
        .into()
    }));
    // The edit of that workload itself: its volume, mount and service account (audit MM4).
    if let Some(fix) = mount_in::fix(
        cx,
        other,
        "its pods then keep the Secret current and alive themselves",
    ) {
        f.fix = fix.into();
        f.show_safely();
    }
    link.findings.push(f);
}

/// The workloads of the chain's namespace scaled to zero whose pod template mounts its SPC,
/// each with the command that scales it up: they keep the synced Secret (their ReplicaSets
/// own it) but no mount keeps it current (FACTS §11, "Owners").
/// The workloads (or bare pods) whose pods mounted the chain's SPC, when every pod that names
/// it has finished (a completed Job's): none mounts it now, and the driver's rotation skips a
/// pod that succeeded or failed ("for jobs that complete aren't gc yet", Secrets Store CSI
/// driver ≤ v1.5 pkg/rotation/reconciler.go; the kubelet tears a finished pod's volumes down,
/// so v1.6 republishes none), so the Secret they made is frozen (audit RRR-facts).
/// Empty while any pod naming it runs or waits, or for a manifest's templates.
fn finished_mounters(cx: &Ctx) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in cx.ix.pods_mounting(cx.ns(), cx.spc_name) {
        if p.template_of.is_some() || !p.retired() {
            return Vec::new();
        }
        let who = match cx.ix.workload_of(p) {
            Some((k, n)) => format!("{k}/{n}"),
            None => format!("Pod/{}", p.name),
        };
        if !out.contains(&who) {
            out.push(who);
        }
    }
    out.sort();
    out
}

fn parked_mounters(cx: &Ctx) -> Vec<(String, String)> {
    let ns = cx.ns();
    let mut out: Vec<(String, String)> = cx
        .snap()
        .workloads
        .items
        .iter()
        .filter(|w| w.namespace == ns && w.replicas == Some(0))
        .filter(|w| {
            w.template
                .as_deref()
                .is_some_and(|t| t.mounts_spc(cx.spc_name))
        })
        .map(|w| {
            (
                format!("{}/{}", w.kind, w.name),
                format!(
                    "kubectl scale {}/{} -n {ns} --replicas=1",
                    w.kind.to_ascii_lowercase(),
                    w.name
                ),
            )
        })
        .collect();
    out.sort();
    out
}
