//! A fake Kubernetes API server for the live-source tests, on wiremock.
//!
//! It speaks just enough of the API: lists (label selectors, `limit`/`continue` paging),
//! namespaced and cluster-wide paths, gets by name, watches (queued event bodies; otherwise a
//! short empty stream, so every test also exercises "the watch stream ended, re-watch"),
//! 403/404/410/500 injection, and raw endpoints such as `/.well-known/openid-configuration`.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate, matchers::any};

pub const NS: &str = "payments";
pub const CANARY: &str = "CANARY-live-7c1d-do-not-print";
pub const CANARY_NAMED: &str = "CANARY-named-3b9e-do-not-print";
pub const CANARY_LAST_APPLIED: &str = "CANARY-last-applied-5e2a-do-not-print";
pub const CANARY_UNRELATED: &str = "CANARY-unrelated-helm-do-not-print";
pub const ISSUER: &str = "https://eastus.oic.prod-aks.azure.com/72f988bf-86f1-41af-91ab-2d7cd011db47/0b5a1f6e-1111-2222-3333-444455556666/";

/// Collection paths (cluster-wide form) the fake server serves.
pub const PODS: &str = "/api/v1/pods";
pub const SERVICE_ACCOUNTS: &str = "/api/v1/serviceaccounts";
pub const SECRETS: &str = "/api/v1/secrets";
pub const EVENTS: &str = "/api/v1/events";
pub const DEPLOYMENTS: &str = "/apis/apps/v1/deployments";
pub const REPLICA_SETS: &str = "/apis/apps/v1/replicasets";
pub const STATEFUL_SETS: &str = "/apis/apps/v1/statefulsets";
pub const DAEMON_SETS: &str = "/apis/apps/v1/daemonsets";
pub const JOBS: &str = "/apis/batch/v1/jobs";
pub const CRON_JOBS: &str = "/apis/batch/v1/cronjobs";
pub const INGRESSES: &str = "/apis/networking.k8s.io/v1/ingresses";
pub const SPCS: &str = "/apis/secrets-store.csi.x-k8s.io/v1/secretproviderclasses";
pub const SPCPS: &str = "/apis/secrets-store.csi.x-k8s.io/v1/secretproviderclasspodstatuses";
pub const CSI_DRIVERS: &str = "/apis/storage.k8s.io/v1/csidrivers";
pub const MWCS: &str = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations";
pub const CLUSTER_ROLES: &str = "/apis/rbac.authorization.k8s.io/v1/clusterroles";

pub const ALL: &[&str] = &[
    PODS,
    SERVICE_ACCOUNTS,
    SECRETS,
    EVENTS,
    DEPLOYMENTS,
    REPLICA_SETS,
    STATEFUL_SETS,
    DAEMON_SETS,
    JOBS,
    CRON_JOBS,
    INGRESSES,
    SPCS,
    SPCPS,
    CSI_DRIVERS,
    MWCS,
    CLUSTER_ROLES,
];

/// Generates item `i` of a synthetic collection (scale tests) without storing it.
pub type Generator = fn(usize) -> Value;

#[derive(Default)]
struct Inner {
    collections: BTreeMap<String, Vec<Value>>,
    generated: BTreeMap<String, (usize, Generator)>,
    /// Path prefixes answered with 403.
    forbidden: BTreeSet<String>,
    /// (collection, verb) pairs answered with 403 in every scope: RBAC that grants a kind some
    /// verbs and not others (`list` without `watch`, `get` without `list`).
    verbs_forbidden: BTreeSet<(String, String)>,
    /// Status codes for the next list calls of a collection.
    list_failures: BTreeMap<String, VecDeque<u16>>,
    /// Status codes for the next watch calls of a collection.
    watch_failures: BTreeMap<String, VecDeque<u16>>,
    /// Bodies for the next watch calls of a collection (newline-separated watch events).
    watch_bodies: BTreeMap<String, VecDeque<String>>,
    raw: BTreeMap<String, Value>,
    /// Status codes for the next requests, whatever they ask (a control plane in trouble).
    next_answers: VecDeque<u16>,
    /// A status code every request is answered with, after `next_answers`.
    every_answer: Option<u16>,
    /// Accept every request and never answer it (a hung API server).
    hung: bool,
    /// (method+path+query) of every request, for "was X ever asked" assertions.
    log: Vec<String>,
    rv: u64,
}

