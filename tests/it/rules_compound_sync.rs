//! Compound pods, Sync link (audit 17): a TLS synced Secret the driver cannot build has ONE
//! cause. FACTS §2: `kubernetes.io/tls` takes only `tls.key`/`tls.crt`; the driver's
//! GetSecretData fails with "key '…' is not supported. Only 'tls.key' and 'tls.crt' are
//! supported", and the API server refuses a tls Secret without `tls.key` (the create's
//! backoff error). Both reach the pod as FailedToCreateSecret (FACTS §3), which is KVC804's
//! evidence, never a KVC806 beside it.

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Code, LinkKind};
use kvchain::snapshot::*;

use crate::cause_kit::{codes, one, with};

fn create_failed(message: &str) -> EventObs {
    EventObs {
        namespace: NS.into(),
        involved_kind: "Pod".into(),
        involved_name: tk::pod_name(APP, 0).into(),
        involved_uid: String::new(),
        type_: "Warning".into(),
        reason: "FailedToCreateSecret".into(),
        message: message.into(),
        count: 4,
        source: "csi-secrets-store-controller".into(),
        last_seen: Some(tk::now()),
    }
}

/// The app's synced Secret made `kubernetes.io/tls` from the `password` file with `keys`;
/// the Secret is absent (the driver could not build it) while the pod has the SPC mounted.
fn tls_with_keys(keys: &[&str]) -> Snapshot {
    let mut s = tk::healthy();
    let so = &mut tk::spc_mut(&mut s, APP).secret_objects[0];
    so.type_ = "kubernetes.io/tls".into();
    so.data = keys
        .iter()
        .map(|k| SecretObjectData {
            object_name: "password".into(),
            key: (*k).into(),
        })
        .collect();
    let secret = tk::secret_name(APP);
    s.secrets.items.retain(|x| x.name != secret);
    // Nothing reads it through env here: the reader's own waiting is not this test's point.
    tk::pod_mut(&mut s, APP).containers[0]
        .env
        .retain(|e| e.name != "DB_PASSWORD");
    s
}

/// The API server refuses the tls Secret without tls.key: the controller's create backoff
/// gives up with an event that names no Secret.
#[test]
fn a_refused_tls_create_is_kvc804s_evidence_not_a_kvc806() {
    let mut s = tls_with_keys(&["tls.crt"]);
    s.events
        .items
        .push(create_failed("timed out waiting for the condition"));
    let c = one(&s);
    assert!(with(&c, Code::KVC806).is_empty(), "{:#?}", c.links[LinkKind::Sync.index()]);
    assert_eq!(codes(&c), [Code::KVC804], "{:#?}", c.links);
    let f = with(&c, Code::KVC804)[0];
    assert!(
        f.evidence
            .iter()
            .any(|e| e.starts_with("FailedToCreateSecret") && e.contains("timed out")),
        "{:#?}",
        f.evidence
    );
}

/// The driver names the Secret and the unsupported key: KVC804's own words, one finding.
#[test]
fn an_unsupported_tls_key_event_is_kvc804s_evidence() {
    let mut s = tls_with_keys(&["tls.key", "tls.crt", "ca.crt"]);
    let secret = tk::secret_name(APP);
    s.events.items.push(create_failed(&format!(
        "failed to get data in spc {NS}/{}-kv for secret {secret}, err: failed to get cert data from file /var/lib/kubelet/pods/uid/volumes/kubernetes.io~csi/secrets-store-inline/mount/password, err: key 'ca.crt' is not supported. Only 'tls.key' and 'tls.crt' are supported",
        APP
    )));
    let c = one(&s);
    assert!(with(&c, Code::KVC806).is_empty(), "{:#?}", c.links[LinkKind::Sync.index()]);
    let f = with(&c, Code::KVC804);
    assert_eq!(f.len(), 1, "{:#?}", c.links);
    assert!(
        f[0].evidence.iter().any(|e| e.contains("ca.crt") && e.starts_with("FailedToCreateSecret")),
        "{:#?}",
        f[0].evidence
    );
    assert_eq!(codes(&c), [Code::KVC804], "{:#?}", c.links);
}

