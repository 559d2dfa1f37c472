//! A StatefulSet with `spec.ordinals.start`: its replicas are the ordinals
//! `[start, start + replicas)` (Kubernetes API, StatefulSetOrdinals), and its
//! `rollingUpdate.partition` counts replicas from `start`, not ordinals from 0. Upstream's
//! StatefulSet controller (kubernetes/kubernetes pkg/controller/statefulset) files each pod at
//! `replicas[getOrdinal(pod) - getStartOrdinal(set)]` and updates the indices from the last
//! one down to `target >= partition` (`updateStatefulSet`,
//! `updateStatefulSetAfterInvariantEstablished` in stateful_set_control.go); a pod made again
//! gets the current revision when `ordinal < getStartOrdinal(set) + partition`
//! (`newVersionedStatefulSetPod`, stateful_set_utils.go). So with start 5, 3 replicas and
//! partition 2, web-5 and web-6 are held and web-7 is updated: a pod name's ordinal compared
//! with the partition itself would hold none of them.

use std::process::Command;
use std::time::Duration;

use kvchain::chain::restart_plan::RestartPlan;
use kvchain::chain::{Code, diagnose_detailed};
use kvchain::snapshot::*;
use serde_json::Value;

use super::lab_stateful_rollout::{pod, revision, stateful_unrun};
use super::rules_reloader_partition::manifest_yaml;
use super::rules_update_strategies::owned_by;
use kvchain::chain::testkit::{APP, NS};
use kvchain::source::lab::world::Stage;

const FROM_5: UpdateObs = UpdateObs {
    on_delete: false,
    partition: Some(2),
    parallel: false,
    start: 5,
};

/// [`owned_by`] a StatefulSet of 3 pods whose ordinals start at 5: web-5, web-6, web-7.
fn from_five(update: UpdateObs, reloader: bool) -> Snapshot {
    let mut s = owned_by("StatefulSet", 3, update, reloader);
    for p in s.pods.items.iter_mut() {
        let i: i32 = p.name.rsplit('-').next().unwrap().parse().unwrap();
        let name = format!("{APP}-{}", i + 5);
        for st in s.spc_statuses.items.iter_mut() {
            if st.pod_name == p.name.as_str() {
                st.pod_name = name.as_str().into();
            }
        }
        p.name = name.as_str().into();
    }
    s
}

fn plan(s: &Snapshot, name: &str) -> String {
    let p = (s.pods.items.iter())
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no pod {name}"));
    RestartPlan::for_pod(s, p).command()
}

#[test]
fn the_restart_plan_holds_the_first_partition_replicas_from_the_start_ordinal() {
    let s = from_five(FROM_5, false);
    for (name, i) in [("web-5", 5), ("web-6", 6)] {
        let cmd = plan(&s, name);
        assert!(
            cmd.starts_with(&format!("kubectl delete pod {name} -n {NS}  #"))
                && cmd.contains(&format!("Pod ordinal {i} is below StatefulSet {APP}'s rollingUpdate.partition 2 (counted from ordinals.start 5: ordinal 7): a rollout restart replaces only ordinals 7 and up;")),
            "{cmd}"
        );
    }
    let cmd = plan(&s, "web-7");
    assert!(
        cmd.starts_with(&format!("kubectl rollout restart statefulset/{APP} -n {NS}  # Only pods with ordinal 7 or above are replaced (rollingUpdate.partition 2 (counted from ordinals.start 5: ordinal 7)); the ones below keep running.")),
        "{cmd}"
    );
    // Without a partition, the start alone holds nothing back.
    let s = from_five(
        UpdateObs {
            partition: None,
            ..FROM_5
        },
        false,
    );
    assert!(
        plan(&s, "web-5").starts_with("kubectl rollout restart statefulset/web"),
        "{}",
        plan(&s, "web-5")
    );
}

