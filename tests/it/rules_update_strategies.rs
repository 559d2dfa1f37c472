//! Fixes that change a pod template whose controller does not roll the change out by itself,
//! and Reloader's restarts held back the same way. Kubernetes docs:
//! - StatefulSet "Update strategies": under `OnDelete` the controller does not update the
//!   pods when `.spec.template` changes; users delete pods for it to make new ones from the
//!   modified template. DaemonSet "Update strategy": under `OnDelete`, new pods are made only
//!   when old ones are deleted by hand.
//! - StatefulSet "Partitioned rolling updates": only ordinals at or above the partition are
//!   updated; those below are not, and are re-created at the previous version even if deleted.
//! - Deployments, "Pausing and Resuming a rollout": a paused Deployment rolls out no template
//!   change until resumed.
//!
//! Stakater Reloader restarts a workload by changing its pod template (FACTS §10), so the same
//! holds for its annotation: proposed (KVC902's fix), already there (the Consumers link), or
//! awaited just after a rotation (KVC901). Each case is checked against the same owner under
//! RollingUpdate (or not paused), whose text is unchanged.

use std::process::Command;

use kvchain::chain::testkit::{self as tk, APP, NS, TENANT};
use kvchain::chain::{Code, Severity};
use kvchain::snapshot::*;
use serde_json::Value;

use super::cause_kit::OTHER_TENANT;
use super::rules_runtime::{codes, only, run};

const ROLLING: UpdateObs = UpdateObs {
    on_delete: false,
    partition: None,
    parallel: false,
    start: 0,
};
const ON_DELETE: UpdateObs = UpdateObs {
    on_delete: true,
    partition: None,
    parallel: false,
    start: 0,
};

/// The testkit's app with `pods` pods owned by `kind` `web` (a StatefulSet's named by ordinal,
/// `web-0`…, a DaemonSet's `web-<suffix>`) under `update`, annotated for Reloader when
/// `reloader`; its Deployment and ReplicaSet gone.
pub(crate) fn owned_by(kind: &str, pods: usize, update: UpdateObs, reloader: bool) -> Snapshot {
    let mut s = tk::empty();
    tk::add_app(&mut s, NS, APP, pods);
    let rs = tk::replica_set(APP);
    s.workloads
        .items
        .retain(|w| w.name != APP && w.name.as_str() != rs);
    s.workloads.items.push(WorkloadObs {
        kind: kind.into(),
        namespace: NS.into(),
        name: APP.into(),
        uid: format!("uid-{kind}-{APP}"),
        replicas: (kind == "StatefulSet").then_some(pods as i32),
        annotations: if reloader {
            [("reloader.stakater.com/auto".to_string(), "true".to_string())]
                .into_iter()
                .collect::<std::collections::BTreeMap<_, _>>()
                .into()
        } else {
            Default::default()
        },
        update: Some(update),
        ..Default::default()
    });
    for (i, p) in s.pods.items.iter_mut().enumerate() {
        let name = match kind {
            "StatefulSet" => format!("{APP}-{i}"),
            _ => format!("{APP}-q{i}x7z"),
        };
        for st in s.spc_statuses.items.iter_mut() {
            if st.pod_name == p.name.as_str() {
                st.pod_name = name.as_str().into();
            }
        }
        p.name = name.as_str().into();
        p.owners = vec![tk::owner(kind, APP)];
    }
    tk::secret_mut(&mut s, APP).owners = vec![tk::owner(kind, APP)];
    s
}

/// Every chain's fix of `code` (one per pod): the same text, which the report shows once.
fn fix(s: &Snapshot, code: Code) -> String {
    let chains = run(s);
    let first = only(&chains, code).fix.to_string();
    for f in chains
        .iter()
        .flat_map(|c| c.findings())
        .filter(|f| f.code == code)
    {
        assert_eq!(f.fix.as_ref() as &str, first, "every pod's fix is the same");
    }
    first
}

