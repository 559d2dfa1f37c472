//! Scenario files: multi-document YAML of ordinary Kubernetes manifests plus a few lab kinds
//! (`apiVersion: lab.kvchain.dev/v1`) describing what lives outside the cluster: the AKS
//! cluster settings, managed identities with their federated credentials, key vaults with
//! their objects, role assignments, and a timeline of events.
//!
//! Loading is strict: an unknown kind, an unknown field or a bad value is an [`InputError`]
//! naming the file, the document (1-based) and the field, so a typo in a scenario never turns
//! silently into a different world.

use std::time::Duration;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Namespace, Node, Pod, Secret, ServiceAccount};
use k8s_openapi::api::networking::v1::Ingress;
use serde::Deserialize;

use crate::snapshot::crd::SecretProviderClass;

mod parse;
mod scope;
mod validate;

pub use parse::parse;
pub use scope::ScopeSpec;

/// The group/version of the lab's own kinds.
pub const LAB_API_VERSION: &str = "lab.kvchain.dev/v1";

/// A whole scenario, parsed but not yet run.
#[derive(Clone, Debug, Default)]
pub struct Scenario {
    pub name: String,
    pub cluster: ClusterSpec,
    pub identities: Vec<ManagedIdentity>,
    pub vaults: Vec<KeyVault>,
    pub role_assignments: Vec<RoleAssignment>,
    pub timeline: Vec<TimedEvent>,
    /// `kind: Lesson` documents: guided steps for a class (see [`super::lesson`]).
    pub lessons: Vec<super::lesson::Lesson>,
    pub namespaces: Vec<Namespace>,
    /// `v1` Node documents: nodes besides the Cluster's `node` (labels and taints count).
    pub nodes: Vec<Node>,
    pub service_accounts: Vec<ServiceAccount>,
    pub pods: Vec<Pod>,
    pub deployments: Vec<Deployment>,
    pub stateful_sets: Vec<StatefulSet>,
    pub daemon_sets: Vec<DaemonSet>,
    pub jobs: Vec<Job>,
    pub secrets: Vec<Secret>,
    /// `v1` ConfigMaps, their keys only (values never matter to the lab, nor are shown).
    pub config_maps: Vec<super::config_map::LabConfigMap>,
    pub spcs: Vec<SecretProviderClass>,
    pub ingresses: Vec<Ingress>,
}

// ------------------------------------------------------------------ lab kinds

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LabMeta {
    name: String,
}

/// `kind: Cluster` — the AKS cluster and its add-ons.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterSpec {
    /// `oidcIssuerProfile.issuerUrl` (AKS issuers end with `/`).
    #[serde(rename = "oidcIssuerURL")]
    pub oidc_issuer_url: String,
    #[serde(rename = "tenantID")]
    pub tenant_id: String,
    #[serde(default = "default_subscription", rename = "subscriptionID")]
    pub subscription_id: String,
    #[serde(default = "default_location")]
    pub location: String,
    /// The default pool's Linux node, where the add-on runs; Node documents add others.
    #[serde(default = "default_node")]
    pub node: String,
    /// The workload-identity mutating webhook is installed.
    #[serde(default = "yes")]
    pub workload_identity_webhook: bool,
    #[serde(default)]
    pub csi_driver: CsiDriverSpec,
    /// Stakater Reloader runs (env-vars strategy): annotated workloads roll out when a
    /// Secret they use changes.
    #[serde(default)]
    pub reloader: bool,
    /// Reloader's container args (`--enable-csi-integration=true`, `--auto-reload-all`, a
    /// renamed annotation key…), read by the parser a live cluster's Reloader Deployment goes
    /// through: the lab's Reloader acts by them and its export shows them. Needs `reloader`.
    #[serde(default)]
    pub reloader_args: Vec<String>,
    /// The trainer's `stop-reloader` fault scaled Reloader's Deployment to 0 replicas: it
    /// runs no pod, so it restarts nothing (lab state, not a scenario field).
    #[serde(skip)]
    pub reloader_stopped: bool,
    /// Pod whose workload the trainer faults act on (`namespace/workload`); default: the
    /// first Deployment that mounts a SecretProviderClass.
    #[serde(default)]
    pub fault_target: Option<String>,
    /// The AKS resource group, named by `az aks` fixes (unset: `"$CLUSTER_RG"`).
    #[serde(default)]
    pub resource_group: Option<String>,
    /// `metadata.name`: the AKS cluster's name, named by `az aks` fixes.
    #[serde(skip)]
    pub name: String,
}

