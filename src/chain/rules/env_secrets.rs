//! KVC109: a container's env names a Secret (secretKeyRef, envFrom secretRef) that does not
//! exist, or a key it lacks, and no SecretProviderClass syncs it. The kubelet refuses to start
//! that container (CreateContainerConfigError: `secret "X" not found`, `couldn't find key K
//! in Secret ns/X`) and, for an init container, every container after it; an `optional`
//! reference starts with the variable unset instead (Kubernetes docs, "Optional Secrets").
//! A Secret a SecretProviderClass syncs is the chain's own business (KVC904, KVC905, the Sync
//! link's cause). Said only when Secrets could be read: unknown is not absent.

use super::set;
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::{Fact, Link, Status};
use crate::snapshot::{ContainerObs, ContainerStateObs, EnvSourceObs};

/// One container's required references to one Secret no SecretProviderClass syncs.
struct Refs<'a> {
    container: &'a ContainerObs,
    secret: &'a str,
    /// `VAR (key k)` per secretKeyRef, `envFrom` for a secretRef.
    uses: Vec<String>,
    /// The keys asked for (secretKeyRef), to compare with an existing Secret's.
    keys: Vec<&'a str>,
    env_from: bool,
}

/// The required env references of the pod's containers that have not started, grouped by
/// container and Secret (a running container took its values; a Secret missing now matters at
/// its next start, which is not this chain's to predict).
fn references<'a>(cx: &Ctx<'a>) -> Vec<Refs<'a>> {
    let mut out: Vec<Refs<'a>> = Vec::new();
    // Most pods run: a container that started took its env, so nothing below is asked (this
    // is read for every chain, twice).
    if cx.template
        || !cx
            .pod
            .containers
            .iter()
            .any(|c| waiting(c) && names_a_secret(c))
    {
        return out;
    }
    // A Secret an SPC syncs is the chain's business; one the pod's SPCs name only as an
    // unrendered template value (`${SECRET_NAME}`) may be it, KVC306 says so.
    if names_unrendered_secret(cx) {
        return out;
    }
    let synced = |s: &str| cx.ix.secret_writers.contains_key(&(cx.ns(), s));
    for c in cx.pod.containers.iter().filter(|c| waiting(c)) {
        let mut add = |secret: &'a str, using: String, key: Option<&'a str>| {
            if synced(secret) {
                return;
            }
            let i = match out
                .iter()
                .position(|r| std::ptr::eq(r.container, c) && r.secret == secret)
            {
                Some(i) => i,
                None => {
                    out.push(Refs {
                        container: c,
                        secret,
                        uses: Vec::new(),
                        keys: Vec::new(),
                        env_from: false,
                    });
                    out.len() - 1
                }
            };
            let r = &mut out[i];
            r.uses.push(using);
            match key {
                Some(k) => r.keys.push(k),
                None => r.env_from = true,
            }
        };
        for (secret, using, key) in required_refs(c) {
            add(secret, using, key);
        }
    }
    out
}

/// How KVC109 names container `c` the kubelet refuses to start, and what else that holds: an
/// init container holds every container after it.
pub(super) fn container_held(c: &ContainerObs) -> (String, &'static str) {
    match c.init {
        true => (
            format!("init container {}", c.name),
            ", and no container after it",
        ),
        false => (format!("container {}", c.name), ""),
    }
}

/// Whether a SecretProviderClass the pod mounts syncs a Secret whose name is still a template
/// placeholder: once rendered it may be the one a container asks for (KVC306 says so).
pub(super) fn names_unrendered_secret(cx: &Ctx) -> bool {
    cx.pod.volumes.iter().any(|v| {
        crate::chain::build::wired_spc(v)
            .and_then(|name| cx.ix.spcs.get(&(cx.ns(), name)))
            .is_some_and(|spc| {
                (spc.secret_objects.iter()).any(|so| super::params::is_placeholder(&so.secret_name))
            })
    })
}

