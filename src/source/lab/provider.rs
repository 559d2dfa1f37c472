//! The Azure provider's checks of the merged SPC parameters and its auth selection, in the
//! provider's own order (FACTS §5; [P] v1.8.2 `GetSecretsStoreObjectContent` and
//! `buildAuthConfig`): the identity-mode flags, one mode at most, keyvaultName, tenantId,
//! cloudName, then the auth config of the chosen mode. Pure: the caller turns an `Err` into
//! the FailedMount message (FACTS §3) and acquires the token the `Auth` names.
//!
//! Checking these in one place matters because the provider refuses the parameters before it
//! reads any object: a mount the provider refuses must never be shown as Mount ✓.

use super::azure;
use super::mount::NodePublishSecret;
use crate::spc::{AzureSpc, parse_bool, truthy};

/// Whom the provider authenticates as once the parameters pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Auth {
    /// No mode flag, a clientID and the exchange audience's token.
    Workload { client_id: String },
    /// `useAzureTokenProxy`: a clientID and the binding audience's token.
    Binding { client_id: String },
    /// `useVMManagedIdentity`: the node's managed identity, `userAssignedIdentityID` naming a
    /// user-assigned one, none meaning the scale set's system-assigned identity.
    VmManaged { user_assigned: Option<String> },
    /// `usePodIdentity`: aad-pod-identity's NMI answers for the pod.
    PodIdentity,
}

/// The provider's `IdentityMode.String()`, as `failed to build auth config for mode …` names it.
fn mode_name(pod: bool, vm: bool, proxy: bool) -> &'static str {
    match (pod, vm, proxy) {
        (true, _, _) => "PodIdentity",
        (_, true, _) => "VMManagedIdentity",
        (_, _, true) => "AzureTokenProxy",
        _ => "None",
    }
}

/// The provider's verdict on the parameters. `audiences`: the CSIDriver's `tokenRequests`
/// (no audience ⇒ kubelet passes no service-account tokens at all); `nps`: the volume's
/// nodePublishSecretRef as kubelet found it (a missing Secret failed in kubelet already).
/// `Err` holds the provider's own error text, before kubelet's and the driver's wrapping.
/// A service principal with both keys present is `Err` too: the lab has no app registrations
/// to check them against (see [`service_principal`]).
pub fn select(
    p: &AzureSpc,
    audiences: &[String],
    nps: Option<&NodePublishSecret>,
    namespace: &str,
) -> Result<Auth, String> {
    // strconv.ParseBool's error, wrapped by the provider (types.GetUse…).
    for (key, v) in [
        ("usePodIdentity", &p.use_pod_identity),
        ("useVMManagedIdentity", &p.use_vm_managed_identity),
        ("useAzureTokenProxy", &p.use_azure_token_proxy),
    ] {
        if let Some(v) = v.as_deref().filter(|v| parse_bool(v).is_none()) {
            return Err(format!(
                "failed to parse {key} flag, error: strconv.ParseBool: parsing {v:?}: invalid syntax"
            ));
        }
    }
    let (pod, vm, proxy) = (
        truthy(&p.use_pod_identity),
        truthy(&p.use_vm_managed_identity),
        truthy(&p.use_azure_token_proxy),
    );
    if [pod, vm, proxy].iter().filter(|b| **b).count() > 1 {
        return Err("only one identity mode can be enabled at a time: usePodIdentity, useVMManagedIdentity, or useAzureTokenProxy".into());
    }
    if p.keyvault_name.is_none() {
        return Err("keyvaultName is not provided".into());
    }
    if p.tenant_id.is_none() {
        return Err("tenantId is not provided".into());
    }
    if let Some(c) = p
        .cloud_name
        .as_deref()
        .filter(|c| !crate::spc::known_cloud(c))
    {
        // go-autorest looks the name up upper-cased and quotes it so (FACTS §5 [AR]).
        return Err(format!(
            "cloudName {c} is not valid, error: autorest/azure: There is no cloud environment matching the name {:?}",
            c.to_ascii_uppercase()
        ));
    }
    let mode = mode_name(pod, vm, proxy);
    let auth = auth_config(p, (pod, vm, proxy), audiences, nps, namespace);
    auth.map_err(|e| match e {
        AuthError::Provider(e) => format!("failed to build auth config for mode {mode}: {e}"),
        AuthError::Lab(e) => e,
    })
}

