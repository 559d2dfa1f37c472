//! The trainer's fault catalogue: named, reversible changes that break one link of a target
//! workload's chain live. Each fault changes the *world* (an FIC, a role assignment, a pod
//! template…); consequences follow from the simulation, never from the fault itself.

use super::azure::LabObject;
use super::scenario::{FederatedCredential, NetworkSpec, RoleAssignment};
use super::world::{Workload, WorkloadKey, World};
use crate::chain::{Code, LinkKind};
use crate::snapshot::ObjectType;
use crate::snapshot::crd::SecretProviderClass;
use crate::source::FaultInfo;

pub struct FaultDef {
    pub id: &'static str,
    pub title: &'static str,
    pub link: LinkKind,
    /// The code diagnosis must name once the fault is applied (None: no chain remains).
    pub expected: Option<Code>,
}

pub const CATALOGUE: &[FaultDef] = &[
    FaultDef {
        id: "fic-subject-typo",
        title: "Typo the federated credential subject",
        link: LinkKind::Federation,
        expected: Some(Code::KVC401),
    },
    FaultDef {
        id: "fic-issuer-mismatch",
        title: "Point the federated credential at another issuer",
        link: LinkKind::Federation,
        expected: Some(Code::KVC402),
    },
    FaultDef {
        id: "spc-wrong-tenant",
        title: "Set the SecretProviderClass tenantId to another tenant",
        link: LinkKind::Federation,
        expected: Some(Code::KVC404),
    },
    FaultDef {
        id: "remove-role-assignment",
        title: "Remove the identity's role assignment on the vault",
        link: LinkKind::Access,
        expected: Some(Code::KVC501),
    },
    FaultDef {
        id: "wrong-role",
        title: "Swap the role for Key Vault Crypto User (keys only)",
        link: LinkKind::Access,
        expected: Some(Code::KVC502),
    },
    FaultDef {
        id: "vault-firewall",
        title: "Turn on the vault firewall without a rule for the cluster",
        link: LinkKind::Access,
        expected: Some(Code::KVC505),
    },
    FaultDef {
        id: "delete-object",
        title: "Delete the Key Vault object",
        link: LinkKind::VaultObject,
        expected: Some(Code::KVC601),
    },
    FaultDef {
        id: "disable-object",
        title: "Disable the object's latest version",
        link: LinkKind::VaultObject,
        expected: Some(Code::KVC602),
    },
    FaultDef {
        id: "remove-pod-label",
        title: "Remove the pod label azure.workload.identity/use (rolls out)",
        link: LinkKind::ServiceAccount,
        expected: Some(Code::KVC201),
    },
    FaultDef {
        id: "sa-client-id-mismatch",
        title: "Change the service account's client-id annotation",
        link: LinkKind::ServiceAccount,
        expected: Some(Code::KVC204),
    },
    FaultDef {
        id: "disable-rotation",
        title: "Disable secret rotation in the CSI driver",
        link: LinkKind::Mount,
        expected: Some(Code::KVC702),
    },
    FaultDef {
        id: "break-objects-yaml",
        title: "Break the indentation of the SPC objects YAML",
        link: LinkKind::Mount,
        expected: Some(Code::KVC705),
    },
    FaultDef {
        id: "delete-mounting-workload",
        title: "Delete the last workload that mounts the SPC (synced Secret is garbage-collected)",
        link: LinkKind::Sync,
        expected: None,
    },
];

pub fn find(id: &str) -> Option<&'static FaultDef> {
    CATALOGUE.iter().find(|f| f.id == id)
}

/// A fault as applied: its id, the workload whose chain it broke, and what restores the piece
/// of the world it changed (as that piece was just before).
#[derive(Clone, Debug)]
pub struct Applied {
    pub id: String,
    pub target: WorkloadKey,
    pub undo: Undo,
}

/// What it takes to undo an applied fault.
#[derive(Clone, Debug)]
pub enum Undo {
    Fics {
        identity: usize,
        fics: Vec<FederatedCredential>,
    },
    RoleAssignments(Vec<RoleAssignment>),
    Network {
        vault: String,
        network: NetworkSpec,
    },
    /// The objects a delete or disable touched, as they were: one, or the three of a
    /// certificate (its certificate, the secret and the key Key Vault manages with it).
    Object {
        vault: String,
        objects: Vec<((ObjectType, String), LabObject)>,
    },
    Spc {
        key: (String, String),
        spc: Box<SecretProviderClass>,
    },
    PodLabel {
        workload: WorkloadKey,
        value: String,
    },
    SaAnnotation {
        key: (String, String),
        value: Option<String>,
    },
    Rotation(bool),
    Workload(Box<Workload>),
}

