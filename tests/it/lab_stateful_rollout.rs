//! A lab StatefulSet's RollingUpdate, as Kubernetes documents it ("StatefulSets → Rolling
//! Updates", "Forced rollback"): RollingUpdate is the default strategy, and without a
//! `rollingUpdate` field (partition 0, maxUnavailable unset) the controller deletes and
//! re-creates each pod in turn, from the largest ordinal to the smallest, one at a time, and
//! waits for the updated pod to be Running and Ready before it updates its predecessor; a new
//! template that never becomes ready stops the rollout at its first pod. maxUnavailable set
//! (the MaxUnavailableStatefulSet feature) lets that many go at once.

use std::time::Duration;

use kvchain::source::lab::world::{Stage, Workload, World};

use crate::lab_nodes::{CLUSTER, HEALTHY, SHOP};

/// The healthy chain's Deployment as a StatefulSet of 3 with `strategy` (spec lines, each
/// indented two spaces; "" for none), run until it is stable.
pub(crate) fn stateful(strategy: &str) -> World {
    let mut w = stateful_unrun(strategy);
    w.run_until_stable(Duration::from_secs(3600));
    for i in 0..3 {
        assert_eq!(
            pod(&w, i).map(|p| p.0),
            Some(Stage::Running),
            "checkout-{i}"
        );
    }
    w
}

/// [`stateful`] before any time has passed: no pod yet.
pub(crate) fn stateful_unrun(strategy: &str) -> World {
    let healthy = HEALTHY
        .replacen("kind: Deployment\n", "kind: StatefulSet\n", 1)
        .replacen(
            "spec:\n  replicas: 2\n",
            &format!("spec:\n  replicas: 3\n  serviceName: checkout\n{strategy}"),
            1,
        );
    assert!(healthy.contains("replicas: 3"), "{healthy}");
    let sc = kvchain::source::lab::scenario::parse(
        "stateful",
        std::path::Path::new("stateful.yaml"),
        &[CLUSTER, SHOP, &healthy].join("\n---\n"),
    )
    .expect("scenario parses");
    World::new(sc)
}

/// checkout-`i`: (stage, controller-revision-hash, uid).
pub(crate) fn pod(w: &World, i: usize) -> Option<(Stage, String, String)> {
    let p = w.pods.get(&("shop".to_string(), format!("checkout-{i}")))?;
    let rev = p.labels.get("controller-revision-hash").cloned();
    Some((p.stage, rev.unwrap_or_default(), p.uid().to_string()))
}

/// What a rollout from `old` did, watched second by second for `secs`: the ordinals in the
/// order their old pod was deleted, and the most pods down (not Running) at one time.
fn watch(w: &mut World, old: &str, secs: u64) -> (Vec<usize>, usize) {
    let mut deleted: Vec<usize> = Vec::new();
    let mut most_down = 0;
    for _ in 0..secs {
        w.advance(Duration::from_secs(1));
        let pods: Vec<_> = (0..3).map(|i| pod(w, i)).collect();
        let down = pods
            .iter()
            .filter(|p| p.as_ref().is_none_or(|p| p.0 != Stage::Running))
            .count();
        most_down = most_down.max(down);
        for (i, p) in pods.iter().enumerate() {
            let gone = p
                .as_ref()
                .is_none_or(|p| p.0 == Stage::Terminating || p.1 != old);
            if gone && !deleted.contains(&i) {
                // Its successor in the update is already updated, Running and Ready.
                for (j, q) in pods.iter().enumerate().skip(i + 1) {
                    let q = q.as_ref().expect("a higher ordinal exists");
                    assert!(
                        q.0 == Stage::Running && q.1 != old,
                        "checkout-{i} deleted while checkout-{j} is {q:?}"
                    );
                }
                deleted.push(i);
            }
        }
    }
    (deleted, most_down)
}

