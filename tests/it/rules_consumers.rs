//! The Consumers link against the documented behaviour (FACTS §2, §4, §10; docs/codes.yaml
//! KVC901–KVC905): keys a synced Secret cannot have, stale copies decided per key, consumers
//! that do not mount the SPC, and restart advice that fits the owner.

use jiff::SignedDuration;
use kvchain::chain::testkit::{self as tk, APP, NS, V2};
use kvchain::chain::{Chain, Code, Finding, LinkKind, Severity, Status, diagnose};
use kvchain::snapshot::*;

fn all(chains: &[Chain]) -> Vec<(Code, Severity, String)> {
    chains
        .iter()
        .flat_map(|c| c.findings())
        .map(|f| (f.code, f.severity, f.message.to_string()))
        .collect()
}

fn with(chains: &[Chain], code: Code) -> Vec<Finding> {
    chains
        .iter()
        .flat_map(|c| c.findings())
        .filter(|f| f.code == code)
        .cloned()
        .collect()
}

fn one(chains: &[Chain], code: Code) -> Finding {
    let found = with(chains, code);
    assert!(!found.is_empty(), "{code} not found in {:#?}", all(chains));
    found[0].clone()
}

fn set_env_key(s: &mut Snapshot, key: &str, optional: bool) {
    let pod = tk::pod_mut(s, APP);
    for e in pod.containers[0].env.iter_mut() {
        if let EnvSourceObs::SecretKey {
            key: k,
            optional: o,
            ..
        } = &mut e.source
        {
            *k = key.into();
            *o = optional;
        }
    }
}

// ---- P1: a key the synced Secret does not have ----

/// KVC801/§2: the synced Secret holds exactly the keys of `secretObjects[].data[].key`. An env
/// var asking for another key keeps its container in CreateContainerConfigError.
#[test]
fn consumers_an_env_key_the_synced_secret_lacks_is_kvc905() {
    let mut s = tk::healthy();
    set_env_key(&mut s, "username", false);
    let chains = diagnose(&s);
    let f = one(&chains, Code::KVC905);
    assert_eq!(f.severity, Severity::Error);
    assert_eq!(f.link, LinkKind::Consumers);
    assert!(f.message.contains("key username"), "{}", f.message);
    // Pasteable: the fix names the key the Secret does have.
    assert!(f.fix.contains("password"), "{}", f.fix);
    assert!(
        f.fix
            .starts_with(&format!("kubectl edit deployment/{APP} -n {NS}")),
        "{}",
        f.fix
    );
    assert_eq!(
        chains[0].link(LinkKind::Consumers).status,
        Status::Broken,
        "{:#?}",
        all(&chains)
    );
    // One cause: nothing else.
    let codes: Vec<Code> = all(&chains).into_iter().map(|c| c.0).collect();
    assert_eq!(codes, [Code::KVC905], "{:#?}", all(&chains));
}

/// An `optional` secretKeyRef whose key is missing leaves the variable unset and the
/// container starts: no error.
#[test]
fn consumers_an_optional_env_key_the_secret_lacks_is_no_error() {
    let mut s = tk::healthy();
    set_env_key(&mut s, "username", true);
    let chains = diagnose(&s);
    assert!(
        all(&chains)
            .iter()
            .all(|(_, sev, _)| *sev == Severity::Info),
        "{:#?}",
        all(&chains)
    );
    assert_eq!(chains[0].link(LinkKind::Consumers).status, Status::Ok);
}

/// A secret volume's `items[].key` naming a key the Secret lacks fails the volume's mount.
#[test]
fn consumers_a_volume_item_key_the_secret_lacks_is_kvc905() {
    let mut s = tk::healthy();
    let secret = tk::secret_name(APP);
    let pod = tk::pod_mut(&mut s, APP);
    pod.volumes.push(VolumeObs {
        name: "db".into(),
        source: VolumeSourceObs::Secret {
            secret_name: secret.as_str().into(),
            optional: false,
            keys: vec!["username".into()],
            paths: vec!["username".into()],
        },
    });
    let f = one(&diagnose(&s), Code::KVC905);
    assert_eq!(f.severity, Severity::Error);
    assert!(f.message.contains("volume db"), "{}", f.message);
    assert!(f.message.contains("username"), "{}", f.message);
    // The same key the Secret has: nothing to say.
    if let VolumeSourceObs::Secret { keys, .. } =
        &mut tk::pod_mut(&mut s, APP).volumes.last_mut().unwrap().source
    {
        *keys = vec!["password".into()];
    }
    assert!(with(&diagnose(&s), Code::KVC905).is_empty());
}

