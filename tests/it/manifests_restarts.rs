//! The restart half of a fix, for workloads read from manifests (README "check -f"): a pod
//! template is named after its workload, no pod is. A CronJob's next run creates new pods
//! (which the webhook mutates, FACTS §6), a Job's running pods carry its `job-name` label;
//! neither has a pod called after the workload, so `kubectl delete pod <workload>` fails with
//! NotFound when pasted (audit 14, A14-7).

use std::process::Command;

use serde_json::Value;

/// A ServiceAccount whose client-id differs from the SPC's clientID (KVC204), the SPC, and
/// `workload`, which runs as it.
fn manifests(workload: &str) -> tempfile::TempDir {
    let common = r#"apiVersion: v1
kind: ServiceAccount
metadata:
  name: app
  namespace: team
  annotations:
    azure.workload.identity/client-id: "99999999-2222-4333-8444-555555555555"
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
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("common.yaml"), common).unwrap();
    std::fs::write(dir.path().join("workload.yaml"), workload).unwrap();
    dir
}

const POD_SPEC: &str = r#"metadata:
  labels: {app: batch, azure.workload.identity/use: "true"}
spec:
  restartPolicy: OnFailure
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

fn kvc204_fix(workload: &str) -> String {
    let dir = manifests(workload);
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
        .find(|f| f["code"] == "KVC204")
        .unwrap_or_else(|| panic!("no KVC204: {report:#}"))["fix"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn a_cronjobs_next_run_needs_no_restart_and_no_pod_is_named_after_it() {
    let cronjob = format!(
        "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: nightly\n  namespace: team\nspec:\n  schedule: \"0 1 * * *\"\n  jobTemplate:\n    spec:\n      template:\n{}",
        indent(POD_SPEC, 8)
    );
    let fix = kvc204_fix(&cronjob);
    assert!(
        fix.starts_with("kubectl annotate serviceaccount app -n team ")
            && fix.contains(" && kubectl get cronjob nightly -n team  # nothing to restart"),
        "{fix}"
    );
    assert!(!fix.contains("delete pod nightly"), "{fix}");
}

#[test]
fn a_jobs_running_pods_are_found_by_its_job_name_label() {
    let job = format!(
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  namespace: team\nspec:\n  template:\n{}",
        indent(POD_SPEC, 4)
    );
    let fix = kvc204_fix(&job);
    assert!(
        fix.contains(" && kubectl delete pod -n team -l job-name=migrate  #"),
        "{fix}"
    );
    assert!(!fix.contains("delete pod migrate"), "{fix}");
}

fn stateful_set(strategy: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: ledger\n  namespace: team\nspec:\n  replicas: 3\n  serviceName: ledger\n  updateStrategy: {strategy}\n  selector:\n    matchLabels: {{app: batch}}\n  template:\n{}",
        indent(
            &POD_SPEC.replace("restartPolicy: OnFailure", "restartPolicy: Always"),
            4
        )
    )
}

/// Under updateStrategy OnDelete a rollout restart changes the template and replaces no pod
/// (Kubernetes "StatefulSets", update strategies): the fix deletes the pods, by their names.
#[test]
fn a_stateful_set_on_delete_has_its_pods_deleted_not_rolled() {
    let fix = kvc204_fix(&stateful_set("{type: OnDelete}"));
    assert!(
        fix.contains(
            " && kubectl delete pod ledger-0 ledger-1 ledger-2 -n team --ignore-not-found  #"
        ) && fix.contains("OnDelete"),
        "{fix}"
    );
    assert!(!fix.contains("kubectl rollout restart"), "{fix}");
}

/// With rollingUpdate.partition 2 the rollout replaces ledger-2 only: ledger-0 and ledger-1
/// are deleted to be restarted.
#[test]
fn a_stateful_set_partition_rolls_the_upper_ordinals_and_deletes_the_lower() {
    let fix = kvc204_fix(&stateful_set(
        "{type: RollingUpdate, rollingUpdate: {partition: 2}}",
    ));
    assert!(
        fix.contains(
            " && kubectl rollout restart statefulset/ledger -n team && kubectl delete pod ledger-0 ledger-1 -n team --ignore-not-found  #"
        ) && fix.contains("partition 2"),
        "{fix}"
    );
}

/// Deployment team/api of two replicas of the batch pod (restartPolicy Always), `spec` lines
/// added to its spec.
fn api_deployment(spec: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: team\nspec:\n{spec}  replicas: 2\n  selector:\n    matchLabels: {{app: batch}}\n  template:\n{}",
        indent(
            &POD_SPEC.replace("restartPolicy: OnFailure", "restartPolicy: Always"),
            4
        )
    )
}

