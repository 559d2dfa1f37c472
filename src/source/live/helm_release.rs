//! The Helm release that installed the Secrets Store CSI driver, read from the labels of the
//! DaemonSets seen in kube-system, for the fixes that `helm upgrade` it (audit P3).
//!
//! Both charts label every object `app.kubernetes.io/instance: <release>` and
//! `helm.sh/chart: <chart>-<version>` (`+` written `_`): [D] `charts/secrets-store-csi-driver/
//! templates/_helpers.tpl` (`sscd.labels`), [P] `charts/csi-secrets-store-provider-azure/
//! templates/_helpers.tpl` (`sscdpa.common.labels`); Helm 3 also annotates them
//! `meta.helm.sh/release-name` / `meta.helm.sh/release-namespace`. The Azure provider's chart
//! carries the driver's as a subchart ([P] `Chart.yaml` dependencies): its driver DaemonSet is
//! labelled with the subchart's own name and version but the parent's release, so which chart
//! a release is comes from the provider DaemonSet of the same release.

use k8s_openapi::api::apps::v1::DaemonSet;

use crate::snapshot::HelmRelease;

const DRIVER_CHART: &str = "secrets-store-csi-driver";
const PROVIDER_CHART: &str = "csi-secrets-store-provider-azure";

/// The release of `ds` and its namespace: Helm's annotations, else the charts' instance label
/// in the DaemonSet's own namespace.
fn release_of(ds: &DaemonSet) -> Option<(&str, &str)> {
    let m = &ds.metadata;
    let annotation = |k: &str| m.annotations.as_ref().and_then(|a| a.get(k));
    let name = annotation("meta.helm.sh/release-name")
        .or_else(|| m.labels.as_ref()?.get("app.kubernetes.io/instance"))
        .filter(|n| !n.is_empty())?;
    let ns = annotation("meta.helm.sh/release-namespace").or(m.namespace.as_ref())?;
    Some((name.as_str(), ns.as_str()))
}

/// The version in `ds`'s `helm.sh/chart` label when the label names `chart` (`Some(None)`: it
/// names `chart` with no version); `None` when it names another chart or there is none.
fn chart_version(ds: &DaemonSet, chart: &str) -> Option<Option<String>> {
    let label = ds.metadata.labels.as_ref()?.get("helm.sh/chart")?;
    let rest = label.strip_prefix(chart)?;
    match rest.strip_prefix('-') {
        Some(v) if v.starts_with(|c: char| c.is_ascii_digit()) => Some(Some(v.replace('_', "+"))),
        _ if rest.is_empty() => Some(None),
        _ => None,
    }
}

/// The release of the driver DaemonSet `driver`, among the kube-system DaemonSets `all`
/// (`provider` tells the Azure provider's). The provider's chart when a provider DaemonSet of
/// that chart is in the same release; the driver's own when provider DaemonSets were seen
/// and none is; otherwise not known (a wrong chart would replace the release's: never guessed).
pub(super) fn driver_release(
    driver: &DaemonSet,
    all: &[DaemonSet],
    provider: impl Fn(&DaemonSet) -> bool,
) -> Option<HelmRelease> {
    let (name, namespace) = release_of(driver)?;
    let release = |chart: &str, version: Option<String>| HelmRelease {
        name: name.to_string(),
        namespace: namespace.to_string(),
        chart: chart.to_string(),
        version,
    };
    let providers: Vec<&DaemonSet> = all.iter().filter(|d| provider(d)).collect();
    if let Some(version) = (providers.iter())
        .filter(|d| release_of(d) == Some((name, namespace)))
        .find_map(|d| chart_version(d, PROVIDER_CHART))
    {
        return Some(release(PROVIDER_CHART, version));
    }
    if providers.is_empty() {
        return None;
    }
    chart_version(driver, DRIVER_CHART).map(|version| release(DRIVER_CHART, version))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn ds(name: &str, release: &str, chart: &str) -> DaemonSet {
        DaemonSet {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("kube-system".into()),
                labels: Some(
                    [
                        (
                            "app.kubernetes.io/instance".to_string(),
                            release.to_string(),
                        ),
                        ("helm.sh/chart".to_string(), chart.to_string()),
                    ]
                    .into(),
                ),
                ..ObjectMeta::default()
            },
            ..DaemonSet::default()
        }
    }

    fn is_provider(d: &DaemonSet) -> bool {
        d.metadata
            .name
            .as_deref()
            .unwrap_or_default()
            .contains("provider")
    }

    /// [P] README: `helm install csi-secrets-store-provider-azure/csi-secrets-store-provider-azure
    /// --generate-name`; values.yaml: the subchart's `fullnameOverride: secrets-store-csi-driver`.
    #[test]
    fn the_providers_chart_is_the_release_of_its_subchart_driver() {
        let rel = "csi-secrets-store-provider-azure-1733300000";
        let driver = ds(
            "secrets-store-csi-driver",
            rel,
            "secrets-store-csi-driver-1.5.6",
        );
        let provider = ds(rel, rel, "csi-secrets-store-provider-azure-1.8.2");
        let got = driver_release(&driver, &[driver.clone(), provider], is_provider);
        assert_eq!(
            got,
            Some(HelmRelease {
                name: rel.into(),
                namespace: "kube-system".into(),
                chart: PROVIDER_CHART.into(),
                version: Some("1.8.2".into()),
            })
        );
    }

    #[test]
    fn the_drivers_own_chart_beside_a_provider_of_another_release() {
        let driver = ds(
            "csi-secrets-store-secrets-store-csi-driver",
            "csi-secrets-store",
            "secrets-store-csi-driver-1.6.0",
        );
        let provider = ds(
            "csi-secrets-store-provider-azure",
            "azp",
            "csi-secrets-store-provider-azure-1.8.2",
        );
        let got = driver_release(&driver, std::slice::from_ref(&provider), is_provider).unwrap();
        assert_eq!(
            (got.name.as_str(), got.chart.as_str()),
            ("csi-secrets-store", DRIVER_CHART)
        );
        assert_eq!(got.version.as_deref(), Some("1.6.0"));
        // No provider DaemonSet seen: the driver may be a subchart of the release: unknown.
        assert_eq!(driver_release(&driver, &[], is_provider), None);
        // No Helm labels: unknown.
        let mut bare = driver.clone();
        bare.metadata.labels = None;
        assert_eq!(driver_release(&bare, &[provider], is_provider), None);
    }
}
