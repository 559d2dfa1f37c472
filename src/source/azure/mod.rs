//! The Azure half of a live snapshot: ARM (identities, federated credentials, vaults, role
//! assignments) and the Key Vault data plane (object properties and versions, never values).
//!
//! Requests scale with distinct identities, vaults and objects, never with pods: one Resource
//! Graph query for all identities and one per cloud for all vaults, then one call per identity
//! (FICs), per vault (role assignments) and per object (versions). Every result — errors
//! included — is cached for the refresh interval, so a second observe within it makes no call.

mod arm;
mod assemble;
mod cache;
mod cert_policy;
pub mod cloud;
pub mod credential;
mod dataplane;
mod fetch;
pub mod http;
pub mod login_cloud;
pub mod login_error;
pub mod permissions;
mod plan;
pub mod roles;
mod rotate;
mod soft_deleted;
pub mod vault_access;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use azure_core::credentials::TokenCredential;
use azure_core::http::HttpClient;
use futures::future::join_all;

use self::arm::{AssignmentRow, IdentityRow, VaultRow};
use self::cache::TtlCache;
use self::cloud::{Cloud, Endpoints};
use self::dataplane::SecretClients;
use self::http::{FetchError, Http};
use self::plan::Plan;
use self::plan::is_valid_vault_name;
pub use self::plan::{AzureWanted, wanted};
use self::roles::RoleDef;
pub use self::vault_access::VaultAccess;
use crate::snapshot::{
    AzureObs, DeletedObjectObs, FederatedCredentialObs, ObjectType, Observed, VaultObject,
    VaultObjectObs,
};
use crate::source::args::AzureArgs;

/// A connection to Azure with its caches. The live source owns one and calls [`observe`]
/// on every refresh; the caches make that cheap.
///
/// [`observe`]: AzureObserver::observe
pub struct AzureObserver {
    subscriptions: Vec<String>,
    refresh: Duration,
    endpoints: Endpoints,
    http: Arc<Http>,
    requests: Arc<AtomicU64>,
    throttled: Arc<AtomicU64>,
    /// Shared with [`VaultAccess`]: actions reuse the per-vault clients (one auth challenge).
    secret_clients: Arc<SecretClients>,
    identities: TtlCache<(Cloud, String), Fetched<Option<IdentityRow>>>,
    fics: TtlCache<String, Fetched<Vec<FederatedCredentialObs>>>,
    /// Shared with [`VaultAccess`]: permission questions need the vault's resource id and
    /// whether it uses RBAC or access policies.
    vaults: Arc<VaultCache>,
    /// Shared with [`VaultAccess`]: object-scope assignments make a vault-scope "no" uncertain.
    assignments: Arc<AssignmentCache>,
    role_defs: TtlCache<String, Fetched<RoleDef>>,
    /// Whether a vault name Resource Graph did not return is in use anywhere, by (cloud,
    /// lower-cased name).
    names_in_use: TtlCache<(Cloud, String), Fetched<bool>>,
    /// Shared with [`VaultAccess`], which forgets an object it has just written.
    objects: Arc<ObjectCache>,
    /// A vault's soft-deleted objects of one type, by (cloud, lower-cased vault, type): read
    /// only where an object the SPCs name was not found ([`soft_deleted`]).
    deleted: TtlCache<(Cloud, String, ObjectType), Fetched<Vec<DeletedObjectObs>>>,
}

type ObjectCache = TtlCache<ObjectKey, Fetched<Option<VaultObject>>>;
/// Vault rows by (cloud, lower-cased name).
type VaultCache = TtlCache<(Cloud, String), Fetched<Option<VaultRow>>>;
/// Role assignments by vault resource id.
type AssignmentCache = TtlCache<String, Fetched<Vec<AssignmentRow>>>;

type Fetched<T> = Result<T, FetchError>;
type ObjectKey = (Cloud, String, ObjectType, String);
/// A wanted vault: its cloud (or why it has none) and what Resource Graph said about it.
type VaultLookup = Result<(Cloud, Fetched<Option<VaultRow>>), String>;

/// Whether `cred` gets an ARM token in some cloud: the public cloud's first, then US
/// Government's and China's (FACTS §5: each cloud has its own Entra endpoint, and ARM its own
/// resource, `https://management.usgovcloudapi.net` …). A sovereign login (`az login` in that
/// cloud, a workload identity whose `AZURE_AUTHORITY_HOST` is its Entra) is refused the public
/// ARM resource (AADSTS500011), which is no missing credential (audit CC5). The public
/// cloud's error when none does; else the cloud that answered.
pub async fn probe(cred: &dyn TokenCredential, endpoints: &Endpoints) -> azure_core::Result<Cloud> {
    let first = match cred
        .get_token(&[endpoints.public.arm_scope.as_str()], None)
        .await
    {
        Ok(_) => return Ok(Cloud::Public),
        Err(e) => e,
    };
    for cloud in [Cloud::UsGovernment, Cloud::China] {
        let scope = endpoints.get(cloud).arm_scope.as_str();
        if cred.get_token(&[scope], None).await.is_ok() {
            return Ok(cloud);
        }
    }
    Err(first)
}

