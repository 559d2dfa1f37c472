//! Key Vault for actions: the rotation test writes a new secret version, reveal reads one.
//!
//! Built by [`AzureObserver::vault_access`](super::AzureObserver::vault_access), so actions use
//! the observer's credential, counting transport, per-vault clients and cloud table: one
//! connection to Azure, one request counter, one auth challenge per vault. Values read here
//! go straight into the write or into a [`Revealed`]; they are never logged or returned in a
//! message.

use std::sync::Arc;

use azure_security_keyvault_secrets::SecretClient;

use super::ObjectCache;
use super::cloud::{Cloud, Endpoints};
use super::dataplane::{SecretClients, is_valid_object_name};
use super::http::{FetchError, Http};
use crate::action::reveal::Revealed;
use crate::action::{ActionOutcome, keyvault};
use crate::snapshot::ObjectType;

/// Where a secret lives: the vault as the SecretProviderClass names it and its `cloudName`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VaultSecret {
    pub vault: String,
    /// SPC `cloudName` as written ("" ⇒ public cloud).
    pub cloud_name: String,
    pub object: String,
}

#[derive(Clone)]
pub struct VaultAccess {
    http: Arc<Http>,
    clients: Arc<SecretClients>,
    objects: Arc<ObjectCache>,
    endpoints: Endpoints,
}

impl VaultAccess {
    pub(super) fn new(
        http: Arc<Http>,
        clients: Arc<SecretClients>,
        objects: Arc<ObjectCache>,
        endpoints: Endpoints,
    ) -> Self {
        VaultAccess {
            http,
            clients,
            objects,
            endpoints,
        }
    }

    /// The cached client for the secret's vault, after checking that vault, cloud and object
    /// name are safe to put into a URL.
    fn client(&self, s: &VaultSecret) -> Result<(Cloud, Arc<SecretClient>), String> {
        if !super::is_valid_vault_name(&s.vault) {
            return Err(format!(
                "{:?} is not a valid vault name (3-24 letters, digits, '-')",
                s.vault
            ));
        }
        if !is_valid_object_name(&s.object) {
            return Err(format!(
                "{:?} is not a valid Key Vault object name (1-127 letters, digits, '-')",
                s.object
            ));
        }
        let cloud = Cloud::from_spc(&s.cloud_name)?;
        let url = self.endpoints.get(cloud).vault_url(&s.vault);
        let client = self.clients.get(&self.http, &url).map_err(|e| {
            format!(
                "cannot build a Key Vault client for {}: {}",
                s.vault, e.reason
            )
        })?;
        Ok((cloud, client))
    }

    /// The rotation test: a new version of the secret, re-stamped or `marker`. On success the
    /// observer's cached versions of the object are dropped, so its next pass sees the write.
    pub async fn rotate(
        &self,
        s: &VaultSecret,
        marker: bool,
        at: jiff::Timestamp,
    ) -> ActionOutcome {
        let (cloud, client) = match self.client(s) {
            Ok(c) => c,
            Err(message) => return ActionOutcome { ok: false, message },
        };
        let outcome = keyvault::rotate(&client, &s.vault, &s.object, marker, at).await;
        if outcome.ok {
            self.objects.forget(&(
                cloud,
                s.vault.to_ascii_lowercase(),
                ObjectType::Secret,
                s.object.clone(),
            ));
        }
        outcome
    }

    /// The latest version's value, for an explicit reveal.
    pub async fn reveal(&self, s: &VaultSecret) -> Result<Revealed, String> {
        let (_, client) = self.client(s)?;
        let (vault, object) = (&s.vault, &s.object);
        let secret = client
            .get_secret(object, None)
            .await
            .and_then(|r| r.into_model())
            .map_err(|e| {
                let why = FetchError::from_core(&e);
                match why.status {
                    Some(403) if why.reason.contains("SecretDisabled") => format!(
                        "the latest version of secret {object} in vault {vault} is disabled ({})",
                        why.reason
                    ),
                    Some(403) => format!(
                        "kvchain's Azure identity may not read secret {object} in vault {vault} ({}): reveal needs the Key Vault Secrets User role (RBAC vault) or secrets/get in an access policy",
                        why.reason
                    ),
                    Some(404) => format!("secret {object} not found in vault {vault}"),
                    _ => format!(
                        "reading secret {object} in vault {vault} failed: {}",
                        why.reason
                    ),
                }
            })?;
        secret
            .value
            .map(Revealed::new)
            .ok_or_else(|| format!("Key Vault returned no value for secret {object} in {vault}"))
    }
}
