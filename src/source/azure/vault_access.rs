//! Key Vault for actions: the rotation test writes a new secret version, reveal reads one,
//! and both can be asked about ahead of time ([`VaultAccess::permitted`]), judged on the
//! observer's vault rows and role assignments (see [`super::permissions`]).
//!
//! Built by [`AzureObserver::vault_access`](super::AzureObserver::vault_access), so actions use
//! the observer's credential, counting transport, per-vault clients and cloud table: one
//! connection to Azure, one request counter, one auth challenge per vault. Values read here
//! go straight into the write or into a [`Revealed`]; they are never logged or returned in a
//! message.

use std::sync::Arc;
use std::time::Duration;

use azure_security_keyvault_secrets::SecretClient;

use super::arm::{self, ARM_MAX_PAGES, AUTHORIZATION_API};
use super::cache::TtlCache;
use super::cloud::{Cloud, Endpoints};
use super::dataplane::{SecretClients, is_valid_object_name};
use super::http::{FetchError, Http};
use super::permissions::{self, Permissions, VaultNeed};
use super::{AssignmentCache, Fetched, ObjectCache, VaultCache};
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

/// What the observer already knows about vaults, for permission questions.
pub(super) struct Lookups {
    pub vaults: Arc<VaultCache>,
    pub assignments: Arc<AssignmentCache>,
    pub subscriptions: Vec<String>,
    pub refresh: Duration,
}

#[derive(Clone)]
pub struct VaultAccess {
    http: Arc<Http>,
    clients: Arc<SecretClients>,
    objects: Arc<ObjectCache>,
    endpoints: Endpoints,
    lookups: Arc<Lookups>,
    /// The caller's permissions by vault resource id, for the refresh interval.
    permissions: Arc<TtlCache<String, Fetched<Permissions>>>,
}

impl VaultAccess {
    pub(super) fn new(
        http: Arc<Http>,
        clients: Arc<SecretClients>,
        objects: Arc<ObjectCache>,
        endpoints: Endpoints,
        lookups: Lookups,
    ) -> Self {
        VaultAccess {
            http,
            clients,
            objects,
            endpoints,
            lookups: Arc::new(lookups),
            permissions: Arc::default(),
        }
    }

    /// May kvchain's identity do what `need` says on `vault`? `Err` only for a certain "no"
    /// (the reason names the missing permission); an unanswerable question (vault not found,
    /// permissions API refused or unreachable) is `Ok`, so the user is never blocked by it.
    pub async fn permitted(
        &self,
        vault: &str,
        cloud_name: &str,
        need: VaultNeed,
    ) -> Result<(), String> {
        if !super::is_valid_vault_name(vault) {
            return Ok(()); // the action itself says why
        }
        let Ok(cloud) = Cloud::from_spc(cloud_name) else {
            return Ok(());
        };
        let Some(row) = self.vault_row(cloud, vault).await else {
            return Ok(());
        };
        if !row.rbac {
            return permissions::judge_policies(&row.access_policies, vault, need);
        }
        if row.id.is_empty() {
            return Ok(());
        }
        let Ok(perms) = self.caller_permissions(cloud, &row.id).await else {
            return Ok(());
        };
        let verdict = permissions::judge_rbac(&perms, vault, need);
        let below = self
            .lookups
            .assignments
            .fresh(&row.id)
            .and_then(Result::ok)
            .is_some_and(|a| permissions::object_scoped(&a, &row.id));
        if below { Ok(()) } else { verdict }
    }

    /// The vault's Resource Graph row: the observer's, or looked up now when the observer has
    /// not got to it yet (the question may come before the first Azure pass ends).
    async fn vault_row(&self, cloud: Cloud, vault: &str) -> Option<arm::VaultRow> {
        let key = (cloud, vault.to_ascii_lowercase());
        let r = match self.lookups.vaults.fresh(&key) {
            Some(r) => r,
            None => {
                let ep = self.endpoints.get(cloud);
                let rows = arm::graph(
                    &self.http,
                    ep,
                    &self.lookups.subscriptions,
                    &arm::vaults_query([key.1.as_str()]),
                )
                .await;
                let r = rows.map(|rows| {
                    rows.iter()
                        .filter_map(arm::parse_vault)
                        .find(|v| v.name.eq_ignore_ascii_case(vault))
                });
                let ttl = super::ttl(self.lookups.refresh, &r);
                self.lookups.vaults.put(key, r.clone(), ttl);
                r
            }
        };
        r.ok().flatten()
    }

    /// ARM's "Permissions - List For Resource" at the vault: the caller's effective actions.
    async fn caller_permissions(&self, cloud: Cloud, vault_id: &str) -> Fetched<Permissions> {
        let key = vault_id.to_ascii_lowercase();
        if let Some(r) = self.permissions.fresh(&key) {
            return r;
        }
        let ep = self.endpoints.get(cloud);
        let url = format!(
            "{}{vault_id}/providers/Microsoft.Authorization/permissions?api-version={AUTHORIZATION_API}",
            ep.arm
        );
        let r = self
            .http
            .list(&ep.arm_scope, &url, ARM_MAX_PAGES)
            .await
            .map(|items| permissions::parse(&items));
        let ttl = super::ttl(self.lookups.refresh, &r);
        self.permissions.put(key, r.clone(), ttl);
        r
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

    /// The rotation test: a new version of the secret, re-stamped, a marker or restored. On success the
    /// observer's cached versions of the object are dropped, so its next pass sees the write.
    pub async fn rotate(
        &self,
        s: &VaultSecret,
        value: keyvault::NewValue<'_>,
        at: jiff::Timestamp,
    ) -> ActionOutcome {
        let (cloud, client) = match self.client(s) {
            Ok(c) => c,
            Err(message) => {
                return ActionOutcome {
                    ok: false,
                    message,
                    audit: None,
                };
            }
        };
        let outcome = super::rotate::rotate(&client, &s.vault, &s.object, value, at).await;
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

    /// The value of `version` (None: the latest), for an explicit reveal.
    pub async fn reveal(&self, s: &VaultSecret, version: Option<&str>) -> Result<Revealed, String> {
        let (_, client) = self.client(s)?;
        let (vault, object) = (&s.vault, &s.object);
        let options = version.map(|v| {
            azure_security_keyvault_secrets::models::SecretClientGetSecretOptions {
                secret_version: Some(v.to_string()),
                ..Default::default()
            }
        });
        let secret = client
            .get_secret(object, options)
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
