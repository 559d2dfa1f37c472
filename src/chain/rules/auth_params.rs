//! The provider's auth selection read from an SPC's parameters (FACTS §5): which identity mode
//! it uses, and every reason it would refuse the parameters or a reader would object to them.

use super::params;
use super::pod::{parse_bool, truthy};
use crate::chain::catalog::Code;
use crate::chain::context::AuthMode;
use crate::chain::model::SharedText;
use crate::spc::AzureSpc;

/// One reason the provider (or a reader of the template) objects to the parameters.
pub(crate) struct Problem {
    pub code: Code,
    /// What was seen, as the provider would put it.
    pub observed: String,
    /// The edit that fixes it. `{tenant}` stands for the tenant the SPC should name (the
    /// caller knows the snapshot: [`super::remedy::home_tenant`]).
    pub fix: String,
    /// Wrong, but nothing fails on it in the mode the SPC uses: a warning, not the code's
    /// error.
    pub harmless: bool,
}

/// How KVC302 words a tenant no tenant can have (the event fold looks for it).
pub(crate) const INVALID_TENANT: &str = "is an invalid tenant (neither a tenant id nor a domain)";

/// How KVC302 words a tenant that is one of Entra ID's tenant-independent aliases (`common`,
/// `organizations`, `consumers`): Entra knows it, so not AADSTS900023, but the provider's
/// app-only token request (a client assertion) names its tenant by id or domain (Microsoft
/// identity platform, OAuth 2.0 client credentials flow), and over /common and /consumers
/// Entra refuses the grant (AADSTS90010, AADSTS9001023). Audit UUU-honest.
pub(crate) const ALIAS_TENANT: &str = "is Entra ID's tenant-independent alias, not a tenant";

/// Whether `t` is one of Entra ID's tenant-independent aliases.
fn alias_tenant(t: &str) -> bool {
    ["common", "organizations", "consumers"]
        .iter()
        .any(|a| t.trim().eq_ignore_ascii_case(a))
}

/// How KVC302 words a keyvaultName written as a vault URL or host name.
const URL_NAME: &str = "is a URL/host name, the provider wants the bare vault name";

/// Whether KVC302's evidence line `observed` (a parameter as read, or an event quoting the
/// provider's refusal of it) is a refusal the provider meets only after it has
/// parsed and validated `objects` (FACTS §5, its GetSecretsStoreObjectContent): the vault
/// name its getVaultURL refuses, built after the objects, or a tenant Entra ID refuses at the
/// token exchange, asked lazily inside the fetch loop.
pub(crate) fn met_after_objects(observed: &str) -> bool {
    observed.contains(crate::spc::INVALID_VAULT_NAME)
        || observed.contains(URL_NAME)
        || observed.contains(INVALID_TENANT)
        || observed.contains(ALIAS_TENANT)
}

/// What a fix writes where the tenant belongs (filled in by the caller).
pub(crate) const TENANT: &str = "{tenant}";

/// No credential at all: the two ways the provider accepts (FACTS §5), each whole. `{subject}`
/// is filled with the mounting pods' service account where it is known.
pub(crate) const EITHER_CREDENTIAL: &str = "either clientID: <workload identity clientId> (workload identity: that identity needs a federated credential for {subject}), or keep service-principal mode: nodePublishSecretRef: {name: <a Secret with clientid and clientsecret>} on each pod volume that mounts this SecretProviderClass";

/// [`EITHER_CREDENTIAL`]'s first half, the SPC's part, where the pods are known: the other,
/// `nodePublishSecretRef`, is edited on their volumes ([`super::remedy::service_principal_edits`]).
pub(crate) const EITHER_CLIENT_ID: &str = "either clientID: <workload identity clientId> (workload identity: that identity needs a federated credential for {subject})";

/// The identity `userAssignedIdentityID` names where the provider does not read it (FACTS §5:
/// only with `useVMManagedIdentity: "true"`): no identity mode and no clientID, so the provider
/// asks for a service principal's credential instead. The author wrote which identity is meant,
/// so the fix of a missing credential names it rather than a placeholder.
pub(crate) fn unread_user_assigned(p: &AzureSpc) -> Option<&str> {
    let id = p.user_assigned_identity_id.as_deref()?.trim();
    let flag_off =
        (p.use_vm_managed_identity.as_deref()).is_none_or(|v| parse_bool(v) == Some(false));
    let unread = flag_off && p.client_id.is_none() && !truthy(&p.use_pod_identity);
    (unread && !truthy(&p.use_azure_token_proxy) && !id.is_empty() && !params::is_placeholder(id))
        .then_some(id)
}

