//! Evidence in time on a live cluster (issue 12 §3, FACTS §11 "Evidence ages"): a rotation
//! failure is a finding while it is the newest evidence, and history once the driver reported
//! a successful rotation after it. Also the live half of §4: a FailedCreate on a ReplicaSet.

use crate::live_support::*;
use kvchain::chain::{Code, LinkKind, Status, diagnose};
use serde_json::json;

fn at(seconds_ago: i64) -> String {
    jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_secs(seconds_ago))
        .unwrap()
        .to_string()
}

pub(crate) fn rotation_event(
    reason: &str,
    type_: &str,
    message: &str,
    seconds_ago: i64,
) -> serde_json::Value {
    json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": format!("{POD}.{}", reason.to_lowercase()), "namespace": NS},
        "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": POD, "namespace": NS,
                           "uid": "6f1c3a0e-93a4-4c1e-bd2e-0c1d2e3f4a5b"},
        "reason": reason, "message": message, "type": type_, "count": 4,
        "source": {"component": "csi-secrets-store-rotation"},
        "firstTimestamp": at(600), "lastTimestamp": at(seconds_ago)
    })
}

pub(crate) const DENIED: &str = "provider mount err: rpc error: code = Unknown desc = failed to mount secrets store objects for pod payments/busybox-secrets-store-inline-wi, err: rpc error: code = Unknown desc = failed to mount objects, error: failed to get objectType:secret, objectName:db-password, objectVersion:: GET https://kv-payments.vault.azure.net/secrets/db-password/\nRESPONSE 403: 403 Forbidden\n{\"error\":{\"code\":\"Forbidden\",\"innererror\":{\"code\":\"ForbiddenByRbac\"}}}";

pub(crate) async fn access_link(api: &FakeApi) -> kvchain::chain::Link {
    let snap = snapshot_of(api).await;
    let chains = diagnose(&snap);
    chains
        .iter()
        .find(|c| c.pod == POD)
        .expect("the pod's chain")
        .link(LinkKind::Access)
        .clone()
}

#[tokio::test]
async fn a_rotation_failure_is_history_once_a_later_rotation_completed() {
    // The role was missing 30 s ago: the failure is the newest evidence.
    let api = world();
    api.add(
        EVENTS,
        rotation_event("MountRotationFailed", "Warning", DENIED, 30),
    );
    let broken = access_link(&api).await;
    assert_eq!(broken.status, Status::Broken, "{broken:#?}");
    assert!(broken.findings.iter().any(|f| f.code == Code::KVC501));
    // Repaired: the next poll rotated the synced Secret (≤v1.5 emits SecretRotationComplete
    // after every successful patch step). Healthy within one poll; the failure is history.
    api.add(
        EVENTS,
        rotation_event(
            "SecretRotationComplete",
            "Normal",
            "successfully rotated K8s secret foosecret",
            5,
        ),
    );
    let repaired = access_link(&api).await;
    assert!(repaired.findings.is_empty(), "{repaired:#?}");
    assert!(
        repaired
            .facts
            .iter()
            .any(|f| f.label == "history (KVC501, KVC502 or KVC503)"),
        "{repaired:#?}"
    );
}

/// Issue 12 §4 on a live cluster: the Deployment has no pod because admission denies them;
/// the ReplicaSet's FailedCreate is read and the Deployment's template is the chain.
#[tokio::test]
async fn a_deployment_without_pods_is_diagnosed_from_its_template_and_failed_create() {
    let api = world();
    api.add(
        EVENTS,
        json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "busybox-deployment-5d8f7c9b8d.failedcreate", "namespace": NS},
            "involvedObject": {"apiVersion": "apps/v1", "kind": "ReplicaSet",
                               "name": "busybox-deployment-5d8f7c9b8d", "namespace": NS},
            "reason": "FailedCreate", "type": "Warning", "count": 17,
            "message": "Error creating: admission webhook \"mutation.azure-workload-identity.io\" denied the request: token expiration 600 not valid. Expected value to be between 3600 and 86400",
            "source": {"component": "replicaset-controller"},
            "firstTimestamp": at(900), "lastTimestamp": at(20)
        }),
    );
    let snap = snapshot_of(&api).await;
    let chains = diagnose(&snap);
    let c = chains
        .iter()
        .find(|c| {
            c.workload
                .as_ref()
                .is_some_and(|w| w.kind == "Deployment" && w.name == "busybox-deployment")
        })
        .unwrap_or_else(|| {
            panic!(
                "no template chain: {:?}",
                chains.iter().map(|c| &c.id).collect::<Vec<_>>()
            )
        });
    let f = c
        .findings()
        .find(|f| f.code == Code::KVC106)
        .unwrap_or_else(|| panic!("{:#?}", c.links));
    assert!(
        f.evidence[0].contains("token expiration 600 not valid"),
        "{f:#?}"
    );
    assert_eq!(f.chain, c.id);
}