fn unlabel(s: &mut Snapshot) {
    for p in s.pods.items.iter_mut() {
        p.labels.remove("azure.workload.identity/use");
    }
}

const LABEL_PATCH: &str = r#"-p '{"spec":{"template":{"metadata":{"labels":{"azure.workload.identity/use":"true"}}}}}'  # new pods are mutated on CREATE"#;

#[test]
fn kvc201_label_patch_of_an_on_delete_stateful_set_deletes_its_pods() {
    let mut rolling = owned_by("StatefulSet", 2, ROLLING, true);
    unlabel(&mut rolling);
    let patch = format!("kubectl patch statefulset {APP} -n {NS} {LABEL_PATCH}");
    assert_eq!(fix(&rolling, Code::KVC201), patch);

    let mut held = owned_by("StatefulSet", 2, ON_DELETE, true);
    unlabel(&mut held);
    let (run, note) = patch.split_once("  # ").unwrap();
    assert_eq!(
        fix(&held, Code::KVC201),
        format!(
            "{run} && kubectl delete pod {APP}-0 {APP}-1 -n {NS}  # {note}; StatefulSet {APP} has updateStrategy OnDelete: the labelled template replaces no pod, only a pod deleted afterwards comes back from it, so the fix deletes its pods (all at once: to keep serving, delete them one at a time)"
        )
    );
}

#[test]
fn kvc201_label_patch_of_a_partitioned_stateful_set_names_the_ordinals_it_misses() {
    let partitioned = UpdateObs {
        on_delete: false,
        partition: Some(2),
        parallel: false,
        start: 0,
    };
    let mut s = owned_by("StatefulSet", 3, partitioned, true);
    unlabel(&mut s);
    assert_eq!(
        fix(&s, Code::KVC201),
        format!(
            "kubectl patch statefulset {APP} -n {NS} {LABEL_PATCH}; StatefulSet {APP} has rollingUpdate.partition 2: the labelled template reaches only its pods with ordinal 2 or above; {APP}-0, {APP}-1 keep the old template, even deleted and re-created, until the partition is lowered"
        )
    );
    // Nothing to delete: a pod below the partition comes back at the previous version.
    assert!(!fix(&s, Code::KVC201).contains("kubectl delete"));
}

/// A container sets AZURE_TENANT_ID itself (the webhook never overwrites it, FACTS §6):
/// `kubectl set env` changes the DaemonSet's template, which OnDelete rolls to no pod.
#[test]
fn kvc206_set_env_on_an_on_delete_daemon_set_deletes_its_pod() {
    let tenant_set = |update: UpdateObs| {
        let mut s = owned_by("DaemonSet", 1, update, true);
        s.pods.items[0].containers[0].env.insert(
            0,
            EnvObs {
                name: "AZURE_TENANT_ID".into(),
                source: EnvSourceObs::Literal {
                    value: Some(OTHER_TENANT.into()),
                },
            },
        );
        let mut template = s.pods.items[0].clone();
        template.template_of = Some(tk::owner("DaemonSet", APP));
        tk::workload_mut(&mut s, "DaemonSet", APP).template = Some(Box::new(template));
        s
    };
    let set = format!("kubectl set env daemonset/{APP} -n {NS} -c app AZURE_TENANT_ID={TENANT}");
    assert_eq!(fix(&tenant_set(ROLLING), Code::KVC206), set);
    assert_eq!(
        fix(&tenant_set(ON_DELETE), Code::KVC206),
        format!(
            "{set} && kubectl delete pod {APP}-q0x7z -n {NS}  # DaemonSet {APP} has updateStrategy OnDelete: the template kubectl set env changes replaces no pod, only a pod deleted afterwards comes back from it, so the fix deletes its pod"
        )
    );
}