pub(crate) fn problem(code: Code, observed: impl Into<String>, fix: impl Into<String>) -> Problem {
    Problem {
        code,
        observed: observed.into(),
        fix: fix.into(),
        harmless: false,
    }
}

/// The provider's auth selection, with every reason it would refuse the parameters.
/// `nps`: the mounting pod's nodePublishSecretRef, or `None` when no pod is known;
/// `tenant_key`: the tenant parameter as written (`tenantID` or the deprecated `tenantId`).
pub(crate) fn auth_mode(
    p: &AzureSpc,
    nps: Option<Option<&str>>,
    tenant_key: &str,
) -> (AuthMode, Vec<Problem>) {
    let mut problems: Vec<Problem> = Vec::new();
    for (key, v) in [
        ("usePodIdentity", &p.use_pod_identity),
        ("useVMManagedIdentity", &p.use_vm_managed_identity),
        ("useAzureTokenProxy", &p.use_azure_token_proxy),
    ] {
        if let Some(v) = v
            && parse_bool(v).is_none()
        {
            problems.push(problem(
                Code::KVC302,
                format!("{key}: {v:?} is not a boolean"),
                format!("{key}: \"true\" or \"false\""),
            ));
        }
    }
    for (key, v) in [
        ("clientID", &p.client_id),
        ("userAssignedIdentityID", &p.user_assigned_identity_id),
    ] {
        if let Some(v) = v.as_deref().filter(|v| params::is_placeholder(v)) {
            problems.push(problem(
                Code::KVC306,
                format!("{key}: {v}"),
                format!("{key}: <the identity's clientId>"),
            ));
        }
    }
    let pod_id = truthy(&p.use_pod_identity);
    let vm = truthy(&p.use_vm_managed_identity);
    let proxy = truthy(&p.use_azure_token_proxy);
    let modes = [pod_id, vm, proxy].iter().filter(|b| **b).count();
    let mode = if modes > 1 {
        problems.push(problem(
            Code::KVC302,
            format!(
                "only one identity mode can be enabled at a time: usePodIdentity={pod_id}, useVMManagedIdentity={vm}, useAzureTokenProxy={proxy}"
            ),
            one_mode(p, [pod_id, vm, proxy]),
        ));
        AuthMode::Invalid
    } else if pod_id {
        // Deprecated, not broken: the provider still implements it and aad-pod-identity can
        // still be installed; only the AKS add-on is gone.
        problems.push(problem(
            Code::KVC304,
            "usePodIdentity: \"true\": aad-pod-identity is deprecated and the AKS pod-identity add-on is retired; the mount works only where aad-pod-identity (NMI) still runs",
            "usePodIdentity: \"false\" and clientID: <workload identity clientId> (migration: https://learn.microsoft.com/azure/aks/workload-identity-migrate-from-pod-identity)",
        ));
        AuthMode::PodIdentity
    } else if vm {
        AuthMode::VmIdentity {
            user_assigned: p.user_assigned_identity_id.as_deref().map(SharedText::from),
        }
    } else if proxy {
        if p.client_id.is_none() {
            problems.push(problem(
                Code::KVC302,
                "clientID is required for identity binding (useAzureTokenProxy: true)",
                "clientID: <identity clientId>",
            ));
        }
        AuthMode::TokenProxy {
            client_id: p.client_id.as_deref().map(SharedText::from),
        }
    } else if let Some(c) = &p.client_id {
        AuthMode::WorkloadIdentity {
            client_id: c.as_str().into(),
        }
    } else if let Some(Some(s)) = nps {
        AuthMode::ServicePrincipal {
            secret: (*s).into(),
        }
    } else if nps.is_none() {
        // No pod to read a nodePublishSecretRef from: service-principal mode may be meant.
        problems.push(problem(
            Code::KVC307,
            "no clientID and no identity mode: the provider uses service-principal mode, which needs nodePublishSecretRef (a Secret with clientid/clientsecret) on every pod volume that mounts this SecretProviderClass",
            EITHER_CREDENTIAL,
        ));
        AuthMode::Unknown
    } else {
        problems.push(problem(
            Code::KVC302,
            "no clientID and no nodePublishSecretRef: \"failed to get credentials, nodePublishSecretRef secret is not set\"",
            EITHER_CREDENTIAL,
        ));
        AuthMode::Invalid
    };
    match p.keyvault_name.as_deref() {
        None => problems.push(problem(
            Code::KVC302,
            "keyvaultName is not provided",
            "keyvaultName: <vault name>",
        )),
        Some(k) if params::is_placeholder(k) => problems.push(problem(
            Code::KVC306,
            format!("keyvaultName: {k}"),
            "keyvaultName: <vault name>",
        )),
        // A vault URL or host name: its first label is the name (when that is a name).
        Some(k)
            if (k.contains("://") || k.to_ascii_lowercase().contains(".vault."))
                && crate::spc::invalid_vault_name(bare_vault(k)).is_none() =>
        {
            problems.push(problem(
                Code::KVC302,
                format!("keyvaultName {k:?} {URL_NAME}"),
                format!("keyvaultName: {}", bare_vault(k)),
            ))
        }
        Some(k) => {
            if let Some(refused) = crate::spc::invalid_vault_name(k) {
                problems.push(problem(
                    Code::KVC302,
                    refused,
                    "keyvaultName: 3-24 letters, digits or '-'",
                ));
            }
        }
    }
    // The token is requested in the tenant for workload identity, identity binding and a
    // service principal; a VM's managed identity (IMDS) and pod identity (NMI) get theirs
    // without asking it, though the provider still requires the key (FACTS §5, auth.go).
    let tenant_read = !matches!(mode, AuthMode::VmIdentity { .. } | AuthMode::PodIdentity);
    match p.tenant_id.as_deref() {
        None => problems.push(problem(
            Code::KVC302,
            "tenantId is not provided",
            format!("{tenant_key}: {TENANT}"),
        )),
        Some(t) if params::is_placeholder(t) || screaming_snake(t) => problems.push(problem(
            Code::KVC306,
            format!("{tenant_key}: {t}"),
            format!("{tenant_key}: {TENANT}"),
        )),
        Some(t) if alias_tenant(t) => problems.push(unusable_tenant(
            tenant_key,
            tenant_read,
            format!("{t} {ALIAS_TENANT}"),
            ": the provider asks for an app-only token (a client assertion), which names one tenant by its id or domain, and Entra ID refuses that grant here (AADSTS90010, AADSTS9001023: the grant type is not supported over the /common or /consumers endpoints)",
        )),
        // Entra knows a tenant by its id or one of its domains: anything else ("tid" in the
        // upstream examples) is no tenant at all, a literal, not a template to render.
        Some(t) if !crate::snapshot::is_guid(t.trim()) && !t.contains('.') => {
            problems.push(unusable_tenant(
                tenant_key,
                tenant_read,
                format!("{t} {INVALID_TENANT}"),
                ": Entra ID answers AADSTS900023 (neither a valid DNS name, nor a valid external domain)",
            ))
        }
        Some(_) => {}
    }
    match p.cloud_name.as_deref() {
        Some(c) if params::is_placeholder(c) => problems.push(problem(
            Code::KVC306,
            format!("cloudName: {c}"),
            "cloudName: AzurePublicCloud (or leave empty)",
        )),
        Some(c) if !crate::spc::known_cloud(c) => problems.push(problem(
            Code::KVC302,
            format!(
                "cloudName {c} is not valid: there is no cloud environment matching the name {:?}",
                c.to_ascii_uppercase()
            ),
            "cloudName: AzurePublicCloud (or leave empty)",
        )),
        _ => {}
    }
    for o in &p.objects {
        for (field, v) in [
            ("objectName", Some(o.object_name.as_str())),
            ("objectAlias", o.object_alias.as_deref()),
            ("objectVersion", o.object_version.as_deref()),
        ] {
            if let Some(v) = v.filter(|v| params::is_placeholder(v)) {
                problems.push(problem(
                    Code::KVC306,
                    format!("objects[{}].{field}: {v}", o.index),
                    format!("objects[{}].{field}: <a real value>", o.index),
                ));
            }
        }
    }
    (mode, problems)
}