/// `(secret, how, key)` for each reference of `c` the kubelet needs to start it: a
/// secretKeyRef (`env VAR (key k)`, its key) or an envFrom secretRef not marked optional
/// (`envFrom`, no key).
pub(super) fn required_refs(c: &ContainerObs) -> Vec<(&str, String, Option<&str>)> {
    let mut out = Vec::new();
    for e in &c.env {
        if let EnvSourceObs::SecretKey {
            secret,
            key,
            optional: false,
        } = &e.source
        {
            out.push((
                secret.as_str(),
                format!("env {} (key {key})", e.name),
                Some(key.as_str()),
            ));
        }
    }
    for s in (c.env_from_secrets.iter()).filter(|s| !c.env_from_optional.contains(s)) {
        out.push((s.as_str(), "envFrom".to_string(), None));
    }
    out
}

/// Whether `c`'s env names a Secret it requires (a cheap test before the grouping).
fn names_a_secret(c: &ContainerObs) -> bool {
    c.env.iter().any(|e| {
        matches!(
            e.source,
            EnvSourceObs::SecretKey {
                optional: false,
                ..
            }
        )
    }) || c
        .env_from_secrets
        .iter()
        .any(|s| !c.env_from_optional.contains(s))
}

/// Not started (or not observed): running and finished containers took their env already.
/// A container whose env the kubelet resolves, or would at its start. Not one still waiting
/// on its pod (`ContainerCreating`: volumes or sandbox not ready; `PodInitializing`: init
/// containers running): the kubelet reads env only when it creates the container, so a
/// missing Secret is no cause yet, and a failing mount is the one (a Secret the mount would
/// sync may well appear with it).
fn waiting(c: &ContainerObs) -> bool {
    match &c.state {
        ContainerStateObs::Waiting { reason, .. } => {
            !matches!(reason.as_str(), "ContainerCreating" | "PodInitializing")
        }
        ContainerStateObs::Unknown => true,
        _ => false,
    }
}

/// What the kubelet refuses for `r`: the Secret is missing (None for its keys), or the keys
/// it lacks. None when everything it asks for exists.
fn refusal<'a>(cx: &Ctx<'a>, r: &Refs<'a>) -> Option<Vec<&'a str>> {
    match cx.ix.secrets.get(&(cx.ns(), r.secret)) {
        None => Some(Vec::new()),
        Some(s) => {
            let lacks: Vec<&str> = (r.keys.iter().copied())
                .filter(|k| !s.data.contains_key(*k))
                .collect();
            (!lacks.is_empty()).then_some(lacks)
        }
    }
}

