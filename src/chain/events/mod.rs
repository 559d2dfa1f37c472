//! Event messages → finding codes.
//!
//! The kubelet's FailedMount event carries the provider's error verbatim (wrapped twice, see
//! FACTS.md §3), so the message alone names the broken link even when kvchain cannot see the
//! Azure side. Patterns are the upstream message shapes (FACTS.md §3 and §5); the most specific
//! pattern is tried first because the wrappers repeat generic words ("not found", "failed").

use std::sync::OnceLock;

use aho_corasick::AhoCorasick;
use memchr::memmem::Finder;

use super::catalog::Code;

/// Whether any of the literal needles occurs in the [`Haystack`] (one mask test; the needles'
/// bits are worked out at compile time).
macro_rules! has {
    ($m:expr, $($needle:literal),+ $(,)?) => {
        $m.any(const { 0 $(| bit($needle))+ })
    };
}

/// [`has_token`] for a literal needle.
macro_rules! token {
    ($m:expr, $needle:literal) => {
        has_token($m, const { bit($needle) }, $needle)
    };
}

/// A searcher for a fixed phrase, built on its first use: `str::find` sets one up on every
/// call, and these phrases are looked for in every mount event of every chain.
macro_rules! phrase {
    ($text:literal) => {{
        static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
            std::sync::LazyLock::new(|| memchr::memmem::Finder::new($text));
        &*FINDER
    }};
}
pub(crate) use phrase;

// What a message names (volume, assertion, tenant, Secret, object, audience): after the
// macros, which it uses.
mod fields;
pub use fields::*;
mod network;
pub use network::*;

/// What follows the first occurrence of the phrase `finder` looks for.
fn after<'m>(message: &'m str, finder: &Finder<'_>) -> Option<&'m str> {
    let at = finder.find(message.as_bytes())?;
    // The phrase is whole UTF-8 text, so both its ends fall on character boundaries.
    message.get(at + finder.needle().len()..)
}

