//! World → [`Snapshot`], exactly as a live cluster plus Azure would be observed: Kubernetes
//! objects go through [`snapshot::convert`]; the Azure side is filled like the live ARM and
//! data-plane look-ups would fill it (objects referenced by SecretProviderClasses only). The
//! only thing the lab sees that a live source usually cannot is the fingerprint of mounted
//! files (`SpcPodStatusObs.files`) and of the vault's latest value.

use crate::spc::AzureSpc;
use std::collections::BTreeSet;
use std::collections::btree_map::Entry;

use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::roles;
use super::sync;
use super::world::{LabPod, Workload, World};
use crate::fingerprint::Fingerprint;
use crate::snapshot::crd::SecretProviderClassPodStatus;
use crate::snapshot::{
    AccessPolicyObs, AzureObs, ClusterFacts, Coll, CsiDriverFacts, DeletedObjectObs, EventObs,
    FederatedCredentialObs, Items, ManagedIdentityObs, NetworkObs, ObjectType, ObjectVersion,
    Observed, PemParts, PodObs, RoleAssignmentObs, SecretObs, Snapshot, SourceInfo, SourceKind,
    SpcObs, SpcPodStatusObs, VaultObject, VaultObjectObs, VaultObs, WorkloadObs, convert,
};

pub fn snapshot(w: &World) -> Snapshot {
    let pods = w.pods.values().map(|p| pod(p)).collect();
    let mut workloads: Vec<_> = w.workloads.values().map(workload).collect();
    workloads.extend(
        w.replica_sets
            .values()
            .map(|r| convert::replica_set(&r.to_replica_set())),
    );
    let secrets = w.secrets.values().map(convert::secret).collect();
    let events = w
        .events
        .iter()
        .map(|e| convert::event(&e.to_event()))
        .collect();
    assemble(w, pods, spc_statuses(w), workloads, secrets, events)
}

/// [`snapshot`] of a world no longer needed (`check --lab`): each large collection is
/// converted and freed in turn, so the peak is not a whole world beside a whole snapshot.
pub fn into_snapshot(mut w: World) -> Snapshot {
    // A pod's statuses are converted with it and both freed at once: converting every status
    // first, beside the whole world, was the peak of `check --lab` (15 MB at 10,000 pods).
    // Nor are the collections sized up front: they grow as the world shrinks.
    let mut spcps = std::mem::take(&mut w.spcps);
    let mut statuses = Vec::new();
    let pods = w
        .take_pods()
        .into_iter()
        .map(|((ns, name), p)| {
            for v in &p.csi {
                let key = (ns.clone(), sync::spcps_name(&name, &ns, &v.spc));
                // The status the driver wrote for this pod's volume (see `spc_status`).
                if let Entry::Occupied(e) = spcps.entry(key)
                    && e.get().pod_name == name
                    && e.get().spc == v.spc
                {
                    let (key, s) = e.remove_entry();
                    statuses.push((key, spc_status(&s.to_spcps(), Some(&p))));
                }
            }
            pod(&p)
        })
        .collect();
    // Statuses of pods that are gone have no mounted files.
    statuses.extend(
        spcps
            .into_iter()
            .map(|(key, s)| (key, spc_status(&s.to_spcps(), None))),
    );
    statuses.sort_unstable_by(|(a, _), (b, _)| a.cmp(b));
    let statuses = statuses.into_iter().map(|(_, s)| s).collect();
    let mut workloads: Vec<_> = std::mem::take(&mut w.workloads)
        .into_values()
        .map(|wl| workload(&wl))
        .collect();
    workloads.extend(
        std::mem::take(&mut w.replica_sets)
            .into_values()
            .map(|r| convert::replica_set(&r.to_replica_set())),
    );
    let secrets = std::mem::take(&mut w.secrets)
        .into_values()
        .map(|s| convert::secret(&s))
        .collect();
    let events = std::mem::take(&mut w.events)
        .into_iter()
        .map(|e| convert::event(&e.to_event()))
        .collect();
    assemble(&w, pods, statuses, workloads, secrets, events)
}

fn pod(p: &LabPod) -> PodObs {
    let mut obs = convert::pod_of(&p.meta, p.spec.as_deref(), Some(&p.status()));
    obs.labels = p.labels.clone();
    obs
}

