//! A lab StatefulSet's podManagementPolicy, as Kubernetes documents it ("StatefulSets → Pod
//! Management Policies", "Forced rollback"): under OrderedReady, the default, pods are created
//! in ordinal order, each once its predecessor is Running and Ready, and the controller does
//! not proceed while a pod is not Running and Ready — a rolling update included: a broken
//! template holds the rollout even once reverted, until the bad pod is deleted by hand, and a
//! rollout restart replaces nothing while a pod is stuck (ContainerCreating on a failing
//! SecretProviderClass mount). The restart action then deletes the stuck pod, which is what
//! replaces it, and says so. `Parallel` creates every pod at once and waits for none.

use std::time::Duration;

use kvchain::chain::restart_plan::RestartPlan;
use kvchain::snapshot::crd::SecretProviderClass;
use kvchain::source::lab::export;
use kvchain::source::lab::world::{Key, Stage, World};

use crate::lab_stateful_rollout::{env_secret, pod, revision, stateful, stateful_unrun};

const PARALLEL: &str = "  podManagementPolicy: Parallel\n";

/// Takes the chain's SecretProviderClass away: a pod made now stays in ContainerCreating
/// (FailedMount), the running ones keep their mounts. Returns it, to put back.
fn without_spc(w: &mut World) -> (Key, SecretProviderClass) {
    let key = ("shop".to_string(), "checkout-kv".to_string());
    let spc = w.spcs.remove(&key).expect("the chain's SPC");
    (key, spc)
}

fn uids(w: &World) -> Vec<Option<String>> {
    (0..3).map(|i| pod(w, i).map(|p| p.2)).collect()
}

/// From an empty set, second by second: each pod appears only once every lower ordinal is
/// Running (and Ready), and all three end Running.
#[test]
fn ordered_ready_creates_each_pod_once_its_predecessors_run() {
    let mut w = stateful_unrun("");
    let mut appeared = [None; 3];
    for t in 0..600u64 {
        w.advance(Duration::from_secs(1));
        for (i, seen) in appeared.iter_mut().enumerate() {
            if seen.is_some() || pod(&w, i).is_none() {
                continue;
            }
            *seen = Some(t);
            for j in 0..i {
                assert_eq!(
                    pod(&w, j).map(|p| p.0),
                    Some(Stage::Running),
                    "checkout-{i} made while checkout-{j} is not Running"
                );
            }
        }
    }
    assert!(
        appeared[0] < appeared[1] && appeared[1] < appeared[2],
        "{appeared:?}"
    );
    for i in 0..3 {
        assert_eq!(pod(&w, i).map(|p| p.0), Some(Stage::Running));
    }
}

/// A pod that never gets its volume holds every later ordinal under OrderedReady; Parallel
/// makes all three, each stuck alike.
#[test]
fn a_stuck_first_pod_holds_the_others_unless_parallel() {
    let mut w = stateful_unrun("");
    without_spc(&mut w);
    w.advance(Duration::from_secs(300));
    assert_eq!(pod(&w, 0).map(|p| p.0), Some(Stage::Mounting));
    assert!(pod(&w, 1).is_none() && pod(&w, 2).is_none());

    let mut w = stateful_unrun(PARALLEL);
    without_spc(&mut w);
    w.advance(Duration::from_secs(1));
    assert!((0..3).all(|i| pod(&w, i).is_some()), "all at once");
    w.advance(Duration::from_secs(300));
    assert!((0..3).all(|i| pod(&w, i).unwrap().0 == Stage::Mounting));
}

/// checkout-1 made again while the SPC is missing stays in ContainerCreating: a rollout
/// restart then replaces no pod. The restart of a healthy pod says the rollout waits for
/// checkout-1; the restart of checkout-1 deletes it (what replaces it) and says why. With the
/// SPC back the new checkout-1 runs and the rollout goes on to the end.
#[test]
fn a_stuck_pod_holds_a_rollout_restart_and_its_restart_deletes_it() {
    let mut w = stateful("");
    let old = revision(&w, 0);
    let (key, spc) = without_spc(&mut w);
    w.delete_pod("shop", "checkout-1").unwrap();
    w.advance(Duration::from_secs(120));
    assert_eq!(pod(&w, 1).unwrap().0, Stage::Mounting);
    let before = uids(&w);

    w.rollout_restart("StatefulSet", "shop", "checkout")
        .unwrap();
    w.advance(Duration::from_secs(300));
    assert_eq!(
        uids(&w),
        before,
        "no pod replaced while checkout-1 is stuck"
    );
    assert!((0..3).all(|i| revision(&w, i) == old));

    let s = export::snapshot(&w);
    let healthy = RestartPlan::for_pod(&s, s.pod("shop", "checkout-2").unwrap());
    assert!(
        matches!(healthy, RestartPlan::RolloutRestart { .. }),
        "{healthy:?}"
    );
    let said = healthy.confirmation();
    assert!(
        said.contains("No pod is replaced while pod checkout-1 is not Running and Ready")
            && !said.contains("Every replica is replaced."),
        "{said}"
    );
    let stuck = RestartPlan::for_pod(&s, s.pod("shop", "checkout-1").unwrap());
    let said = stuck.confirmation();
    assert!(
        matches!(stuck, RestartPlan::DeleteOwnedPod { .. })
            && said.contains("the rollout waits for it")
            && said.contains("Deleting it is what replaces it"),
        "{said}"
    );
    let out = w.restart_pod("shop", "checkout-1").unwrap();
    assert!(out.contains("deleted"), "{out}");
    w.advance(Duration::from_secs(60));
    let (stage, rev, uid) = pod(&w, 1).expect("made again under its name");
    assert_ne!(Some(uid), before[1]);
    assert_ne!(rev, old, "from the restarted template");
    assert_eq!(stage, Stage::Mounting, "the SPC is still missing");
    assert_eq!(uids(&w)[2], before[2], "the rollout still waits");

    w.spcs.insert(key, spc);
    w.run_until_stable(Duration::from_secs(3600));
    for i in 0..3 {
        let (stage, rev, _) = pod(&w, i).unwrap();
        assert!(stage == Stage::Running && rev != old, "checkout-{i}");
    }
}

/// "Forced rollback": the broken template stops the rollout at checkout-2; reverting the
/// template is not enough under OrderedReady (the controller waits for the broken pod), and
/// deleting that pod completes the rollback. Parallel replaces it on its own.
#[test]
fn a_reverted_template_needs_the_broken_pod_deleted() {
    for policy in ["", PARALLEL] {
        let mut w = stateful(policy);
        let old = revision(&w, 0);
        let was = env_secret(&mut w, "nope");
        w.advance(Duration::from_secs(300));
        let broken = pod(&w, 2).unwrap();
        assert!(
            broken.0 == Stage::Configuring && broken.1 != old,
            "{broken:?}"
        );
        env_secret(&mut w, &was);
        w.advance(Duration::from_secs(600));
        if policy.is_empty() {
            assert_eq!(
                pod(&w, 2).unwrap(),
                broken,
                "still waiting for the broken pod"
            );
            w.delete_pod("shop", "checkout-2").unwrap();
            w.advance(Duration::from_secs(300));
        }
        for i in 0..3 {
            let (stage, rev, _) = pod(&w, i).unwrap();
            assert!(
                stage == Stage::Running && rev == old,
                "checkout-{i} ({policy:?})"
            );
        }
    }
}
