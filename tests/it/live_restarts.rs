//! The one-key restart on the live source for pods with unusual owners (audit 18, A18-1/3):
//! what is written to the API is what the confirmation says — a rollout restart only for a
//! Deployment, StatefulSet or DaemonSet whose update strategy replaces the pod; an Argo
//! Rollout's `spec.restartAt`; a delete for a Job's, a bare ReplicaSet's or an operator's pod
//! (the controller makes a new one); nothing at all for a mirror pod.

use std::time::Duration;

use crate::live_support::*;
use kvchain::action::{Action, ActionOutcome};
use kvchain::chain::restart_plan::RestartPlan;
use kvchain::snapshot::Snapshot;
use kvchain::source::live::{LiveSource, Scope};
use kvchain::source::{Source, SourceCommand, SourceEvent, request};
use serde_json::{Value, json};
use tokio::sync::mpsc;

fn pod(name: &str, owner: Option<(&str, &str, &str)>, labels: Value, annotations: Value) -> Value {
    let owners = match owner {
        Some((api, kind, owner)) => json!([{"apiVersion": api, "kind": kind, "name": owner,
                                            "uid": format!("uid-{owner}"), "controller": true}]),
        None => json!([]),
    };
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": NS, "uid": format!("uid-{name}"),
                     "labels": labels, "annotations": annotations, "ownerReferences": owners,
                     "creationTimestamp": "2026-11-23T09:00:00Z"},
        "spec": {"nodeName": "aks-nodepool1-12345678-vmss000000",
                 "containers": [{"name": "app", "image": "busybox"}]},
        "status": {"phase": "Running"}
    })
}

fn replica_set(name: &str, owner: Option<(&str, &str, &str)>) -> Value {
    let owners = match owner {
        Some((api, kind, o)) => json!([{"apiVersion": api, "kind": kind, "name": o,
                                        "uid": format!("uid-{o}"), "controller": true}]),
        None => json!([]),
    };
    json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
           "metadata": {"name": name, "namespace": NS, "ownerReferences": owners},
           "spec": {"selector": {"matchLabels": {"app": name}}}})
}

fn stateful_set(name: &str, strategy: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
           "metadata": {"name": name, "namespace": NS},
           "spec": {"replicas": 3, "serviceName": name, "updateStrategy": strategy,
                    "selector": {"matchLabels": {"app": name}},
                    "template": {"metadata": {"labels": {"app": name}},
                                 "spec": {"containers": [{"name": "app", "image": "busybox"}]}}}})
}

/// `world()` with a pod for every unusual owner.
fn unusual_owners() -> FakeApi {
    let api = world();
    api.add(
        PODS,
        pod(
            "api-7f8c9d-x1p2q",
            Some(("apps/v1", "ReplicaSet", "api-7f8c9d")),
            json!({"app": "api", "rollouts-pod-template-hash": "7f8c9d"}),
            json!({}),
        ),
    );
    api.add(
        REPLICA_SETS,
        replica_set(
            "api-7f8c9d",
            Some(("argoproj.io/v1alpha1", "Rollout", "api")),
        ),
    );
    api.raw(
        "/apis/argoproj.io/v1alpha1/namespaces/payments/rollouts/api",
        json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
               "metadata": {"name": "api", "namespace": NS}, "spec": {}}),
    );
    api.add(
        PODS,
        pod(
            "migrate-h7k2m",
            Some(("batch/v1", "Job", "migrate")),
            json!({"job-name": "migrate"}),
            json!({}),
        ),
    );
    api.add(
        PODS,
        pod(
            "cache-5d4-q9w8e",
            Some(("apps/v1", "ReplicaSet", "cache-5d4")),
            json!({"app": "cache"}),
            json!({}),
        ),
    );
    api.add(REPLICA_SETS, replica_set("cache-5d4", None));
    api.add(
        PODS,
        pod(
            "redis-failover-0",
            Some(("databases.spotahome.com/v1", "RedisFailover", "redis")),
            json!({"app": "redis"}),
            json!({}),
        ),
    );
    api.add(
        PODS,
        pod(
            "etcd-aks-nodepool1-12345678-vmss000000",
            Some(("v1", "Node", "aks-nodepool1-12345678-vmss000000")),
            json!({"component": "etcd"}),
            json!({"kubernetes.io/config.mirror": "4c1f", "kubernetes.io/config.source": "file"}),
        ),
    );
    api.add(
        PODS,
        pod(
            "db-1",
            Some(("apps/v1", "StatefulSet", "db")),
            json!({"app": "db"}),
            json!({}),
        ),
    );
    api.add(
        STATEFUL_SETS,
        stateful_set("db", json!({"type": "OnDelete"})),
    );
    api.add(
        PODS,
        pod(
            "ledger-0",
            Some(("apps/v1", "StatefulSet", "ledger")),
            json!({"app": "ledger"}),
            json!({}),
        ),
    );
    api.add(
        STATEFUL_SETS,
        stateful_set(
            "ledger",
            json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}),
        ),
    );
    api.raw(
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
               "spec": {}, "status": {"allowed": true}}),
    );
    api
}

