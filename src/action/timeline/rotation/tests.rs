//! The rotation watch against small worlds: what each hop reaches, when, and why not.

use std::time::Duration;

use super::super::testkit::*;
use super::*;
use crate::snapshot::*;

#[test]
fn rotation_reaches_file_and_secret_but_not_env_or_subpath() {
    let mut w = RotationWatch::new(&world(0, 1, 1, -3000, 1, -3000), "kv-pay", "db-pass");
    w.observe(&world(30, 2, 1, -3000, 1, -3000));
    let tl = w.timeline();
    assert_eq!(
        *state_of(&tl, "new version"),
        StepState::Done(Duration::from_secs(5))
    );
    assert_eq!(*state_of(&tl, "mounted version"), StepState::Waiting);
    assert!(!tl.finished);

    w.observe(&world(115, 2, 2, 112, 2, 113));
    let tl = w.timeline();
    assert_eq!(
        *state_of(&tl, "mounted version"),
        StepState::Done(Duration::from_secs(112))
    );
    assert_eq!(
        *state_of(&tl, "file db-pass"),
        StepState::Done(Duration::from_secs(112))
    );
    assert_eq!(
        *state_of(&tl, "Secret app-secrets[password]"),
        StepState::Done(Duration::from_secs(113))
    );
    assert_eq!(
        *state_of(&tl, "app: CSI volume"),
        StepState::Done(Duration::from_secs(112))
    );
    assert!(
        matches!(state_of(&tl, "env DB_PASS"), StepState::Never(w) if w.contains("restart needed"))
    );
    assert!(
        matches!(state_of(&tl, "legacy: CSI volume"), StepState::Never(w) if w.contains("subPath"))
    );
    assert!(tl.finished, "every hop resolved: {tl:#?}");
    assert_eq!(state_of(&tl, "file db-pass").describe(), "✓ at +1m52s");
}

/// A re-stamp writes the same value: the file and the synced Secret already match it, so
/// they must wait for the mounted version rather than resolve at once by content. The Secret's
/// data is then what it was: unaffected, not rewritten (audit TTT-time, FACTS §2).
#[test]
fn restamp_follows_the_mounted_version_not_the_unchanged_content() {
    let restamped = |now, mounted_v, mount_t| {
        let mut s = world(now, 2, mounted_v, mount_t, 1, -3000);
        let same = Fingerprint::of(&[b'v', 1]);
        if let Observed::Known(Some(o)) = &mut s.azure.objects[0].state {
            o.latest_fingerprint = Some(same);
        }
        s.spc_statuses.items[0].files = Some([("db-pass".into(), same)].into_iter().collect());
        s
    };
    let mut w = RotationWatch::new(&world(0, 1, 1, -3000, 1, -3000), "kv-pay", "db-pass");
    w.observe(&restamped(30, 1, -3000));
    let tl = w.timeline();
    assert!(matches!(state_of(&tl, "new version"), StepState::Done(_)));
    assert_eq!(*state_of(&tl, "file db-pass"), StepState::Waiting);
    assert_eq!(
        *state_of(&tl, "Secret app-secrets[password]"),
        StepState::Waiting
    );

    w.observe(&restamped(115, 2, 112));
    let tl = w.timeline();
    let at_mount = StepState::Done(Duration::from_secs(112));
    assert_eq!(*state_of(&tl, "mounted version"), at_mount);
    assert_eq!(*state_of(&tl, "file db-pass"), at_mount);
    assert!(matches!(
        state_of(&tl, "Secret app-secrets[password]"),
        StepState::Unaffected(_)
    ));
}