/// A pod of an OrderedReady set that is not Running holds the rollout: its replicas are
/// counted from the start ordinal (web-5..web-7 are its 3 replicas, not beyond them).
#[test]
fn a_stuck_replica_above_the_replica_count_still_holds_the_rollout() {
    let mut s = from_five(
        UpdateObs {
            partition: None,
            ..FROM_5
        },
        false,
    );
    let stuck = (s.pods.items.iter_mut())
        .find(|p| p.name == "web-6")
        .unwrap();
    stuck.phase = "Pending".into();
    let cmd = plan(&s, "web-7");
    assert!(
        cmd.contains("No pod is replaced while pod web-6 is not Running and Ready (phase Pending)"),
        "{cmd}"
    );
}

#[test]
fn reloader_is_held_below_start_plus_partition() {
    let s = from_five(FROM_5, true);
    let chains = diagnose_detailed(&s);
    let kvc902 = |pod: &str| {
        let c = (chains.iter()).find(|c| &*c.pod == pod).unwrap();
        c.findings().find(|f| f.code == Code::KVC902).cloned()
    };
    for (pod, i) in [("web-5", 5), ("web-6", 6)] {
        let f = kvc902(pod).unwrap_or_else(|| panic!("{pod} held"));
        assert!(
            f.message.ends_with(&format!("StatefulSet {APP} has rollingUpdate.partition 2 (counted from ordinals.start 5: ordinal 7): that change reaches only its pods with ordinal 7 or above, not pod {pod} (ordinal {i}), so env keeps the value from container start until the partition is lowered or the pod is deleted")),
            "{}",
            f.message
        );
        assert!(
            f.fix.contains("which rollingUpdate.partition 2 (counted from ordinals.start 5: ordinal 7) rolls out only to ordinals 7 and up"),
            "{}",
            f.fix
        );
    }
    assert!(kvc902("web-7").is_none(), "{:?}", kvc902("web-7"));
}

/// The manifest's `ordinals.start` is read: the template's held pods are named from it.
#[test]
fn manifests_read_the_start_ordinal() {
    let yaml = manifest_yaml(2).replacen(
        "  serviceName: db\n",
        "  serviceName: db\n  ordinals: {start: 5}\n",
        1,
    );
    assert!(yaml.contains("ordinals: {start: 5}"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("db.yaml"), yaml).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "-o", "json", "-f"])
        .arg(dir.path())
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = (report["findings"].as_array().unwrap().iter())
        .find(|f| f["code"] == "KVC902")
        .expect("KVC902");
    let message = f["message"].as_str().unwrap();
    assert!(
        message.contains("with ordinal 7 or above, not its pods below ordinal 7,"),
        "{message}"
    );
    let fix = f["fix"].as_str().unwrap();
    assert!(
        fix.contains("kubectl delete pod db-5 db-6 -n team after each rotation"),
        "{fix}"
    );
}

/// The lab's controller names its pods from the start ordinal and updates only the ones from
/// start + partition; a held pod deleted comes back at the current revision.
#[test]
fn the_lab_names_pods_from_the_start_and_partitions_by_index() {
    let mut w = stateful_unrun(
        "  ordinals: {start: 5}\n  updateStrategy:\n    rollingUpdate: {partition: 2}\n",
    );
    w.run_until_stable(Duration::from_secs(3600));
    for i in 0..5 {
        assert!(pod(&w, i).is_none(), "no checkout-{i}");
    }
    for i in 5..8 {
        assert_eq!(
            pod(&w, i).map(|p| p.0),
            Some(Stage::Running),
            "checkout-{i}"
        );
    }
    let old = revision(&w, 5);
    w.rollout_restart("StatefulSet", "shop", "checkout")
        .unwrap();
    w.run_until_stable(Duration::from_secs(3600));
    let new = revision(&w, 7);
    assert_ne!(new, old, "checkout-7 is updated");
    assert_eq!(revision(&w, 5), old, "checkout-5 is held");
    assert_eq!(revision(&w, 6), old, "checkout-6 is held");
    w.delete_pod("shop", "checkout-6").unwrap();
    w.run_until_stable(Duration::from_secs(3600));
    assert_eq!(pod(&w, 6).map(|p| p.0), Some(Stage::Running));
    assert_eq!(
        revision(&w, 6),
        old,
        "checkout-6 comes back at the current revision"
    );
}
