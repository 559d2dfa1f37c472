//! KVC104's fix: install what is missing with the installer the cluster uses. A Helm-managed
//! driver next to the AKS add-on would be a second driver stack fighting over one CSIDriver
//! object, so `az aks enable-addons` is only for add-on clusters (or offered beside the Helm
//! commands when the installer is unknown).
//!
//! The Helm commands install the driver's own chart as release `csi-secrets-store` (its
//! README's name: the other Helm fixes then find it by its labels), and the Azure provider's chart without its bundled copy of the
//! driver (`secrets-store-csi-driver.install=false`), so one driver runs whichever was missing.

use super::{aks_args, audiences_needed, install};
use crate::chain::context::Ctx;
use crate::snapshot::DriverInstall;

const DRIVER_REPO: &str = "helm repo add secrets-store-csi-driver https://kubernetes-sigs.github.io/secrets-store-csi-driver/charts";
const PROVIDER_REPO: &str = "helm repo add csi-secrets-store-provider-azure https://azure.github.io/secrets-store-csi-driver-provider-azure/charts";
/// A first install of the driver's own chart (nothing to reuse: the values the mounts need
/// are set beside it).
const DRIVER_INSTALL: &str = "helm upgrade --install csi-secrets-store secrets-store-csi-driver/secrets-store-csi-driver -n kube-system";
const PROVIDER: &str = "helm upgrade --install csi-secrets-store-provider-azure csi-secrets-store-provider-azure/csi-secrets-store-provider-azure -n kube-system --set secrets-store-csi-driver.install=false";

