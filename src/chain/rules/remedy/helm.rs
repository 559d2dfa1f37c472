//! `helm upgrade` of the release that installed the driver (KVC702, KVC105, KVC806, KVC704's
//! poll interval), as the snapshot saw it (audit P3). `helm upgrade RELEASE CHART` acts on the
//! release named, and with another chart than the release's it replaces that chart, deleting
//! what the new one lacks (the Azure provider's DaemonSet): so the command names the release
//! and chart seen on the driver's DaemonSet (`snapshot::HelmRelease`), keeps the chart's
//! version and values, and names the values as that chart reads them — the driver's own
//! (`syncSecret.enabled`, FACTS §2; `enableSecretRotation`, §4), or under
//! `secrets-store-csi-driver.` in the Azure provider's chart, which carries the driver as a
//! subchart ([P] `charts/csi-secrets-store-provider-azure/Chart.yaml`, `values.yaml`). When
//! the release was not seen, the fix looks it up (`helm list -A`) rather than guessing one.

use super::sh_word;
use crate::chain::context::Ctx;
use crate::snapshot::HelmRelease;

/// The driver's own chart and where it is published ([D] README).
const DRIVER: (&str, &str) = (
    "secrets-store-csi-driver",
    "https://kubernetes-sigs.github.io/secrets-store-csi-driver/charts",
);
/// The Azure provider's chart, the driver its subchart ([P] `charts/…/README.md`).
const PROVIDER: (&str, &str) = (
    "csi-secrets-store-provider-azure",
    "https://azure.github.io/secrets-store-csi-driver-provider-azure/charts",
);
/// The prefix of the driver subchart's values in the Azure provider's chart.
const SUBCHART: &str = "secrets-store-csi-driver.";

/// `helm upgrade` of `release` (a shell word; `chart`'s) in `namespace`, keeping the chart's
/// `version` (a shell word) when known and the release's values (`--reuse-values`), setting `values` (the
/// driver chart's `key=value`) as that chart reads them.
fn upgrade(
    release: &str,
    namespace: &str,
    (chart, repo): (&str, &str),
    version: Option<&str>,
    values: &[&str],
) -> String {
    let prefix = if chart == PROVIDER.0 { SUBCHART } else { "" };
    let version = version.map_or_else(String::new, |v| format!(" --version {v}"));
    let sets: String = values
        .iter()
        .map(|v| format!(" --set {}", sh_word(&format!("{prefix}{v}"))))
        .collect();
    format!(
        "helm upgrade {release} {chart} --repo {repo} -n {namespace}{version} --reuse-values{sets}"
    )
}

/// The command that sets the driver chart's `values` (`key=value`) on the release that
/// installed the driver.
pub(crate) fn driver_upgrade(cx: &Ctx, values: &[&str]) -> String {
    let seen = cx
        .cluster()
        .csi_driver
        .known()
        .and_then(|c| c.helm.as_ref());
    let chart = |r: &HelmRelease| [DRIVER, PROVIDER].into_iter().find(|c| c.0 == r.chart);
    if let Some((r, c)) = seen.and_then(|r| Some((r, chart(r)?))) {
        return upgrade(
            &sh_word(&r.name),
            &sh_word(&r.namespace),
            c,
            r.version.as_deref().map(sh_word).as_deref(),
            values,
        );
    }
    format!(
        "helm list -A | grep secrets-store  # the Helm release that installed the driver was not seen (its DaemonSet's Helm labels): with the NAME, NAMESPACE and CHART that list shows, for CHART {}-<version>: {}, for CHART {}-<version> (the driver is its subchart): {}",
        DRIVER.0,
        upgrade("<NAME>", "<NAMESPACE>", DRIVER, Some("<version>"), values),
        PROVIDER.0,
        upgrade("<NAME>", "<NAMESPACE>", PROVIDER, Some("<version>"), values),
    )
}