/// Points the StatefulSet's first env `secretKeyRef` at Secret `secret` (a template change);
/// returns the Secret it named.
pub(crate) fn env_secret(w: &mut World, secret: &str) -> String {
    let key = (
        "StatefulSet".to_string(),
        "shop".to_string(),
        "checkout".to_string(),
    );
    let mut set = w.workloads[&key].clone();
    let Workload::StatefulSet(s) = &mut set else {
        panic!("a StatefulSet")
    };
    let spec = s.spec.as_mut().unwrap().template.spec.as_mut().unwrap();
    let env = spec.containers[0].env.as_mut().unwrap();
    let from = env[0].value_from.as_mut().unwrap();
    let r = from.secret_key_ref.as_mut().unwrap();
    let was = std::mem::replace(&mut r.name, secret.to_string());
    w.add_workload(set);
    was
}

pub(crate) fn revision(w: &World, i: usize) -> String {
    pod(w, i).expect("pod").1
}

#[test]
fn without_a_rolling_update_field_pods_are_replaced_one_at_a_time_from_the_highest() {
    for strategy in ["", "  updateStrategy: {type: RollingUpdate}\n"] {
        let mut w = stateful(strategy);
        let old = revision(&w, 0);
        w.rollout_restart("StatefulSet", "shop", "checkout")
            .unwrap();
        let (order, most_down) = watch(&mut w, &old, 300);
        assert_eq!(order, [2, 1, 0], "strategy {strategy:?}");
        assert_eq!(most_down, 1, "one pod at a time ({strategy:?})");
        let new = revision(&w, 0);
        assert_ne!(new, old);
        for i in 0..3 {
            assert_eq!(pod(&w, i).unwrap().0, Stage::Running);
            assert_eq!(revision(&w, i), new, "checkout-{i} updated");
        }
    }
}

/// "Forced rollback": a template whose pod never becomes Running and Ready stops the update
/// at the largest ordinal; the others keep running the old template, untouched.
#[test]
fn an_update_that_never_becomes_ready_stops_at_the_first_pod() {
    let mut w = stateful("");
    let old = revision(&w, 0);
    let before: Vec<_> = (0..3).map(|i| pod(&w, i).unwrap().2).collect();
    // The app's env now asks for a Secret that does not exist: CreateContainerConfigError.
    env_secret(&mut w, "nope");
    w.advance(Duration::from_secs(300));
    let (stage, rev, uid) = pod(&w, 2).expect("checkout-2");
    assert_eq!(stage, Stage::Configuring, "the new template is not ready");
    assert_ne!(rev, old);
    assert_ne!(uid, before[2]);
    for (i, was) in before.iter().enumerate().take(2) {
        let (stage, rev, uid) = pod(&w, i).unwrap();
        assert_eq!(
            (stage, rev.as_str(), uid.as_str()),
            (Stage::Running, old.as_str(), was.as_str()),
            "checkout-{i} waits"
        );
    }
}

/// rollingUpdate.maxUnavailable 2: the two largest ordinals go together, never all three.
#[test]
fn max_unavailable_lets_that_many_pods_go_at_once() {
    let mut w = stateful("  updateStrategy:\n    rollingUpdate: {maxUnavailable: 2}\n");
    let old = revision(&w, 0);
    w.rollout_restart("StatefulSet", "shop", "checkout")
        .unwrap();
    w.advance(Duration::from_secs(1));
    let terminating: Vec<usize> = (0..3)
        .filter(|i| pod(&w, *i).is_some_and(|p| p.0 == Stage::Terminating))
        .collect();
    assert_eq!(terminating, [1, 2]);
    let mut most_down = 0;
    for _ in 0..300 {
        w.advance(Duration::from_secs(1));
        let down = (0..3)
            .filter(|i| pod(&w, *i).is_none_or(|p| p.0 != Stage::Running))
            .count();
        most_down = most_down.max(down);
    }
    assert_eq!(most_down, 2);
    for i in 0..3 {
        assert_ne!(revision(&w, i), old, "checkout-{i} updated");
    }
}
