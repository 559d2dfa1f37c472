//! Key Vault data plane: per object, its version list with attributes — never a value.
//! Secrets go through the SDK's `SecretClient` (list versions = metadata only; `get_secret`
//! is never called here); keys and certificates through REST on the same transport.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use azure_security_keyvault_secrets::models::SecretProperties;
use azure_security_keyvault_secrets::{SecretClient, SecretClientOptions};
use futures::TryStreamExt;
use jiff::Timestamp;
use serde_json::Value;

use super::cloud::CloudEndpoints;
use super::http::{FetchError, Http};
use crate::snapshot::{ObjectType, ObjectVersion, VaultObject};

/// A GA data-plane version every cloud serves (sovereign clouds trail the newest previews).
pub const KEYVAULT_API: &str = "7.5";
/// 25 versions a page (the service maximum), 4 pages: 100 versions. Key Vault lists versions
/// in no date order (by version id), so a longer list is not read at all rather than judged
/// from a part ("latest" could be on a page not read): the object is then unknown.
pub(super) const MAX_RESULTS: u32 = 25;
pub(super) const MAX_PAGES: usize = 4;

/// Key Vault object names: 1–127 of `[0-9a-zA-Z-]`. Checked before the name goes into a path.
pub fn is_valid_object_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 127
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// SecretClients by vault URL, so the Key Vault auth challenge happens once per vault.
#[derive(Default)]
pub struct SecretClients(Mutex<HashMap<String, Arc<SecretClient>>>);

impl SecretClients {
    pub(super) fn get(
        &self,
        http: &Http,
        vault_url: &str,
    ) -> Result<Arc<SecretClient>, FetchError> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = map.get(vault_url) {
            return Ok(c.clone());
        }
        let client = SecretClient::new(
            vault_url,
            http.credential(),
            Some(SecretClientOptions {
                api_version: KEYVAULT_API.to_string(),
                client_options: http.client_options(),
                ..Default::default()
            }),
        )
        .map_err(|e| FetchError::from_core(&e))?;
        let client = Arc::new(client);
        map.insert(vault_url.to_string(), client.clone());
        Ok(client)
    }
}

/// Look one object up. `Ok(None)` ⇒ it does not exist (404 or no versions).
pub async fn object(
    http: &Http,
    clients: &SecretClients,
    ep: &CloudEndpoints,
    vault: &str,
    object_type: ObjectType,
    name: &str,
) -> Result<Option<VaultObject>, FetchError> {
    if !is_valid_object_name(name) {
        return Err(FetchError::other(format!(
            "{name:?} is not a valid Key Vault object name (1-127 letters, digits, '-')"
        )));
    }
    let vault_url = ep.vault_url(vault);
    let result = match object_type {
        ObjectType::Secret => {
            let mut read = secret_versions(http, clients, &vault_url, name).await;
            // A secret backing a certificate: whether its value holds the private key is the
            // certificate policy's (audit GGG-A5), read beside the version list.
            if let Ok(o) = &mut read {
                super::cert_policy::fill(http, ep, &vault_url, name, o).await;
            }
            read
        }
        ObjectType::Key | ObjectType::Cert => {
            let url = format!(
                "{vault_url}/{}/{name}/versions?api-version={KEYVAULT_API}&maxresults={MAX_RESULTS}",
                object_type.collection()
            );
            http.list(&ep.vault_scope, &url, MAX_PAGES)
                .await
                .map(|items| rest_object(object_type, &items))
        }
    };
    match result {
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
        Ok(o) if o.versions.is_empty() => Ok(None),
        Ok(o) => Ok(Some(o)),
    }
}

fn too_many() -> FetchError {
    FetchError::other(format!(
        "more than {} versions, not all read: which is the latest is not determined",
        MAX_PAGES * MAX_RESULTS as usize
    ))
}

async fn secret_versions(
    http: &Http,
    clients: &SecretClients,
    vault_url: &str,
    name: &str,
) -> Result<VaultObject, FetchError> {
    let client = clients.get(http, vault_url)?;
    let host = vault_url.trim_start_matches("https://").to_string();
    let props = http
        .guarded(&host, || {
            let client = client.clone();
            async move {
                let pager = client
                    .list_secret_properties_versions(
                        name,
                        Some(
                            azure_security_keyvault_secrets::models::SecretClientListSecretPropertiesVersionsOptions {
                                maxresults: Some(MAX_RESULTS as i32),
                                ..Default::default()
                            },
                        ),
                    )
                    .map_err(|e| FetchError::from_core(&e))?;
                let mut pages = pager.into_pages();
                let mut all: Vec<SecretProperties> = Vec::new();
                // One page past the cap: whether the list goes on.
                for read in 0..=MAX_PAGES {
                    match pages.try_next().await {
                        Ok(Some(_)) if read == MAX_PAGES => return Err(too_many()),
                        Ok(Some(page)) => {
                            let model = page.into_model().map_err(|e| FetchError::from_core(&e))?;
                            all.extend(model.value);
                        }
                        Ok(None) => break,
                        Err(e) => return Err(FetchError::from_core(&e)),
                    }
                }
                Ok(all)
            }
        })
        .await?;
    Ok(secret_object(&props))
}

