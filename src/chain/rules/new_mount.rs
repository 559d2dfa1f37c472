//! A fix that gives the pod a new mount (KVC703's remount, KVC805's stale-Secret remount,
//! KVC804's rotation-off remount, KVC806's recreate, KVC901's restart, rotation repair, and the
//! restarts or template patches of the service-account link's KVC201/204/205/206) meets
//! every secrets-store volume of the new pod, not only the chain's (audit HH1). When another
//! volume of the pod is one whose every new mount fails (its SecretProviderClass refused by the
//! provider, an object the vault lacks, no access, no federation, no identity: FACTS §5, the
//! `failed to mount objects` answer), the kubelet never starts the new pod's containers
//! (FACTS §3: `Unable to attach or mount volumes: unmounted volumes=[…]`), no SPCPS is made for
//! it (§1), and the running replica, whose mounts predate the break, is lost to it. The same
//! holds for the chain's own volume when its SecretProviderClass is the one that fails. Such a
//! finding follows that cause as a stale mount follows one on its own chain: it says what
//! blocks it, its fix points there, and it is counted as blocked.
//!
//! Run per pod once its chains are built (`build::chains_into`), the one path the full pass
//! and the engine's per-pod re-diagnosis share; only a pod with a finding whose fix renews the
//! mount pays more than a look at its findings.

use super::{drawn_as_followed, mount_blocker, remedy};
use crate::chain::catalog::Code;
use crate::chain::model::{Chain, Finding, LinkKind};

/// Codes whose fix may give the chain's pod a new mount; [`remedy::renews_mount`] says whether
/// this finding's does.
const RENEWING: [Code; 9] = [
    Code::KVC201,
    Code::KVC204,
    Code::KVC205,
    Code::KVC206,
    Code::KVC703,
    Code::KVC804,
    Code::KVC805,
    Code::KVC806,
    Code::KVC901,
];

fn may_renew(f: &Finding) -> bool {
    f.follows.is_none() && RENEWING.contains(&f.code)
}

/// `chains`: the chains of one pod. A finding whose fix gives the pod a new mount follows the
/// first cause that fails every new mount ([`mount_blocker`]): its own chain's (a restart or a
/// template patch beside the SPC's own KVC705, which the chain's own effects already follow),
/// else another chain's (audit KK1: a workload finding on both chains of a two-SPC pod read
/// blocked on one and not on the other).
pub(crate) fn follow_siblings(chains: &mut [Chain]) {
    if !chains.iter().any(|c| c.findings().any(may_renew)) {
        return; // most pods
    }
    let blockers: Vec<Option<(LinkKind, Code)>> =
        chains.iter().map(|c| mount_blocker(&c.links)).collect();
    if blockers.iter().all(Option::is_none) {
        return;
    }
    for i in 0..chains.len() {
        let own = blockers[i].map(|b| (i, b));
        let Some((j, (root, cause))) =
            own.or_else(|| (blockers.iter().enumerate()).find_map(|(j, b)| Some((j, (*b)?))))
        else {
            continue;
        };
        let (on, what) = blocked_on(&chains[j], root, cause, j != i);
        let chain = &mut chains[i];
        let workload = (chain.workload.as_ref()).map(|w| (w.kind.as_str(), w.name.as_str()));
        let (ns, pod) = (chain.namespace.as_str(), chain.pod.as_str());
        for link in chain.links.iter_mut() {
            let mut followed = false;
            for f in link.findings.iter_mut().filter(|f| may_renew(f)) {
                if !remedy::renews_mount(&f.fix, ns, pod, workload) {
                    continue;
                }
                f.follows = Some(root);
                f.message = format!(
                    "blocked by {cause} on {on}: a new pod would not start; {}",
                    f.message
                )
                .into();
                f.fix = format!(
                    "# fix {cause} ({what}) first: every new mount of it fails, and the kubelet starts no container of a pod before all its volumes mount, so a new pod would not start; then: {}",
                    f.fix
                )
                .into();
                f.show_safely();
                followed = true;
            }
            if followed {
                drawn_as_followed(link);
            }
        }
    }
}

/// Where the blocking finding `cause` of chain `blocking` (on link `root`) is, for the message
/// (what it is on and which of the pod's volumes it concerns) and for the fix (`Kind name`):
/// the object the finding itself names, the pod's own volume wiring (KVC103 is on the Pod, not
/// on the SPC its volume was meant to mount: audit PP7) as much as the SPC. `other`: the
/// chain is another volume's of the pod.
fn blocked_on(blocking: &Chain, root: LinkKind, cause: Code, other: bool) -> (String, String) {
    let spc = &blocking.spc;
    let volume = if spc.is_empty() {
        format!("volume {}", blocking.volume)
    } else {
        format!("SecretProviderClass {spc}")
    };
    let also = if other { " also" } else { "" };
    let resource = (blocking.links.get(root.index()))
        .and_then(|l| l.findings.iter().find(|f| f.code == cause))
        .and_then(|f| f.resource.split_once('/'));
    match resource {
        Some((kind, name)) if kind != "SecretProviderClass" => {
            let whose = if other { "other volume" } else { "volume" };
            let vol = match spc.is_empty() {
                true => blocking.volume.to_string(),
                false => format!("{} (SecretProviderClass {spc})", blocking.volume),
            };
            (
                format!("{kind} {name}, for this pod's {whose} {vol}"),
                format!("{kind} {name}, volume {}", blocking.volume),
            )
        }
        _ => (format!("{volume}, which this pod{also} mounts"), volume),
    }
}