/// At run time the container waits with CreateContainerConfigError naming the Secret: that
/// is evidence of the same finding, not a second one.
#[test]
fn consumers_a_create_container_config_error_is_evidence_on_kvc905() {
    let mut s = tk::healthy();
    set_env_key(&mut s, "username", false);
    let secret = tk::secret_name(APP);
    tk::pod_mut(&mut s, APP).containers[0].state = ContainerStateObs::Waiting {
        reason: "CreateContainerConfigError".into(),
        message: format!("couldn't find key username in Secret {NS}/{secret}"),
    };
    let chains = diagnose(&s);
    let found = with(&chains, Code::KVC905);
    assert_eq!(found.len(), 1, "{:#?}", all(&chains));
    assert!(
        found[0]
            .evidence
            .iter()
            .any(|e| e.contains("CreateContainerConfigError")
                && e.contains(&format!(
                    "couldn't find key username in Secret {NS}/{secret}"
                ))),
        "{:#?}",
        found[0].evidence
    );
    assert_eq!(all(&chains).len(), 1, "{:#?}", all(&chains));
}

/// `check -f`: the same mismatch is visible from the manifests alone (a CronJob template).
#[test]
fn consumers_a_wrong_key_is_found_in_manifests() {
    let text = r#"
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata: {name: app-kv, namespace: demo}
spec:
  provider: azure
  parameters:
    clientID: 0b9c5e1a-7d2f-4c3e-9a8b-1f2e3d4c5b6a
    keyvaultName: kv-demo
    tenantID: 5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b
    objects: |
      array:
        - |
          objectName: db-password
          objectType: secret
  secretObjects:
    - secretName: app-db
      type: Opaque
      data:
        - {objectName: db-password, key: password}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: app
  namespace: demo
  annotations: {azure.workload.identity/client-id: 0b9c5e1a-7d2f-4c3e-9a8b-1f2e3d4c5b6a}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: demo}
spec:
  selector: {matchLabels: {app: app}}
  template:
    metadata:
      labels: {app: app, azure.workload.identity/use: "true"}
    spec:
      serviceAccountName: app
      containers:
        - name: c
          image: busybox
          env:
            - name: DB_USER
              valueFrom: {secretKeyRef: {name: app-db, key: username}}
          volumeMounts:
            - {name: s, mountPath: /mnt, readOnly: true}
      volumes:
        - name: s
          csi:
            driver: secrets-store.csi.k8s.io
            readOnly: true
            volumeAttributes: {secretProviderClass: app-kv}
"#;
    let snap = kvchain::source::manifests::load_str("one.yaml", text).expect("loads");
    let chains = diagnose(&snap);
    let f = one(&chains, Code::KVC905);
    assert_eq!(f.severity, Severity::Error);
    assert!(f.message.contains("username"), "{}", f.message);
    assert!(f.fix.contains("password"), "{}", f.fix);
}

// ---- P6: per key, not per Secret write ----