/// A template edit (a subPath mount of the secrets-store volume, KVC102) is no different.
#[test]
fn kvc102_template_edit_of_an_on_delete_daemon_set_deletes_its_pods() {
    let sub_path = |update: UpdateObs| {
        let mut s = owned_by("DaemonSet", 2, update, true);
        for p in s.pods.items.iter_mut() {
            p.containers[0].mounts[0].sub_path = Some("db-password".into());
        }
        s
    };
    let rolling = fix(&sub_path(ROLLING), Code::KVC102);
    assert!(
        rolling.starts_with(&format!("kubectl edit daemonset/{APP} -n {NS}  # ")),
        "{rolling}"
    );
    assert!(!rolling.contains("OnDelete") && !rolling.contains("delete pod"));
    let (run, note) = rolling.split_once("  # ").unwrap();
    assert_eq!(
        fix(&sub_path(ON_DELETE), Code::KVC102),
        format!(
            "{run} && kubectl delete pod {APP}-q0x7z {APP}-q1x7z -n {NS}  # {note}; DaemonSet {APP} has updateStrategy OnDelete: the edited template replaces no pod, only a pod deleted afterwards comes back from it, so the fix deletes its pods (all at once: to keep serving, delete them one at a time)"
        )
    );
}

/// A big OnDelete owner: every broken pod's finding carries the fix, so its pods are not
/// named one by one (a 5,000-node DaemonSet would put 5,000 names in each of 5,000 fixes);
/// the delete selects the owner's pods by their owner reference when pasted.
#[test]
fn a_big_on_delete_daemon_set_selects_its_pods_instead_of_naming_them() {
    let mut s = owned_by("DaemonSet", 12, ON_DELETE, true);
    for p in s.pods.items.iter_mut() {
        p.containers[0].mounts[0].sub_path = Some("db-password".into());
    }
    let fix = fix(&s, Code::KVC102);
    assert!(
        fix.contains(&format!(
            "&& kubectl delete pod -n {NS} $(kubectl get pods -n {NS} -o jsonpath='{{.items[?(@.metadata.ownerReferences[0].name==\"{APP}\")].metadata.name}}')  # "
        )),
        "{fix}"
    );
    assert!(!fix.contains(&format!("{APP}-q1x7z")), "{fix}");
    assert!(
        fix.contains("so the fix deletes its pods (all at once"),
        "{fix}"
    );
}

/// KVC902 with no annotation: under OnDelete, Reloader's template change at each rotation
/// would restart nothing, so no annotation is proposed; the pods are deleted after each
/// rotation, as a restart of them does.
#[test]
fn kvc902_on_an_on_delete_stateful_set_proposes_no_annotation() {
    assert_eq!(
        fix(&owned_by("StatefulSet", 2, ROLLING, false), Code::KVC902),
        format!(
            "kubectl annotate statefulset/{APP} -n {NS} reloader.stakater.com/auto=true --overwrite  # needs Stakater Reloader in the cluster"
        )
    );
    let held = owned_by("StatefulSet", 2, ON_DELETE, false);
    let fix = fix(&held, Code::KVC902);
    assert_eq!(
        fix,
        format!(
            "kubectl delete pod {APP}-0 {APP}-1 -n {NS}  # after each rotation: StatefulSet {APP} has updateStrategy OnDelete, and Reloader restarts by changing the pod template, which replaces no pod under OnDelete; or switch it to updateStrategy RollingUpdate with a Reloader annotation, or read the mounted file instead of env"
        )
    );
    assert_eq!(
        only(&run(&held), Code::KVC902).confirm.as_ref() as &str,
        format!(
            "kubectl get statefulset/{APP} -n {NS} -o jsonpath='{{.spec.updateStrategy.type}} {{.metadata.annotations}}'"
        )
    );
}

// ---- the Consumers link: a Reloader annotation whose restarts are held back ----

