//! Copies taken at container start under the one-key rotation tests (audit K1). FACTS §4:
//! env vars from a synced Secret are a start-time snapshot, and subPath mounts never see
//! rotated content. A re-stamp (`r`) writes the vault's current value again: a copy holds it
//! only when nothing changed since the container started, so the timeline compares by
//! fingerprint, as it does for a new value, instead of calling every copy unaffected. A
//! restore (`M` after a marker) writes back the value a subPath copy took: it holds exactly
//! the vault's value again.

use std::time::Duration;

use kvchain::action::Action;
use kvchain::action::timeline::{RotationWatch, StepState, Timeline};
use kvchain::source::lab::LabSource;

use crate::actions_lab::{follow, settled, snapshot, state};

const VAULT: &str = "kv-shop-lab";

/// The timeline of `action` on `object`, built as the TUI builds it (`r`: same value, `M`
/// and its restore: a new value), followed until it finishes.
fn watch(src: &mut LabSource, object: &str, action: Action) -> Timeline {
    let same = matches!(action, Action::Rotate { marker: false, .. });
    let mut watch = RotationWatch::new(&snapshot(src), VAULT, object).same_value(same);
    let out = src.act(&action);
    assert!(out.ok, "{out:?}");
    follow(src, |s| {
        watch.observe(s);
        watch.timeline().finished
    });
    watch.timeline()
}

fn restamp(src: &mut LabSource, object: &str) -> Timeline {
    let action = Action::Rotate {
        vault: VAULT.into(),
        object: object.into(),
        marker: false,
    };
    watch(src, object, action)
}

pub fn marker(src: &mut LabSource, object: &str) -> (Timeline, String) {
    let old = RotationWatch::new(&snapshot(src), VAULT, object)
        .old_version()
        .expect("a version before the marker")
        .to_string();
    let action = Action::Rotate {
        vault: VAULT.into(),
        object: object.into(),
        marker: true,
    };
    (watch(src, object, action), old)
}

pub fn restore(src: &mut LabSource, object: &str, version: String) -> Timeline {
    let action = Action::Restore {
        vault: VAULT.into(),
        object: object.into(),
        version,
    };
    watch(src, object, action)
}

fn is_stale_not_caused(s: &StepState) -> bool {
    matches!(s, StepState::Never(w) if w.contains("not caused by this test") && w.contains("restart needed"))
}

/// `demo env-stale`: the 1m value reached Secret cart-redis at the 2m poll, long after cart's
/// container started (KVC901 error). Re-stamping that value does not make its env current.
#[test]
fn a_restamp_does_not_call_a_stale_env_unaffected() {
    let mut src = settled("env-stale");
    let tl = restamp(&mut src, "cart-redis-password");
    let env = state(&tl, "env REDIS_PASSWORD");
    assert!(is_stale_not_caused(env), "{tl:#?}");
    let verdict = tl
        .verdict
        .iter()
        .find(|s| s.label.starts_with("env / restart"))
        .expect("an env verdict");
    assert!(
        !verdict.state.describe().starts_with("✓"),
        "{:?}",
        verdict.state
    );
}

/// env-stale with cart restarted: its env holds the vault's value.
fn env_stale_restarted() -> LabSource {
    let mut src = settled("env-stale");
    src.world_mut()
        .rollout_restart("Deployment", "shop", "cart")
        .unwrap();
    src.world_mut().run_until_stable(Duration::from_secs(3600));
    src
}

/// After a restart the env holds the vault's value: a re-stamp leaves it unaffected.
#[test]
fn a_restamp_leaves_an_env_that_holds_the_value_unaffected() {
    let mut src = env_stale_restarted();
    let tl = restamp(&mut src, "cart-redis-password");
    assert!(
        matches!(state(&tl, "env REDIS_PASSWORD"), StepState::Unaffected(w) if w.contains("compared by fingerprint")),
        "{tl:#?}"
    );
}

