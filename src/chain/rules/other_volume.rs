//! Another volume of the pod fails to mount (KVC108). The kubelet starts no container before
//! every volume of the pod is set up, so a chain whose own mount succeeded still has nothing
//! reading it while the pod waits in ContainerCreating. What the finding is depends on what
//! the failing volume is:
//! - outside every chain (a secret, configMap or projected volume, a persistent volume, a CSI
//!   volume of another driver such as file.csi.azure.com): KVC108 is that volume's own
//!   finding, a cause;
//! - another secrets-store volume, or a secret volume of a Secret another SecretProviderClass
//!   syncs: that volume's (or that Secret's) chain names the cause; here the chain is blocked
//!   by it and says so, counted as blocked, not as a second cause;
//! - a secret volume of this chain's own synced Secret, absent (or short of a key) because
//!   this chain has not produced it: a consequence of this chain's cause, which `mark_effects`
//!   names ([`follow_own_cause`]).

use crate::chain::build::wired_spc;
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::events;
use crate::chain::model::{Finding, Link, LinkKind};
use crate::snapshot::{EventObs, VolumeObs, VolumeSourceObs};

/// What the failing volume is, for this chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind<'a> {
    /// No chain says why: this finding is the volume's own.
    Outside,
    /// The chain of SecretProviderClass `spc` says why: its own secrets-store volume, or
    /// (`secret`) a secret volume of the Secret it syncs.
    Chain {
        spc: &'a str,
        secret: Option<&'a str>,
    },
    /// A secret volume of `secret`, a Secret this chain's SecretProviderClass syncs.
    OwnSecret { secret: &'a str },
}

/// A volume of the chain's pod, not the chain's own, whose setup currently fails.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Failing<'a> {
    pub volume: &'a VolumeObs,
    /// The kubelet's FailedMount naming it (the specific one when both it and the
    /// "Unable to attach or mount volumes" follow-up were seen).
    pub event: &'a EventObs,
    pub kind: Kind<'a>,
}

/// The pod's other volumes with a current FailedMount. Current only: a running pod has set
/// every volume up, a secrets-store volume whose SecretProviderClassPodStatus says mounted has
/// mounted since its failure, and so has a volume the kubelet's later follow-up no longer lists
/// as unmounted, or a secret volume whose Secret now holds every key it asks for (the kubelet
/// retries it on its own): events are history (FACTS §3, §11 "Evidence ages"; audit MMM).
pub(crate) fn failing<'a>(cx: &Ctx<'a>) -> Vec<Failing<'a>> {
    let mut out = failed(cx);
    let latest = latest_followup(cx);
    out.retain(|f| !mounted_since(f, latest) && !secret_ready(cx, f.volume));
    out
}

/// The kubelet's latest "Unable to attach or mount volumes" about the chain's pod: its
/// `unmounted volumes=[…]` is what still waited then.
fn latest_followup<'a>(cx: &Ctx<'a>) -> Option<&'a EventObs> {
    let pod = cx.pod;
    let list = cx
        .ix
        .pod_events
        .get(&(pod.namespace.as_str(), pod.name.as_str()))?;
    (list.iter().copied())
        .filter(|e| {
            e.reason == "FailedMount"
                && events::is_followup(&e.message)
                && crate::chain::chain_events::about_pod(pod, e)
        })
        .filter(|e| e.last_seen.is_some())
        .max_by_key(|e| e.last_seen)
}

/// Whether the follow-up `latest`, seen after `f`'s failure, no longer lists its volume.
fn mounted_since(f: &Failing, latest: Option<&EventObs>) -> bool {
    latest.is_some_and(|l| {
        matches!((l.last_seen, f.event.last_seen), (Some(l), Some(e)) if l > e)
            && !events::unmounted_volumes(&l.message).contains(&f.volume.name.as_str())
    })
}

/// A secret volume whose Secret exists now with every key its `items` name: a failure of it
/// (not found, a key missing) no longer holds, as the kubelet retries the setup on its own.
fn secret_ready(cx: &Ctx, v: &VolumeObs) -> bool {
    let VolumeSourceObs::Secret {
        secret_name, keys, ..
    } = &v.source
    else {
        return false;
    };
    (cx.ix.secrets.get(&(cx.ns(), secret_name.as_str())))
        .is_some_and(|s| keys.iter().all(|k| s.data.contains_key(k.as_str())))
}

