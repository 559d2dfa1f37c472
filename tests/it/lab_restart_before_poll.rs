//! A pod (re)started after a new vault version but before the next rotation poll (audit K2).
//! FACTS §11: an existing synced Secret is not rewritten when a pod mounts, and a restart does
//! not refresh it; only the rotation poll does. The new pod's env therefore read the OLD value
//! from the Secret (its own mount already has the new file), and the poll then rewrote the
//! Secret: the process holds the old value (§4: env is a start-time snapshot). Neither the
//! chain, the rotation timeline nor the rotation lesson may call that "the same value".

use std::time::Duration;

use kvchain::action::Action;
use kvchain::action::timeline::{RestartWatch, RotationWatch, StepState};
use kvchain::chain::restart_plan::RestartPlan;
use kvchain::chain::{self, Code, LinkKind, Severity, Status};
use kvchain::source::lab::world::World;
use kvchain::source::lab::{self, export};

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// The built-in `env-stale` lab (a new value of cart-redis-password at 1m, polls every 2m)
/// with cart rolled out at 70 s, between the new version and the 2m poll.
fn restarted_before_the_poll(scenario: &str) -> World {
    let mut w = World::new(lab::load(scenario).expect("built-in scenario"));
    w.advance(secs(70));
    w.rollout_restart("Deployment", "shop", "cart").unwrap();
    w
}

#[test]
fn an_env_read_before_the_poll_that_rewrote_its_secret_is_not_called_the_same_value() {
    // Past the 2m poll, and long after: nothing else restarts cart.
    let mut w = restarted_before_the_poll("env-stale");
    let mut elapsed = 70;
    for until in [150u64, 300, 600] {
        w.advance(secs(until - elapsed));
        elapsed = until;
        let chains = chain::diagnose(&export::snapshot(&w));
        let cart: Vec<_> = chains
            .iter()
            .filter(|c| c.workload.as_ref().is_some_and(|wl| wl.name == "cart"))
            .collect();
        assert!(!cart.is_empty(), "no chain of cart at {until}s");
        let kvc901: Vec<_> = cart
            .iter()
            .flat_map(|c| c.findings())
            .filter(|f| f.code == Code::KVC901 && f.message.contains("REDIS_PASSWORD"))
            .collect();
        assert!(
            !kvc901.is_empty(),
            "at {until}s the env read before the poll is reported: {cart:#?}"
        );
        for f in &kvc901 {
            assert!(
                f.severity >= Severity::Warning,
                "at {until}s: {} {:?}",
                f.message,
                f.severity
            );
            assert!(
                !f.message.contains("holds the same value"),
                "at {until}s: {}",
                f.message
            );
            assert!(
                f.message.contains("old value"),
                "at {until}s: {}",
                f.message
            );
        }
        for c in &cart {
            assert_ne!(
                c.link(LinkKind::Consumers).status,
                Status::Ok,
                "at {until}s: {c:#?}"
            );
        }
    }
}

/// The rotation timeline (`r`/`M`) of the same situation: the pod restarted between the write
/// and the poll did not take the new value from the Secret, so its env hop is not "already
/// holds this value" nor fresh.
#[test]
fn the_rotation_timeline_does_not_credit_a_pod_restarted_before_the_poll_with_the_new_value() {
    let mut src = lab::open("env-stale", None).expect("built-in scenario");
    src.world_mut().run_until_stable(secs(3600));
    let before = export::snapshot(src.world());
    let mut watch = RotationWatch::new(&before, "kv-shop-lab", "cart-redis-password")
        .starting_at(before.source.observed_at);
    let out = src.act(&Action::Rotate {
        vault: "kv-shop-lab".into(),
        object: "cart-redis-password".into(),
        marker: true,
    });
    assert!(out.ok, "{out:?}");
    // Restart at once: the lab's next poll is still to come (polls every 2 minutes).
    let next_poll = export::snapshot(src.world());
    let secret_written = |s: &kvchain::snapshot::Snapshot| {
        s.secret("shop", "cart-redis")
            .and_then(|sec| sec.updated_at)
            .expect("Secret cart-redis")
    };
    let written_before = secret_written(&next_poll);
    (src.world_mut())
        .rollout_restart("Deployment", "shop", "cart")
        .unwrap();
    let mut finished = false;
    for _ in 0..60 {
        src.world_mut().advance(secs(10));
        let s = export::snapshot(src.world());
        watch.observe(&s);
        if watch.timeline().finished {
            finished = true;
            break;
        }
    }
    assert!(finished, "{:#?}", watch.timeline());
    let after = export::snapshot(src.world());
    let written = secret_written(&after);
    assert!(written > written_before, "the poll rewrote the Secret");
    let pod = after
        .pods
        .items
        .iter()
        .find(|p| p.name.starts_with("cart-") && p.template_of.is_none())
        .expect("a cart pod");
    let started = pod
        .containers
        .iter()
        .find_map(|c| match &c.state {
            kvchain::snapshot::ContainerStateObs::Running { started_at } => Some(*started_at),
            _ => None,
        })
        .expect("running");
    // The situation under test: the new container started before the poll wrote the Secret.
    assert!(
        started < written,
        "started {started}, Secret written {written}"
    );
    let tl = watch.timeline();
    let env = tl
        .steps
        .iter()
        .find(|s| s.label.contains("env REDIS_PASSWORD"))
        .unwrap_or_else(|| panic!("no env step: {tl:#?}"));
    assert!(
        matches!(&env.state, StepState::Never(why) if why.contains("restart needed")),
        "{tl:#?}"
    );
}