struct Running {
    events: mpsc::UnboundedReceiver<SourceEvent>,
    commands: mpsc::UnboundedSender<SourceCommand>,
    _server: wiremock::MockServer,
}

async fn start(api: &FakeApi) -> (Running, std::sync::Arc<Snapshot>) {
    let server = api.serve().await;
    let live = LiveSource::new(client(&server), "aks-test", Scope::All, no_azure())
        .with_options(options());
    let (etx, erx) = mpsc::unbounded_channel();
    let (ctx, crx) = mpsc::unbounded_channel();
    tokio::spawn(Box::new(live).run(etx, crx));
    let mut run = Running {
        events: erx,
        commands: ctx,
        _server: server,
    };
    // Every pod and the workloads read: the plan depends on both.
    let s = run
        .until(|s| {
            s.pods.items.len() >= 8
                && s.workloads.items.iter().any(|w| w.name == "ledger")
                && s.workloads.items.iter().any(|w| w.name == "cache-5d4")
                && s.workloads.items.iter().any(|w| w.name == "api-7f8c9d")
        })
        .await;
    (run, s)
}

impl Running {
    async fn until(&mut self, pred: impl Fn(&Snapshot) -> bool) -> std::sync::Arc<Snapshot> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let ev = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .expect("a matching snapshot within 20s")
                .expect("source running");
            if let SourceEvent::Snapshot(s) = ev
                && pred(&s)
            {
                return s;
            }
        }
    }

    async fn restart(&self, pod: &str) -> ActionOutcome {
        let action = Action::Restart {
            namespace: NS.into(),
            pod: pod.into(),
        };
        request(&self.commands, |reply| SourceCommand::Act { action, reply })
            .expect("source running")
            .within(Duration::from_secs(20))
            .await
            .expect("answered within 20s")
    }
}

/// The writes (PATCH, DELETE, POST other than access reviews) since `from`.
fn writes(api: &FakeApi, from: usize) -> Vec<String> {
    api.requests()[from..]
        .iter()
        .filter(|r| !r.starts_with("GET") && !r.contains("selfsubjectaccessreviews"))
        .cloned()
        .collect()
}

fn confirmation(s: &Snapshot, pod: &str) -> String {
    RestartPlan::for_pod(s, s.pod(NS, pod).expect("pod observed")).confirmation()
}

