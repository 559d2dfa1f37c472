//! Live action paths against a local HTTP server speaking the Kubernetes API: the exact
//! method, URI and body kvchain sends for restart, and how denials surface.

use crate::exec_support::{self, Exec};
use kvchain::action::kube::KubeActions;
use kvchain::chain::restart_plan::RestartPlan;
use kvchain::fingerprint::Fingerprint;
use serde_json::json;
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn actions(server: &MockServer) -> KubeActions {
    let config = kube::Config::new(server.uri().parse().unwrap());
    KubeActions::new(kube::Client::try_from(config).unwrap())
}

fn at() -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_800_000_000).unwrap()
}

#[tokio::test]
async fn rollout_restart_patches_the_deployment_template_like_kubectl() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .and(path("/apis/apps/v1/namespaces/pay/deployments/web"))
        .and(header(
            "content-type",
            "application/strategic-merge-patch+json",
        ))
        .and(body_partial_json(
            json!({"spec": {"template": {"metadata": {"annotations": {
            "kubectl.kubernetes.io/restartedAt": "2027-01-15T08:00:00Z"}}}}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "pay"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let plan = RestartPlan::RolloutRestart {
        namespace: "pay".into(),
        kind: "Deployment".into(),
        name: "web".into(),
        note: None,
    };
    let out = actions(&server).await.restart(&plan, at()).await;
    assert!(out.ok, "{out:?}");
    assert_eq!(out.message, "rollout restart of Deployment pay/web started");
}

#[tokio::test]
async fn bare_pod_is_deleted_and_forbidden_is_reported() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/api/v1/namespaces/pay/pods/debug"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "kind": "Status", "apiVersion": "v1", "status": "Failure",
            "message": "pods \"debug\" is forbidden: User \"dev\" cannot delete resource \"pods\" in the namespace \"pay\"",
            "reason": "Forbidden", "code": 403
        })))
        .expect(1)
        .mount(&server)
        .await;
    let plan = RestartPlan::DeleteBarePod {
        namespace: "pay".into(),
        pod: "debug".into(),
    };
    let out = actions(&server).await.restart(&plan, at()).await;
    assert!(!out.ok);
    assert!(
        out.message.starts_with("Forbidden (403)"),
        "{}",
        out.message
    );
    assert!(out.message.contains("cannot delete resource"));
}

#[tokio::test]
async fn permission_check_uses_a_self_subject_access_review() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"))
        .and(body_partial_json(json!({"spec": {"resourceAttributes": {
            "verb": "patch", "group": "apps", "resource": "deployments", "namespace": "pay", "name": "web"}}})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {}, "status": {"allowed": false, "reason": "no RBAC policy matched"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let plan = RestartPlan::RolloutRestart {
        namespace: "pay".into(),
        kind: "Deployment".into(),
        name: "web".into(),
        note: None,
    };
    let err = actions(&server)
        .await
        .check_restart_allowed(&plan)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        "not allowed to patch deployments pay/web: no RBAC policy matched"
    );
}

// ------------------------------------------------------------------ exec (verify)

const CANARY_FILE: &str = "CANARY-file-4e1a-do-not-print";
const CANARY_ENV: &str = "CANARY-env-8d2b-do-not-print";

#[tokio::test]
async fn verify_execs_cat_and_fingerprints_file_and_process_environment() {
    let (url, seen) = exec_support::serve(
        |cmd| match cmd {
            [c, p] if c == "cat" && p == "/mnt/secrets-store/secretalias" => {
                Exec::Prints(CANARY_FILE.as_bytes().to_vec())
            }
            [c, p] if c == "cat" && p == "/proc/1/environ" => Exec::Prints(
                format!("PATH=/bin\0SECRET_USERNAME={CANARY_ENV}\0HOME=/root\0").into_bytes(),
            ),
            _ => Exec::Fails("command terminated with non-zero exit code: exit code 1"),
        },
        None,
    )
    .await;
    let client = exec_support::client(&url);
    let reading = KubeActions::new(client)
        .verify(
            "payments",
            "web-0",
            "app",
            &["/mnt/secrets-store/secretalias".into()],
            &["SECRET_USERNAME".into(), "NOT_SET".into()],
        )
        .await;
    assert_eq!(
        reading.files,
        [(
            "/mnt/secrets-store/secretalias".to_string(),
            Ok(Fingerprint::of(CANARY_FILE.as_bytes()))
        )]
    );
    assert_eq!(reading.env[0].1, Ok(Fingerprint::of(CANARY_ENV.as_bytes())));
    assert!(
        reading.env[1]
            .1
            .as_ref()
            .unwrap_err()
            .contains("NOT_SET is not set")
    );
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "one exec per file, one for the environment");
    assert_eq!(seen[0].0, "/api/v1/namespaces/payments/pods/web-0/exec");
    assert_eq!(seen[0].1, ["cat", "/mnt/secrets-store/secretalias"]);
    assert_eq!(seen[1].1, ["cat", "/proc/1/environ"]);
    let shown = format!("{reading:?}");
    assert!(!shown.contains("CANARY"), "{shown}");
}

