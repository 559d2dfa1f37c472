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

/// Another provider's SPC (vault): the driver's own failure to reach that provider on the node
/// is the Pod link's, said with that provider's name and no Azure install; what the provider
/// says of its own backend is not judged.
#[test]
fn another_providers_missing_provider_is_said_on_the_pod_link() {
    let vault = |cause: &str| {
        let mut s = failing(cause);
        crate::cause_kit::vault_provider(&mut s);
        s
    };
    let c = &diagnose(&vault(
        "error connecting to provider \"vault\": provider not found: provider \"vault\"",
    ))[0];
    let f = (c.findings().find(|f| f.code == Code::KVC104)).unwrap_or_else(|| panic!("{c:#?}"));
    assert!(
        f.message.contains("(or its vault provider)"),
        "{}",
        f.message
    );
    assert!(
        !f.fix.contains("enable-addons") && !f.fix.contains("helm "),
        "{}",
        f.fix
    );
    assert!(f.fix.contains("vault provider"), "{}", f.fix);
    // A refusal from the vault provider's backend is not the Azure rules' to read.
    let c = &diagnose(&vault(
        "failed to login: Error making API request. Code: 403. Errors: * permission denied",
    ))[0];
    assert!(
        c.findings()
            .all(|f| f.link == kvchain::chain::LinkKind::Pod),
        "{c:#?}"
    );
}

/// Audit WW6: KVC602 quotes Key Vault's own words, which name the collection in full
/// ("Operation get is not allowed on a disabled certificate.", FACTS §5 for a secret), not the
/// SPC's objectType token (`cert`).
#[test]
fn a_disabled_certificate_is_quoted_in_key_vaults_words() {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    let objects = tk::objects_yaml(&[&[
        ("objectName", &tk::object_name(APP)),
        ("objectType", "cert"),
        ("objectAlias", "password"),
    ]]);
    tk::set_objects(spc, objects);
    tk::object_mut(&mut s, APP).object_type = ObjectType::Cert;
    crate::rules_runtime::latest(&mut s).enabled = false;
    let c = &diagnose(&s)[0];
    let f = (c.findings().find(|f| f.code == Code::KVC602)).unwrap_or_else(|| panic!("{c:#?}"));
    // (The testkit's identity may lack certificates/read: then the finding reads blocked by
    // Access around these words, audit TTT-honest.)
    assert!(
        f.message
            .contains("\"Operation get is not allowed on a disabled certificate.\""),
        "{}",
        f.message
    );
    assert!(!f.message.contains("disabled cert\""), "{}", f.message);
}
