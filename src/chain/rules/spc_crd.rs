//! Pod link: the SecretProviderClass CRD is not installed. The API server then serves no
//! SecretProviderClass at all (a 404 on the list, the gap `CRD … not installed`), so the one
//! the pod names cannot exist: a fact, not a failed read (README "Not visible": a missing CRD
//! means there are no SecretProviderClasses). The driver fails the mount with `failed to get
//! secretproviderclass <ns>/<spc>` (FACTS §3), whatever the SPC's manifest says: KVC101,
//! naming the missing CRD as the cause and the install that brings it.

use super::remedy;
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::Link;

/// The driver's own manifests of its two CRDs (kubernetes-sigs/secrets-store-csi-driver
/// `deploy/`), as its kubectl install applies them.
const CRDS: &str = "kubectl apply -f https://raw.githubusercontent.com/kubernetes-sigs/secrets-store-csi-driver/main/deploy/secrets-store.csi.x-k8s.io_secretproviderclasses.yaml -f https://raw.githubusercontent.com/kubernetes-sigs/secrets-store-csi-driver/main/deploy/secrets-store.csi.x-k8s.io_secretproviderclasspodstatuses.yaml";

/// The reason of the namespace's SecretProviderClass gap when it says the CRD is missing.
fn crd_missing<'a>(cx: &Ctx<'a>) -> Option<&'a str> {
    cx.snap()
        .spcs
        .unknown_in(cx.ns())
        .filter(|r| crate::snapshot::gaps::is_not_installed(r))
}

/// KVC101 when the chain's SecretProviderClass cannot exist for want of its CRD; true when
/// that is so (the caller looks no further for it).
pub(crate) fn absent(cx: &Ctx, link: &mut Link, reference: String) -> bool {
    let Some(reason) = crd_missing(cx) else {
        return false;
    };
    let (spc, ns) = (cx.spc_name, cx.ns());
    // Which part is missing: the whole driver (its CSIDriver unregistered: KVC104 says so
    // too), or only its CRDs beside a registered driver (a Helm install with --skip-crds, or
    // CRDs deleted).
    let driver = cx.cluster().csi_driver.known().map(|c| c.installed);
    let why = match driver {
        Some(false) => "the Secrets Store CSI driver, which installs it, is not installed",
        Some(true) => {
            "the driver is registered but its CRDs are missing: installed without them, or deleted"
        }
        None => {
            "the Secrets Store CSI driver, which installs it, is missing or was installed without its CRDs"
        }
    };
    let message = format!(
        "volume {} references SecretProviderClass {spc}, which cannot exist: the SecretProviderClass CRD is not installed in this cluster ({why}), so the driver fails the mount with \"failed to get secretproviderclass {ns}/{spc}\"",
        cx.volume.name
    );
    let install = match driver {
        Some(true) => CRDS.to_string(),
        _ => remedy::install_fix(cx),
    };
    // One line (a line break in a fix is an input's, escaped when shown, audit BB2): the
    // apply runs once the install succeeded, the notes after both.
    let fix = remedy::in_turn(&[
        &install,
        &format!(
            "{}; once the CRD is served",
            remedy::apply_spc_file(ns, spc)
        ),
    ]);
    let confirm = "kubectl get crd secretproviderclasses.secrets-store.csi.x-k8s.io && kubectl get csidriver secrets-store.csi.k8s.io".to_string();
    link.findings.push(cx.finding(
        Code::KVC101,
        cx.spc_resource(),
        message,
        vec![reference, reason.to_string()],
        confirm,
        fix,
    ));
    true
}