/// The fix for a driver (or Azure provider) that is not there. With the driver installed and
/// nothing known missing from the cluster, it is missing from one node (FACTS §11 "Presence
/// is per node"): installing again does nothing there ([`per_node`]).
pub(crate) fn install_fix(cx: &Ctx) -> String {
    if let Some((_, fix)) = per_node(cx) {
        return fix;
    }
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

/// The Azure provider's log: its pods carry `app=secrets-store-provider-azure` on the AKS
/// add-on and the chart's name, `app=csi-secrets-store-provider-azure`, with Helm (the
/// provider chart's `sscdpa.name`); either when the installer is unknown.
pub(crate) fn provider_log(cx: &Ctx) -> String {
    let selector = match install(cx) {
        Some(DriverInstall::AksAddon) => "app=secrets-store-provider-azure",
        Some(DriverInstall::Helm) => "app=csi-secrets-store-provider-azure",
        None => "'app in (secrets-store-provider-azure,csi-secrets-store-provider-azure)'",
    };
    format!("kubectl logs -n kube-system -l {selector} --tail=200")
}

/// KVC104's confirm: the DaemonSet pods on the pod's node when the driver is installed
/// ([`per_node`]), else the CSIDriver and the driver's pods anywhere.
pub(crate) fn install_confirm(cx: &Ctx) -> String {
    per_node(cx).map_or_else(
        || "kubectl get csidriver secrets-store.csi.k8s.io && kubectl get pods -n kube-system -o wide | grep -e secrets-store".to_string(),
        |(confirm, _)| confirm,
    )
}

/// The add-on's DaemonSets (FACTS §4, [AKS2]).
const ADDON_SETS: [&str; 2] = [
    "kube-system/aks-secrets-store-csi-driver",
    "kube-system/aks-secrets-store-provider-azure",
];

/// Confirm and fix for a driver installed in the cluster but not on the pod's node (a node
/// the cluster autoscaler just added before the driver's DaemonSet pod registered there, a
/// driver pod restarting): the DaemonSet pods on that node, and a wait until every node's are
/// ready (`kubectl rollout status` of a DaemonSet waits for all its scheduled pods to be
/// available), after which the kubelet's next mount retry finds the driver. None unless the
/// CSIDriver is registered and no provider is known missing (and, with Helm, the provider is
/// seen running: else its chart is what is missing).
fn per_node(cx: &Ctx) -> Option<(String, String)> {
    let csi = cx.cluster().csi_driver.known()?;
    let provider = csi.azure_provider.known();
    let installed = csi.installed
        && match install(cx) {
            Some(DriverInstall::AksAddon) => provider != Some(&false),
            _ => provider == Some(&true),
        };
    if !installed {
        return None;
    }
    // The DaemonSets by name: as observed, else the add-on's own.
    let observed: Vec<&str> = csi
        .placement
        .known()
        .map(|p| p.iter().map(|p| p.daemonset.as_str()).collect())
        .unwrap_or_default();
    let sets: Vec<(&str, &str)> = match (observed.is_empty(), install(cx)) {
        (false, _) => observed,
        (true, Some(DriverInstall::AksAddon)) => ADDON_SETS.to_vec(),
        (true, _) => Vec::new(),
    }
    .into_iter()
    .map(|d| d.split_once('/').unwrap_or(("kube-system", d)))
    .collect();
    let node = cx.pod.node.as_deref();
    let on_node = node.map_or_else(String::new, |n| {
        format!(" --field-selector spec.nodeName={}", super::sh_word(n))
    });
    let namespaces: std::collections::BTreeSet<&str> = sets.iter().map(|(ns, _)| *ns).collect();
    let scope = match namespaces.iter().next() {
        Some(ns) if namespaces.len() == 1 => format!("-n {}", super::sh_word(ns)),
        _ => "-A".to_string(),
    };
    let grep: Vec<String> = if sets.is_empty() {
        vec!["-e secrets-store".to_string()]
    } else {
        sets.iter()
            .map(|(_, name)| format!("-e {}", super::sh_word(name)))
            .collect()
    };
    let confirm = format!(
        "kubectl get pods {scope} -o wide{on_node} | grep {}",
        grep.join(" ")
    );
    let where_ = node.map_or_else(|| "the pod's node".to_string(), |n| format!("node {n}"));
    let fix = if sets.is_empty() {
        // Helm DaemonSets not observed: their names are not known, their pods are.
        format!(
            "{confirm}  # the driver is installed in the cluster; its pods on {where_} were not ready when the mount failed: wait until they are Running and Ready (the kubelet retries the mount), and if one is not, kubectl describe it for why"
        )
    } else {
        let waits: Vec<String> = sets
            .iter()
            .map(|(ns, name)| {
                format!(
                    "kubectl rollout status daemonset/{} -n {} --timeout=5m",
                    super::sh_word(name),
                    super::sh_word(ns)
                )
            })
            .collect();
        format!(
            "{}  # the driver is installed in the cluster; its pods on {where_} were not ready when the mount failed (a new node, a restarting driver pod): this waits until every node's are, and the kubelet's next mount retry finds the driver; if one on {where_} stays not ready, kubectl describe it (the confirm lists it) for why",
            waits.join(" && ")
        )
    };
    Some((confirm, fix))
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
        // A first install: --reuse-values would have nothing to reuse, so the values the
        // mounts need are set here: the token audiences workload identity reads (FACTS §4, the chart requests none by default) and the
        // Secret sync RBAC (syncSecret.enabled, default false: FACTS §2).
        let sets: String = audiences_needed(cx)
            .iter()
            .enumerate()
            .map(|(i, a)| format!(" --set 'tokenRequests[{i}].audience={a}'"))
            .collect();
        steps.push(format!(
            "{DRIVER_REPO} && {DRIVER_INSTALL} --set syncSecret.enabled=true{sets}"
        ));
    }
    if provider_missing {
        steps.push(format!("{PROVIDER_REPO} && {PROVIDER}"));
    }
    if steps.is_empty() {
        // Both seen: nothing to install (a per-node absence is `per_node`'s). Never empty.
        return format!(
            "{}  # the driver and its Azure provider are both installed: nothing to install",
            install_confirm(cx)
        );
    }
    steps.join(" && ")
}
