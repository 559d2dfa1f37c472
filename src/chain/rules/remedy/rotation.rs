//! Where a silently failing rotation says why (KVC703 with rotation on). FACTS §3: drivers
//! from v1.6.0 mask re-publish errors (logged only, no event), and §11: rotation on the AKS
//! add-on fails silently with `serviceaccounts/token … forbidden` in the driver log. A remount
//! fetches the latest versions once; the next rotation lags again until what the log names is
//! repaired (codes.yaml KVC703: "… and repair rotation").

use super::{DriverInstall, install, token_requests_fix};
use crate::chain::context::Ctx;

/// The driver's rotation errors. Its pods carry `app=secrets-store-csi-driver` and the
/// container `secrets-store` whether the AKS add-on or the Helm chart installed them (the
/// same selector KVC806 reads the log with).
pub(crate) const DRIVER_LOG: &str = "kubectl logs -n kube-system -l app=secrets-store-csi-driver -c secrets-store --tail=200 | grep -i -e forbidden -e rotation";

/// The rest of the fix after the remount: repair what the driver log names, with the known
/// case spelled out for the install kvchain sees.
pub(crate) fn repair(cx: &Ctx) -> String {
    let token = "serviceaccounts/token … forbidden means the driver may not request the pod's service-account token (ClusterRole secretprovidertokenrequest-role and its binding: kubectl get clusterrolebinding | grep tokenrequest)";
    let how = match install(cx) {
        Some(DriverInstall::AksAddon) => {
            "the AKS add-on ships that role (aks-secretprovidertokenrequest-role): update the add-on with the cluster (az aks upgrade)".to_string()
        }
        Some(DriverInstall::Helm) => format!(
            "the chart installs it with tokenRequests: {}",
            token_requests_fix(cx)
        ),
        None => {
            "the AKS add-on ships it (update the add-on with the cluster: az aks upgrade); the Helm chart installs it with tokenRequests".to_string()
        }
    };
    format!(
        "then repair rotation, or the next version lags again: fix what the driver log names (confirm); {token}: {how}"
    )
}
