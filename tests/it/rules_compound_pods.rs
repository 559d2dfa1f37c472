//! Compound pods (audit 17): pods with several SPCs, init containers, sidecars, TLS synced
//! Secrets. A TLS synced Secret the driver cannot build has ONE cause. FACTS §2:
//! `kubernetes.io/tls` takes only `tls.key`/`tls.crt`; the driver's GetSecretData fails with
//! "key '…' is not supported. Only 'tls.key' and 'tls.crt' are supported", and the API server
//! refuses a tls Secret without `tls.key` (the create's backoff error). Both reach the pod as
//! FailedToCreateSecret (FACTS §3), which is KVC804's evidence, never a KVC806 beside it.
//! KVC804's fix breaks no other reader of the object or key it changes; a pod mounting two
//! SPCs with two identities gets one AZURE_CLIENT_ID (FACTS §6), said per SPC (KVC204).

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Chain, Code, Finding, LinkKind, Severity, diagnose};
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
        first_seen: None,
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
    assert!(
        with(&c, Code::KVC806).is_empty(),
        "{:#?}",
        c.links[LinkKind::Sync.index()]
    );
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
    assert!(
        with(&c, Code::KVC806).is_empty(),
        "{:#?}",
        c.links[LinkKind::Sync.index()]
    );
    let f = with(&c, Code::KVC804);
    assert_eq!(f.len(), 1, "{:#?}", c.links);
    assert!(
        f[0].evidence
            .iter()
            .any(|e| e.contains("ca.crt") && e.starts_with("FailedToCreateSecret")),
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
        &[
            ("objectName", "web-cert"),
            ("objectType", "cert"),
            ("objectAlias", "tls-cert"),
        ],
    ]);
    tk::set_objects(spc, objects);
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
    assert!(
        !fix.contains("objects[1] (web-cert).objectType: secret"),
        "{fix}"
    );
    assert!(
        fix.contains(
            "add an item {objectName: web-cert, objectType: secret, objectAlias: tls-cert-secret}"
        ),
        "{fix}"
    );
    assert!(
        fix.contains("objectName tls-cert to tls-cert-secret"),
        "{fix}"
    );
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
    assert!(
        fix.ends_with("objects[1] (web-cert).objectType: secret"),
        "{fix}"
    );

    tk::spc_mut(&mut s, APP)
        .secret_objects
        .push(SecretObjectSpec {
            secret_name: "web-ca".into(),
            type_: "Opaque".into(),
            labels: Default::default(),
            annotations: Default::default(),
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
        fix.contains("Deployment/web container app env CA (key ca.crt) reads ca.crt"),
        "{fix}"
    );
}

/// Two SPCs on one pod, each with an identity of its own, both federated for the pod's
/// ServiceAccount (FACTS §5: each mount uses its SPC's clientID; §6: the annotation gives the
/// app one AZURE_CLIENT_ID). `web-kv` uses web's identity, `api-kv` api's.
fn two_identities() -> Snapshot {
    let mut s = tk::healthy();
    tk::add_app(&mut s, NS, "api", 0);
    let fic = FederatedCredentialObs {
        name: "web-on-api".into(),
        issuer: tk::ISSUER.into(),
        subject: format!("system:serviceaccount:{NS}:{}", tk::sa_name(APP)),
        audiences: vec![tk::AUDIENCE.into()],
        modified_at: None,
    };
    if let Observed::Known(v) = &mut tk::identity_mut(&mut s, "api").federated_credentials {
        v.push(fic);
    }
    let pod = tk::pod_mut(&mut s, APP);
    pod.volumes
        .push(tk::csi_volume("api-inline", &tk::spc_name("api")));
    let name = tk::pod_name(APP, 0);
    let spc = tk::spc_name("api");
    s.spc_statuses.items.push(SpcPodStatusObs {
        namespace: NS.into(),
        name: format!("{name}-{NS}-{spc}").into(),
        pod_name: name.clone().into(),
        spc_name: spc.into(),
        mounted: true,
        target_path: format!(
            "/var/lib/kubelet/pods/uid-pod-{NS}-{name}/volumes/kubernetes.io~csi/api-inline/mount"
        ),
        objects: vec![SpcpsObject {
            id: format!("secret/{}", tk::object_name("api")).into(),
            version: tk::V1.into(),
        }],
        updated_at: Some(tk::now()),
        files: None,
        pem_parts: Default::default(),
    });
    s
}

fn kvc204(chains: &[Chain], spc: &str) -> Vec<Finding> {
    chains
        .iter()
        .filter(|c| c.spc == spc)
        .flat_map(|c| c.findings())
        .filter(|f| f.code == Code::KVC204)
        .cloned()
        .collect()
}