impl Default for ClusterSpec {
    fn default() -> Self {
        ClusterSpec {
            oidc_issuer_url: String::new(),
            tenant_id: String::new(),
            subscription_id: default_subscription(),
            location: default_location(),
            node: default_node(),
            workload_identity_webhook: true,
            csi_driver: CsiDriverSpec::default(),
            reloader: false,
            reloader_args: Vec::new(),
            reloader_stopped: false,
            fault_target: None,
            resource_group: None,
            name: String::new(),
        }
    }
}

/// The Secrets Store CSI driver add-on (`azureKeyvaultSecretsProvider`).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CsiDriverSpec {
    #[serde(default = "yes")]
    pub installed: bool,
    /// `--enable-secret-rotation`: off unless set, as the driver's flag and the AKS add-on
    /// default to (FACTS §4; audit X6).
    #[serde(default)]
    pub enable_secret_rotation: bool,
    /// `--rotation-poll-interval`.
    #[serde(default = "default_poll", with = "humantime_field")]
    pub rotation_poll_interval: Duration,
    /// `syncSecret.enabled`: the driver may create Secrets.
    #[serde(default = "yes")]
    pub sync_secret: bool,
    /// CSIDriver `spec.tokenRequests[].audience`.
    #[serde(default = "default_audiences")]
    pub token_audiences: Vec<String>,
    /// `aks-addon` (default) or `helm`.
    #[serde(default = "aks_addon")]
    pub install: crate::snapshot::DriverInstall,
    /// Nodes whose Azure provider pod is there but not ready (crash-looping): every mount and
    /// rotation poll on them fails as on a node without the provider (FACTS §3, §11 "Nodes").
    #[serde(default)]
    pub provider_not_ready_on: Vec<String>,
    /// When a fault's repair turned rotation back on (lab clock); not a scenario field.
    #[serde(skip)]
    pub rotation_enabled_at: Option<jiff::Timestamp>,
}

fn aks_addon() -> crate::snapshot::DriverInstall {
    crate::snapshot::DriverInstall::AksAddon
}

impl Default for CsiDriverSpec {
    fn default() -> Self {
        CsiDriverSpec {
            installed: true,
            enable_secret_rotation: false,
            rotation_poll_interval: default_poll(),
            sync_secret: true,
            token_audiences: default_audiences(),
            install: aks_addon(),
            provider_not_ready_on: Vec::new(),
            rotation_enabled_at: None,
        }
    }
}