/// The pod's other volumes with a FailedMount, current or not.
fn failed<'a>(cx: &Ctx<'a>) -> Vec<Failing<'a>> {
    let pod = cx.pod;
    if cx.template || pod.phase == "Running" {
        return Vec::new();
    }
    let Some(list) = cx
        .ix
        .pod_events
        .get(&(pod.namespace.as_str(), pod.name.as_str()))
    else {
        return Vec::new();
    };
    let mut out: Vec<Failing<'a>> = Vec::new();
    for e in list.iter().copied() {
        let mine = crate::chain::chain_events::about_pod(pod, e);
        if e.reason != "FailedMount" || e.type_ == "Normal" || !mine {
            continue;
        }
        // `MountVolume.SetUp failed for volume "<vol>"` names the pod's volume; a persistent
        // volume's `MountVolume.MountDevice failed for volume "<pv>"` names the PV, which the
        // follow-up's `unmounted volumes=[…]` list gives as the pod's volume.
        let specific = events::volume_of(&e.message);
        let named = match specific {
            Some(v) => vec![v],
            None => events::unmounted_volumes(&e.message),
        };
        for name in named {
            if name == cx.volume.name {
                continue;
            }
            let Some(v) = pod.volumes.iter().find(|v| v.name == name) else {
                continue;
            };
            match out.iter_mut().find(|f| f.volume.name == name) {
                Some(f) => {
                    if specific.is_some() && events::is_followup(&f.event.message) {
                        f.event = e;
                    }
                }
                None => {
                    if let Some(kind) = kind_of(cx, v) {
                        out.push(Failing {
                            volume: v,
                            event: e,
                            kind,
                        });
                    }
                }
            }
        }
    }
    out
}

/// What volume `v` is for this chain; None when it is a secrets-store volume mounted since.
fn kind_of<'a>(cx: &Ctx<'a>, v: &'a VolumeObs) -> Option<Kind<'a>> {
    let ns = cx.ns();
    if let Some(spc) = wired_spc(v) {
        let mounted = cx
            .ix
            .spcps
            .get(&(ns, cx.pod.name.as_str(), spc))
            .is_some_and(|st| st.mounted && st.earlier_pod(cx.pod).is_none());
        return (!mounted).then_some(Kind::Chain { spc, secret: None });
    }
    let secrets: Vec<&'a str> = match &v.source {
        VolumeSourceObs::Secret { secret_name, .. } => vec![secret_name.as_str()],
        VolumeSourceObs::Projected { secrets, .. } => secrets.iter().map(|s| s.as_str()).collect(),
        _ => Vec::new(),
    };
    for secret in secrets {
        let Some(writers) = cx.ix.secret_writers.get(&(ns, secret)) else {
            continue;
        };
        if writers.iter().any(|w| w.name == cx.spc_name) {
            return Some(Kind::OwnSecret { secret });
        }
        if let Some(w) = writers.first() {
            return Some(Kind::Chain {
                spc: w.name.as_str(),
                secret: Some(secret),
            });
        }
    }
    Some(Kind::Outside)
}

/// What the volume is, for a message: `(CSI driver file.csi.azure.com)`, `(Secret db)`.
fn what(v: &VolumeObs) -> String {
    match &v.source {
        VolumeSourceObs::Csi { driver, .. } => format!(" (CSI driver {driver})"),
        VolumeSourceObs::Secret { secret_name, .. } => format!(" (Secret {secret_name})"),
        VolumeSourceObs::Projected { .. } => " (projected)".to_string(),
        VolumeSourceObs::Other => String::new(),
    }
}