#[tokio::test]
async fn each_owner_gets_the_restart_its_confirmation_names() {
    let api = unusual_owners();
    let (run, s) = start(&api).await;
    let pods = format!("/api/v1/namespaces/{NS}/pods");

    // Argo Rollout: spec.restartAt on the Rollout, no pod deleted, no Deployment patched.
    let said = confirmation(&s, "api-7f8c9d-x1p2q");
    assert!(
        said.contains("spec.restartAt") && !said.contains("kubectl rollout restart"),
        "{said}"
    );
    let n = api.requests().len();
    let out = run.restart("api-7f8c9d-x1p2q").await;
    assert!(out.ok, "{out:?}");
    let w = writes(&api, n);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].starts_with("PATCH ")
            && w[0].contains(&format!(
                "/apis/argoproj.io/v1alpha1/namespaces/{NS}/rollouts/api"
            )),
        "{w:?}"
    );

    // A Job's, a bare ReplicaSet's, an operator's pod, and a StatefulSet's under OnDelete or
    // below its partition: the pod is deleted, nothing is rolled.
    for (pod, owner) in [
        ("migrate-h7k2m", "Job/migrate"),
        ("cache-5d4-q9w8e", "ReplicaSet/cache-5d4"),
        ("redis-failover-0", "RedisFailover/redis"),
        ("db-1", "StatefulSet/db"),
        ("ledger-0", "StatefulSet/ledger"),
    ] {
        let said = confirmation(&s, pod);
        assert!(
            said.starts_with(&format!(
                "Delete pod {NS}/{pod}; its controller {owner} makes a new one."
            )) && !said.contains("kubectl rollout restart"),
            "{said}"
        );
        let n = api.requests().len();
        let out = run.restart(pod).await;
        assert!(out.ok, "{pod}: {out:?}");
        assert!(
            out.message.contains(&format!("{owner} makes a new one")),
            "{out:?}"
        );
        let w = writes(&api, n);
        assert_eq!(w.len(), 1, "{pod}: {w:?}");
        assert!(
            w[0].starts_with("DELETE") && w[0].contains(&format!("{pods}/{pod}?")),
            "{pod}: {w:?}"
        );
    }
    assert!(confirmation(&s, "migrate-h7k2m").contains("backoffLimit"));
    assert!(confirmation(&s, "db-1").contains("OnDelete"));
    assert!(confirmation(&s, "ledger-0").contains("partition 2"));

    // A mirror pod: refused, nothing written.
    let n = api.requests().len();
    let out = run.restart("etcd-aks-nodepool1-12345678-vmss000000").await;
    assert!(!out.ok, "{out:?}");
    assert!(
        out.message.contains("mirror of a static pod") && out.message.contains("manifest"),
        "{}",
        out.message
    );
    assert!(writes(&api, n).is_empty(), "{:?}", writes(&api, n));
    assert!(
        !api.requests()[n..]
            .iter()
            .any(|r| r.contains("selfsubjectaccessreviews")),
        "nothing to ask about a write that is not made"
    );
}

/// A paused Deployment: kubectl refuses `rollout restart` ("can't restart paused deployment
/// (run rollout resume first)") and a template patch sent through the API rolls nothing while
/// paused. `R` deletes the pod for its ReplicaSet to make again, and patches no Deployment.
#[tokio::test]
async fn a_paused_deployments_pod_is_deleted_and_the_deployment_left_alone() {
    let api = unusual_owners();
    api.add(
        DEPLOYMENTS,
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "ledger-api", "namespace": NS, "uid": "uid-ledger-api"},
               "spec": {"paused": true, "replicas": 2,
                        "selector": {"matchLabels": {"app": "ledger-api"}},
                        "template": {"metadata": {"labels": {"app": "ledger-api"}},
                                     "spec": {"containers": [{"name": "app", "image": "busybox"}]}}}}),
    );
    api.add(
        REPLICA_SETS,
        replica_set(
            "ledger-api-6b7c8d9e0f",
            Some(("apps/v1", "Deployment", "ledger-api")),
        ),
    );
    let pod_name = "ledger-api-6b7c8d9e0f-k2j4h";
    api.add(
        PODS,
        pod(
            pod_name,
            Some(("apps/v1", "ReplicaSet", "ledger-api-6b7c8d9e0f")),
            json!({"app": "ledger-api", "pod-template-hash": "6b7c8d9e0f"}),
            json!({}),
        ),
    );
    let (mut run, _) = start(&api).await;
    let s = run
        .until(|s| {
            s.pod(NS, pod_name).is_some()
                && s.workloads
                    .items
                    .iter()
                    .any(|w| w.name == "ledger-api-6b7c8d9e0f")
                && s.workloads
                    .items
                    .iter()
                    .any(|w| w.kind == "Deployment" && w.name == "ledger-api" && w.paused)
        })
        .await;
    let said = confirmation(&s, pod_name);
    assert!(
        said.starts_with(&format!(
            "Delete pod {NS}/{pod_name}; its controller ReplicaSet/ledger-api-6b7c8d9e0f makes a new one. Deployment ledger-api is paused (spec.paused)"
        )),
        "{said}"
    );
    let n = api.requests().len();
    let out = run.restart(pod_name).await;
    assert!(out.ok, "{out:?}");
    let w = writes(&api, n);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].starts_with("DELETE")
            && w[0].contains(&format!("/api/v1/namespaces/{NS}/pods/{pod_name}?")),
        "{w:?}"
    );
}
