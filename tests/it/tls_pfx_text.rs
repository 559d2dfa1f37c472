//! A kubernetes.io/tls entry read from a certificate's secret mounted with `objectFormat: pfx`
//! (audit CCC3). The provider returns a PKCS#12 certificate's secret "as is" when the format
//! asked is pfx, which is base64 text, and decodes it only with `objectEncoding: base64`
//! (FACTS §5; the provider's getSecret); the driver builds a tls Secret from "PEM or PFX input"
//! (FACTS §2), so from the text it builds nothing. A PEM certificate ignores the format.

use kvchain::chain::{self, Chain, Code, LinkKind, Severity};
use kvchain::source::lab::world::World;
use kvchain::source::lab::{MAX_SETTLE, export, scenario};

const CLUSTER: &str = include_str!("../../assets/scenarios/cluster.yaml");
const SHOP: &str = include_str!("../../assets/scenarios/shop.yaml");
const HEALTHY: &str = include_str!("../../assets/scenarios/healthy.yaml");
const CERT_TLS: &str = include_str!("../../assets/scenarios/cert-for-tls.yaml");

/// The cert-for-tls scenario with gateway-tls read as objectType secret in `format`
/// (`encoding` added when set), its certificate of `content_type`.
fn world(content_type: &str, encoding: Option<&str>) -> World {
    let shop = SHOP.replace(
        "    - name: gateway-tls\n      subject: CN=gateway.shop.example\n",
        &format!(
            "    - name: gateway-tls\n      subject: CN=gateway.shop.example\n      contentType: {content_type}\n"
        ),
    );
    assert_ne!(shop, SHOP, "the certificate is in shop.yaml");
    let object = "          objectName: gateway-tls\n          objectType: cert\n";
    assert!(CERT_TLS.contains(object));
    let read_as = format!(
        "          objectName: gateway-tls\n          objectType: secret\n          objectFormat: pfx\n{}",
        encoding.map_or(String::new(), |e| format!(
            "          objectEncoding: {e}\n"
        ))
    );
    let text = [CLUSTER, &shop, HEALTHY, &CERT_TLS.replace(object, &read_as)].join("\n---\n");
    let sc = scenario::parse("pfx", std::path::Path::new("pfx.yaml"), &text).expect("loads");
    let mut w = World::new(sc);
    w.run_until_stable(MAX_SETTLE);
    w
}

fn gateway(chains: &[Chain]) -> Vec<&Chain> {
    let found: Vec<&Chain> = (chains.iter())
        .filter(|c| c.pod.starts_with("gateway-"))
        .collect();
    assert!(!found.is_empty(), "{chains:#?}");
    found
}

fn tls_secret_made(w: &World) -> bool {
    export::snapshot(w)
        .secrets
        .items
        .iter()
        .any(|s| s.namespace == "shop" && s.name == "gateway-tls")
}

#[test]
fn a_pkcs12_certificate_mounted_as_pfx_text_builds_no_tls_secret_and_says_why() {
    let w = world("application/x-pkcs12", None);
    assert!(
        !tls_secret_made(&w),
        "the driver cannot read base64 text as a PFX"
    );
    let snap = export::snapshot(&w);
    assert!(
        (snap.events.items.iter()).any(|e| e.reason == "FailedToCreateSecret"
            && e.message
                .contains("failed to get cert data from file gateway-tls")
            && e.message.contains("pkcs12")),
        "{:#?}",
        snap.events.items
    );
    let chains = chain::diagnose(&snap);
    for c in gateway(&chains) {
        let codes: Vec<Code> = c.findings().map(|f| f.code).collect();
        assert_eq!(codes, [Code::KVC804], "one cause: {c:#?}");
        let f = c.findings().next().unwrap();
        assert_eq!(f.severity, Severity::Error, "{f:#?}");
        assert!(f.message.contains("objectFormat pfx"), "{f:#?}");
        assert!(f.message.contains("base64 text"), "{f:#?}");
        // The app reads the file as it is: the entry gets an object of its own.
        assert!(
            f.fix.contains("objects: add an item {objectName: gateway-tls, objectType: secret, objectAlias: gateway-tls-secret}"),
            "{f:#?}"
        );
        assert!(f.fix.contains("leave objects[0] as it is"), "{f:#?}");
        // The event is this finding's evidence, not a second cause.
        assert!(
            (f.evidence.iter()).any(|e| e.contains("FailedToCreateSecret")),
            "{f:#?}"
        );
        assert_eq!(c.link(LinkKind::Consumers).summary, "blocked: Sync");
    }
}

#[test]
fn with_base64_encoding_or_a_pem_certificate_the_tls_secret_is_built() {
    for (content_type, encoding) in [
        ("application/x-pkcs12", Some("base64")),
        ("application/x-pkcs12", Some("BASE64")),
        ("application/x-pem-file", None),
    ] {
        let w = world(content_type, encoding);
        assert!(tls_secret_made(&w), "{content_type} {encoding:?}");
        let chains = crate::lab_diagnosis::diagnose(&w);
        for c in gateway(&chains) {
            assert!(
                !c.findings().any(|f| f.code == Code::KVC804),
                "{content_type} {encoding:?}: {c:#?}"
            );
        }
    }
}

/// Read from manifests, the vault's content type is unknown: a warning that says what it
/// depends on and how to look it up without printing the value, and a fix that works for
/// either content type (the SPC alone: no container reads the file, so the format is dropped).
#[test]
fn from_manifests_it_is_a_warning_that_says_it_depends_on_the_content_type() {
    let dir = tempfile::tempdir().unwrap();
    let spc = CERT_TLS.replace(
        "          objectName: gateway-tls\n          objectType: cert\n",
        "          objectName: gateway-tls\n          objectType: secret\n          objectFormat: pfx\n",
    );
    let spc_only = (spc.split("\n---\n"))
        .find(|d| d.contains("kind: SecretProviderClass"))
        .expect("the SPC");
    std::fs::write(dir.path().join("gateway.yaml"), spc_only).unwrap();
    let snap = kvchain::source::manifests::load(&[dir.path().to_path_buf()]).expect("loads");
    let chains = chain::diagnose(&snap);
    let spcs = chain::unmounted_spcs(&snap, &chains);
    let kvc804: Vec<_> = (spcs.iter().flat_map(|s| &s.findings))
        .filter(|f| f.code == Code::KVC804)
        .collect();
    assert!(!kvc804.is_empty(), "{spcs:#?}");
    for f in kvc804 {
        assert_eq!(f.severity, Severity::Warning, "{f:#?}");
        assert!(f.message.contains("application/x-pkcs12"), "{f:#?}");
        assert!(
            f.confirm
                .contains("az keyvault secret show --vault-name kv-shop-lab --name gateway-tls --query contentType"),
            "{f:#?}"
        );
        assert!(f.fix.contains("drop objectFormat: pfx"), "{f:#?}");
    }
}