/// The code an event message points to, if any rule explains it.
///
/// ```
/// use kvchain::chain::{events::classify, Code};
/// let msg = "MountVolume.SetUp failed for volume \"inline\" : rpc error: code = Unknown desc = \
///            failed to mount secrets store objects for pod app/web, err: rpc error: code = Unknown \
///            desc = failed to mount objects, error: failed to get objectType:secret, objectName:db, \
///            objectVersion:: ... AADSTS70021: No matching federated identity record found";
/// assert_eq!(classify(msg), Some(Code::KVC405));
/// ```
pub fn classify(message: &str) -> Option<Code> {
    let m = &Haystack::of(message);
    // Admission: the pod names a service account that does not exist (FailedCreate).
    if has!(m, "error looking up service account") {
        return Some(Code::KVC202);
    }
    // Sync failures first: the "not found" in them must not read as SecretNotFound/SPC missing.
    // A TLS Secret whose source file holds no private key names the file too: it exists.
    // GetCertPart's failures for a kubernetes.io/tls entry (FACTS §2: a key other than
    // tls.key/tls.crt, or a file with no private key or certificate) are wrapped as
    // "failed to get cert data from file <path>, err: …".
    if has!(
        m,
        // The driver's GetSecretData wrapping GetCertPart's error (FACTS §2).
        "failed to get cert data from file"
    ) {
        return Some(Code::KVC804);
    }
    if has!(m, "file matching objectName") {
        return Some(Code::KVC801);
    }
    if has!(
        m,
        "The secret operation failed with forbidden error",
        "syncSecret.enabled"
    ) {
        return Some(Code::KVC806);
    }
    // Entra token exchange (AADSTS codes; 700211 before 70021, which is its prefix).
    if token!(m, "AADSTS700211") {
        return Some(Code::KVC402);
    }
    if token!(m, "AADSTS700213") || token!(m, "AADSTS7002138") {
        return Some(Code::KVC401);
    }
    // One message for three mismatches (FACTS §11): which field differs is decided against
    // the identity's credentials (`rules::apply_events`), not here.
    if token!(m, "AADSTS70021") || has!(m, "No matching federated identity record found") {
        return Some(Code::KVC405);
    }
    // The application is unknown in the tenant asked: the clientID, or the tenant, is wrong
    // (`rules::apply_events` tells which when the identity is visible).
    if token!(m, "AADSTS700016") {
        return Some(Code::KVC301);
    }
    // Service-principal mode's credential (the nodePublishSecretRef Secret's clientsecret):
    // Entra's "Invalid client secret provided" (7000215) and "An expired client secret was
    // provided" (7000222) (learn.microsoft.com, azure/developer/java/sdk/
    // troubleshooting-authentication-service-principal). Only that mode sends a secret.
    if token!(m, "AADSTS7000215") || token!(m, "AADSTS7000222") {
        return Some(Code::KVC302);
    }
    // Node identity mode (useVMManagedIdentity, FACTS §5): the node's metadata endpoint has
    // no identity with the userAssignedIdentityID asked, i.e. none assigned to the node's
    // scale set ([SDK] azidentity: "the requested identity isn't assigned to this resource",
    // body "Identity not found").
    if has!(m, "the requested identity isn't assigned to this resource")
        || (has!(m, "ManagedIdentityCredential") && has!(m, "Identity not found"))
    {
        return Some(Code::KVC301);
    }
    // Pod identity mode (usePodIdentity, FACTS §5): aad-pod-identity's NMI assigned the pod no
    // identity — "no AzureAssignedIdentity found for pod:<ns>/<pod>", "getting assigned
    // identities for pod <ns>/<pod> in CREATED state failed after 16 attempts" — as for a pod
    // no AzureIdentityBinding selects by its aadpodidbinding label (rules::pod_identity).
    if has!(
        m,
        "AzureAssignedIdentity",
        "getting assigned identities for pod"
    ) {
        return Some(Code::KVC304);
    }
    // Key Vault refusing a token issued by another tenant.
    if token!(m, "AKV10032") {
        return Some(Code::KVC406);
    }
    // Not found (90002), or no tenant identifier at all (900023).
    // The grant refused over a tenant-independent endpoint (/common, /consumers): the tenant
    // asked is no one tenant, a tenant cause as the two above (`identity_proof` folds it into
    // KVC302's alias, audit UUU-honest).
    if token!(m, "AADSTS90002")
        || token!(m, "AADSTS900023")
        || token!(m, "AADSTS90010")
        || token!(m, "AADSTS9001023")
    {
        return Some(Code::KVC404);
    }
    // Key Vault data plane.
    if has!(
        m,
        "ForbiddenByFirewall",
        "ForbiddenByConnection",
        "Client address is not authorized",
        "Public network access is disabled"
    ) {
        return Some(Code::KVC505);
    }
    if has!(
        m,
        "SecretDisabled",
        "KeyDisabled",
        "CertificateDisabled",
        "is not allowed on a disabled"
    ) {
        return Some(Code::KVC602);
    }
    if has!(
        m,
        "ForbiddenByRbac",
        "Caller is not authorized to perform action",
        "DeniedWithNoValidRBAC",
        // An access policy without get, or without list (objectVersionHistory): the phrase
        // is Key Vault's for every object type and permission (FACTS §3).
        " permission on key vault '"
    ) {
        return Some(Code::KVC501);
    }
    if has!(
        m,
        "SecretNotFound",
        "KeyNotFound",
        "CertificateNotFound",
        "was not found in this key vault"
    ) {
        return Some(Code::KVC601);
    }
    // No answer from the vault at all (DNS, deadline; FACTS §11): `rules::resolve` tells a
    // name no vault has (KVC506) from a vault the nodes cannot reach.
    if unanswered(message) {
        return Some(Code::KVC505);
    }
    if token!(m, "429") || has!(m, "Too Many Requests") {
        return Some(Code::KVC704);
    }
    // CSI driver / kubelet wiring. The kubelet names the driver the volume asks for: another
    // name than the Secrets Store driver's is the volume's typo (KVC103), not the driver
    // missing from the node (audit XB-facts; FACTS §3).
    if fields::unregistered_driver(message).is_some_and(|d| d != crate::chain::index::DRIVER) {
        return Some(Code::KVC103);
    }
    if has!(
        m,
        "not found in the list of registered CSI drivers",
        // No provider on the node: at mount (NodePublishVolume, v1.5 and v1.6: `error
        // connecting to provider "azure": provider not found`), and the ≤v1.5 rotation
        // event's words (FACTS §3).
        "error connecting to provider",
        "failed to lookup provider client",
        "FailedToLookupProviderGRPCClient"
    ) {
        return Some(Code::KVC104);
    }
    // The provider answered with more than the driver's gRPC client takes (FACTS §3: ">4 MiB";
    // [D] provider_client.go isMaxRecvMsgSizeError, which leaves out the machine's own limit).
    if has!(m, "received message larger than max")
        && !message.contains("larger than max length allowed on current machine")
    {
        return Some(Code::KVC708);
    }
    // The driver's first mount failing at its SecretProviderClassPodStatus write because the
    // kind is not served ([D] nodeserver.go; controller-runtime's RESTMapper answers `no
    // matches for kind`, an API server that dropped the CRD after discovery `the server could
    // not find the requested resource`): the CRD is missing (KVC709).
    if has!(m, "failed to create secret provider class pod status")
        && has!(
            m,
            "no matches for kind",
            "the server could not find the requested resource"
        )
    {
        return Some(Code::KVC709);
    }
    // The driver writing the provider's files: one object's file where another's versions
    // need a directory of that name ([D] writePayloadToDir, `mkdir …: not a directory` or
    // `open …: is a directory`), KVC706's clash that fails the mount.
    if has!(m, "failed to mount secrets store objects")
        && has!(m, ": not a directory", ": is a directory")
    {
        return Some(Code::KVC706);
    }
    if has!(m, "Readonly is not true in request") {
        return Some(Code::KVC103);
    }
    if has!(
        m,
        // "… not found" (workload identity) and identity binding's "… are required for
        // identity binding" ([P] v1.8.2 buildAuthConfig): kubelet passed no token at all.
        "service account tokens",
        "token for audience api://AzureADTokenExchange not found",
        "token for audience api://AKSIdentityBinding not found"
    ) {
        return Some(Code::KVC105);
    }
    if has!(m, "failed to get secretproviderclass")
        || (has!(m, "secretproviderclasses.secrets-store.csi.x-k8s.io") && has!(m, "not found"))
    {
        return Some(Code::KVC101);
    }
    // Provider parameter validation.
    if has!(
        m,
        "only one identity mode can be enabled",
        "keyvaultName is not provided",
        "tenantId is not provided",
        "Invalid vault name",
        "nodePublishSecretRef secret is not set",
        "could not find clientid in secrets",
        "could not find clientsecret in secrets",
        "There is no cloud environment matching",
        "clientID is required for identity binding",
        // The service-principal Secret itself is missing (kubelet at mount, the rotation
        // reconciler later): the credential the parameters choose is not there.
        "fetching NodePublishSecretRef",
        "failed to get node publish secret",
        // A boolean parameter (usePodIdentity, useVMManagedIdentity, useAzureTokenProxy) that
        // strconv.ParseBool refuses (FACTS §5).
        "strconv.ParseBool: parsing"
    ) {
        return Some(Code::KVC302);
    }
    if has!(
        m,
        "objects is not set",
        "Invalid vaultObjectTypes",
        "invalid objectFormat",
        "PFX format only supported",
        "objectEncoding only supported",
        // An encoding the provider does not know (its validation, beside objectFormat's).
        "invalid objectEncoding",
        "file name must not contain",
        // An absolute objectAlias or objectName (FACTS §5: relative, [P] validateFileName).
        "file name must be a relative path",
        // The provider's, for the list and for one item (v1.4 to v1.8.2 parseObjects).
        "failed to yaml unmarshal objects",
        "unmarshal failed for keyVaultObjects"
    ) {
        return Some(Code::KVC705);
    }
    None
}

