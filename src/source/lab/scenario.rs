//! Scenario files: multi-document YAML of ordinary Kubernetes manifests plus a few lab kinds
//! (`apiVersion: lab.kvchain.dev/v1`) describing what lives outside the cluster: the AKS
//! cluster settings, managed identities with their federated credentials, key vaults with
//! their objects, role assignments, and a timeline of events.
//!
//! Loading is strict: an unknown kind, an unknown field or a bad value is an [`InputError`]
//! naming the file, the document (1-based) and the field, so a typo in a scenario never turns
//! silently into a different world.

use std::path::Path;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Namespace, Pod, Secret, ServiceAccount};
use k8s_openapi::api::networking::v1::Ingress;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::InputError;
use crate::snapshot::crd::SecretProviderClass;

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
    pub service_accounts: Vec<ServiceAccount>,
    pub pods: Vec<Pod>,
    pub deployments: Vec<Deployment>,
    pub stateful_sets: Vec<StatefulSet>,
    pub daemon_sets: Vec<DaemonSet>,
    pub jobs: Vec<Job>,
    pub secrets: Vec<Secret>,
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
    /// The node every pod is scheduled on.
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
    /// Pod whose workload the trainer faults act on (`namespace/workload`); default: the
    /// first Deployment that mounts a SecretProviderClass.
    #[serde(default)]
    pub fault_target: Option<String>,
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
            fault_target: None,
        }
    }
}

/// The Secrets Store CSI driver add-on (`azureKeyvaultSecretsProvider`).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CsiDriverSpec {
    #[serde(default = "yes")]
    pub installed: bool,
    /// `--enable-secret-rotation`.
    #[serde(default = "yes")]
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
}

fn aks_addon() -> crate::snapshot::DriverInstall {
    crate::snapshot::DriverInstall::AksAddon
}

