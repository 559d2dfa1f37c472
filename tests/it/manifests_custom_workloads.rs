//! Pod-making custom resources in manifests (audit 18, A18-4 and A18-9): an Argo Rollout keeps
//! its pod template in `spec.template`, a KEDA ScaledJob in `spec.jobTargetRef.template`, and
//! both are custom resources, which `kubectl patch` only changes with `--type merge` (the API
//! server refuses a strategic merge patch on a custom resource). Any other kind holding a
//! secrets-store volume is said unread — its chain would otherwise pass unchecked.

use std::process::Command;

use serde_json::Value;

const COMMON: &str = r#"apiVersion: v1
kind: ServiceAccount
metadata:
  name: app
  namespace: team
  annotations:
    azure.workload.identity/client-id: "11111111-2222-4333-8444-555555555555"
---
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: app-kv
  namespace: team
spec:
  provider: azure
  parameters:
    clientID: "11111111-2222-4333-8444-555555555555"
    keyvaultName: kv-team
    tenantID: "5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b"
    objects: |
      array:
        - |
          objectName: db-password
          objectType: secret
"#;

/// A pod template without the workload-identity label (KVC201).
const TEMPLATE: &str = r#"metadata:
  labels: {app: web}
spec:
  serviceAccountName: app
  containers:
  - name: c
    image: busybox
    volumeMounts:
    - {name: s, mountPath: /mnt/s, readOnly: true}
  volumes:
  - name: s
    csi:
      driver: secrets-store.csi.k8s.io
      readOnly: true
      volumeAttributes: {secretProviderClass: app-kv}
"#;

fn indent(text: &str, by: usize) -> String {
    text.lines()
        .map(|l| format!("{}{l}\n", " ".repeat(by)))
        .collect()
}

fn check(workload: &str) -> (Option<i32>, Value) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("common.yaml"), COMMON).unwrap();
    std::fs::write(dir.path().join("workload.yaml"), workload).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "-o", "json", "-f"])
        .arg(dir.path())
        .output()
        .unwrap();
    (
        out.status.code(),
        serde_json::from_slice(&out.stdout).unwrap(),
    )
}

fn finding<'a>(report: &'a Value, code: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == code)
        .unwrap_or_else(|| panic!("no {code}: {report:#}"))
}

#[test]
fn an_argo_rollouts_template_is_read_and_patched_as_a_custom_resource() {
    let rollout = format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: web\n  namespace: team\nspec:\n  replicas: 2\n  selector: {{matchLabels: {{app: web}}}}\n  strategy:\n    canary: {{}}\n  template:\n{}",
        indent(TEMPLATE, 4)
    );
    let (_, report) = check(&rollout);
    let f = finding(&report, "KVC201");
    assert_eq!(
        f["fix"],
        r#"kubectl patch rollout web -n team --type merge -p '{"spec":{"template":{"metadata":{"labels":{"azure.workload.identity/use":"true"}}}}}'  # new pods are mutated on CREATE"#
    );
}

#[test]
fn a_keda_scaled_jobs_template_is_under_its_job_target() {
    let job = format!(
        "apiVersion: keda.sh/v1alpha1\nkind: ScaledJob\nmetadata:\n  name: worker\n  namespace: team\nspec:\n  jobTargetRef:\n    template:\n{}  triggers: []\n",
        indent(TEMPLATE, 6)
    );
    let (_, report) = check(&job);
    let f = finding(&report, "KVC201");
    assert_eq!(
        f["fix"],
        r#"kubectl patch scaledjob worker -n team --type merge -p '{"spec":{"jobTargetRef":{"template":{"metadata":{"labels":{"azure.workload.identity/use":"true"}}}}}}'  # the next run's pods are mutated on CREATE"#
    );
}

#[test]
fn an_unknown_kind_holding_a_secrets_store_volume_is_unread_not_passed() {
    let cloneset = format!(
        "apiVersion: apps.kruise.io/v1alpha1\nkind: CloneSet\nmetadata:\n  name: web\n  namespace: team\nspec:\n  template:\n{}",
        indent(TEMPLATE, 4)
    );
    let (code, report) = check(&cloneset);
    assert_eq!(code, Some(1), "{report:#}");
    let text = report.to_string();
    assert!(
        text.contains("kvchain does not read apps.kruise.io/v1alpha1 CloneSet")
            && text.contains("spec.template.spec.volumes[0].csi")
            && text.contains("workload.yaml"),
        "{report:#}"
    );
    // A custom kind without one is still not ours to judge.
    let (code, _) = check(
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: team\nspec:\n  size: 3\n",
    );
    assert_eq!(code, Some(0));
}
