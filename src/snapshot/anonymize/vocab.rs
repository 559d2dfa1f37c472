//! The fixed vocabulary of the chain: audiences, driver and API group names, Azure resource
//! types, Key Vault data actions and URL paths, well-known label domains. A name a user gave
//! (a Deployment `api`, a namespace `secrets`) may equal a word of it; the anonymizer must then
//! replace the name where it stands as a name and never inside these phrases, or the
//! anonymized file would fail against the constants the rules compare with (audit QQ1:
//! `api://AzureADTokenExchange` became `app-…://AzureADTokenExchange`, KVC105/KVC403).

/// Phrases never rewritten, matched case-insensitively wherever they occur in a string. The
/// slashes around path words keep the protection to the path: a pod `providers-7d9f` is a name.
const PHRASES: &[&str] = &[
    "api://AzureADTokenExchange",
    "api://AKSIdentityBinding",
    "system:serviceaccount:",
    "secrets-store.csi.k8s.io",
    "secrets-store.csi.x-k8s.io",
    "secrets-store-csi-driver",
    "secrets-store-provider-azure",
    "csi-secrets-store",
    "secretproviderclasses",
    "secretproviderclass",
    "kubernetes.io",
    "k8s.io",
    "azure.workload.identity",
    "azure-workload-identity",
    "reloader.stakater.com",
    "vault.azure.net",
    "vault.azure.cn",
    "vault.usgovcloudapi.net",
    "login.microsoftonline.com",
    "oic.prod-aks.azure.com",
    "tls.crt",
    "tls.key",
    "ca.crt",
    "/var/run/secrets/",
    "azure-identity-token",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_AUTHORITY_HOST",
    "/subscriptions/",
    "/resourceGroups/",
    "/providers/",
    "Microsoft.KeyVault/vaults/secrets/",
    "Microsoft.KeyVault/vaults/keys/",
    "Microsoft.KeyVault/vaults/certificates/",
    "Microsoft.KeyVault/vaults/",
    "Microsoft.ManagedIdentity/userAssignedIdentities/",
    "/federatedIdentityCredentials/",
    "Microsoft.Authorization/roleAssignments/",
    "Microsoft.Authorization/roleDefinitions/",
    "Microsoft.Management/managementGroups/",
    "/getSecret/action",
    "/readMetadata/action",
    "/secrets/",
    "/keys/",
    "/certificates/",
    "/deletedsecrets/",
];

/// JSON keys whose string values are vocabulary only (audiences, driver names, data actions,
/// kinds, types, states): no name is replaced there, only GUIDs.
pub(super) const VOCAB_KEYS: &[&str] = &[
    "audiences",
    "token_audiences",
    "driver",
    "data_actions",
    "not_data_actions",
    "role_name",
    "object_type",
    "object_type_raw",
    "content_type",
    "install",
    "principal_type",
    "involved_kind",
    "kind",
    "type",
    "state",
    "phase",
];

/// JSON keys whose whole subtree is vocabulary and GUIDs (an access policy's permission lists
/// are named `secrets`/`keys`/`certificates`, as a projected volume's Secret names are).
pub(super) const VOCAB_TREES: &[&str] = &["access_policies"];

/// Byte ranges of `s` that are vocabulary: every phrase above, and the scheme before `://`.
pub(super) fn protected(s: &str) -> Vec<(usize, usize)> {
    let lower = s.to_ascii_lowercase();
    let mut spans = Vec::new();
    for p in PHRASES {
        let p = p.to_ascii_lowercase();
        let mut from = 0;
        while let Some(i) = lower[from..].find(&p) {
            spans.push((from + i, from + i + p.len()));
            from += i + 1;
        }
    }
    let b = s.as_bytes();
    let mut from = 0;
    while let Some(i) = s[from..].find("://") {
        let end = from + i;
        let mut start = end;
        while start > 0 && (b[start - 1].is_ascii_alphanumeric() || b"+.-".contains(&b[start - 1]))
        {
            start -= 1;
        }
        spans.push((start, end + 3));
        from = end + 3;
    }
    spans
}

/// Whether `[start, end)` lies within a protected span: a name inside a phrase is the
/// phrase's word there. A name that only begins or ends with a phrase (an SPC
/// `secretproviderclass-db`) is still a name, and replaced.
pub(super) fn inside(spans: &[(usize, usize)], start: usize, end: usize) -> bool {
    spans.iter().any(|&(a, b)| a <= start && end <= b)
}
