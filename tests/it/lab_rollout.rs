//! Audit 12 (A12-7): a Deployment rolls out like the deployment controller does
//! (docs/scenarios.md: "Workloads are expanded into pods like the controllers do"). The
//! default RollingUpdate allows `replicas + 25%` pods (rounded up) and `replicas - 25%`
//! available ones (rounded down): checkout (2 replicas) gets one surge pod, and no old pod
//! goes until a new one runs. `Recreate` removes the old pods before creating new ones. The
//! restart timeline counts "new pods created (N of M)" from that.

use std::time::Duration;

use kvchain::action::Action;
use kvchain::action::timeline::{RestartWatch, StepState};
use kvchain::chain::restart_plan::RestartPlan;
use kvchain::snapshot::Snapshot;
use kvchain::source::LabControl;
use kvchain::source::lab::world::Stage;
use kvchain::source::lab::{self, LabSource, export};

fn settled(scenario: &str) -> LabSource {
    let mut src = lab::open(scenario, None).expect("scenario");
    src.world_mut().run_until_stable(Duration::from_secs(3600));
    src
}

/// checkout's pods: (name, terminating).
fn checkout(src: &LabSource) -> Vec<(String, bool)> {
    src.world()
        .pods
        .values()
        .filter(|p| p.name().starts_with("checkout-"))
        .map(|p| (p.name().to_string(), p.stage == Stage::Terminating))
        .collect()
}

fn restart_checkout(src: &mut LabSource) -> (Snapshot, String, Vec<String>) {
    let before = export::snapshot(src.world());
    let old: Vec<String> = checkout(src).into_iter().map(|(n, _)| n).collect();
    assert_eq!(old.len(), 2, "checkout runs 2 replicas");
    let out = src.act(&Action::Restart {
        namespace: "shop".into(),
        pod: old[0].clone(),
    });
    assert!(out.ok, "{out:?}");
    (before, old[0].clone(), old)
}

fn fault(src: &mut LabSource, id: &str, apply: bool) {
    src.control(&LabControl::Fault {
        id: id.into(),
        apply,
        target: None,
    })
    .expect("fault");
}

#[test]
fn a_failing_mount_stalls_the_rollout_after_one_surge_pod() {
    let mut src = settled("healthy");
    fault(&mut src, "remove-role-assignment", true);
    let (_, _, old) = restart_checkout(&mut src);
    for _ in 0..30 {
        src.world_mut().advance(Duration::from_secs(10));
        let pods = checkout(&src);
        assert!(pods.len() <= 3, "at most replicas + maxSurge: {pods:?}");
        let new: Vec<_> = pods.iter().filter(|(n, _)| !old.contains(n)).collect();
        assert_eq!(new.len(), 1, "one surge pod: {pods:?}");
        assert!(
            pods.iter().all(|(_, terminating)| !terminating),
            "no old pod goes while the new one cannot run: {pods:?}"
        );
    }

    // Repaired: the surge pod mounts, then the rollout goes on one pod at a time.
    fault(&mut src, "remove-role-assignment", false);
    let mut done = false;
    for _ in 0..90 {
        src.world_mut().advance(Duration::from_secs(10));
        let pods = checkout(&src);
        let live = pods.iter().filter(|(_, t)| !t).count();
        assert!(live <= 3, "at most replicas + maxSurge: {pods:?}");
        if pods.iter().all(|(n, _)| !old.contains(n)) && pods.len() == 2 {
            done = true;
            break;
        }
    }
    assert!(done, "the rollout completes: {:?}", checkout(&src));
}

#[test]
fn the_restart_timeline_says_one_of_two_created_and_why_it_stalled() {
    let mut src = settled("healthy");
    fault(&mut src, "remove-role-assignment", true);
    let before = export::snapshot(src.world());
    let pod = before
        .pods
        .items
        .iter()
        .find(|p| p.name.starts_with("checkout-") && p.template_of.is_none())
        .unwrap()
        .clone();
    let owner = RestartPlan::for_pod(&before, &pod).replacing_owner();
    let mut watch = RestartWatch::new(&before, &pod.namespace, &pod.name, owner);
    let (_, _, _) = restart_checkout(&mut src);
    for _ in 0..60 {
        src.world_mut().advance(Duration::from_secs(10));
        watch.observe(&export::snapshot(src.world()));
        if watch.timeline().finished {
            break;
        }
    }
    let tl = watch.timeline();
    assert!(tl.finished, "{tl:#?}");
    let created = tl
        .verdict
        .iter()
        .find(|s| s.label.starts_with("new pods created"))
        .unwrap_or_else(|| panic!("{tl:#?}"));
    assert_eq!(created.label, "new pods created (1 of 2)", "{tl:#?}");
    assert!(
        matches!(&created.state, StepState::Stuck(why) if why.contains("rolling update")),
        "{tl:#?}"
    );
}

#[test]
fn recreate_removes_the_old_pods_before_creating_new_ones() {
    let healthy = include_str!("../../assets/scenarios/healthy.yaml").replacen(
        "  replicas: 2\n",
        "  replicas: 2\n  strategy:\n    type: Recreate\n",
        1,
    );
    let mut src = crate::lab_nodes::open_healthy_variant(&healthy);
    src.world_mut().run_until_stable(Duration::from_secs(3600));
    let (_, _, old) = restart_checkout(&mut src);
    let mut seen_new = false;
    for _ in 0..30 {
        src.world_mut().advance(Duration::from_secs(5));
        let pods = checkout(&src);
        let new = pods.iter().filter(|(n, _)| !old.contains(n)).count();
        let old_left = pods.iter().filter(|(n, _)| old.contains(n)).count();
        assert!(
            new == 0 || old_left == 0,
            "new pods only once the old are gone: {pods:?}"
        );
        seen_new |= new == 2;
    }
    assert!(seen_new, "{:?}", checkout(&src));
}

/// checkout's ReplicaSets its pods not terminating belong to, by name.
fn checkout_replica_sets(src: &LabSource) -> Vec<String> {
    let mut names: Vec<String> = (src.world().pods.values())
        .filter(|p| p.name().starts_with("checkout-") && p.stage != Stage::Terminating)
        .filter_map(|p| Some(p.controller()?.name.clone()))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Audit EEE15: `remove-pod-label` changes only the label (the template change rolls it
/// out), so its repair gives back the original template and the Deployment returns to the
/// original ReplicaSet, as a real repair of the label does: no third ReplicaSet, and no
/// restartedAt the scenario never set.
#[test]
fn repairing_remove_pod_label_returns_to_the_original_replica_set() {
    let mut src = settled("healthy");
    let original = checkout_replica_sets(&src);
    assert_eq!(original.len(), 1, "{original:?}");
    fault(&mut src, "remove-pod-label", true);
    src.world_mut().run_until_stable(Duration::from_secs(3600));
    let faulted = checkout_replica_sets(&src);
    assert_eq!(faulted.len(), 1, "{faulted:?}");
    assert_ne!(faulted, original, "the label change rolls out");
    fault(&mut src, "remove-pod-label", false);
    src.world_mut().run_until_stable(Duration::from_secs(3600));
    assert_eq!(checkout_replica_sets(&src), original);
    let key = (
        "Deployment".to_string(),
        "shop".to_string(),
        "checkout".to_string(),
    );
    let annotations = (src.world().workloads[&key].template())
        .and_then(|t| t.metadata.as_ref()?.annotations.clone())
        .unwrap_or_default();
    assert!(
        !annotations.contains_key("kubectl.kubernetes.io/restartedAt"),
        "{annotations:?}"
    );
}
