//! A Reloader annotation on a StatefulSet with `rollingUpdate.partition`, judged per pod.
//! Kubernetes docs, StatefulSet "Partitioned rolling updates": when `.spec.template` changes,
//! only pods with an ordinal at or above the partition are updated; those below are not, and
//! come back at the previous version even when deleted. Stakater Reloader restarts a workload
//! by changing its pod template at each rotation (FACTS §10), so a pod below the partition
//! keeps the env it started with: KVC902 on that pod's chain, not "ok: Reloader annotation",
//! no "rollout is due" just after a rotation; a pod at or above it is restarted as before.

use std::process::Command;

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Chain, Code, Finding, LinkKind, Severity, Status, diagnose_detailed};
use kvchain::snapshot::*;
use serde_json::Value;

use super::rules_runtime::run;
use super::rules_update_strategies::owned_by;

const fn partitioned(partition: Option<i32>) -> UpdateObs {
    UpdateObs {
        on_delete: false,
        partition,
        parallel: false,
        start: 0,
    }
}

/// The chain of pod `pod`.
fn chain<'c>(chains: &'c [Chain], pod: &str) -> &'c Chain {
    (chains.iter())
        .find(|c| &*c.pod == pod)
        .unwrap_or_else(|| panic!("no chain of {pod}"))
}

fn kvc902(c: &Chain) -> Option<&Finding> {
    c.findings().find(|f| f.code == Code::KVC902)
}

/// The fix every held pod of the set gets: the partition to 0, with why and the alternative
/// that keeps the partition (deleting this pod, which reads the Secret again at start).
fn partition_fix(pod: &str, partition: i32) -> String {
    format!(
        r#"kubectl patch statefulset {APP} -n {NS} -p '{{"spec":{{"updateStrategy":{{"rollingUpdate":{{"partition":0}}}}}}}}'  # Reloader restarts by changing the pod template, which rollingUpdate.partition {partition} rolls out only to ordinals {partition} and up: at 0 the change Reloader makes at each rotation reaches every pod, and lowering it also rolls out whatever other template change the partition held back; to keep the partition, kubectl delete pod {pod} -n {NS} after each rotation instead (a deleted pod comes back at the previous revision, whose env reads the Secret again at container start), or read the mounted file instead of env"#
    )
}

#[test]
fn a_pod_below_the_partition_is_kvc902_and_one_at_or_above_it_is_ok() {
    let s = owned_by("StatefulSet", 3, partitioned(Some(2)), true);
    let chains = diagnose_detailed(&s);
    for i in [0, 1] {
        let pod = format!("{APP}-{i}");
        let c = chain(&chains, &pod);
        let f = kvc902(c).unwrap_or_else(|| panic!("{pod}: no KVC902"));
        assert_eq!(f.severity, Severity::Warning);
        assert_eq!(f.link, LinkKind::Consumers);
        assert_eq!(
            f.message.as_ref() as &str,
            format!(
                "StatefulSet/{APP} reads synced Secret {} through env, and its Reloader annotation restarts it by changing the pod template, but StatefulSet {APP} has rollingUpdate.partition 2: that change reaches only its pods with ordinal 2 or above, not pod {pod} (ordinal {i}), so env keeps the value from container start until the partition is lowered or the pod is deleted",
                tk::secret_name(APP)
            )
        );
        assert_eq!(f.fix.as_ref() as &str, partition_fix(&pod, 2));
        assert_eq!(
            f.confirm.as_ref() as &str,
            format!(
                "kubectl get statefulset/{APP} -n {NS} -o jsonpath='{{.spec.updateStrategy.rollingUpdate.partition}} {{.metadata.annotations}}'"
            )
        );
        assert!(
            (f.evidence.iter())
                .any(|e| **e == *format!("rollingUpdate.partition: 2 (pod {pod}: ordinal {i})")),
            "{:?}",
            f.evidence
        );
        assert_eq!(c.link(LinkKind::Consumers).status, Status::Warning);
        assert!(
            !(c.link(LinkKind::Consumers).facts.iter())
                .any(|f| f.observed.starts_with("Reloader annotation")),
            "{pod}: said ok"
        );
    }
    // Ordinal 2, at the partition: updated when the template changes, Reloader restarts it.
    let at = chain(&chains, &format!("{APP}-2"));
    assert!(kvc902(at).is_none(), "{:?}", kvc902(at));
    assert!(
        (at.link(LinkKind::Consumers).facts.iter())
            .any(|f| &*f.label == "restart on rotation"
                && &*f.observed
                    == "Reloader annotation (that a Reloader controller runs in the cluster is not read)"),
        "{:#?}",
        at.link(LinkKind::Consumers).facts
    );
}

/// The same fix is pasteable: its patch is a JSON merge of the partition to 0, the only value
/// that lets every ordinal, 0 included, take Reloader's template change.
#[test]
fn the_fix_patches_the_partition_to_zero_with_valid_json() {
    let s = owned_by("StatefulSet", 2, partitioned(Some(1)), true);
    let chains = run(&s);
    let f = kvc902(chain(&chains, &format!("{APP}-0"))).expect("KVC902 on web-0");
    let (cmd, _) = f.fix.split_once("  # ").unwrap();
    let patch = (cmd.split_once(" -p '").unwrap().1)
        .strip_suffix('\'')
        .unwrap();
    let v: Value = serde_json::from_str(patch).unwrap();
    assert_eq!(v["spec"]["updateStrategy"]["rollingUpdate"]["partition"], 0);
    assert!(cmd.starts_with(&format!("kubectl patch statefulset {APP} -n {NS} -p ")));
    assert!(kvc902(chain(&chains, &format!("{APP}-1"))).is_none());
}