/// A re-stamp changes no Secret data, so Reloader rolls nothing (FACTS §10); the note says a
/// new value would be rolled out by Reloader on a workload it watches (checkout), and needs a
/// restart on one it does not (cart after its restart) (audit EEE4).
#[test]
fn a_restamp_says_what_a_new_value_would_take_on_each_workload() {
    let mut src = settled("healthy");
    let tl = restamp(&mut src, "checkout-db-password");
    assert!(
        matches!(state(&tl, "env DB_PASSWORD"), StepState::Unaffected(w) if w.contains("rolled out by Reloader")),
        "{tl:#?}"
    );
    let mut src = env_stale_restarted();
    let tl = restamp(&mut src, "cart-redis-password");
    assert!(
        matches!(state(&tl, "env REDIS_PASSWORD"), StepState::Unaffected(w) if w.contains("a new value would need a restart")),
        "{tl:#?}"
    );
}

/// Rotation off, a new value written, then checkout restarted: the new pods read Secret
/// checkout-db, which no restart rewrites (FACTS §11), so their env holds the old value. A
/// re-stamp of the vault's value does not make them current.
#[test]
fn a_restamp_with_rotation_off_does_not_call_env_on_a_stale_secret_unaffected() {
    let mut src = settled("rotation-disabled");
    src.world_mut()
        .rotate_secret(VAULT, "checkout-db-password", Some(b"checkout-pass-v3"))
        .unwrap();
    src.world_mut().advance(Duration::from_secs(60));
    src.world_mut()
        .rollout_restart("Deployment", "shop", "checkout")
        .unwrap();
    src.world_mut().run_until_stable(Duration::from_secs(3600));
    let tl = restamp(&mut src, "checkout-db-password");
    let env: Vec<_> = tl
        .steps
        .iter()
        .filter(|s| s.label.contains("env DB_PASSWORD"))
        .collect();
    assert!(!env.is_empty(), "{tl:#?}");
    for s in env {
        assert!(is_stale_not_caused(&s.state), "{tl:#?}");
    }
}

fn sub_path_step(tl: &Timeline) -> &StepState {
    state(tl, "/etc/billing/api-key")
}

/// `demo subpath`: after a marker the subPath copy holds the old value; a re-stamp of the
/// marker does not make it current.
#[test]
fn a_restamp_does_not_call_a_stale_sub_path_copy_unaffected() {
    let mut src = settled("subpath");
    let (m, _) = marker(&mut src, "billing-api-key");
    // What R does on the pod, as for env (audit EEE6).
    assert!(
        matches!(sub_path_step(&m), StepState::Never(w) if w.contains("never sees rotated content")
            && w.contains("restart needed (R restarts Deployment/billing")),
        "{m:#?}"
    );
    let tl = restamp(&mut src, "billing-api-key");
    assert!(is_stale_not_caused(sub_path_step(&tl)), "{tl:#?}");
    assert!(
        matches!(sub_path_step(&tl), StepState::Never(w) if w.contains("restart needed (R restarts Deployment/billing")),
        "{tl:#?}"
    );
}

/// Untouched, the subPath copy holds the vault's value: a re-stamp leaves it unaffected.
#[test]
fn a_restamp_leaves_a_current_sub_path_copy_unaffected() {
    let mut src = settled("subpath");
    let tl = restamp(&mut src, "billing-api-key");
    assert!(
        matches!(sub_path_step(&tl), StepState::Unaffected(_)),
        "{tl:#?}"
    );
}

/// `M`, then `M` again (restore): the subPath copy took the restored value at start and holds
/// exactly the vault's value again (the chain drops its KVC901).
#[test]
fn a_restore_leaves_the_sub_path_copy_that_holds_the_restored_value_unaffected() {
    let mut src = settled("subpath");
    let (_, old) = marker(&mut src, "billing-api-key");
    let tl = restore(&mut src, "billing-api-key", old);
    assert!(
        matches!(sub_path_step(&tl), StepState::Unaffected(w) if w.contains("compared by fingerprint")),
        "{tl:#?}"
    );
    let chains = kvchain::chain::diagnose(&snapshot(&src));
    assert!(
        chains
            .iter()
            .flat_map(|c| c.findings())
            .all(|f| f.code != kvchain::chain::Code::KVC901
                || f.severity < kvchain::chain::Severity::Warning),
        "the chain agrees: {}",
        crate::lab_diagnosis::describe(&chains)
    );
}