#[derive(Clone, Default)]
pub struct FakeApi {
    inner: Arc<Mutex<Inner>>,
}

/// One parsed request path.
struct Route {
    collection: String,
    namespace: Option<String>,
    name: Option<String>,
}

fn route(path: &str) -> Option<Route> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (prefix, rest) = match segs.first() {
        Some(&"api") if segs.len() >= 2 => (format!("/api/{}", segs[1]), &segs[2..]),
        Some(&"apis") if segs.len() >= 3 => (format!("/apis/{}/{}", segs[1], segs[2]), &segs[3..]),
        _ => return None,
    };
    let (namespace, rest) = match rest {
        ["namespaces", ns, tail @ ..] if !tail.is_empty() => (Some(ns.to_string()), tail),
        _ => (None, rest),
    };
    match rest {
        [plural] => Some(Route {
            collection: format!("{prefix}/{plural}"),
            namespace,
            name: None,
        }),
        [plural, name] => Some(Route {
            collection: format!("{prefix}/{plural}"),
            namespace,
            name: Some(name.to_string()),
        }),
        _ => None,
    }
}

pub fn status(code: u16, reason: &str, message: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
           "message": message, "reason": reason, "code": code})
}

fn status_response(code: u16, reason: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(code).set_body_json(status(code, reason, message))
}

fn meta<'a>(v: &'a Value, field: &str) -> Option<&'a str> {
    v.get("metadata")?.get(field)?.as_str()
}

fn matches_labels(item: &Value, selector: &str) -> bool {
    selector.split(',').filter(|s| !s.is_empty()).all(|term| {
        let (k, want) = term.split_once('=').unwrap_or((term, ""));
        item.get("metadata")
            .and_then(|m| m.get("labels"))
            .and_then(|l| l.get(k))
            .and_then(|v| v.as_str())
            == Some(want)
    })
}

