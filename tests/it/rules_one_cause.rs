//! One symptom, one cause (README, codes.yaml): a mount event that only proves a fault the
//! SecretProviderClass (or the Secret it names) already shows is evidence of that finding,
//! never a second root cause on another link, and the finding names the object at fault.
//! - README: placeholders are "reported once as unrendered (KVC306) … and not validated";
//!   codes.yaml KVC306: an error once a driver event fails on it, downstream then blocked.
//! - codes.yaml KVC302: an invalid tenant (`tid`) and an invalid vault name are KVC302.
//! - FACTS §5 / docs/scenarios.md: the service-principal keys `clientid`/`clientsecret` are
//!   read from the nodePublishSecretRef Secret, an empty value counting as missing.

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Code, LinkKind, Severity, Status};
use kvchain::fingerprint::Fingerprint;
use kvchain::snapshot::*;

use super::cause_kit::*;

const UNRENDERED: &str = "${USER_ASSIGNED_CLIENT_ID}";

fn with_param(key: &str, value: &str) -> Snapshot {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters.insert(key.into(), value.into());
    tk::reparse(spc);
    s
}

/// Not validated: no identity lookup of the placeholder (KVC301) beside KVC306, which stays
/// a warning while nothing is seen failing on it.
#[test]
fn an_unrendered_client_id_is_reported_once_and_not_looked_up() {
    let mut s = with_param("clientID", UNRENDERED);
    tk::unmount(&mut s, APP);
    let c = one(&s);
    assert!(!codes(&c).contains(&Code::KVC301), "{:?}", codes(&c));
    let f = with(&c, Code::KVC306);
    assert_eq!(f.len(), 1, "{:?}", codes(&c));
    assert_eq!(f[0].severity, Severity::Warning);
    assert!(f[0].message.contains(UNRENDERED), "{}", f[0].message);
}

/// The driver's AADSTS700016 quoting the placeholder is KVC306 failing at run time: an error,
/// with the event as its evidence, and the links after it blocked by Identity — not KVC301
/// ("no identity has clientId ${…}") as the cause.
#[test]
fn a_mount_failing_on_an_unrendered_client_id_makes_kvc306_the_one_error() {
    let s = with_param("clientID", UNRENDERED);
    let c = one(&failing_with(s, &aadsts700016(UNRENDERED, tk::TENANT)));
    assert_eq!(codes(&c), [Code::KVC306], "{:#?}", c.links);
    let f = find(&c, Code::KVC306);
    assert_eq!(f.severity, Severity::Error);
    assert!(has_event(f), "{:?}", f.evidence);
    // The pod's service account names the identity meant: the fix says it, no placeholder.
    assert!(f.fix.contains(&tk::client_id(NS, APP)), "{}", f.fix);
    assert_eq!(c.link(LinkKind::Identity).status, Status::Broken);
    assert_eq!(c.link(LinkKind::Mount).summary, "blocked: Identity");
}

/// An AADSTS700016 at the tenant `tid` (what Entra said before AADSTS90002) is the invalid
/// tenant KVC302 names: no second error on Federation that says "nothing to change, wait",
/// and Mount and Sync both wait on Identity.
#[test]
fn aadsts700016_at_an_invalid_tenant_is_evidence_of_kvc302() {
    let s = with_param("tenantId", "tid");
    let c = one(&failing_with(
        s,
        &aadsts700016(&tk::client_id(NS, APP), "tid"),
    ));
    assert_eq!(codes(&c), [Code::KVC302], "{:#?}", c.links);
    let f = find(&c, Code::KVC302);
    assert!(has_event(f), "{:?}", f.evidence);
    assert_eq!(f.severity, Severity::Error);
    assert_ne!(c.link(LinkKind::Federation).status, Status::Broken);
    assert_eq!(c.link(LinkKind::Mount).summary, "blocked: Identity");
}

