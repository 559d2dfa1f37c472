//! Observations: what a source can see, nothing inferred.
//!
//! Every source (live cluster, lab, manifests) fills a [`Snapshot`]; diagnosis reads only this.
//! Built-in Kubernetes objects arrive as k8s-openapi types and are slimmed here (see
//! [`convert`]) so a snapshot of 10,000 pods stays small and joins stay cheap.
//! Secret *values* never enter a snapshot: only keyed [`Fingerprint`]s do.

pub mod anonymize;
pub mod convert;
pub mod crd;
pub mod file;
pub mod gaps;
pub mod strmap;

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub use crate::fingerprint::Fingerprint;
use crate::spc::AzureSpc;
pub use gaps::Gap;
pub use strmap::StrMap;

/// A name or short string of an observation, stored inline up to 24 bytes (most Kubernetes
/// names are): a 10,000-pod snapshot holds hundreds of thousands of them.
pub type Name = compact_str::CompactString;

/// A value that may be unknown, with the reason. Unknown is not the same as absent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", content = "value", rename_all = "lowercase")]
pub enum Observed<T> {
    Known(T),
    Unknown(String),
}

impl<T> Observed<T> {
    pub fn unknown(reason: impl Into<String>) -> Self {
        Observed::Unknown(reason.into())
    }
    pub fn known(&self) -> Option<&T> {
        match self {
            Observed::Known(t) => Some(t),
            Observed::Unknown(_) => None,
        }
    }
    pub fn unknown_reason(&self) -> Option<&str> {
        match self {
            Observed::Known(_) => None,
            Observed::Unknown(r) => Some(r),
        }
    }
    pub fn as_ref(&self) -> Observed<&T> {
        match self {
            Observed::Known(t) => Observed::Known(t),
            Observed::Unknown(r) => Observed::Unknown(r.clone()),
        }
    }
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Observed<U> {
        match self {
            Observed::Known(t) => Observed::Known(f(t)),
            Observed::Unknown(r) => Observed::Unknown(r),
        }
    }
}

impl<T: Default> Default for Observed<T> {
    fn default() -> Self {
        Observed::Known(T::default())
    }
}

/// A listed collection and where it could not be listed.
///
/// `gaps.all` set: nothing of this kind could be seen (e.g. CRD missing, offline);
/// `gaps.namespaces[ns]` set: that namespace could not be listed (e.g. 403).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Coll<T> {
    pub items: Vec<T>,
    #[serde(default, skip_serializing_if = "Gaps::is_empty")]
    pub gaps: Gaps,
}

impl<T> Default for Coll<T> {
    fn default() -> Self {
        Coll {
            items: Vec::new(),
            gaps: Gaps::default(),
        }
    }
}

impl<T> Coll<T> {
    pub fn known(items: Vec<T>) -> Self {
        Coll {
            items,
            gaps: Gaps::default(),
        }
    }
    pub fn unknown(reason: impl Into<String>) -> Self {
        Coll {
            items: Vec::new(),
            gaps: Gaps {
                all: Some(reason.into()),
                namespaces: BTreeMap::new(),
            },
        }
    }
    /// Why objects of this kind in `namespace` cannot be seen, if they cannot.
    pub fn unknown_in(&self, namespace: &str) -> Option<&str> {
        self.gaps.reason_for(namespace)
    }
}

#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct Gaps {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub namespaces: BTreeMap<String, String>,
}

impl Gaps {
    pub fn is_empty(&self) -> bool {
        self.all.is_none() && self.namespaces.is_empty()
    }
    pub fn reason_for(&self, namespace: &str) -> Option<&str> {
        self.all
            .as_deref()
            .or_else(|| self.namespaces.get(namespace).map(String::as_str))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Live,
    Lab,
    Manifests,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Live => "live",
            SourceKind::Lab => "lab",
            SourceKind::Manifests => "manifests",
        }
    }
}