/// The testkit's Deployment carries `reloader.stakater.com/auto: "true"`: fine while it rolls
/// out template changes; paused, Reloader's change at a rotation reaches no pod.
#[test]
fn a_reloader_annotated_paused_deployment_is_kvc902_with_the_resume() {
    let running = tk::healthy();
    assert!(
        !codes(&run(&running)).contains(&Code::KVC902),
        "{:?}",
        codes(&run(&running))
    );
    let mut paused = running.clone();
    tk::workload_mut(&mut paused, "Deployment", APP).paused = true;
    let chains = run(&paused);
    let f = only(&chains, Code::KVC902);
    assert_eq!(f.severity, Severity::Warning);
    assert_eq!(
        f.message.as_ref() as &str,
        format!(
            "Deployment/{APP} reads synced Secret {} through env, and its Reloader annotation restarts it by changing the pod template, but Deployment {APP} is paused (spec.paused): that change rolls out nothing until it is resumed, so env keeps the value from container start",
            tk::secret_name(APP)
        )
    );
    assert_eq!(
        f.fix.as_ref() as &str,
        format!(
            "kubectl rollout resume deployment/{APP} -n {NS}  # the template changes Reloader makes at rotations roll out once it is resumed, and so does whatever other template change the pause held back"
        )
    );
    assert!(f.evidence.iter().any(|e| &**e == "spec.paused: true"));
}

/// Reloader's own pause (`deployment.reloader.stakater.com/pause-period`) marks the Deployment
/// with `paused-at` and resumes it when the period ends (stakater/Reloader): not held back.
#[test]
fn a_deployment_paused_by_reloaders_pause_period_is_not_kvc902() {
    let mut s = tk::healthy();
    let d = tk::workload_mut(&mut s, "Deployment", APP);
    d.paused = true;
    d.annotations.insert(
        "deployment.reloader.stakater.com/paused-at".into(),
        "2026-01-01T00:00:00Z".into(),
    );
    assert!(!codes(&run(&s)).contains(&Code::KVC902));
}

#[test]
fn a_reloader_annotated_on_delete_stateful_set_is_kvc902() {
    let rolling = owned_by("StatefulSet", 2, ROLLING, true);
    assert!(
        !codes(&run(&rolling)).contains(&Code::KVC902),
        "{:?}",
        codes(&run(&rolling))
    );
    let held = owned_by("StatefulSet", 2, ON_DELETE, true);
    let chains = run(&held);
    let f = only(&chains, Code::KVC902);
    assert_eq!(
        f.message.as_ref() as &str,
        format!(
            "StatefulSet/{APP} reads synced Secret {} through env, and its Reloader annotation restarts it by changing the pod template, but StatefulSet {APP} has updateStrategy OnDelete: that change replaces no pod, so env keeps the value from container start until the pod is deleted",
            tk::secret_name(APP)
        )
    );
    assert!(
        f.fix.starts_with(&format!(
            "kubectl delete pod {APP}-0 {APP}-1 -n {NS}  # after each rotation: "
        )),
        "{}",
        f.fix
    );
    assert!(!f.fix.contains("kubectl annotate"), "{}", f.fix);
}

// ---- workloads not read: a pause is not known ----

/// With the namespace's workloads unreadable, the Deployment is known only from its
/// ReplicaSet's name; whether it is paused is not known, and the fix says so as the restart
/// plan does ("unless Deployment web is paused: that is not known (Deployments not read)").
#[test]
fn kvc201_of_an_unread_deployment_says_a_pause_is_not_known() {
    let mut s = tk::healthy();
    unlabel(&mut s);
    let known = fix(&s, Code::KVC201);
    assert_eq!(
        known,
        format!("kubectl patch deployment {APP} -n {NS} {LABEL_PATCH}")
    );
    s.workloads = Coll::unknown("deployments.apps is forbidden");
    assert_eq!(
        fix(&s, Code::KVC201),
        format!(
            "{known}; the labelled template rolls out unless Deployment {APP} is paused: that is not known (Deployments not read), and a paused Deployment rolls out no template change until kubectl rollout resume deployment/{APP} -n {NS}"
        )
    );
}

