//! A container that takes a synced Secret through `envFrom` reads it at start like one that
//! names a key (FACTS §4: "Env vars from a synced Secret are a start-time snapshot; pod
//! restart … needed"; §11: a restart does not refresh the Secret). The diagnosis judges it
//! (KVC901 says "envFrom"); so must the rotation timeline's env hop, the restart timeline's
//! `env fresh` step and the lab's in-container verify (audit VV1: all three left it out and
//! ended ✓ while the process held the old value).

use std::path::Path;
use std::time::Duration;

use kvchain::action::timeline::{RestartWatch, RotationWatch, Step, StepState, Timeline};
use kvchain::chain::restart_plan::RestartPlan;
use kvchain::source::lab::world::{Stage, World};
use kvchain::source::lab::{export, scenario};

use crate::lab_nodes::{CLUSTER, HEALTHY, SHOP};

const ENV_STALE: &str = include_str!("../../assets/scenarios/env-stale.yaml");
const CLUSTER_OFF: &str = include_str!("../../assets/scenarios/cluster-rotation-off.yaml");
const SECRET_KEY_REF: &str = "          env:\n            - name: REDIS_PASSWORD\n              valueFrom:\n                secretKeyRef:\n                  name: cart-redis\n                  key: password\n";
const ENV_FROM: &str =
    "          envFrom:\n            - secretRef:\n                name: cart-redis\n";

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// env-stale's cart reading `cart-redis` through envFrom (its one key, `password`), on
/// `cluster`; settled past the scenario's own rotation and poll.
fn env_from_cart(cluster: &str) -> World {
    assert!(ENV_STALE.contains(SECRET_KEY_REF));
    let cart = ENV_STALE.replacen(SECRET_KEY_REF, ENV_FROM, 1);
    let docs = [cluster, SHOP, HEALTHY, &cart].join("\n---\n");
    let sc = scenario::parse("env-from", Path::new("env-from.yaml"), &docs).expect("parses");
    let mut w = World::new(sc);
    w.run_until_stable(secs(3600));
    w
}

fn cart_pod(w: &World) -> String {
    w.pods
        .values()
        .find(|p| p.name().starts_with("cart-") && p.stage == Stage::Running)
        .expect("a running cart pod")
        .name()
        .to_string()
}

fn step<'t>(tl: &'t Timeline, part: &str) -> &'t Step {
    tl.steps
        .iter()
        .find(|s| s.label.contains(part))
        .unwrap_or_else(|| panic!("no step {part}: {tl:#?}"))
}

/// A new value written to the vault, followed to the end of the rotation timeline.
fn rotated(w: &mut World) -> Timeline {
    let before = export::snapshot(w);
    let mut watch = RotationWatch::new(&before, "kv-shop-lab", "cart-redis-password")
        .starting_at(before.source.observed_at);
    w.rotate_secret("kv-shop-lab", "cart-redis-password", Some(b"cart-pass-9"))
        .unwrap();
    for _ in 0..90 {
        w.advance(secs(10));
        watch.observe(&export::snapshot(w));
        if watch.timeline().finished {
            return watch.timeline();
        }
    }
    panic!("never finished: {:#?}", watch.timeline());
}

#[test]
fn the_rotation_timeline_has_an_env_hop_for_an_env_from_reader() {
    let mut w = env_from_cart(CLUSTER);
    let tl = rotated(&mut w);
    let env = step(&tl, "Deployment/cart / app: env password");
    assert!(env.label.contains("envFrom"), "{env:?}");
    assert!(
        matches!(&env.state, StepState::Never(why) if why.contains("stale") && why.contains("restart needed")),
        "nothing restarted cart: {tl:#?}"
    );
    assert!(
        (tl.verdict.iter()).any(|v| v.label.starts_with("env / restart")
            && matches!(v.state, StepState::Never(_))),
        "the verdict names the env hop: {:#?}",
        tl.verdict
    );
}

/// Rotation off: the new vault value reaches the new pod's file, never the existing synced
/// Secret its envFrom reads (FACTS §11): the restart's `env fresh` step says stale.
#[test]
fn the_restart_timeline_judges_an_env_from_reader() {
    let mut w = env_from_cart(CLUSTER_OFF);
    w.rotate_secret("kv-shop-lab", "cart-redis-password", Some(b"cart-pass-9"))
        .unwrap();
    w.advance(secs(300));
    let old = cart_pod(&w);
    let before = export::snapshot(&w);
    let plan = RestartPlan::for_pod(&before, before.pod("shop", &old).expect("pod"));
    let mut watch = RestartWatch::for_plan(&before, "shop", &old, &plan);
    w.restart_pod("shop", &old).unwrap();
    let mut tl = watch.timeline();
    for _ in 0..60 {
        w.advance(secs(10));
        watch.observe(&export::snapshot(&w));
        tl = watch.timeline();
        if tl.finished {
            break;
        }
    }
    assert!(tl.finished, "{tl:#?}");
    let env = step(&tl, "env password (envFrom) fresh");
    assert!(
        matches!(&env.state, StepState::Never(why) if why.contains("stale") && why.contains("rotation")),
        "{tl:#?}"
    );
}

/// The lab's `x` compares the variables envFrom set with the synced Secret: after a
/// rotation nothing restarted cart, so its env holds the old value.
#[test]
fn the_lab_verify_flags_a_stale_env_from_reader() {
    let mut w = env_from_cart(CLUSTER);
    w.rotate_secret("kv-shop-lab", "cart-redis-password", Some(b"cart-pass-9"))
        .unwrap();
    w.advance(secs(300));
    let pod = cart_pod(&w);
    let out = w.verify("shop", &pod, "app").unwrap();
    let env = out
        .lines()
        .find(|l| l.starts_with("env password"))
        .unwrap_or_else(|| panic!("the envFrom variable is compared: {out}"));
    assert!(
        env.contains("envFrom Secret cart-redis") && env.contains("stale"),
        "{env}"
    );
    assert!(!out.contains("cart-pass"), "no value in the output: {out}");

    // A new pod takes the rotated Secret: the same comparison says it matches.
    w.restart_pod("shop", &pod).unwrap();
    w.run_until_stable(secs(600));
    let pod = cart_pod(&w);
    let out = w.verify("shop", &pod, "app").unwrap();
    assert!(
        out.lines()
            .any(|l| l.starts_with("env password") && l.contains("matches Secret cart-redis")),
        "{out}"
    );
}