/// Which source produced a snapshot, and at what (source) time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceInfo {
    pub kind: SourceKind,
    /// kube context, scenario name, or the manifest paths.
    pub label: String,
    /// The time the observations are valid at: wall clock for live, lab clock for the lab.
    pub observed_at: Timestamp,
    /// Inputs that could not be read while others could (`file, document N: reason`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unread: Vec<String>,
}

impl Default for SourceInfo {
    fn default() -> Self {
        SourceInfo {
            kind: SourceKind::Manifests,
            label: String::new(),
            observed_at: Timestamp::UNIX_EPOCH,
            unread: Vec::new(),
        }
    }
}

/// Everything one source saw at one moment.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Snapshot {
    pub source: SourceInfo,
    pub cluster: ClusterFacts,
    pub pods: Coll<PodObs>,
    pub service_accounts: Coll<ServiceAccountObs>,
    pub spcs: Coll<SpcObs>,
    pub spc_statuses: Coll<SpcPodStatusObs>,
    pub secrets: Coll<SecretObs>,
    pub events: Coll<EventObs>,
    pub workloads: Coll<WorkloadObs>,
    pub ingresses: Coll<IngressObs>,
    pub azure: AzureObs,
}

impl Snapshot {
    /// Pod `namespace/name`, if observed.
    pub fn pod(&self, namespace: &str, name: &str) -> Option<&PodObs> {
        self.pods
            .items
            .iter()
            .find(|p| p.namespace == namespace && p.name == name)
    }

    /// Secret `namespace/name`, if observed.
    pub fn secret(&self, namespace: &str, name: &str) -> Option<&SecretObs> {
        self.secrets
            .items
            .iter()
            .find(|s| s.namespace == namespace && s.name == name)
    }
}

// ---------------------------------------------------------------- cluster

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClusterFacts {
    /// Cluster OIDC issuer URL as the API server publishes it (trailing '/' kept).
    pub oidc_issuer: Observed<String>,
    /// Tenant the cluster (and its webhook config) lives in.
    pub tenant_id: Observed<String>,
    pub workload_identity_webhook: Observed<bool>,
    pub csi_driver: Observed<CsiDriverFacts>,
    /// Nodes with what decides where the driver's DaemonSets run (labels, taints).
    #[serde(default = "not_observed")]
    pub nodes: Observed<Vec<NodeObs>>,
}

fn not_observed<T>() -> Observed<T> {
    Observed::unknown("not observed")
}

/// A node as far as DaemonSet placement is concerned.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct NodeObs {
    pub name: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub taints: Vec<TaintObs>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaintObs {
    pub key: String,
    #[serde(default)]
    pub value: String,
    /// NoSchedule | PreferNoSchedule | NoExecute
    pub effect: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TolerationObs {
    #[serde(default)]
    pub key: String,
    /// Equal (default) | Exists
    #[serde(default)]
    pub operator: String,
    #[serde(default)]
    pub value: String,
    /// Empty: every effect.
    #[serde(default)]
    pub effect: String,
}

/// One `matchExpressions` entry of a required node-affinity term.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeRequirementObs {
    pub key: String,
    /// In | NotIn | Exists | DoesNotExist | Gt | Lt
    pub operator: String,
    #[serde(default)]
    pub values: Vec<String>,
}

/// Where a driver or provider DaemonSet's pods may run: its pod template's nodeSelector,
/// required node affinity (terms ORed, requirements ANDed) and tolerations.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacementObs {
    /// `kube-system/<name>`.
    pub daemonset: String,
    /// The Azure provider (else the driver).
    pub provider: bool,
    #[serde(default)]
    pub node_selector: BTreeMap<String, String>,
    #[serde(default)]
    pub affinity: Vec<Vec<NodeRequirementObs>>,
    #[serde(default)]
    pub tolerations: Vec<TolerationObs>,
}

