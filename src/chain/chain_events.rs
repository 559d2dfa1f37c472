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
    let positions = || {
        let mut positions: Vec<u32> = ix.mounting_positions(ns, spc).to_vec();
        for so in &obs.secret_objects {
            let writers = ix.secret_writers.get(&(ns, so.secret_name.trim()));
            for w in writers.into_iter().flatten().filter(|w| w.name != spc) {
                positions.extend_from_slice(ix.mounting_positions(ns, &w.name));
            }
        }
        positions.sort_unstable();
        positions.dedup();
        positions.into()
    };
    let key = ("named sync failures", format!("{ns}/{spc}"));
    held_by_others(ix, key, positions, pod, failures)
}

/// The events `failures` finds on the pods at `positions()` (in `snap.pods`) that are not
/// retired, but `except`'s, one of each kind: which pods hold one, and which of their events,
/// is worked out once per pass under `key`, as every chain of a Secret's SPC asks (each of n
/// replicas scanning the others, or parsing their events again, would make a mass failure
/// quadratic in its parses).
///
/// Events that read alike (reason, type, message, count, source: all a chain's evidence line
/// says of one) are one story told on several pods: a chain reads the newest of them not on
/// its own pod (one without a time counts as newest: it is never history), in the order the
/// first of them not on its pod came. The others would only add the same line again (the
/// evidence is a set of lines) or a history line for an older copy of a failure a newer copy
/// keeps current; reading each made a chain's fold linear in the replicas and a pass
/// quadratic (2,000 replicas waiting on one Secret: 458.6 ms a pass).
fn held_by_others<'a, 'p>(
    ix: &Index<'a>,
    (what, key): (&'static str, String),
    positions: impl FnOnce() -> std::borrow::Cow<'p, [u32]>,
    except: &PodObs,
    failures: impl Fn(&'a PodObs) -> Vec<&'a EventObs>,
) -> Vec<&'a EventObs> {
    let pods = &ix.snap.pods.items;
    let events_of = |p: &'a PodObs| ix.pod_events.get(&(p.namespace.as_str(), p.name.as_str()));
    let kinds = ix.memo_positions(what, key, || {
        let mut kinds = EventKinds::default();
        for &i in positions().iter() {
            let Some(p) = pods.get(i as usize).filter(|p| !p.retired()) else {
                continue;
            };
            let (Some(list), found) = (events_of(p), failures(p)) else {
                continue;
            };
            for e in found {
                if let Some(k) = list.iter().position(|x| std::ptr::eq(*x, e)) {
                    kinds.add(i, u32::try_from(k).unwrap_or(u32::MAX), e);
                }
            }
        }
        kinds.flat()
    });
    let not_except = |p: u32| {
        !pods
            .get(p as usize)
            .is_some_and(|p| std::ptr::eq(p, except))
    };
    (EventKinds::read_by(&kinds, not_except).into_iter())
        .filter_map(|(p, k)| events_of(pods.get(p as usize)?)?.get(k as usize).copied())
        .collect()
}

/// No pod / event in an [`EventKinds`] slot.
const NONE: u32 = u32::MAX;

/// The events found on a list of pods, by what they read ([`held_by_others`]): for each kind,
/// in the order first seen, the first two copies' places from two pods (for the order) and the
/// two newest copies from two pods (the one a chain reads).
#[derive(Default)]
struct EventKinds<'a> {
    at: rustc_hash::FxHashMap<(&'a str, &'a str, &'a str, u32, &'a str), usize>,
    kinds: Vec<Kind<'a>>,
    seen: u32,
}

