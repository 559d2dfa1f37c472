//! Issue 7's journeys on the lab, as the TUI runs them: the action goes through the lab source,
//! and a watch follows each new snapshot until every hop has resolved.

use std::time::Duration;

use kvchain::action::Action;
use kvchain::action::timeline::{RestartWatch, RotationWatch, StepState, Timeline};
use kvchain::chain::restart_plan::RestartPlan;
use kvchain::snapshot::Snapshot;
use kvchain::source::lab::{self, LabSource, export};

const VAULT: &str = "kv-shop-lab";

pub(crate) fn settled(scenario: &str) -> LabSource {
    let mut src = lab::open(scenario, None).expect("built-in scenario");
    src.world_mut().run_until_stable(Duration::from_secs(3600));
    src
}

/// The `healthy` lab, settled, with the trainer fault that removes the checkout identity's role
/// assignment applied (its mounts then fail 403, FACTS §3).
pub(crate) fn without_role() -> LabSource {
    use kvchain::source::{LabControl, Source as _};
    let mut src = settled("healthy");
    let _ = src.info();
    let out = src.control(&LabControl::Fault {
        id: "remove-role-assignment".into(),
        apply: true,
        target: None,
    });
    assert!(out.is_ok(), "{out:?}");
    src
}

pub(crate) fn snapshot(src: &LabSource) -> Snapshot {
    export::snapshot(src.world())
}

/// Advance the lab 10 s at a time, showing each snapshot to `observe`, until it says done.
pub(crate) fn follow(src: &mut LabSource, mut observe: impl FnMut(&Snapshot) -> bool) {
    for _ in 0..60 {
        src.world_mut().advance(Duration::from_secs(10));
        if observe(&snapshot(src)) {
            return;
        }
    }
    panic!("the watch never finished within 10 lab minutes");
}

pub(crate) fn rotate(src: &mut LabSource, object: &str, marker: bool) -> Timeline {
    let mut watch = RotationWatch::new(&snapshot(src), VAULT, object);
    let out = src.act(&Action::Rotate {
        vault: VAULT.into(),
        object: object.into(),
        marker,
    });
    assert!(out.ok, "{out:?}");
    follow(src, |s| {
        watch.observe(s);
        watch.timeline().finished
    });
    watch.timeline()
}

pub(crate) fn state<'a>(tl: &'a Timeline, needle: &str) -> &'a StepState {
    &tl.steps
        .iter()
        .find(|s| s.label.contains(needle))
        .unwrap_or_else(|| panic!("no step {needle:?} in {tl:#?}"))
        .state
}

fn done(s: &StepState) -> Duration {
    match s {
        StepState::Done(d) => *d,
        other => panic!("not done: {other:?}"),
    }
}

#[test]
fn marker_rotation_reaches_file_and_secret_env_stays_stale_until_restart() {
    let mut src = settled("env-stale");
    let tl = rotate(&mut src, "cart-redis-password", true);
    let vault = done(state(&tl, "new version"));
    let mount = done(state(&tl, "mounted version"));
    let file = done(state(&tl, "file redis-password"));
    let secret = done(state(&tl, "Secret cart-redis[password]"));
    // Hop by hop, in order, within one rotation poll (2 minutes in the lab's driver).
    assert!(
        vault <= mount && mount <= file && mount <= secret,
        "{tl:#?}"
    );
    assert!(mount <= Duration::from_secs(130), "{tl:#?}");
    assert!(
        matches!(state(&tl, "env REDIS_PASSWORD"), StepState::Never(w) if w.contains("restart needed")),
        "{tl:#?}"
    );

    // Restart the pod: its Deployment rolls out and the new pod's env is fresh.
    let before = snapshot(&src);
    let pod = before
        .pods
        .items
        .iter()
        .find(|p| p.name.starts_with("cart-") && p.template_of.is_none())
        .expect("cart pod")
        .clone();
    let owner = RestartPlan::for_pod(&before, &pod).replacing_owner();
    assert_eq!(owner, Some(("Deployment".into(), "cart".into())));
    let mut watch = RestartWatch::new(&before, &pod.namespace, &pod.name, owner);
    let out = src.act(&Action::Restart {
        namespace: pod.namespace.to_string(),
        pod: pod.name.to_string(),
    });
    assert!(out.ok, "{out:?}");
    follow(&mut src, |s| {
        watch.observe(s);
        watch.timeline().finished
    });
    let tl = watch.timeline();
    assert!(
        tl.steps
            .iter()
            .all(|s| matches!(s.state, StepState::Done(_))),
        "{tl:#?}"
    );
    assert!(
        tl.steps.iter().any(|s| s.label.contains("REDIS_PASSWORD")),
        "the env consumer is followed: {tl:#?}"
    );
}