fn workload(wl: &Workload) -> WorkloadObs {
    match wl {
        Workload::Deployment(d) => convert::deployment(d),
        Workload::StatefulSet(s) => convert::stateful_set(s),
        Workload::DaemonSet(d) => convert::daemon_set(d),
        Workload::Job(j) => convert::job(j),
    }
}

/// SPCPS observations with the fingerprints of the files their pod has mounted.
fn spc_statuses(w: &World) -> Vec<SpcPodStatusObs> {
    w.spcps
        .iter()
        .map(|((ns, _), s)| {
            let pod = w.pods.get(&(ns.to_string(), s.pod_name.clone()));
            spc_status(&s.to_spcps(), pod.map(|p| &**p))
        })
        .collect()
}

/// One SPCPS observation, with the fingerprints of the files its pod (the one the status names,
/// if it still exists) has mounted.
fn spc_status(s: &SecretProviderClassPodStatus, pod: Option<&LabPod>) -> SpcPodStatusObs {
    let mut obs = convert::spcps(s);
    let mounted = pod
        .and_then(|p| p.csi.iter().find(|v| v.spc == obs.spc_name))
        .and_then(|v| v.mounted.as_ref());
    if let Some(m) = mounted {
        obs.files = Some(
            m.files
                .iter()
                .map(|(k, v)| (k.as_str().into(), Fingerprint::of(v)))
                .collect(),
        );
        obs.pem_parts = m
            .files
            .iter()
            .filter(|(_, v)| v.starts_with(b"-----BEGIN "))
            .map(|(k, v)| (k.clone(), pem_fingerprints(v)))
            .collect();
    }
    obs
}

/// The snapshot from the converted large collections and the rest of the world.
fn assemble(
    w: &World,
    pods: Items<PodObs>,
    spc_statuses: Vec<SpcPodStatusObs>,
    workloads: Vec<WorkloadObs>,
    secrets: Vec<SecretObs>,
    events: Vec<EventObs>,
) -> Snapshot {
    let c = &w.cluster;
    let cluster = ClusterFacts {
        oidc_issuer: Observed::Known(c.oidc_issuer_url.clone()),
        tenant_id: Observed::Known(c.tenant_id.clone()),
        workload_identity_webhook: Observed::Known(c.workload_identity_webhook),
        csi_driver: Observed::Known(CsiDriverFacts {
            installed: c.csi_driver.installed,
            token_audiences: Observed::Known(c.csi_driver.token_audiences.clone()),
            rotation_enabled: Observed::Known(c.csi_driver.enable_secret_rotation),
            rotation_poll_interval: c.csi_driver.rotation_poll_interval,
            rotation_enabled_at: c.csi_driver.rotation_enabled_at,
            sync_secret_enabled: Observed::Known(c.csi_driver.sync_secret),
            azure_provider: Observed::Known(c.csi_driver.installed),
            install: Some(c.csi_driver.install),
            helm: super::nodes::helm_release(c.csi_driver.install),
            // The driver's DaemonSets run on Linux nodes (FACTS §11 "Nodes").
            placement: Observed::Known(super::nodes::driver_placement(c.csi_driver.install)),
            // Its pods: one ready pod of each DaemonSet on every node it runs on.
            driver_pods: Observed::Known(super::nodes::driver_pods(
                c.csi_driver.install,
                c.csi_driver.installed,
                &w.nodes,
                &c.csi_driver.provider_not_ready_on,
            )),
            manifest: None,
        }),
        nodes: Observed::Known(w.nodes.clone()),
        name: Some(c.name.clone()).filter(|n| !n.is_empty()),
        resource_group: c.resource_group.clone().filter(|g| !g.is_empty()),
        // The lab's Reloader, when its Cluster document runs one, acts by its `reloaderArgs`
        // (`world::reloader`); none runs otherwise.
        reloader: Some(super::reloader::facts(c)),
    };
    // Every namespace has its `default` service account.
    let mut sas: Vec<_> = w
        .service_accounts
        .values()
        .map(convert::service_account)
        .collect();
    for ns in &w.namespaces {
        if !w
            .service_accounts
            .contains_key(&(ns.clone(), "default".into()))
        {
            sas.push(convert::service_account(&ServiceAccount {
                metadata: ObjectMeta {
                    name: Some("default".into()),
                    namespace: Some(ns.clone()),
                    ..Default::default()
                },
                ..Default::default()
            }));
        }
    }
    let spcs: Vec<SpcObs> = w
        .spcs
        .values()
        .map(|s| convert::spc_parsed_by(s, |params| w.parsed(params)))
        .collect();
    let mut snap = Snapshot {
        source: SourceInfo {
            kind: SourceKind::Lab,
            label: w.name.clone(),
            observed_at: w.now(),
            unread: w.timeline_failures.clone(),
            ..SourceInfo::default()
        },
        cluster,
        pods: Coll {
            items: pods,
            gaps: Default::default(),
        },
        service_accounts: Coll::known(sas),
        azure: AzureObs::default(),
        spcs: Coll::known(spcs),
        spc_statuses: Coll::known(spc_statuses),
        secrets: Coll::known(secrets),
        events: Coll::known(events),
        workloads: Coll::known(workloads),
        ingresses: Coll::known(w.ingresses.iter().map(convert::ingress).collect()),
    };
    // The objects every mount names, a volume's overriding `objects` included.
    let overridden = snap.overridden_params();
    let params = snap.spcs.items.iter().map(|s| &s.parsed);
    snap.azure = azure(w, params.chain(&overridden));
    snap
}

