//! Whether a Stakater Reloader runs, read live. A workload's Reloader annotation asks for a
//! restart when a Secret it reads changes; only a Reloader Deployment that watches the
//! namespace's Secrets acts on it (FACTS §10; Reloader's flags, [R]
//! `internal/pkg/cmd/reloader.go`: `--namespaces`, else `KUBERNETES_NAMESPACE`, else every
//! namespace, where alone `--namespaces-to-ignore` counts; `--resources-to-ignore`). Before,
//! the annotation alone was read, so an env reader annotated for a Reloader nobody installed
//! was "restarted on rotation" and its link ok.

use crate::live_gaps::check_in_context;
use crate::live_support::*;
use serde_json::{Value, json};

const RELOADER_CANARY: &str = "CANARY-reloader-live-synced";

/// The world's pod as a replica of the annotated Deployment, reading the synced Secret
/// through env, with no failure event: a healthy chain whose Consumers link asks Reloader.
fn annotated_world() -> FakeApi {
    env_reader_world(
        json!({"reloader.stakater.com/auto": "true"}),
        RELOADER_CANARY,
    )
}

/// The world's pod as a replica of Deployment busybox-deployment (annotated `annotations`),
/// reading synced Secret foosecret (value `canary`) through env, with no failure event.
pub(crate) fn env_reader_world(annotations: Value, canary: &str) -> FakeApi {
    let api = world();
    api.replace_silently(EVENTS, Vec::new());
    api.replace_silently(SECRETS, vec![synced_secret("foosecret", canary, true)]);
    let mut p = pod("azure-sync", "Running");
    p["metadata"]["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet",
        "name": "busybox-deployment-5d8f7c9b8d", "uid": "rs-1", "controller": true}]);
    p["spec"]["containers"][0]["env"] = json!([{"name": "SECRET_USERNAME",
        "valueFrom": {"secretKeyRef": {"name": "foosecret", "key": "username"}}}]);
    api.replace_silently(PODS, vec![p]);
    let mut d = upstream("deployment-synck8s-azure.yaml", VARS);
    d["metadata"]["namespace"] = json!(NS);
    d["metadata"]["annotations"] = annotations;
    api.replace_silently(DEPLOYMENTS, vec![d]);
    api
}

/// A Reloader Deployment in namespace `reloader`, from its chart's image, with `args`.
pub(crate) fn reloader(args: &[&str]) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": "reloader-reloader", "namespace": "reloader"},
           "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "reloader-reloader"}},
                    "template": {"metadata": {"labels": {"app": "reloader-reloader"}},
                                 "spec": {"containers": [{"name": "reloader-reloader",
                                     "image": "ghcr.io/stakater/reloader:v1.4.1", "args": args}]}}},
           "status": {"replicas": 1, "readyReplicas": 1, "availableReplicas": 1}})
}

async fn kvc902(api: &FakeApi, scope: &[&str]) -> Vec<Value> {
    kvc902_with(api, scope, RELOADER_CANARY).await.0
}

/// `check` of `api` in `scope` (JSON): its KVC902 findings and the whole output; neither
/// stream may hold `canary`.
pub(crate) async fn kvc902_with(
    api: &FakeApi,
    scope: &[&str],
    canary: &str,
) -> (Vec<Value>, String) {
    let mut args = scope.to_vec();
    args.extend(["-o", "json"]);
    let run = check_in_context(api, &args).await;
    for out in [&run.stdout, &run.stderr] {
        assert!(!out.contains(canary), "a secret value was printed: {out}");
    }
    let r = run.json();
    let found = (r["findings"].as_array().unwrap().iter())
        .filter(|f| f["code"] == "KVC902")
        .cloned()
        .collect();
    (found, run.stdout)
}

#[tokio::test]
async fn an_annotation_no_reloader_acts_on_is_kvc902_with_what_runs_one() {
    let api = annotated_world();
    let found = kvc902(&api, &["-A"]).await;
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    let message = f["message"].as_str().unwrap();
    assert!(
        message.contains("no Reloader acts on it")
            && message.contains("no Deployment in any namespace runs Stakater Reloader"),
        "{message}"
    );
    let fix = f["fix"].as_str().unwrap();
    assert!(fix.starts_with("helm upgrade --install reloader reloader --repo https://stakater.github.io/stakater-charts -n reloader --create-namespace"), "{fix}");
    assert!(
        fix.contains("kubectl rollout restart deployment/busybox-deployment -n payments"),
        "{fix}"
    );
}

#[tokio::test]
async fn a_reloader_that_watches_the_namespace_answers_the_annotation() {
    let api = annotated_world();
    api.add(DEPLOYMENTS, reloader(&["--log-format=json"]));
    assert!(kvc902(&api, &["-A"]).await.is_empty());
}

#[tokio::test]
async fn a_reloader_that_ignores_the_namespace_or_secrets_is_named() {
    for (args, said) in [
        (
            &["--namespaces-to-ignore=kube-system,payments"][..],
            "--namespaces-to-ignore naming payments",
        ),
        (
            &["--resources-to-ignore=secrets"][..],
            "--resources-to-ignore=secrets",
        ),
        (
            &["--namespaces=reloader"][..],
            "watches only namespace reloader, not payments",
        ),
    ] {
        let api = annotated_world();
        api.add(DEPLOYMENTS, reloader(args));
        let found = kvc902(&api, &["-A"]).await;
        assert_eq!(found.len(), 1, "{args:?}: {found:#?}");
        let message = found[0]["message"].as_str().unwrap();
        assert!(
            message.contains("Reloader (reloader/reloader-reloader)") && message.contains(said),
            "{message}"
        );
        let fix = found[0]["fix"].as_str().unwrap();
        assert!(
            fix.starts_with("kubectl edit deployment/reloader-reloader -n reloader"),
            "{fix}"
        );
    }
}

/// With one namespace read, a Reloader may run in another: unknown, not absent, so no finding.
#[tokio::test]
async fn one_namespace_read_says_nothing_of_a_reloader_elsewhere() {
    let api = annotated_world();
    assert!(kvc902(&api, &["-n", NS]).await.is_empty());
}
