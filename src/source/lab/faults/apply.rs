//! Applying a fault: resolve the chain of the target workload (its service account, SPC,
//! identity, vault and first object), make the fault's change to that piece of the world, and
//! record what undoes it.

use super::{Applied, Undo, default_target, find, spc_in};
use super::{kinds, synced_fate};
use crate::snapshot::ObjectType;
use crate::source::lab::azure::LabObject;
use crate::source::lab::scenario::{FederatedCredential, NetworkSpec, RoleAssignment};
use crate::source::lab::world::{WorkloadKey, World};
use k8s_openapi::api::core::v1::PodSpec;

/// The chain a fault acts on, resolved from the target workload.
struct Target {
    workload: WorkloadKey,
    ns: String,
    sa: String,
    spc: String,
    client_id: String,
    tenant: String,
    vault: String,
    /// The SPC's first object, when its objects can be read.
    object: Option<(ObjectType, String)>,
}

/// The pod spec a fault reads the chain from: a workload's template, or a bare pod's own.
fn spec_of<'w>(world: &'w World, wk: &WorkloadKey) -> Option<&'w PodSpec> {
    match wk.0.as_str() {
        "Pod" => (world.pods.get(&(wk.1.clone(), wk.2.clone())))
            .filter(|p| p.controller().is_none())
            .and_then(|p| p.spec.as_deref()),
        _ => world.workloads.get(wk)?.template()?.spec.as_ref(),
    }
}

fn resolve(world: &World, wk: &WorkloadKey) -> Result<Target, String> {
    let spec = spec_of(world, wk).ok_or_else(|| format!("{} {}/{} not found", wk.0, wk.1, wk.2))?;
    let ns = wk.1.clone();
    let spc =
        spc_in(spec).ok_or_else(|| format!("{}/{} mounts no SecretProviderClass", ns, wk.2))?;
    let sa = (spec.service_account_name.clone())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "default".into());
    let obj = world
        .spcs
        .get(&(ns.clone(), spc.clone()))
        .ok_or_else(|| format!("SecretProviderClass {ns}/{spc} not found"))?;
    let parsed = crate::spc::parse(&obj.spec.parameters.clone().unwrap_or_default());
    // Only the object faults need one: the others still apply to an SPC whose objects a
    // stacked fault made unreadable.
    let object = parsed.objects.first().map(|first| {
        (
            first.object_type.unwrap_or(ObjectType::Secret),
            first.object_name.clone(),
        )
    });
    Ok(Target {
        workload: wk.clone(),
        ns,
        sa,
        spc,
        client_id: parsed.client_id.clone().unwrap_or_default(),
        tenant: parsed.tenant_id.clone().unwrap_or_default(),
        vault: parsed.keyvault_name.clone().unwrap_or_default(),
        object,
    })
}

pub fn apply(world: &mut World, id: &str) -> Result<String, String> {
    let target = default_target(world).ok_or_else(|| super::no_target(world))?;
    apply_to(world, id, &target)
}

/// Applies fault `id` to the chain of workload `wk`.
pub fn apply_to(world: &mut World, id: &str, wk: &WorkloadKey) -> Result<String, String> {
    let def = find(id).ok_or_else(|| format!("unknown fault {id:?}"))?;
    if world.faults.iter().any(|a| a.id == id) {
        return Err(format!("fault {id} is already applied"));
    }
    // Whether the synced Secret goes, read before the delete: it goes only with its last
    // owner, so a target that is one of several mounters leaves it (audit QQQ-faults).
    let fate = (id == "delete-mounting-workload")
        .then(|| resolve(world, wk).map(|t| synced_fate::note(world, wk, &t.spc)))
        .and_then(Result::ok)
        .unwrap_or_default();
    let undo = change(world, id, wk)?;
    // What the owner's controller does with the change: said, not left for the class to take
    // for a rollout that never comes (the title said "rolls out" of every kind, audit NNN-lab).
    let note = match (&undo, world.workloads.get(wk)) {
        (Undo::PodLabel { .. }, Some(w)) => {
            format!(" — {}", kinds::template_rollout(w, wk))
        }
        _ => fate,
    };
    world.faults.push(Applied {
        id: id.to_string(),
        target: wk.clone(),
        undo,
        at: world.now(),
    });
    world.mark_changed();
    Ok(format!("applied: {}{note}", def.title))
}