impl Respond for FakeApi {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut inner = self.inner.lock().unwrap();
        let path = req.url.path().to_string();
        let query: BTreeMap<String, String> = req.url.query_pairs().into_owned().collect();
        inner.log.push(format!("{} {}", req.method, req.url));
        if inner.hung {
            return ResponseTemplate::new(200).set_delay(Duration::from_secs(3600));
        }
        if let Some(code) = inner.next_answers.pop_front().or(inner.every_answer) {
            return status_response(
                code,
                "InternalError",
                "Internal error occurred: etcdserver: leader changed",
            );
        }
        if inner.forbidden.iter().any(|p| path.starts_with(p.as_str())) && route(&path).is_none() {
            return status_response(
                403,
                "Forbidden",
                &format!("forbidden: User \"alice\" cannot get path \"{path}\""),
            );
        }
        if let Some(v) = inner.raw.get(&path) {
            return ResponseTemplate::new(200).set_body_json(v.clone());
        }
        let Some(r) = route(&path) else {
            return status_response(
                404,
                "NotFound",
                "the server could not find the requested resource",
            );
        };
        if !inner.collections.contains_key(&r.collection)
            && !inner.generated.contains_key(&r.collection)
        {
            return status_response(
                404,
                "NotFound",
                "the server could not find the requested resource",
            );
        }
        let plural = r
            .collection
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        let verb = if query.get("watch").is_some_and(|w| w == "true") {
            "watch"
        } else if r.name.is_some() {
            "get"
        } else {
            "list"
        };
        if inner.forbidden.iter().any(|p| path.starts_with(p.as_str()))
            || (inner
                .verbs_forbidden
                .contains(&(r.collection.clone(), verb.to_string())))
        {
            // "/apis/<group>/<version>/…" → group; the core group is "".
            let group = path
                .strip_prefix("/apis/")
                .and_then(|p| p.split('/').next())
                .unwrap_or_default()
                .to_string();
            let scope = match &r.namespace {
                Some(ns) => format!("in the namespace \"{ns}\""),
                None => "at the cluster scope".into(),
            };
            return status_response(
                403,
                "Forbidden",
                &format!(
                    "{plural} is forbidden: User \"alice\" cannot {verb} resource \"{plural}\" in API group \"{group}\" {scope}"
                ),
            );
        }
        if query.get("watch").is_some_and(|w| w == "true") {
            if let Some(code) = inner
                .watch_failures
                .get_mut(&r.collection)
                .and_then(|q| q.pop_front())
            {
                return status_response(code, "InternalError", "injected watch failure");
            }
            let body = inner
                .watch_bodies
                .get_mut(&r.collection)
                .and_then(|q| q.pop_front());
            return match body {
                Some(b) => ResponseTemplate::new(200)
                    .insert_header("content-type", "application/json")
                    .set_body_string(b),
                // Nothing new: a short, empty stream. The watcher re-watches when it ends.
                None => ResponseTemplate::new(200)
                    .insert_header("content-type", "application/json")
                    .set_body_string("")
                    .set_delay(Duration::from_millis(300)),
            };
        }
        let in_scope = |item: &Value| match &r.namespace {
            Some(ns) => meta(item, "namespace") == Some(ns.as_str()),
            None => true,
        };
        if let Some(name) = &r.name {
            let found = inner.collections.get(&r.collection).and_then(|items| {
                items
                    .iter()
                    .find(|i| in_scope(i) && meta(i, "name") == Some(name.as_str()))
                    .cloned()
            });
            return match found {
                Some(v) => ResponseTemplate::new(200).set_body_json(v),
                None => status_response(404, "NotFound", &format!("{plural} \"{name}\" not found")),
            };
        }
        if let Some(code) = inner
            .list_failures
            .get_mut(&r.collection)
            .and_then(|q| q.pop_front())
        {
            return status_response(code, "InternalError", "injected failure");
        }
        let selector = query.get("labelSelector").cloned().unwrap_or_default();
        let offset: usize = query
            .get("continue")
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let limit: usize = query
            .get("limit")
            .and_then(|l| l.parse().ok())
            .unwrap_or(usize::MAX);
        let rv = inner.rv.to_string();
        let (page, total) = if let Some((count, generate)) = inner.generated.get(&r.collection) {
            let end = offset.saturating_add(limit).min(*count);
            ((offset..end).map(generate).collect::<Vec<_>>(), *count)
        } else {
            let all: Vec<Value> = inner.collections[&r.collection]
                .iter()
                .filter(|i| in_scope(i) && matches_labels(i, &selector))
                .cloned()
                .collect();
            let total = all.len();
            (all.into_iter().skip(offset).take(limit).collect(), total)
        };
        let next = offset + page.len();
        let mut list_meta = json!({"resourceVersion": rv});
        if next < total {
            list_meta["continue"] = json!(next.to_string());
        }
        ResponseTemplate::new(200).set_body_json(json!({
            "kind": "List", "apiVersion": "v1", "metadata": list_meta, "items": page
        }))
    }
}

impl FakeApi {
    /// Every standard collection present and empty, nothing else.
    pub fn empty() -> Self {
        let api = FakeApi::default();
        {
            let mut i = api.inner.lock().unwrap();
            i.rv = 100;
            for c in ALL {
                i.collections.insert(c.to_string(), Vec::new());
            }
        }
        api
    }

    pub async fn serve(&self) -> MockServer {
        self.serve_from(MockServer::builder()).await
    }

    /// [`FakeApi::serve`] on a listener bound beforehand (a port that refused connections
    /// until now).
    pub async fn serve_on(&self, listener: std::net::TcpListener) -> MockServer {
        self.serve_from(MockServer::builder().listener(listener))
            .await
    }

    async fn serve_from(&self, builder: wiremock::MockServerBuilder) -> MockServer {
        let server = builder.disable_request_recording().start().await;
        Mock::given(any())
            .respond_with(self.clone())
            .mount(&server)
            .await;
        server
    }

    pub fn add(&self, collection: &str, mut item: Value) {
        let mut i = self.inner.lock().unwrap();
        i.rv += 1;
        item["metadata"]["resourceVersion"] = json!(i.rv.to_string());
        if item["metadata"].get("uid").is_none() {
            let uid = format!("00000000-0000-4000-8000-{:012}", i.rv);
            item["metadata"]["uid"] = json!(uid);
        }
        i.collections
            .entry(collection.to_string())
            .or_default()
            .push(item);
    }