#[test]
fn subpath_consumer_never_sees_the_rotation() {
    let mut src = settled("subpath");
    let tl = rotate(&mut src, "billing-api-key", true);
    done(state(&tl, "mounted version"));
    assert!(
        tl.steps.iter().any(
            |s| matches!(&s.state, StepState::Never(w) if s.label.contains("/etc/billing/api-key") && w.contains("subPath billing-api-key never sees rotated content"))
        ),
        "{tl:#?}"
    );
}

#[test]
fn rotation_disabled_in_the_driver_is_never_with_the_reason() {
    let mut src = settled("rotation-disabled");
    let tl = rotate(&mut src, "checkout-db-password", false);
    done(state(&tl, "new version"));
    assert!(
        matches!(state(&tl, "mounted version"), StepState::Never(w) if w.contains("--enable-secret-rotation=false")),
        "{tl:#?}"
    );
}

#[test]
fn restamp_keeps_the_value_and_still_moves_every_hop() {
    let mut src = settled("env-stale");
    let before = snapshot(&src);
    let fingerprints = |s: &Snapshot| {
        s.secrets
            .items
            .iter()
            .find(|x| x.name == "cart-redis")
            .map(|x| x.data.clone())
    };
    let tl = rotate(&mut src, "cart-redis-password", false);
    let mount = done(state(&tl, "mounted version"));
    assert_eq!(done(state(&tl, "file redis-password")), mount);
    // Its data is what it held: not rewritten (audit TTT-time), unaffected.
    assert!(matches!(
        state(&tl, "Secret cart-redis[password]"),
        StepState::Unaffected(_)
    ));
    assert_eq!(fingerprints(&before), fingerprints(&snapshot(&src)));
}

/// Audit 12 (A12-2), README "Actions" `r`: after a marker, `M` restores the value of the
/// version before it. A process that read that value at start holds exactly what the vault
/// holds again: compared by fingerprint its env is `✓ unaffected`, not a restart demand.
#[test]
fn restore_after_a_marker_leaves_env_that_read_the_restored_value_unaffected() {
    let mut src = settled("env-stale");
    // Restart cart first, so its env holds the vault's current value.
    let pod = snapshot(&src)
        .pods
        .items
        .iter()
        .find(|p| p.name.starts_with("cart-") && p.template_of.is_none())
        .expect("cart pod")
        .clone();
    let out = src.act(&Action::Restart {
        namespace: pod.namespace.to_string(),
        pod: pod.name.to_string(),
    });
    assert!(out.ok, "{out:?}");
    src.world_mut().run_until_stable(Duration::from_secs(3600));

    let before_marker = snapshot(&src);
    let marker = rotate(&mut src, "cart-redis-password", true);
    assert!(
        matches!(state(&marker, "env REDIS_PASSWORD"), StepState::Never(w) if w.contains("restart needed")),
        "{marker:#?}"
    );
    let old = RotationWatch::new(&before_marker, VAULT, "cart-redis-password")
        .old_version()
        .expect("the version before the marker")
        .to_string();

    let mut watch = RotationWatch::new(&snapshot(&src), VAULT, "cart-redis-password");
    let out = src.act(&Action::Restore {
        vault: VAULT.into(),
        object: "cart-redis-password".into(),
        version: old,
    });
    assert!(out.ok, "{out:?}");
    follow(&mut src, |s| {
        watch.observe(s);
        watch.timeline().finished
    });
    let tl = watch.timeline();
    done(state(&tl, "file redis-password"));
    done(state(&tl, "Secret cart-redis[password]"));
    assert!(
        matches!(state(&tl, "env REDIS_PASSWORD"), StepState::Unaffected(_)),
        "{tl:#?}"
    );
    let env = tl
        .verdict
        .iter()
        .find(|s| s.label.starts_with("env / restart"))
        .expect("an env verdict");
    assert!(
        env.state.describe().starts_with("✓ unaffected"),
        "{:?}",
        env.state
    );
}

