//! Readable snapshot builders for tests, benches and the lab.
//!
//! [`healthy`] is one complete, working chain (namespace `shop`, Deployment `web`): every link
//! observed and fine, no findings. Tests break one thing and assert the code that names it:
//!
//! ```
//! use kvchain::chain::{diagnose, testkit, Code};
//! let mut s = testkit::healthy();
//! testkit::fic_mut(&mut s, "web").subject = "system:serviceaccount:shop:Web".into();
//! assert!(testkit::codes(&diagnose(&s)).contains(&Code::KVC401));
//! ```
//!
//! [`add_app`] appends another such app, so [`generated_snapshot`] can build large worlds.

mod access;
mod generated;

pub use access::*;
pub use generated::*;

/// Where bash's comment starts in a fix or confirm line (the first unquoted `#` that begins a
/// word): what a test checks no command follows.
pub fn comment_at(line: &str) -> Option<usize> {
    super::rules::remedy::comment_at(line)
}

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use super::catalog::Code;
use super::model::Chain;
use crate::snapshot::*;
use crate::spc;

pub const NS: &str = "shop";
pub const APP: &str = "web";
pub const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
pub const ISSUER: &str = "https://westeurope.oic.prod-aks.azure.com/72f988bf-86f1-41af-91ab-2d7cd011db47/4c3f1e2a-9d7b-4d8e-a1c2-3b4d5e6f7a8b/";
pub const AUDIENCE: &str = "api://AzureADTokenExchange";
pub const SUBSCRIPTION: &str = "/subscriptions/00000000-0000-0000-0000-000000000001";
pub const DRIVER: &str = "secrets-store.csi.k8s.io";
/// The version every generated object starts at (32 hex, like Key Vault's).
pub const V1: &str = "b82206cb5ac249918008b0b97fd1fd66";
pub const V2: &str = "7cc095105411491b84fe1b92ebbcf01a";
pub const SECRETS_USER: &str = "Key Vault Secrets User";
pub const GET_SECRET: &str = "Microsoft.KeyVault/vaults/secrets/getSecret/action";

/// The instant every testkit snapshot is observed at.
pub fn now() -> Timestamp {
    Timestamp::from_second(1_795_435_200).unwrap_or(Timestamp::UNIX_EPOCH) // 2026-11-23T12:00:00Z
}

