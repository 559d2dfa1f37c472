//! Audit NN7: a fix that restarts several pods of one StatefulSet (the remount of every pod of
//! a SecretProviderClass, KVC703 with rotation off) says what the StatefulSet's update
//! strategy costs once for the StatefulSet, not once per pod, and its notes read as one
//! sentence (no ".;", no capital after "; "). Each pod's restart is still its restart plan:
//! below a `rollingUpdate.partition` a rollout restart replaces no pod, so those pods are
//! deleted; under `OnDelete` every pod is (Kubernetes docs, StatefulSet update strategies).

use std::path::Path;
use std::time::Duration;

use kvchain::chain::Code;
use kvchain::source::lab::world::World;
use kvchain::source::lab::{self, scenario};

use crate::lab_bare_pod_remount::{CLUSTER_ROTATION_OFF, ROTATE, checkout_chains, fixes, paste};
use crate::lab_nodes::{HEALTHY, SHOP};

/// StatefulSet checkout (3 replicas, `strategy`) in place of healthy's Deployment: it mounts
/// checkout-kv and reads checkout-db through env.
fn world(strategy: &str) -> World {
    let identity: Vec<&str> = (HEALTHY.split("\n---\n"))
        .filter(|d| !d.contains("kind: Deployment"))
        .collect();
    let set = format!(
        "apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: checkout
  namespace: shop
spec:
  replicas: 3
  serviceName: checkout
  updateStrategy: {strategy}
  selector:
    matchLabels:
      app: checkout
  template:
    metadata:
      labels:
        app: checkout
        azure.workload.identity/use: \"true\"
    spec:
      serviceAccountName: checkout
      containers:
        - name: app
          image: mcr.microsoft.com/azurelinux/busybox:1.36
          command: [\"/bin/sh\", \"-c\", \"sleep infinity\"]
          env:
            - name: DB_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: checkout-db
                  key: password
          volumeMounts:
            - name: secrets-store
              mountPath: /mnt/secrets-store
              readOnly: true
      volumes:
        - name: secrets-store
          csi:
            driver: secrets-store.csi.k8s.io
            readOnly: true
            volumeAttributes:
              secretProviderClass: checkout-kv
"
    );
    let mut docs = vec![CLUSTER_ROTATION_OFF, SHOP];
    docs.extend(identity);
    docs.extend([set.as_str(), ROTATE]);
    let sc = scenario::parse("nn7", Path::new("nn7.yaml"), &docs.join("\n---\n"))
        .expect("scenario loads");
    let mut w = World::new(sc);
    w.advance(Duration::from_secs(4 * 60));
    w
}

/// The fix's notes read as clauses of one sentence.
fn clean(fix: &str) {
    assert!(!fix.contains(".;"), "{fix}");
    for word in ["Only", "Every", "Whether", "Its"] {
        assert!(!fix.contains(&format!("; {word} ")), "{fix}");
    }
}

#[test]
fn a_partitioned_statefulsets_remount_says_its_partition_once_and_clears_the_stale_mounts() {
    let mut w = world("{type: RollingUpdate, rollingUpdate: {partition: 2}}");
    let stale = fixes(&checkout_chains(&w), Code::KVC703);
    assert_eq!(stale.len(), 3, "{stale:#?}");
    let fix = &stale[0].1;
    // One fix for the StatefulSet, whichever pod's finding prints it.
    assert!(stale.iter().all(|(_, f)| f == fix), "{stale:#?}");
    let (command, note) = fix.split_once("  # ").expect("a note");
    assert_eq!(
        command,
        "kubectl delete secret checkout-db -n shop --ignore-not-found && kubectl rollout restart statefulset/checkout -n shop && kubectl delete pod checkout-0 checkout-1 -n shop"
    );
    assert_eq!(note.matches("partition 2").count(), 1, "{fix}");
    assert_eq!(note.matches("starts a new one").count(), 1, "{fix}");
    assert!(!note.contains("keep running"), "they are deleted: {fix}");
    clean(fix);
    paste(&mut w, fix);
    w.run_until_stable(lab::MAX_SETTLE);
    let after = checkout_chains(&w);
    for code in [Code::KVC703, Code::KVC805, Code::KVC901] {
        assert!(fixes(&after, code).is_empty(), "{code}: {after:#?}");
    }
}

#[test]
fn an_on_delete_statefulsets_remount_deletes_its_pods_in_one_command_said_once() {
    let w = world("{type: OnDelete}");
    let stale = fixes(&checkout_chains(&w), Code::KVC703);
    assert_eq!(stale.len(), 3, "{stale:#?}");
    for (_, fix) in &stale {
        let (command, note) = fix.split_once("  # ").expect("a note");
        assert_eq!(
            command,
            "kubectl delete secret checkout-db -n shop --ignore-not-found && kubectl delete pod checkout-0 checkout-1 checkout-2 -n shop"
        );
        assert_eq!(note.matches("OnDelete").count(), 1, "{fix}");
        assert_eq!(note.matches("starts a new one").count(), 1, "{fix}");
        clean(fix);
    }
}