/// The rotation lesson's first step waits for the broken KVC901 (the process holds the old
/// value); a KVC901 that is only a warning or an info does not move it on.
#[test]
fn the_rotation_lessons_first_step_waits_for_a_broken_kvc901() {
    let src = lab::open("lesson-rotation", None).expect("built-in lesson scenario");
    let (lesson, default_target) = lab::find_lesson(&src, "rotation").expect("lesson");
    let target = lesson.target.clone().unwrap_or(default_target);
    let check = lesson.steps[0].check.as_ref().expect("step 1 has a check");
    let mut w = restarted_before_the_poll("lesson-rotation");
    w.advance(secs(80));
    let chains = chain::diagnose(&export::snapshot(&w));
    let kvc901: Vec<_> = chains
        .iter()
        .flat_map(|c| c.findings())
        .filter(|f| f.code == Code::KVC901)
        .collect();
    assert!(!kvc901.is_empty(), "KVC901 is there");
    // Only an error (the process holds the old value) is what the step teaches.
    let broken = kvc901.iter().any(|f| f.severity == Severity::Error);
    assert_eq!(
        check.passes(&chains, &target),
        broken,
        "{}: {kvc901:#?}",
        check.describe()
    );
    // The lesson as written: untouched, the poll leaves cart's process with the old value.
    let mut w = World::new(lab::load("lesson-rotation").expect("built-in scenario"));
    w.advance(secs(150));
    let chains = chain::diagnose(&export::snapshot(&w));
    assert!(
        check.passes(&chains, &target),
        "{} {target:?}: {}",
        check.describe(),
        crate::lab_diagnosis::describe(&chains)
    );
}

/// The restart timeline of a restart before the poll (audit VV3), with a poll interval (10m)
/// much longer than the restart takes. FACTS §4: env is a start-time snapshot; §11: the
/// Secret is rewritten only by rotation. The new container took the Secret before the poll
/// rewrote it: its `env fresh` step is settled when it starts — stale, a second restart
/// needed once the poll has updated the Secret — not left waiting with no reason until the
/// watch gives up with "no change observed".
#[test]
fn a_restart_before_a_long_poll_settles_env_fresh_as_stale_at_the_container_start() {
    let cluster = crate::lab_nodes::CLUSTER.replacen(
        "rotationPollInterval: 2m",
        "rotationPollInterval: 10m",
        1,
    );
    assert!(cluster.contains("rotationPollInterval: 10m"));
    let env_stale = include_str!("../../assets/scenarios/env-stale.yaml");
    let docs = [
        cluster.as_str(),
        crate::lab_nodes::SHOP,
        crate::lab_nodes::HEALTHY,
        env_stale,
    ]
    .join("\n---\n");
    let sc = lab::scenario::parse("long-poll", std::path::Path::new("long-poll.yaml"), &docs)
        .expect("parses");
    let mut w = World::new(sc);
    // Past the scenario's own rotation (1m) and the first 10m poll: all in step.
    w.advance(secs(11 * 60));
    let secret_written = |s: &kvchain::snapshot::Snapshot| {
        (s.secret("shop", "cart-redis").and_then(|x| x.updated_at)).expect("Secret cart-redis")
    };
    w.rotate_secret("kv-shop-lab", "cart-redis-password", Some(b"cart-pass-9"))
        .unwrap();
    let before = export::snapshot(&w);
    let written_before = secret_written(&before);
    let old = before
        .pods
        .items
        .iter()
        .find(|p| p.name.starts_with("cart-") && p.template_of.is_none())
        .expect("a cart pod")
        .name
        .to_string();
    let plan = RestartPlan::for_pod(&before, before.pod("shop", &old).unwrap());
    let mut watch = RestartWatch::for_plan(&before, "shop", &old, &plan);
    w.restart_pod("shop", &old).unwrap();
    let mut tl = watch.timeline();
    for _ in 0..60 {
        w.advance(secs(10));
        let s = export::snapshot(&w);
        watch.observe(&s);
        tl = watch.timeline();
        if tl.finished {
            // Settled before the poll: the Secret is still the one the container read.
            assert_eq!(secret_written(&s), written_before, "{tl:#?}");
            break;
        }
    }
    assert!(tl.finished, "settled before the next poll: {tl:#?}");
    let env = tl
        .steps
        .iter()
        .find(|s| s.label.contains("env REDIS_PASSWORD fresh"))
        .unwrap_or_else(|| panic!("no env step: {tl:#?}"));
    let StepState::Never(why) = &env.state else {
        panic!("stale, settled at the start: {tl:#?}");
    };
    assert!(
        why.contains("stale")
            && why.contains("restart again")
            && why.contains("next poll (every 10m00s, due by about"),
        "{why}"
    );
    assert!(!why.contains("no change observed"), "{why}");
}
