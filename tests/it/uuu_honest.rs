//! Audit UUU-honest: the SecretProviderClassPodStatus CRD not installed. The driver writes a
//! pod's status right after the provider's files, inside NodePublishVolume, and a first mount
//! whose write fails returns the error and unmounts (kubernetes-sigs/secrets-store-csi-driver
//! v1.6.0 `pkg/secrets-store/nodeserver.go`: "failed to create secret provider class pod status
//! for pod <ns>/<pod>, err: …"; FACTS §1: created after the provider mount). Without the CRD
//! the API server serves no such kind (`no matches for kind "SecretProviderClassPodStatus"`),
//! so every new mount fails, and the driver's controller, which builds the synced Secrets from
//! those statuses (FACTS §2), has none to read. That is a finding with its fix, not a gap line.

use crate::live_gaps::{Run, check_without};
use crate::live_support::*;
use serde_json::{Value, json};

const UUU_CANARY: &str = "CANARY-uuu-honest-pod-status-crd";
const CRD_FILE: &str = "secrets-store.csi.x-k8s.io_secretproviderclasspodstatuses.yaml";

/// The kubelet's FailedMount of the first mount whose status write the API server refused
/// for want of the kind (the driver's wrapper, controller-runtime's RESTMapper error).
const NO_KIND: &str = "MountVolume.SetUp failed for volume \"secrets-store01-inline\" : rpc error: code = Unknown desc = failed to create secret provider class pod status for pod payments/busybox-secrets-store-inline-wi, err: no matches for kind \"SecretProviderClassPodStatus\" in version \"secrets-store.csi.x-k8s.io/v1\"";

/// The live world without the SecretProviderClassPodStatus CRD (its list answers 404) and
/// without its FailedMount, its synced Secret holding this audit's canary.
fn no_status_crd() -> FakeApi {
    let api = world();
    api.replace_silently(EVENTS, Vec::new());
    api.replace_silently(SECRETS, vec![synced_secret("foosecret", UUU_CANARY, true)]);
    api.remove_collection(SPCPS);
    api
}

/// The pod as the kubelet leaves it while its volumes do not mount: Pending, its container
/// waiting in ContainerCreating, never started.
fn waiting_pod() -> Value {
    let mut p = pod("azure-sync", "Pending");
    p["status"]["conditions"] = json!([{"type": "Ready", "status": "False",
                                        "lastTransitionTime": "2026-11-23T09:00:00Z"}]);
    p["status"]["containerStatuses"][0]["ready"] = json!(false);
    p["status"]["containerStatuses"][0]["started"] = json!(false);
    p["status"]["containerStatuses"][0]["state"] =
        json!({"waiting": {"reason": "ContainerCreating"}});
    p
}

async fn check(api: &FakeApi, format: &str) -> Run {
    check_without(api, format, UUU_CANARY).await
}

/// The id of the chain of `pod`'s volume.
fn chain_of(r: &Value, pod: &str) -> String {
    (r["chains"].as_array().unwrap().iter())
        .find(|c| c["pod"] == pod)
        .unwrap_or_else(|| panic!("the chain of {pod}: {:#}", r["chains"]))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The findings on chain `id` of `code`.
fn findings_of<'a>(r: &'a Value, id: &str, code: &str) -> Vec<&'a Value> {
    (r["findings"].as_array().unwrap().iter())
        .filter(|f| f["code"] == code && on_chain(f, id))
        .collect()
}

fn on_chain(f: &Value, id: &str) -> bool {
    f["chain"] == id || (f["chains"].as_array()).is_some_and(|c| c.iter().any(|c| c == id))
}

/// The errors on chain `id` that follow no other cause.
fn current_errors<'a>(r: &'a Value, id: &str) -> Vec<&'a Value> {
    (r["findings"].as_array().unwrap().iter())
        .filter(|f| f["severity"] == "error" && f["follows"].is_null() && on_chain(f, id))
        .collect()
}

fn the_fix_installs_the_crd(f: &Value) {
    let fix = f["fix"].as_str().unwrap();
    assert!(
        fix.contains("kubectl apply -f") && fix.contains(CRD_FILE),
        "{f:#}"
    );
}

#[tokio::test]
async fn a_pod_waiting_for_its_mount_without_the_pod_status_crd_is_kvc709() {
    let api = no_status_crd();
    api.replace_silently(PODS, vec![waiting_pod()]);
    let run = check(&api, "json").await;
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    let r = run.json();
    let chain = chain_of(&r, POD);
    let errors = current_errors(&r, &chain);
    assert_eq!(errors.len(), 1, "one cause: {errors:#?}");
    let f = errors[0];
    assert_eq!(f["code"], "KVC709", "{f:#}");
    assert_eq!(f["link"], "mount", "{f:#}");
    let message = f["message"].as_str().unwrap();
    assert!(
        message.contains("SecretProviderClassPodStatus CRD is not installed")
            && message.contains("failed to create secret provider class pod status"),
        "{message}"
    );
    the_fix_installs_the_crd(f);
}

