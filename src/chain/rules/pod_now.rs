//! A current mount failure about the Pod link checked against what kvchain reads now (FACTS
//! §3 message shapes, §11 "Evidence ages"). Each of these causes can be repaired between the
//! failure and the observation, and the kubelet retries only on its back-off: an SPC applied
//! after the Deployment that mounts it, a CSIDriver updated to request the token. A driver
//! not registered on the node is not among them: no object says it is registered now. When the objects say the cause is gone, the event is a failed attempt
//! (`fold_events::contradicted`), not the cause with a fix that creates what exists.

use super::remedy::{self, AUDIENCE};
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::events;
use crate::snapshot::EventObs;

/// What kvchain reads now for the Pod link that contradicts the cause event `e` (of `code`)
/// names, said for the finding; None when it does not (or is not known).
pub(super) fn looks_right(cx: &Ctx, code: Code, e: &EventObs) -> Option<String> {
    match code {
        // `failed to get secretproviderclass <ns>/<spc>, error: … "<spc>" not found`: the
        // chain's SPC, read in the pod's namespace (where the driver looks, FACTS §11).
        Code::KVC101 => {
            let spc = cx.spc?;
            let named = format!("{}/{}", cx.ns(), spc.name);
            let quoted = format!("\"{}\" not found", spc.name);
            (e.message.contains(&named) || e.message.contains(&quoted))
                .then(|| format!("SecretProviderClass {named} exists"))
        }
        // `driver name … not found in the list of registered CSI drivers`: nothing kvchain
        // reads shows the driver registered on that node — DaemonSets admitting it say where
        // a driver pod may run, not that it runs there and is ready (presence is per node,
        // FACTS §11; audit N2). The event stands, with the per-node fix.
        // `token for audience <a> not found` / `service account tokens not found`: the
        // CSIDriver's tokenRequests list the audience the mount reads.
        Code::KVC105 => {
            let csi = cx.cluster().csi_driver.known().filter(|c| c.installed)?;
            let have = csi.token_audiences.known()?;
            let audience = remedy::token_audience(cx)
                .or_else(|| events::token_audience(&e.message))
                .unwrap_or(AUDIENCE);
            have.iter().any(|a| a == audience).then(|| {
                format!("CSIDriver secrets-store.csi.k8s.io requests a token for {audience}")
            })
        }
        _ => None,
    }
}