    pub fn generate(&self, collection: &str, count: usize, g: Generator) {
        self.inner
            .lock()
            .unwrap()
            .generated
            .insert(collection.to_string(), (count, g));
    }

    pub fn remove_collection(&self, collection: &str) {
        self.inner.lock().unwrap().collections.remove(collection);
    }

    pub fn forbid(&self, path_prefix: &str) {
        self.inner
            .lock()
            .unwrap()
            .forbidden
            .insert(path_prefix.to_string());
    }

    /// RBAC that denies every verb on `collection` (cluster-wide form, e.g. [`PODS`]) in
    /// namespace `ns`, or at the cluster scope when `ns` is `None`.
    pub fn deny(&self, collection: &str, ns: Option<&str>) {
        match ns {
            None => self.forbid(collection),
            Some(ns) => {
                let (prefix, plural) = collection.rsplit_once('/').expect("a collection path");
                self.forbid(&format!("{prefix}/namespaces/{ns}/{plural}"));
            }
        }
    }

    /// A user bound to no role at all: every API group answers 403 (discovery documents such as
    /// `/version` and `/.well-known` stay readable, as system:public-info-viewer allows).
    pub fn deny_everything(&self) {
        self.forbid("/api/");
        self.forbid("/apis/");
    }

    /// RBAC that grants every verb on `collection` (cluster-wide form, e.g. [`PODS`]) but
    /// `verb` (`list`, `watch` or `get`), in every namespace and at the cluster scope.
    pub fn deny_verb(&self, collection: &str, verb: &str) {
        self.inner
            .lock()
            .unwrap()
            .verbs_forbidden
            .insert((collection.to_string(), verb.to_string()));
    }

    /// A list-only role: `watch` is refused on every collection, `list` and `get` answer.
    pub fn deny_every_watch(&self) {
        let collections: Vec<String> = self
            .inner
            .lock()
            .unwrap()
            .collections
            .keys()
            .cloned()
            .collect();
        for c in collections {
            self.deny_verb(&c, "watch");
        }
    }

    pub fn allow(&self, path_prefix: &str) {
        self.inner.lock().unwrap().forbidden.remove(path_prefix);
    }

    pub fn raw(&self, path: &str, body: Value) {
        self.inner
            .lock()
            .unwrap()
            .raw
            .insert(path.to_string(), body);
    }

    pub fn fail_next_lists(&self, collection: &str, codes: &[u16]) {
        self.inner
            .lock()
            .unwrap()
            .list_failures
            .entry(collection.to_string())
            .or_default()
            .extend(codes);
    }

    pub fn fail_next_watches(&self, collection: &str, codes: &[u16]) {
        self.inner
            .lock()
            .unwrap()
            .watch_failures
            .entry(collection.to_string())
            .or_default()
            .extend(codes);
    }

    /// Queues one watch response carrying `events` (type, object) and applies them to the
    /// collection, so a later re-list agrees with what the watch said.
    pub fn push_watch(&self, collection: &str, events: &[(&str, Value)]) {
        let mut i = self.inner.lock().unwrap();
        let mut body = String::new();
        for (kind, obj) in events {
            i.rv += 1;
            let mut obj = obj.clone();
            obj["metadata"]["resourceVersion"] = json!(i.rv.to_string());
            let key = (
                meta(&obj, "namespace").map(String::from),
                meta(&obj, "name").map(String::from),
            );
            let items = i.collections.entry(collection.to_string()).or_default();
            items.retain(|x| {
                (
                    meta(x, "namespace").map(String::from),
                    meta(x, "name").map(String::from),
                ) != key
            });
            if *kind != "DELETED" {
                items.push(obj.clone());
            }
            body.push_str(&json!({"type": kind, "object": obj}).to_string());
            body.push('\n');
        }
        i.watch_bodies
            .entry(collection.to_string())
            .or_default()
            .push_back(body);
    }

    /// Queues a raw watch body (e.g. an ERROR event carrying a 410 Status).
    pub fn push_watch_raw(&self, collection: &str, body: String) {
        self.inner
            .lock()
            .unwrap()
            .watch_bodies
            .entry(collection.to_string())
            .or_default()
            .push_back(body);
    }

