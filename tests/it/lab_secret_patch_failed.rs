//! A synced Secret that exists and did not take the new value: its writer is the ≤v1.5
//! rotation reconciler, whose failed patch is the Pod event `SecretRotationFailed` (FACTS §3;
//! `FailedToCreateSecret` is the SPCPS controller's, which only creates a missing Secret, §2).
//! The rotation timeline's stuck synced-Secret step and the KVC806 finding of that failure
//! send the user to the event the driver wrote, not to one it never writes for this case.
//!
//! The lab's checkout syncs a `kubernetes.io/dockerconfigjson` Secret from a vault secret that
//! holds JSON; the new value written is no JSON, so the API server refuses the patch
//! (Kubernetes `ValidateSecret`) while the mount moves on.

use std::time::Duration;

use kvchain::action::timeline::{RotationWatch, StepState, Timeline};
use kvchain::chain::{self, Code};
use kvchain::source::lab::world::World;
use kvchain::source::lab::{export, scenario};

use crate::lab_nodes::{CLUSTER, HEALTHY, SHOP};

/// The new value: no JSON, and it must never show in any output.
const CANARY: &str = "canary-not-json-8b2f";

/// Checkout syncing `checkout-db` as a docker config from a JSON vault value, settled.
fn world() -> World {
    let shop = SHOP.replace(
        "        - value: checkout-pass-v2\n",
        "        - value: '{\"auths\":{}}'\n",
    );
    assert_ne!(shop, SHOP);
    let healthy = HEALTHY
        .replace(
            "      type: Opaque\n      data:\n        - objectName: db-password\n          key: password\n",
            "      type: kubernetes.io/dockerconfigjson\n      data:\n        - objectName: db-password\n          key: .dockerconfigjson\n",
        )
        .replace(
            "                  name: checkout-db\n                  key: password\n",
            "                  name: checkout-db\n                  key: .dockerconfigjson\n",
        );
    assert_eq!(healthy.matches(".dockerconfigjson").count(), 2, "{healthy}");
    let docs = [CLUSTER, &shop, &healthy].join("\n---\n");
    let sc = scenario::parse("patch", std::path::Path::new("patch.yaml"), &docs).expect("loads");
    let mut w = World::new(sc);
    w.run_until_stable(Duration::from_secs(3600));
    assert!(
        export::snapshot(&w).secret("shop", "checkout-db").is_some(),
        "the docker config Secret is made from the JSON value"
    );
    w
}

/// The new value written and followed to the end of the timeline.
fn rotated() -> (World, Timeline) {
    let mut w = world();
    let before = export::snapshot(&w);
    let mut watch = RotationWatch::new(&before, "kv-shop-lab", "checkout-db-password")
        .starting_at(before.source.observed_at);
    w.rotate_secret(
        "kv-shop-lab",
        "checkout-db-password",
        Some(CANARY.as_bytes()),
    )
    .unwrap();
    for _ in 0..60 {
        w.advance(Duration::from_secs(10));
        watch.observe(&export::snapshot(&w));
        if watch.timeline().finished {
            break;
        }
    }
    let tl = watch.timeline();
    assert!(tl.finished, "{tl:#?}");
    assert!(
        !format!("{tl:?}").contains(CANARY),
        "a value leaked: {tl:#?}"
    );
    (w, tl)
}

#[test]
fn an_existing_secret_whose_patch_failed_names_secret_rotation_failed() {
    let (w, tl) = rotated();
    // The lab's driver recorded the failed patch as the rotation reconciler does.
    let s = export::snapshot(&w);
    assert!(
        (s.events.items.iter()).any(|e| e.reason == "SecretRotationFailed"),
        "{:#?}",
        s.events.items
    );
    assert!(
        !(s.events.items.iter()).any(|e| e.reason == "FailedToCreateSecret"),
        "{:#?}",
        s.events.items
    );
    let why = (tl.steps.iter())
        .find(|st| st.label.contains("Secret checkout-db[.dockerconfigjson]"))
        .and_then(|st| match &st.state {
            StepState::Stuck(why) => Some(why.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("the synced Secret never moves: {tl:#?}"));
    assert!(why.contains("SecretRotationFailed"), "{why}");
    assert!(
        !why.contains("check FailedToCreateSecret"),
        "the controller's create event is not this case's: {why}"
    );
}

#[test]
fn the_finding_of_a_failed_patch_confirms_with_its_own_event() {
    let (w, _) = rotated();
    let s = export::snapshot(&w);
    let chains = chain::diagnose(&s);
    let found: Vec<_> = (chains.iter())
        .filter(|c| c.spc.as_str() == "checkout-kv")
        .flat_map(|c| c.findings())
        .filter(|f| f.code == Code::KVC806)
        .collect();
    assert!(!found.is_empty(), "{chains:#?}");
    for f in found {
        let all = format!("{} {} {} {:?}", f.message, f.confirm, f.fix, f.evidence);
        assert!(!all.contains(CANARY), "a value leaked: {all}");
        assert!(
            !f.confirm.contains("reason=FailedToCreateSecret"),
            "{}",
            f.confirm
        );
        assert!(f.confirm.contains("SecretRotationFailed"), "{}", f.confirm);
    }
}