/// The app's synced Secret made `kubernetes.io/tls` (tls.key, tls.crt) from a certificate
/// mounted as objectType cert under file `tls-cert` (FACTS §5: the certificate alone).
fn tls_from_cert_object() -> Snapshot {
    let mut s = tls_with_keys(&["tls.key", "tls.crt"]);
    let spc = tk::spc_mut(&mut s, APP);
    for d in &mut spc.secret_objects[0].data {
        d.object_name = "tls-cert".into();
    }
    let objects = tk::objects_yaml(&[
        &[
            ("objectName", &tk::object_name(APP)),
            ("objectType", "secret"),
            ("objectAlias", "password"),
        ],
        &[("objectName", "web-cert"), ("objectType", "cert"), ("objectAlias", "tls-cert")],
    ]);
    spc.parameters.insert("objects".into(), objects);
    tk::reparse(spc);
    s
}

/// A17-8: the app's container mounts the SPC's volume, so it may read the certificate file
/// `tls-cert`; objectType: secret would turn that file into the private key and chain. The
/// fix leaves objects[1] alone and gives the tls entry an object of its own (the provider's
/// documented cert / secret views of one certificate under aliases), naming the reader.
#[test]
fn kvc804_keeps_a_cert_file_another_container_reads() {
    let s = tls_from_cert_object();
    let c = one(&s);
    let f = with(&c, Code::KVC804);
    assert_eq!(f.len(), 1, "{:#?}", c.links);
    let fix = &f[0].fix;
    assert!(!fix.contains("objects[1] (web-cert).objectType: secret"), "{fix}");
    assert!(
        fix.contains("add an item {objectName: web-cert, objectType: secret, objectAlias: tls-cert-secret}"),
        "{fix}"
    );
    assert!(fix.contains("objectName tls-cert to tls-cert-secret"), "{fix}");
    assert!(fix.contains("Deployment/web container app"), "{fix}");
}

/// Another secretObjects entry copying the certificate file (an Opaque `ca.crt`) is a reader
/// too; with no reader at all the object changes in place.
#[test]
fn kvc804_changes_the_object_in_place_only_when_nothing_else_reads_it() {
    let mut s = tls_from_cert_object();
    tk::pod_mut(&mut s, APP).containers[0].mounts.clear();
    let c = one(&s);
    let fix = &with(&c, Code::KVC804)[0].fix;
    assert!(fix.ends_with("objects[1] (web-cert).objectType: secret"), "{fix}");

    tk::spc_mut(&mut s, APP).secret_objects.push(SecretObjectSpec {
        secret_name: "web-ca".into(),
        type_: "Opaque".into(),
        labels: Default::default(),
        data: vec![SecretObjectData {
            object_name: "tls-cert".into(),
            key: "ca.crt".into(),
        }],
    });
    let c = one(&s);
    let fix = &with(&c, Code::KVC804)[0].fix;
    assert!(fix.contains("objectAlias: tls-cert-secret"), "{fix}");
    assert!(fix.contains("secretObjects[web-ca] (key ca.crt)"), "{fix}");
}

/// A key a tls Secret cannot hold, which a container reads: the fix says who else changes.
#[test]
fn kvc804_names_the_readers_of_an_unsupported_key() {
    let mut s = tls_with_keys(&["tls.key", "tls.crt", "ca.crt"]);
    tk::pod_mut(&mut s, APP).containers[0].env.push(EnvObs {
        name: "CA".into(),
        source: EnvSourceObs::SecretKey {
            secret: tk::secret_name(APP).into(),
            key: "ca.crt".into(),
            optional: false,
        },
    });
    let c = one(&s);
    let fix = &with(&c, Code::KVC804)[0].fix;
    assert!(
        fix.contains("Deployment/web container app env CA (key ca.crt) read ca.crt"),
        "{fix}"
    );
}