impl Default for ClusterFacts {
    fn default() -> Self {
        ClusterFacts {
            oidc_issuer: Observed::unknown("not observed"),
            tenant_id: Observed::unknown("not observed"),
            workload_identity_webhook: Observed::unknown("not observed"),
            csi_driver: Observed::unknown("not observed"),
            nodes: Observed::unknown("not observed"),
        }
    }
}

/// What is known of the Secrets Store CSI driver installation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CsiDriverFacts {
    /// The CSIDriver object `secrets-store.csi.k8s.io` exists (driver registered).
    pub installed: bool,
    /// Audiences in CSIDriver `spec.tokenRequests`.
    pub token_audiences: Observed<Vec<String>>,
    /// `--enable-secret-rotation`.
    pub rotation_enabled: Observed<bool>,
    /// `--rotation-poll-interval` (default 2m).
    #[serde(with = "humantime_serde_compat")]
    pub rotation_poll_interval: Duration,
    /// `syncSecret.enabled` / the driver may write Secrets.
    pub sync_secret_enabled: Observed<bool>,
    /// The Azure provider is running.
    pub azure_provider: Observed<bool>,
    /// How the driver was installed (from its DaemonSet); `None` when not seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install: Option<DriverInstall>,
    /// Scheduling constraints of the driver and provider DaemonSets (presence is per node).
    #[serde(default = "not_observed")]
    pub placement: Observed<Vec<PlacementObs>>,
}

/// How the Secrets Store CSI driver was installed: it decides which command changes its flags
/// (`az aks addon update` vs `helm upgrade`) and whether secret sync can be off at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DriverInstall {
    /// The AKS add-on `azure-keyvault-secrets-provider` (DaemonSet `aks-secrets-store-csi-driver`).
    AksAddon,
    /// The Helm chart (or anything that is not the add-on).
    Helm,
}

impl Default for CsiDriverFacts {
    fn default() -> Self {
        CsiDriverFacts {
            installed: true,
            token_audiences: Observed::unknown("not observed"),
            rotation_enabled: Observed::unknown("not observed"),
            rotation_poll_interval: Duration::from_secs(120),
            sync_secret_enabled: Observed::unknown("not observed"),
            azure_provider: Observed::unknown("not observed"),
            install: None,
            placement: Observed::unknown("not observed"),
        }
    }
}

/// Durations serialize as humantime strings ("2m").
pub mod humantime_serde_compat {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        humantime::parse_duration(&s).map_err(serde::de::Error::custom)
    }
}

// ---------------------------------------------------------------- kubernetes

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OwnerRef {
    pub kind: Name,
    pub name: Name,
    #[serde(default)]
    pub uid: Name,
    #[serde(default)]
    pub controller: bool,
}

#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct PodObs {
    pub namespace: Name,
    pub name: Name,
    #[serde(default)]
    pub uid: Name,
    #[serde(default)]
    pub labels: StrMap,
    #[serde(default)]
    pub annotations: StrMap,
    /// `spec.serviceAccountName`, `default` when unset.
    pub service_account: Name,
    #[serde(default)]
    pub owners: Vec<OwnerRef>,
    #[serde(default)]
    pub node: Option<Name>,
    /// Pod phase (Pending, Running, …); empty for a template.
    #[serde(default)]
    pub phase: Name,
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    /// Set while the pod is terminating.
    #[serde(default)]
    pub deleting: bool,
    /// This "pod" is a workload's pod template (manifests), not a running pod.
    #[serde(default)]
    pub template_of: Option<OwnerRef>,
    #[serde(default)]
    pub volumes: Vec<VolumeObs>,
    #[serde(default)]
    pub containers: Vec<ContainerObs>,
}

