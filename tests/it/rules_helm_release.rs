//! The Helm fixes of the driver act on the release that installed it (audit P3). `helm
//! upgrade RELEASE CHART` acts on the release named; with another chart than the release's
//! it replaces it. The Azure provider's chart carries the driver as a subchart whose values sit
//! under `secrets-store-csi-driver.` ([P] `charts/csi-secrets-store-provider-azure/
//! Chart.yaml`, `values.yaml`: `secrets-store-csi-driver: … syncSecret: enabled: false`), and
//! its README installs it with `--generate-name`. FACTS §2 (`syncSecret.enabled`), §4
//! (`enableSecretRotation`).

use kvchain::chain::testkit as tk;
use kvchain::chain::{Code, diagnose};
use kvchain::snapshot::*;

/// The healthy app on a Helm-installed driver (`helm` as seen on its DaemonSet), with rotation
/// off (KVC702) and the driver refused Secrets (KVC806): their fixes.
fn fixes(helm: Option<HelmRelease>) -> (String, String) {
    let mut s = tk::healthy();
    if let Observed::Known(csi) = &mut s.cluster.csi_driver {
        csi.install = Some(DriverInstall::Helm);
        csi.helm = helm;
        csi.rotation_enabled = Observed::Known(false);
    }
    s.secrets.items.clear();
    s.events.items.push(super::cause_kit::sync_forbidden());
    let chains = diagnose(&s);
    let fix = |code| {
        (chains.iter().flat_map(|c| c.findings()))
            .find(|f| f.code == code)
            .map(|f| f.fix.to_string())
            .unwrap_or_else(|| panic!("{code}"))
    };
    (fix(Code::KVC702), fix(Code::KVC806))
}

fn release(name: &str, chart: &str, version: &str) -> Option<HelmRelease> {
    Some(HelmRelease {
        name: name.into(),
        namespace: "kube-system".into(),
        chart: chart.into(),
        version: Some(version.into()),
    })
}

#[test]
fn the_providers_chart_release_is_upgraded_with_its_subchart_values() {
    let rel = "csi-secrets-store-provider-azure-1733300000";
    let (rotation, sync) = fixes(release(rel, "csi-secrets-store-provider-azure", "1.8.2"));
    let head = format!(
        "helm upgrade {rel} csi-secrets-store-provider-azure --repo https://azure.github.io/secrets-store-csi-driver-provider-azure/charts -n kube-system --version 1.8.2 --reuse-values"
    );
    assert_eq!(
        rotation,
        format!("{head} --set secrets-store-csi-driver.enableSecretRotation=true")
    );
    assert_eq!(
        sync,
        format!("{head} --set secrets-store-csi-driver.syncSecret.enabled=true")
    );
}

#[test]
fn the_drivers_own_chart_release_is_upgraded_by_its_name() {
    let (rotation, sync) = fixes(release("sscsi", "secrets-store-csi-driver", "1.6.0"));
    let head = "helm upgrade sscsi secrets-store-csi-driver --repo https://kubernetes-sigs.github.io/secrets-store-csi-driver/charts -n kube-system --version 1.6.0 --reuse-values";
    assert_eq!(rotation, format!("{head} --set enableSecretRotation=true"));
    assert_eq!(sync, format!("{head} --set syncSecret.enabled=true"));
}

/// Not seen: no guessed release (`csi-secrets-store` need not exist, and if it is the
/// provider's chart the driver's would replace it); the fix looks the release up.
#[test]
fn an_unseen_release_is_looked_up_not_guessed() {
    for fix in <[String; 2]>::from(fixes(None)) {
        let run = fix.split("  #").next().unwrap_or_default();
        assert_eq!(run, "helm list -A | grep secrets-store", "{fix}");
        assert!(
            fix.contains("secrets-store-csi-driver.")
                && !fix.contains("helm upgrade csi-secrets-store "),
            "{fix}"
        );
    }
}