/// No partition, or 0, holds nothing back; a partition at the replicas holds every pod.
#[test]
fn no_partition_holds_nothing_and_one_at_the_replicas_holds_every_pod() {
    for p in [None, Some(0)] {
        let chains = run(&owned_by("StatefulSet", 2, partitioned(p), true));
        assert!(
            chains.iter().all(|c| kvc902(c).is_none()),
            "partition {p:?}"
        );
    }
    let chains = run(&owned_by("StatefulSet", 2, partitioned(Some(2)), true));
    for pod in [format!("{APP}-0"), format!("{APP}-1")] {
        let f = kvc902(chain(&chains, &pod)).unwrap_or_else(|| panic!("{pod}"));
        assert_eq!(f.fix.as_ref() as &str, partition_fix(&pod, 2));
    }
}

/// Just after a rotation a watched pod holding the old env is "its rollout is due" (info);
/// below the partition no rollout replaces it: the stale env stays an error.
#[test]
fn kvc901_just_after_a_rotation_is_due_only_at_or_above_the_partition() {
    let mut s = owned_by("StatefulSet", 2, partitioned(Some(1)), true);
    let at = tk::ago(jiff::SignedDuration::from_secs(10));
    tk::secret_mut(&mut s, APP).updated_at = Some(at);
    if let Observed::Known(Some(o)) = &mut tk::object_mut(&mut s, APP).state {
        o.versions[0].created = Some(at);
    }
    let chains = run(&s);
    let kvc901 = |pod: &str| {
        chain(&chains, pod)
            .findings()
            .find(|f| f.code == Code::KVC901)
            .cloned()
            .unwrap_or_else(|| panic!("{pod}: no KVC901"))
    };
    let above = kvc901(&format!("{APP}-1"));
    assert_eq!(above.severity, Severity::Info, "{above:#?}");
    assert!(
        above.message.contains("rollout is due"),
        "{}",
        above.message
    );
    let below = kvc901(&format!("{APP}-0"));
    assert_eq!(below.severity, Severity::Error, "{below:#?}");
    assert!(
        !below.message.contains("rollout is due"),
        "{}",
        below.message
    );
}

// ---- manifests (check -f): the template stands for every ordinal, 0 included ----

/// StatefulSet `db` (3 replicas, `partition`) annotated for Reloader, reading the SPC's
/// synced Secret through env.
fn manifests(partition: i32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("db.yaml"), manifest_yaml(partition)).unwrap();
    dir
}

/// [`manifests`]' YAML: its StatefulSet's spec has `serviceName: db` on a line of its own.
pub(crate) fn manifest_yaml(partition: i32) -> String {
    format!(
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
  - secretName: db-secret
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
kind: StatefulSet
metadata:
  name: db
  namespace: team
  annotations:
    reloader.stakater.com/auto: "true"
spec:
  replicas: 3
  serviceName: db
  updateStrategy:
    type: RollingUpdate
    rollingUpdate: {{partition: {partition}}}
  selector:
    matchLabels: {{app: db}}
  template:
    metadata:
      labels: {{app: db, azure.workload.identity/use: "true"}}
    spec:
      serviceAccountName: app
      containers:
      - name: c
        image: busybox
        env:
        - name: DB_PASSWORD
          valueFrom:
            secretKeyRef: {{name: db-secret, key: password}}
        volumeMounts:
        - {{name: s, mountPath: /mnt/s, readOnly: true}}
      volumes:
      - name: s
        csi:
          driver: secrets-store.csi.k8s.io
          readOnly: true
          volumeAttributes: {{secretProviderClass: app-kv}}
"#
    )
}

fn manifest_kvc902(partition: i32) -> Option<Value> {
    let dir = manifests(partition);
    let out = Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "-o", "json", "-f"])
        .arg(dir.path())
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    (report["findings"].as_array().unwrap().iter())
        .find(|f| f["code"] == "KVC902")
        .cloned()
}

#[test]
fn manifests_a_partitioned_templates_reloader_annotation_misses_the_ordinals_below() {
    assert!(manifest_kvc902(0).is_none(), "{:#?}", manifest_kvc902(0));
    let f = manifest_kvc902(2).expect("KVC902");
    let message = f["message"].as_str().unwrap();
    assert!(
        message.ends_with("but StatefulSet db has rollingUpdate.partition 2: that change reaches only its pods with ordinal 2 or above, not its pods below ordinal 2, so their env keeps the value from container start until the partition is lowered or they are deleted"),
        "{message}"
    );
    let fix = f["fix"].as_str().unwrap();
    assert!(
        fix.starts_with(r#"kubectl patch statefulset db -n team -p '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}'  # "#),
        "{fix}"
    );
    assert!(
        fix.contains("to keep the partition, kubectl delete pod db-0 db-1 -n team after each rotation instead"),
        "{fix}"
    );
}