impl PodObs {
    pub fn key(&self) -> (&str, &str) {
        (&self.namespace, &self.name)
    }
    pub fn volume(&self, name: &str) -> Option<&VolumeObs> {
        self.volumes.iter().find(|v| v.name == name)
    }
    /// Whether a CSI volume of this pod names SecretProviderClass `spc` (same namespace).
    pub fn mounts_spc(&self, spc: &str) -> bool {
        self.volumes.iter().any(|v| {
            matches!(&v.source, VolumeSourceObs::Csi { attributes, .. }
                if attributes.get("secretProviderClass").is_some_and(|s| s == spc))
        })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VolumeObs {
    pub name: Name,
    pub source: VolumeSourceObs,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum VolumeSourceObs {
    Csi {
        driver: Name,
        /// `csi.readOnly` (None when unset: kubelet treats it as false).
        read_only: Option<bool>,
        attributes: StrMap,
        node_publish_secret: Option<Name>,
    },
    Secret {
        secret_name: Name,
        optional: bool,
    },
    /// Projected volume: service-account tokens (with audience) and secrets.
    Projected {
        token_audiences: Vec<Name>,
        secrets: Vec<Name>,
    },
    Other,
}

#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct ContainerObs {
    pub name: Name,
    #[serde(default)]
    pub init: bool,
    #[serde(default)]
    pub mounts: Vec<MountObs>,
    #[serde(default)]
    pub env: Vec<EnvObs>,
    /// `envFrom[].secretRef.name`
    #[serde(default)]
    pub env_from_secrets: Vec<Name>,
    #[serde(default)]
    pub state: ContainerStateObs,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MountObs {
    pub volume: Name,
    pub path: Name,
    #[serde(default)]
    pub sub_path: Option<Name>,
    #[serde(default)]
    pub read_only: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnvObs {
    pub name: Name,
    pub source: EnvSourceObs,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum EnvSourceObs {
    /// A literal value. Only kept for the workload-identity variables (AZURE_*): other literals
    /// may hold secrets and are not stored.
    Literal {
        value: Option<String>,
    },
    SecretKey {
        secret: Name,
        key: Name,
        optional: bool,
    },
    Other,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum ContainerStateObs {
    #[default]
    Unknown,
    Waiting {
        reason: String,
        #[serde(default)]
        message: String,
    },
    Running {
        started_at: Timestamp,
    },
    Terminated {
        reason: String,
        #[serde(default)]
        exit_code: i32,
    },
}

#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct ServiceAccountObs {
    pub namespace: String,
    pub name: String,
    #[serde(default)]
    pub annotations: StrMap,
}

/// A SecretProviderClass, with its Azure parameters parsed once at observation time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpcObs {
    pub namespace: String,
    pub name: String,
    /// Metadata annotations (only `kvchain.dev/ignore*` are read, for suppressions).
    #[serde(default)]
    pub annotations: StrMap,
    pub provider: String,
    pub parameters: BTreeMap<String, String>,
    #[serde(default)]
    pub secret_objects: Vec<SecretObjectSpec>,
    /// `parameters` parsed (see [`crate::spc`]); parse problems are kept inside.
    pub parsed: AzureSpc,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretObjectSpec {
    pub secret_name: String,
    #[serde(rename = "type", default)]
    pub type_: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub data: Vec<SecretObjectData>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretObjectData {
    pub object_name: String,
    pub key: String,
}

#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct SpcPodStatusObs {
    pub namespace: String,
    pub name: String,
    pub pod_name: String,
    pub spc_name: String,
    pub mounted: bool,
    #[serde(default)]
    pub target_path: String,
    /// `status.objects`: ids like `secret/<objectName>` with the mounted version.
    #[serde(default)]
    pub objects: Vec<SpcpsObject>,
    /// When the driver last wrote this status (rotation progress).
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
    /// Fingerprints of the mounted files by file name, when the source can see them
    /// (the lab always; live only after an in-container verify).
    #[serde(default)]
    pub files: Option<BTreeMap<String, Fingerprint>>,
    /// For files holding PEM blocks: fingerprints of the parts the driver writes into a
    /// `kubernetes.io/tls` Secret (private key → `tls.key`, certificates → `tls.crt`), which
    /// never equal the whole file's (FACTS §2). Same visibility as `files`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pem_parts: BTreeMap<String, PemParts>,
}

/// Fingerprints of a PEM file's private-key blocks and certificate blocks (None: none there).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PemParts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<Fingerprint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert: Option<Fingerprint>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpcpsObject {
    pub id: String,
    pub version: String,
}

/// A Kubernetes Secret, values replaced by keyed fingerprints on arrival.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct SecretObs {
    pub namespace: String,
    pub name: String,
    #[serde(rename = "type", default)]
    pub type_: String,
    #[serde(default)]
    pub labels: StrMap,
    #[serde(default)]
    pub owners: Vec<OwnerRef>,
    /// key → fingerprint of the value (empty value ⇒ fingerprint of "").
    #[serde(default)]
    pub data: BTreeMap<String, Fingerprint>,
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    /// Last write of `data` (managedFields of the driver / the lab clock).
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
}

impl SecretObs {
    /// Carries the driver's `secrets-store.csi.k8s.io/managed: "true"` label.
    pub fn driver_managed(&self) -> bool {
        self.labels
            .get("secrets-store.csi.k8s.io/managed")
            .is_some_and(|v| v == "true")
    }
}

#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct EventObs {
    pub namespace: String,
    /// `Kind/name` of the involved object.
    pub involved_kind: String,
    pub involved_name: String,
    #[serde(default)]
    pub involved_uid: String,
    /// Normal | Warning
    #[serde(rename = "type", default)]
    pub type_: String,
    pub reason: String,
    pub message: String,
    #[serde(default)]
    pub count: u32,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub last_seen: Option<Timestamp>,
}

#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct WorkloadObs {
    /// Deployment | StatefulSet | DaemonSet | ReplicaSet | Job | CronJob
    pub kind: String,
    pub namespace: String,
    pub name: String,
    #[serde(default)]
    pub uid: String,
    #[serde(default)]
    pub owners: Vec<OwnerRef>,
    #[serde(default)]
    pub annotations: StrMap,
    #[serde(default)]
    pub template_annotations: StrMap,
    #[serde(default)]
    pub replicas: Option<i32>,
    /// The pod template as the pod it would create, kept for Deployments, StatefulSets and
    /// DaemonSets whose template has a CSI volume: when none of its pods can be created
    /// (FailedCreate), the template is the only thing to diagnose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<Box<PodObs>>,
}

#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct IngressObs {
    pub namespace: String,
    pub name: String,
    #[serde(default)]
    pub tls_secrets: Vec<String>,
}