/// A marker whose value kvchain could not fingerprint: the synced Secret is judged by its
/// data changing. A write that left its data as it was (the driver re-stamping its labels or
/// annotations moves its write time) is no new value (audit TTT-time, FACTS §2, §11).
#[test]
fn a_metadata_write_without_a_data_change_is_not_the_new_value() {
    let unknown_value = |now, mounted_v, mount_t, secret_v, secret_t| {
        let mut s = world(now, 2, mounted_v, mount_t, secret_v, secret_t);
        if let Observed::Known(Some(o)) = &mut s.azure.objects[0].state {
            o.latest_fingerprint = None;
        }
        s
    };
    let mut before = world(0, 1, 1, -3000, 1, -3000);
    if let Observed::Known(Some(o)) = &mut before.azure.objects[0].state {
        o.latest_fingerprint = None;
    }
    let mut w = RotationWatch::new(&before, "kv-pay", "db-pass").same_value(false);
    // Mounted at 112; the Secret written at 113 with its old data: labels only.
    w.observe(&unknown_value(115, 2, 112, 1, 113));
    let tl = w.timeline();
    assert!(matches!(
        state_of(&tl, "mounted version"),
        StepState::Done(_)
    ));
    assert_eq!(
        *state_of(&tl, "Secret app-secrets[password]"),
        StepState::Waiting
    );
    // Its data rewritten at 118: the new value.
    w.observe(&unknown_value(120, 2, 112, 2, 118));
    assert_eq!(
        *state_of(&w.timeline(), "Secret app-secrets[password]"),
        StepState::Done(Duration::from_secs(118))
    );
}

#[test]
fn rotation_that_never_moves_is_stuck_after_two_polls_and_a_minute() {
    let mut w = RotationWatch::new(&world(0, 1, 1, -3000, 1, -3000), "kv-pay", "db-pass");
    w.observe(&world(60, 2, 1, -3000, 1, -3000));
    assert!(!w.timeline().finished);
    w.observe(&world(300, 2, 1, -3000, 1, -3000));
    let tl = w.timeline();
    assert!(tl.finished);
    assert!(
        matches!(state_of(&tl, "mounted version"), StepState::Stuck(w) if w.contains("two rotation polls"))
    );
}

#[test]
fn rotation_disabled_is_never_with_the_reason() {
    let before = world(0, 1, 1, -3000, 1, -3000);
    let mut w = RotationWatch::new(&before, "kv-pay", "db-pass");
    let mut later = world(30, 2, 1, -3000, 1, -3000);
    later.cluster.csi_driver = Observed::Known(CsiDriverFacts {
        rotation_enabled: Observed::Known(false),
        ..Default::default()
    });
    w.observe(&later);
    let tl = w.timeline();
    assert!(
        matches!(state_of(&tl, "mounted version"), StepState::Never(w) if w.contains("rotation is disabled"))
    );
    assert!(matches!(
        state_of(&tl, "env DB_PASS"),
        StepState::Waiting | StepState::Never(_)
    ));
}

/// Issue 14: a quiet source sends no snapshot, yet its clock runs; the watch must end on
/// that clock, with one verdict per hop.
#[test]
fn a_quiet_source_clock_ends_the_watch_with_a_verdict_per_hop() {
    let mut w = RotationWatch::new(&world(0, 1, 1, -3000, 1, -3000), "kv-pay", "db-pass");
    w.observe(&world(30, 2, 1, -3000, 1, -3000));
    w.tick(t(120));
    let tl = w.timeline();
    assert_eq!(tl.elapsed, Duration::from_secs(120), "follows the clock");
    assert!(!tl.finished);
    assert!(tl.verdict.is_empty(), "no verdict while watching");
    w.tick(t(300));
    let tl = w.timeline();
    assert!(tl.finished, "{tl:#?}");
    assert_eq!(tl.elapsed, Duration::from_secs(300));
    let hops: Vec<&str> = tl.verdict.iter().map(|s| s.label.as_str()).collect();
    assert_eq!(
        hops,
        [
            "Key Vault: new version",
            "mounted file",
            "synced Secret",
            "volumes (0 of 2)",
            "env / restart"
        ],
        "{tl:#?}"
    );
    assert_eq!(tl.verdict[0].state, StepState::Done(Duration::from_secs(5)));
    assert!(
        matches!(&tl.verdict[1].state, StepState::Stuck(w) if w.contains("two rotation polls")),
        "{tl:#?}"
    );
}

/// The action time is the source's clock at the action, not the last (older) snapshot.
#[test]
fn times_count_from_the_action_on_the_source_clock() {
    let before = world(0, 1, 1, -3000, 1, -3000);
    let mut w = RotationWatch::new(&before, "kv-pay", "db-pass").starting_at(t(4));
    w.observe(&world(30, 2, 1, -3000, 1, -3000));
    assert_eq!(
        *state_of(&w.timeline(), "new version"),
        StepState::Done(Duration::from_secs(1))
    );
}

