//! Unit tests of [`super`]: the driver's build of a synced Secret as the lab runs it.

use super::*;
use crate::snapshot::crd::{SecretObject, SecretObjectDataEntry};

fn obj(type_: &str, entries: &[(&str, &str)]) -> SecretObject {
    SecretObject {
        secret_name: Some("s".into()),
        type_: Some(type_.into()),
        data: Some(
            entries
                .iter()
                .map(|(o, k)| SecretObjectDataEntry {
                    object_name: Some(o.to_string()),
                    key: Some(k.to_string()),
                })
                .collect(),
        ),
        ..Default::default()
    }
}

/// FACTS §2: the driver watches only Secrets with its managed label; §11: it does not
/// rewrite a Secret that exists. One of the synced name made by someone else (kubectl,
/// Helm) before the first mount is left as it is: no data written, no owner added (a mount
/// takes AlreadyExists for done), and the rotation reconciler finds none to patch.
#[test]
fn a_secret_of_the_synced_name_without_the_managed_label_is_never_written() {
    let files: Files = [("db".to_string(), b"v".to_vec())].into();
    let key = ("ns".to_string(), "s".to_string());
    let foreign = Secret {
        metadata: ObjectMeta {
            name: Some("s".into()),
            namespace: Some("ns".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    let owner = OwnerReference {
        kind: "ReplicaSet".into(),
        name: "rs".into(),
        uid: "u".into(),
        ..Default::default()
    };
    let spc = SecretProviderClass::new(
        "spc",
        crate::snapshot::crd::SecretProviderClassSpec {
            secret_objects: Some(vec![obj("Opaque", &[("db", "password")])]),
            ..Default::default()
        },
    );
    let now = Timestamp::UNIX_EPOCH;
    for rotation in [false, true] {
        let mut secrets = BTreeMap::from([(key.clone(), foreign.clone())]);
        let uid = || "new".to_string();
        let out = sync_spc(
            &mut secrets,
            "ns",
            &spc,
            &files,
            std::slice::from_ref(&owner),
            rotation,
            uid,
            now,
        );
        assert_eq!(secrets[&key], foreign, "rotation {rotation}");
        match (rotation, out.as_slice()) {
            (false, [SyncOutcome::Unchanged(n)]) => assert_eq!(n, "s"),
            (true, [SyncOutcome::Failed(e)]) => {
                assert_eq!(
                    e,
                    "failed to patch secret s with new data, err: timed out waiting for the condition"
                )
            }
            _ => panic!("rotation {rotation}: unexpected outcome"),
        }
    }
}

#[test]
fn object_name_must_match_the_mounted_file_name() {
    let files = [("alias".to_string(), b"v".to_vec())].into();
    let e = secret_data(&obj("Opaque", &[("db-pass", "password")]), &files).unwrap_err();
    assert_eq!(e, "file matching objectName db-pass not found in the pod");
    assert!(secret_data(&obj("Opaque", &[("alias", "password")]), &files).is_ok());
}

/// Kubernetes ValidateSecret: a dockerconfigjson Secret needs `.dockerconfigjson`
/// holding JSON, a tls one both tls keys; an Opaque one anything.
#[test]
fn the_api_server_refuses_typed_secrets_without_what_their_type_needs() {
    let data = |k: &str, v: &[u8]| -> BTreeMap<String, ByteString> {
        [(k.to_string(), ByteString(v.to_vec()))].into()
    };
    let docker = "kubernetes.io/dockerconfigjson";
    assert_eq!(
        api_refuses(docker, &data(".dockerconfigjson", br#"{"auths":{}}"#)),
        None
    );
    let e = api_refuses(docker, &data(".dockerconfigjson", b"hunter2")).unwrap();
    assert!(
        e.starts_with("data[.dockerconfigjson]: Invalid value"),
        "{e}"
    );
    assert!(!e.contains("hunter2"), "{e}");
    assert_eq!(
        api_refuses(docker, &data("dockerconfigjson", b"{}")).as_deref(),
        Some("data[.dockerconfigjson]: Required value")
    );
    assert_eq!(
        api_refuses("kubernetes.io/tls", &data("tls.crt", b"c")).as_deref(),
        Some("data[tls.key]: Required value")
    );
    assert_eq!(api_refuses("Opaque", &data("x", b"y")), None);
}

#[test]
fn tls_needs_a_private_key_and_only_tls_keys() {
    let cert_only = [(
        "c".to_string(),
        b"-----BEGIN CERTIFICATE-----\nAA\n-----END CERTIFICATE-----\n".to_vec(),
    )]
    .into();
    let e = secret_data(
        &obj("kubernetes.io/tls", &[("c", "tls.key"), ("c", "tls.crt")]),
        &cert_only,
    )
    .unwrap_err();
    // GetSecretData's wrap of getPrivateKey's PFX attempt (FACTS §2).
    assert!(
        e.starts_with("failed to get cert data from file c, err: pkcs12: "),
        "{e}"
    );
    let e = secret_data(&obj("kubernetes.io/tls", &[("c", "cert")]), &cert_only).unwrap_err();
    assert!(e.contains("Only 'tls.key' and 'tls.crt'"), "{e}");
}

/// Each key from its own file: tls.crt the CERTIFICATE blocks of a cert file, tls.key the
/// private key of the certificate's secret file; a PUBLIC KEY goes into neither.
#[test]
fn tls_takes_each_key_from_its_own_file() {
    let files = [
        (
            "crt".to_string(),
            b"-----BEGIN CERTIFICATE-----\nAA\n-----END CERTIFICATE-----\n".to_vec(),
        ),
        (
            "key".to_string(),
            b"-----BEGIN PRIVATE KEY-----\nBB\n-----END PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\nAA\n-----END CERTIFICATE-----\n".to_vec(),
        ),
    ]
    .into();
    let d = secret_data(
        &obj(
            "kubernetes.io/tls",
            &[("crt", "tls.crt"), ("key", "tls.key")],
        ),
        &files,
    )
    .expect("valid");
    assert!(String::from_utf8_lossy(&d["tls.key"].0).contains("PRIVATE KEY"));
    assert!(!String::from_utf8_lossy(&d["tls.key"].0).contains("CERTIFICATE"));
    assert!(String::from_utf8_lossy(&d["tls.crt"].0).contains("CERTIFICATE"));
    let (k, c) = pem_parts(b"-----BEGIN PUBLIC KEY-----\nCC\n-----END PUBLIC KEY-----\n");
    assert!(k.is_empty() && c.is_empty());
}

/// The driver's getPrivateKey takes a PUBLIC KEY block (an objectType key file) for the
/// key, parses no private key from it and returns an empty PRIVATE KEY block, no error: the
/// Secret is made, with an empty key. A file with no certificate for tls.crt fails.
#[test]
fn tls_key_from_a_public_key_is_an_empty_private_key_not_an_error() {
    let files = [
        (
            "crt".to_string(),
            b"-----BEGIN CERTIFICATE-----\nAA\n-----END CERTIFICATE-----\n".to_vec(),
        ),
        (
            "pub".to_string(),
            b"-----BEGIN PUBLIC KEY-----\nCC\n-----END PUBLIC KEY-----\n".to_vec(),
        ),
    ]
    .into();
    let d = secret_data(
        &obj(
            "kubernetes.io/tls",
            &[("crt", "tls.crt"), ("pub", "tls.key")],
        ),
        &files,
    )
    .expect("made, as the driver makes it");
    assert_eq!(
        d["tls.key"].0,
        b"-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n".to_vec()
    );
    let e = secret_data(
        &obj(
            "kubernetes.io/tls",
            &[("pub", "tls.crt"), ("pub", "tls.key")],
        ),
        &files,
    )
    .unwrap_err();
    assert!(
        e.contains("failed to get cert data from file pub, err: pkcs12: "),
        "{e}"
    );
}