/// The Pod link's KVC109 findings, or (Secrets unreadable) what is unknown.
pub(crate) fn check(cx: &Ctx, link: &mut Link) {
    let refs = references(cx);
    if refs.is_empty() {
        return;
    }
    if let Some(reason) = cx.snap().secrets.unknown_in(cx.ns()) {
        unknown(link, &refs, "whether that Secret exists", reason);
        return;
    }
    // With the namespace's SecretProviderClasses unread, "no SPC syncs it" is not known: a
    // Secret made by hand would keep the driver from ever writing it (audit DDD8).
    // A CRD not installed is known: no SPC exists to sync anything.
    if let Some(reason) =
        (cx.snap().spcs.unknown_in(cx.ns())).filter(|r| !crate::snapshot::gaps::is_not_installed(r))
    {
        unknown(
            link,
            &refs,
            "whether a SecretProviderClass syncs that Secret",
            reason,
        );
        return;
    }
    for r in &refs {
        let Some(lacks) = refusal(cx, r) else {
            continue;
        };
        let (who, after) = container_held(r.container);
        let uses = r.uses.join(", ");
        let secret = r.secret;
        let ns = cx.ns();
        // The pod's own SPC mounts the keys asked for: the missing piece is its entry.
        let entry = (lacks.is_empty())
            .then(|| super::env_secret_entry::spc_with_files(cx, &r.keys))
            .flatten();
        let (what, kubelet, edit) = if lacks.is_empty() {
            (
                format!(
                    "names Secret {secret}, which does not exist in namespace {ns} and no SecretProviderClass syncs{}",
                    entry.map_or(String::new(), |spc| super::env_secret_entry::said(
                        spc, &r.keys
                    ))
                ),
                format!("secret \"{secret}\" not found"),
                format!(
                    "{who}: {uses}: create Secret {secret} in namespace {ns} (or name one that exists), or set optional: true if the app runs without it"
                ),
            )
        } else {
            let has: Vec<&str> = cx
                .ix
                .secrets
                .get(&(ns, secret))
                .map(|s| s.data.keys().map(String::as_str).collect())
                .unwrap_or_default();
            (
                format!(
                    "asks Secret {secret} for key {}, which it does not have (it has {})",
                    lacks.join(", "),
                    if has.is_empty() {
                        "none".to_string()
                    } else {
                        has.join(", ")
                    }
                ),
                format!("couldn't find key {} in Secret {ns}/{secret}", lacks[0]),
                format!(
                    "{who}: {uses}: ask for a key Secret {secret} has ({}), or add the key to the Secret, or set optional: true if the app runs without it",
                    has.join(", ")
                ),
            )
        };
        let mut evidence = vec![format!("{who}: {uses}")];
        if let ContainerStateObs::Waiting { reason, message } = &r.container.state
            && !reason.is_empty()
        {
            evidence.push(format!("{who} waiting: {reason}: {message}"));
        }
        let mut f = cx.remedied(
            Code::KVC109,
            cx.owner_resource(),
            format!(
                "{who} ({uses}) {what}: the kubelet refuses to start it (CreateContainerConfigError: {kubelet}){after}"
            ),
            evidence,
        );
        f.fix = match entry {
            Some(spc) => super::env_secret_entry::fix(cx, spc, secret, &r.keys),
            None => crate::chain::rules::remedy::edit_owner(cx, &edit),
        }
        .into();
        f.confirm = format!("kubectl get secret {secret} -n {ns}").into();
        if r.env_from && lacks.is_empty() {
            f.evidence
                .push("envFrom.secretRef.optional is not set".into());
        }
        link.findings.push(f);
    }
}

/// Secrets (or the SPCs that may sync them) cannot be read here: a container the kubelet
/// holds back for a Secret it names is unknown, not missing (nor fine). `unread`: what cannot
/// be told.
fn unknown(link: &mut Link, refs: &[Refs], unread: &str, reason: &str) {
    let held = refs.iter().find(|r| {
        matches!(&r.container.state, ContainerStateObs::Waiting { reason, .. } if reason == "CreateContainerConfigError")
    });
    let Some(r) = held else {
        return;
    };
    if link.status == Status::Ok && link.findings.is_empty() {
        set(link, Status::Unknown, "env Secret unknown");
    }
    link.facts.push(Fact::new(
        "unknown",
        format!(
            "container {} waits (CreateContainerConfigError) and its env names Secret {} ({}); {unread} cannot be read: {reason}",
            r.container.name,
            r.secret,
            r.uses.join(", ")
        ),
    ));
}

/// The Secret that keeps the chain's readers from starting: one a container that reads the
/// chain (mounts its volume, or is an init container every other waits on) names and the
/// kubelet refuses. For the Consumers link's summary.
pub(crate) fn blocking_secret<'a>(cx: &Ctx<'a>) -> Option<&'a str> {
    if cx.snap().secrets.unknown_in(cx.ns()).is_some() {
        return None;
    }
    references(cx)
        .into_iter()
        .filter(|r| reads_chain(cx, r.container))
        .find(|r| refusal(cx, r).is_some())
        .map(|r| r.secret)
}

/// Whether container `c` reads the chain: it mounts the chain's volume, takes env from a
/// Secret the chain's SecretProviderClass syncs, or is an init container every other waits on.
pub(crate) fn reads_chain(cx: &Ctx, c: &ContainerObs) -> bool {
    let synced = |s: &str| {
        cx.spc
            .is_some_and(|spc| spc.secret_objects.iter().any(|so| so.secret_name == s))
    };
    c.init
        || c.mounts.iter().any(|m| m.volume == cx.volume.name)
        || c.env_from_secrets.iter().any(|s| synced(s))
        || c.env
            .iter()
            .any(|e| matches!(&e.source, EnvSourceObs::SecretKey { secret, .. } if synced(secret)))
}
