//! Which of a pod's events concern one of its chains: the mount/sync events about that
//! volume and SecretProviderClass (or, for a template, why its pods could not be created).

use super::catalog::Code;
use super::events;
use super::index::Index;
use crate::snapshot::*;

/// Mount/sync events about this pod that concern this volume, each with what `classify`
/// makes of it ([`events::classify_event`]).
pub(super) fn chain_events<'a>(
    ix: &Index<'a>,
    pod: &PodObs,
    volume: &VolumeObs,
    spc_name: &str,
    mut classify: impl FnMut(&'a EventObs) -> Option<Code>,
) -> Vec<(Option<Code>, &'a EventObs)> {
    if let Some(t) = &pod.template_of {
        // A template's only runtime evidence: why its pods could not be created.
        return ix
            .failed_creates_of(&pod.namespace, &t.kind, &t.name)
            .into_iter()
            .map(|e| (classify(e), e))
            .collect();
    }
    let shared = shared_sync_failures(ix, pod, spc_name);
    let Some(list) = ix
        .pod_events
        .get(&(pod.namespace.as_str(), pod.name.as_str()))
    else {
        return shared.into_iter().map(|e| (classify(e), e)).collect();
    };
    let own = list
        .iter()
        .filter(|e| about_pod(pod, e))
        .filter(|e| events::volume_of(&e.message).is_none_or(|v| v == volume.name))
        // The kubelet's follow-up lists the volumes still unmounted: one that lists only
        // others is theirs (`rules::other_volume`), not this chain's.
        .filter(|e| {
            let listed = events::unmounted_volumes(&e.message);
            listed.is_empty() || listed.contains(&volume.name.as_str())
        })
        .filter(|e| {
            // Driver sync events name the SPC (`spc <ns>/<name>`): keep only ours.
            spc_named_in(&e.message, &pod.namespace).is_none_or(|name| name == spc_name)
        })
        .filter(|e| ours_among_spcs(ix, pod, volume, spc_name, e, list))
        .copied();
    own.chain(shared).map(|e| (classify(e), e)).collect()
}

/// The driver's `FailedToCreateSecret` events naming a Secret that SecretProviderClass `spc`
/// syncs, recorded on the other live pods that mount it, for the chain of `pod` when it has
/// the SPC mounted. The driver records the event on the one pod it reconciled, but the synced
/// Secret is the SPC's, one for every pod that mounts it (FACTS §2, §3): whatever the
/// message's shape (RBAC refused, a file not mounted, a TLS key missing), every such chain
/// reads it, so they tell one story of the Secret, not a cause on one chain and "no event
/// says why" on the others (README "one finding for every pod"; audit RR3, UU3). An event
/// that names no Secret stays with its pod (`driver_failures_of` shares the RBAC one).
fn shared_sync_failures<'a>(ix: &Index<'a>, pod: &PodObs, spc: &str) -> Vec<&'a EventObs> {
    let ns = pod.namespace.as_str();
    if !ix.sync_failure_namespaces.contains(ns) {
        return Vec::new();
    }
    let mounted =
        |p: &PodObs| (ix.spcps.get(&(ns, p.name.as_str(), spc))).is_some_and(|st| st.mounted);
    if pod.retired() || !mounted(pod) {
        return Vec::new();
    }
    let Some(obs) = ix.spcs.get(&(ns, spc)) else {
        return Vec::new();
    };
    let failures = |p: &'a PodObs| -> Vec<&'a EventObs> {
        sync_failures_on(ix, p)
            .filter(|e| spc_named_in(&e.message, ns).is_none_or(|n| n == spc))
            .filter(|e| {
                events::secret_name(&e.message).is_some_and(|named| {
                    (obs.secret_objects.iter()).any(|so| so.secret_name.trim() == named)
                })
            })
            .collect()
    };
    // The pods of every SPC that syncs one of this SPC's Secrets: an event naming the Secret
    // and no SPC (the API server refused the write) is the Secret's, whichever writer's pod
    // the driver was reconciling (audit UU4); one naming its SPC is kept to that SPC above.
    let mut positions: Vec<u32> = ix.mounting_positions(ns, spc).to_vec();
    for so in &obs.secret_objects {
        let writers = ix.secret_writers.get(&(ns, so.secret_name.trim()));
        for w in writers.into_iter().flatten().filter(|w| w.name != spc) {
            positions.extend_from_slice(ix.mounting_positions(ns, &w.name));
        }
    }
    positions.sort_unstable();
    positions.dedup();
    let key = ("named sync failures", format!("{ns}/{spc}"));
    held_by_others(ix, key, &positions, pod, failures)
}