    /// Changes the collection behind the watcher's back (seen only on the next re-list).
    pub fn replace_silently(&self, collection: &str, items: Vec<Value>) {
        let mut i = self.inner.lock().unwrap();
        i.rv += 1;
        let rv = i.rv.to_string();
        let items = items
            .into_iter()
            .map(|mut v| {
                v["metadata"]["resourceVersion"] = json!(rv);
                v
            })
            .collect();
        i.collections.insert(collection.to_string(), items);
    }

    /// Answer the next `codes.len()` requests, whatever they ask, with these statuses (an
    /// `etcdserver: leader changed` Status), then serve normally.
    pub fn fail_next_requests(&self, codes: &[u16]) {
        self.inner.lock().unwrap().next_answers.extend(codes);
    }

    /// Answer every request with `code` (an `etcdserver: leader changed` Status), or serve
    /// normally again with `None`.
    pub fn fail_every_request(&self, code: Option<u16>) {
        self.inner.lock().unwrap().every_answer = code;
    }

    /// Hold every request from now on without answering (`true`), or serve again (`false`).
    pub fn hang(&self, hung: bool) {
        self.inner.lock().unwrap().hung = hung;
    }

    pub fn requests(&self) -> Vec<String> {
        self.inner.lock().unwrap().log.clone()
    }
}

/// A kubeconfig with the fake server as context `aks-payments` (namespace payments) and a
/// dead cluster as the current context, so `--context` must be honoured.
pub fn kubeconfig(server: &MockServer, dir: &std::path::Path) -> std::path::PathBuf {
    let text = format!(
        "apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: {}
- name: dead
  cluster:
    server: http://127.0.0.1:9
contexts:
- name: aks-payments
  context:
    cluster: fake
    user: alice
    namespace: payments
- name: elsewhere
  context:
    cluster: dead
    user: alice
current-context: elsewhere
users:
- name: alice
  user:
    token: not-a-secret-test-token
",
        server.uri()
    );
    let path = dir.join("kubeconfig");
    std::fs::write(&path, text).unwrap();
    path
}

/// An "API server" that accepts TCP connections and never answers a byte; its URL. The
/// listener lives on a thread of its own for the rest of the test process.
pub fn hanging_server() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            held.push(conn);
        }
    });
    url
}

/// A kubeconfig whose current context `hung` points at `server`.
pub fn kubeconfig_for(server: &str, dir: &std::path::Path) -> std::path::PathBuf {
    let text = format!(
        "apiVersion: v1
kind: Config
clusters:
- name: hung
  cluster:
    server: {server}
contexts:
- name: hung
  context:
    cluster: hung
    user: alice
current-context: hung
users:
- name: alice
  user:
    token: not-a-secret-test-token
"
    );
    let path = dir.join("kubeconfig-hung");
    std::fs::write(&path, text).unwrap();
    path
}

/// A kube client talking plain http to the fake server.
pub fn client(server: &MockServer) -> kube::Client {
    let config = kube::Config::new(server.uri().parse().expect("mock server uri"));
    kube::Client::try_from(config).expect("client for the mock server")
}

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// An upstream example manifest with its e2e `$VARS` filled in, as JSON.
pub fn upstream(file: &str, vars: &[(&str, &str)]) -> Value {
    let path = format!(
        "{}/../shared/upstream/examples/k8s/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    for (k, v) in vars {
        text = text
            .replace(&format!("${{{k}}}"), v)
            .replace(&format!("${k}"), v);
    }
    let yaml: serde_yaml::Value =
        serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::to_value(yaml).unwrap()
}

pub const VARS: &[(&str, &str)] = &[
    ("SERVICE_ACCOUNT_NAME", "workload-sa"),
    ("SERVICE_ACCOUNT_NAMESPACE", NS),
    (
        "USER_ASSIGNED_CLIENT_ID",
        "11111111-2222-3333-4444-555555555555",
    ),
    ("IDENTITY_CLIENT_ID", "11111111-2222-3333-4444-555555555555"),
    ("KEYVAULT_NAME", "kv-payments"),
    ("SECRET_NAME", "db-password"),
    ("SECRET_VERSION", ""),
    ("AZURE_TENANT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47"),
    ("API_VERSION", "secrets-store.csi.x-k8s.io/v1"),
];