/// The key and certificate parts of a PEM file, as the driver splits them for a TLS Secret.
fn pem_fingerprints(file: &[u8]) -> PemParts {
    let (key, cert) = super::sync::pem_parts(file);
    let fp = |part: Vec<u8>| (!part.is_empty()).then(|| Fingerprint::of(&part));
    PemParts {
        key: fp(key),
        cert: fp(cert),
    }
}

fn azure<'p>(w: &World, params: impl Iterator<Item = &'p AzureSpc>) -> AzureObs {
    let sub = &w.cluster.subscription_id;
    let identities = w
        .identities
        .iter()
        .map(|i| ManagedIdentityObs {
            name: i.name.clone(),
            resource_id: format!(
                "/subscriptions/{sub}/resourceGroups/{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{}",
                i.resource_group, i.name
            ),
            client_id: i.client_id.clone(),
            principal_id: i.principal_id.clone(),
            tenant_id: i.tenant_id.clone(),
            federated_credentials: Observed::Known(
                i.fics
                    .iter()
                    .map(|f| FederatedCredentialObs {
                        name: f.name.clone(),
                        issuer: f.issuer.clone(),
                        subject: f.subject.clone(),
                        audiences: f.audiences.clone(),
                        modified_at: f.modified_at,
                    })
                    .collect(),
            ),
        })
        .collect();
    // The lab's directory knows its managed identities and the principals of those deleted
    // before one was recreated under its name (`formerPrincipalIDs`): an assignment or access
    // policy naming one of those was left on a deleted principal, as Azure keeps it ("Identity
    // not found"; audits TTT-azure, UUU-azure). Any other id is unknown, not deleted: it may be
    // a user's or a group's (audit UUU-real2). Only the deleted are said (`Some(false)`).
    let deleted: std::collections::HashSet<String> = (w.identities.iter())
        .flat_map(|i| &i.former_principal_ids)
        .map(|id| id.to_ascii_lowercase())
        .collect();
    let gone = |id: &str| deleted.contains(&id.to_ascii_lowercase()).then_some(false);
    let vaults = w
        .vaults
        .values()
        .map(|v| VaultObs {
            name: v.name.clone(),
            resource_id: v.resource_id(sub),
            tenant_id: v.tenant_id.clone(),
            rbac: v.rbac,
            access_policies: v
                .access_policies
                .iter()
                .map(|p| AccessPolicyObs {
                    object_id: p.object_id.clone(),
                    tenant_id: p.tenant_id.clone(),
                    secrets: p.secrets.clone(),
                    keys: p.keys.clone(),
                    certificates: p.certificates.clone(),
                    principal_exists: gone(&p.object_id),
                })
                .collect(),
            network: NetworkObs {
                public_access: v.network.public_network_access,
                default_deny: v.network.default_action.eq_ignore_ascii_case("deny"),
                cluster_allowed: Observed::Known(v.network.reachable()),
            },
            object_names: Some(v.objects.keys().cloned().collect()),
            // The lab's role assignments are all read, made at a vault or one of its objects:
            // its listing returns no management group (audit EE6).
            management_groups: Some(Vec::new()),
            // The lab reads its vaults' deleted objects as `list-deleted` lists them.
            deleted_objects: Some(deleted_objects(v)),
            purge_protection: Some(v.purge_protection),
        })
        .collect();
    let role_assignments = w
        .role_assignments
        .iter()
        .filter_map(|ra| {
            let role = roles::definition(&ra.spec)?;
            let scope = (ra.spec.scope).arm(sub, || {
                Some(w.vaults.get(&ra.spec.scope.vault)?.resource_id(sub))
            })?;
            Some(RoleAssignmentObs {
                principal_id: ra.spec.principal_id.clone(),
                role_definition_id: format!(
                    "/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{}",
                    role.guid
                ),
                role_name: role.name.into(),
                data_actions: role.data_actions.iter().map(|s| s.to_string()).collect(),
                scope,
                not_data_actions: role
                    .not_data_actions
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
                principal_type: String::new(),
                unresolved: None,
                principal_exists: gone(&ra.spec.principal_id),
                created_on: ra.created_at,
            })
        })
        .collect();
    AzureObs {
        identities: Coll::known(identities),
        vaults: Coll::known(vaults),
        role_assignments: Coll::known(role_assignments),
        objects: objects(w, params),
        requests: 0,
        throttled: 0,
    }
}