/// Kubernetes docs (Deployments, "Recreate Deployment"): "All existing Pods are killed before
/// new ones are created when .spec.strategy.type==Recreate": the fix's rollout restart of such
/// a Deployment, from its manifest, says it is an outage until the new pods are ready.
#[test]
fn a_recreate_deployments_restart_says_it_stops_every_replica_first() {
    let fix = kvc204_fix(&api_deployment("  strategy:\n    type: Recreate\n"));
    assert!(
        fix.ends_with(
            " && kubectl rollout restart deployment/api -n team  # Deployment api has strategy Recreate: the rollout stops every replica before it starts any new one, so it serves nothing until the new pods are ready"
        ),
        "{fix}"
    );
}

/// A paused Deployment (`spec.paused: true`): kubectl refuses `rollout restart` ("can't
/// restart paused deployment (run rollout resume first)"), so the fix deletes its pods (its
/// ReplicaSets make them again) and says how to restart it rolling.
#[test]
fn a_paused_deployments_pods_are_deleted_not_rolled() {
    let deployment = api_deployment("  paused: true\n");
    let fix = kvc204_fix(&deployment);
    let (run, why) = fix.split_once("  # ").expect("a command and why");
    assert!(
        run.ends_with(
            " && kubectl delete pod -n team -l app=batch,azure.workload.identity/use=true"
        ),
        "{fix}"
    );
    assert!(!run.contains("rollout restart"), "{fix}");
    assert!(
        why.starts_with(
            "Deployment api is paused (spec.paused): kubectl rollout restart refuses it"
        ) && why.contains("kubectl rollout resume deployment/api -n team"),
        "{fix}"
    );
    // Not paused: the rollout restart.
    let fix = kvc204_fix(&deployment.replace("  paused: true\n", ""));
    assert!(
        fix.ends_with(" && kubectl rollout restart deployment/api -n team"),
        "{fix}"
    );
}

/// A DaemonSet's rollout restart under RollingUpdate (the default) does not replace every pod
/// at once: its controller replaces them node by node, at most maxUnavailable nodes (1 unless
/// set) without an available pod at a time, and a new pod that never becomes available stops
/// it at its node (Kubernetes docs, "Perform a Rolling Update on a DaemonSet"). The template's
/// fix says so, in the words of a running pod's restart plan; under OnDelete it deletes the
/// pods by the template's labels instead.
#[test]
fn a_daemon_sets_rollout_restart_says_it_goes_node_by_node() {
    let daemon_set = |strategy: &str| {
        format!(
            "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: agent\n  namespace: team\nspec:\n{strategy}  selector:\n    matchLabels: {{app: batch}}\n  template:\n{}",
            indent(
                &POD_SPEC.replace("restartPolicy: OnFailure", "restartPolicy: Always"),
                4
            )
        )
    };
    let node_by_node = "Its pods are replaced node by node, at most maxUnavailable nodes at a time (1 unless set): a new pod that never becomes available (Ready for minReadySeconds) stops the rollout at its node, and the nodes not reached yet keep their old pods";
    for strategy in ["", "  updateStrategy: {type: RollingUpdate}\n"] {
        let fix = kvc204_fix(&daemon_set(strategy));
        assert!(
            fix.ends_with(&format!(
                " && kubectl rollout restart daemonset/agent -n team  # {node_by_node}"
            )),
            "{strategy:?}: {fix}"
        );
    }
    let fix = kvc204_fix(&daemon_set("  updateStrategy: {type: OnDelete}\n"));
    assert!(
        fix.contains(" && kubectl delete pod -n team -l app=batch,azure.workload.identity/use=true  # DaemonSet agent has updateStrategy OnDelete"),
        "{fix}"
    );
    assert!(
        !fix.contains("kubectl rollout restart") && !fix.contains("node by node"),
        "{fix}"
    );
}