// ---------------------------------------------------------------- azure

/// The Azure side. Each collection may be unknown (no credentials, no permission, offline).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AzureObs {
    pub identities: Coll<ManagedIdentityObs>,
    pub vaults: Coll<VaultObs>,
    pub role_assignments: Coll<RoleAssignmentObs>,
    pub objects: Vec<VaultObjectObs>,
    /// Azure requests made so far by the source (visible "good citizen" counter).
    #[serde(default)]
    pub requests: u64,
    /// Of those, answered 429 (throttled).
    #[serde(default)]
    pub throttled: u64,
}

impl Default for AzureObs {
    fn default() -> Self {
        AzureObs::unknown("Azure side not observed")
    }
}

impl AzureObs {
    pub fn unknown(reason: &str) -> Self {
        AzureObs {
            identities: Coll::unknown(reason),
            vaults: Coll::unknown(reason),
            role_assignments: Coll::unknown(reason),
            objects: Vec::new(),
            requests: 0,
            throttled: 0,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ManagedIdentityObs {
    pub name: String,
    #[serde(default)]
    pub resource_id: String,
    pub client_id: String,
    pub principal_id: String,
    pub tenant_id: String,
    pub federated_credentials: Observed<Vec<FederatedCredentialObs>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FederatedCredentialObs {
    pub name: String,
    pub issuer: String,
    pub subject: String,
    pub audiences: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VaultObs {
    pub name: String,
    #[serde(default)]
    pub resource_id: String,
    pub tenant_id: String,
    /// `enableRbacAuthorization`: true ⇒ Azure RBAC, false ⇒ access policies.
    pub rbac: bool,
    #[serde(default)]
    pub access_policies: Vec<AccessPolicyObs>,
    #[serde(default)]
    pub network: NetworkObs,
    /// Names of the vault's objects by type when a listing was read (for "did you mean").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_names: Option<Vec<(ObjectType, String)>>,
}

#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct AccessPolicyObs {
    pub object_id: String,
    #[serde(default)]
    pub tenant_id: String,
    #[serde(default)]
    pub secrets: Vec<String>,
    #[serde(default)]
    pub keys: Vec<String>,
    #[serde(default)]
    pub certificates: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetworkObs {
    /// `publicNetworkAccess` Enabled.
    pub public_access: bool,
    /// `networkAcls.defaultAction` is Deny.
    pub default_deny: bool,
    /// Whether the cluster's egress is allowed by the rules (ip rule / vnet rule / private
    /// endpoint); unknown when it cannot be matched.
    pub cluster_allowed: Observed<bool>,
}

impl Default for NetworkObs {
    fn default() -> Self {
        NetworkObs {
            public_access: true,
            default_deny: false,
            cluster_allowed: Observed::Known(true),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoleAssignmentObs {
    pub principal_id: String,
    pub role_definition_id: String,
    /// Built-in role name when resolved (e.g. "Key Vault Secrets User").
    pub role_name: String,
    /// `dataActions` of the role definition, e.g. `Microsoft.KeyVault/vaults/secrets/getSecret/action`.
    pub data_actions: Vec<String>,
    /// ARM scope (subscription, resource group, vault, or `<vault id>/secrets/<name>`).
    pub scope: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectType {
    Secret,
    Key,
    Cert,
}

impl ObjectType {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "secret" => Some(ObjectType::Secret),
            "key" => Some(ObjectType::Key),
            "cert" => Some(ObjectType::Cert),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectType::Secret => "secret",
            ObjectType::Key => "key",
            ObjectType::Cert => "cert",
        }
    }
    /// The path segment Key Vault uses in object ids (`/secrets/`, `/keys/`, `/certificates/`).
    pub fn collection(self) -> &'static str {
        match self {
            ObjectType::Secret => "secrets",
            ObjectType::Key => "keys",
            ObjectType::Cert => "certificates",
        }
    }
}

/// One Key Vault object as looked up: `state` Known(None) ⇒ not found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VaultObjectObs {
    pub vault: String,
    pub object_type: ObjectType,
    pub name: String,
    pub state: Observed<Option<VaultObject>>,
}

#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct VaultObject {
    /// Newest first.
    pub versions: Vec<ObjectVersion>,
    #[serde(default)]
    pub content_type: Option<String>,
    /// A secret that backs a certificate (`kid` set): its value is key + chain.
    #[serde(default)]
    pub backs_certificate: bool,
    /// Fingerprint of the latest version's value, when the source can compute one (lab).
    #[serde(default)]
    pub latest_fingerprint: Option<Fingerprint>,
}

impl VaultObject {
    pub fn latest(&self) -> Option<&ObjectVersion> {
        self.versions.first()
    }
    pub fn version(&self, id: &str) -> Option<&ObjectVersion> {
        self.versions.iter().find(|v| v.version == id)
    }
}

#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct ObjectVersion {
    /// 32-hex version id.
    pub version: String,
    pub enabled: bool,
    #[serde(default)]
    pub created: Option<Timestamp>,
    #[serde(default)]
    pub expires: Option<Timestamp>,
    #[serde(default)]
    pub not_before: Option<Timestamp>,
}