/// A follow-up kubelet message that restates an earlier failure without a cause.
pub fn is_followup(message: &str) -> bool {
    let m = message.as_bytes();
    phrase!("Unable to attach or mount volumes")
        .find(m)
        .is_some()
        && phrase!("timed out waiting for the condition")
            .find(m)
            .is_some()
}

/// Whether this event reason belongs to the mount / sync machinery kvchain reads.
pub fn is_relevant_reason(reason: &str) -> bool {
    matches!(
        reason,
        "FailedMount"
            | "FailedToCreateSecret"
            | "MountRotationFailed"
            | "SecretRotationFailed"
            | "FailedScheduling"
    ) || is_success_reason(reason)
}

/// ≤v1.5 rotation successes: not findings, but they make older failures history.
pub fn is_success_reason(reason: &str) -> bool {
    matches!(reason, "MountRotationComplete" | "SecretRotationComplete")
}

/// Code for a whole event: the message decides, the reason supplies a default for driver
/// sync failures (`FailedToCreateSecret` with no better-known cause is KVC806).
pub fn classify_event(reason: &str, message: &str) -> Option<Code> {
    if is_success_reason(reason) {
        return None;
    }
    // The scheduler's reasons per node are not mount errors, whatever words they share.
    if reason == "FailedScheduling" {
        return Some(Code::KVC107);
    }
    classify(message).or(match reason {
        "FailedToCreateSecret" | "SecretRotationFailed" => Some(Code::KVC806),
        // Pods not created for another reason (webhook denial, quota…): the pod link.
        "FailedCreate" => Some(Code::KVC106),
        _ => None,
    })
}

