use super::super::RotationWatch;
use super::super::steps::step_time;
use super::super::testkit::*;
use super::*;
use crate::snapshot::*;

#[test]
fn restart_of_a_deployment_ends_with_fresh_env() {
    let before = world(0, 2, 2, -10, 2, -10);
    let mut w = RestartWatch::new(
        &before,
        "pay",
        "web-1",
        Some(("Deployment".into(), "web".into())),
    );
    let mut after = world(40, 2, 2, -10, 2, -10);
    after.pods.items = vec![pod("web-2", 5, 30, "web-7aa")].into();
    after.spc_statuses.items[0].pod_name = "web-2".into();
    after.workloads = Coll::known(vec![WorkloadObs {
        kind: "ReplicaSet".into(),
        namespace: "pay".into(),
        name: "web-7aa".into(),
        owners: vec![OwnerRef {
            kind: "Deployment".into(),
            name: "web".into(),
            uid: Default::default(),
            controller: true,
        }],
        ..Default::default()
    }]);
    w.observe(&after);
    let tl = w.timeline();
    assert_eq!(
        *state_of(&tl, "old pod web-1"),
        StepState::Done(Duration::from_secs(40))
    );
    assert_eq!(
        *state_of(&tl, "web-2 / app: env DB_PASS fresh"),
        StepState::Done(Duration::from_secs(30))
    );
    assert!(tl.finished, "{tl:#?}");
}

#[test]
fn deleting_a_bare_pod_says_nothing_recreates_it() {
    let before = world(0, 1, 1, -10, 1, -10);
    let mut w = RestartWatch::new(&before, "pay", "web-1", None);
    let mut after = world(10, 1, 1, -10, 1, -10);
    after.pods.items.clear();
    w.observe(&after);
    let tl = w.timeline();
    assert!(
        matches!(state_of(&tl, "replacement"), StepState::Never(w) if w.contains("nothing recreates"))
    );
    assert!(tl.finished);
}

/// Issue 14: created → secrets mounted → running → env fresh, in that order and with
/// times that agree; no "did not move" once the new pod exists.
#[test]
fn restart_steps_are_causal_and_end_when_the_new_pod_runs_with_fresh_env() {
    let before = world(0, 2, 2, -10, 2, -10);
    let mut w = RestartWatch::new(
        &before,
        "pay",
        "web-1",
        Some(("Deployment".into(), "web".into())),
    );
    let mut rolling = world(3, 2, 2, -10, 2, -10);
    rolling.workloads = Coll::known(deployment("web-7aa", false));
    w.observe(&rolling);
    assert_eq!(
        *state_of(&w.timeline(), "new pod of Deployment/web"),
        StepState::Waiting
    );

    // The new pod was created at +5 and its container started at +7; its
    // SecretProviderClassPodStatus was only seen written at +9.
    let mut after = world(40, 2, 2, 9, 2, -10);
    after.workloads = Coll::known(deployment("web-7aa", false));
    let mut new_pod = pod("web-2", 5, 7, "web-7aa");
    new_pod.containers.truncate(1);
    after.pods.items = vec![new_pod].into();
    after.spc_statuses.items[0].pod_name = "web-2".into();
    w.observe(&after);
    let tl = w.timeline();
    assert!(tl.finished, "{tl:#?}");
    let order: Vec<&str> = tl
        .steps
        .iter()
        .map(|s| s.label.rsplit(": ").next().unwrap_or_default())
        .collect();
    assert_eq!(
        order,
        [
            "created",
            "secrets mounted",
            "running",
            "env DB_PASS fresh",
            "gone"
        ],
        "{tl:#?}"
    );
    let times: Vec<Duration> = tl.steps.iter().map(|s| step_time(&s.state)).collect();
    assert!(times.windows(2).all(|p| p[0] <= p[1]), "{tl:#?}");
    assert!(
        times[1] <= Duration::from_secs(7),
        "mounted before the container started: {tl:#?}"
    );
    assert!(
        !tl.steps
            .iter()
            .any(|s| matches!(s.state, StepState::Stuck(_))),
        "{tl:#?}"
    );
    let hops: Vec<&str> = tl.verdict.iter().map(|s| s.label.as_str()).collect();
    assert_eq!(
        hops,
        [
            "new pods created",
            "secrets mounted",
            "containers running",
            "env fresh",
            "old pod gone"
        ]
    );
}