pub const POD: &str = "busybox-secrets-store-inline-wi";

/// The pod from the provider's workload-identity doc, as the API server returns it once
/// running: namespace, uid, owner, node, managedFields and a real-shaped `status`.
pub fn pod(spc: &str, phase: &str) -> Value {
    let mut p = upstream("pod-azure-wi.yaml", VARS);
    p["metadata"]["namespace"] = json!(NS);
    p["metadata"]["uid"] = json!("6f1c3a0e-93a4-4c1e-bd2e-0c1d2e3f4a5b");
    p["metadata"]["creationTimestamp"] = json!("2026-11-23T09:00:00Z");
    p["metadata"]["managedFields"] = json!([{
        "apiVersion": "v1", "fieldsType": "FieldsV1", "manager": "kubectl-client-side-apply",
        "operation": "Update", "time": "2026-11-23T09:00:00Z", "fieldsV1": {"f:spec": {}}
    }]);
    p["spec"]["volumes"][0]["csi"]["volumeAttributes"]["secretProviderClass"] = json!(spc);
    p["spec"]["nodeName"] = json!("aks-nodepool1-12345678-vmss000000");
    p["status"] = json!({
        "phase": phase,
        "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2026-11-23T09:00:05Z"}],
        "hostIP": "10.224.0.4", "podIP": "10.244.1.7", "qosClass": "BestEffort",
        "startTime": "2026-11-23T09:00:00Z",
        "containerStatuses": [{
            "name": "busybox", "ready": true, "restartCount": 0,
            "image": "registry.k8s.io/e2e-test-images/busybox:1.29-4",
            "imageID": "registry.k8s.io/e2e-test-images/busybox@sha256:2e0f836850e09b8b7cc937681d6194537a09fbd5f6b9e08f4d646a85128e8937",
            "containerID": "containerd://1f0c6e8f",
            "started": true,
            "state": {"running": {"startedAt": "2026-11-23T09:00:04Z"}}
        }]
    });
    p
}

pub fn spcps(version: &str) -> Value {
    json!({
        "apiVersion": "secrets-store.csi.x-k8s.io/v1",
        "kind": "SecretProviderClassPodStatus",
        "metadata": {
            "name": format!("{POD}-{NS}-azure-sync"),
            "namespace": NS,
            "labels": {"internal.secrets-store.csi.k8s.io/node-name": "aks-nodepool1-12345678-vmss000000"},
            "ownerReferences": [{"apiVersion": "v1", "kind": "Pod", "name": POD,
                                 "uid": "6f1c3a0e-93a4-4c1e-bd2e-0c1d2e3f4a5b"}],
            "managedFields": [{"apiVersion": "secrets-store.csi.x-k8s.io/v1", "fieldsType": "FieldsV1",
                               "manager": "secrets-store-csi-driver", "operation": "Update",
                               "time": "2026-11-23T09:00:03Z", "fieldsV1": {"f:status": {}}}]
        },
        "status": {
            "mounted": true,
            "objects": [{"id": "secret/db-password", "version": version}],
            "podName": POD,
            "secretProviderClassName": "azure-sync",
            "targetPath": "/var/lib/kubelet/pods/6f1c3a0e-93a4-4c1e-bd2e-0c1d2e3f4a5b/volumes/kubernetes.io~csi/secrets-store01-inline/mount"
        }
    })
}

/// A Secret as the driver writes it: managed label, owner, managedFields time, canary value.
pub fn synced_secret(name: &str, value: &str, managed: bool) -> Value {
    let mut labels = json!({"environment": "test"});
    if managed {
        labels["secrets-store.csi.k8s.io/managed"] = json!("true");
    }
    json!({
        "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {
            "name": name, "namespace": NS, "labels": labels,
            "creationTimestamp": "2026-11-23T09:00:03Z",
            "managedFields": [{"apiVersion": "v1", "fieldsType": "FieldsV1",
                               "manager": "secrets-store-csi-driver", "operation": "Update",
                               "time": "2026-11-23T09:10:00Z", "fieldsV1": {"f:data": {}}}]
        },
        "data": {"username": b64(value)}
    })
}

