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
    let Some(list) = ix
        .pod_events
        .get(&(pod.namespace.as_str(), pod.name.as_str()))
    else {
        return Vec::new();
    };
    list.iter()
        .filter(|e| pod.uid.is_empty() || e.involved_uid.is_empty() || e.involved_uid == pod.uid)
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
        .map(|e| (classify(e), *e))
        .collect()
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
            .any(|e| pod.uid.is_empty() || e.involved_uid.is_empty() || e.involved_uid == pod.uid)
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