/// The caller's estimate of the source clock may run a few seconds ahead of the real
/// action: a pod created "before" that estimate is still new, and times start at it.
#[test]
fn a_clock_estimate_ahead_of_the_source_still_finds_the_new_pods() {
    let before = world(0, 2, 2, -10, 2, -10);
    let mut w = RestartWatch::new(
        &before,
        "pay",
        "web-1",
        Some(("Deployment".into(), "web".into())),
    )
    .starting_at(t(10));
    let mut after = world(40, 2, 2, 5, 2, -10);
    after.workloads = Coll::known(deployment("web-7aa", false));
    let mut new_pod = pod("web-2", 5, 6, "web-7aa");
    new_pod.containers.truncate(1);
    after.pods.items = vec![new_pod].into();
    after.spc_statuses.items[0].pod_name = "web-2".into();
    w.observe(&after);
    let tl = w.timeline();
    assert!(tl.finished, "{tl:#?}");
    assert_eq!(
        *state_of(&tl, "web-2: created"),
        StepState::Done(Duration::ZERO)
    );
    assert_eq!(
        *state_of(&tl, "web-2 / app: running"),
        StepState::Done(Duration::from_secs(1))
    );

    let mut r =
        RotationWatch::new(&world(0, 1, 1, -3000, 1, -3000), "kv-pay", "db-pass").starting_at(t(9));
    r.observe(&world(30, 2, 1, -3000, 1, -3000));
    assert_eq!(
        *state_of(&r.timeline(), "new version"),
        StepState::Done(Duration::ZERO),
        "the write happened no later than its version"
    );
    assert_eq!(r.timeline().started_at, t(5));
}

fn owned_by(mut p: PodObs, kind: &str, name: &str, uid: &str) -> PodObs {
    p.owners = vec![OwnerRef {
        kind: kind.into(),
        name: name.into(),
        uid: Default::default(),
        controller: true,
    }];
    p.uid = uid.into();
    p.containers.truncate(1);
    p
}

fn daemon_set(generation: i64, observed: i64, updated: i32, available: i32) -> WorkloadObs {
    WorkloadObs {
        kind: "DaemonSet".into(),
        namespace: "pay".into(),
        name: "agent".into(),
        update: Some(UpdateObs::default()),
        rollout: Some(RolloutObs {
            generation: Some(generation),
            observed_generation: Some(observed),
            desired: 3,
            updated,
            available,
        }),
        ..Default::default()
    }
}

fn agents(now: i64, pods: &[(&str, i64)], ds: WorkloadObs) -> Snapshot {
    let mut s = world(now, 2, 2, -10, 2, -10);
    s.spc_statuses.items.clear();
    s.pods = Coll::known(
        pods.iter()
            .map(|(n, created)| {
                owned_by(pod(n, *created, created + 2, "-"), "DaemonSet", "agent", n)
            })
            .collect(),
    );
    s.workloads = Coll::known(vec![ds]);
    s
}

