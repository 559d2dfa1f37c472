//! Error and event message shapes, as the real components print them (shared/upstream FACTS
//! §3, §5): kubelet's FailedMount wrapper, the Azure provider's per-object wrapper, azcore
//! `ResponseError` text, azidentity's `ClientAssertionCredential` failure, Key Vault bodies.
//! Messages name objects, never values.

use crate::snapshot::ObjectType;

const RULE: &str =
    "--------------------------------------------------------------------------------";

/// kubelet's FailedMount message for a provider error.
pub fn failed_mount(volume: &str, ns: &str, pod: &str, provider_error: &str) -> String {
    format!(
        "MountVolume.SetUp failed for volume \"{volume}\" : rpc error: code = Unknown desc = failed to mount secrets store objects for pod {ns}/{pod}, err: rpc error: code = Unknown desc = failed to mount objects, error: {provider_error}"
    )
}

/// kubelet's FailedMount message when the driver cannot write the provider's files: `file`
/// is one object's file where another object's versions need a directory of that name ([D]
/// writePayloadToDir: `mkdir …: not a directory`). The driver's path runs through the atomic
/// writer's new `..<time>.<n>` directory of each attempt; the lab leaves it out so that the
/// retries of one failure read as one event, as its other messages do.
pub fn failed_write(volume: &str, ns: &str, pod: &str, target: &str, file: &str) -> String {
    format!(
        "MountVolume.SetUp failed for volume \"{volume}\" : rpc error: code = Unknown desc = failed to mount secrets store objects for pod {ns}/{pod}, err: mkdir {target}/{file}: not a directory"
    )
}

/// kubelet's FailedMount message for an error raised by the driver itself (before the provider).
pub fn failed_mount_driver(volume: &str, code: &str, desc: &str) -> String {
    format!(
        "MountVolume.SetUp failed for volume \"{volume}\" : rpc error: code = {code} desc = {desc}"
    )
}

/// The driver's NodePublishVolume on a node whose Azure provider is not serving (v1.5 and
/// v1.6: the provider's socket is looked up by name), wrapped by kubelet.
pub fn provider_not_found(volume: &str, ns: &str, pod: &str) -> String {
    format!(
        "MountVolume.SetUp failed for volume \"{volume}\" : rpc error: code = Unknown desc = failed to mount secrets store objects for pod {ns}/{pod}, err: error connecting to provider \"azure\": provider not found: provider \"azure\""
    )
}

/// The ≤v1.5 rotation reconciler's event on a node whose Azure provider is not serving
/// (FACTS §3).
pub const ROTATION_NO_PROVIDER: &str = "failed to lookup provider client: \"azure\"";

pub fn driver_not_registered(volume: &str) -> String {
    driver_name_not_registered(volume, super::mount::DRIVER)
}

/// The kubelet's words for a CSI volume naming a driver no plugin on the node registered as
/// (FACTS §3): the Secrets Store driver where it does not run, or a name no driver has.
pub fn driver_name_not_registered(volume: &str, driver: &str) -> String {
    format!(
        "MountVolume.SetUp failed for volume \"{volume}\" : kubernetes.io/csi: mounter.SetUpAt failed to get CSI client: driver name {driver} not found in the list of registered CSI drivers"
    )
}

/// kubelet reads a volume's `nodePublishSecretRef` Secret before it calls the driver; a
/// missing Secret fails there, in kubelet's own words (`csi_mounter.go` SetUpAt).
pub fn node_publish_secret_not_found(volume: &str, ns: &str, secret: &str) -> String {
    format!(
        "MountVolume.SetUp failed for volume \"{volume}\" : fetching NodePublishSecretRef {ns}/{secret} failed: kubernetes.io/csi: failed to find the secret {secret} in the namespace {ns} with error: secrets \"{secret}\" not found"
    )
}

/// The ≤v1.5 rotation reconciler reads the `nodePublishSecretRef` Secret from its informer
/// cache (FACTS §3 `MountRotationFailed`); the lister's not-found names the singular resource.
pub fn rotation_node_publish_secret_not_found(ns: &str, secret: &str) -> String {
    format!("failed to get node publish secret {ns}/{secret}, err: secret \"{secret}\" not found")
}

pub fn spc_not_found(ns: &str, spc: &str) -> String {
    format!(
        "failed to get secretproviderclass {ns}/{spc}, error: secretproviderclasses.secrets-store.csi.x-k8s.io \"{spc}\" not found"
    )
}

/// kubelet, after a volume has failed for its whole wait.
pub fn unable_to_mount(volumes: &[String], all: &[String]) -> String {
    format!(
        "Unable to attach or mount volumes: unmounted volumes=[{}], unattached volumes=[{}]: timed out waiting for the condition",
        volumes.join(" "),
        all.join(" ")
    )
}

