//! In-process Azure for the `azure_*` tests: an `azure_core` HttpClient that routes by method,
//! host, path (and optionally query/body) to fixture bodies, logs every request, and plays the
//! Key Vault auth challenge; plus a fake TokenCredential. The SDK refuses bearer tokens over
//! plain http, so this is the seam instead of a local server.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use azure_core::Bytes;
use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use azure_core::http::headers::{AUTHORIZATION, Headers};
use azure_core::http::{AsyncRawResponse, Body, HttpClient, Method, Request, StatusCode};
use kvchain::source::args::AzureArgs;
use kvchain::source::azure::AzureObserver;
use kvchain::source::azure::cloud::Endpoints;

pub const TENANT: &str = "b6c948ef-f6b5-4384-8354-da3a15eca969";
pub const SUB: &str = "a925f2f7-5c63-4b7b-8799-25a5f97bc3b2";
pub const CLIENT_ID: &str = "4024ab25-56a8-4370-aea6-6389221caf29";
pub const PRINCIPAL_ID: &str = "25cc773c-7f05-40fc-a104-32d2300754ad";
pub const ARM: &str = "management.azure.com";
pub const GRAPH: &str = "/providers/Microsoft.ResourceGraph/resources";

pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/azure/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

pub fn vault_id(name: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/rg-kv/providers/Microsoft.KeyVault/vaults/{name}")
}

#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

#[derive(Debug)]
pub struct Route {
    method: Method,
    host: String,
    path: String,
    query_has: Option<String>,
    body_has: Vec<String>,
    /// Played in order; the last one repeats.
    replies: VecDeque<Reply>,
}

impl Route {
    pub fn new(method: Method, host: &str, path: &str) -> Self {
        Route {
            method,
            host: host.to_string(),
            path: path.to_string(),
            query_has: None,
            body_has: Vec::new(),
            replies: VecDeque::new(),
        }
    }
    pub fn get(host: &str, path: &str) -> Self {
        Route::new(Method::Get, host, path)
    }
    pub fn query_has(mut self, s: &str) -> Self {
        self.query_has = Some(s.to_string());
        self
    }
    /// The request body must contain `s` (repeatable: all must be present).
    pub fn body_has(mut self, s: &str) -> Self {
        self.body_has.push(s.to_string());
        self
    }
    pub fn reply(mut self, status: u16, body: impl Into<String>) -> Self {
        self.replies.push_back(Reply {
            status,
            headers: Vec::new(),
            body: body.into(),
        });
        self
    }
    pub fn reply_with(
        mut self,
        status: u16,
        headers: &[(&'static str, &str)],
        body: impl Into<String>,
    ) -> Self {
        self.replies.push_back(Reply {
            status,
            headers: headers.iter().map(|(k, v)| (*k, v.to_string())).collect(),
            body: body.into(),
        });
        self
    }
}

#[derive(Debug, Default)]
pub struct FakeAzure {
    routes: Mutex<Vec<Route>>,
    log: Mutex<Vec<String>>,
    /// ("METHOD host/path", body) of every request that carried a body.
    bodies: Mutex<Vec<(String, String)>>,
}

impl FakeAzure {
    pub fn add(&self, route: Route) -> &Self {
        self.routes.lock().unwrap().push(route);
        self
    }

    /// "GET host/path?query" for every request that reached the transport.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Add a route ahead of the existing ones (it wins from now on: the world changed).
    pub fn add_first(&self, route: Route) -> &Self {
        self.routes.lock().unwrap().insert(0, route);
        self
    }

    /// Bodies sent, as ("METHOD host/path", body): what a write actually asked Azure to store.
    pub fn bodies(&self) -> Vec<(String, String)> {
        self.bodies.lock().unwrap().clone()
    }

    pub fn count(&self, needle: &str) -> usize {
        self.log().iter().filter(|l| l.contains(needle)).count()
    }

    fn answer(&self, request: &Request) -> Reply {
        let url = request.url();
        let host = url.host_str().unwrap_or_default().to_string();
        let path = url.path().to_string();
        let query = url.query().unwrap_or_default().to_string();
        let body = match request.body() {
            Body::Bytes(b) => String::from_utf8_lossy(b).to_string(),
            _ => String::new(),
        };
        if !body.is_empty() {
            self.bodies
                .lock()
                .unwrap()
                .push((format!("{} {host}{path}", request.method()), body.clone()));
        }
        let authorized = request
            .headers()
            .get_optional_str(&AUTHORIZATION)
            .is_some_and(|v| v == "Bearer fake-token");
        self.log.lock().unwrap().push(format!(
            "{} {host}{path}?{query}{}",
            request.method(),
            if authorized { "" } else { " (unauthenticated)" }
        ));
        if !authorized {
            // Key Vault answers an anonymous request with the challenge naming its audience;
            // ARM would just say 401.
            let challenge = if host.ends_with(".vault.azure.net") {
                vec![(
                    "www-authenticate",
                    format!(
                        "Bearer authorization=\"https://login.microsoftonline.com/{TENANT}\", resource=\"https://vault.azure.net\""
                    ),
                )]
            } else {
                Vec::new()
            };
            return Reply {
                status: 401,
                headers: challenge,
                body: r#"{"error":{"code":"Unauthorized","message":"no token"}}"#.into(),
            };
        }
        let mut routes = self.routes.lock().unwrap();
        let found = routes.iter_mut().find(|r| {
            r.method == request.method()
                && r.host == host
                && r.path.eq_ignore_ascii_case(&path)
                && r.query_has
                    .as_ref()
                    .is_none_or(|q| query.contains(q.as_str()))
                && r.body_has.iter().all(|b| body.contains(b.as_str()))
        });
        match found {
            Some(r) if r.replies.len() > 1 => r.replies.pop_front().unwrap(),
            Some(r) if r.replies.len() == 1 => r.replies[0].clone(),
            _ => Reply {
                status: 404,
                headers: Vec::new(),
                body: format!(
                    r#"{{"error":{{"code":"NoRoute","message":"fake Azure has no route for {} {host}{path}"}}}}"#,
                    request.method()
                ),
            },
        }
    }
}

impl HttpClient for FakeAzure {
    fn execute_request<'a, 'b, 'f>(
        &'a self,
        request: &'b Request,
    ) -> Pin<Box<dyn Future<Output = azure_core::Result<AsyncRawResponse>> + Send + 'f>>
    where
        'a: 'f,
        'b: 'f,
        Self: 'f,
    {
        let reply = self.answer(request);
        Box::pin(async move {
            let mut headers = Headers::new();
            headers.insert("content-type", "application/json");
            for (k, v) in reply.headers {
                headers.insert(k, v);
            }
            Ok(AsyncRawResponse::from_bytes(
                StatusCode::from(reply.status),
                headers,
                Bytes::from(reply.body),
            ))
        })
    }
}

/// Hands out one fixed token and counts how often it was asked.
#[derive(Debug, Default)]
pub struct FakeCredential {
    pub calls: AtomicUsize,
}

impl TokenCredential for FakeCredential {
    fn get_token<'a, 'b, 'c, 'd, 'f>(
        &'a self,
        _scopes: &'b [&'c str],
        _options: Option<TokenRequestOptions<'d>>,
    ) -> Pin<Box<dyn Future<Output = azure_core::Result<AccessToken>> + Send + 'f>>
    where
        'a: 'f,
        'b: 'f,
        'c: 'f,
        'd: 'f,
        Self: 'f,
    {
        self.calls.fetch_add(1, Ordering::Relaxed);
        Box::pin(async move {
            Ok(AccessToken::new(
                "fake-token",
                azure_core::time::OffsetDateTime::now_utc() + azure_core::time::Duration::hours(1),
            ))
        })
    }
}

