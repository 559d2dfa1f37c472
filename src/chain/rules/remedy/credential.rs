//! Service-principal mode's half of the fix for an SPC that names no credential (FACTS §5:
//! no clientID and no identity mode ⇒ a service principal from `nodePublishSecretRef`).
//! `nodePublishSecretRef` is a field of the pod's `csi` volume, not of the SecretProviderClass
//! (its CRD has none): it is set where each mounting pod's owner keeps that volume.

use super::edit_pod_owner;
use crate::chain::context::Ctx;
use crate::chain::index::{DRIVER, SPC_ATTRIBUTE};
use crate::snapshot::{PodObs, VolumeSourceObs};

/// What the volume needs: a Secret holding the service principal's keys (FACTS §5).
const REF: &str = "nodePublishSecretRef: {name: <a Secret with clientid and clientsecret>}";

/// The owner edit of every pod that mounts the chain's SPC through a volume without
/// `nodePublishSecretRef`, this chain's pod first, one per owner, each naming its volume;
/// joined with `; ` (each edit ends in its own comment). `None` when there is none.
pub(crate) fn service_principal_edits(cx: &Ctx) -> Option<String> {
    let mut owners: Vec<String> = Vec::new();
    let mut edits: Vec<String> = Vec::new();
    let others = (cx.ix.pods_mounting(cx.ns(), cx.spc_name))
        .filter(|p| !std::ptr::eq(*p, cx.pod))
        .map(|p| (p, cx.ix.workload_of(p)));
    for (pod, workload) in std::iter::once((cx.pod, cx.workload)).chain(others) {
        let owner =
            workload.map_or_else(|| format!("pod/{}", pod.name), |(k, n)| format!("{k}/{n}"));
        if owners.contains(&owner) {
            continue;
        }
        owners.push(owner);
        for volume in unreferenced_volumes(pod, cx.spc_name) {
            edits.push(edit_pod_owner(
                cx,
                pod,
                workload,
                &format!("volume {volume}: csi.{REF}"),
            ));
        }
    }
    (!edits.is_empty()).then(|| edits.join("; "))
}

/// The names of `pod`'s Secrets Store CSI volumes that mount `spc` with no
/// `nodePublishSecretRef`.
fn unreferenced_volumes<'p>(pod: &'p PodObs, spc: &'p str) -> impl Iterator<Item = &'p str> {
    pod.volumes.iter().filter_map(move |v| match &v.source {
        VolumeSourceObs::Csi {
            driver,
            attributes,
            node_publish_secret: None,
            ..
        } if driver.as_str() == DRIVER
            && attributes.get(SPC_ATTRIBUTE).map(|s| s.as_str()) == Some(spc) =>
        {
            Some(v.name.as_str())
        }
        _ => None,
    })
}