/// The events `failures` finds on the pods at `positions` (in `snap.pods`) that are not
/// retired, but `except`'s: which pods hold one, and which of their events (positions in the
/// pod's own list, `Index::pod_events`), is worked out once per pass under `key`, as every
/// chain of a Secret's SPC asks (each of n replicas scanning the others, or parsing their
/// events again, would make a mass failure quadratic in its parses).
fn held_by_others<'a>(
    ix: &Index<'a>,
    (what, key): (&'static str, String),
    positions: &[u32],
    except: &PodObs,
    failures: impl Fn(&'a PodObs) -> Vec<&'a EventObs>,
) -> Vec<&'a EventObs> {
    let pods = &ix.snap.pods.items;
    let events_of = |p: &'a PodObs| ix.pod_events.get(&(p.namespace.as_str(), p.name.as_str()));
    // Pairs (pod's position, event's position in its list), flat.
    let held = ix.memo_positions(what, key, || {
        let mut pairs = Vec::new();
        for &i in positions {
            let Some(p) = pods.get(i as usize).filter(|p| !p.retired()) else {
                continue;
            };
            let (Some(list), found) = (events_of(p), failures(p)) else {
                continue;
            };
            for e in found {
                if let Some(k) = list.iter().position(|x| std::ptr::eq(*x, e)) {
                    pairs.extend([i, u32::try_from(k).unwrap_or(u32::MAX)]);
                }
            }
        }
        pairs
    });
    let mut out = Vec::new();
    for pair in held.chunks_exact(2) {
        let Some(p) = pods
            .get(pair[0] as usize)
            .filter(|p| !std::ptr::eq(*p, except))
        else {
            continue;
        };
        out.extend(
            events_of(p)
                .and_then(|list| list.get(pair[1] as usize))
                .copied(),
        );
    }
    out
}

/// Whether an event that names neither a volume nor an SPC belongs to this chain when the pod
/// mounts several SecretProviderClasses. The ≤v1.5 rotation events are recorded on the Pod and
/// `MountRotationFailed` reads `provider mount err: …` with no volume or SPC tag (FACTS §3);
/// the provider error inside names the object (`objectName:<n>`) and the vault's host
/// (`GET https://<vault>.vault.azure.net/…`, FACTS §5). Such an event is the SPC's whose vault
/// and objects it names: another SPC's failure is no finding on this chain (audit X1). One
/// that names none of the pod's SPCs cannot be tied to one; this chain does not take it as
/// its own failure when its own rotation succeeded at or after it (a `MountRotationComplete`
/// tagged with its SPC, a `SecretRotationComplete` naming one of its Secrets: FACTS §11
/// Evidence ages).
fn ours_among_spcs(
    ix: &Index<'_>,
    pod: &PodObs,
    volume: &VolumeObs,
    spc_name: &str,
    e: &EventObs,
    list: &[&EventObs],
) -> bool {
    let spc_volumes: Vec<(&VolumeObs, &str)> = pod
        .volumes
        .iter()
        .filter_map(|v| match &v.source {
            VolumeSourceObs::Csi { attributes, .. } => attributes
                .get(crate::chain::index::SPC_ATTRIBUTE)
                .map(|s| (v, s.as_str())),
            _ => None,
        })
        .collect();
    if spc_volumes.len() < 2 {
        return true;
    }
    let vault = events::vault_named(&e.message);
    let object = events::object_name(&e.message);
    let names = |v: &VolumeObs, spc: &str| -> bool {
        if vault.is_none() && object.is_none() {
            return false;
        }
        let VolumeSourceObs::Csi { attributes, .. } = &v.source else {
            return false;
        };
        let Some(obs) = ix.spcs.get(&(pod.namespace.as_str(), spc)) else {
            return false;
        };
        let params = obs.merged(attributes);
        let vault_ok = vault.is_none_or(|n| {
            (params.keyvault_name.as_deref()).is_some_and(|k| k.trim().eq_ignore_ascii_case(n))
        });
        let object_ok =
            object.is_none_or(|n| params.objects.iter().any(|o| o.object_name.trim() == n));
        vault_ok && object_ok
    };
    let owners: Vec<&VolumeObs> = (spc_volumes.iter())
        .filter(|(v, spc)| names(v, spc))
        .map(|(v, _)| *v)
        .collect();
    if !owners.is_empty() {
        return owners.iter().any(|v| v.name == volume.name);
    }
    if !matches!(
        e.reason.as_str(),
        "MountRotationFailed" | "SecretRotationFailed"
    ) {
        return true;
    }
    // Unattributed: this chain's own success at or after it says it is not this chain's.
    let secrets: Vec<&str> = (ix.spcs.get(&(pod.namespace.as_str(), spc_name)))
        .map(|s| {
            (s.secret_objects.iter())
                .map(|o| o.secret_name.as_str())
                .collect()
        })
        .unwrap_or_default();
    let own_success = |s: &EventObs| match s.reason.as_str() {
        "MountRotationComplete" => spc_named_in(&s.message, &pod.namespace) == Some(spc_name),
        "SecretRotationComplete" => (s.message)
            .strip_prefix("successfully rotated K8s secret ")
            .is_some_and(|n| secrets.contains(&n.trim())),
        _ => false,
    };
    !list.iter().any(|s| {
        own_success(s) && matches!((s.last_seen, e.last_seen), (Some(ok), Some(bad)) if ok >= bad)
    })
}

