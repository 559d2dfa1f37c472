//! Fixes that change a paused Deployment's pod template. Kubernetes docs (Deployments,
//! "Pausing and Resuming a rollout"): while `spec.paused` is true, changes to the pod
//! template trigger no rollout until `kubectl rollout resume deployment/NAME`. So a label
//! patch (KVC201), a Reloader annotation whose reloads are template changes (KVC902, FACTS
//! §10), `kubectl set env` (KVC206) or a template edit (KVC102) leaves a paused Deployment's
//! pods as they are: the fix resumes it and says why. The same Deployment not paused keeps
//! its fix exactly as it was.

use std::process::Command;

use kvchain::chain::Code;
use kvchain::chain::testkit::{self as tk, APP, NS, TENANT};
use kvchain::snapshot::*;
use serde_json::Value;

use super::cause_kit::OTHER_TENANT;
use super::rules_runtime::{only, run};

fn resume() -> String {
    format!("kubectl rollout resume deployment/{APP} -n {NS}")
}

fn paused(s: &mut Snapshot) {
    tk::workload_mut(s, "Deployment", APP).paused = true;
}

/// `fix` of a paused Deployment: `running` (the same Deployment's fix, not paused) with the
/// resume after its command and the reason at the end of its comment.
fn assert_resumed(fix: &str, running: &str) {
    let (run, note) = running.split_once("  # ").unwrap_or((running, ""));
    let expected = format!("{run} && {}  # ", resume());
    assert!(
        fix.starts_with(&expected),
        "{fix}\nexpected start {expected}"
    );
    if !note.is_empty() {
        assert!(fix.contains(&format!("  # {note}; ")), "{fix}");
    }
    assert!(
        fix.contains(&format!("Deployment {APP} is paused (spec.paused): "))
            && fix.contains("rolls out nothing while it stays paused"),
        "{fix}"
    );
}

/// The fix of `code` in `s`, and in `s` with its Deployment paused.
fn fixes(s: Snapshot, code: Code) -> (String, String) {
    let running = only(&run(&s), code).fix.to_string();
    let mut s = s;
    paused(&mut s);
    (running, only(&run(&s), code).fix.to_string())
}

#[test]
fn kvc201_label_patch_of_a_paused_deployment_resumes_it() {
    let mut s = tk::healthy();
    tk::pod_mut(&mut s, APP)
        .labels
        .remove("azure.workload.identity/use");
    let (running, held) = fixes(s, Code::KVC201);
    assert_eq!(
        running,
        format!(
            "kubectl patch deployment {APP} -n {NS} -p '{{\"spec\":{{\"template\":{{\"metadata\":{{\"labels\":{{\"azure.workload.identity/use\":\"true\"}}}}}}}}}}'  # new pods are mutated on CREATE"
        )
    );
    assert!(!running.contains("resume") && !running.contains("paused"));
    assert_resumed(&held, &running);
    assert!(
        held.contains("the labelled template rolls out nothing"),
        "{held}"
    );
}

#[test]
fn kvc902_reloader_annotation_on_a_paused_deployment_resumes_it() {
    let mut s = tk::healthy();
    tk::workload_mut(&mut s, "Deployment", APP)
        .annotations
        .remove("reloader.stakater.com/auto");
    let (running, held) = fixes(s, Code::KVC902);
    assert_eq!(
        running,
        format!(
            "kubectl annotate deployment/{APP} -n {NS} reloader.stakater.com/auto=true --overwrite  # needs Stakater Reloader in the cluster"
        )
    );
    assert_resumed(&held, &running);
    assert!(
        held.contains("the template change Reloader makes at each rotation rolls out nothing"),
        "{held}"
    );
}

/// A container sets AZURE_TENANT_ID itself (the webhook never overwrites it, FACTS §6):
/// `kubectl set env` changes the template, which a paused Deployment does not roll out.
#[test]
fn kvc206_set_env_on_a_paused_deployment_resumes_it() {
    let mut s = tk::healthy();
    tk::pod_mut(&mut s, APP).containers[0].env.insert(
        0,
        EnvObs {
            name: "AZURE_TENANT_ID".into(),
            source: EnvSourceObs::Literal {
                value: Some(OTHER_TENANT.into()),
            },
        },
    );
    let mut template = tk::pod_mut(&mut s, APP).clone();
    template.template_of = Some(tk::owner("Deployment", APP));
    tk::workload_mut(&mut s, "Deployment", APP).template = Some(Box::new(template));
    let container = tk::pod_mut(&mut s, APP).containers[0].name.to_string();
    let (running, held) = fixes(s, Code::KVC206);
    assert_eq!(
        running,
        format!("kubectl set env deployment/{APP} -n {NS} -c {container} AZURE_TENANT_ID={TENANT}")
    );
    assert_resumed(&held, &running);
}