/// A17-4: the annotation is web-kv's identity. web-kv's chain agrees; api-kv's says which
/// identity the app gets and that api-kv disagrees, as info (both mounts work), and never
/// tells the user to annotate api's identity (which would make web-kv disagree).
#[test]
fn kvc204_with_two_spcs_keeps_the_annotation_another_spc_agrees_with() {
    let chains = diagnose(&two_identities());
    assert!(
        kvc204(&chains, &tk::spc_name(APP)).is_empty(),
        "{chains:#?}"
    );
    let f = kvc204(&chains, &tk::spc_name("api"));
    assert_eq!(f.len(), 1, "{chains:#?}");
    let (web, api) = (tk::client_id(NS, APP), tk::client_id(NS, "api"));
    assert_eq!(f[0].severity, Severity::Info);
    assert!(
        f[0].message.contains(&format!(
            "AZURE_CLIENT_ID {web} (SecretProviderClass web-kv's identity)"
        )) && f[0]
            .message
            .contains("SecretProviderClass api-kv disagrees"),
        "{}",
        f[0].message
    );
    assert!(!f[0].fix.contains("kubectl annotate"), "{}", f[0].fix);
    assert!(
        !f[0].fix.contains(&format!("client-id={api}")),
        "{}",
        f[0].fix
    );
}

/// The annotation is neither SPC's: both chains say so, and both give the SAME annotation —
/// the identity the running pod holds (web's, injected at creation) — not one each.
#[test]
fn kvc204_with_two_spcs_and_a_foreign_annotation_gives_one_annotation() {
    let mut s = two_identities();
    tk::pod_mut(&mut s, APP).containers[0].env.push(EnvObs {
        name: "AZURE_CLIENT_ID".into(),
        source: EnvSourceObs::Literal {
            value: Some(tk::client_id(NS, APP)),
        },
    });
    tk::sa_mut(&mut s, APP).annotations.insert(
        "azure.workload.identity/client-id".into(),
        "11111111-2222-3333-4444-555555555555".into(),
    );
    let chains = diagnose(&s);
    let web = kvc204(&chains, &tk::spc_name(APP));
    let api = kvc204(&chains, &tk::spc_name("api"));
    assert_eq!((web.len(), api.len()), (1, 1), "{chains:#?}");
    assert_eq!(web[0].fix, api[0].fix);
    assert!(
        web[0]
            .fix
            .contains(&format!("client-id={} --overwrite", tk::client_id(NS, APP))),
        "{}",
        web[0].fix
    );
    assert!(
        api[0].message.contains("which none of them uses"),
        "{}",
        api[0].message
    );
}

/// A17-9: a native sidecar (an init container with restartPolicy: Always, listed under
/// `initContainers` and `initContainerStatuses`, Kubernetes "Sidecar containers") that reads
/// the synced Secret through env, and an init container mounting the CSI volume by subPath.
/// Their confirm commands select them where they live; a `containers[*]` path never shows them.
#[test]
fn confirms_for_init_containers_and_sidecars_point_where_they_live() {
    let mut s = tk::healthy();
    let started = tk::ago(jiff::SignedDuration::from_hours(1));
    let pod = tk::pod_mut(&mut s, APP);
    pod.containers.insert(
        0,
        ContainerObs {
            name: "proxy".into(),
            init: true,
            env: vec![EnvObs {
                name: "PW".into(),
                source: EnvSourceObs::SecretKey {
                    secret: tk::secret_name(APP).into(),
                    key: "password".into(),
                    optional: false,
                },
            }],
            state: ContainerStateObs::Running {
                started_at: started,
            },
            ..ContainerObs::default()
        },
    );
    pod.containers.insert(
        0,
        ContainerObs {
            name: "init-copy".into(),
            init: true,
            mounts: vec![MountObs {
                volume: "secrets-store-inline".into(),
                path: "/etc/pw".into(),
                sub_path: Some("password".into()),
                read_only: true,
            }],
            // Still running (a native sidecar): one that ran to completion reads the file no
            // more and has no KVC102 (audit U3).
            state: ContainerStateObs::Running {
                started_at: started,
            },
            ..ContainerObs::default()
        },
    );
    // Rotated since the containers started: the env copies are stale (KVC901).
    let secret = tk::secret_mut(&mut s, APP);
    secret.updated_at = Some(tk::ago(jiff::SignedDuration::from_mins(10)));
    let c = one(&s);
    let sidecar = with(&c, Code::KVC901)
        .into_iter()
        .find(|f| f.message.contains("container proxy"))
        .unwrap_or_else(|| panic!("{:#?}", c.links));
    assert!(
        sidecar.confirm.contains(
            r#"{.status.initContainerStatuses[?(@.name=="proxy")].state.running.startedAt}"#
        ),
        "{}",
        sidecar.confirm
    );
    let copy = with(&c, Code::KVC102)
        .into_iter()
        .find(|f| f.message.contains("container init-copy"))
        .unwrap_or_else(|| panic!("{:#?}", c.links));
    assert!(
        copy.confirm.contains(
            r#"{.spec.template.spec.initContainers[?(@.name=="init-copy")].volumeMounts}"#
        ),
        "{}",
        copy.confirm
    );
    assert!(
        copy.evidence
            .iter()
            .any(|e| e.starts_with("initContainers[init-copy]"))
    );
}