/// A second key `apikey` backed by its own object `api-key` (one version, created long before
/// the pod), read by env var API_KEY.
fn with_second_key(s: &mut Snapshot) {
    let vault = tk::vault_name(NS);
    let objects = tk::objects_yaml(&[
        &[
            ("objectName", &tk::object_name(APP)),
            ("objectType", "secret"),
            ("objectAlias", "password"),
        ],
        &[("objectName", "api-key"), ("objectType", "secret")],
    ]);
    let spc = s
        .spcs
        .items
        .iter_mut()
        .find(|x| x.name == tk::spc_name(APP))
        .unwrap();
    tk::set_objects(spc, objects);
    spc.secret_objects[0].data.push(SecretObjectData {
        object_name: "api-key".into(),
        key: "apikey".into(),
    });
    let fp = Fingerprint::of(b"api-key-value");
    tk::secret_mut(s, APP).data.insert("apikey".into(), fp);
    for st in s.spc_statuses.items.iter_mut() {
        st.objects.push(SpcpsObject {
            id: "secret/api-key".into(),
            version: V2.into(),
        });
        st.objects.sort_by(|a, b| a.id.cmp(&b.id));
    }
    s.azure.objects.push(VaultObjectObs {
        vault,
        object_type: ObjectType::Secret,
        name: "api-key".into(),
        state: Observed::Known(Some(VaultObject {
            versions: vec![ObjectVersion {
                version: V2.into(),
                enabled: true,
                created: Some(tk::ago(SignedDuration::from_hours(24 * 30))),
                expires: None,
                not_before: None,
                fingerprint: None,
            }],
            content_type: None,
            backs_certificate: false,
            key_exportable: None,
            key_exportable_unknown: None,
            latest_fingerprint: Some(fp),
        })),
    });
    let secret = tk::secret_name(APP);
    tk::pod_mut(s, APP).containers[0].env.push(EnvObs {
        name: "API_KEY".into(),
        source: EnvSourceObs::SecretKey {
            secret: secret.as_str().into(),
            key: "apikey".into(),
            optional: false,
        },
    });
}

/// db-password rotated after the container started (new version created then, the Secret
/// rewritten then).
fn rotate_password(s: &mut Snapshot) {
    let at = tk::ago(SignedDuration::from_mins(5));
    tk::secret_mut(s, APP).updated_at = Some(at);
    if let Observed::Known(Some(o)) = &mut tk::object_mut(s, APP).state {
        o.versions[0].created = Some(at);
    }
}

/// FACTS §4: only the rotated key's value changed; the env var of the other key holds the
/// value the Secret holds now.
#[test]
fn consumers_an_env_var_of_a_key_that_did_not_change_is_not_stale() {
    let mut s = tk::healthy();
    with_second_key(&mut s);
    rotate_password(&mut s);
    let chains = diagnose(&s);
    let stale = with(&chains, Code::KVC901);
    // DB_PASSWORD (key password) did change: that one holds the old value.
    let pw: Vec<&Finding> = stale
        .iter()
        .filter(|f| f.message.contains("DB_PASSWORD"))
        .collect();
    assert_eq!(pw.len(), 1, "{:#?}", all(&chains));
    assert_eq!(pw[0].severity, Severity::Error);
    assert!(
        pw[0].message.contains("holds the old value"),
        "{}",
        pw[0].message
    );
    // API_KEY (key apikey) did not: no claim it holds an old value.
    for f in stale.iter().filter(|f| f.message.contains("API_KEY")) {
        assert_eq!(f.severity, Severity::Info, "{f:#?}");
        assert!(!f.message.contains("holds the old value"), "{}", f.message);
    }
    // Only API_KEY read from the Secret: nothing is stale.
    tk::pod_mut(&mut s, APP).containers[0]
        .env
        .retain(|e| e.name != "DB_PASSWORD");
    let chains = diagnose(&s);
    assert!(
        with(&chains, Code::KVC901)
            .iter()
            .all(|f| f.severity == Severity::Info),
        "{:#?}",
        all(&chains)
    );
    assert_eq!(chains[0].link(LinkKind::Consumers).status, Status::Ok);
}

/// With the vault objects not observed, which key changed is not known: "may hold", a
/// warning, never the definite error.
#[test]
fn consumers_an_unknown_per_key_change_may_hold_the_old_value() {
    let mut s = tk::healthy();
    rotate_password(&mut s);
    tk::object_mut(&mut s, APP).state = Observed::unknown("not read");
    let chains = diagnose(&s);
    let f = one(&chains, Code::KVC901);
    assert_eq!(f.severity, Severity::Warning, "{f:#?}");
    assert!(
        f.message.contains("may hold the old value"),
        "{}",
        f.message
    );
}

// ---- P4: consumers that do not mount the SPC go stale too ----

