//! Whether the certificate behind a certificate-backed secret has an exportable key (audit
//! GGG-A5 on live clusters). A non-exportable key is not part of the secret's value, which then
//! holds the certificate alone, so a `kubernetes.io/tls` entry reading tls.key from it is never
//! built (KVC804). Only the certificate's policy says so: `GET {vault}/certificates/{name}/policy`
//! answers a CertificatePolicy whose `key_props.exportable` is that flag (Key Vault REST
//! GetCertificatePolicy; shared/upstream/examples/azure/keyvault/2025-06-01/GetCertificate-
//! example.json shows the same policy inline). It needs the `certificates/get` permission
//! (access policies) or `Microsoft.KeyVault/vaults/certificates/read` (RBAC: Key Vault Reader
//! has it through `vaults/*/read`, FACTS §8); a caller with secret permissions only is refused,
//! so a refusal leaves the flag unknown with Azure's reason and never the object.
//!
//! The backing secret and its certificate share one name: Key Vault creates the secret (and
//! key) under the certificate's name (the example's `sid`/`kid`).

use azure_core::http::Method;
use serde_json::Value;

use super::cloud::CloudEndpoints;
use super::dataplane::KEYVAULT_API;
use super::http::Http;
use crate::snapshot::VaultObject;

/// Fill `object.key_exportable` from the policy of certificate `name` when `object` is a
/// secret that backs one; else leave it. On any failure the flag stays `None` and
/// `key_exportable_unknown` says why.
pub async fn fill(
    http: &Http,
    ep: &CloudEndpoints,
    vault_url: &str,
    name: &str,
    object: &mut VaultObject,
) {
    if !object.backs_certificate {
        return;
    }
    let url = format!("{vault_url}/certificates/{name}/policy?api-version={KEYVAULT_API}");
    match http.json(&ep.vault_scope, Method::Get, &url, None).await {
        Ok(policy) => match exportable(&policy) {
            Some(e) => object.key_exportable = Some(e),
            None => {
                object.key_exportable_unknown = Some(format!(
                    "certificate {name}'s policy has no key_props.exportable"
                ))
            }
        },
        Err(e) => {
            object.key_exportable_unknown = Some(format!(
                "cannot read certificate {name}'s policy: {}",
                e.reason
            ))
        }
    }
}

/// `key_props.exportable` of a CertificatePolicy body.
fn exportable(policy: &Value) -> Option<bool> {
    policy
        .get("key_props")
        .and_then(|k| k.get("exportable"))
        .and_then(Value::as_bool)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn exportable_is_read_from_key_props() {
        let policy = json!({"id": "https://v.vault.azure.net/certificates/c/policy",
            "key_props": {"exportable": false, "kty": "RSA-HSM"}});
        assert_eq!(exportable(&policy), Some(false));
        assert_eq!(exportable(&json!({"key_props": {}})), None);
    }
}
