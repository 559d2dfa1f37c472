//! The observer's look-ups, each through its cache: Resource Graph rows (identities,
//! vaults), federated credentials, role assignments and definitions, whether a vault name is
//! in use, Key Vault objects and a vault's soft-deleted ones.

use super::*;

impl AzureObserver {
    /// One Resource Graph query for every client id not cached.
    pub(super) async fn refresh_identities(&self, cloud: Cloud, client_ids: &[String]) {
        self.refresh_rows(
            &self.identities,
            cloud,
            client_ids,
            |keys| arm::identities_query(keys.iter().copied()),
            |row, c| arm::parse_identity(row).filter(|i| i.client_id.eq_ignore_ascii_case(c)),
        )
        .await;
    }

    /// One Resource Graph query for every vault of `cloud` not cached.
    pub(super) async fn refresh_vaults(&self, cloud: Cloud, names: &[String]) {
        self.refresh_rows(
            &self.vaults,
            cloud,
            names,
            |keys| arm::vaults_query(keys.iter().copied()),
            |row, n| arm::parse_vault(row).filter(|v| v.name.eq_ignore_ascii_case(n)),
        )
        .await;
    }

    /// Looks up every key of `cloud` not fresh in `cache` with one Resource Graph query, and
    /// caches each key's row (`parse` picks it out of the answer) or the query's error.
    pub(super) async fn refresh_rows<T: Clone>(
        &self,
        cache: &TtlCache<(Cloud, String), Fetched<Option<T>>>,
        cloud: Cloud,
        keys: &[String],
        query: impl Fn(&[&str]) -> String,
        parse: impl Fn(&serde_json::Value, &str) -> Option<T>,
    ) {
        let stale: Vec<&str> = keys
            .iter()
            .filter(|k| cache.fresh(&(cloud, (*k).clone())).is_none())
            .map(String::as_str)
            .collect();
        if stale.is_empty() {
            return;
        }
        let ep = self.endpoints.get(cloud);
        let result = arm::graph(&self.http, ep, &self.subscriptions, &query(&stale)).await;
        for k in stale {
            let r = match &result {
                Ok(rows) => Ok(rows.iter().find_map(|row| parse(row, k))),
                Err(e) => Err(e.clone()),
            };
            let ttl = self.ttl(&r);
            cache.put((cloud, k.to_string()), r, ttl);
        }
    }

    pub(super) async fn fetch_fics(
        &self,
        cloud: Cloud,
        identity_id: &str,
    ) -> Fetched<Vec<FederatedCredentialObs>> {
        if let Some(r) = self.fics.fresh(&identity_id.to_string()) {
            return r;
        }
        let r =
            arm::federated_credentials(&self.http, self.endpoints.get(cloud), identity_id).await;
        self.fics
            .put(identity_id.to_string(), r.clone(), self.ttl(&r));
        r
    }

    pub(super) async fn fetch_assignments(
        &self,
        cloud: Cloud,
        vault_id: &str,
    ) -> Fetched<Vec<AssignmentRow>> {
        if let Some(r) = self.assignments.fresh(&vault_id.to_string()) {
            return r;
        }
        let r = arm::role_assignments(&self.http, self.endpoints.get(cloud), vault_id).await;
        self.assignments
            .put(vault_id.to_string(), r.clone(), self.ttl(&r));
        r
    }

    /// The principal's assignments in a subscription (cached beside the vaults' listings,
    /// under a key no vault id has).
    pub(super) async fn fetch_principal_assignments(
        &self,
        cloud: Cloud,
        subscription: &str,
        principal_id: &str,
    ) -> Fetched<Vec<AssignmentRow>> {
        let key = format!(
            "/subscriptions/{subscription}?principalId={}",
            principal_id.to_ascii_lowercase()
        );
        if let Some(r) = self.assignments.fresh(&key) {
            return r;
        }
        let r = arm::principal_role_assignments(
            &self.http,
            self.endpoints.get(cloud),
            subscription,
            principal_id,
        )
        .await;
        self.assignments.put(key, r.clone(), self.ttl(&r));
        r
    }

    /// Whether a vault holds `name` (cached); not asked without a subscription to ask in.
    pub(super) async fn fetch_name_in_use(
        &self,
        cloud: Cloud,
        subscription: Option<&str>,
        name: &str,
    ) -> Fetched<bool> {
        let key = (cloud, name.to_ascii_lowercase());
        if let Some(r) = self.names_in_use.fresh(&key) {
            return r;
        }
        let Some(sub) = subscription else {
            return Err(FetchError::other("no subscription known to ask in"));
        };
        let r = arm::vault_name_in_use(&self.http, self.endpoints.get(cloud), sub, name).await;
        self.names_in_use.put(key, r.clone(), self.ttl(&r));
        r
    }

    pub(super) async fn fetch_role_def(&self, cloud: Cloud, id: &str) {
        if self.role_defs.fresh(&id.to_string()).is_some() {
            return;
        }
        let r = arm::role_definition(&self.http, self.endpoints.get(cloud), id).await;
        self.role_defs.put(id.to_string(), r.clone(), self.ttl(&r));
    }

    /// The soft-deleted objects of type `t` of `vault`, cached like an object; None when the
    /// vault was not found or the listing failed (the rule then says both ways back).
    pub(super) async fn fetch_deleted(
        &self,
        vault: Option<&(String, VaultLookup)>,
        t: ObjectType,
    ) -> Option<Vec<DeletedObjectObs>> {
        let (name, Ok((cloud, Ok(Some(_))))) = vault? else {
            return None;
        };
        let key = (*cloud, name.to_ascii_lowercase(), t);
        let r = match self.deleted.fresh(&key) {
            Some(r) => r,
            None => {
                let r = soft_deleted::list(&self.http, self.endpoints.get(*cloud), name, t).await;
                self.deleted.put(key, r.clone(), self.ttl(&r));
                r
            }
        };
        r.ok()
    }

    pub(super) async fn fetch_object(
        &self,
        vault: Option<&(String, VaultLookup)>,
        object_type: ObjectType,
        name: &str,
    ) -> VaultObjectObs {
        let vault_name = vault.map(|(n, _)| n.clone()).unwrap_or_default();
        let obs = |state| VaultObjectObs {
            vault: vault_name.clone(),
            object_type,
            name: name.to_string(),
            state,
        };
        let cloud = match vault.map(|(_, r)| r) {
            None => return obs(Observed::unknown("vault not observed")),
            Some(Err(reason)) => return obs(Observed::unknown(reason.clone())),
            // Resource Graph answered and has no such vault: the data plane would only fail
            // DNS, so it is not asked.
            Some(Ok((_, Ok(None)))) => {
                return obs(Observed::unknown(format!(
                    "vault {vault_name} not found in the subscriptions visible to kvchain"
                )));
            }
            // Found, or ARM could not tell: the data plane may still answer.
            Some(Ok((c, _))) => *c,
        };
        let key = (
            cloud,
            vault_name.to_ascii_lowercase(),
            object_type,
            name.to_string(),
        );
        let r = match self.objects.fresh(&key) {
            Some(r) => r,
            None => {
                let r = dataplane::object(
                    &self.http,
                    &self.secret_clients,
                    self.endpoints.get(cloud),
                    &vault_name,
                    object_type,
                    name,
                )
                .await;
                self.objects.put(key, r.clone(), self.ttl(&r));
                r
            }
        };
        obs(match r {
            Ok(o) => Observed::Known(o),
            Err(e) => Observed::unknown(format!(
                "cannot read {} {name} in {vault_name}: {}",
                object_type.as_str(),
                e.reason
            )),
        })
    }
}