/// A tenant value the identity link already names (KVC306 unrendered, KVC302 invalid): no
/// tenant to compare with the identity's or the vault's.
pub(crate) fn tenant_unusable(t: &str) -> bool {
    params::is_placeholder(t)
        || screaming_snake(t)
        || (!crate::snapshot::is_guid(t.trim()) && !t.contains('.'))
}

/// The values the chain's KVC306 names as unrendered, as the provider and the driver use them:
/// the merged parameters (identity, vault, tenant, cloud; each object's name, alias and
/// version) and the SecretProviderClass's `secretObjects`. A driver event quoting one fails
/// on the template (KVC306 as an error), not on a second cause.
pub(crate) fn unrendered_values<'a>(
    p: &'a AzureSpc,
    spc: Option<&'a crate::snapshot::SpcObs>,
) -> Vec<&'a str> {
    let parameters = [
        &p.client_id,
        &p.user_assigned_identity_id,
        &p.keyvault_name,
        &p.tenant_id,
        &p.cloud_name,
    ]
    .into_iter()
    .filter_map(|v| v.as_deref());
    let objects = p.objects.iter().flat_map(|o| {
        [
            Some(o.object_name.as_str()),
            o.object_alias.as_deref(),
            o.object_version.as_deref(),
        ]
        .into_iter()
        .flatten()
    });
    let synced = spc
        .into_iter()
        .flat_map(|s| &s.secret_objects)
        .flat_map(|so| {
            std::iter::once(so.secret_name.as_str()).chain(
                so.data
                    .iter()
                    .flat_map(|d| [d.object_name.as_str(), d.key.as_str()]),
            )
        });
    // A variable's name left as the tenant is unrendered too (auth_mode says KVC306).
    let tenant = p.tenant_id.as_deref().filter(|t| screaming_snake(t));
    parameters
        .chain(objects)
        .chain(synced)
        .filter(|v| params::is_placeholder(v))
        .chain(tenant)
        .collect()
}