/// `kind: ManagedIdentity` — a user-assigned managed identity.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManagedIdentitySpec {
    #[serde(rename = "clientID")]
    pub client_id: String,
    #[serde(rename = "principalID")]
    pub principal_id: String,
    #[serde(rename = "tenantID")]
    pub tenant_id: String,
    #[serde(default = "default_rg")]
    pub resource_group: String,
    #[serde(default)]
    pub federated_credentials: Vec<FederatedCredential>,
    /// Principal ids of identities of this name deleted before this one was made: the lab's
    /// directory knows them gone, so a role assignment or access policy naming one is left on
    /// a deleted principal. An id in no ManagedIdentity is unknown, not deleted (it may be a
    /// user's or a group's; audit UUU-real2).
    #[serde(default, rename = "formerPrincipalIDs")]
    pub former_principal_ids: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct ManagedIdentity {
    pub name: String,
    pub spec: ManagedIdentitySpec,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FederatedCredential {
    pub name: String,
    pub issuer: String,
    pub subject: String,
    #[serde(default = "default_audiences")]
    pub audiences: Vec<String>,
    /// When it last changed (ARM's `systemData.lastModifiedAt`): the lab's start for the
    /// scenario's own, the moment a fault or its repair changed it. `None` until the world
    /// holds it.
    #[serde(skip)]
    pub modified_at: Option<jiff::Timestamp>,
}

impl FederatedCredential {
    /// The same credential as `other` in what a token exchange compares (not when it changed).
    pub fn same_as(&self, other: &FederatedCredential) -> bool {
        self.name == other.name
            && self.issuer == other.issuer
            && self.subject == other.subject
            && self.audiences == other.audiences
    }
}

/// Stamp `now` on each credential of `fics` that `before` did not hold as it is; one left as
/// it was keeps its own time (ARM changes `lastModifiedAt` on a write only).
pub fn stamp_changed(
    fics: &mut [FederatedCredential],
    before: &[FederatedCredential],
    now: jiff::Timestamp,
) {
    for f in fics {
        f.modified_at = match before.iter().find(|b| b.same_as(f)) {
            Some(kept) => kept.modified_at,
            None => Some(now),
        };
    }
}

/// `kind: KeyVault`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeyVaultSpec {
    #[serde(rename = "tenantID")]
    pub tenant_id: String,
    #[serde(default = "default_rg")]
    pub resource_group: String,
    /// `enableRbacAuthorization`: true ⇒ Azure RBAC, false ⇒ access policies.
    #[serde(default = "yes")]
    pub enable_rbac_authorization: bool,
    #[serde(default)]
    pub network: NetworkSpec,
    #[serde(default)]
    pub access_policies: Vec<AccessPolicySpec>,
    /// Requests per 10-second window before Key Vault answers 429 (the real service limit
    /// is in the thousands; scenarios lower it to show throttling).
    #[serde(default)]
    pub request_limit: Option<u32>,
    #[serde(default)]
    pub secrets: Vec<SecretSpec>,
    #[serde(default)]
    pub keys: Vec<KeySpec>,
    #[serde(default)]
    pub certificates: Vec<CertificateSpec>,
    /// `enablePurgeProtection`: a deleted object cannot be purged before its retention ends.
    #[serde(default)]
    pub purge_protection: bool,
    /// `softDeleteRetentionInDays` (7 to 90): how long a deleted object stays recoverable.
    #[serde(default = "default_retention")]
    pub soft_delete_retention_days: u16,
}

fn default_retention() -> u16 {
    90
}