/// Make fault `id`'s change to the chain of `wk`; returns what undoes it.
pub(super) fn change(world: &mut World, id: &str, wk: &WorkloadKey) -> Result<Undo, String> {
    let t = resolve(world, wk)?;
    let subject = format!("system:serviceaccount:{}:{}", t.ns, t.sa);
    let identity = world
        .identities
        .iter()
        .position(|i| i.client_id == t.client_id);
    let undo = match id {
        "fic-subject-typo" | "fic-issuer-mismatch" => {
            let i = identity.ok_or("no managed identity has the SPC clientID")?;
            let before = world.identities[i].fics.clone();
            let issuer = world.cluster.oidc_issuer_url.clone();
            // The credential meant for this account, whatever case slip it already carries.
            let meant = |f: &&mut FederatedCredential| f.subject.eq_ignore_ascii_case(&subject);
            if !world.identities[i].fics.iter_mut().any(|f| meant(&f)) {
                return Err(format!(
                    "no federated credential of the identity has subject {subject}"
                ));
            }
            for f in world.identities[i].fics.iter_mut().filter(meant) {
                if id == "fic-subject-typo" {
                    // A case slip: matching is case-sensitive.
                    f.subject = format!("system:serviceaccount:{}:{}", t.ns, capitalize(&t.sa));
                } else {
                    f.issuer = issuer
                        .trim_end_matches('/')
                        .replace("oic.prod-aks", "oic.staging-aks")
                        + "/";
                }
            }
            // A subject whose account name has no letter to capitalise, an issuer not under
            // AKS's `oic.prod-aks`: the credential is as it was.
            if world.identities[i].fics == before {
                return Err(nothing_to_change(&format!(
                    "the federated credential for {subject} would stay as it is"
                )));
            }
            let now = world.now();
            crate::source::lab::scenario::stamp_changed(
                &mut world.identities[i].fics,
                &before,
                now,
            );
            Undo::Fics {
                identity: i,
                fics: before,
            }
        }
        "spc-wrong-tenant" => {
            let key = (t.ns.clone(), t.spc.clone());
            let spc = world.spcs.get(&key).cloned().ok_or("SPC vanished")?;
            let mut changed = spc.clone();
            let params = changed.spec.parameters.get_or_insert_with(Default::default);
            params.remove("tenantID");
            params.insert("tenantId".into(), other_tenant(&t.tenant));
            world.spcs.insert(key.clone(), changed);
            Undo::Spc {
                key,
                spc: Box::new(spc),
            }
        }
        "break-objects-yaml" => {
            let key = (t.ns.clone(), t.spc.clone());
            let spc = world.spcs.get(&key).cloned().ok_or("SPC vanished")?;
            let mut changed = spc.clone();
            let params = changed.spec.parameters.get_or_insert_with(Default::default);
            let objects = params.get("objects").cloned().unwrap_or_default();
            // A mapping key where the `array:` list belongs: a classic indentation slip.
            params.insert(
                "objects".into(),
                objects.replacen("array:", "array:\n  objectName: oops", 1),
            );
            world.spcs.insert(key.clone(), changed);
            Undo::Spc {
                key,
                spc: Box::new(spc),
            }
        }
        "remove-role-assignment" | "wrong-role" => {
            let i = identity.ok_or("no managed identity has the SPC clientID")?;
            let principal = world.identities[i].principal_id.clone();
            let before = world.role_assignments.clone();
            // Every grant of the identity that reaches the vault: at it, on its objects, or
            // at its resource group or the subscription.
            let rg =
                (world.vaults.get(&t.vault)).map_or(String::new(), |v| v.resource_group.clone());
            let mine = |ra: &RoleAssignment| {
                ra.spec.principal_id == principal && ra.spec.scope.touches(&t.vault, &rg)
            };
            if !world.role_assignments.iter().any(mine) {
                return Err("the identity has no role assignment on the vault".into());
            }
            if id == "remove-role-assignment" {
                world.role_assignments.retain(|ra| !mine(ra));
            } else if (world.role_assignments.iter())
                .filter(|ra| mine(ra))
                .all(|ra| ra.spec.role == "Key Vault Crypto User" && ra.spec.data_actions.is_none())
            {
                return Err(nothing_to_change(
                    "the identity's role on the vault is Key Vault Crypto User already",
                ));
            } else {
                // An assignment's role cannot be edited: Azure deletes it and makes a new
                // one, made now (its `createdOn`).
                let now = world.now();
                for ra in world.role_assignments.iter_mut().filter(|ra| mine(ra)) {
                    ra.created_at = Some(now);
                    ra.spec.role = "Key Vault Crypto User".into();
                    // A custom role's definition goes with it: the built-in role is assigned.
                    ra.spec.data_actions = None;
                    ra.spec.not_data_actions.clear();
                }
            }
            Undo::RoleAssignments(before)
        }
        "vault-firewall" => {
            let v = world
                .vaults
                .get_mut(&t.vault)
                .ok_or("vault not in the lab")?;
            let before = v.network.clone();
            let denied = !before.public_network_access || before.default_action == "Deny";
            if denied && !before.cluster_allowed {
                return Err(nothing_to_change(&format!(
                    "Key Vault {} already refuses the cluster's network",
                    t.vault
                )));
            }
            v.network = NetworkSpec {
                public_network_access: true,
                default_action: "Deny".into(),
                cluster_allowed: false,
            };
            Undo::Network {
                vault: t.vault.clone(),
                network: before,
            }
        }
        "delete-object" | "disable-object" => {
            let key = t
                .object
                .clone()
                .ok_or("the SecretProviderClass has no objects")?;
            let v = world
                .vaults
                .get_mut(&t.vault)
                .ok_or("vault not in the lab")?;
            if !v.objects.contains_key(&key) {
                return Err("object not in the vault".into());
            }
            // A certificate's secret and key are Key Vault's, with the certificate's lifetime:
            // deleting or disabling the certificate takes them with it, and either of them is
            // deleted or disabled only through it (audit S2: the lab left the secret serving).
            let certificate = v.objects.contains_key(&(ObjectType::Cert, key.1.clone()));
            let keys: Vec<(ObjectType, String)> = match certificate {
                true => [ObjectType::Cert, ObjectType::Secret, ObjectType::Key]
                    .map(|t| (t, key.1.clone()))
                    .into_iter()
                    .filter(|k| v.objects.contains_key(k))
                    .collect(),
                false => vec![key],
            };
            let objects: Vec<_> = keys
                .iter()
                .filter_map(|k| Some((k.clone(), v.objects.get(k)?.clone())))
                .collect();
            let enabled = |o: &&LabObject| o.versions.first().is_some_and(|l| l.enabled);
            if id == "disable-object" && !objects.iter().map(|(_, o)| o).any(|o| enabled(&o)) {
                let (kind, name) = &keys[0];
                return Err(nothing_to_change(&format!(
                    "the latest version of {} {name} is disabled already",
                    kind.as_str()
                )));
            }
            for k in &keys {
                if id == "delete-object" {
                    // Soft delete (always on): the object is kept, recoverable, under its name.
                    if let Some(mut o) = v.objects.remove(k) {
                        o.deleted_on = Some(world.clock.now());
                        v.deleted.insert(k.clone(), o);
                    }
                } else if let Some(o) = v.objects.get_mut(k)
                    && let Some(latest) = o.versions.first_mut()
                {
                    latest.enabled = false;
                }
            }
            Undo::Object {
                vault: t.vault.clone(),
                objects,
            }
        }
        "remove-pod-label" => {
            if let Some(why) = kinds::template_edit_refused(&t.workload) {
                return Err(why);
            }
            let w = world
                .workloads
                .get_mut(&t.workload)
                .ok_or("workload vanished")?;
            let labels = w
                .template_mut()
                .and_then(|tm| tm.metadata.as_mut())
                .and_then(|m| m.labels.as_mut())
                .ok_or("the pod template has no labels")?;
            let value = labels
                .remove(crate::source::lab::webhook::USE_LABEL)
                .ok_or("the pod template has no azure.workload.identity/use label")?;
            // The template change rolls out by itself (no restartedAt: the repair gives the
            // original template, and its ReplicaSet, back).
            world.template_edited();
            Undo::PodLabel {
                workload: t.workload.clone(),
                value,
            }
        }
        "sa-client-id-mismatch" => {
            let key = (t.ns.clone(), t.sa.clone());
            let sa = world
                .service_accounts
                .get_mut(&key)
                .ok_or("service account not found")?;
            let ann = sa.metadata.annotations.get_or_insert_with(Default::default);
            let value = ann.insert(
                crate::source::lab::webhook::CLIENT_ID_ANNOTATION.into(),
                OTHER_CLIENT_ID.into(),
            );
            if value.as_deref() == Some(OTHER_CLIENT_ID) {
                return Err(nothing_to_change(&format!(
                    "service account {}/{} names {OTHER_CLIENT_ID} already",
                    t.ns, t.sa
                )));
            }
            Undo::SaAnnotation { key, value }
        }
        "disable-rotation" => {
            let before = world.cluster.csi_driver.enable_secret_rotation;
            // Off unless the scenario turns it on (docs/scenarios.md, csiDriver).
            if !before {
                return Err(nothing_to_change(
                    "secret rotation is off in the CSI driver already (csiDriver.enableSecretRotation)",
                ));
            }
            world.cluster.csi_driver.enable_secret_rotation = false;
            Undo::Rotation(before)
        }
        "stop-reloader" => {
            // The lab's Reloader watches every namespace (export): scaled to 0, it runs no pod.
            if !world.cluster.reloader {
                return Err(nothing_to_change(
                    "no Reloader runs in this lab (its Cluster document says reloader: false)",
                ));
            }
            if world.cluster.reloader_stopped {
                return Err(nothing_to_change("Reloader is scaled to 0 already"));
            }
            world.cluster.reloader_stopped = true;
            Undo::Reloader
        }
        "delete-mounting-workload" if t.workload.0 == "Pod" => {
            let (ns, name) = (&t.workload.1, &t.workload.2);
            let saved = (world.pods.get(&(ns.clone(), name.clone())))
                .map(|p| kinds::saved_manifest(p))
                .ok_or("pod vanished")?;
            world.delete_pod(ns, name)?;
            Undo::BarePod(Box::new(saved))
        }
        "delete-mounting-workload" => {
            let w = world
                .workloads
                .get(&t.workload)
                .cloned()
                .ok_or("workload vanished")?;
            world.delete_workload(&t.workload.0, &t.workload.1, &t.workload.2)?;
            Undo::Workload(Box::new(w))
        }
        _ => return Err(format!("fault {id} has no implementation")),
    };
    Ok(undo)
}

/// The client id `sa-client-id-mismatch` writes: no identity has it.
const OTHER_CLIENT_ID: &str = "00000000-dead-beef-0000-000000000000";

/// docs/scenarios.md, "Trainer faults": a fault that finds nothing to change is refused with
/// the reason, not listed as applied (and "repaired" later) over a world it left as it was.
fn nothing_to_change(why: &str) -> String {
    format!("nothing to change: {why}")
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn other_tenant(t: &str) -> String {
    if t.starts_with("f00d") {
        "72f988bf-86f1-41af-91ab-2d7cd011db47".into()
    } else {
        "f00dcafe-0000-4000-8000-00000000beef".into()
    }
}