/// A DaemonSet replaces its pods node by node: the replacement of the pod restarted is not
/// the end of the rollout. The watch follows the DaemonSet's status (updated and available
/// of desiredNumberScheduled, once it has observed the new generation), as it follows a
/// Deployment's replicas, and ends when every node runs the new template.
#[test]
fn a_daemon_sets_rollout_is_followed_until_every_node_is_updated() {
    let old = [("agent-a", -3600), ("agent-b", -3600), ("agent-c", -3600)];
    let before = agents(0, &old, daemon_set(4, 4, 3, 3));
    let plan = RestartPlan::for_pod(&before, before.pod("pay", "agent-a").unwrap());
    assert!(matches!(plan, RestartPlan::RolloutRestart { ref kind, .. } if kind == "DaemonSet"));
    let mut w = RestartWatch::for_plan(&before, "pay", "agent-a", &plan);

    // One node done: agent-a replaced by agent-x, which runs with fresh env.
    let first = [("agent-x", 5), ("agent-b", -3600), ("agent-c", -3600)];
    w.observe(&agents(30, &first, daemon_set(5, 5, 1, 3)));
    let tl = w.timeline();
    assert!(
        !tl.finished,
        "two nodes still run the old template: {tl:#?}"
    );
    assert_eq!(
        *state_of(
            &tl,
            "new pods of DaemonSet/agent: 1 of 3 updated, 3 available"
        ),
        StepState::Waiting
    );

    // The status still counts the old generation: not taken for the new one.
    let mut stale = agents(35, &first, daemon_set(5, 4, 3, 3));
    stale.workloads.items[0]
        .rollout
        .as_mut()
        .unwrap()
        .generation = Some(5);
    w.observe(&stale);
    assert!(!w.timeline().finished, "{:#?}", w.timeline());

    let all = [("agent-x", 5), ("agent-y", 40), ("agent-z", 70)];
    w.observe(&agents(90, &all, daemon_set(5, 5, 3, 3)));
    let tl = w.timeline();
    assert!(tl.finished, "{tl:#?}");
    assert!(matches!(
        state_of(
            &tl,
            "new pods of DaemonSet/agent: 3 of 3 updated, 3 available"
        ),
        StepState::Done(_)
    ));
    assert_eq!(
        tl.verdict
            .iter()
            .find(|v| v.label.starts_with("new pods created"))
            .map(|v| v.label.as_str()),
        Some("new pods created (3 of 3)"),
        "{tl:#?}"
    );
}

/// Without the DaemonSet's status, its pods before the restart are what it replaces.
#[test]
fn a_daemon_set_without_status_counts_its_pods_before_the_restart() {
    let mut ds = daemon_set(4, 4, 3, 3);
    ds.rollout = None;
    let old = [("agent-a", -3600), ("agent-b", -3600), ("agent-c", -3600)];
    let before = agents(0, &old, ds.clone());
    let plan = RestartPlan::for_pod(&before, before.pod("pay", "agent-a").unwrap());
    let mut w = RestartWatch::for_plan(&before, "pay", "agent-a", &plan);
    w.observe(&agents(
        30,
        &[("agent-x", 5), ("agent-b", -3600), ("agent-c", -3600)],
        ds,
    ));
    let tl = w.timeline();
    assert!(!tl.finished, "{tl:#?}");
    assert_eq!(
        *state_of(&tl, "new pods of DaemonSet/agent: 1 of 3"),
        StepState::Waiting
    );
}

fn db(now: i64, uid: &str, created: i64, on_delete: bool) -> Snapshot {
    let mut s = world(now, 2, 2, -10, 2, -10);
    s.spc_statuses.items.clear();
    s.pods = Coll::known(vec![owned_by(
        pod("db-0", created, created + 2, "-"),
        "StatefulSet",
        "db",
        uid,
    )]);
    s.workloads = Coll::known(vec![WorkloadObs {
        kind: "StatefulSet".into(),
        namespace: "pay".into(),
        name: "db".into(),
        replicas: Some(3),
        update: Some(UpdateObs {
            on_delete,
            partition: None,
            ..Default::default()
        }),
        ..Default::default()
    }]);
    s
}