impl AzureObserver {
    /// Sets up credentials. `Err(reason)` means the Azure side will be unknown with that reason.
    pub async fn new(args: &AzureArgs) -> Result<Self, String> {
        if args.no_azure {
            return Err(crate::snapshot::gaps::AZURE_DISABLED.into());
        }
        let env = |k: &str| std::env::var(k).ok();
        let kind = credential::choose(env)?;
        let cred = credential::build(&kind, env)?;
        let endpoints = Endpoints::default();
        // Fail fast with a useful reason instead of one identical error per request later.
        // The token is cached by the credential, so this costs no extra login.
        let login = probe(cred.as_ref(), &endpoints)
            .await
            .map_err(|e| login_error::explain(&kind, &e.to_string()))?;
        // A read in another cloud than the login's then says so (audit CC5).
        let cred = Arc::new(login_cloud::InCloud::new(cred, login, endpoints.clone()));
        let transport = azure_core::http::new_http_client(None);
        Ok(Self::with_transport(transport, cred, endpoints, args))
    }

    /// Everything injected: tests pass an in-process transport and a fake credential.
    pub fn with_transport(
        transport: Arc<dyn HttpClient>,
        credential: Arc<dyn TokenCredential>,
        endpoints: Endpoints,
        args: &AzureArgs,
    ) -> Self {
        let requests = Arc::new(AtomicU64::new(0));
        let throttled = Arc::new(AtomicU64::new(0));
        let counted: Arc<dyn HttpClient> = Arc::new(http::CountingClient::new(
            transport,
            requests.clone(),
            throttled.clone(),
        ));
        AzureObserver {
            subscriptions: args.subscriptions.clone(),
            // A zero interval would defeat the request budget; one second is the floor.
            refresh: args.azure_refresh.max(Duration::from_secs(1)),
            endpoints,
            http: Arc::new(Http::new(counted, credential)),
            requests,
            throttled,
            secret_clients: Arc::default(),
            identities: TtlCache::new(),
            fics: TtlCache::new(),
            vaults: Arc::default(),
            assignments: Arc::default(),
            role_defs: TtlCache::new(),
            names_in_use: TtlCache::new(),
            objects: Arc::default(),
            deleted: TtlCache::new(),
        }
    }

    /// Key Vault access for actions (rotation test, reveal) on this observer's credential,
    /// transport and clients, so they count, authenticate and resolve clouds the same way.
    pub fn vault_access(&self) -> VaultAccess {
        VaultAccess::new(
            self.http.clone(),
            self.secret_clients.clone(),
            self.objects.clone(),
            self.endpoints.clone(),
            vault_access::Lookups {
                vaults: self.vaults.clone(),
                assignments: self.assignments.clone(),
                subscriptions: self.subscriptions.clone(),
                refresh: self.refresh,
            },
        )
    }

    /// How often the Azure side is re-read (`--azure-refresh`, at least one second).
    pub fn refresh_interval(&self) -> Duration {
        self.refresh
    }

    /// Azure requests sent so far (token requests of the credential excluded).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Azure requests answered 429 (throttled) so far.
    pub fn throttled(&self) -> u64 {
        self.throttled.load(Ordering::Relaxed)
    }

    /// How long a result stays cached: the refresh interval, or longer when Azure asked us to
    /// wait (429 Retry-After).
    fn ttl<T>(&self, r: &Fetched<T>) -> Duration {
        ttl(self.refresh, r)
    }