pub fn observer(fake: &Arc<FakeAzure>, refresh: Duration) -> AzureObserver {
    AzureObserver::with_transport(
        fake.clone(),
        Arc::new(FakeCredential::default()),
        Endpoints::default(),
        &AzureArgs {
            azure_refresh: refresh,
            ..Default::default()
        },
    )
}

/// The "contoso" world: identity id-app with two FICs, an RBAC vault with assignments at
/// every scope level and a mix of objects, and an access-policy vault whose role
/// assignments the caller may not read.
pub fn contoso() -> Arc<FakeAzure> {
    let fake = Arc::new(FakeAzure::default());
    let rbac = vault_id("kv-rbac");
    let policy = vault_id("kv-policy");
    let identity = format!(
        "/subscriptions/{SUB}/resourcegroups/rg-app/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-app"
    );
    let kv = "kv-rbac.vault.azure.net";
    fake.add(
        Route::new(Method::Post, ARM, GRAPH)
            .body_has("userassignedidentities")
            .reply(200, fixture("graph-identities.json")),
    )
    .add(
        Route::new(Method::Post, ARM, GRAPH)
            .body_has("keyvault/vaults")
            .reply(200, fixture("graph-vaults.json")),
    )
    .add(Route::get(ARM, &format!("{identity}/federatedIdentityCredentials")).reply(200, fixture("fic-list.json")))
    .add(
        Route::get(ARM, &format!("{rbac}/providers/Microsoft.Authorization/roleAssignments"))
            .reply(200, fixture("role-assignments-kv-rbac.json")),
    )
    .add(
        Route::get(ARM, &format!("{policy}/providers/Microsoft.Authorization/roleAssignments"))
            .reply(403, fixture("error-authorization-failed.json")),
    )
    .add(
        Route::get(
            ARM,
            &format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/0b5fe924-9a61-425c-96af-cfe6e287ca2d"),
        )
        .reply(200, fixture("role-definition-custom.json")),
    )
    .add(
        Route::get(kv, "/secrets/db-password/versions")
            .query_has("skiptoken=page2")
            .reply(200, fixture("secret-versions-db-password-page2.json")),
    )
    .add(Route::get(kv, "/secrets/db-password/versions").reply(200, fixture("secret-versions-db-password.json")))
    .add(Route::get(kv, "/secrets/api-key/versions").reply(200, fixture("secret-versions-api-key-disabled.json")))
    .add(Route::get(kv, "/secrets/old-token/versions").reply(200, fixture("secret-versions-old-token-expired.json")))
    .add(Route::get(kv, "/secrets/tls-cert/versions").reply(200, fixture("secret-versions-tls-cert.json")))
    .add(Route::get(kv, "/secrets/missing/versions").reply(404, fixture("error-secret-not-found.json")))
    .add(Route::get(kv, "/keys/signing-key/versions").reply(200, fixture("key-versions-signing-key.json")))
    .add(Route::get(kv, "/certificates/tls-cert/versions").reply(200, fixture("cert-versions-tls-cert.json")))
    .add(Route::get(kv, "/certificates/tls-cert/policy").reply(200, fixture("cert-policy-tls-cert.json")))
    .add(
        Route::get("kv-policy.vault.azure.net", "/secrets/app-secret/versions")
            .reply(200, fixture("secret-versions-app-secret.json")),
    );
    fake
}

