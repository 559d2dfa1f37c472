//! A restart with rotation off (FACTS §11): the driver does not rewrite an existing synced
//! Secret at mount, so the new pod's env holds the Secret's old value although its file is
//! new. Neither the in-container verify nor the restart timeline may call that env fresh.

use std::time::Duration;

use kvchain::action::timeline::{RestartWatch, StepState};
use kvchain::chain::restart_plan::RestartPlan;
use kvchain::source::lab::world::{Stage, World};
use kvchain::source::lab::{self, export};

fn minutes(m: u64) -> Duration {
    Duration::from_secs(60 * m)
}

fn checkout_pod(w: &World) -> String {
    w.pods
        .values()
        .find(|p| p.name().starts_with("checkout-") && p.stage == Stage::Running)
        .expect("a running checkout pod")
        .name()
        .to_string()
}

/// The `rotation-disabled` scenario five minutes after checkout's password got a new version
/// in the vault: rotation is off, so the new value stays there.
fn rotated_with_rotation_off() -> World {
    let mut w = World::new(lab::load("rotation-disabled").expect("built-in scenario"));
    w.advance(minutes(10));
    w.rotate_secret(
        "kv-shop-lab",
        "checkout-db-password",
        Some(b"checkout-pass-v9"),
    )
    .unwrap();
    w.advance(minutes(5));
    w
}

#[test]
fn a_restart_with_rotation_off_leaves_env_on_a_stale_secret_and_says_so() {
    let mut w = rotated_with_rotation_off();
    let old = checkout_pod(&w);
    let before = export::snapshot(&w);
    let owner = before
        .pod("shop", &old)
        .and_then(|p| RestartPlan::for_pod(&before, p).replacing_owner());
    let mut watch =
        RestartWatch::new(&before, "shop", &old, owner).starting_at(before.source.observed_at);
    w.restart_pod("shop", &old).unwrap();
    w.run_until_stable(minutes(30));
    let new = checkout_pod(&w);
    assert_ne!(new, old);

    let verify = w.verify("shop", &new, "app").unwrap();
    assert!(
        verify.contains("file db-password: matches the vault's latest version"),
        "the new pod mounts the new version: {verify}"
    );
    let env = verify
        .lines()
        .find(|l| l.starts_with("env DB_PASSWORD"))
        .unwrap_or_else(|| panic!("{verify}"));
    assert!(
        env.contains("stale") && env.contains("db-password"),
        "{env}"
    );

    let after = export::snapshot(&w);
    // The chain says the same as verify: the env reads a Secret that is stale (KVC805 on the
    // Sync link), so the Consumers link is not a quiet ✓ (audit D1: it read "✓ env").
    let chains = kvchain::chain::diagnose(&after);
    let chain = chains
        .iter()
        .find(|c| c.pod == new)
        .unwrap_or_else(|| panic!("no chain of {new}"));
    assert!(
        chain
            .findings()
            .any(|f| f.code == kvchain::chain::Code::KVC805),
        "{chain:#?}"
    );
    let consumers = chain.link(kvchain::chain::LinkKind::Consumers);
    assert_ne!(
        consumers.status,
        kvchain::chain::Status::Ok,
        "{consumers:#?}"
    );
    assert!(consumers.summary.contains("Sync"), "{consumers:#?}");
    watch.observe(&after);
    let tl = watch.timeline();
    let step = tl
        .steps
        .iter()
        .find(|s| s.label.contains(&new) && s.label.contains("env DB_PASSWORD"))
        .unwrap_or_else(|| panic!("no env step of {new}: {tl:#?}"));
    let StepState::Never(why) = &step.state else {
        panic!("env of a pod reading a stale Secret is not fresh: {tl:#?}");
    };
    assert!(why.contains("stale") && why.contains("rotation"), "{why}");
}

/// One stale synced Secret is one finding (one symptom, one cause): with rotation off, a
/// rollout after the vault changed gives every new replica the new file while the Secret
/// keeps the old value (FACTS §11). Each replica's chain sees it; the report keeps one
/// KVC805 for Secret/checkout-db, not one per pod.
#[test]
fn a_stale_secret_its_replicas_all_see_is_one_finding() {
    let mut w = rotated_with_rotation_off();
    w.rollout_restart("Deployment", "shop", "checkout").unwrap();
    w.run_until_stable(minutes(30));
    let snap = export::snapshot(&w);
    let chains = kvchain::chain::diagnose(&snap);
    let stale: Vec<_> = chains
        .iter()
        .filter(|c| c.findings().any(|f| f.code == kvchain::chain::Code::KVC805))
        .collect();
    assert!(
        stale.len() >= 2,
        "every new replica sees it: {}",
        stale.len()
    );
    let merged = kvchain::report::findings(&chains);
    let kvc805: Vec<_> = merged
        .iter()
        .filter(|f| f.code == kvchain::chain::Code::KVC805)
        .collect();
    assert_eq!(
        kvc805.len(),
        1,
        "{:#?}",
        kvc805.iter().map(|f| &f.message).collect::<Vec<_>>()
    );
    assert_eq!(kvc805[0].resource, "Secret/checkout-db");
    assert!(
        kvc805[0]
            .message
            .contains("the pods of Deployment/checkout"),
        "{}",
        kvc805[0].message
    );
}