/// `container` of the app's pod (an init container when `init`) reads key `key` of the synced
/// Secret through env.
fn reads_key(s: &mut Snapshot, container: &str, init: bool, key: &str) {
    let reader = ContainerObs {
        name: container.into(),
        init,
        env: vec![EnvObs {
            name: "K".into(),
            source: EnvSourceObs::SecretKey {
                secret: tk::secret_name(APP).into(),
                key: key.into(),
                optional: false,
            },
        }],
        ..ContainerObs::default()
    };
    tk::pod_mut(s, APP).containers.push(reader);
}

/// A17-11: an init container, a second container and a secret volume of one Deployment each
/// ask the synced Secret (it has only `password`) for a key it lacks (codes.yaml KVC905). One
/// finding for the Deployment names every reader and key, in its message, evidence and fix.
#[test]
fn kvc905_names_every_reader_and_key_it_lacks() {
    let mut s = tk::healthy();
    reads_key(&mut s, "migrate", true, "apikey");
    reads_key(&mut s, "worker", false, "token");
    tk::pod_mut(&mut s, APP).volumes.push(VolumeObs {
        name: "ca".into(),
        source: VolumeSourceObs::Secret {
            secret_name: tk::secret_name(APP).into(),
            optional: false,
            keys: vec!["ca.crt".into()],
            paths: vec!["ca.crt".into()],
        },
    });
    let c = one(&s);
    let f = with(&c, Code::KVC905);
    assert_eq!(f.len(), 1, "{:#?}", c.links);
    let f = f[0];
    for (reader, key) in [
        ("container migrate env K (key apikey)", "apikey"),
        ("container worker env K (key token)", "token"),
        ("volume ca", "ca.crt"),
    ] {
        let line = format!("{reader}: key {key}");
        assert!(
            f.evidence.iter().any(|e| **e == *line),
            "{line}: {:#?}",
            f.evidence
        );
        assert!(
            f.message.contains(&format!("{reader} asks for {key}")),
            "{}",
            f.message
        );
        assert!(
            f.fix.contains(&format!("{reader}: ask for a key")),
            "{}",
            f.fix
        );
    }
    assert_eq!(f.severity, kvchain::chain::Severity::Error);
    assert_eq!(c.root_cause().map(|r| r.code), Some(Code::KVC905));
}

/// A17-12: `objectVersionHistory: 2` writes `<alias>/0` and `<alias>/1` (FACTS §5). An entry
/// naming `/2` is past the history: the fix raises it (or names a lower index), not the
/// nearest file another key already copies; one naming `<objectName>/1` where an alias names
/// the files gets the alias. The evidence names each entry by its data index.
#[test]
fn kvc801_says_a_history_index_past_the_history_and_the_alias_meant() {
    let mut s = tk::healthy();
    let objects = tk::objects_yaml(&[&[
        ("objectName", &tk::object_name(APP)),
        ("objectType", "secret"),
        ("objectAlias", "password"),
        ("objectVersionHistory", "2"),
    ]]);
    let spc = tk::spc_mut(&mut s, APP);
    tk::set_objects(spc, objects);
    let obj = tk::object_name(APP);
    spc.secret_objects[0].data = [
        ("password/0", "current"),
        ("password/2", "older"),
        (&format!("{obj}/1") as &str, "previous"),
    ]
    .map(|(o, k)| SecretObjectData {
        object_name: o.into(),
        key: k.into(),
    })
    .into();
    let c = one(&s);
    let f = with(&c, Code::KVC801);
    assert_eq!(f.len(), 1, "{:#?}", c.links);
    let f = f[0];
    assert!(
        f.fix
            .contains(&format!("objects[0] ({obj}).objectVersionHistory: 3")),
        "{}",
        f.fix
    );
    assert!(
        !f.fix.contains("data[key=older].objectName: password/0"),
        "{}",
        f.fix
    );
    assert!(
        f.fix.contains("data[key=previous].objectName: password/1"),
        "{}",
        f.fix
    );
    let secret = tk::secret_name(APP);
    assert!(
        f.evidence.iter().any(|e| **e
            == *format!("secretObjects[{secret}].data[1]: {{objectName: password/2, key: older}}")),
        "{:#?}",
        f.evidence
    );
}
