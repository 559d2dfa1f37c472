//! The trainer's fault catalogue: named, reversible changes that break one link of a target
//! workload's chain live. Each fault changes the *world* (an FIC, a role assignment, a pod
//! template…); consequences follow from the simulation, never from the fault itself.
//! This file holds the catalogue and what an applied fault records; `apply` makes a fault's
//! change, `repair` undoes it.

mod apply;
mod kinds;
mod repair;
mod synced_fate;

pub use apply::{apply, apply_to};
pub use repair::repair;

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
        title: "Remove the pod template's label azure.workload.identity/use",
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
        id: "stop-reloader",
        title: "Scale Stakater Reloader to 0 replicas",
        link: LinkKind::Consumers,
        expected: Some(Code::KVC902),
    },
    FaultDef {
        id: "delete-mounting-workload",
        title: "Delete the workload that mounts the SPC (its synced Secret goes with its last owner)",
        link: LinkKind::Sync,
        expected: None,
    },
];

pub fn find(id: &str) -> Option<&'static FaultDef> {
    CATALOGUE.iter().find(|f| f.id == id)
}

/// A fault as applied: its id, the workload (or bare pod) whose chain it broke, what restores
/// the piece of the world it changed (as that piece was just before), and when.
#[derive(Clone, Debug)]
pub struct Applied {
    pub id: String,
    pub target: WorkloadKey,
    pub undo: Undo,
    /// Lab time the fault was applied: its repair says how long the link stayed broken, the
    /// time a trainer gives the class (a fault made again under a repair keeps its own).
    pub at: jiff::Timestamp,
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
    /// Reloader scaled to 0 (`stop-reloader`): the repair scales it back.
    Reloader,
    Workload(Box<Workload>),
    /// A bare pod deleted, as `kubectl get pod -o yaml` would have saved it: nothing recreates
    /// it but the repair.
    BarePod(Box<k8s_openapi::api::core::v1::Pod>),
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
            reach: (world.faults.iter().find(|a| a.id == f.id)).and_then(|a| reach(world, &a.undo)),
        })
        .collect()
}

/// What a fault changed when that is not its target workload, and what the change reaches:
/// the driver's rotation flag is the cluster's, a vault's network rules every chain reading
/// that vault (FACTS §4: no per-volume rotation attribute; a vault's firewall answers every
/// caller); a ServiceAccount, an SPC, an identity's credentials or roles, a vault object serve
/// every pod that runs as, mounts or reads through them, not the target alone (audit SSS-time:
/// `sa-client-id-mismatch` read "on Deployment shop/checkout", which it never touched). A
/// change to the target's own template or the target itself has nothing past it to say.
fn reach(world: &World, undo: &Undo) -> Option<String> {
    match undo {
        Undo::Rotation(_) => Some("the CSI driver: every chain in the cluster".into()),
        Undo::Reloader => Some(
            "Stakater Reloader (reloader/reloader): every workload it restarts in the cluster"
                .into(),
        ),
        Undo::Network { vault, .. } => Some(format!("Key Vault {vault}: every chain reading it")),
        Undo::SaAnnotation {
            key: (ns, name), ..
        } => Some(format!(
            "ServiceAccount {ns}/{name}: every pod running as it"
        )),
        Undo::Spc {
            key: (ns, name), ..
        } => Some(format!(
            "SecretProviderClass {ns}/{name}: every pod mounting it"
        )),
        Undo::Fics { identity, .. } => (world.identities.get(*identity)).map(|id| {
            format!(
                "the federated credentials of managed identity {}: every pod it serves",
                id.name
            )
        }),
        Undo::RoleAssignments(before) => {
            // The assignment the fault removed or re-roled: gone now, or another role.
            let changed = before.iter().find(|b| {
                !(world.role_assignments.iter())
                    .any(|ra| ra.name == b.name && ra.spec.role == b.spec.role)
            })?;
            let who = (world.identities.iter())
                .find(|i| i.principal_id == changed.spec.principal_id)
                .map_or(changed.spec.principal_id.as_str(), |i| i.name.as_str());
            Some(format!(
                "the roles of {who} on {}: every chain reading it as {who}",
                changed.spec.scope
            ))
        }
        Undo::Object { vault, objects } => objects.first().map(|((kind, name), _)| {
            format!(
                "{} {name} in Key Vault {vault}: every chain reading it",
                kind.as_str()
            )
        }),
        Undo::PodLabel { .. } | Undo::Workload(_) | Undo::BarePod(_) => None,
    }
}