/// Reloader rolls the Deployment when the Secret changes: the old pod is not judged stale
/// once it is gone, and env ends fresh in the new pod.
#[test]
fn reloader_rollout_is_followed_to_fresh_env_in_the_new_pods() {
    let mut w = RotationWatch::new(&world(0, 1, 1, -3000, 1, -3000), "kv-pay", "db-pass");
    // The poll updated file and Secret; Reloader has not rolled the Deployment yet.
    let mut polled = world(115, 2, 2, 112, 2, 113);
    polled.workloads = Coll::known(deployment("web-6d9", true));
    w.observe(&polled);
    let tl = w.timeline();
    assert_eq!(
        *state_of(&tl, "Deployment/web / app: env DB_PASS"),
        StepState::Waiting,
        "Reloader is expected to roll it: {tl:#?}"
    );
    assert!(!tl.finished);

    // Rolled: the old pod is gone, the new one started after the Secret changed.
    let mut rolled = world(150, 2, 2, 140, 2, 113);
    let mut workloads = deployment("web-6d9", true);
    workloads.extend(deployment("web-7aa", true).into_iter().skip(1));
    rolled.workloads = Coll::known(workloads);
    rolled.pods.items = vec![pod("web-2", 130, 140, "web-7aa")].into();
    rolled.pods.items[0].containers.truncate(1);
    rolled.spc_statuses.items[0].pod_name = "web-2".into();
    w.observe(&rolled);
    let tl = w.timeline();
    assert!(tl.finished, "{tl:#?}");
    assert_eq!(
        *state_of(&tl, "Deployment/web / app: env DB_PASS"),
        StepState::Done(Duration::from_secs(140))
    );
    assert!(
        !tl.steps.iter().any(|s| s.label.contains("web-1")),
        "no step for a pod that no longer exists: {tl:#?}"
    );
    assert!(
        !tl.steps
            .iter()
            .chain(&tl.verdict)
            .any(|s| matches!(s.state, StepState::Never(_) | StepState::Stuck(_))),
        "{tl:#?}"
    );
}

/// Without Reloader nothing restarts the pods: stale, with the remedy.
#[test]
fn without_reloader_env_is_stale_until_a_restart() {
    let mut w = RotationWatch::new(&world(0, 1, 1, -3000, 1, -3000), "kv-pay", "db-pass");
    let mut polled = world(115, 2, 2, 112, 2, 113);
    polled.workloads = Coll::known(deployment("web-6d9", false));
    w.observe(&polled);
    assert!(matches!(
        state_of(&w.timeline(), "Deployment/web / app: env DB_PASS"),
        StepState::Never(why) if why.contains("restart needed (R restarts Deployment/web)")
    ));
}

/// The Deployment annotated for Reloader where the snapshot says no Reloader runs (a live read
/// of every namespace found none): the env step does not wait for a rollout that never comes.
#[test]
fn an_annotation_no_reloader_acts_on_does_not_wait_for_reloader() {
    let mut w = RotationWatch::new(&world(0, 1, 1, -3000, 1, -3000), "kv-pay", "db-pass");
    let mut polled = world(115, 2, 2, 112, 2, 113);
    polled.workloads = Coll::known(deployment("web-6d9", true));
    polled.cluster.reloader = Some(crate::snapshot::ReloaderFacts::default());
    w.observe(&polled);
    assert!(matches!(
        state_of(&w.timeline(), "Deployment/web / app: env DB_PASS"),
        StepState::Never(why) if why.contains("restart needed")
    ));
}

/// The world after the rotation, its pods owned by StatefulSet `web` (annotated for
/// Reloader, `replicas`, under `update`).
fn reloaded_stateful_set(update: UpdateObs, replicas: i32) -> Snapshot {
    let mut s = world(115, 2, 2, 112, 2, 113);
    s.workloads = Coll::known(vec![WorkloadObs {
        kind: "StatefulSet".into(),
        namespace: "pay".into(),
        name: "web".into(),
        annotations: [("reloader.stakater.com/auto".to_string(), "true".to_string())]
            .into_iter()
            .collect::<std::collections::BTreeMap<_, _>>()
            .into(),
        replicas: Some(replicas),
        update: Some(update),
        ..Default::default()
    }]);
    for p in s.pods.items.iter_mut() {
        p.owners = vec![OwnerRef {
            kind: "StatefulSet".into(),
            name: "web".into(),
            uid: Default::default(),
            controller: true,
        }];
    }
    s
}