/// The Pod link's findings for the failing volumes ([`failing`]).
pub(crate) fn check(cx: &Ctx, link: &mut Link) {
    for f in failing(cx) {
        let volume = f.volume.name.as_str();
        let evidence = vec![format!("FailedMount: {}", f.event.message)];
        let own = &cx.volume.name;
        let finding = match f.kind {
            Kind::Outside => {
                let mut finding = cx.remedied(
                    Code::KVC108,
                    cx.owner_resource(),
                    format!(
                        "volume {volume}{} fails to mount, so the kubelet starts no container: nothing reads the secrets of volume {own} until it is repaired",
                        what(f.volume)
                    ),
                    evidence,
                );
                if let VolumeSourceObs::Csi { driver, .. } = &f.volume.source {
                    finding.fix = crate::chain::rules::remedy::edit_owner(
                        cx,
                        &format!("volume {volume} (CSI driver {driver}): repair what the FailedMount message names (the driver on the node, the storage it mounts, the credentials it reads), or drop the volume"),
                    )
                    .into();
                }
                finding
            }
            // This chain's own mount has not succeeded: its own story says why it waits.
            Kind::Chain { .. } if !cx.mounted() => continue,
            Kind::Chain { spc, secret } => {
                let why = match secret {
                    None => format!("it mounts SecretProviderClass {spc}"),
                    Some(s) => format!(
                        "it reads Secret {s}, which SecretProviderClass {spc} syncs and has not made"
                    ),
                };
                let mut finding = cx.remedied(
                    Code::KVC108,
                    cx.owner_resource(),
                    format!(
                        "blocked by volume {volume}: {why}, and its chain says why it fails; the kubelet starts no container until every volume mounts, so nothing reads the secrets of volume {own}, mounted fine"
                    ),
                    evidence,
                );
                finding.follows = Some(LinkKind::Mount);
                finding.fix = format!(
                    "# fix the chain of SecretProviderClass {spc} first (its cause is this pod's volume {volume}'s): the kubelet then starts the containers"
                )
                .into();
                finding
            }
            Kind::OwnSecret { secret } => {
                let state = if cx.ix.secrets.contains_key(&(cx.ns(), secret)) {
                    "lacks a key the volume asks for"
                } else {
                    "does not exist"
                };
                let mut finding = cx.remedied(
                    Code::KVC108,
                    cx.owner_resource(),
                    format!(
                        "{OWN_PREFIX}volume {volume} reads Secret {secret}, which SecretProviderClass {} syncs and which {state}: the kubelet starts no container until the volume mounts",
                        cx.spc_name
                    ),
                    evidence,
                );
                finding.follows = Some(LinkKind::Sync);
                finding.fix = format!(
                    "# fix the cause above first: the driver makes Secret {secret} when volume {own} mounts; the kubelet then sets volume {volume} up"
                )
                .into();
                finding
            }
        };
        link.findings.push(finding);
    }
}

/// How a finding about this chain's own synced Secret starts until [`follow_own_cause`] names
/// the chain's cause.
const OWN_PREFIX: &str = "blocked by Sync: ";

/// A KVC108 about a secret volume of the chain's own synced Secret follows the chain's cause
/// (`root`'s `cause`), when it has one: the Secret is missing because of it.
pub(crate) fn follow_own_cause(pod: &mut Link, root: LinkKind, cause: Code) {
    for f in pod.findings.iter_mut().filter(|f| own_secret(f)) {
        if root == LinkKind::Sync {
            continue;
        }
        f.follows = Some(root);
        f.message = format!(
            "blocked by {}: {}",
            root.title(),
            &f.message[OWN_PREFIX.len()..]
        )
        .into();
        f.fix = format!(
            "# fix {cause} ({}) first: {}",
            root.title(),
            f.fix.trim_start_matches("# fix the cause above first: ")
        )
        .into();
    }
}

fn own_secret(f: &Finding) -> bool {
    f.code == Code::KVC108 && f.follows == Some(LinkKind::Sync) && f.message.starts_with(OWN_PREFIX)
}

/// The volume the Consumers link waits on: the first failing one not of this chain's own
/// making (that one waits on the chain's cause, named by `mark_effects`).
pub(crate) fn blocking_volume<'a>(cx: &Ctx<'a>) -> Option<&'a str> {
    failing(cx)
        .into_iter()
        .find(|f| !matches!(f.kind, Kind::OwnSecret { .. }))
        .map(|f| f.volume.name.as_str())
}

#[cfg(test)]
mod tests {
    use crate::chain::events::unmounted_volumes;

    #[test]
    fn the_follow_up_lists_the_unmounted_volumes() {
        assert_eq!(
            unmounted_volumes(
                "Unable to attach or mount volumes: unmounted volumes=[data files], unattached volumes=[kube-api-access-x data files]: timed out waiting for the condition"
            ),
            ["data", "files"]
        );
        assert!(unmounted_volumes("MountVolume.SetUp failed for volume \"x\" : boom").is_empty());
    }
}