/// Why no fault can be applied when [`default_target`] finds none: no workload or bare pod
/// mounts a SecretProviderClass, or the scenario's `faultTarget` names none that does.
pub fn no_target(world: &World) -> String {
    let named = (world.cluster.fault_target.as_deref())
        .map(|t| format!("; faultTarget {t} names no workload or pod that mounts one"))
        .unwrap_or_default();
    format!(
        "no workload or pod mounts a SecretProviderClass: nothing to break (the trainer faults act on a chain{named})"
    )
}

/// The kinds a fault can act on: the lab's workloads, whose pod template names the chain's
/// service account and SecretProviderClass, and a bare pod (kind `Pod`), whose own spec does.
/// An Ingress (a chain no pod starts) is none: the TUI's break menu falls back to the default
/// target for it.
pub const TARGET_KINDS: [&str; 5] = ["Deployment", "StatefulSet", "DaemonSet", "Job", "Pod"];

/// The scenario's `faultTarget` (`namespace/name`: a Deployment, StatefulSet, DaemonSet, Job
/// or bare pod of that name, in that order, that mounts a SecretProviderClass), else the first
/// Deployment that mounts one, else the first other workload, else the first bare pod. The
/// faults act on every owner kind the lab runs (audit NNN-lab: they acted on Deployments
/// only, so a StatefulSet's, DaemonSet's, Job's or bare pod's chain could not be broken).
pub fn default_target(world: &World) -> Option<WorkloadKey> {
    let all = targets(world);
    (world.cluster.fault_target.as_deref())
        .and_then(|t| t.split_once('/'))
        .and_then(|(ns, name)| all.iter().find(|k| k.1 == ns && k.2 == name).cloned())
        .or_else(|| all.into_iter().next())
}

/// The target named `namespace/name` (a lesson's `target`), of whatever kind.
pub fn named(world: &World, ns: &str, name: &str) -> Option<WorkloadKey> {
    targets(world)
        .into_iter()
        .find(|k| k.1 == ns && k.2 == name)
}

/// Every workload and bare pod that mounts a SecretProviderClass: Deployments first (the
/// kind most chains run under), then the other kinds in [`TARGET_KINDS`] order.
fn targets(world: &World) -> Vec<WorkloadKey> {
    let mut all: Vec<WorkloadKey> = (world.workloads.iter())
        .filter(|(_, w)| spc_of(w).is_some())
        .map(|(k, _)| k.clone())
        .collect();
    all.sort_by_key(|k| TARGET_KINDS.iter().position(|t| *t == k.0));
    let bare = (world.pods.values())
        .filter(|p| p.controller().is_none() && p.spec.as_deref().and_then(spc_in).is_some())
        .map(|p| {
            (
                "Pod".to_string(),
                p.namespace().to_string(),
                p.name().to_string(),
            )
        });
    all.extend(bare);
    all
}

fn spc_of(w: &Workload) -> Option<String> {
    spc_in(w.template()?.spec.as_ref()?)
}

/// The SecretProviderClass the first CSI volume of the driver in `spec` names.
fn spc_in(spec: &k8s_openapi::api::core::v1::PodSpec) -> Option<String> {
    spec.volumes
        .iter()
        .flatten()
        .filter_map(|v| v.csi.as_ref())
        .find(|c| c.driver == super::mount::DRIVER)?
        .volume_attributes
        .as_ref()?
        .get("secretProviderClass")
        .cloned()
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
            Undo::PodLabel { .. } | Undo::Workload(_) | Undo::BarePod(_) => "workloads".into(),
            Undo::SaAnnotation { key, .. } => format!("sa/{}/{}", key.0, key.1),
            Undo::Rotation(_) => "rotation".into(),
            Undo::Reloader => "reloader".into(),
        }
    }
}