#[derive(Clone, Debug)]
pub struct KeyVault {
    pub name: String,
    pub spec: KeyVaultSpec,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NetworkSpec {
    /// `publicNetworkAccess: Enabled`.
    #[serde(default = "yes")]
    pub public_network_access: bool,
    /// `networkAcls.defaultAction`: `Allow` or `Deny`.
    #[serde(default = "default_allow")]
    pub default_action: String,
    /// Whether an IP/VNet rule or private endpoint lets the cluster's egress in.
    #[serde(default = "yes")]
    pub cluster_allowed: bool,
}

impl Default for NetworkSpec {
    fn default() -> Self {
        NetworkSpec {
            public_network_access: true,
            default_action: default_allow(),
            cluster_allowed: true,
        }
    }
}

impl NetworkSpec {
    /// The cluster can reach the vault's data plane.
    pub fn reachable(&self) -> bool {
        self.cluster_allowed
            || (self.public_network_access && !self.default_action.eq_ignore_ascii_case("deny"))
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessPolicySpec {
    #[serde(rename = "objectID")]
    pub object_id: String,
    #[serde(default, rename = "tenantID")]
    pub tenant_id: String,
    #[serde(default)]
    pub secrets: Vec<String>,
    #[serde(default)]
    pub keys: Vec<String>,
    #[serde(default)]
    pub certificates: Vec<String>,
}

/// A secret: either one `value` or explicit `versions` (oldest first). `Debug` leaves the
/// values out: a scenario is debug-printed in logs and test failures.
#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretSpec {
    pub name: String,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub versions: Vec<VersionSpec>,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Expiry relative to lab start (negative not allowed: use `expired: true`).
    #[serde(default, with = "opt_humantime_field")]
    pub expires_in: Option<Duration>,
    #[serde(default)]
    pub expired: bool,
    /// `nbf` of the newest version, relative to lab start: not valid before then.
    #[serde(default, with = "opt_humantime_field")]
    pub not_before_in: Option<Duration>,
    #[serde(default)]
    pub content_type: Option<String>,
    /// Deleted before the lab starts: soft-deleted, recoverable (soft delete is always on).
    #[serde(default)]
    pub deleted: bool,
}

#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VersionSpec {
    pub value: String,
    #[serde(default = "yes")]
    pub enabled: bool,
}

/// What `Debug` shows for a lab secret value: that there is one, not what it is.
const HIDDEN: &str = "(value hidden)";

impl std::fmt::Debug for SecretSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretSpec")
            .field("name", &self.name)
            .field("value", &self.value.as_ref().map(|_| HIDDEN))
            .field("versions", &self.versions)
            .field("enabled", &self.enabled)
            .field("expires_in", &self.expires_in)
            .field("expired", &self.expired)
            .field("not_before_in", &self.not_before_in)
            .field("content_type", &self.content_type)
            .field("deleted", &self.deleted)
            .finish()
    }
}

impl std::fmt::Debug for VersionSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VersionSpec")
            .field("value", &HIDDEN)
            .field("enabled", &self.enabled)
            .finish()
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeySpec {
    pub name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Soft-deleted before the lab starts.
    #[serde(default)]
    pub deleted: bool,
}

/// A certificate. Key Vault also exposes it as a secret (key + chain, when exportable) and a
/// key of the same name.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CertificateSpec {
    pub name: String,
    /// Subject CN, for the generated PEM.
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The key is exportable: the backing secret carries the private key.
    #[serde(default = "yes")]
    pub exportable: bool,
    /// `application/x-pem-file` (default) or `application/x-pkcs12`.
    #[serde(default)]
    pub content_type: Option<String>,
    /// Soft-deleted before the lab starts, with its secret and key.
    #[serde(default)]
    pub deleted: bool,
}

/// `kind: RoleAssignment` — an Azure RBAC role assignment on a vault or one object.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleAssignmentSpec {
    #[serde(rename = "principalID")]
    pub principal_id: String,
    /// Built-in role name, e.g. `Key Vault Secrets User`; with `dataActions`, the name of a
    /// custom role.
    pub role: String,
    pub scope: ScopeSpec,
    /// A custom role's `dataActions` (Azure RBAC patterns, `*` wildcards, any case): the
    /// assignment's role is then this definition, not a built-in one.
    #[serde(default)]
    pub data_actions: Option<Vec<String>>,
    /// A custom role's `notDataActions`: taken back from what its `dataActions` allow (Microsoft
    /// Learn, "Understand Azure role definitions"), never a deny of another role's grant.
    #[serde(default)]
    pub not_data_actions: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct RoleAssignment {
    pub name: String,
    pub spec: RoleAssignmentSpec,
    /// When it was made (ARM's `createdOn`): the lab's start for the scenario's own, the
    /// moment a fault or its repair made it for one made later. `None` until the world
    /// holds it.
    pub created_at: Option<jiff::Timestamp>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TimedEvent {
    pub at: Duration,
    pub action: LabAction,
}

/// Something the scenario timeline (or a trainer) makes happen. Shown as the event is written
/// (`rotateSecret db-password in kv-demo`), never with a `rotateSecret` value: `Debug` too
/// leaves it out, since a refused event is reported in every output format.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum LabAction {
    /// A new version of a Key Vault secret (same value when `value` is absent).
    RotateSecret {
        vault: String,
        name: String,
        #[serde(default)]
        value: Option<String>,
    },
    /// `kubectl delete pod`.
    DeletePod {
        namespace: String,
        name: String,
    },
    /// `kubectl rollout restart <kind>/<name>`.
    RolloutRestart {
        namespace: String,
        kind: String,
        name: String,
    },
    /// `kubectl rollout pause deployment/<name>`: its template changes roll nothing (and
    /// `rolloutRestart` is refused) until resumed.
    PauseRollout {
        namespace: String,
        name: String,
    },
    /// `kubectl rollout resume deployment/<name>`.
    ResumeRollout {
        namespace: String,
        name: String,
    },
    /// `kubectl delete secret`: a synced Secret is created again from the next mount.
    DeleteSecret {
        namespace: String,
        name: String,
    },
    /// `kubectl delete <kind>/<name>` (pods and ReplicaSets go with it).
    DeleteWorkload {
        namespace: String,
        kind: String,
        name: String,
    },
    /// Break a link with a catalogue fault (see `faults`).
    ApplyFault {
        id: String,
    },
    RepairFault {
        id: String,
    },
}