pub fn ago(d: SignedDuration) -> Timestamp {
    now().checked_sub(d).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// A snapshot with the cluster facts known and every collection known and empty.
pub fn empty() -> Snapshot {
    Snapshot {
        source: SourceInfo {
            kind: SourceKind::Lab,
            label: "testkit".into(),
            observed_at: now(),
            ..SourceInfo::default()
        },
        cluster: ClusterFacts {
            oidc_issuer: Observed::Known(ISSUER.into()),
            tenant_id: Observed::Known(TENANT.into()),
            workload_identity_webhook: Observed::Known(true),
            csi_driver: Observed::Known(CsiDriverFacts {
                installed: true,
                token_audiences: Observed::Known(vec![AUDIENCE.into()]),
                rotation_enabled: Observed::Known(true),
                rotation_poll_interval: Duration::from_secs(120),
                rotation_enabled_at: None,
                sync_secret_enabled: Observed::Known(true),
                azure_provider: Observed::Known(true),
                install: None,
                helm: None,
                placement: Observed::unknown("not observed"),
                driver_pods: Observed::unknown("not observed"),
                manifest: None,
            }),
            nodes: Observed::unknown("not observed"),
            name: None,
            resource_group: None,
            reloader: None,
        },
        pods: Coll::known(vec![]),
        service_accounts: Coll::known(vec![]),
        spcs: Coll::known(vec![]),
        spc_statuses: Coll::known(vec![]),
        secrets: Coll::known(vec![]),
        events: Coll::known(vec![]),
        workloads: Coll::known(vec![]),
        ingresses: Coll::known(vec![]),
        azure: AzureObs {
            identities: Coll::known(vec![]),
            vaults: Coll::known(vec![]),
            role_assignments: Coll::known(vec![]),
            objects: vec![],
            requests: 0,
            throttled: 0,
        },
    }
}

/// One healthy chain: `shop/web` (see the module docs).
pub fn healthy() -> Snapshot {
    let mut s = empty();
    add_app(&mut s, NS, APP, 1);
    s
}

// ------------------------------------------------------------------ names of an app's parts

pub fn sa_name(app: &str) -> String {
    app.to_string()
}
pub fn spc_name(app: &str) -> String {
    format!("{app}-kv")
}
pub fn vault_name(ns: &str) -> String {
    format!("kv-{ns}")
}
pub fn identity_name(app: &str) -> String {
    format!("id-{app}")
}
pub fn secret_name(app: &str) -> String {
    format!("{app}-secret")
}
pub fn object_name(app: &str) -> String {
    format!("{app}-db-pass")
}
pub fn replica_set(app: &str) -> String {
    format!("{app}-7d9f8c6b5")
}
pub fn pod_name(app: &str, i: usize) -> String {
    format!("{}-{i:05}", replica_set(app))
}
/// Deterministic GUID-shaped ids per (ns, app).
pub fn client_id(ns: &str, app: &str) -> String {
    guid(ns, app, 1)
}
pub fn principal_id(ns: &str, app: &str) -> String {
    guid(ns, app, 2)
}
fn guid(ns: &str, app: &str, salt: u64) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ salt;
    for b in ns.bytes().chain([b'/']).chain(app.bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        h >> 32,
        (h >> 16) & 0xffff,
        h & 0xfff,
        (h >> 20) & 0xfff,
        h & 0xffff_ffff_ffff
    )
}
pub fn vault_id(ns: &str) -> String {
    format!(
        "{SUBSCRIPTION}/resourceGroups/rg-{ns}/providers/Microsoft.KeyVault/vaults/{}",
        vault_name(ns)
    )
}

/// The SPC `objects` string in the upstream shape (`array:` of `- |` items).
pub fn objects_yaml(items: &[&[(&str, &str)]]) -> String {
    let mut s = String::from("array:\n");
    for item in items {
        s.push_str("  - |\n");
        for (k, v) in *item {
            s.push_str(&format!("    {k}: {v}\n"));
        }
    }
    s
}

/// A SecretProviderClass observation, parsed like every source parses it.
pub fn spc(
    ns: &str,
    name: &str,
    parameters: &[(&str, &str)],
    secret_objects: Vec<SecretObjectSpec>,
) -> SpcObs {
    let parameters: BTreeMap<String, String> = parameters
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    SpcObs {
        namespace: ns.into(),
        name: name.into(),
        file: None,
        annotations: Default::default(),
        provider: "azure".into(),
        parsed: spc::parse(&parameters),
        namespace_less: None,
        controller: None,
        parameters,
        secret_objects,
    }
}

/// Make `spc`'s first `secretObjects` entry a `kubernetes.io/tls` Secret with keys tls.key
/// and tls.crt from the `password` file, which its one object (app `app`'s, aliased
/// `password`) mounts as objectType `object_type`: with `cert` or `key` the driver cannot
/// build it (KVC804).
pub fn sync_tls_from(spc: &mut SpcObs, app: &str, object_type: &str) {
    let so = &mut spc.secret_objects[0];
    so.type_ = "kubernetes.io/tls".into();
    so.data = ["tls.key", "tls.crt"]
        .map(|key| SecretObjectData {
            object_name: "password".into(),
            key: key.into(),
        })
        .into();
    let objects = objects_yaml(&[&[
        ("objectName", &object_name(app)),
        ("objectType", object_type),
        ("objectAlias", "password"),
    ]]);
    set_objects(spc, objects);
}

/// Give `spc` the `objects` parameter `objects` (YAML, e.g. [`objects_yaml`]'s) and parse it
/// again, as a source does on every SPC it reads.
pub fn set_objects(spc: &mut SpcObs, objects: String) {
    spc.parameters.insert("objects".into(), objects);
    reparse(spc);
}

/// Re-parse an SPC after a test changed its parameters.
pub fn reparse(s: &mut SpcObs) {
    s.parsed = spc::parse(&s.parameters);
}