pub fn infos(world: &World) -> Vec<FaultInfo> {
    CATALOGUE
        .iter()
        .map(|f| FaultInfo {
            id: f.id.into(),
            title: f.title.into(),
            link: f.link,
            active: world.faults.iter().any(|a| a.id == f.id),
            target: world.faults.iter().find(|a| a.id == f.id).map(|a| {
                crate::source::FaultTarget {
                    kind: a.target.0.clone(),
                    namespace: a.target.1.clone(),
                    name: a.target.2.clone(),
                }
            }),
        })
        .collect()
}

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

/// The scenario's `faultTarget` (`namespace/deployment`), else the first Deployment that
/// mounts a SecretProviderClass.
pub fn default_target(world: &World) -> Option<WorkloadKey> {
    if let Some((ns, name)) = world
        .cluster
        .fault_target
        .as_deref()
        .and_then(|t| t.split_once('/'))
    {
        let key = ("Deployment".to_string(), ns.to_string(), name.to_string());
        if world.workloads.contains_key(&key) {
            return Some(key);
        }
    }
    world
        .workloads
        .iter()
        .find(|(k, w)| k.0 == "Deployment" && spc_of(w).is_some())
        .map(|(k, _)| k.clone())
}

fn spc_of(w: &Workload) -> Option<String> {
    w.template()?
        .spec
        .as_ref()?
        .volumes
        .iter()
        .flatten()
        .filter_map(|v| v.csi.as_ref())
        .find(|c| c.driver == super::mount::DRIVER)?
        .volume_attributes
        .as_ref()?
        .get("secretProviderClass")
        .cloned()
}

fn resolve(world: &World, wk: &WorkloadKey) -> Result<Target, String> {
    let w = world
        .workloads
        .get(wk)
        .ok_or_else(|| format!("{} {}/{} not found", wk.0, wk.1, wk.2))?;
    let ns = wk.1.clone();
    let spc = spc_of(w).ok_or_else(|| format!("{}/{} mounts no SecretProviderClass", ns, wk.2))?;
    let sa = w
        .template()
        .and_then(|t| t.spec.as_ref())
        .and_then(|s| s.service_account_name.clone())
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
    let target = default_target(world)
        .ok_or("no workload mounts a SecretProviderClass: nothing to break")?;
    apply_to(world, id, &target)
}

/// Applies fault `id` to the chain of workload `wk`.
pub fn apply_to(world: &mut World, id: &str, wk: &WorkloadKey) -> Result<String, String> {
    let def = find(id).ok_or_else(|| format!("unknown fault {id:?}"))?;
    if world.faults.iter().any(|a| a.id == id) {
        return Err(format!("fault {id} is already applied"));
    }
    let undo = change(world, id, wk)?;
    world.faults.push(Applied {
        id: id.to_string(),
        target: wk.clone(),
        undo,
    });
    world.mark_changed();
    Ok(format!("applied: {}", def.title))
}

