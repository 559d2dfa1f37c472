//! Fixtures of the timeline tests: a small payments world at chosen times.

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::*;
use crate::snapshot::*;

pub(super) fn t(secs: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + secs).unwrap()
}

pub(super) fn spc() -> SpcObs {
    let mut params = BTreeMap::new();
    params.insert("keyvaultName".to_string(), "kv-pay".to_string());
    params.insert("tenantId".to_string(), "tenant".to_string());
    params.insert(
        "objects".to_string(),
        "array:\n  - |\n    objectName: db-pass\n    objectType: secret\n".to_string(),
    );
    SpcObs {
        namespace: "pay".into(),
        name: "spc".into(),
        annotations: Default::default(),
        provider: "azure".into(),
        parsed: crate::spc::parse(&params),
        namespace_less: None,
        controller: None,
        parameters: params,
        file: None,
        secret_objects: vec![SecretObjectSpec {
            secret_name: "app-secrets".into(),
            type_: "Opaque".into(),
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            data: vec![SecretObjectData {
                object_name: "db-pass".into(),
                key: "password".into(),
            }],
        }],
    }
}

pub(super) fn pod(name: &str, created: i64, started: i64, owner: &str) -> PodObs {
    let csi = VolumeObs {
        name: "kv".into(),
        source: VolumeSourceObs::Csi {
            driver: "secrets-store.csi.k8s.io".into(),
            read_only: Some(true),
            attributes: [("secretProviderClass".to_string(), "spc".to_string())].into(),
            node_publish_secret: None,
        },
    };
    let mount = |sub: Option<&str>| MountObs {
        volume: "kv".into(),
        path: "/mnt/kv".into(),
        sub_path: sub.map(Name::from),
        read_only: true,
    };
    PodObs {
        namespace: "pay".into(),
        name: name.into(),
        service_account: "app".into(),
        owners: vec![OwnerRef {
            kind: "ReplicaSet".into(),
            name: owner.into(),
            uid: Default::default(),
            controller: true,
        }],
        phase: "Running".into(),
        created_at: Some(t(created)),
        volumes: vec![csi],
        containers: vec![
            ContainerObs {
                name: "app".into(),
                mounts: vec![mount(None)],
                env: vec![EnvObs {
                    name: "DB_PASS".into(),
                    source: EnvSourceObs::SecretKey {
                        secret: "app-secrets".into(),
                        key: "password".into(),
                        optional: false,
                    },
                }],
                state: ContainerStateObs::Running {
                    started_at: t(started),
                },
                ..Default::default()
            },
            ContainerObs {
                name: "legacy".into(),
                mounts: vec![mount(Some("db-pass"))],
                state: ContainerStateObs::Running {
                    started_at: t(started),
                },
                ..Default::default()
            },
        ],
        ..Default::default()
    }
}

/// The world at `now` with the vault at `vault_v`, the pod mounted at `mounted_v`
/// (written at `mount_t`) and the synced Secret at `secret_v` (written at `secret_t`).
pub(super) fn world(
    now: i64,
    vault_v: u8,
    mounted_v: u8,
    mount_t: i64,
    secret_v: u8,
    secret_t: i64,
) -> Snapshot {
    let fp = |v: u8| Fingerprint::of(&[b'v', v]);
    let ver = |v: u8| format!("{v:0>32}");
    let mut s = Snapshot::default();
    s.source.observed_at = t(now);
    s.cluster.csi_driver = Observed::Known(CsiDriverFacts {
        rotation_enabled: Observed::Known(true),
        ..Default::default()
    });
    s.spcs = Coll::known(vec![spc()]);
    s.pods = Coll::known(vec![pod("web-1", -3600, -3500, "web-6d9")]);
    s.spc_statuses = Coll::known(vec![SpcPodStatusObs {
        namespace: "pay".into(),
        name: "web-1-pay-spc".into(),
        pod_name: "web-1".into(),
        spc_name: "spc".into(),
        mounted: true,
        objects: vec![SpcpsObject {
            id: "secret/db-pass".into(),
            version: ver(mounted_v).into(),
        }],
        updated_at: Some(t(mount_t)),
        files: Some([("db-pass".into(), fp(mounted_v))].into_iter().collect()),
        ..Default::default()
    }]);
    s.secrets = Coll::known(vec![SecretObs {
        namespace: "pay".into(),
        name: "app-secrets".into(),
        type_: "Opaque".into(),
        data: [("password".to_string(), fp(secret_v))].into(),
        updated_at: Some(t(secret_t)),
        ..Default::default()
    }]);
    s.azure.objects = vec![VaultObjectObs {
        vault: "kv-pay".into(),
        object_type: ObjectType::Secret,
        name: "db-pass".into(),
        state: Observed::Known(Some(VaultObject {
            versions: (1..=vault_v)
                .rev()
                .map(|v| ObjectVersion {
                    version: ver(v),
                    enabled: true,
                    created: Some(t(if v == 2 { 5 } else { -7200 })),
                    ..Default::default()
                })
                .collect(),
            latest_fingerprint: Some(fp(vault_v)),
            ..Default::default()
        })),
    }];
    s
}

pub(super) fn state_of<'a>(tl: &'a Timeline, needle: &str) -> &'a StepState {
    &tl.steps
        .iter()
        .find(|s| s.label.contains(needle))
        .unwrap_or_else(|| panic!("no step {needle}: {tl:#?}"))
        .state
}

/// The Deployment `web` owning ReplicaSet `rs`, with Reloader watching it when `reloader`.
pub(super) fn deployment(rs: &str, reloader: bool) -> Vec<WorkloadObs> {
    let annotations = if reloader {
        [("reloader.stakater.com/auto".to_string(), "true".to_string())].into()
    } else {
        BTreeMap::new()
    };
    vec![
        WorkloadObs {
            kind: "Deployment".into(),
            namespace: "pay".into(),
            name: "web".into(),
            annotations: annotations.into(),
            replicas: Some(1),
            ..Default::default()
        },
        WorkloadObs {
            kind: "ReplicaSet".into(),
            namespace: "pay".into(),
            name: rs.into(),
            owners: vec![OwnerRef {
                kind: "Deployment".into(),
                name: "web".into(),
                uid: Default::default(),
                controller: true,
            }],
            ..Default::default()
        },
    ]
}
