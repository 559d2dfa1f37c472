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

mod world;
pub use world::*;

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
    /// Path prefixes whose requests are accepted and never answered (one slow kind).
    hung_paths: Vec<String>,
    /// (method+path+query) of every request, for "was X ever asked" assertions.
    log: Vec<String>,
    rv: u64,
    /// How far the server's clock runs from this machine's, sent as its `Date` header (None:
    /// the real server's own header).
    clock_offset: Option<jiff::SignedDuration>,
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
        let answer = self.answer(req);
        // hyper writes its own Date only when the answer carries none.
        match self.inner.lock().unwrap().clock_offset {
            Some(offset) => {
                let at = jiff::Timestamp::now().checked_add(offset).unwrap();
                let date = jiff::fmt::rfc2822::DateTimePrinter::new()
                    .timestamp_to_rfc9110_string(&at)
                    .unwrap();
                answer.insert_header("date", date.as_str())
            }
            None => answer,
        }
    }
}

impl FakeApi {
    fn answer(&self, req: &Request) -> ResponseTemplate {
        let mut inner = self.inner.lock().unwrap();
        let path = req.url.path().to_string();
        let query: BTreeMap<String, String> = req.url.query_pairs().into_owned().collect();
        inner.log.push(format!("{} {}", req.method, req.url));
        if inner.hung
            || inner
                .hung_paths
                .iter()
                .any(|p| path.starts_with(p.as_str()))
        {
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

    /// The server's clock runs `offset` from this machine's: every answer's `Date` says so.
    pub fn clock_offset(&self, offset: jiff::SignedDuration) {
        self.inner.lock().unwrap().clock_offset = Some(offset);
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

    /// Accept the requests under `path_prefix` and never answer them (one kind too slow).
    pub fn hang_path(&self, path_prefix: &str) {
        (self.inner.lock().unwrap().hung_paths).push(path_prefix.to_string());
    }

    pub fn requests(&self) -> Vec<String> {
        self.inner.lock().unwrap().log.clone()
    }
}