pub fn event(reason: &str, message: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": format!("{POD}.{}", reason.to_lowercase()), "namespace": NS},
        "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": POD, "namespace": NS,
                           "uid": "6f1c3a0e-93a4-4c1e-bd2e-0c1d2e3f4a5b"},
        "reason": reason, "message": message, "type": "Warning", "count": 3,
        "source": {"component": "kubelet", "host": "aks-nodepool1-12345678-vmss000000"},
        "firstTimestamp": "2026-11-23T09:00:01Z", "lastTimestamp": "2026-11-23T09:02:01Z"
    })
}

/// The cluster of the chain in `shared/upstream`: one workload-identity pod in `payments`
/// mounting `azure-sync` (which syncs `foosecret`), its SPCPS and synced Secret, an
/// unmanaged Secret the chain names (`legacy-synced`), one it does not (`helm-release`),
/// events, a Deployment, and the AKS add-on's driver installation.
pub fn world() -> FakeApi {
    let api = FakeApi::empty();
    let mut sa = upstream("serviceaccount-wi-aks-doc.yaml", VARS);
    sa["metadata"]["namespace"] = json!(NS);
    api.add(SERVICE_ACCOUNTS, sa);
    // The controller manager creates `default` in every namespace (the Deployment runs as it).
    api.add(
        SERVICE_ACCOUNTS,
        json!({"apiVersion": "v1", "kind": "ServiceAccount",
               "metadata": {"name": "default", "namespace": NS}}),
    );
    let mut spc = upstream("spc-azure-wi-synck8s.yaml", VARS);
    spc["metadata"]["namespace"] = json!(NS);
    api.add(SPCS, spc.clone());
    let mut legacy = spc;
    legacy["metadata"]["name"] = json!("azure-legacy");
    legacy["spec"]["secretObjects"][0]["secretName"] = json!("legacy-synced");
    api.add(SPCS, legacy);
    api.add(PODS, pod("azure-sync", "Running"));
    api.add(SPCPS, spcps("b82206cb5ac249918008b0b97fd1fd66"));
    api.add(SECRETS, synced_secret("foosecret", CANARY, true));
    api.add(SECRETS, synced_secret("legacy-synced", CANARY_NAMED, false));
    api.add(
        SECRETS,
        synced_secret("helm-release", CANARY_UNRELATED, false),
    );
    api.add(
        EVENTS,
        event(
            "FailedMount",
            "MountVolume.SetUp failed for volume \"secrets-store01-inline\" : rpc error: code = Unknown desc = failed to mount secrets store objects for pod payments/busybox-secrets-store-inline-wi, err: rpc error: code = Unknown desc = failed to mount objects, error: failed to get objectType:secret, objectName:db-password, objectVersion:: SecretNotFound",
        ),
    );
    api.add(
        EVENTS,
        event("Scheduled", "Successfully assigned payments/x to node"),
    );
    let mut d = upstream("deployment-synck8s-azure.yaml", VARS);
    d["metadata"]["namespace"] = json!(NS);
    // kubectl apply leaves the whole manifest here, literal env values included.
    d["metadata"]["annotations"] = json!({
        "kubectl.kubernetes.io/last-applied-configuration":
            format!("{{\"spec\":{{\"env\":[{{\"name\":\"PASSWORD\",\"value\":\"{CANARY_LAST_APPLIED}\"}}]}}}}")
    });
    api.add(DEPLOYMENTS, d);
    api.add(
        REPLICA_SETS,
        json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
               "metadata": {"name": "busybox-deployment-5d8f7c9b8d", "namespace": NS,
                            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                                 "name": "busybox-deployment", "uid": "d-1", "controller": true}]},
               "spec": {"selector": {"matchLabels": {"app": "busybox"}}}}),
    );
    let mut csi = {
        let path = format!(
            "{}/../shared/upstream/crds/csidriver.yaml",
            env!("CARGO_MANIFEST_DIR")
        );
        let yaml: serde_yaml::Value =
            serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        serde_json::to_value(yaml).unwrap()
    };
    csi["spec"]["tokenRequests"] = json!([{"audience": "api://AzureADTokenExchange"}]);
    api.add(CSI_DRIVERS, csi);
    api.add(
        DAEMON_SETS,
        json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
               "metadata": {"name": "aks-secrets-store-csi-driver", "namespace": "kube-system"},
               "spec": {"selector": {"matchLabels": {"app": "secrets-store-csi-driver"}},
                        "template": {"metadata": {"labels": {"app": "secrets-store-csi-driver"}},
                                     "spec": {"containers": [
                                        {"name": "node-driver-registrar", "image": "mcr.microsoft.com/oss/kubernetes-csi/csi-node-driver-registrar:v2.10.0"},
                                        {"name": "secrets-store", "image": "mcr.microsoft.com/oss/kubernetes-csi/secrets-store/driver:v1.4.4",
                                         "args": ["--endpoint=$(CSI_ENDPOINT)", "--nodeid=$(KUBE_NODE_NAME)",
                                                  "--provider-volume=/var/run/secrets-store-csi-providers",
                                                  "--enable-secret-rotation=true", "--rotation-poll-interval=2m"]}]}}},
               "status": {"numberReady": 3, "desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberMisscheduled": 0}}),
    );
    api.add(
        DAEMON_SETS,
        json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
               "metadata": {"name": "aks-secrets-store-provider-azure", "namespace": "kube-system"},
               "spec": {"selector": {"matchLabels": {"app": "p"}},
                        "template": {"spec": {"containers": [
                            {"name": "provider-azure-installer", "image": "mcr.microsoft.com/oss/azure/secrets-store/provider-azure:v1.5.3"}]}}},
               "status": {"numberReady": 3, "desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberMisscheduled": 0}}),
    );
    api.add(
        MWCS,
        json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
               "metadata": {"name": "azure-wi-webhook-mutating-webhook-configuration"},
               "webhooks": [{"name": "mutation.azure-workload-identity.io", "admissionReviewVersions": ["v1"],
                             "sideEffects": "None", "clientConfig": {}}]}),
    );
    api.raw(
        "/version",
        json!({"major": "1", "minor": "33", "gitVersion": "v1.33.2", "gitCommit": "abc",
               "gitTreeState": "clean", "buildDate": "2026-06-01T00:00:00Z", "goVersion": "go1.24.4",
               "compiler": "gc", "platform": "linux/amd64"}),
    );
    api.raw(
        "/.well-known/openid-configuration",
        json!({"issuer": ISSUER, "jwks_uri": format!("{ISSUER}openid/v1/jwks"),
               "response_types_supported": ["id_token"], "subject_types_supported": ["public"],
               "id_token_signing_alg_values_supported": ["RS256"]}),
    );
    api
}

