//! KVC905: a consumer asks for a key the synced Secret cannot have. The driver writes exactly
//! the keys of `secretObjects[].data[].key` (FACTS §2), so the keys are known from the
//! SecretProviderClass alone (`check -f` sees it too); at run time the kubelet's
//! CreateContainerConfigError is the same symptom, added as evidence (one cause, one finding).

use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::index::Use;
use crate::chain::model::{Link, LinkKind, Severity};
use crate::chain::rules::params;
use crate::snapshot::{ContainerStateObs, EnvSourceObs, PodObs, VolumeSourceObs};

/// The keys synced Secret `secret` gets: those of every SecretProviderClass of the namespace
/// that writes it (two writers, KVC807, each write their own keys).
fn produced_keys<'a>(cx: &Ctx<'a>, secret: &str) -> Vec<&'a str> {
    let mut keys: Vec<&'a str> = Vec::new();
    let writers = cx.ix.secret_writers.get(&(cx.ns(), secret));
    for spc in writers.into_iter().flatten() {
        for so in spc
            .secret_objects
            .iter()
            .filter(|so| so.secret_name == secret)
        {
            keys.extend(so.data.iter().map(|d| d.key.as_str()));
        }
    }
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// KVC905 for consumer `how`, in pod `pod` (the chain's pod, or one that reads the Secret
/// without mounting the SPC: it cannot start either), of synced Secret `secret` (entry `i`).
/// `stuck`: the sync link found that the driver cannot build entry `i` now.
pub(super) fn check(
    cx: &Ctx,
    link: &mut Link,
    i: usize,
    secret: &str,
    pod: &PodObs,
    how: &Use,
    stuck: bool,
) {
    let keys = produced_keys(cx, secret);
    // An entry with no data is the driver's own validation error (sync link): no key to judge.
    // A key still a template placeholder may render to the one asked for: KVC306 says so.
    if keys.is_empty() || keys.iter().any(|k| params::is_placeholder(k)) {
        return;
    }
    // The kubelet reads the Secret as it is: once it exists, its own keys decide (FACTS §11:
    // the driver does not rewrite it at mount, so keys added to secretObjects later are not
    // there). Another SPC writing it too (KVC807) makes its keys follow whichever wrote last:
    // a key one of them makes that the Secret as last written lacks is KVC807's effect.
    // Not yet made, the SPC's keys are what it will have.
    let live = cx.synced_secret(i);
    let has = |k: &str| match live {
        Some(s) => s.data.contains_key(k),
        None => keys.contains(&k),
    };
    let (missing, optional): (Vec<&str>, bool) = match how {
        Use::Env {
            container,
            var,
            key,
            ..
        } => {
            let optional = container.env.iter().any(|e| {
                e.name == *var && matches!(e.source, EnvSourceObs::SecretKey { optional: true, .. })
            });
            (
                vec![*key].into_iter().filter(|k| !has(k)).collect(),
                optional,
            )
        }
        // envFrom takes whatever keys there are; an image pull reads the docker config.
        Use::EnvFrom { .. } | Use::ImagePull => return,
        Use::Volume { volume } => {
            // A secret volume's items, or those of a projected volume's sources that read
            // this Secret: the kubelet looks each key up alike.
            let (items, optional): (Vec<&str>, bool) = match pod
                .volumes
                .iter()
                .find(|v| v.name == *volume)
                .map(|v| &v.source)
            {
                Some(VolumeSourceObs::Secret { keys, optional, .. }) => {
                    (keys.iter().map(|k| k.as_str()).collect(), *optional)
                }
                Some(VolumeSourceObs::Projected { secret_items, .. }) => {
                    let mine = secret_items.iter().filter(|s| s.secret == secret);
                    // Several sources of one Secret: a required one stops the pod.
                    let optional = mine.clone().all(|s| s.optional);
                    let keys = mine
                        .filter(|s| !s.optional || optional)
                        .flat_map(|s| s.keys.iter().map(|k| k.as_str()))
                        .collect();
                    (keys, optional)
                }
                _ => return,
            };
            (items.into_iter().filter(|k| !has(k)).collect(), optional)
        }
    };
    if missing.is_empty() {
        return;
    }
    let two_writers = crate::chain::rules::sync::written_by_others(cx, secret);
    // Keys the SPC makes but the live Secret lacks are the stale Secret's (the sync link's
    // KVC805, or its cause when the driver cannot build the Secret now): the reader follows
    // it. A key the SPC does not make either is the reader's own cause, said as ever.
    let own: Vec<&str> = missing
        .iter()
        .copied()
        .filter(|k| !keys.contains(k))
        .collect();
    let follows_sync = own.is_empty();
    let missing = if follows_sync { missing } else { own };
    let mine = std::ptr::eq(pod, cx.pod);
    let workload = if mine {
        cx.workload
    } else {
        cx.ix.workload_of(pod)
    };
    let owner = match workload {
        Some((k, n)) => format!("{k}/{n}"),
        None if mine => cx.owner_resource(),
        None => format!("Pod/{}", pod.name),
    };
    let has_keys = keys.join(", ");
    let what = super::describe_in(pod, how);
    let consequence = match (how, optional) {
        (_, true) => "it is optional, so the container starts without it",
        (Use::Volume { .. }, false) => "the volume cannot be set up, so the pod does not start",
        (_, false) => "the container cannot start (CreateContainerConfigError)",
    };
    let mut evidence = vec![format!(
        "SecretProviderClass {} secretObjects make Secret {secret} with keys: {has_keys}",
        cx.spc_name
    )];
    // The kubelet's own words, while the container waits on it.
    if !cx.template {
        for c in &pod.containers {
            if let ContainerStateObs::Waiting { reason, message } = &c.state
                && reason == "CreateContainerConfigError"
                && message.contains(&format!("Secret {}/{secret}", cx.ns()))
                && missing
                    .iter()
                    .any(|k| message.contains(&format!("key {k} ")))
            {
                evidence.push(format!("container {} waiting: {reason}: {message}", c.name));
            }
        }
        // A volume's: the kubelet's FailedMount for it.
        if let Use::Volume { volume } = how {
            let events = cx
                .ix
                .pod_events
                .get(&(pod.namespace.as_str(), pod.name.as_str()));
            let about = format!("for volume \"{volume}\" : references non-existent secret key: ");
            for e in events.into_iter().flatten().filter(|e| {
                e.reason == "FailedMount"
                    && (pod.uid.is_empty()
                        || e.involved_uid.is_empty()
                        || e.involved_uid == pod.uid)
                    && e.message
                        .split_once(&about)
                        .is_some_and(|(_, k)| missing.contains(&k.trim()))
            }) {
                evidence.push(format!("FailedMount: {}", e.message));
            }
        }
    }
    // The writers that make the keys the Secret lacks (two writers: not always this SPC).
    let makers = makers_of(cx, secret, &missing);
    let message = match live.filter(|_| follows_sync) {
        Some(s) if two_writers => format!(
            "blocked by Sync: {what} of {owner} asks synced Secret {secret} for key {}, which SecretProviderClass {makers} makes but the Secret as last written lacks (it has {}; more than one SecretProviderClass writes it, KVC807): {consequence}",
            missing.join(", "),
            s.data
                .keys()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Some(s) => format!(
            "blocked by Sync: {what} of {owner} asks synced Secret {secret} for key {}, which SecretProviderClass {} makes ({has_keys}) but the Secret as written lacks (it has {}): {consequence}",
            missing.join(", "),
            cx.spc_name,
            s.data
                .keys()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => format!(
            "{what} of {owner} asks synced Secret {secret} for key {}, which it does not have (SecretProviderClass {} makes only {has_keys}): {consequence}",
            missing.join(", "),
            cx.spc_name
        ),
    };
    // Each pod of a workload asks for the same key: one finding for the workload.
    if link
        .findings
        .iter()
        .any(|f| f.code == Code::KVC905 && f.resource == owner && f.message == message)
    {
        return;
    }
    let mut f = cx.remedied(Code::KVC905, owner.clone(), message, evidence);
    if follows_sync && live.is_some() {
        // Nothing to change in the reader: the key comes with the Secret the driver writes
        // once the sync link's finding is fixed.
        f.follows = Some(LinkKind::Sync);
        f.fix = if two_writers {
            format!("# fix KVC807 (Sync) first: once each Secret has one writer, point this reader at the Secret SecretProviderClass {makers} writes (it makes key {})", missing.join(", "))
        } else if stuck {
            format!("# fix the Sync link's error first: the driver cannot build Secret {secret} now, and key {} comes with the Secret it builds", missing.join(", "))
        } else {
            // An optional key: the container runs without it; env is read at start, a
            // volume's files follow the Secret (FACTS §4).
            let then = match (how, optional) {
                (_, false) => "and the container then starts",
                (Use::Volume { .. }, true) => "and the kubelet then adds it to the volume",
                (_, true) => "which a running container sees only after a restart (env is read at start)",
            };
            format!("# fix KVC805 (Sync) first: Secret {secret} written again has key {}, {then}", missing.join(", "))
        }
        .into();
        if optional {
            f.severity = Severity::Info;
        }
        link.findings.push(f);
        return;
    }
    let what = format!(
        "{what}: ask for a key Secret {secret} has ({has_keys}) instead of {}, or add a secretObjects data entry that makes it",
        missing.join(", ")
    );
    f.fix = if mine {
        crate::chain::rules::remedy::edit_owner(cx, &what)
    } else {
        crate::chain::rules::remedy::edit_pod_owner(cx.ns(), &pod.name, workload, &what)
    }
    .into();
    if optional {
        f.severity = Severity::Info;
    }
    link.findings.push(f);
}

/// The SecretProviderClasses writing synced Secret `secret` that make one of `keys`, joined
/// with " and " (this chain's SPC when none is known to).
fn makers_of(cx: &Ctx, secret: &str, keys: &[&str]) -> String {
    let mut names: Vec<&str> = cx
        .ix
        .secret_writers
        .get(&(cx.ns(), secret))
        .into_iter()
        .flatten()
        .filter(|spc| {
            spc.secret_objects.iter().any(|so| {
                so.secret_name == secret && so.data.iter().any(|d| keys.contains(&d.key.as_str()))
            })
        })
        .map(|spc| spc.name.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    if names.is_empty() {
        return cx.spc_name.to_string();
    }
    names.join(" and ")
}