/// `YOUR_TENANT_ID`, `TENANT_ID`: a variable's name left where its value belongs (no tenant
/// id or domain has an underscore).
fn screaming_snake(v: &str) -> bool {
    v.contains('_')
        && v.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// `https://kv1.vault.azure.net/` → `kv1`.
fn bare_vault(k: &str) -> &str {
    let k = k.split("://").nth(1).unwrap_or(k);
    k.split(['.', '/']).next().unwrap_or(k)
}

/// KVC302 for a tenantId no token can be asked in (`said`: the value and why): `refused`, how
/// Entra ID answers, where the mode asks the tenant for its token; else harmless, until
/// workload identity is used.
fn unusable_tenant(tenant_key: &str, tenant_read: bool, said: String, refused: &str) -> Problem {
    let outcome = if tenant_read {
        refused
    } else {
        "; this mode's token does not ask it, so the mount works, until workload identity is used"
    };
    Problem {
        harmless: !tenant_read,
        ..problem(
            Code::KVC302,
            format!("{tenant_key}: {said}{outcome}"),
            format!("{tenant_key}: {TENANT}"),
        )
    }
}

/// The edit that leaves the provider one identity mode (FACTS §5: at most one of the three;
/// none with a clientID is workload identity). With a clientID and no identity binding asked
/// for, the modes go (`"false"`) and the clientID is the identity; with userAssignedIdentityID
/// and no clientID, the node identity stays; otherwise which one is meant is the user's to say
/// (audit XB-facts: "keep one identity mode" named neither key nor value).
fn one_mode(p: &AzureSpc, [pod_id, vm, proxy]: [bool; 3]) -> String {
    let keys = [
        ("usePodIdentity", pod_id),
        ("useVMManagedIdentity", vm),
        ("useAzureTokenProxy", proxy),
    ];
    let off = |keep: &str| {
        (keys.iter())
            .filter(|(k, on)| *on && *k != keep)
            .map(|(k, _)| format!("{k}: \"false\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if p.client_id.is_some() && !proxy {
        format!(
            "{} (clientID {} is then the identity: workload identity)",
            off(""),
            p.client_id.as_deref().unwrap_or_default()
        )
    } else if p.client_id.is_none() && vm && p.user_assigned_identity_id.is_some() {
        format!(
            "{} (the node identity userAssignedIdentityID names stays)",
            off("useVMManagedIdentity")
        )
    } else {
        "keep one identity mode: set the others to \"false\"".to_string()
    }
}