/// A template edit (a subPath mount of the secrets-store volume, KVC102) is no different.
#[test]
fn kvc102_template_edit_of_a_paused_deployment_resumes_it() {
    let mut s = tk::healthy();
    let mount = &mut tk::pod_mut(&mut s, APP).containers[0].mounts[0];
    mount.sub_path = Some("db-password".into());
    let (running, held) = fixes(s, Code::KVC102);
    assert!(
        running.starts_with(&format!("kubectl edit deployment/{APP} -n {NS}  # ")),
        "{running}"
    );
    assert!(!running.contains("resume"), "{running}");
    assert_resumed(&held, &running);
}

/// Another owner's fix is not touched by a paused Deployment of the same name.
#[test]
fn a_paused_deployment_of_another_namespace_changes_nothing() {
    let mut s = tk::healthy();
    tk::pod_mut(&mut s, APP)
        .labels
        .remove("azure.workload.identity/use");
    let running = only(&run(&s), Code::KVC201).fix.to_string();
    s.workloads.items.push(WorkloadObs {
        kind: "Deployment".into(),
        namespace: "elsewhere".into(),
        name: APP.into(),
        paused: true,
        ..Default::default()
    });
    assert_eq!(only(&run(&s), Code::KVC201).fix.to_string(), running);
}

// ---- manifests (check -f): the pod template of a Deployment read with spec.paused ----

/// A ServiceAccount and SPC for workload identity (the SPC syncs Secret `api-secret`), and
/// Deployment `api` (paused or not) whose template lacks the workload-identity label and reads
/// the synced Secret through env with no Reloader annotation: KVC201 and KVC902.
fn manifests(paused: bool) -> tempfile::TempDir {
    let pause = if paused { "  paused: true\n" } else { "" };
    let yaml = format!(
        r#"apiVersion: v1
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
  secretObjects:
  - secretName: api-secret
    type: Opaque
    data:
    - {{objectName: db-password, key: password}}
  parameters:
    clientID: "11111111-2222-4333-8444-555555555555"
    keyvaultName: kv-team
    tenantID: "5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b"
    objects: |
      array:
        - |
          objectName: db-password
          objectType: secret
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: team
spec:
{pause}  replicas: 2
  selector:
    matchLabels: {{app: api}}
  template:
    metadata:
      labels: {{app: api}}
    spec:
      serviceAccountName: app
      containers:
      - name: c
        image: busybox
        env:
        - name: DB_PASSWORD
          valueFrom:
            secretKeyRef: {{name: api-secret, key: password}}
        volumeMounts:
        - {{name: s, mountPath: /mnt/s, readOnly: true}}
      volumes:
      - name: s
        csi:
          driver: secrets-store.csi.k8s.io
          readOnly: true
          volumeAttributes: {{secretProviderClass: app-kv}}
"#
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.yaml"), yaml).unwrap();
    dir
}

fn manifest_fix(paused: bool, code: &str) -> String {
    let dir = manifests(paused);
    let out = Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "-o", "json", "-f"])
        .arg(dir.path())
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == code)
        .unwrap_or_else(|| panic!("no {code}: {report:#}"))["fix"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn manifests_a_paused_deployments_label_patch_and_reloader_annotation_resume_it() {
    let resume = "kubectl rollout resume deployment/api -n team";
    for code in ["KVC201", "KVC902"] {
        let running = manifest_fix(false, code);
        assert!(
            !running.contains("resume") && !running.contains("paused"),
            "{code}: {running}"
        );
        let held = manifest_fix(true, code);
        let (run, _) = running.split_once("  # ").unwrap();
        assert!(
            held.starts_with(&format!("{run} && {resume}  # ")),
            "{code}: {held}"
        );
        assert!(
            held.contains("Deployment api is paused (spec.paused): ")
                && held.contains("rolls out nothing while it stays paused"),
            "{code}: {held}"
        );
    }
    assert!(manifest_fix(false, "KVC201").starts_with("kubectl patch deployment api -n team -p "));
}