const STATEFUL_ENV: &str = "StatefulSet/web / app: env DB_PASS";

/// The env step of StatefulSet `web` after the rotation, in world `polled`.
fn stateful_env(polled: &Snapshot) -> StepState {
    let mut w = RotationWatch::new(&world(0, 1, 1, -3000, 1, -3000), "kv-pay", "db-pass");
    w.observe(polled);
    state_of(&w.timeline(), STATEFUL_ENV).clone()
}

/// Stale until a restart: under RollingUpdate `R` restarts the set; where its rollout would
/// not reach the pod (OnDelete, below the partition) `R` deletes that pod alone (audit VV2).
fn restart_needed(state: &StepState) -> bool {
    matches!(state, StepState::Never(why) if why.contains("restart needed (R restarts StatefulSet/web)")
        || why.contains("R deletes pod web-") && why.contains(" only, and StatefulSet/web makes a new one"))
}

/// Reloader restarts by changing the pod template (FACTS §10), which a StatefulSet under
/// `OnDelete` rolls out to no pod (Kubernetes docs, StatefulSet update strategies): its env is
/// stale until a restart, not waiting for Reloader; under RollingUpdate it waits.
#[test]
fn an_on_delete_stateful_set_does_not_wait_for_reloader() {
    let update = |on_delete| UpdateObs {
        on_delete,
        partition: None,
        parallel: false,
        start: 0,
    };
    assert_eq!(
        stateful_env(&reloaded_stateful_set(update(false), 1)),
        StepState::Waiting
    );
    let held = stateful_env(&reloaded_stateful_set(update(true), 1));
    assert!(restart_needed(&held), "{held:?}");
}

/// Kubernetes docs, StatefulSet "Partitioned rolling updates": a template change updates only
/// the ordinals at or above the partition. The world's pod is `web-1`: waited for under
/// partition 1, stale (restart needed) under partition 2; and a stale `web-0` beside it under
/// partition 1 is not waited for, so neither is the workload's env.
#[test]
fn a_pod_below_a_stateful_set_partition_does_not_wait_for_reloader() {
    let partition = |p| UpdateObs {
        on_delete: false,
        partition: Some(p),
        parallel: false,
        start: 0,
    };
    assert_eq!(
        stateful_env(&reloaded_stateful_set(partition(1), 2)),
        StepState::Waiting
    );
    let above = stateful_env(&reloaded_stateful_set(partition(2), 2));
    assert!(restart_needed(&above), "{above:?}");

    let mut both = reloaded_stateful_set(partition(1), 2);
    let mut zero = both.pods.items[0].clone();
    zero.name = "web-0".into();
    both.pods.items.push(zero);
    let both = stateful_env(&both);
    assert!(restart_needed(&both), "{both:?}");
}

/// A re-stamp of the value env took at start (every version holds it): env is never stale
/// because of it. Compared by fingerprint (audit K1): a copy that took another value is not
/// called unaffected (tests/it/lab_restamp_copies.rs).
#[test]
fn a_restamp_never_makes_env_stale() {
    for same_value in [Some(true), None] {
        let restamped = |now, mounted_v, mount_t| {
            let mut s = world(now, 2, mounted_v, mount_t, 1, -3000);
            let same = Fingerprint::of(&[b'v', 1]);
            if let Observed::Known(Some(o)) = &mut s.azure.objects[0].state {
                o.latest_fingerprint = Some(same);
                for v in &mut o.versions {
                    v.fingerprint = Some(same);
                }
            }
            s.spc_statuses.items[0].files = Some([("db-pass".into(), same)].into_iter().collect());
            s.workloads = Coll::known(deployment("web-6d9", false));
            s
        };
        let w = RotationWatch::new(&world(0, 1, 1, -3000, 1, -3000), "kv-pay", "db-pass");
        let mut w = match same_value {
            Some(v) => w.same_value(v),
            None => w,
        };
        w.observe(&restamped(30, 1, -3000));
        w.observe(&restamped(115, 2, 112));
        let tl = w.timeline();
        assert!(
            matches!(state_of(&tl, "env DB_PASS"), StepState::Unaffected(_)),
            "{same_value:?}: {tl:#?}"
        );
        // Nor a subPath copy: the same test says so of both (audit D12: "✗ never" beside
        // the env's "✓ unaffected").
        assert!(
            matches!(state_of(&tl, "legacy: CSI volume"), StepState::Unaffected(w) if w.contains("subPath")),
            "{same_value:?}: {tl:#?}"
        );
        assert!(tl.finished, "{tl:#?}");
        assert!(
            !tl.verdict.iter().any(|s| matches!(
                s.state,
                StepState::Never(_) | StepState::Stuck(_)
            ) && s.label.contains("env")),
            "{tl:#?}"
        );
    }
}