/// Copy `from`'s routes (fresh reply queues) onto `to`, after the routes `to` already has.
pub fn copy_routes(from: &FakeAzure, to: &FakeAzure) {
    let routes = from.routes.lock().unwrap();
    let mut dest = to.routes.lock().unwrap();
    for r in routes.iter() {
        dest.push(Route {
            method: r.method,
            host: r.host.clone(),
            path: r.path.clone(),
            query_has: r.query_has.clone(),
            body_has: r.body_has.clone(),
            replies: r.replies.clone(),
        });
    }
}

/// What a chain of [`CLIENT_ID`]'s on vault `kv-rbac` asks the observer for: that identity,
/// the vault, and `objects` in it.
pub fn wanted(
    objects: &[(kvchain::snapshot::ObjectType, &str)],
) -> kvchain::source::azure::AzureWanted {
    kvchain::source::azure::AzureWanted {
        client_ids: std::collections::BTreeSet::from([CLIENT_ID.to_string()]),
        vaults: std::collections::BTreeSet::from([("kv-rbac".to_string(), String::new())]),
        objects: objects
            .iter()
            .map(|(t, n)| ("kv-rbac".to_string(), *t, n.to_string()))
            .collect(),
    }
}

/// 2,000 pods in 100 namespaces; every namespace has its own SPC naming the same 20 objects
/// of vault `kv-rbac`, all with one identity: the request-budget world.
pub fn shared_objects_snapshot() -> kvchain::snapshot::Snapshot {
    use kvchain::snapshot::{PodObs, Snapshot, SpcObs};
    let objects: String = (0..20)
        .map(|i| format!("  - |\n    objectName: shared-{i}\n    objectType: secret\n"))
        .collect();
    let objects = format!("array:\n{objects}");
    let mut snap = Snapshot::default();
    for ns in 0..100 {
        let params = std::collections::BTreeMap::from([
            ("keyvaultName".to_string(), "kv-rbac".to_string()),
            ("clientID".to_string(), CLIENT_ID.to_string()),
            ("tenantID".to_string(), TENANT.to_string()),
            ("objects".to_string(), objects.clone()),
        ]);
        snap.spcs.items.push(SpcObs {
            namespace: format!("team-{ns}").into(),
            name: "app-secrets".into(),
            annotations: Default::default(),
            provider: "azure".into(),
            parsed: kvchain::spc::parse(&params),
            parameters: params,
            secret_objects: Vec::new(),
            file: None,
            namespace_less: None,
            controller: None,
        });
        for p in 0..20 {
            snap.pods.items.push(PodObs {
                namespace: format!("team-{ns}").into(),
                name: format!("app-{p}").into(),
                service_account: "app".into(),
                ..Default::default()
            });
        }
    }
    snap
}

/// `contoso()` answering the version lists of the 20 shared objects.
pub fn shared_objects_azure() -> Arc<FakeAzure> {
    let fake = contoso();
    for i in 0..20 {
        fake.add(
            Route::get(
                "kv-rbac.vault.azure.net",
                &format!("/secrets/shared-{i}/versions"),
            )
            .reply(200, fixture("secret-versions-app-secret.json")),
        );
    }
    fake
}