#[tokio::test]
async fn the_drivers_failed_status_write_is_kvc709s_evidence_not_a_second_cause() {
    let api = no_status_crd();
    api.replace_silently(PODS, vec![waiting_pod()]);
    api.replace_silently(EVENTS, vec![event("FailedMount", NO_KIND)]);
    let run = check(&api, "json").await;
    let r = run.json();
    let chain = chain_of(&r, POD);
    let errors = current_errors(&r, &chain);
    assert_eq!(errors.len(), 1, "one cause: {errors:#?}");
    assert_eq!(errors[0]["code"], "KVC709", "{:#}", errors[0]);
    assert!(
        (errors[0]["evidence"].as_array().unwrap().iter())
            .any(|e| e.as_str().unwrap().contains("no matches for kind")),
        "{:#}",
        errors[0]
    );
    assert!(findings_of(&r, &chain, "KVC701").is_empty(), "{r:#}");
}

#[tokio::test]
async fn the_event_alone_names_the_missing_kind() {
    // The statuses' list not answering 404 (the kind served again, or the gap not met): the
    // driver's words still name the cause, and its fix.
    let api = world();
    api.replace_silently(SECRETS, vec![synced_secret("foosecret", UUU_CANARY, true)]);
    api.replace_silently(PODS, vec![waiting_pod()]);
    api.replace_silently(SPCPS, Vec::new());
    api.replace_silently(EVENTS, vec![event("FailedMount", NO_KIND)]);
    let run = check(&api, "json").await;
    let r = run.json();
    let chain = chain_of(&r, POD);
    let f = findings_of(&r, &chain, "KVC709");
    assert_eq!(f.len(), 1, "{r:#}");
    the_fix_installs_the_crd(f[0]);
    assert!(findings_of(&r, &chain, "KVC701").is_empty(), "{r:#}");
}

#[tokio::test]
async fn a_running_pod_keeps_its_mount_but_its_next_mount_fails() {
    // Mounted before the CRD went (deleting a CRD deletes its objects): the files stay, so the
    // pod is told of it as a warning; the Deployment's next pod cannot mount, an error.
    let api = no_status_crd();
    let run = check(&api, "json").await;
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    let r = run.json();
    let pod = chain_of(&r, POD);
    let f = findings_of(&r, &pod, "KVC709");
    assert_eq!(f.len(), 1, "{r:#}");
    assert_eq!(f[0]["severity"], "warning", "{:#}", f[0]);
    the_fix_installs_the_crd(f[0]);
    let template = (r["chains"].as_array().unwrap().iter())
        .find(|c| c["pod"] != POD)
        .expect("the template's chain")["id"]
        .as_str()
        .unwrap();
    let f = findings_of(&r, template, "KVC709");
    assert_eq!(f.len(), 1, "{r:#}");
    assert_eq!(f[0]["severity"], "error", "{:#}", f[0]);
}

/// Driver v1.6.0's controller writes a synced Secret with create-or-update at every reconcile
/// (FACTS §2 "Update"; [D] controllers createOrUpdateK8sSecret: Create, then on AlreadyExists
/// an Update of the whole Secret, its managed label included, with no look at who made it).
/// Only drivers before v1.6 leave a hand-made Secret of the synced name alone (FACTS §11). The
/// finding may not say "the driver never writes it" of every version: kvchain does not read
/// the driver's version, so it says both.
#[test]
fn a_hand_made_secret_is_said_to_be_replaced_by_a_v1_6_driver() {
    let r = crate::mmm_lab::report("ppp-seeds-unlabelled-secret.yaml", "CANARY-ppp-unlab");
    let f = (r["findings"].as_array().unwrap().iter())
        .find(|f| f["code"] == "KVC805")
        .unwrap_or_else(|| panic!("KVC805: {r:#}"));
    let message = f["message"].as_str().unwrap();
    assert!(
        !message.contains("so the driver never writes"),
        "not true of v1.6: {message}"
    );
    assert!(
        message.contains("before v1.6 never writes")
            && message.contains("v1.6 driver replaces it")
            && message.contains("next reconcile"),
        "{message}"
    );
}