/// A Key Vault GET whose host does not resolve: a vault name no vault has in that cloud (a
/// mistyped name, or a vault of another cloud than the one `cloudName` picks).
pub fn no_such_host(host: &str, collection: &str, name: &str) -> String {
    format!(
        "GET https://{host}/{collection}/{name}/\nRESPONSE: dial tcp: lookup {host}: no such host"
    )
}

/// The provider's per-object wrapper.
pub fn per_object(t: &str, name: &str, version: &str, cause: &str) -> String {
    format!("failed to get objectType:{t}, objectName:{name}, objectVersion:{version}: {cause}")
}

fn json_error(code: &str, message: &str, inner: Option<&str>) -> String {
    let message = serde_json::to_string(message).unwrap_or_default();
    match inner {
        Some(i) => format!(
            "{{\n  \"error\": {{\n    \"code\": \"{code}\",\n    \"message\": {message},\n    \"innererror\": {{\n      \"code\": \"{i}\"\n    }}\n  }}\n}}"
        ),
        None => format!(
            "{{\n  \"error\": {{\n    \"code\": \"{code}\",\n    \"message\": {message}\n  }}\n}}"
        ),
    }
}

/// azcore `ResponseError` text for a Key Vault data-plane GET.
pub fn response_error(
    url: &str,
    status: u16,
    code: &str,
    message: &str,
    inner: Option<&str>,
) -> String {
    let reason = match status {
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        _ => "Error",
    };
    format!(
        "GET {url}\n{RULE}\nRESPONSE {status}: {status} {reason}\nERROR CODE: {code}\n{RULE}\n{}\n{RULE}\n",
        json_error(code, message, inner)
    )
}

/// The URL of a Key Vault GET as the provider's client requests it, and so as azcore's
/// `ResponseError` prints it: `host` is `<keyvaultName>.<the cloud's DNS suffix>`, the name as
/// the SecretProviderClass writes it (FACTS §5: the provider builds
/// `https://<keyvaultName>.<KeyVaultDNSSuffix>/` from the parameter as given, and the URL keeps
/// that spelling), not as the vault spells its own name.
pub fn object_url(host: &str, t: ObjectType, name: &str, version: &str) -> String {
    format!("https://{host}/{}/{name}/{version}", t.collection())
}

/// `appid=…;oid=…;iss=…` as Key Vault prints the caller.
pub fn caller(client_id: &str, principal_id: &str, tenant: &str) -> String {
    format!("appid={client_id};oid={principal_id};iss=https://sts.windows.net/{tenant}/")
}

/// Key Vault's RBAC deny (innererror `ForbiddenByRbac`, FACTS §3). Its `Resource:` line is
/// the resource id as Azure's authorization decision writes it, lower-cased whole
/// (`/subscriptions/…/resourcegroups/<rg>/providers/microsoft.keyvault/vaults/<vault>/secrets/<name>`,
/// the message FACTS cites), not ARM's casing.
pub fn forbidden_by_rbac(
    caller: &str,
    action: &str,
    resource: &str,
    vault: &str,
    location: &str,
) -> String {
    let resource = resource.to_lowercase();
    format!(
        "Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: {caller}\r\nAction: '{action}'\r\nResource: '{resource}'\r\nAssignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: 'DeniedWithNoValidRBAC' \r\nVault: {vault};location={location}"
    )
}

/// An access policy without `permission` (`get`, `list`) on the object type (FACTS §3).
pub fn access_denied(
    caller: &str,
    t: ObjectType,
    permission: &str,
    vault: &str,
    location: &str,
) -> String {
    format!(
        "The user, group or application '{caller}' does not have {} {permission} permission on key vault '{vault};location={location}'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287",
        t.collection()
    )
}

pub fn firewall(caller: &str, vault: &str, location: &str) -> String {
    format!(
        "Client address is not authorized and caller is not a trusted service.\r\nClient address: 20.61.120.17\r\nCaller: {caller}\r\nVault: {vault};location={location}"
    )
}

/// Key Vault's 403 for a vault whose public network access is disabled (innererror
/// `ForbiddenByConnection`): no firewall rule admits a public request then, only a private
/// endpoint (audit WW7; kvchain's classifier and `explain KVC505` list these words).
pub fn public_access_disabled(caller: &str, vault: &str, location: &str) -> String {
    format!(
        "Public network access is disabled and request is not from a trusted service nor via an approved private link.\r\nCaller: {caller}\r\nVault: {vault};location={location}"
    )
}