/// Whether any mount or sync event is about `pod` (this pod, not an earlier one of its name),
/// whatever volume it names. The scheduler's FailedScheduling is not: once the pod is on a
/// node it is history and says nothing of the mount (README "Events are history").
pub(crate) fn pod_has_mount_events(ix: &Index<'_>, pod: &PodObs) -> bool {
    (ix.pod_events
        .get(&(pod.namespace.as_str(), pod.name.as_str())))
    .is_some_and(|list| {
        list.iter()
            .filter(|e| e.reason != "FailedScheduling")
            .any(|e| about_pod(pod, e))
    })
}

/// Whether an event recorded on `pod`'s name is about this pod, not an earlier one of its
/// name: its `involvedObject.uid` is the pod's (or either is not known). One that carries no
/// uid and was last seen before this pod was created is an earlier pod's (a StatefulSet's
/// replica, a bare pod re-created): at most history, never its current failure (README
/// "Events are history"; FACTS §11 "Evidence ages"; audit RR4). A uid that matches is the
/// pod's whatever the times say (clocks may be skewed).
pub(crate) fn about_pod(pod: &PodObs, e: &EventObs) -> bool {
    if pod.uid.is_empty() || e.involved_uid.is_empty() {
        let before =
            matches!((e.last_seen, pod.created_at), (Some(seen), Some(born)) if seen < born);
        return !(e.involved_uid.is_empty() && before);
    }
    e.involved_uid == pod.uid
}

/// The driver's `FailedToCreateSecret` events (KVC806: the driver may not, or could not,
/// write it) about synced Secret `secret`, recorded on the pods of `ns` other than
/// `except` that mount SecretProviderClass `spc` and are not retired. The driver records
/// them on the pod it reconciled, but the Secret is the SPC's, one for all its pods (FACTS
/// §2, §3): each chain that syncs it reads them (audit RR3). Which pods hold one is worked out
/// once per pass.
pub(crate) fn driver_failures_of<'a>(
    ix: &Index<'a>,
    ns: &str,
    spc: &str,
    secret: &str,
    except: &PodObs,
) -> Vec<&'a EventObs> {
    let failures = |p: &'a PodObs| -> Vec<&'a EventObs> {
        sync_failures_on(ix, p)
            // One that names no Secret (the backoff error, FACTS §3) is of the pod's SPC: of
            // this one when the pod mounts no other.
            .filter(|e| match events::secret_name(&e.message) {
                Some(named) => named == secret,
                None => only_spc(p, spc),
            })
            .filter(|e| events::classify_event(&e.reason, &e.message) == Some(Code::KVC806))
            .collect()
    };
    let key = ("driver failures", format!("{ns}/{spc}/{secret}"));
    held_by_others(ix, key, ix.mounting_positions(ns, spc), except, failures)
}

/// The driver's `FailedToCreateSecret` warnings recorded on `p` (not on an earlier pod of its
/// name): what both lookups above filter further.
fn sync_failures_on<'i, 'a: 'i>(
    ix: &'i Index<'a>,
    p: &'a PodObs,
) -> impl Iterator<Item = &'a EventObs> + 'i {
    (ix.pod_events.get(&(p.namespace.as_str(), p.name.as_str())))
        .into_iter()
        .flatten()
        .copied()
        .filter(|e| e.reason == "FailedToCreateSecret" && e.type_ != "Normal")
        .filter(move |e| about_pod(p, e))
}

/// Whether every SecretProviderClass `pod`'s CSI volumes name is `spc`.
fn only_spc(pod: &PodObs, spc: &str) -> bool {
    pod.volumes.iter().all(|v| match &v.source {
        VolumeSourceObs::Csi { attributes, .. } => attributes
            .get(crate::chain::index::SPC_ATTRIBUTE)
            .is_none_or(|s| s == spc),
        _ => true,
    })
}

/// The SPC name after the first `spc <ns>/` in a driver message, without building the tag.
fn spc_named_in<'m>(message: &'m str, ns: &str) -> Option<&'m str> {
    // "spc " cannot overlap itself, so its matches are all the places the tag can start.
    let tag = events::phrase!("spc ");
    tag.find_iter(message.as_bytes()).find_map(|i| {
        let rest = message[i + 4..].strip_prefix(ns)?.strip_prefix('/')?;
        rest.split([' ', ',', ':']).next()
    })
}
