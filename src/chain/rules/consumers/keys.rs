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
/// that writes it (two writers, KVC807, each write their own keys). `None` when there is no
/// key to judge: an entry with no data is the driver's own validation error (sync link), and
/// a key still a template placeholder may render to the one asked for (KVC306 says so).
/// Replicas share it through their SPC's side ([`Ctx::judged_keys`]).
pub(crate) fn produced_keys<'a>(
    ix: &crate::chain::index::Index<'a>,
    ns: &str,
    secret: &str,
) -> Option<Vec<&'a str>> {
    let mut keys: Vec<&'a str> = Vec::new();
    let writers = ix.secret_writers.get(&(ns, secret));
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
    if keys.is_empty() || keys.iter().any(|k| params::is_placeholder(k)) {
        return None;
    }
    Some(keys)
}

/// KVC905 for consumer `how`, in pod `pod` (the chain's pod, or one that reads the Secret
/// without mounting the SPC: it cannot start either), of synced Secret `secret` (entry `i`).
/// `stuck`: the sync link found that the driver cannot build entry `i` now.
#[allow(clippy::too_many_arguments)] // one reader's facts, and where its finding goes
pub(super) fn check<'a>(
    cx: &Ctx<'a>,
    link: &mut Link,
    asks: &mut Vec<Ask<'a>>,
    i: usize,
    secret: &'a str,
    pod: &'a PodObs,
    how: &Use<'a>,
    stuck: bool,
) {
    let Some(keys) = cx.judged_keys(i, secret) else {
        return;
    };
    let keys: &[&str] = &keys;
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
                    && crate::chain::chain_events::about_pod(pod, e)
                    && e.message
                        .split_once(&about)
                        .is_some_and(|(_, k)| missing.contains(&k.trim()))
            }) {
                evidence.push(format!("FailedMount: {}", e.message));
            }
        }
    }
    // The reader's own cause (a key no SPC makes, or a Secret not made yet): gathered, so
    // every reader of the owner that asks the Secret for a key it lacks is told in one
    // finding (`emit`).
    let Some(s) = live.filter(|_| follows_sync) else {
        asks.push(Ask {
            owner,
            secret,
            pod,
            mine,
            workload,
            what,
            missing,
            optional,
            consequence,
            has_keys,
            evidence,
        });
        return;
    };
    // The writers that make the keys the Secret lacks (two writers: not always this SPC).
    let makers = makers_of(cx, secret, &missing);
    let has = s
        .data
        .keys()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    // An empty Secret (one made by someone else, or by an entry of no data) has no keys to list.
    let has = if has.is_empty() {
        "no keys".to_string()
    } else {
        has
    };
    let message = if two_writers {
        format!(
            "blocked by Sync: {what} of {owner} asks synced Secret {secret} for key {}, which SecretProviderClass {makers} makes but the Secret as last written lacks (it has {has}; more than one secretObjects entry writes it, KVC807): {consequence}",
            missing.join(", "),
        )
    } else {
        format!(
            "blocked by Sync: {what} of {owner} asks synced Secret {secret} for key {}, which SecretProviderClass {} makes ({has_keys}) but the Secret as written lacks (it has {has}): {consequence}",
            missing.join(", "),
            cx.spc_name,
        )
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
    // Nothing to change in the reader: the key comes with the Secret the driver writes
    // once the sync link's finding is fixed.
    f.follows = Some(LinkKind::Sync);
    f.fix = if two_writers && crate::chain::rules::sync::written_by_twin_entries_only(cx, secret) {
        // Entries of one SPC naming the Secret twice (FF6): merged, the Secret has every key.
        format!("# fix KVC807 (Sync) first: once the secretObjects entries of SecretProviderClass {makers} that name Secret {secret} are one, the Secret has key {} and this reader needs no change", missing.join(", "))
    } else if two_writers {
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
}

/// One reader asking a synced Secret for keys it does not have (its own cause).
pub(super) struct Ask<'a> {
    owner: String,
    secret: &'a str,
    pod: &'a PodObs,
    mine: bool,
    workload: Option<(&'a str, &'a str)>,
    what: String,
    missing: Vec<&'a str>,
    optional: bool,
    consequence: &'static str,
    has_keys: String,
    evidence: Vec<String>,
}

/// KVC905 for the readers gathered by [`check`]: one finding per owner and Secret, naming
/// every reader and key (audit A17-11: several containers or volumes of one workload asking
/// for missing keys were several findings, the chain's root cause naming only the first).
pub(super) fn emit(cx: &Ctx, link: &mut Link, asks: Vec<Ask>) {
    let mut groups: Vec<Vec<Ask>> = Vec::new();
    for a in asks {
        match groups
            .iter_mut()
            .find(|g| g[0].owner == a.owner && g[0].secret == a.secret)
        {
            Some(g) => g.push(a),
            None => groups.push(vec![a]),
        }
    }
    for g in groups {
        let first = &g[0];
        let secret = first.secret;
        let has_keys = &first.has_keys;
        let owner = &first.owner;
        let message = match g.as_slice() {
            [a] => format!(
                "{} of {owner} asks synced Secret {secret} for key {}, which it does not have (SecretProviderClass {} makes only {has_keys}): {}",
                a.what,
                a.missing.join(", "),
                cx.spc_name,
                a.consequence
            ),
            _ => format!(
                "{owner} asks synced Secret {secret} for keys it does not have (SecretProviderClass {} makes only {has_keys}): {}",
                cx.spc_name,
                g.iter()
                    .map(|a| format!(
                        "{} asks for {} — {}",
                        a.what,
                        a.missing.join(", "),
                        a.consequence
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        };
        // Each pod of a workload asks for the same keys: one finding for the workload.
        if link
            .findings
            .iter()
            .any(|f| f.code == Code::KVC905 && f.resource == *owner && f.message == message)
        {
            continue;
        }
        let mut evidence: Vec<String> = Vec::new();
        for a in &g {
            if g.len() > 1 {
                evidence.push(format!("{}: key {}", a.what, a.missing.join(", ")));
            }
            for e in &a.evidence {
                if !evidence.contains(e) {
                    evidence.push(e.clone());
                }
            }
        }
        // The SPC's keys first, as for one reader.
        if let Some(at) = evidence
            .iter()
            .position(|e| e.starts_with("SecretProviderClass "))
        {
            let spc = evidence.remove(at);
            evidence.insert(0, spc);
        }
        let mut f = cx.remedied(Code::KVC905, owner.clone(), message, evidence);
        let edits = g
            .iter()
            .map(|a| {
                format!(
                    "{}: ask for a key Secret {secret} has ({has_keys}) instead of {}",
                    a.what,
                    a.missing.join(", ")
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        let what = if g.len() > 1 {
            format!("{edits}; or add secretObjects data entries that make them")
        } else {
            format!("{edits}, or add a secretObjects data entry that makes it")
        };
        f.fix = if first.mine {
            crate::chain::rules::remedy::edit_owner(cx, &what)
        } else {
            crate::chain::rules::remedy::edit_pod_owner(cx, first.pod, first.workload, &what)
        }
        .into();
        // Info only when every reader can start without its key.
        if g.iter().all(|a| a.optional) {
            f.severity = Severity::Info;
        }
        link.findings.push(f);
    }
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