/// One kind's slots: `first` (order, pod) pairs, `newest` (pod, event, time) triples, each
/// from distinct pods, the better first.
struct Kind<'a> {
    first: [(u32, u32); 2],
    newest: [(u32, u32, Option<&'a jiff::Timestamp>); 2],
}

impl<'a> EventKinds<'a> {
    const WIDTH: usize = 8;

    fn add(&mut self, pod: u32, k: u32, e: &'a EventObs) {
        let order = self.seen;
        self.seen += 1;
        let key = (
            e.reason.as_str(),
            e.type_.as_str(),
            e.message.as_str(),
            e.count,
            e.source.as_str(),
        );
        let at = *self.at.entry(key).or_insert_with(|| {
            self.kinds.push(Kind {
                first: [(NONE, NONE); 2],
                newest: [(NONE, NONE, None); 2],
            });
            self.kinds.len() - 1
        });
        let kind = &mut self.kinds[at];
        if kind.first[0].1 == NONE {
            kind.first[0] = (order, pod);
        } else if kind.first[1].1 == NONE && kind.first[0].1 != pod {
            kind.first[1] = (order, pod);
        }
        let time = e.last_seen.as_ref();
        // None is newest (never history); among times the later; a tie keeps the earlier.
        let newer = |than: &(u32, u32, Option<&jiff::Timestamp>)| {
            than.0 == NONE
                || match (time, than.2) {
                    (None, Some(_)) => true,
                    (Some(t), Some(old)) => t > old,
                    _ => false,
                }
        };
        let entry = (pod, k, time);
        if newer(&kind.newest[0]) {
            if kind.newest[0].0 != pod {
                kind.newest[1] = kind.newest[0];
            }
            kind.newest[0] = entry;
        } else if kind.newest[0].0 != pod && newer(&kind.newest[1]) {
            kind.newest[1] = entry;
        }
    }

    /// The (pod, event) a chain whose own pod fails `not_except` reads of each kind in
    /// `flat` ([`Self::flat`]): the newest copy on another pod, in the order the first copy
    /// on another pod came.
    fn read_by(flat: &[u32], not_except: impl Fn(u32) -> bool) -> Vec<(u32, u32)> {
        let mut picked: Vec<(u32, u32, u32)> = Vec::new();
        for kind in flat.chunks_exact(Self::WIDTH) {
            let &[order_a, pod_a, order_b, _, rep_a, ev_a, rep_b, ev_b] = kind else {
                continue;
            };
            // Each kind keeps two copies of each from two pods, so one is another pod's
            // whenever any is.
            let order = if not_except(pod_a) { order_a } else { order_b };
            let (rep, ev) = if not_except(rep_a) {
                (rep_a, ev_a)
            } else {
                (rep_b, ev_b)
            };
            if order != NONE && rep != NONE {
                picked.push((order, rep, ev));
            }
        }
        picked.sort_unstable_by_key(|&(order, ..)| order);
        picked.into_iter().map(|(_, p, k)| (p, k)).collect()
    }

    /// `WIDTH` numbers per kind: first order and pod, second order and pod, newest pod and
    /// event, second newest pod and event.
    fn flat(self) -> Vec<u32> {
        (self.kinds.iter())
            .flat_map(|k| {
                let [(oa, pa), (ob, pb)] = k.first;
                let [(ra, ea, _), (rb, eb, _)] = k.newest;
                [oa, pa, ob, pb, ra, ea, rb, eb]
            })
            .collect()
    }
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
    about_pod_seen(pod, &e.involved_uid, e.last_seen)
}

/// [`about_pod`] for an event kept as its `involvedObject.uid` and last time seen.
pub(crate) fn about_pod_seen(pod: &PodObs, uid: &str, last_seen: Option<jiff::Timestamp>) -> bool {
    if pod.uid.is_empty() || uid.is_empty() {
        let before = matches!((last_seen, pod.created_at), (Some(seen), Some(born)) if seen < born);
        return !(uid.is_empty() && before);
    }
    uid == pod.uid.as_str()
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
    let positions = || ix.mounting_positions(ns, spc).into();
    held_by_others(ix, key, positions, except, failures)
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

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// What a chain reads of the others' events is, of each kind (what its evidence line
        /// says), the newest copy not on its own pod (one without a time newest, a tie the
        /// first), in the order the kinds first came on the other pods: the fold of every
        /// copy, in order, shows those lines in that order.
        #[test]
        fn a_chain_reads_the_newest_copy_of_each_kind_on_other_pods(
            found in proptest::collection::vec((0u32..5, 0u8..3, 1u32..3, proptest::option::of(0i64..4)), 0..30),
            except in 0u32..6,
        ) {
            let mut found = found;
            // As `held_by_others` walks them: pod by pod, each pod's events in its list order.
            found.sort_by_key(|&(pod, ..)| pod);
            let events: Vec<EventObs> = (found.iter())
                .map(|&(_, text, count, seen)| EventObs {
                    reason: "FailedToCreateSecret".into(),
                    message: format!("failed {text}"),
                    count,
                    last_seen: seen.map(|s| jiff::Timestamp::from_second(s * 60).unwrap()),
                    ..Default::default()
                })
                .collect();
            let mut kinds = EventKinds::default();
            for (k, (&(pod, ..), e)) in found.iter().zip(&events).enumerate() {
                kinds.add(pod, k as u32, e);
            }
            let read = EventKinds::read_by(&kinds.flat(), |p| p != except);

            // Every copy, in order, as a chain folded them before.
            let others: Vec<usize> = (0..found.len()).filter(|&i| found[i].0 != except).collect();
            let same = |a: usize, b: usize| found[a].1 == found[b].1 && found[a].2 == found[b].2;
            let rank = |i: usize| found[i].3.map_or(i64::MAX, |t| t);
            let mut expected: Vec<(u32, u32)> = Vec::new();
            for (n, &i) in others.iter().enumerate() {
                if others[..n].iter().any(|&j| same(i, j)) {
                    continue; // not the first of its kind
                }
                let newest = (others.iter().copied())
                    .filter(|&j| same(i, j))
                    .fold(i, |best, j| if rank(j) > rank(best) { j } else { best });
                expected.push((found[newest].0, newest as u32));
            }
            proptest::prop_assert_eq!(read, expected);
        }
    }
}