    /// Observe what `wanted` names. Never fails as a whole: parts become unknown with a reason.
    pub async fn observe(&self, wanted: &AzureWanted) -> AzureObs {
        let Plan {
            client_ids,
            vault_cloud,
            by_cloud,
            arm_cloud,
        } = Plan::new(wanted);

        // Phase 1: the Resource Graph look-ups (identities; vaults per cloud).
        let vault_lookups = join_all(
            by_cloud
                .iter()
                .map(|(cloud, names)| self.refresh_vaults(*cloud, names)),
        );
        tokio::join!(
            self.refresh_identities(arm_cloud, &client_ids),
            vault_lookups
        );

        let identities: Vec<(String, Fetched<Option<IdentityRow>>)> = client_ids
            .iter()
            .map(|c| {
                let r = self
                    .identities
                    .fresh(&(arm_cloud, c.clone()))
                    .unwrap_or_else(|| Err(FetchError::other("not looked up")));
                (c.clone(), r)
            })
            .collect();
        let vaults: Vec<(String, VaultLookup)> = vault_cloud
            .iter()
            .map(|(name, c)| {
                let r = c.clone().map(|c| {
                    let r = self
                        .vaults
                        .fresh(&(c, name.to_ascii_lowercase()))
                        .unwrap_or_else(|| Err(FetchError::other("not looked up")));
                    (c, r)
                });
                (name.clone(), r)
            })
            .collect();

        // Phase 2: per identity, per vault and per object, all bounded by the request gate.
        let found_identities: Vec<&IdentityRow> = identities
            .iter()
            .filter_map(|(_, r)| r.as_ref().ok().and_then(Option::as_ref))
            .collect();
        let found_vaults: BTreeMap<&str, (Cloud, &VaultRow)> = vaults
            .iter()
            .filter_map(|(n, r)| match r {
                Ok((c, Ok(Some(v)))) => Some((n.as_str(), (*c, v))),
                _ => None,
            })
            .collect();
        // A name Resource Graph did not return: in a subscription kvchain cannot search, or no
        // vault's at all. Key Vault names are global, so one question settles it (audit EE4),
        // asked in a subscription kvchain reads (`--subscription`, else a found vault's or
        // identity's).
        let subscription = (self.subscriptions.first().map(String::as_str))
            .or_else(|| {
                found_vaults
                    .values()
                    .find_map(|(_, v)| arm::subscription_of(&v.id))
            })
            .or_else(|| {
                found_identities
                    .iter()
                    .find_map(|i| arm::subscription_of(&i.id))
            });
        let unfound: Vec<(&str, Cloud)> = vaults
            .iter()
            .filter_map(|(n, r)| match r {
                Ok((c, Ok(None))) => Some((n.as_str(), *c)),
                _ => None,
            })
            .collect();
        let name_checks = join_all(
            unfound
                .iter()
                .map(|(n, c)| self.fetch_name_in_use(*c, subscription, n)),
        );
        let fic_fetches = join_all(
            found_identities
                .iter()
                .map(|i| self.fetch_fics(arm_cloud, &i.id)),
        );
        let assignment_fetches = join_all(
            found_vaults
                .values()
                .map(|(c, v)| self.fetch_assignments(*c, &v.id)),
        );
        // Each identity's assignments in each RBAC vault's subscription and in its own: a grant
        // at another resource group is in no vault's listing (`assemble::beside_vaults`), and
        // the one a user mistakes for the vault's is often the identity's own resource group.
        let vault_subscriptions: BTreeMap<&str, Cloud> = (found_vaults.values())
            .filter(|(_, v)| v.rbac)
            .filter_map(|(c, v)| Some((arm::subscription_of(&v.id)?, *c)))
            .collect();
        let principal_listings: BTreeSet<(Cloud, &str, &str)> = (found_identities.iter())
            .filter(|i| !i.principal_id.is_empty() && !vault_subscriptions.is_empty())
            .flat_map(|i| {
                let own = arm::subscription_of(&i.id).map(|sub| (arm_cloud, sub));
                (vault_subscriptions.iter().map(|(sub, c)| (*c, *sub)))
                    .chain(own)
                    .map(|(c, sub)| (c, sub, i.principal_id.as_str()))
            })
            .collect();
        let principal_fetches = join_all(
            (principal_listings.iter())
                .map(|(c, sub, p)| self.fetch_principal_assignments(*c, sub, p)),
        );
        // The first secret of each vault goes alone: it answers the Key Vault auth challenge
        // once for that vault's client, instead of every concurrent first request drawing
        // its own 401.
        let mut seen = BTreeSet::new();
        let (first, rest): (Vec<_>, Vec<_>) = wanted
            .objects
            .iter()
            .partition(|(v, t, _)| *t == ObjectType::Secret && seen.insert(v.as_str()));
        let vault_of = |name: &str| vaults.iter().find(|(n, _)| n == name);
        let object_fetches = async {
            let mut out = join_all(
                first
                    .iter()
                    .copied()
                    .map(|(v, t, name)| self.fetch_object(vault_of(v), *t, name)),
            )
            .await;
            out.extend(
                join_all(
                    rest.iter()
                        .copied()
                        .map(|(v, t, name)| self.fetch_object(vault_of(v), *t, name)),
                )
                .await,
            );
            // An object missing under the type the SPC asks may exist under another: a
            // wrong objectType (KVC601 says which). Asked only on a miss, so a healthy
            // chain costs no extra request; only what is found is kept (a look-up the SPC
            // never asks for is no gap in what kvchain read).
            let misses: Vec<(String, ObjectType, String)> = out
                .iter()
                .filter(|o| matches!(o.state, Observed::Known(None)))
                .flat_map(|o| {
                    [ObjectType::Secret, ObjectType::Key, ObjectType::Cert]
                        .into_iter()
                        .filter(move |&t| t != o.object_type)
                        .map(move |t| (o.vault.clone(), t, o.name.clone()))
                })
                .filter(|k| !wanted.objects.contains(k))
                .collect();
            out.extend(
                join_all(
                    misses
                        .iter()
                        .map(|(v, t, name)| self.fetch_object(vault_of(v), *t, name)),
                )
                .await
                .into_iter()
                .filter(|o| matches!(o.state, Observed::Known(Some(_)))),
            );
            // A name found under no type may be soft-deleted: its vault's listing says.
            let listings = soft_deleted::listings_for(&wanted.objects, &out);
            let deleted: BTreeMap<(String, ObjectType), Vec<DeletedObjectObs>> = join_all(
                listings
                    .iter()
                    .map(|(v, t)| self.fetch_deleted(vault_of(v), *t)),
            )
            .await
            .into_iter()
            .zip(listings)
            .filter_map(|(r, k)| Some((k, r?)))
            .collect();
            (out, deleted)
        };
        let (fics, assignments, per_principal, (mut objects, deleted), name_checks) = tokio::join!(
            fic_fetches,
            assignment_fetches,
            principal_fetches,
            object_fetches,
            name_checks
        );
        let in_use: BTreeMap<&str, Fetched<bool>> =
            unfound.iter().map(|(n, _)| *n).zip(name_checks).collect();
        assemble::objects_of_absent_vaults(&mut objects, &in_use);

        // Phase 3: custom role definitions (built-ins come from the table).
        // An assignment made to an identity's clientId grants nothing, and KVC501 says so
        // (`access::on_client_id`): it is kept beside those made to the principal.
        let principals: Option<BTreeSet<String>> = if identities.iter().any(|(_, r)| r.is_err()) {
            None // identities unknown: keep every assignment, the rules match principals.
        } else {
            Some(
                found_identities
                    .iter()
                    .flat_map(|i| [&i.principal_id, &i.client_id])
                    .map(|id| id.to_ascii_lowercase())
                    .collect(),
            )
        };
        let per_vault: Vec<assemble::AssignmentsOf> = found_vaults
            .iter()
            .zip(&assignments)
            .map(|((name, (cloud, _)), r)| assemble::AssignmentsOf {
                vault: name,
                cloud: *cloud,
                result: r,
            })
            .collect();
        let mut vaults_obs = assemble::vaults(&vaults, &in_use);
        soft_deleted::attach(vaults_obs.items.iter_mut(), &deleted);
        assemble::management_groups(&mut vaults_obs, &per_vault);
        let (mut kept, assignment_gaps) = assemble::relevant_assignments(
            &per_vault,
            principals.as_ref(),
            &vaults_obs.gaps.namespaces,
        );
        let per_principal: Vec<(Cloud, Fetched<Vec<AssignmentRow>>)> = (principal_listings.iter())
            .map(|(c, _, _)| *c)
            .zip(per_principal)
            .collect();
        let vault_ids: Vec<&str> = (found_vaults.values())
            .map(|(_, v)| v.id.as_str())
            .collect();
        kept.extend(assemble::beside_vaults(&per_principal, &vault_ids));
        let custom: BTreeSet<(Cloud, &str)> = kept
            .iter()
            .filter(|(_, a)| roles::built_in(&a.role_definition_id).is_none())
            .map(|(c, a)| (*c, a.role_definition_id.as_str()))
            .collect();
        join_all(custom.iter().map(|(c, id)| self.fetch_role_def(*c, id))).await;

        let fics: BTreeMap<&str, Fetched<Vec<FederatedCredentialObs>>> = found_identities
            .iter()
            .map(|i| i.id.as_str())
            .zip(fics)
            .collect();
        AzureObs {
            identities: assemble::identities(&identities, &fics),
            vaults: vaults_obs,
            role_assignments: assemble::role_assignments(kept, assignment_gaps, |id| {
                self.role_defs.fresh(&id.to_string())
            }),
            objects,
            requests: self.requests(),
            throttled: self.throttled(),
        }
    }
}

/// How long a result stays cached: `refresh`, or longer when Azure asked us to wait (429
/// Retry-After).
fn ttl<T>(refresh: Duration, r: &Fetched<T>) -> Duration {
    match r {
        Err(FetchError {
            retry_after: Some(w),
            ..
        }) => refresh.max(*w),
        _ => refresh,
    }
}