/// A StatefulSet's replacement pod has the old pod's name: it is told apart by its uid, so
/// the old pod is gone and the new one is followed (the restart ends), and a deleted pod
/// (OnDelete) waits for its one replacement, not for every replica.
#[test]
fn a_stateful_sets_replacement_of_the_same_name_is_the_new_pod() {
    let before = db(0, "uid-old", -3600, true);
    let plan = RestartPlan::for_pod(&before, before.pod("pay", "db-0").unwrap());
    assert!(plan.replaces_one_pod(), "{plan:?}");
    let mut w = RestartWatch::for_plan(&before, "pay", "db-0", &plan);
    w.observe(&db(40, "uid-new", 5, true));
    let tl = w.timeline();
    assert!(tl.finished, "{tl:#?}");
    // Gone no later than its same-named replacement was created (+5s), not when seen (audit VV4).
    assert_eq!(
        *state_of(&tl, "old pod db-0"),
        StepState::Done(Duration::from_secs(5))
    );
    assert_eq!(
        *state_of(&tl, "new pod db-0: created"),
        StepState::Done(Duration::from_secs(5))
    );
    assert!(
        !tl.steps.iter().any(|s| s.label.contains("new pods of")),
        "{tl:#?}"
    );
    assert!(tl.title.starts_with("delete of pod db-0"), "{}", tl.title);

    // The old pod still there (same uid): waiting, nothing new.
    let mut w = RestartWatch::for_plan(&before, "pay", "db-0", &plan);
    w.observe(&db(10, "uid-old", -3600, true));
    assert!(!w.timeline().finished);
    assert_eq!(*state_of(&w.timeline(), "old pod db-0"), StepState::Waiting);
}

fn rollout_pods(now: i64, pods: &[(&str, &str, i64)]) -> Snapshot {
    let mut s = world(now, 2, 2, -10, 2, -10);
    s.spc_statuses.items.clear();
    s.pods = Coll::known(
        pods.iter()
            .map(|(n, rs, created)| {
                let mut p = owned_by(pod(n, *created, created + 2, "-"), "ReplicaSet", rs, n);
                p.labels.insert(
                    "rollouts-pod-template-hash".into(),
                    rs.rsplit('-').next().unwrap().into(),
                );
                p
            })
            .collect(),
    );
    s.workloads = Coll::known(vec![WorkloadObs {
        kind: "ReplicaSet".into(),
        namespace: "pay".into(),
        name: "api-6d9".into(),
        owners: vec![OwnerRef {
            kind: "Rollout".into(),
            name: "api".into(),
            uid: Default::default(),
            controller: true,
        }],
        ..Default::default()
    }]);
    s
}

/// An Argo Rollout's restart (`restartAt`) replaces its pods one at a time, in the same
/// ReplicaSet: the watch waits for as many new pods as it ran before, not for the first.
#[test]
fn an_argo_restart_is_followed_until_every_pod_it_ran_is_new() {
    let before = rollout_pods(
        0,
        &[
            ("api-6d9-aaaaa", "api-6d9", -3600),
            ("api-6d9-bbbbb", "api-6d9", -3600),
        ],
    );
    let plan = RestartPlan::for_pod(&before, before.pod("pay", "api-6d9-aaaaa").unwrap());
    assert!(matches!(plan, RestartPlan::ArgoRestart { .. }), "{plan:?}");
    let mut w = RestartWatch::for_plan(&before, "pay", "api-6d9-aaaaa", &plan);
    w.observe(&rollout_pods(
        30,
        &[
            ("api-6d9-ccccc", "api-6d9", 5),
            ("api-6d9-bbbbb", "api-6d9", -3600),
        ],
    ));
    assert!(!w.timeline().finished, "{:#?}", w.timeline());
    w.observe(&rollout_pods(
        60,
        &[
            ("api-6d9-ccccc", "api-6d9", 5),
            ("api-6d9-ddddd", "api-6d9", 40),
        ],
    ));
    let tl = w.timeline();
    assert!(tl.finished, "{tl:#?}");
    assert!(matches!(
        state_of(&tl, "new pods of Rollout/api: 2 of 2"),
        StepState::Done(_)
    ));
    assert_eq!(tl.title, "restart of Rollout/api (spec.restartAt)");
}

