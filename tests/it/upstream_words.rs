//! Events in the words upstream really uses, and commands that find what they name (audit M):
//! the provider's `objects` parse errors (v1.4 to v1.8.2 parseObjects), the driver's
//! mount-time "provider not found", the provider's pod label per installer.

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Chain, Code, diagnose};
use kvchain::snapshot::*;

const VOLUME: &str = "secrets-store-inline";

/// The app's pod failing to mount with the provider's (or driver's) `cause`.
fn failing(cause: &str) -> Snapshot {
    let mut s = tk::healthy();
    tk::unmount(&mut s, APP);
    s.events
        .items
        .push(tk::failed_mount(NS, &tk::pod_name(APP, 0), VOLUME, cause));
    s
}

fn codes(c: &Chain) -> Vec<Code> {
    c.findings().map(|f| f.code).collect()
}

/// A malformed `objects`, as the provider says it, is the parameter's one cause (KVC705),
/// never also "a reason no rule explains" (KVC701).
#[test]
fn the_providers_objects_parse_errors_are_kvc705() {
    for cause in [
        "failed to yaml unmarshal objects, error: yaml: line 4: did not find expected '-' indicator",
        "unmarshal failed for keyVaultObjects at index 1, error: yaml: unmarshal errors:\n  line 2: mapping key \"objectName\" already defined at line 1",
    ] {
        let mut s = failing(cause);
        // The SPCs unreadable: the event alone must say what is wrong.
        s.spcs.gaps.all = Some("cannot list secretproviderclasses: forbidden".into());
        let c = &diagnose(&s)[0];
        assert!(codes(c).contains(&Code::KVC705), "{cause}: {c:#?}");
        assert!(!codes(c).contains(&Code::KVC701), "{cause}: {c:#?}");
    }
}

/// The driver's NodePublishVolume on a node without the Azure provider (v1.5 and v1.6):
/// KVC104, not KVC701 with the log of a provider that is not running.
#[test]
fn provider_not_found_at_mount_is_kvc104() {
    let c = &diagnose(&failing(
        "error connecting to provider \"azure\": provider not found: provider \"azure\"",
    ))[0];
    assert!(codes(c).contains(&Code::KVC104), "{c:#?}");
    assert!(!codes(c).contains(&Code::KVC701), "{c:#?}");
}

/// KVC701's fix reads the provider's log: `app=secrets-store-provider-azure` on the AKS add-on,
/// the chart's `app=csi-secrets-store-provider-azure` with Helm, either when unknown.
#[test]
fn the_provider_log_selector_follows_the_installer() {
    let fix_with = |install: Option<DriverInstall>| {
        let mut s = failing("something no rule knows");
        if let Observed::Known(csi) = &mut s.cluster.csi_driver {
            csi.install = install;
        }
        let c = &diagnose(&s)[0];
        let f = (c.findings().find(|f| f.code == Code::KVC701)).unwrap_or_else(|| panic!("{c:#?}"));
        f.fix.to_string()
    };
    let addon = fix_with(Some(DriverInstall::AksAddon));
    assert!(
        addon.contains("-l app=secrets-store-provider-azure "),
        "{addon}"
    );
    let helm = fix_with(Some(DriverInstall::Helm));
    assert!(
        helm.contains("-l app=csi-secrets-store-provider-azure "),
        "{helm}"
    );
    let unknown = fix_with(None);
    assert!(
        unknown
            .contains("'app in (secrets-store-provider-azure,csi-secrets-store-provider-azure)'"),
        "{unknown}"
    );
}

/// KVC602's confirm shows the disabled version's attributes: `show` is the GET Key Vault refuses
/// for a disabled version (FACTS §5: 403 "Operation get is not allowed on a disabled secret"),
/// while the version listing returns ids and attributes only (FACTS §9).
#[test]
fn a_disabled_versions_confirm_reads_the_version_listing() {
    let mut s = tk::healthy();
    let version = {
        let v = crate::rules_runtime::latest(&mut s);
        v.enabled = false;
        v.version.clone()
    };
    let c = &diagnose(&s)[0];
    let f = (c.findings().find(|f| f.code == Code::KVC602)).unwrap_or_else(|| panic!("{c:#?}"));
    assert!(
        f.confirm.starts_with("az keyvault secret list-versions ")
            && f.confirm
                .contains(&format!("[?ends_with(id, '/{version}')].attributes")),
        "{}",
        f.confirm
    );
    assert!(!f.confirm.contains(" show "), "{}", f.confirm);
}