// ---- manifests (check -f): an OnDelete StatefulSet's template, no pod to name ----

/// A ServiceAccount and SPC for workload identity, and StatefulSet `db` (2 replicas, under
/// `strategy`) whose template lacks the workload-identity label: KVC201.
fn manifests(strategy: &str) -> tempfile::TempDir {
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
spec:
  replicas: 2
  serviceName: db
  updateStrategy:
    type: {strategy}
  selector:
    matchLabels: {{app: db}}
  template:
    metadata:
      labels: {{app: db}}
    spec:
      serviceAccountName: app
      containers:
      - name: c
        image: busybox
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
    std::fs::write(dir.path().join("db.yaml"), yaml).unwrap();
    dir
}

fn manifest_fix(strategy: &str) -> String {
    let dir = manifests(strategy);
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
        .find(|f| f["code"] == "KVC201")
        .unwrap_or_else(|| panic!("no KVC201: {report:#}"))["fix"]
        .as_str()
        .unwrap()
        .to_string()
}

/// No pod of a manifest is known by name: the StatefulSet's pods by ordinal, from its
/// replicas, as its restart deletes them.
#[test]
fn manifests_an_on_delete_stateful_sets_label_patch_deletes_its_ordinals() {
    let rolling = manifest_fix("RollingUpdate");
    assert_eq!(
        rolling,
        format!("kubectl patch statefulset db -n team {LABEL_PATCH}")
    );
    let (run, note) = rolling.split_once("  # ").unwrap();
    assert_eq!(
        manifest_fix("OnDelete"),
        format!(
            "{run} && kubectl delete pod db-0 db-1 -n team --ignore-not-found  # {note}; StatefulSet db has updateStrategy OnDelete: the labelled template replaces no pod, only a pod deleted afterwards comes back from it, so the fix deletes its pods (all at once: to keep serving, delete them one at a time)"
        )
    );
}

// ---- KVC901 just after a rotation: Reloader's rollout is due only where it rolls out ----

/// Just after the Secret changed, a watched workload's pod holding the old env is an info
/// ("its rollout is due", tests/it/rules_stale_readers.rs). A paused Deployment or an OnDelete
/// StatefulSet makes no such rollout: the stale env stays the finding it is.
#[test]
fn kvc901_just_after_a_rotation_is_not_due_where_reloaders_change_is_held() {
    let rotated = |s: &mut Snapshot| {
        let at = tk::ago(jiff::SignedDuration::from_secs(10));
        tk::secret_mut(s, APP).updated_at = Some(at);
        if let Observed::Known(Some(o)) = &mut tk::object_mut(s, APP).state {
            o.versions[0].created = Some(at);
        }
    };
    let kvc901 = |s: &Snapshot| only(&run(s), Code::KVC901);

    let mut running = tk::healthy();
    rotated(&mut running);
    let f = kvc901(&running);
    assert_eq!(f.severity, Severity::Info);
    assert!(f.message.contains("rollout is due"), "{}", f.message);

    let mut paused = running.clone();
    tk::workload_mut(&mut paused, "Deployment", APP).paused = true;
    let f = kvc901(&paused);
    assert_eq!(f.severity, Severity::Error, "{f:#?}");
    assert!(!f.message.contains("rollout is due"), "{}", f.message);

    let mut rolling = owned_by("StatefulSet", 1, ROLLING, true);
    rotated(&mut rolling);
    assert!(kvc901(&rolling).message.contains("rollout is due"));
    let mut held = owned_by("StatefulSet", 1, ON_DELETE, true);
    rotated(&mut held);
    let f = kvc901(&held);
    assert_eq!(f.severity, Severity::Error, "{f:#?}");
    assert!(!f.message.contains("rollout is due"), "{}", f.message);
}