/// A bare pod `reader` that does not mount the SPC and reads the synced Secret by subPath:
/// a `secret` volume and a projected volume's `secret` source.
fn subpath_reader(s: &mut Snapshot) {
    let secret = tk::secret_name(APP);
    let mut reader = s.pods.items[0].clone();
    reader.name = "reader".into();
    reader.owners = vec![tk::owner("ReplicaSet", "reader-5d8f7")];
    reader.volumes = vec![
        VolumeObs {
            name: "dbsecret".into(),
            source: VolumeSourceObs::Secret {
                secret_name: secret.as_str().into(),
                optional: false,
                keys: vec![],
                paths: vec![],
            },
        },
        VolumeObs {
            name: "proj".into(),
            source: VolumeSourceObs::Projected {
                token_audiences: vec![],
                secrets: vec![secret.as_str().into()],
                secret_items: vec![],
            },
        },
    ];
    let started = tk::ago(SignedDuration::from_hours(1));
    reader.containers = vec![
        ContainerObs {
            name: "sub".into(),
            mounts: vec![MountObs {
                volume: "dbsecret".into(),
                path: "/etc/db/password".into(),
                sub_path: Some("password".into()),
                read_only: true,
            }],
            state: ContainerStateObs::Running {
                started_at: started,
            },
            ..ContainerObs::default()
        },
        ContainerObs {
            name: "proj".into(),
            mounts: vec![MountObs {
                volume: "proj".into(),
                path: "/etc/proj/password".into(),
                sub_path: Some("password".into()),
                read_only: true,
            }],
            state: ContainerStateObs::Running {
                started_at: started,
            },
            ..ContainerObs::default()
        },
    ];
    tk::deployment_with_replica_set(s, "reader", "reader-5d8f7");
    s.pods.items.push(reader);
}

/// FACTS §4: subPath mounts never see rotated content, whoever mounts the SPC. KVC903 stays
/// (a different cause), KVC901 names each stale file of the reader, whose fix restarts the
/// reader; the projected source counts as a consumer.
#[test]
fn consumers_a_subpath_reader_without_the_spc_goes_stale_after_rotation() {
    let mut s = tk::healthy();
    subpath_reader(&mut s);
    rotate_password(&mut s);
    let chains = diagnose(&s);
    let not_mounted = one(&chains, Code::KVC903);
    assert_eq!(not_mounted.resource, "Deployment/reader");
    assert!(
        not_mounted.evidence.iter().any(|e| e.contains("proj")),
        "projected source counted: {:#?}",
        not_mounted.evidence
    );
    let stale: Vec<Finding> = with(&chains, Code::KVC901)
        .into_iter()
        .filter(|f| f.resource == "Pod/reader")
        .collect();
    assert!(
        stale
            .iter()
            .any(|f| f.message.contains("/etc/db/password") && f.severity == Severity::Error),
        "{:#?}",
        all(&chains)
    );
    assert!(
        stale
            .iter()
            .any(|f| f.message.contains("/etc/proj/password") && f.severity == Severity::Error),
        "{:#?}",
        all(&chains)
    );
    for f in &stale {
        assert_eq!(
            f.fix.as_ref() as &str,
            format!("kubectl rollout restart deployment/reader -n {NS}"),
            "{f:#?}"
        );
    }
    // Not rotated: no stale file.
    let mut s = tk::healthy();
    subpath_reader(&mut s);
    assert!(with(&diagnose(&s), Code::KVC901).is_empty());
}

// ---- P8: Reloader restarts Deployments, DaemonSets, StatefulSets only ----

fn owned_by(s: &mut Snapshot, owners: Vec<OwnerRef>) {
    for p in s.pods.items.iter_mut() {
        p.owners = owners.clone();
    }
    s.workloads
        .items
        .retain(|w| w.name != APP && w.name != tk::replica_set(APP));
}