impl std::fmt::Display for LabAction {
    /// The event's key and what it acts on, as the scenario names them: no value.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LabAction::RotateSecret { vault, name, .. } => {
                write!(f, "rotateSecret {name} in {vault}")
            }
            LabAction::DeletePod { namespace, name } => {
                write!(f, "deletePod {name} in {namespace}")
            }
            LabAction::DeleteSecret { namespace, name } => {
                write!(f, "deleteSecret {name} in {namespace}")
            }
            LabAction::RolloutRestart {
                namespace,
                kind,
                name,
            } => write!(f, "rolloutRestart {kind}/{name} in {namespace}"),
            LabAction::PauseRollout { namespace, name } => {
                write!(f, "pauseRollout Deployment/{name} in {namespace}")
            }
            LabAction::ResumeRollout { namespace, name } => {
                write!(f, "resumeRollout Deployment/{name} in {namespace}")
            }
            LabAction::DeleteWorkload {
                namespace,
                kind,
                name,
            } => write!(f, "deleteWorkload {kind}/{name} in {namespace}"),
            LabAction::ApplyFault { id } => write!(f, "applyFault {id}"),
            LabAction::RepairFault { id } => write!(f, "repairFault {id}"),
        }
    }
}

impl std::fmt::Debug for LabAction {
    /// As [`Display`](std::fmt::Display): a derived `Debug` would print a rotation's value.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LabAction({self})")
    }
}

fn yes() -> bool {
    true
}
fn default_poll() -> Duration {
    Duration::from_secs(120)
}
fn default_audiences() -> Vec<String> {
    vec!["api://AzureADTokenExchange".into()]
}
fn default_subscription() -> String {
    "00000000-0000-0000-0000-00000000ab01".into()
}
fn default_location() -> String {
    "westeurope".into()
}
fn default_node() -> String {
    "aks-nodepool1-12345678-vmss000000".into()
}
fn default_rg() -> String {
    "rg-kvchain-lab".into()
}
fn default_allow() -> String {
    "Allow".into()
}

/// Longest duration a scenario may state (rotation poll, expiry, timeline time): ten years
/// of lab time keeps every sum and multiple of lab times far from overflowing.
pub const MAX_SCENARIO_DURATION: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("{s:?}: {e} (examples: 90s, 2m)"))?;
    if d > MAX_SCENARIO_DURATION {
        return Err(format!(
            "{s:?} is longer than the lab's limit of {}h (10 years)",
            MAX_SCENARIO_DURATION.as_secs() / 3600
        ));
    }
    Ok(d)
}

mod humantime_field {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        super::parse_duration(&s).map_err(serde::de::Error::custom)
    }
}

mod opt_humantime_field {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        let s = Option::<String>::deserialize(d)?;
        s.map(|s| super::parse_duration(&s).map_err(serde::de::Error::custom))
            .transpose()
    }
}