/// A synced Secret that is not there is the SPCPS controller's to create, and its failure is
/// `FailedToCreateSecret`; `SecretRotationFailed` is the patch of one that exists (FACTS §2,
/// §3; the existing case: tests/it/lab_secret_patch_failed.rs).
#[test]
fn a_missing_synced_secret_names_the_controllers_create_event() {
    let mut w = RotationWatch::new(&world(0, 1, 1, -3000, 1, -3000), "kv-pay", "db-pass");
    let mut gone = world(300, 2, 2, 112, 1, -3000);
    gone.secrets = Coll::known(vec![]);
    w.observe(&gone);
    let tl = w.timeline();
    assert!(tl.finished, "{tl:#?}");
    assert!(
        matches!(state_of(&tl, "Secret app-secrets[password]"), StepState::Stuck(why)
            if why.contains("does not exist") && why.contains("FailedToCreateSecret")
                && !why.contains("SecretRotationFailed")),
        "{tl:#?}"
    );
}

/// Reloader changed the template and the rollout started (web-2, made after the Secret
/// changed, runs the new value), but it has not replaced web-1 when the watch ends: the
/// verdict says the rollout of Deployment/web is still in progress, not that Reloader may not
/// be running (it ran: a new pod exists). Kubernetes replaces a Deployment's pods step by step
/// (RollingUpdate), so a long rollout outlives two polls and a minute.
#[test]
fn a_reloader_rollout_still_in_progress_at_the_deadline_is_named_not_reloader() {
    let mut w = RotationWatch::new(&world(0, 1, 1, -3000, 1, -3000), "kv-pay", "db-pass");
    let rolling = |now| {
        let mut s = world(now, 2, 2, 112, 2, 113);
        let mut workloads = deployment("web-6d9", true);
        workloads[0].replicas = Some(2);
        workloads.extend(deployment("web-7aa", true).into_iter().skip(1));
        s.workloads = Coll::known(workloads);
        let mut pods: Vec<PodObs> = s.pods.items.iter().cloned().collect();
        pods.push(pod("web-2", 130, 140, "web-7aa"));
        s.pods = Coll::known(pods);
        s
    };
    w.observe(&rolling(150));
    assert!(!w.timeline().finished);
    w.observe(&rolling(300));
    let tl = w.timeline();
    assert!(tl.finished, "{tl:#?}");
    for step in [
        "Deployment/web / app: env DB_PASS",
        "web-1 / legacy: CSI volume",
    ] {
        let StepState::Stuck(why) = state_of(&tl, step) else {
            panic!("{step}: {tl:#?}");
        };
        assert!(!why.contains("is Reloader running?"), "{step}: {why}");
        assert!(
            why.contains("rollout of Deployment/web is still in progress"),
            "{step}: {why}"
        );
        assert!(
            why.contains("web-1"),
            "{step}: the pod not replaced yet: {why}"
        );
    }
}

/// A pod the old ReplicaSet made again after the Secret changed (one deleted or evicted) is
/// no rollout: nothing changed the template, so the question stays whether Reloader runs.
#[test]
fn a_pod_the_old_replica_set_made_again_is_no_rollout() {
    let mut w = RotationWatch::new(&world(0, 1, 1, -3000, 1, -3000), "kv-pay", "db-pass");
    let replaced = |now| {
        let mut s = world(now, 2, 2, 112, 2, 113);
        let mut workloads = deployment("web-6d9", true);
        workloads[0].replicas = Some(2);
        s.workloads = Coll::known(workloads);
        let mut pods: Vec<PodObs> = s.pods.items.iter().cloned().collect();
        pods.push(pod("web-2", 130, 140, "web-6d9"));
        s.pods = Coll::known(pods);
        s
    };
    w.observe(&replaced(150));
    w.observe(&replaced(300));
    let tl = w.timeline();
    assert!(tl.finished, "{tl:#?}");
    let StepState::Stuck(why) = state_of(&tl, "Deployment/web / app: env DB_PASS") else {
        panic!("{tl:#?}");
    };
    assert!(!why.contains("rollout of"), "{why}");
    assert!(why.contains("is Reloader running?"), "{why}");
}