enum AuthError {
    /// The provider's words, wrapped with the mode by the caller.
    Provider(String),
    /// The lab's own words for what it does not simulate, never dressed as the provider's.
    Lab(String),
}

/// `buildAuthConfig` then `auth.NewConfig`: identity binding needs a clientID and tokens; a
/// clientID makes the provider parse the exchange audience's token whatever the mode; with no
/// mode and no workload identity it reads the service principal from the Secret.
fn auth_config(
    p: &AzureSpc,
    (pod, vm, proxy): (bool, bool, bool),
    audiences: &[String],
    nps: Option<&NodePublishSecret>,
    namespace: &str,
) -> Result<Auth, AuthError> {
    let has = |a: &str| audiences.iter().any(|x| x == a);
    let client = p.client_id.clone();
    if proxy {
        let Some(client_id) = client else {
            return Err(AuthError::Provider(
                "clientID is required for identity binding".into(),
            ));
        };
        if audiences.is_empty() {
            return Err(AuthError::Provider(
                "service account tokens are required for identity binding".into(),
            ));
        }
        if !has(azure::BINDING_AUDIENCE) {
            return Err(AuthError::Provider(format!(
                "failed to parse service account token for identity binding, error: token for audience {} not found",
                azure::BINDING_AUDIENCE
            )));
        }
        return Ok(Auth::Binding { client_id });
    }
    if client.is_some() {
        let e = if audiences.is_empty() {
            Some("service account tokens not found".to_string())
        } else if !has(azure::TOKEN_AUDIENCE) {
            Some(format!(
                "token for audience {} not found",
                azure::TOKEN_AUDIENCE
            ))
        } else {
            None
        };
        if let Some(e) = e {
            return Err(AuthError::Provider(format!(
                "failed to parse workload identity tokens, error: {e}"
            )));
        }
    }
    if vm {
        return Ok(Auth::VmManaged {
            user_assigned: p.user_assigned_identity_id.clone(),
        });
    }
    if pod {
        return Ok(Auth::PodIdentity);
    }
    match client {
        Some(client_id) => Ok(Auth::Workload { client_id }),
        None => Err(service_principal(nps, namespace)),
    }
}

/// Without a clientID the provider takes a service principal from the nodePublishSecretRef
/// keys `clientid`/`clientsecret`, matched case-insensitively, an empty value counting as
/// absent (FACTS §5). The lab has no Entra app registrations to check them against: with both
/// present the mount fails with a message that says so rather than pretending either outcome.
fn service_principal(nps: Option<&NodePublishSecret>, namespace: &str) -> AuthError {
    let Some(NodePublishSecret {
        name,
        keys: Some(keys),
    }) = nps
    else {
        return AuthError::Provider(
            "failed to get credentials, nodePublishSecretRef secret is not set".into(),
        );
    };
    let has = |k: &str| keys.iter().any(|x| x.eq_ignore_ascii_case(k));
    if !has("clientid") {
        return AuthError::Provider("could not find clientid in secrets".into());
    }
    if !has("clientsecret") {
        return AuthError::Provider("could not find clientsecret in secrets".into());
    }
    AuthError::Lab(format!(
        "kvchain lab: service-principal credentials are not simulated (the lab has no Entra app registrations to check clientid/clientsecret of Secret {namespace}/{name} against); give the SecretProviderClass a clientID to use workload identity"
    ))
}

/// What the lab answers where a node's or NMI's token would come from: the lab has no node
/// identities of its own, so a user-assigned identity is one of its ManagedIdentities, taken
/// as assigned to the node pool (docs/scenarios.md "Node identities"). A client id none of
/// them has is then held by no node, and the node's metadata endpoint says so in its own
/// words (audit WW4: the lab's words made a second, unexplained finding beside KVC301); the
/// rest is said in the lab's words, never as an Azure message the lab cannot know.
pub fn unsimulated_token(auth: &Auth) -> String {
    match auth {
        Auth::VmManaged {
            user_assigned: Some(_),
        } => super::messages::imds_identity_not_found(),
        Auth::VmManaged { user_assigned: None } => "kvchain lab: the node scale set's system-assigned identity is not simulated (useVMManagedIdentity without userAssignedIdentityID); name a ManagedIdentity in userAssignedIdentityID".into(),
        Auth::PodIdentity => "kvchain lab: aad-pod-identity (NMI) is not simulated (usePodIdentity); use workload identity (clientID) or useVMManagedIdentity".into(),
        Auth::Workload { .. } | Auth::Binding { .. } => String::new(),
    }
}