/// A vault's soft-deleted objects: a certificate's secret and key marked managed (Key Vault
/// recovers them only with it), each purged `soft_delete_retention_days` after its deletion.
fn deleted_objects(v: &crate::source::lab::azure::LabVault) -> Vec<DeletedObjectObs> {
    let retention = jiff::SignedDuration::from_hours(24 * i64::from(v.soft_delete_retention_days));
    (v.deleted.keys())
        .map(|(t, name)| {
            let o = &v.deleted[&(*t, name.clone())];
            DeletedObjectObs {
                object_type: *t,
                name: name.clone(),
                deleted_on: o.deleted_on,
                scheduled_purge: o.deleted_on.and_then(|d| d.checked_add(retention).ok()),
                managed: *t != ObjectType::Cert
                    && v.deleted.contains_key(&(ObjectType::Cert, name.clone())),
            }
        })
        .collect()
}

/// The objects the mounts name, as a data-plane look-up returns them.
fn objects<'p>(w: &World, params: impl Iterator<Item = &'p AzureSpc>) -> Vec<VaultObjectObs> {
    let mut wanted: BTreeSet<(String, ObjectType, String)> = BTreeSet::new();
    for p in params {
        // A name the provider refuses (KVC302) is never looked up, as live (`azure::wanted`).
        let Some(vault) =
            (p.keyvault_name.as_ref()).filter(|v| crate::spc::invalid_vault_name(v).is_none())
        else {
            continue;
        };
        for o in &p.objects {
            if let Some(t) = o.object_type
                && !o.object_name.is_empty()
            {
                wanted.insert((vault.clone(), t, o.object_name.clone()));
            }
        }
    }
    wanted
        .into_iter()
        .map(|(vault, t, name)| {
            let state = match w.vaults.get(&vault) {
                // The lab's vaults are all there is: a name none has is no vault at all
                // (Key Vault names are global), not one kvchain could not see (audit XA-more).
                None => Observed::unknown(crate::snapshot::no_vault_named(&vault)),
                Some(v) => Observed::Known(v.objects.get(&(t, name.clone())).map(|o| {
                    VaultObject {
                        versions: o
                            .versions
                            .iter()
                            .map(|x| ObjectVersion {
                                version: x.id.clone(),
                                enabled: x.enabled,
                                created: Some(x.created),
                                expires: x.expires,
                                not_before: x.not_before,
                                fingerprint: Some(Fingerprint::of(&x.content)),
                            })
                            .collect(),
                        content_type: o.content_type.clone(),
                        backs_certificate: o.backs_certificate,
                        key_exportable: o.key_exportable,
                        key_exportable_unknown: None,
                        latest_fingerprint: o.latest().map(|x| Fingerprint::of(&x.content)),
                    }
                })),
            };
            VaultObjectObs {
                vault,
                object_type: t,
                name,
                state,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::lab::{MAX_SETTLE, load};

    /// `check --lab` exports by consuming the world; what it sees must be what the TUI sees.
    #[test]
    fn consuming_export_equals_the_shared_one() {
        for spec in ["default", "gc-tls", "generated:60"] {
            let mut w = World::new(load(spec).unwrap());
            w.run_until_stable(MAX_SETTLE);
            let shared = serde_json::to_string(&snapshot(&w)).unwrap();
            let owned = serde_json::to_string(&into_snapshot(w)).unwrap();
            assert_eq!(shared, owned, "{spec}");
        }
    }
}