/// A watch ERROR event carrying a 410 Gone Status ("too old resource version").
pub fn gone() -> String {
    let s = status(410, "Expired", "too old resource version: 1 (2)");
    format!("{}\n", json!({"type": "ERROR", "object": s}))
}

/// Fast timings for tests.
pub fn options() -> kvchain::source::live::LiveOptions {
    kvchain::source::live::LiveOptions {
        debounce: Duration::from_millis(50),
        cluster_refresh: Duration::from_secs(300),
        secrets_refresh: Duration::from_secs(300),
        startup_deadline: Duration::from_secs(20),
        clock_tick: Duration::from_secs(10),
        stale_after: kvchain::source::live::STALE_AFTER,
    }
}

pub fn no_azure() -> kvchain::cli::AzureArgs {
    kvchain::cli::AzureArgs {
        no_azure: true,
        azure_refresh: Duration::from_secs(60),
        ..Default::default()
    }
}

/// The first complete snapshot of `api`'s world, all namespaces, context `aks-test`, no Azure.
pub async fn snapshot_of(api: &FakeApi) -> kvchain::snapshot::Snapshot {
    let server = api.serve().await;
    let live = kvchain::source::live::LiveSource::new(
        client(&server),
        "aks-test",
        kvchain::source::live::Scope::All,
        no_azure(),
    )
    .with_options(options());
    tokio::time::timeout(Duration::from_secs(30), live.snapshot())
        .await
        .expect("snapshot within 30s")
}