impl Default for CsiDriverSpec {
    fn default() -> Self {
        CsiDriverSpec {
            installed: true,
            enable_secret_rotation: true,
            rotation_poll_interval: default_poll(),
            sync_secret: true,
            token_audiences: default_audiences(),
            install: aks_addon(),
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

/// A secret: either one `value` or explicit `versions` (oldest first).
#[derive(Clone, Debug, Deserialize)]
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
    #[serde(default)]
    pub content_type: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VersionSpec {
    pub value: String,
    #[serde(default = "yes")]
    pub enabled: bool,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeySpec {
    pub name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
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
}

/// `kind: RoleAssignment` — an Azure RBAC role assignment on a vault or one object.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleAssignmentSpec {
    #[serde(rename = "principalID")]
    pub principal_id: String,
    /// Built-in role name, e.g. `Key Vault Secrets User`.
    pub role: String,
    pub scope: ScopeSpec,
}

#[derive(Clone, Debug)]
pub struct RoleAssignment {
    pub name: String,
    pub spec: RoleAssignmentSpec,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScopeSpec {
    pub vault: String,
    /// `secrets/<name>`, `keys/<name>` or `certificates/<name>` for an object scope.
    #[serde(default)]
    pub object: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TimedEvent {
    pub at: Duration,
    pub action: LabAction,
}

/// Something the scenario timeline (or a trainer) makes happen.
#[derive(Clone, Debug, PartialEq, Deserialize)]
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

// ------------------------------------------------------------------ loading

/// Loads a scenario from YAML text; `origin` names the file in errors.
pub fn parse(name: &str, origin: &Path, text: &str) -> Result<Scenario, InputError> {
    let mut sc = Scenario {
        name: name.to_string(),
        ..Scenario::default()
    };
    let mut cluster: Option<ClusterSpec> = None;
    let mut seen = Seen::default();
    for (i, value) in crate::input::documents(text).enumerate() {
        let n = i + 1;
        let value = value
            .map_err(|e| InputError::in_document(origin, n, format!("not valid YAML: {e}")))?;
        if value.is_null() {
            continue; // empty document (e.g. a trailing `---`)
        }
        let field = |key: &str| -> Result<String, InputError> {
            match value.get(key) {
                Some(serde_yaml::Value::String(s)) if !s.is_empty() => Ok(s.clone()),
                _ => Err(InputError::in_document(
                    origin,
                    n,
                    format!("`{key}` is missing or not a string"),
                )),
            }
        };
        let api_version = field("apiVersion")?;
        let kind = field("kind")?;
        let err = |e: String| InputError::in_document(origin, n, format!("{kind}: {e}"));
        if api_version == LAB_API_VERSION {
            top_level_fields(&value, &[], &err)?;
            let name = value
                .get("metadata")
                .cloned()
                .map(crate::input::typed::<LabMeta>)
                .transpose()
                .map_err(|e| err(e.under("metadata")))?
                .map(|m| m.name)
                .unwrap_or_default();
            let spec = value
                .get("spec")
                .cloned()
                .ok_or_else(|| err("`spec` is missing".into()))?;
            let named = |what: &str| -> Result<String, InputError> {
                if name.is_empty() {
                    Err(err(format!("metadata.name is required for a {what}")))
                } else {
                    Ok(name.clone())
                }
            };
            match kind.as_str() {
                "Cluster" => {
                    if cluster.is_some() {
                        return Err(err("only one Cluster per scenario".into()));
                    }
                    cluster = Some(lab_spec(spec, &err)?);
                }
                "ManagedIdentity" => {
                    let name = named("ManagedIdentity")?;
                    seen.once(("ManagedIdentity", name.clone()), &err)?;
                    sc.identities.push(ManagedIdentity {
                        name,
                        spec: lab_spec(spec, &err)?,
                    })
                }
                "KeyVault" => {
                    let name = named("KeyVault")?;
                    if !(3..=24).contains(&name.len())
                        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                    {
                        return Err(err(format!(
                            "metadata.name: vault name {name:?} must match [-a-zA-Z0-9]{{3,24}}"
                        )));
                    }
                    sc.vaults.push(KeyVault {
                        name,
                        spec: lab_spec(spec, &err)?,
                    })
                }
                "RoleAssignment" => {
                    let spec: RoleAssignmentSpec = lab_spec(spec, &err)?;
                    if super::roles::builtin(&spec.role).is_none() {
                        return Err(err(format!(
                            "spec.role: {:?} is not a Key Vault built-in role (known: {})",
                            spec.role,
                            super::roles::names().join(", ")
                        )));
                    }
                    let what = format!(
                        "{} {} {}",
                        spec.principal_id,
                        spec.role,
                        spec.scope.vault.as_str().to_owned()
                            + "/"
                            + spec.scope.object.as_deref().unwrap_or("")
                    );
                    seen.once(("RoleAssignment grant", what), &err)?;
                    if !name.is_empty() {
                        seen.once(("RoleAssignment", name.clone()), &err)?;
                    }
                    sc.role_assignments.push(RoleAssignment {
                        name: if name.is_empty() {
                            format!("ra-{}", sc.role_assignments.len() + 1)
                        } else {
                            name
                        },
                        spec,
                    })
                }
                "Timeline" => sc.timeline.extend(timeline(spec, &err)?),
                "Lesson" => {
                    let name = named("Lesson")?;
                    let l: super::lesson::LessonSpec = lab_spec(spec, &err)?;
                    sc.lessons.push(l.build(name).map_err(&err)?);
                }
                other => {
                    return Err(err(format!(
                        "unknown lab kind {other:?} (expected Cluster, ManagedIdentity, KeyVault, RoleAssignment, Timeline or Lesson)"
                    )));
                }
            }
            continue;
        }
        let fields: &[&str] = match kind.as_str() {
            "Secret" => &["data", "stringData", "type", "immutable"],
            "ServiceAccount" => &[
                "secrets",
                "imagePullSecrets",
                "automountServiceAccountToken",
            ],
            _ => &["spec", "status"],
        };
        top_level_fields(&value, fields, &err)?;
        let identity = k8s_identity(&kind, &value);
        seen.once(identity, &err)?;
        match (api_version.as_str(), kind.as_str()) {
            ("v1", "Namespace") => sc.namespaces.push(k8s(value, &err)?),
            ("v1", "ServiceAccount") => sc.service_accounts.push(k8s(value, &err)?),
            ("v1", "Pod") => sc.pods.push(k8s(value, &err)?),
            ("v1", "Secret") => sc.secrets.push(k8s(value, &err)?),
            ("apps/v1", "Deployment") => sc.deployments.push(k8s(value, &err)?),
            ("apps/v1", "StatefulSet") => sc.stateful_sets.push(k8s(value, &err)?),
            ("apps/v1", "DaemonSet") => sc.daemon_sets.push(k8s(value, &err)?),
            ("batch/v1", "Job") => sc.jobs.push(k8s(value, &err)?),
            ("networking.k8s.io/v1", "Ingress") => sc.ingresses.push(k8s(value, &err)?),
            ("secrets-store.csi.x-k8s.io/v1", "SecretProviderClass") => {
                sc.spcs.push(k8s(value, &err)?)
            }
            (api, kind) => {
                return Err(InputError::in_document(
                    origin,
                    n,
                    format!("unsupported kind {api}/{kind} in a lab scenario"),
                ));
            }
        }
    }
    sc.cluster = cluster.ok_or_else(|| {
        InputError::in_file(
            origin,
            format!("no `kind: Cluster` document (apiVersion {LAB_API_VERSION})"),
        )
    })?;
    validate(&sc, origin)?;
    sc.timeline.sort_by_key(|e| e.at);
    Ok(sc)
}

fn lab_spec<T: DeserializeOwned>(
    spec: serde_yaml::Value,
    err: &impl Fn(String) -> InputError,
) -> Result<T, InputError> {
    crate::input::typed(spec).map_err(|e| err(e.under("spec")))
}

fn k8s<T: DeserializeOwned + kube::Resource>(
    value: serde_yaml::Value,
    err: &impl Fn(String) -> InputError,
) -> Result<T, InputError> {
    let obj: T = crate::input::typed(value).map_err(|e| err(e.to_string()))?;
    if obj.meta().name.as_deref().unwrap_or("").is_empty() {
        return Err(err("metadata.name is required".into()));
    }
    Ok(obj)
}

/// Cross-document checks that serde cannot do.
fn validate(sc: &Scenario, origin: &Path) -> Result<(), InputError> {
    let fail = |m: String| Err(InputError::in_file(origin, m));
    if sc.cluster.oidc_issuer_url.is_empty() {
        return fail("Cluster spec.oidcIssuerURL is empty".into());
    }
    if sc.cluster.csi_driver.rotation_poll_interval < Duration::from_secs(1) {
        return fail("Cluster spec.csiDriver.rotationPollInterval must be at least 1s".into());
    }
    pod_count(sc).map_err(|m| InputError::in_file(origin, m))?;
    let mut vaults = std::collections::BTreeSet::new();
    for v in &sc.vaults {
        if !vaults.insert(v.name.as_str()) {
            return fail(format!("KeyVault {:?} is defined twice", v.name));
        }
        for (what, names) in [
            (
                "secret",
                v.spec.secrets.iter().map(|s| &s.name).collect::<Vec<_>>(),
            ),
            ("key", v.spec.keys.iter().map(|k| &k.name).collect()),
            (
                "certificate",
                v.spec.certificates.iter().map(|c| &c.name).collect(),
            ),
        ] {
            let mut seen = std::collections::BTreeSet::new();
            for n in names {
                if !seen.insert(n) {
                    return fail(format!(
                        "KeyVault {:?}: {what} {n:?} is defined twice",
                        v.name
                    ));
                }
            }
        }
        for s in &v.spec.secrets {
            if s.value.is_none() && s.versions.is_empty() {
                return fail(format!(
                    "KeyVault {:?} secret {:?}: set `value` or `versions`",
                    v.name, s.name
                ));
            }
            if s.value.is_some() && !s.versions.is_empty() {
                return fail(format!(
                    "KeyVault {:?} secret {:?}: `value` and `versions` are exclusive",
                    v.name, s.name
                ));
            }
        }
    }
    for ra in &sc.role_assignments {
        if !vaults.contains(ra.spec.scope.vault.as_str()) {
            return fail(format!(
                "RoleAssignment {:?}: spec.scope.vault {:?} is not a KeyVault of this scenario",
                ra.name, ra.spec.scope.vault
            ));
        }
        if let Some(o) = &ra.spec.scope.object {
            let ok = o.split_once('/').is_some_and(|(c, n)| {
                matches!(c, "secrets" | "keys" | "certificates") && !n.is_empty()
            });
            if !ok {
                return fail(format!(
                    "RoleAssignment {:?}: spec.scope.object {o:?} must be secrets/<name>, keys/<name> or certificates/<name>",
                    ra.name
                ));
            }
        }
    }
    for e in &sc.timeline {
        if let LabAction::RotateSecret { vault, .. } = &e.action
            && !vaults.contains(vault.as_str())
        {
            return fail(format!(
                "Timeline event at {}: vault {vault:?} is not a KeyVault of this scenario",
                humantime::format_duration(e.at)
            ));
        }
        if let LabAction::ApplyFault { id } | LabAction::RepairFault { id } = &e.action
            && super::faults::find(id).is_none()
        {
            return fail(format!("Timeline event: unknown fault {id:?}"));
        }
    }
    Ok(())
}

/// Pods the scenario asks for, within the lab's limit (the one `generated:N` has): a
/// Deployment with `replicas: 2147483647` would otherwise exhaust memory.
fn pod_count(sc: &Scenario) -> Result<usize, String> {
    let max = super::generator::MAX_PODS;
    let mut total = sc.pods.len() + sc.daemon_sets.len() + sc.jobs.len();
    let replicas = sc
        .deployments
        .iter()
        .map(|d| {
            (
                "Deployment",
                &d.metadata,
                d.spec.as_ref().and_then(|s| s.replicas),
            )
        })
        .chain(sc.stateful_sets.iter().map(|d| {
            (
                "StatefulSet",
                &d.metadata,
                d.spec.as_ref().and_then(|s| s.replicas),
            )
        }));
    for (kind, meta, r) in replicas {
        let name = meta.name.as_deref().unwrap_or("");
        let r = r.unwrap_or(1);
        if r < 0 {
            return Err(format!(
                "{kind} {name:?}: spec.replicas must not be negative, got {r}"
            ));
        }
        if r as usize > max {
            return Err(format!(
                "{kind} {name:?}: spec.replicas {r} is more than the lab's limit of {max} pods"
            ));
        }
        total += r as usize;
    }
    if total > max {
        return Err(format!(
            "the scenario asks for {total} pods, more than the lab's limit of {max}"
        ));
    }
    Ok(total)
}

/// Identities already defined in a scenario: a second definition would silently replace or
/// shadow the first.
#[derive(Default)]
struct Seen(std::collections::HashSet<(&'static str, String)>);

impl Seen {
    fn once(
        &mut self,
        (kind, name): (&'static str, String),
        err: &impl Fn(String) -> InputError,
    ) -> Result<(), InputError> {
        if self.0.insert((kind, name.clone())) {
            Ok(())
        } else {
            Err(err(format!("{kind} {name:?} is defined twice")))
        }
    }
}

/// Kind and `namespace/name` of a Kubernetes object (objects without a namespace live in
/// `default`, as with kubectl).
fn k8s_identity(kind: &str, value: &serde_yaml::Value) -> (&'static str, String) {
    let meta = value.get("metadata");
    let get = |k: &str| meta.and_then(|m| m.get(k)).and_then(|v| v.as_str());
    let kind: &'static str = match kind {
        "Namespace" => "Namespace",
        "ServiceAccount" => "ServiceAccount",
        "Pod" => "Pod",
        "Secret" => "Secret",
        "Deployment" => "Deployment",
        "StatefulSet" => "StatefulSet",
        "DaemonSet" => "DaemonSet",
        "Job" => "Job",
        "Ingress" => "Ingress",
        "SecretProviderClass" => "SecretProviderClass",
        _ => "object",
    };
    let name = get("name").unwrap_or("");
    if kind == "Namespace" {
        (kind, name.to_string())
    } else {
        (
            kind,
            format!("{}/{name}", get("namespace").unwrap_or("default")),
        )
    }
}

/// A scenario document may only carry `apiVersion`, `kind`, `metadata` and the kind's own
/// top-level fields (`spec` for lab kinds): anything else is a typo that would be ignored.
fn top_level_fields(
    value: &serde_yaml::Value,
    allowed: &[&str],
    err: &impl Fn(String) -> InputError,
) -> Result<(), InputError> {
    let Some(map) = value.as_mapping() else {
        return Err(err("a document must be a mapping".into()));
    };
    let base = ["apiVersion", "kind", "metadata"];
    let lab = value.get("apiVersion").and_then(|v| v.as_str()) == Some(LAB_API_VERSION);
    for key in map.keys() {
        let k = key.as_str().unwrap_or("");
        let ok = base.contains(&k) || allowed.contains(&k) || (lab && k == "spec");
        if !ok {
            let mut all: Vec<&str> = base.to_vec();
            all.extend_from_slice(if lab { &["spec"] } else { allowed });
            return Err(err(format!(
                "unknown top-level field {}, expected one of {}",
                match key.as_str() {
                    Some(k) => format!("`{k}`"),
                    None => "(not a string)".into(),
                },
                all.join(", ")
            )));
        }
    }
    Ok(())
}

/// The names of [`LabAction`]'s variants, as written in a Timeline event.
const ACTIONS: [&str; 6] = [
    "rotateSecret",
    "deletePod",
    "rolloutRestart",
    "deleteWorkload",
    "applyFault",
    "repairFault",
];

/// `kind: Timeline` — `spec.events`, each `at:` a lab time plus exactly one action.
fn timeline(
    spec: serde_yaml::Value,
    err: &impl Fn(String) -> InputError,
) -> Result<Vec<TimedEvent>, InputError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Spec {
        events: Vec<serde_yaml::Value>,
    }
    #[derive(Deserialize)]
    struct At(#[serde(with = "humantime_field")] Duration);

    let spec: Spec = lab_spec(spec, err)?;
    let mut out = Vec::with_capacity(spec.events.len());
    for (i, ev) in spec.events.into_iter().enumerate() {
        let here = format!("spec.events[{i}]");
        let serde_yaml::Value::Mapping(mut m) = ev else {
            return Err(err(format!(
                "{here}: expected a mapping with `at` and one action"
            )));
        };
        let at = m
            .shift_remove("at")
            .ok_or_else(|| err(format!("{here}.at: missing (the lab time, e.g. 90s)")))?;
        let At(at) = crate::input::typed(at).map_err(|e| err(e.under(&format!("{here}.at"))))?;
        if let Some(bad) = m
            .keys()
            .find(|k| !k.as_str().is_some_and(|n| ACTIONS.contains(&n)))
        {
            return Err(err(format!(
                "{here}: unknown field {} (expected `at` and one of {})",
                bad.as_str()
                    .map_or("(not a string)".into(), |n| format!("`{n}`")),
                ACTIONS.join(", ")
            )));
        }
        let mut entries = m.into_iter();
        let (name, body) = match (entries.next(), entries.next()) {
            (Some(one), None) => one,
            (None, _) => {
                return Err(err(format!(
                    "{here}: no action (expected one of {})",
                    ACTIONS.join(", ")
                )));
            }
            (Some((a, _)), Some((b, _))) => {
                return Err(err(format!(
                    "{here}: more than one action ({}, {}): give each its own event",
                    a.as_str().unwrap_or("?"),
                    b.as_str().unwrap_or("?")
                )));
            }
        };
        let name = name.as_str().unwrap_or_default();
        let tagged = serde_yaml::Value::Tagged(Box::new(serde_yaml::value::TaggedValue {
            tag: serde_yaml::value::Tag::new(name),
            value: body,
        }));
        let action: LabAction = crate::input::typed(tagged).map_err(|e| {
            // The enum's path starts with the variant, which is the key the user wrote.
            err(e.under(&here))
        })?;
        out.push(TimedEvent { at, action });
    }
    Ok(out)
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