#[tokio::test]
async fn distroless_containers_cannot_be_verified_and_say_why() {
    let (url, seen) = exec_support::serve(|_| {
        Exec::Fails("OCI runtime exec failed: exec failed: unable to start container process: exec: \"cat\": executable file not found in $PATH: unknown")
    }, None)
    .await;
    let client = exec_support::client(&url);
    let reading = KubeActions::new(client)
        .verify(
            "payments",
            "web-0",
            "app",
            &["/mnt/secrets-store/a".into(), "/mnt/secrets-store/b".into()],
            &["SECRET_USERNAME".into()],
        )
        .await;
    for (_, r) in reading.files.iter().chain(&reading.env) {
        let err = r.as_ref().unwrap_err();
        assert!(
            err.starts_with("cannot verify: the container has no `cat` (distroless image?)"),
            "{err}"
        );
    }
    assert_eq!(
        seen.lock().unwrap().len(),
        1,
        "no second exec once `cat` is known to be missing"
    );
}

/// An Argo Rollout is restarted as `kubectl argo rollouts restart` does it: a merge patch of
/// `spec.restartAt` on the Rollout (argoproj.io/v1alpha1), and the access review asks for
/// exactly that write.
#[tokio::test]
async fn argo_rollout_restart_patches_restart_at_like_the_plugin() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .and(path(
            "/apis/argoproj.io/v1alpha1/namespaces/pay/rollouts/api",
        ))
        .and(header("content-type", "application/merge-patch+json"))
        .and(body_partial_json(
            json!({"spec": {"restartAt": "2027-01-15T08:00:00Z"}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": "api", "namespace": "pay"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"))
        .and(body_partial_json(json!({"spec": {"resourceAttributes": {
            "verb": "patch", "group": "argoproj.io", "resource": "rollouts", "namespace": "pay", "name": "api"}}})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {}, "status": {"allowed": true}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let plan = RestartPlan::ArgoRestart {
        namespace: "pay".into(),
        name: "api".into(),
    };
    let kube = actions(&server).await;
    assert_eq!(kube.check_restart_allowed(&plan).await, Ok(()));
    let out = kube.restart(&plan, at()).await;
    assert!(out.ok, "{out:?}");
    assert_eq!(
        out.message,
        "restart of Rollout pay/api started (spec.restartAt)"
    );
}

/// A refused plan (a mirror pod) sends nothing: no review, no write.
#[tokio::test]
async fn a_refused_restart_sends_no_request() {
    let server = MockServer::start().await;
    let plan = RestartPlan::Refused {
        namespace: "kube-system".into(),
        pod: "etcd-node-1".into(),
        why: "pod kube-system/etcd-node-1 is the mirror of a static pod".into(),
    };
    let kube = actions(&server).await;
    assert!(kube.check_restart_allowed(&plan).await.is_err());
    let out = kube.restart(&plan, at()).await;
    assert!(!out.ok);
    assert!(out.message.contains("mirror of a static pod"), "{out:?}");
    assert!(
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );
}