/// A rotation whose mount cannot follow because the identity lost its grant: the driver's
/// rotation polls fail with a 403 (MountRotationFailed, FACTS §3). The timeline names that
/// failure and the link it breaks on the mount and synced-Secret hops, instead of "check the
/// driver and provider logs" and "check FailedToCreateSecret events" (audit D3).
#[test]
fn a_rotation_whose_polls_fail_names_the_failure_on_its_hops() {
    let mut src = without_role();
    let tl = rotate(&mut src, "checkout-db-password", true);
    let StepState::Stuck(why) = state(&tl, "mounted version") else {
        panic!("the mount cannot move: {tl:#?}");
    };
    assert!(
        why.contains("rotation polls fail") && why.contains("(Access link: "),
        "{why}"
    );
    let synced = (tl.steps.iter())
        .find(|s| s.label.starts_with("Secret ") && s.label.ends_with(": synced"))
        .unwrap_or_else(|| panic!("{tl:#?}"));
    let StepState::Stuck(why) = &synced.state else {
        panic!("{tl:#?}");
    };
    assert!(
        !why.contains("FailedToCreateSecret") && why.contains("(Access link: "),
        "{why}"
    );
}

/// A restart whose new pod cannot mount because the identity lost its grant: the kubelet's
/// FailedMount (a 403, FACTS §3) is why the rollout stalls, and the timeline says so on the
/// new pod's waiting hops instead of "no change observed" (audit D11).
#[test]
fn a_restart_whose_new_pod_cannot_mount_says_why() {
    let why = restart_stuck_without_role();
    // In kvchain's words: the code, its link and short cause (audit WWW-rules).
    assert!(
        why.contains("does not mount") && why.contains("(Access link: "),
        "{why}"
    );
}

/// The `healthy` lab with the checkout identity's role assignment removed, a checkout pod
/// restarted (`R`), the restart timeline followed until it ends: its "secrets mounted" step's
/// stuck reason (the new pod cannot mount: a 403, FACTS §3).
pub(crate) fn restart_stuck_without_role() -> String {
    let mut src = without_role();
    let before = snapshot(&src);
    let pod = (before.pods.items.iter())
        .find(|p| p.name.starts_with("checkout-") && p.template_of.is_none())
        .expect("checkout pod")
        .clone();
    let owner = RestartPlan::for_pod(&before, &pod).replacing_owner();
    let mut watch = RestartWatch::new(&before, &pod.namespace, &pod.name, owner);
    let out = src.act(&Action::Restart {
        namespace: pod.namespace.to_string(),
        pod: pod.name.to_string(),
    });
    assert!(out.ok, "{out:?}");
    for _ in 0..200 {
        src.world_mut().advance(Duration::from_secs(10));
        watch.observe(&snapshot(&src));
        if watch.timeline().finished {
            break;
        }
    }
    let tl = watch.timeline();
    assert!(tl.finished, "{tl:#?}");
    let mounted = (tl.steps.iter())
        .find(|s| s.label.contains("secrets mounted"))
        .unwrap_or_else(|| panic!("{tl:#?}"));
    let StepState::Stuck(why) = &mounted.state else {
        panic!("{tl:#?}");
    };
    why.to_string()
}