fn ts(dt: Option<azure_core::time::OffsetDateTime>) -> Option<Timestamp> {
    dt.and_then(|d| Timestamp::from_second(d.unix_timestamp()).ok())
}

fn version_of(id: &str) -> String {
    id.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Newest first: Key Vault's "latest" is the most recently created version.
fn newest_first(versions: &mut [ObjectVersion]) {
    versions.sort_by(|a, b| {
        b.created
            .cmp(&a.created)
            .then_with(|| a.version.cmp(&b.version))
    });
}

pub fn secret_object(props: &[SecretProperties]) -> VaultObject {
    let mut rows: Vec<(ObjectVersion, &SecretProperties)> = props
        .iter()
        .map(|p| {
            let a = p.attributes.as_ref();
            (
                ObjectVersion {
                    version: version_of(p.id.as_deref().unwrap_or_default()),
                    enabled: a.and_then(|a| a.enabled).unwrap_or(true),
                    created: ts(a.and_then(|a| a.created)),
                    expires: ts(a.and_then(|a| a.expires)),
                    not_before: ts(a.and_then(|a| a.not_before)),
                    fingerprint: None,
                },
                p,
            )
        })
        .collect();
    rows.sort_by(|(a, _), (b, _)| {
        b.created
            .cmp(&a.created)
            .then_with(|| a.version.cmp(&b.version))
    });
    let newest = rows.first().map(|(_, p)| *p);
    VaultObject {
        content_type: newest.and_then(|p| p.content_type.clone()),
        backs_certificate: newest.and_then(|p| p.managed).unwrap_or(false),
        key_exportable: None,
        key_exportable_unknown: None,
        versions: rows.into_iter().map(|(v, _)| v).collect(),
        latest_fingerprint: None,
    }
}

pub(super) fn unix(v: Option<&Value>) -> Option<Timestamp> {
    v.and_then(Value::as_i64)
        .and_then(|s| Timestamp::from_second(s).ok())
}

/// Keys list `kid`, certificates `id`; both carry `attributes` like secrets.
pub fn rest_object(object_type: ObjectType, items: &[Value]) -> VaultObject {
    let id_field = if object_type == ObjectType::Key {
        "kid"
    } else {
        "id"
    };
    let mut versions: Vec<ObjectVersion> = items
        .iter()
        .map(|i| {
            let a = i.get("attributes");
            ObjectVersion {
                version: version_of(i.get(id_field).and_then(Value::as_str).unwrap_or_default()),
                enabled: a
                    .and_then(|a| a.get("enabled"))
                    .and_then(Value::as_bool)
                    .unwrap_or(true),
                created: unix(a.and_then(|a| a.get("created"))),
                expires: unix(a.and_then(|a| a.get("exp"))),
                not_before: unix(a.and_then(|a| a.get("nbf"))),
                fingerprint: None,
            }
        })
        .collect();
    newest_first(&mut versions);
    VaultObject {
        versions,
        content_type: None,
        backs_certificate: false,
        key_exportable: None,
        key_exportable_unknown: None,
        latest_fingerprint: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn object_names_cannot_escape_the_path() {
        assert!(is_valid_object_name("db-password"));
        assert!(!is_valid_object_name("../keys/x"));
        assert!(!is_valid_object_name(""));
    }

    #[test]
    fn key_versions_sort_newest_first() {
        let o = rest_object(
            ObjectType::Key,
            &[
                json!({"kid": "https://v.vault.azure.net/keys/k/old", "attributes": {"enabled": true, "created": 100}}),
                json!({"kid": "https://v.vault.azure.net/keys/k/new", "attributes": {"enabled": false, "created": 200, "exp": 300}}),
            ],
        );
        assert_eq!(o.latest().unwrap().version, "new");
        assert!(!o.latest().unwrap().enabled);
        assert_eq!(
            o.latest().unwrap().expires,
            Timestamp::from_second(300).ok()
        );
    }
}
