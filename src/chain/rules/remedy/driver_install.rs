//! KVC104's fix: install what is missing with the installer the cluster uses. A Helm-managed
//! driver next to the AKS add-on would be a second driver stack fighting over one CSIDriver
//! object, so `az aks enable-addons` is only for add-on clusters (or offered beside the Helm
//! commands when the installer is unknown).
//!
//! The Helm commands install the driver's own chart under the release the other Helm fixes
//! upgrade ([`HELM_DRIVER`]), and the Azure provider's chart without its bundled copy of the
//! driver (`secrets-store-csi-driver.install=false`), so one driver runs whichever was missing.

use super::{HELM_DRIVER, aks_args, audiences_needed, install};
use crate::chain::context::Ctx;
use crate::snapshot::DriverInstall;

const DRIVER_REPO: &str = "helm repo add secrets-store-csi-driver https://kubernetes-sigs.github.io/secrets-store-csi-driver/charts";
const PROVIDER_REPO: &str = "helm repo add csi-secrets-store-provider-azure https://azure.github.io/secrets-store-csi-driver-provider-azure/charts";
const PROVIDER: &str = "helm upgrade --install csi-secrets-store-provider-azure csi-secrets-store-provider-azure/csi-secrets-store-provider-azure -n kube-system --set secrets-store-csi-driver.install=false";

/// The fix for a driver (or Azure provider) that is not there.
pub(crate) fn install_fix(cx: &Ctx) -> String {
    match install(cx) {
        Some(DriverInstall::AksAddon) => addon_enable(cx),
        Some(DriverInstall::Helm) => helm(cx),
        None => format!(
            "{}  # AKS add-on; with Helm: {}",
            addon_enable(cx),
            helm(cx)
        ),
    }
}

/// Enables the add-on on a cluster that has none.
fn addon_enable(cx: &Ctx) -> String {
    format!(
        "az aks enable-addons --addons azure-keyvault-secrets-provider {}",
        aks_args(cx)
    )
}

/// The Helm charts of what is missing: the driver when its CSIDriver is not registered, the
/// provider unless it is seen running.
fn helm(cx: &Ctx) -> String {
    let csi = cx.cluster().csi_driver.known();
    let driver_missing = csi.is_none_or(|c| !c.installed);
    let provider_missing = csi.is_none_or(|c| c.azure_provider.known() != Some(&true));
    let mut steps = Vec::new();
    if driver_missing {
        // `upgrade --install` of HELM_DRIVER's release; --reuse-values has nothing to reuse on
        // a first install, so the values the mounts need are set here: the token audiences
        // workload identity reads (FACTS §4, the chart requests none by default) and the
        // Secret sync RBAC (syncSecret.enabled, default false: FACTS §2).
        let sets: String = audiences_needed(cx)
            .iter()
            .enumerate()
            .map(|(i, a)| format!(" --set 'tokenRequests[{i}].audience={a}'"))
            .collect();
        let driver = HELM_DRIVER
            .replacen("helm upgrade ", "helm upgrade --install ", 1)
            .replace(" --reuse-values", "");
        steps.push(format!(
            "{DRIVER_REPO} && {driver} --set syncSecret.enabled=true{sets}"
        ));
    }
    if provider_missing {
        steps.push(format!("{PROVIDER_REPO} && {PROVIDER}"));
    }
    steps.join(" && ")
}