/// FACTS §11: a restart does not rewrite an existing synced Secret; with rotation off the
/// new pod's env comes from a Secret behind the file it mounted, which is not fresh.
#[test]
fn env_from_a_secret_behind_the_mounted_file_is_not_fresh() {
    let restart = |rotation: Observed<bool>| {
        let before = world(0, 2, 1, -10, 1, -10);
        let mut w = RestartWatch::new(
            &before,
            "pay",
            "web-1",
            Some(("Deployment".into(), "web".into())),
        );
        // The new pod mounted version 2; the Secret still holds version 1.
        let mut after = world(40, 2, 2, 20, 1, -3600);
        after.cluster.csi_driver = Observed::Known(CsiDriverFacts {
            rotation_enabled: rotation,
            ..Default::default()
        });
        after.pods.items = vec![pod("web-2", 5, 30, "web-7aa")].into();
        after.spc_statuses.items[0].pod_name = "web-2".into();
        after.workloads = Coll::known(deployment("web-7aa", false));
        w.observe(&after);
        w.timeline()
    };
    let off = restart(Observed::Known(false));
    let StepState::Never(why) = state_of(&off, "web-2 / app: env DB_PASS fresh") else {
        panic!("{off:#?}");
    };
    assert!(
        why.contains("app-secrets") && why.contains("password") && why.contains("db-pass"),
        "{why}"
    );
    assert!(why.contains("rotation") && why.contains("off"), "{why}");
    // Rotation's next poll rewrites the Secret, but not the env read at container start: a
    // second restart after that poll is the fix (FACTS §11, audit VV3), never a wait.
    let on = restart(Observed::Known(true));
    let StepState::Never(why) = state_of(&on, "web-2 / app: env DB_PASS fresh") else {
        panic!("{on:#?}");
    };
    assert!(
        why.contains("restart again once rotation's next poll"),
        "{why}"
    );
    // The same Secret agreeing with the file is fresh.
    let before = world(0, 2, 2, -10, 2, -10);
    let mut w = RestartWatch::new(
        &before,
        "pay",
        "web-1",
        Some(("Deployment".into(), "web".into())),
    );
    let mut after = world(40, 2, 2, 20, 2, -10);
    after.pods.items = vec![pod("web-2", 5, 30, "web-7aa")].into();
    after.spc_statuses.items[0].pod_name = "web-2".into();
    after.workloads = Coll::known(deployment("web-7aa", false));
    w.observe(&after);
    assert!(matches!(
        state_of(&w.timeline(), "web-2 / app: env DB_PASS fresh"),
        StepState::Done(_)
    ));
}

/// StatefulSet `db` of `replicas` rolling (no partition): `new` of its pods replaced (new
/// uid, created at +`at` each), the others as they were.
fn rolling_db(now: i64, replicas: i32, new: &[(usize, i64)]) -> Snapshot {
    let mut s = world(now, 2, 2, -10, 2, -10);
    s.spc_statuses.items.clear();
    s.pods = Coll::known(
        (0..replicas as usize)
            .map(|i| {
                let name = format!("db-{i}");
                match new.iter().find(|(n, _)| *n == i) {
                    Some((_, at)) => owned_by(
                        pod(&name, *at, at + 2, "-"),
                        "StatefulSet",
                        "db",
                        &format!("uid-new-{i}"),
                    ),
                    None => owned_by(
                        pod(&name, -3600, -3598, "-"),
                        "StatefulSet",
                        "db",
                        &format!("uid-old-{i}"),
                    ),
                }
            })
            .collect(),
    );
    s.workloads = Coll::known(vec![WorkloadObs {
        kind: "StatefulSet".into(),
        namespace: "pay".into(),
        name: "db".into(),
        replicas: Some(replicas),
        update: Some(UpdateObs::default()),
        ..Default::default()
    }]);
    s
}

/// The limit is a base per pod replaced (a StatefulSet or DaemonSet replaces them one at a
/// time), never less than one pod's 5 minutes and never more than 30.
#[test]
fn the_limit_grows_with_the_pods_replaced_up_to_a_cap() {
    assert_eq!(deadline_for(0), Duration::from_secs(300));
    assert_eq!(deadline_for(1), Duration::from_secs(300));
    assert_eq!(deadline_for(3), Duration::from_secs(360));
    assert_eq!(deadline_for(5), Duration::from_secs(600));
    assert_eq!(deadline_for(15), Duration::from_secs(1800));
    assert_eq!(deadline_for(400), Duration::from_secs(1800));
}

