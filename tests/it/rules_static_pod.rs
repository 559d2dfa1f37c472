//! Static pods (audit 18, A18-6). Kubernetes docs, "Create static Pods": the kubelet runs them
//! from manifest files and the API holds a mirror pod owned by the Node; "the spec of a static
//! Pod cannot refer to other API objects (e.g., ServiceAccount, ConfigMap, Secret)". So there
//! is no account to annotate or federate (one finding, KVC207, not KVC203/KVC401 about the
//! `default` account), no Node to edit, and deleting the mirror restarts nothing.

use std::process::Command;

use serde_json::Value;

fn manifests(spc_auth: &str) -> String {
    format!(
        r#"apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: agent-kv
  namespace: kube-system
spec:
  provider: azure
  parameters:
{spc_auth}
    keyvaultName: kv-node
    tenantID: "5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b"
    objects: |
      array:
        - |
          objectName: agent-token
          objectType: secret
---
apiVersion: v1
kind: Pod
metadata:
  name: agent-aks-node-1
  namespace: kube-system
  annotations:
    kubernetes.io/config.mirror: "3f1c"
    kubernetes.io/config.source: file
  ownerReferences:
  - {{apiVersion: v1, kind: Node, name: aks-node-1, uid: "9c1d", controller: true}}
spec:
  nodeName: aks-node-1
  containers:
  - name: agent
    image: busybox
    volumeMounts:
    - {{name: kv, mountPath: /mnt/kv, readOnly: true}}
  volumes:
  - name: kv
    csi:
      driver: secrets-store.csi.k8s.io
      readOnly: true
      volumeAttributes: {{secretProviderClass: agent-kv}}
"#
    )
}

fn check(text: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("static.yaml"), text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "-o", "json", "-f"])
        .arg(dir.path())
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

fn codes(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn workload_identity_in_a_static_pod_is_one_cause_with_no_account_to_fix() {
    let report = check(&manifests(
        "    clientID: \"11111111-2222-4333-8444-555555555555\"",
    ));
    assert_eq!(codes(&report), ["KVC207"], "{report:#}");
    let f = &report["findings"][0];
    assert_eq!(f["severity"], "error");
    let fix = f["fix"].as_str().unwrap();
    assert!(
        fix.contains("DaemonSet")
            && fix.contains("kubernetes.io/hostname: aks-node-1")
            && fix.contains("11111111-2222-4333-8444-555555555555"),
        "{fix}"
    );
    let text = report.to_string();
    assert!(!text.contains("serviceaccount default"), "{report:#}");
    assert!(
        !text.contains("node/aks-node-1"),
        "a Node is no workload to edit: {report:#}"
    );
}

#[test]
fn the_node_identity_is_the_one_a_static_pod_can_mount_with_and_is_not_moved_away() {
    let report = check(&manifests(
        "    useVMManagedIdentity: \"true\"\n    userAssignedIdentityID: \"22222222-2222-4333-8444-555555555555\"",
    ));
    assert_eq!(codes(&report), ["KVC303"], "{report:#}");
    let f = &report["findings"][0];
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("static pod of node aks-node-1"),
        "{f:#}"
    );
    // KVC303's usual fix federates the pod's service account: a static pod has none.
    let fix = f["fix"].as_str().unwrap();
    assert!(!fix.contains("federated-credential create"), "{fix}");
    assert!(fix.contains("DaemonSet"), "{fix}");
}