/// FACTS §5: `failed to get vault: Invalid vault name` is the provider rejecting the name
/// KVC302 already names: its proof, not KVC701 ("no rule explains") on the Mount link.
#[test]
fn an_invalid_vault_name_event_is_evidence_of_kvc302() {
    let s = with_param("keyvaultName", "kv_shop");
    let event =
        "failed to get vault: Invalid vault name: \"kv_shop\", must match [-a-zA-Z0-9]{3,24}";
    let c = one(&failing_with(s, event));
    assert_eq!(codes(&c), [Code::KVC302], "{:#?}", c.links);
    assert!(has_event(find(&c, Code::KVC302)));
    assert_eq!(c.link(LinkKind::Mount).summary, "blocked: Identity");
}

/// KVC302 quotes the message the provider gives for the name (FACTS §5: the length is checked
/// before the characters), as the FailedMount beside it does.
#[test]
fn an_invalid_vault_name_is_refused_in_the_providers_words() {
    for (name, says) in [
        (
            "kv-shop-lab-way-too-long-name",
            "must be between 3 and 24 chars",
        ),
        ("kv", "must be between 3 and 24 chars"),
        ("kv_shop", "must match [-a-zA-Z0-9]{3,24}"),
    ] {
        let c = one(&with_param("keyvaultName", name));
        let f = find(&c, Code::KVC302);
        assert!(
            f.message
                .contains(&format!("Invalid vault name: {name:?}, {says}")),
            "{name}: {}",
            f.message
        );
    }
}

/// The healthy app in service-principal mode (FACTS §5): no clientID, its pods' volume names
/// nodePublishSecretRef `sp-creds`, a Secret with both keys whose values are `values`.
fn service_principal(values: [Fingerprint; 2]) -> Snapshot {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters.remove("clientID");
    tk::reparse(spc);
    for p in &mut s.pods.items {
        for v in &mut p.volumes {
            if let VolumeSourceObs::Csi {
                node_publish_secret,
                ..
            } = &mut v.source
            {
                *node_publish_secret = Some("sp-creds".into());
            }
        }
    }
    let [id, secret] = values;
    s.secrets.items.push(SecretObs {
        namespace: NS.into(),
        name: "sp-creds".into(),
        type_: "Opaque".into(),
        data: [
            ("ClientID".to_string(), id),
            ("clientSecret".to_string(), secret),
        ]
        .into_iter()
        .collect(),
        ..SecretObs::default()
    });
    s
}

/// Whether a fix edits the Secret `sp-creds` (and not the SecretProviderClass).
fn edits_the_secret(fix: &str) -> bool {
    fix.contains("secret sp-creds") && !fix.contains("secretproviderclass")
}

/// An empty value counts as missing: the Secret is at fault, named with its field, and the
/// fix edits that Secret — before any mount fails, where the values were fingerprinted here.
#[test]
fn an_empty_clientsecret_names_the_secret_and_its_field() {
    let s = service_principal([Fingerprint::of(b"app-id"), Fingerprint::of(b"")]);
    let c = one(&s);
    let f = find(&c, Code::KVC302);
    assert_eq!(f.resource, "Secret/sp-creds");
    assert!(
        f.message.contains("clientSecret") && f.message.contains("empty"),
        "{}",
        f.message
    );
    assert!(edits_the_secret(&f.fix), "{}", f.fix);
    assert!(f.fix.contains("\"clientSecret\""), "{}", f.fix);
}

/// A replayed snapshot's fingerprints cannot tell an empty value: the provider's words
/// (`could not find clientsecret in secrets`) then name the Secret, not "the provider rejected
/// the SecretProviderClass parameters" with an SPC edit.
#[test]
fn could_not_find_clientsecret_names_the_secret_not_the_spc() {
    let s = service_principal([Fingerprint::of(b"app-id"), Fingerprint::of(b"unknown")]);
    let event = "failed to build auth config for mode None: could not find clientsecret in secrets";
    let c = one(&failing_with(s, event));
    assert_eq!(codes(&c), [Code::KVC302], "{:#?}", c.links);
    let f = find(&c, Code::KVC302);
    assert_eq!(f.resource, "Secret/sp-creds");
    assert!(f.message.contains("clientsecret"), "{}", f.message);
    assert!(
        !f.message.contains("SecretProviderClass parameters"),
        "{}",
        f.message
    );
    assert!(has_event(f), "{:?}", f.evidence);
    assert!(edits_the_secret(&f.fix), "{}", f.fix);
}