pub fn not_found(t: ObjectType, name: &str) -> (String, String) {
    let (what, code) = match t {
        ObjectType::Secret => ("secret", "SecretNotFound"),
        ObjectType::Key => ("key", "KeyNotFound"),
        ObjectType::Cert => ("certificate", "CertificateNotFound"),
    };
    (
        code.to_string(),
        format!(
            "A {what} with (name/id) {name} was not found in this key vault. If you recently deleted this {what} you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"
        ),
    )
}

pub fn disabled(t: ObjectType) -> (String, String) {
    let (what, code) = match t {
        ObjectType::Secret => ("secret", "SecretDisabled"),
        ObjectType::Key => ("key", "KeyDisabled"),
        ObjectType::Cert => ("certificate", "CertificateDisabled"),
    };
    (
        code.to_string(),
        format!("Operation get is not allowed on a disabled {what}."),
    )
}

/// azidentity's `ManagedIdentityCredential` failure when the node's metadata endpoint (IMDS)
/// holds no identity with the client id asked: "the requested identity isn't assigned to this
/// resource", body `Identity not found` (the shape kvchain's classifier and `explain KVC301`
/// list; audit WW4).
pub fn imds_identity_not_found() -> String {
    format!(
        "ManagedIdentityCredential authentication failed. the requested identity isn't assigned to this resource\nGET http://169.254.169.254/metadata/identity/oauth2/token\n{RULE}\nRESPONSE 400 Bad Request\n{RULE}\n{{\n  \"error\": \"invalid_request\",\n  \"error_description\": \"Identity not found\"\n}}\n{RULE}"
    )
}

pub fn throttled() -> String {
    "Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached".into()
}

/// Key Vault rejecting a token issued by another tenant.
pub fn wrong_issuer(vault_tenant: &str, token_tenant: &str) -> String {
    format!(
        "AKV10032: Invalid issuer. Expected one of https://sts.windows.net/{vault_tenant}/, https://sts.windows.net/f8cdef31-a31e-4b4a-93e4-5f571e91255a/, found https://sts.windows.net/{token_tenant}/."
    )
}

/// azidentity `ClientAssertionCredential` failure with an Entra error body.
pub fn token_exchange_failed(
    authority: &str,
    tenant: &str,
    status: u16,
    error: &str,
    description: &str,
    code: u64,
) -> String {
    let reason = if status == 401 {
        "Unauthorized"
    } else {
        "Bad Request"
    };
    let description = serde_json::to_string(description).unwrap_or_default();
    format!(
        "ClientAssertionCredential authentication failed. \nPOST {authority}{tenant}/oauth2/v2.0/token\n{RULE}\nRESPONSE {status}: {status} {reason}\n{RULE}\n{{\n  \"error\": \"{error}\",\n  \"error_description\": {description},\n  \"error_codes\": [\n    {code}\n  ],\n  \"timestamp\": \"2026-01-15 09:00:00Z\",\n  \"trace_id\": \"0b6a1c1e-0c6f-4f0e-9d7e-6d1b9c2a0000\",\n  \"correlation_id\": \"5f2e8f8a-3c1d-4a57-8a8e-2e3f9d7c0000\"\n}}\n{RULE}\n"
    )
}

pub fn aadsts70021(issuer: &str, subject: &str, audience: &str) -> String {
    format!(
        "AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: '{issuer}'. Assertion Subject: '{subject}'. Assertion Audience: '{audience}'. https://learn.microsoft.com/entra/workload-id/workload-identity-federation Trace ID: 0b6a1c1e-0c6f-4f0e-9d7e-6d1b9c2a0000 Correlation ID: 5f2e8f8a-3c1d-4a57-8a8e-2e3f9d7c0000 Timestamp: 2026-01-15 09:00:00Z"
    )
}

pub fn aadsts700016(client_id: &str, tenant: &str) -> String {
    format!(
        "AADSTS700016: Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant. Trace ID: 0b6a1c1e-0c6f-4f0e-9d7e-6d1b9c2a0000 Correlation ID: 5f2e8f8a-3c1d-4a57-8a8e-2e3f9d7c0000 Timestamp: 2026-01-15 09:00:00Z"
    )
}

/// Entra's answer for a tenant identifier that is neither a tenant id nor a domain (`tid`):
/// AADSTS900023, as Entra words it for `authorize`, `undefined` or `{{tenantid}}` alike.
pub fn aadsts900023(tenant: &str) -> String {
    format!(
        "AADSTS900023: Specified tenant identifier '{tenant}' is neither a valid DNS name, nor a valid external domain. Trace ID: 0b6a1c1e-0c6f-4f0e-9d7e-6d1b9c2a0000 Correlation ID: 5f2e8f8a-3c1d-4a57-8a8e-2e3f9d7c0000 Timestamp: 2026-01-15 09:00:00Z"
    )
}