/// A five-pod StatefulSet still rolling at 5 minutes is followed on (the old fixed limit gave
/// up on it); when it does give up, the stalled count says how many of the five were
/// replaced.
#[test]
fn a_stateful_set_rolling_pod_by_pod_is_followed_past_five_minutes_and_says_how_far_it_got() {
    let before = rolling_db(0, 5, &[]);
    let plan = RestartPlan::for_pod(&before, before.pod("pay", "db-4").unwrap());
    assert!(
        matches!(plan, RestartPlan::RolloutRestart { ref kind, .. } if kind == "StatefulSet"),
        "{plan:?}"
    );
    let mut w = RestartWatch::for_plan(&before, "pay", "db-4", &plan);
    w.observe(&rolling_db(290, 5, &[(4, 10), (3, 150)]));
    assert_eq!(w.timeline().deadline, Duration::from_secs(600));
    w.tick(t(400));
    let tl = w.timeline();
    assert!(!tl.finished, "two of five replaced at 6m40s: {tl:#?}");
    assert_eq!(
        *state_of(&tl, "new pods of StatefulSet/db: 2 of 5"),
        StepState::Waiting
    );

    w.tick(t(600));
    let tl = w.timeline();
    assert!(tl.finished, "{tl:#?}");
    match state_of(&tl, "new pods of StatefulSet/db") {
        StepState::Stuck(why) => assert!(
            why.contains("2 of 5 pods replaced") && why.contains("gave up after 10m00s"),
            "{why}"
        ),
        other => panic!("{other:?}"),
    }
    let created = tl
        .verdict
        .iter()
        .find(|v| v.label.starts_with("new pods created"))
        .expect("a verdict on the new pods");
    assert_eq!(created.label, "new pods created (2 of 5)");
    assert!(matches!(created.state, StepState::Stuck(_)), "{created:?}");
}

/// A new pod created but not yet running has replaced nothing yet.
#[test]
fn a_new_pod_not_running_is_not_counted_as_replaced() {
    let before = rolling_db(0, 3, &[]);
    let plan = RestartPlan::for_pod(&before, before.pod("pay", "db-2").unwrap());
    let mut w = RestartWatch::for_plan(&before, "pay", "db-2", &plan);
    let mut after = rolling_db(100, 3, &[(2, 10)]);
    after.pods.items[2].containers[0].state = ContainerStateObs::Waiting {
        reason: "ContainerCreating".into(),
        message: String::new(),
    };
    w.observe(&after);
    assert_eq!(w.timeline().deadline, Duration::from_secs(360));
    w.tick(t(360));
    let tl = w.timeline();
    assert!(tl.finished, "{tl:#?}");
    match state_of(&tl, "new pods of StatefulSet/db") {
        StepState::Stuck(why) => assert!(why.contains("0 of 3 pods replaced"), "{why}"),
        other => panic!("{other:?}"),
    }
}

/// A deleted pod's one replacement keeps one pod's limit, and its wording counts no pods.
#[test]
fn one_deleted_pod_keeps_five_minutes() {
    let before = db(0, "uid-old", -3600, true);
    let plan = RestartPlan::for_pod(&before, before.pod("pay", "db-0").unwrap());
    assert!(plan.replaces_one_pod(), "{plan:?}");
    let mut w = RestartWatch::for_plan(&before, "pay", "db-0", &plan);
    w.observe(&db(10, "uid-old", -3600, true));
    assert_eq!(w.timeline().deadline, Duration::from_secs(300));
    w.tick(t(299));
    assert!(!w.timeline().finished);
    w.tick(t(300));
    let tl = w.timeline();
    assert!(tl.finished, "{tl:#?}");
    assert_eq!(
        *state_of(&tl, "old pod db-0"),
        StepState::Stuck("no change observed within 5m00s".into())
    );
}