/// An operator above a Deployment: the Deployment's ownerReferences name its controller, a
/// custom resource (Kubernetes docs, "Owners and Dependents": the controller owner manages the
/// dependent). The pods are still the Deployment's, made by its ReplicaSet: their restart is
/// the Deployment's rollout, and Reloader (FACTS §10) restarts that Deployment. The chain is
/// the Deployment's, not the custom resource's (whose kind kvchain knows nothing of), and the
/// Deployment gets no second, pod-less template chain beside it.
#[tokio::test]
async fn a_deployment_under_an_operator_keeps_its_pods_chain() {
    let plain = world();
    plain.replace_silently(SECRETS, vec![synced_secret("foosecret", UUU_CANARY, true)]);

    let api = world();
    api.replace_silently(SECRETS, vec![synced_secret("foosecret", UUU_CANARY, true)]);
    let mut d = upstream("deployment-synck8s-azure.yaml", VARS);
    d["metadata"]["namespace"] = json!(NS);
    d["metadata"]["uid"] = json!("d-1");
    d["metadata"]["ownerReferences"] = json!([{"apiVersion": "apps.example.com/v1",
        "kind": "WebApp", "name": "busybox", "uid": "w-1", "controller": true,
        "blockOwnerDeletion": true}]);
    api.replace_silently(DEPLOYMENTS, vec![d]);
    // The pod as its ReplicaSet made it.
    let mut p = pod("azure-sync", "Running");
    p["metadata"]["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet",
        "name": "busybox-deployment-5d8f7c9b8d", "uid": "rs-1", "controller": true}]);
    api.replace_silently(PODS, vec![p]);
    let r = check(&api, "json").await.json();
    let workloads = |r: &Value| -> Vec<String> {
        (r["chains"].as_array().unwrap().iter())
            .map(|c| c["workload"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let now = workloads(&r);
    assert!(
        now.iter().all(|w| !w.starts_with("WebApp/")),
        "the Deployment's pods are its chain: {now:?}"
    );
    let pods_chain = (r["chains"].as_array().unwrap().iter())
        .find(|c| c["pod"] == POD)
        .unwrap_or_else(|| panic!("{:#}", r["chains"]));
    assert_eq!(pods_chain["workload"], "Deployment/busybox-deployment");
    assert_eq!(now.len(), r["chains"].as_array().unwrap().len(), "{now:?}");
    // Without the owner the same pods make as many chains: no pod-less template beside them.
    let mut plain_pod = pod("azure-sync", "Running");
    plain_pod["metadata"]["ownerReferences"] = json!([{"apiVersion": "apps/v1",
        "kind": "ReplicaSet", "name": "busybox-deployment-5d8f7c9b8d", "uid": "rs-1",
        "controller": true}]);
    plain.replace_silently(PODS, vec![plain_pod]);
    let before = check(&plain, "json").await.json();
    assert_eq!(workloads(&r), workloads(&before), "{:#}", r["chains"]);
    for f in r["findings"].as_array().unwrap() {
        let m = f["message"].as_str().unwrap();
        assert!(!m.contains("WebApp"), "{f:#}");
    }
}

/// A template edit of a Deployment an operator controls is put back by that controller
/// (Kubernetes docs, "Owners and Dependents"): KVC102's edit says to make it in the owner too.
#[tokio::test]
async fn a_template_edit_under_an_operator_names_the_operator() {
    let api = world();
    api.replace_silently(SECRETS, vec![synced_secret("foosecret", UUU_CANARY, true)]);
    let mut d = upstream("deployment-synck8s-azure.yaml", VARS);
    d["metadata"]["namespace"] = json!(NS);
    d["metadata"]["ownerReferences"] = json!([{"apiVersion": "apps.example.com/v1",
        "kind": "WebApp", "name": "busybox", "uid": "w-1", "controller": true}]);
    api.replace_silently(DEPLOYMENTS, vec![d]);
    let mut p = pod("azure-sync", "Running");
    p["metadata"]["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet",
        "name": "busybox-deployment-5d8f7c9b8d", "uid": "rs-1", "controller": true}]);
    p["spec"]["containers"][0]["volumeMounts"][0]["subPath"] = json!("db-password");
    api.replace_silently(PODS, vec![p]);
    let r = check(&api, "json").await.json();
    let f = (r["findings"].as_array().unwrap().iter())
        .find(|f| f["code"] == "KVC102" && f["chain"].as_str().unwrap().contains(POD))
        .unwrap_or_else(|| panic!("KVC102: {:#}", r["findings"]));
    let fix = f["fix"].as_str().unwrap();
    assert!(
        fix.contains("deployment/busybox-deployment")
            && fix.contains("controlled by WebApp/busybox"),
        "{fix}"
    );
}