/// FACTS §10: a Job is never restarted by Reloader: no annotate fix; at most an info that a
/// run reads the Secret once, at start.
#[test]
fn consumers_a_job_gets_no_reloader_fix() {
    let mut s = tk::healthy();
    owned_by(&mut s, vec![tk::owner("Job", "migrate")]);
    s.workloads.items.push(WorkloadObs {
        kind: "Job".into(),
        namespace: NS.into(),
        name: "migrate".into(),
        uid: "uid-job".into(),
        ..WorkloadObs::default()
    });
    let chains = diagnose(&s);
    for f in with(&chains, Code::KVC902) {
        assert_eq!(f.severity, Severity::Info, "{f:#?}");
        assert!(!f.fix.contains("kubectl annotate"), "{}", f.fix);
        assert!(!f.fix.contains("reloader.stakater.com"), "{}", f.fix);
        assert!(f.message.contains("once"), "{}", f.message);
    }
    assert!(
        all(&chains)
            .iter()
            .all(|(_, sev, _)| *sev == Severity::Info),
        "{:#?}",
        all(&chains)
    );
}

/// A CronJob's runs each start fresh and read the current Secret: no KVC902 at all.
#[test]
fn consumers_a_cronjob_gets_no_kvc902() {
    let mut s = tk::healthy();
    owned_by(&mut s, vec![tk::owner("Job", "nightly-29000000")]);
    s.workloads.items.push(WorkloadObs {
        kind: "Job".into(),
        namespace: NS.into(),
        name: "nightly-29000000".into(),
        uid: "uid-job".into(),
        owners: vec![tk::owner("CronJob", "nightly")],
        ..WorkloadObs::default()
    });
    s.workloads.items.push(WorkloadObs {
        kind: "CronJob".into(),
        namespace: NS.into(),
        name: "nightly".into(),
        uid: "uid-cronjob".into(),
        ..WorkloadObs::default()
    });
    let chains = diagnose(&s);
    assert!(
        with(&chains, Code::KVC902).is_empty(),
        "{:#?}",
        all(&chains)
    );
}

// ---- imagePullSecrets: a synced docker config is consumed by the kubelet ----

/// A pod `puller` that does not mount the SPC and names the synced Secret only in
/// `imagePullSecrets` (the upstream example syncs a `kubernetes.io/dockerconfigjson` Secret for
/// exactly this use).
fn puller(s: &mut Snapshot) {
    let mut p = s.pods.items[0].clone();
    p.name = "puller".into();
    p.owners = vec![];
    p.volumes = vec![];
    for c in &mut p.containers {
        c.env.clear();
        c.env_from_secrets.clear();
        c.mounts.clear();
    }
    p.image_pull_secrets = vec![tk::secret_name(APP).as_str().into()];
    s.pods.items.push(p);
}

/// FACTS §2/§11: the synced Secret is created and kept current by a mount, and goes with the
/// mounting pods' owners (not their pods: a workload scaled to zero keeps it). A pod pulling
/// its image with it depends on that mount like any other reader (KVC903); with no mount at
/// all the Secret is never created (KVC904).
#[test]
fn consumers_an_image_pull_secret_is_a_consumer_of_the_synced_secret() {
    let mut s = tk::healthy();
    puller(&mut s);
    let chains = diagnose(&s);
    let f = one(&chains, Code::KVC903);
    assert!(f.resource.ends_with("/puller"), "{f:#?}");
    // What keeps it is the mounting pods' owners, not their pods (audit M6).
    assert!(
        f.message
            .contains("lives while the mounting pods' owners do")
            && !f.message.contains("exists only while"),
        "{}",
        f.message
    );
    assert!(
        f.evidence.iter().any(|e| e.contains("imagePullSecrets")),
        "{:#?}",
        f.evidence
    );
    // A pull secret is read at each pull: rotation leaves nothing stale in the puller.
    rotate_password(&mut s);
    assert!(
        with(&diagnose(&s), Code::KVC901)
            .iter()
            .all(|f| !f.resource.contains("puller")),
        "{:#?}",
        all(&diagnose(&s))
    );
    // Nobody mounts the SPC and the Secret is gone: the puller names a Secret that never comes.
    let mut s = tk::healthy();
    puller(&mut s);
    let secret = tk::secret_name(APP);
    s.pods.items.retain(|p| p.name == "puller");
    s.secrets.items.retain(|x| x.name != secret.as_str());
    s.spc_statuses.items.clear();
    let chains = diagnose(&s);
    let f = one(&chains, Code::KVC904);
    assert!(f.message.contains("imagePullSecrets"), "{}", f.message);
}