/// Every literal [`classify`] looks for (at most 128: one bit each): one Aho-Corasick pass over
/// a message tells which occur, instead of up to sixty substring searches (each event of every
/// chain).
const NEEDLES: [&str; 81] = [
    " permission on key vault '",
    "429",
    "AADSTS700016",
    "AADSTS7000215",
    "AADSTS7000222",
    "AADSTS70021",
    "AADSTS700211",
    "AADSTS700213",
    "AADSTS7002138",
    "AADSTS90002",
    "AADSTS900023",
    "AADSTS90010",
    "AADSTS9001023",
    "AKV10032",
    "Caller is not authorized to perform action",
    "CertificateDisabled",
    "CertificateNotFound",
    "Client address is not authorized",
    "DeniedWithNoValidRBAC",
    "FailedToLookupProviderGRPCClient",
    "ForbiddenByConnection",
    "ForbiddenByFirewall",
    "ForbiddenByRbac",
    "Identity not found",
    "Invalid vault name",
    "Invalid vaultObjectTypes",
    "KeyDisabled",
    "KeyNotFound",
    "ManagedIdentityCredential",
    "No matching federated identity record found",
    "PFX format only supported",
    "Public network access is disabled",
    "Readonly is not true in request",
    "SecretDisabled",
    "SecretNotFound",
    "The secret operation failed with forbidden error",
    "There is no cloud environment matching",
    "Too Many Requests",
    "clientID is required for identity binding",
    "could not find clientid in secrets",
    "could not find clientsecret in secrets",
    "error connecting to provider",
    "error looking up service account",
    "failed to get cert data from file",
    "failed to get node publish secret",
    "failed to get secretproviderclass",
    "failed to lookup provider client",
    "failed to yaml unmarshal objects",
    "fetching NodePublishSecretRef",
    "file matching objectName",
    "file name must be a relative path",
    "file name must not contain",
    "invalid objectFormat",
    "is not allowed on a disabled",
    "keyvaultName is not provided",
    "nodePublishSecretRef secret is not set",
    "not found in the list of registered CSI drivers",
    "not found",
    "objectEncoding only supported",
    "invalid objectEncoding",
    "objects is not set",
    "only one identity mode can be enabled",
    "received message larger than max",
    "secretproviderclasses.secrets-store.csi.x-k8s.io",
    "service account tokens",
    "strconv.ParseBool: parsing",
    "syncSecret.enabled",
    "tenantId is not provided",
    "the requested identity isn't assigned to this resource",
    "token for audience api://AKSIdentityBinding not found",
    "token for audience api://AzureADTokenExchange not found",
    "unmarshal failed for keyVaultObjects",
    "was not found in this key vault",
    "failed to mount secrets store objects",
    ": not a directory",
    ": is a directory",
    "AzureAssignedIdentity",
    "getting assigned identities for pod",
    "failed to create secret provider class pod status",
    "no matches for kind",
    "the server could not find the requested resource",
];

fn needles() -> &'static AhoCorasick {
    static AC: OnceLock<AhoCorasick> = OnceLock::new();
    AC.get_or_init(|| AhoCorasick::new(NEEDLES).expect("fixed literal patterns"))
}

/// A message with the [`NEEDLES`] it contains worked out once.
struct Haystack<'m> {
    text: &'m str,
    /// Bit `i` set: `NEEDLES[i]` occurs in `text`.
    found: u128,
}

impl<'m> Haystack<'m> {
    fn of(text: &'m str) -> Self {
        let found = needles()
            .find_overlapping_iter(text)
            .fold(0u128, |bits, m| bits | 1 << m.pattern().as_usize());
        Haystack { text, found }
    }

    /// Whether any needle of `bits` ([`bit`]s or'ed together) occurs.
    fn any(&self, bits: u128) -> bool {
        self.found & bits != 0
    }
}

/// The bit of `needle` in [`Haystack::found`], worked out at compile time by [`has!`] and
/// [`token!`]: a needle missing from [`NEEDLES`] fails the build, not the search.
const fn bit(needle: &str) -> u128 {
    let mut i = 0;
    while i < NEEDLES.len() {
        if same(NEEDLES[i].as_bytes(), needle.as_bytes()) {
            return 1 << i;
        }
        i += 1;
    }
    panic!("not one of NEEDLES")
}

const fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// `needle` present with no alphanumeric character glued to either side (so `AADSTS70021`
/// does not match `AADSTS700211`, and `429` does not match inside a version id).
fn has_token(m: &Haystack, bit: u128, needle: &str) -> bool {
    if !m.any(bit) {
        return false;
    }
    let m = m.text;
    let bytes = m.as_bytes();
    m.match_indices(needle).any(|(i, _)| {
        let before = i.checked_sub(1).map(|j| bytes[j]);
        let after = bytes.get(i + needle.len()).copied();
        !before.is_some_and(|b| b.is_ascii_alphanumeric())
            && !after.is_some_and(|b| b.is_ascii_alphanumeric())
    })
}

#[cfg(test)]
mod tests;