/// Make fault `id`'s change to the chain of `wk`; returns what undoes it.
fn change(world: &mut World, id: &str, wk: &WorkloadKey) -> Result<Undo, String> {
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
            let mine = |ra: &RoleAssignment| {
                ra.spec.principal_id == principal && ra.spec.scope.vault == t.vault
            };
            if !world.role_assignments.iter().any(mine) {
                return Err("the identity has no role assignment on the vault".into());
            }
            if id == "remove-role-assignment" {
                world.role_assignments.retain(|ra| !mine(ra));
            } else {
                for ra in world.role_assignments.iter_mut().filter(|ra| mine(ra)) {
                    ra.spec.role = "Key Vault Crypto User".into();
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
            for k in &keys {
                if id == "delete-object" {
                    v.objects.remove(k);
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
                .remove(super::webhook::USE_LABEL)
                .ok_or("the pod template has no azure.workload.identity/use label")?;
            world.patch_restarted_at(&t.workload.0, &t.workload.1, &t.workload.2)?;
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
                super::webhook::CLIENT_ID_ANNOTATION.into(),
                "00000000-dead-beef-0000-000000000000".into(),
            );
            Undo::SaAnnotation { key, value }
        }
        "disable-rotation" => {
            let before = world.cluster.csi_driver.enable_secret_rotation;
            world.cluster.csi_driver.enable_secret_rotation = false;
            Undo::Rotation(before)
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

/// Undo fault `id` alone. An undo restores its piece of the world as it was just before the
/// fault, so the faults applied after it on the same piece are undone first (newest first)
/// and made again afterwards: repairing one of two faults leaves the other in place, and
/// repairing both gives back the world before either.
pub fn repair(world: &mut World, id: &str) -> Result<String, String> {
    let def = find(id).ok_or_else(|| format!("unknown fault {id:?}"))?;
    let at = world
        .faults
        .iter()
        .position(|a| a.id == id)
        .ok_or_else(|| format!("fault {id} is not applied"))?;
    let piece = world.faults[at].undo.piece();
    let later: Vec<usize> = (at + 1..world.faults.len())
        .filter(|&j| world.faults[j].undo.piece() == piece)
        .collect();
    let mut redo = Vec::new();
    for &j in later.iter().rev() {
        let a = world.faults.remove(j);
        restore(world, a.undo)?;
        redo.push((a.id, a.target));
    }
    let a = world.faults.remove(at);
    restore(world, a.undo)?;
    for (id, target) in redo.into_iter().rev() {
        let undo = change(world, &id, &target)?;
        world.faults.push(Applied { id, target, undo });
    }
    world.mark_changed();
    Ok(format!("repaired: {}", def.title))
}

impl Undo {
    /// The piece of the world this undo restores: two faults on one piece nest.
    fn piece(&self) -> String {
        match self {
            Undo::Fics { identity, .. } => format!("fics/{identity}"),
            Undo::RoleAssignments(_) => "role-assignments".into(),
            Undo::Network { vault, .. } => format!("network/{vault}"),
            // A certificate's three objects are one piece.
            Undo::Object { vault, objects } => match objects.as_slice() {
                [(key, _)] => format!("object/{vault}/{:?}/{}", key.0, key.1),
                _ => format!(
                    "object/{vault}/certificate/{}",
                    objects.first().map_or("", |(k, _)| k.1.as_str())
                ),
            },
            Undo::Spc { key, .. } => format!("spc/{}/{}", key.0, key.1),
            // A label on a workload's template, the workload itself: both the workloads.
            Undo::PodLabel { .. } | Undo::Workload(_) => "workloads".into(),
            Undo::SaAnnotation { key, .. } => format!("sa/{}/{}", key.0, key.1),
            Undo::Rotation(_) => "rotation".into(),
        }
    }
}

fn restore(world: &mut World, undo: Undo) -> Result<(), String> {
    match undo {
        Undo::Fics { identity, fics } => {
            if let Some(i) = world.identities.get_mut(identity) {
                i.fics = fics;
            }
        }
        Undo::RoleAssignments(ras) => world.role_assignments = ras,
        Undo::Network { vault, network } => {
            if let Some(v) = world.vaults.get_mut(&vault) {
                v.network = network;
            }
        }
        Undo::Object { vault, objects } => {
            if let Some(v) = world.vaults.get_mut(&vault) {
                // Keep versions written meanwhile; restore the enabled flags / the object.
                for (key, object) in objects {
                    match v.objects.get_mut(&key) {
                        Some(o) => {
                            for ver in o.versions.iter_mut() {
                                if let Some(old) = object.versions.iter().find(|x| x.id == ver.id) {
                                    ver.enabled = old.enabled;
                                }
                            }
                        }
                        None => {
                            v.objects.insert(key, object);
                        }
                    }
                }
            }
        }
        Undo::Spc { key, spc } => {
            world.spcs.insert(key, *spc);
        }
        Undo::PodLabel { workload, value } => {
            if let Some(w) = world.workloads.get_mut(&workload)
                && let Some(m) = w.template_mut().and_then(|t| t.metadata.as_mut())
            {
                m.labels
                    .get_or_insert_with(Default::default)
                    .insert(super::webhook::USE_LABEL.into(), value);
            }
            world.patch_restarted_at(&workload.0, &workload.1, &workload.2)?;
        }
        Undo::SaAnnotation { key, value } => {
            if let Some(sa) = world.service_accounts.get_mut(&key) {
                let ann = sa.metadata.annotations.get_or_insert_with(Default::default);
                match value {
                    Some(v) => ann.insert(super::webhook::CLIENT_ID_ANNOTATION.into(), v),
                    None => ann.remove(super::webhook::CLIENT_ID_ANNOTATION),
                };
            }
        }
        Undo::Rotation(before) => {
            let csi = &mut world.cluster.csi_driver;
            if before && !csi.enable_secret_rotation {
                // Turned on again: versions created meanwhile wait for the next poll.
                csi.rotation_enabled_at = Some(world.clock.now());
            }
            csi.enable_secret_rotation = before;
        }
        Undo::Workload(w) => {
            let mut w = *w;
            // A re-created object is a new object: new uid, new ReplicaSets.
            match &mut w {
                Workload::Deployment(d) => d.metadata.uid = None,
                Workload::StatefulSet(s) => s.metadata.uid = None,
                Workload::DaemonSet(d) => d.metadata.uid = None,
                Workload::Job(j) => j.metadata.uid = None,
            }
            world.add_workload(w);
        }
    }
    Ok(())
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