pub fn csi_volume(name: &str, spc: &str) -> VolumeObs {
    VolumeObs {
        name: name.into(),
        source: VolumeSourceObs::Csi {
            driver: DRIVER.into(),
            read_only: Some(true),
            attributes: [("secretProviderClass".to_string(), spc.to_string())].into(),
            node_publish_secret: None,
        },
    }
}

/// Append a healthy app: SA, SPC (one secret object, synced to a Secret read through env),
/// Deployment → ReplicaSet → `pods` running pods with their SPCPS, identity with its federated
/// credential, Secrets User role, the vault of the namespace (once) and the object.
pub fn add_app(s: &mut Snapshot, ns: &str, app: &str, pods: usize) {
    let spc_n = spc_name(app);
    let vault = vault_name(ns);
    let obj = object_name(app);
    let secret = secret_name(app);
    let cid = client_id(ns, app);
    let pid = principal_id(ns, app);
    let started = ago(SignedDuration::from_hours(1));
    let fp = Fingerprint::of(format!("value-of-{ns}-{app}").as_bytes());

    s.service_accounts.items.push(ServiceAccountObs {
        namespace: ns.into(),
        name: sa_name(app).into(),
        annotations: [("azure.workload.identity/client-id".to_string(), cid.clone())].into(),
        ..Default::default()
    });
    let objects = objects_yaml(&[&[
        ("objectName", &obj),
        ("objectType", "secret"),
        ("objectAlias", "password"),
    ]]);
    s.spcs.items.push(spc(
        ns,
        &spc_n,
        &[
            ("clientID", &cid),
            ("keyvaultName", &vault),
            ("tenantId", TENANT),
            ("objects", &objects),
        ],
        vec![SecretObjectSpec {
            secret_name: secret.clone().into(),
            type_: "Opaque".into(),
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            data: vec![SecretObjectData {
                object_name: "password".into(),
                key: "password".into(),
            }],
        }],
    ));
    let rs = replica_set(app);
    s.workloads.items.push(WorkloadObs {
        kind: "Deployment".into(),
        namespace: ns.into(),
        name: app.into(),
        uid: format!("uid-deploy-{ns}-{app}"),
        annotations: [("reloader.stakater.com/auto".to_string(), "true".to_string())].into(),
        replicas: Some(pods as i32),
        ..WorkloadObs::default()
    });
    s.workloads.items.push(WorkloadObs {
        kind: "ReplicaSet".into(),
        namespace: ns.into(),
        name: rs.clone().into(),
        uid: format!("uid-rs-{ns}-{app}"),
        owners: vec![owner("Deployment", app)],
        replicas: Some(pods as i32),
        ..WorkloadObs::default()
    });
    for i in 0..pods {
        let name = pod_name(app, i);
        s.pods.items.push(PodObs {
            namespace: ns.into(),
            name: name.as_str().into(),
            uid: compact_str::format_compact!("uid-pod-{ns}-{name}"),
            labels: [
                ("app".to_string(), app.to_string()),
                (
                    "azure.workload.identity/use".to_string(),
                    "true".to_string(),
                ),
            ]
            .into(),
            service_account: sa_name(app).into(),
            owners: vec![owner("ReplicaSet", &rs)],
            node: Some("aks-nodepool1-12345678-vmss000000".into()),
            phase: "Running".into(),
            created_at: Some(started),
            volumes: vec![
                csi_volume("secrets-store-inline", &spc_n),
                VolumeObs {
                    name: "azure-identity-token".into(),
                    source: VolumeSourceObs::Projected {
                        token_audiences: vec![AUDIENCE.into()],
                        secrets: vec![],
                        secret_items: vec![],
                    },
                },
            ],
            containers: vec![ContainerObs {
                name: "app".into(),
                mounts: vec![MountObs {
                    volume: "secrets-store-inline".into(),
                    path: "/mnt/secrets-store".into(),
                    sub_path: None,
                    read_only: true,
                }],
                env: vec![
                    EnvObs {
                        name: "DB_PASSWORD".into(),
                        source: EnvSourceObs::SecretKey {
                            secret: secret.as_str().into(),
                            key: "password".into(),
                            optional: false,
                        },
                    },
                    // What the webhook injects at creation from the account's annotation
                    // (FACTS §6).
                    EnvObs {
                        name: "AZURE_CLIENT_ID".into(),
                        source: EnvSourceObs::Literal {
                            value: Some(cid.clone()),
                        },
                    },
                    EnvObs {
                        name: "AZURE_FEDERATED_TOKEN_FILE".into(),
                        source: EnvSourceObs::Literal {
                            value: Some(
                                "/var/run/secrets/azure/tokens/azure-identity-token".into(),
                            ),
                        },
                    },
                ],
                state: ContainerStateObs::Running {
                    started_at: started,
                },
                ..ContainerObs::default()
            }],
            ..PodObs::default()
        });
        s.spc_statuses.items.push(SpcPodStatusObs {
            namespace: ns.into(),
            name: format!("{name}-{ns}-{spc_n}").into(),
            pod_name: name.clone().into(),
            spc_name: spc_n.clone().into(),
            mounted: true,
            target_path: format!(
                "/var/lib/kubelet/pods/uid-pod-{ns}-{name}/volumes/kubernetes.io~csi/secrets-store-inline/mount"
            ),
            objects: vec![SpcpsObject {
                id: format!("secret/{obj}").into(),
                version: V1.into(),
            }],
            updated_at: Some(started),
            files: Some([("password".into(), fp)].into_iter().collect()),
            pem_parts: Default::default(),
        });
    }
    s.secrets.items.push(SecretObs {
        namespace: ns.into(),
        name: secret.into(),
        type_: "Opaque".into(),
        labels: [(
            "secrets-store.csi.k8s.io/managed".to_string(),
            "true".to_string(),
        )]
        .into(),
        annotations: Default::default(),
        owners: vec![owner("ReplicaSet", &rs)],
        data: [("password".to_string(), fp)].into(),
        created_at: Some(ago(SignedDuration::from_hours(2))),
        updated_at: Some(ago(SignedDuration::from_hours(2))),
    });
    s.azure.identities.items.push(ManagedIdentityObs {
        name: identity_name(app),
        resource_id: format!(
            "{SUBSCRIPTION}/resourceGroups/rg-{ns}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{}",
            identity_name(app)
        ),
        client_id: cid,
        principal_id: pid.clone(),
        tenant_id: TENANT.into(),
        federated_credentials: Observed::Known(vec![FederatedCredentialObs {
            name: format!("{ns}-{app}"),
            issuer: ISSUER.into(),
            subject: format!("system:serviceaccount:{ns}:{}", sa_name(app)),
            audiences: vec![AUDIENCE.into()],
            modified_at: None,
        }]),
    });
    if !s.azure.vaults.items.iter().any(|v| v.name == vault) {
        s.azure.vaults.items.push(VaultObs {
            name: vault.clone(),
            resource_id: vault_id(ns),
            tenant_id: TENANT.into(),
            rbac: true,
            access_policies: vec![],
            network: NetworkObs::default(),
            object_names: None,
            management_groups: None,
            deleted_objects: None,
            purge_protection: None,
        });
    }
    s.azure.role_assignments.items.push(RoleAssignmentObs {
        principal_id: pid,
        role_definition_id: format!(
            "{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6"
        ),
        role_name: SECRETS_USER.into(),
        data_actions: vec![
            GET_SECRET.into(),
            "Microsoft.KeyVault/vaults/secrets/readMetadata/action".into(),
        ],
        scope: vault_id(ns),
        not_data_actions: Vec::new(),
        principal_type: String::new(),
        unresolved: None,
        principal_exists: None,
        created_on: None,
    });
    s.azure.objects.push(VaultObjectObs {
        vault,
        object_type: ObjectType::Secret,
        name: obj,
        state: Observed::Known(Some(VaultObject {
            versions: vec![ObjectVersion {
                version: V1.into(),
                enabled: true,
                created: Some(ago(SignedDuration::from_hours(24 * 30))),
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
}

/// Deployment `name` in `NS` with one replica, and its ReplicaSet `rs` (uids `uid-deploy-NAME`
/// and `uid-rs-NAME`): the owners a reader pod of a test names.
/// Every pod of namespace `ns` created while its service account said client-id `id`: the
/// AZURE_CLIENT_ID the webhook injected is `id` (FACTS §6: at creation only).
pub fn created_with_client_id(s: &mut Snapshot, ns: &str, id: &str) {
    let pods = s.pods.items.iter_mut().filter(|p| p.namespace == ns);
    for e in pods
        .flat_map(|p| p.containers.iter_mut())
        .flat_map(|c| c.env.iter_mut())
        .filter(|e| e.name == "AZURE_CLIENT_ID")
    {
        e.source = EnvSourceObs::Literal {
            value: Some(id.into()),
        };
    }
}

pub fn deployment_with_replica_set(s: &mut Snapshot, name: &str, rs: &str) {
    s.workloads.items.push(WorkloadObs {
        kind: "ReplicaSet".into(),
        namespace: NS.into(),
        name: rs.into(),
        uid: format!("uid-rs-{name}"),
        owners: vec![owner("Deployment", name)],
        replicas: Some(1),
        ..WorkloadObs::default()
    });
    s.workloads.items.push(WorkloadObs {
        kind: "Deployment".into(),
        namespace: NS.into(),
        name: name.into(),
        uid: format!("uid-deploy-{name}"),
        replicas: Some(1),
        ..WorkloadObs::default()
    });
}

pub fn owner(kind: &str, name: &str) -> OwnerRef {
    OwnerRef {
        kind: kind.into(),
        name: name.into(),
        uid: Default::default(),
        controller: true,
    }
}

/// A kubelet FailedMount event on a pod, message in the upstream wrapper around `cause`.
pub fn failed_mount(ns: &str, pod: &str, volume: &str, cause: &str) -> EventObs {
    EventObs {
        namespace: ns.into(),
        involved_kind: "Pod".into(),
        involved_name: pod.into(),
        involved_uid: String::new(),
        type_: "Warning".into(),
        reason: "FailedMount".into(),
        message: format!(
            "MountVolume.SetUp failed for volume \"{volume}\" : rpc error: code = Unknown desc = failed to mount secrets store objects for pod {ns}/{pod}, err: rpc error: code = Unknown desc = failed to mount objects, error: {cause}"
        ),
        count: 3,
        source: "kubelet".into(),
        last_seen: Some(now()),
        first_seen: None,
    }
}

/// Make the healthy app's pod fail to mount: no SPCPS, pod Pending, synced Secret gone.
pub fn unmount(s: &mut Snapshot, app: &str) {
    let prefix = replica_set(app);
    s.spc_statuses
        .items
        .retain(|st| !st.pod_name.starts_with(&prefix));
    s.secrets.items.retain(|x| x.name != secret_name(app));
    for p in s
        .pods
        .items
        .iter_mut()
        .filter(|p| p.name.starts_with(&prefix))
    {
        p.phase = "Pending".into();
        for c in &mut p.containers {
            c.state = ContainerStateObs::Waiting {
                reason: "ContainerCreating".into(),
                message: String::new(),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::diagnose;

    #[test]
    fn healthy_world_has_no_findings_and_every_link_ok() {
        let chains = diagnose(&healthy());
        assert_eq!(chains.len(), 1);
        let c = &chains[0];
        let bad: Vec<_> = c.findings().collect();
        assert!(bad.is_empty(), "{bad:#?}");
        for l in &c.links {
            assert_eq!(l.status, crate::chain::Status::Ok, "{l:#?}");
        }
        assert_eq!(c.workload.as_ref().map(|w| w.name.as_str()), Some(APP));
    }

    #[test]
    fn generated_world_has_the_requested_size() {
        let s = generated_snapshot(100, 20);
        assert_eq!(s.pods.items.len(), 100);
        assert_eq!(s.spcs.items.len(), 20);
        assert_eq!(diagnose(&s).len(), 100);
    }
}