/// `world` with its pod `web-1` made again (a StatefulSet's pod deleted and re-created under
/// its name): `uid`, created at `created`, its mount at `mounted_v` written at `mount_t`.
pub(super) fn web_1_made_again(mut s: Snapshot, uid: &str, created: i64) -> Snapshot {
    let mut pods: Vec<PodObs> = s.pods.items.iter().cloned().collect();
    pods[0] = PodObs {
        uid: uid.into(),
        ..pod("web-1", created, created + 3, "web-6d9")
    };
    s.pods = Coll::known(pods);
    s
}

fn rotation_off(mut s: Snapshot) -> Snapshot {
    s.cluster.csi_driver = Observed::Known(CsiDriverFacts {
        rotation_enabled: Observed::Known(false),
        ..Default::default()
    });
    s
}

/// Audit UUU-time: a pod re-created under its name after the write is another pod (FACTS §1,
/// §11): its mount at creation reads the vault's latest version, rotation off or not. Matched
/// by name it was the pod that existed at the write, and kept that pod's "never: rotation is
/// disabled" though it mounted the new version. Told apart by uid, else by creation time.
#[test]
fn a_pod_made_again_under_its_name_after_the_write_mounts_the_new_version() {
    for (old_uid, new_uid) in [("u-1", "u-2"), ("", "")] {
        let before = web_1_made_again(world(0, 1, 1, -3000, 1, -3000), old_uid, -3600);
        let mut w = RotationWatch::new(&rotation_off(before), "kv-pay", "db-pass");
        // Deleted and made again at +30; the earlier pod's status still reads the old version.
        let again = web_1_made_again(world(40, 2, 1, -3000, 1, -3000), new_uid, 30);
        w.observe(&rotation_off(again));
        let tl = w.timeline();
        assert_eq!(
            *state_of(&tl, "web-1: mounted version"),
            StepState::Waiting,
            "uid {new_uid:?}: {tl:#?}"
        );
        let mounted = web_1_made_again(world(50, 2, 2, 45, 1, -3000), new_uid, 30);
        w.observe(&rotation_off(mounted));
        let tl = w.timeline();
        assert_eq!(
            *state_of(&tl, "web-1: mounted version"),
            StepState::Done(Duration::from_secs(45)),
            "uid {new_uid:?}: {tl:#?}"
        );
        assert_eq!(
            *state_of(&tl, "web-1: file db-pass"),
            StepState::Done(Duration::from_secs(45)),
            "uid {new_uid:?}: {tl:#?}"
        );
    }
}

/// Audit UUU-time: the step of a pod made again under its name says when *it* mounted the new
/// version, not when rotation reached the pod it replaced; the mounted file hop keeps the time
/// rotation reached the pod that existed at the write (a re-created pod's mount at creation
/// says nothing of rotation).
#[test]
fn a_pod_made_again_has_its_own_mount_time_and_the_hop_keeps_rotations() {
    let before = web_1_made_again(world(0, 1, 1, -3000, 1, -3000), "u-1", -3600);
    let mut w = RotationWatch::new(&before, "kv-pay", "db-pass");
    w.observe(&web_1_made_again(
        world(100, 2, 2, 90, 1, -3000),
        "u-1",
        -3600,
    ));
    assert_eq!(
        *state_of(&w.timeline(), "web-1: mounted version"),
        StepState::Done(Duration::from_secs(90))
    );
    w.observe(&web_1_made_again(world(160, 2, 2, 150, 2, 155), "u-2", 140));
    w.tick(t(400));
    let tl = w.timeline();
    assert!(tl.finished, "{tl:#?}");
    assert_eq!(
        *state_of(&tl, "web-1: mounted version"),
        StepState::Done(Duration::from_secs(150)),
        "{tl:#?}"
    );
    // web-1 made again is another pod: the one rotation followed was replaced (VVV-time2).
    let hop = (tl.verdict.iter()).find(|l| l.label == "mounted file (1 old pod replaced)");
    assert_eq!(
        hop.map(|l| &l.state),
        Some(&StepState::Done(Duration::from_secs(90))),
        "{tl:#?}"
    );
}
