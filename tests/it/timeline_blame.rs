//! A rotation or restart timeline whose mount does not move names the cause the diagnosis of
//! the same snapshot names, not a code read off the event's text alone (audit EEE2). FACTS
//! §11: AADSTS700016 at another tenant's endpoint means "the identity exists; the SPC
//! tenantID is wrong" (KVC404), not "no such identity" (KVC301); AADSTS70021 for a subject
//! typo is the federated credential's subject (KVC401).

use std::path::Path;
use std::time::Duration;

use kvchain::action::timeline::{RestartWatch, RotationWatch, StepState, Timeline};
use kvchain::chain;
use kvchain::chain::restart_plan::RestartPlan;
use kvchain::snapshot::Snapshot;
use kvchain::source::lab::world::World;
use kvchain::source::lab::{export, faults, scenario};

use crate::lab_nodes::{CLUSTER, HEALTHY, SHOP};

fn broken(fault: &str) -> World {
    let docs = [CLUSTER, SHOP, HEALTHY].join("\n---\n");
    let sc = scenario::parse("blame", Path::new("blame.yaml"), &docs).expect("parses");
    let mut w = World::new(sc);
    w.run_until_stable(Duration::from_secs(3600));
    faults::apply(&mut w, fault).expect("the fault applies to checkout");
    w.advance(Duration::from_secs(30));
    w
}

/// What the stuck hops of a finished timeline say.
fn stuck(tl: &Timeline) -> Vec<String> {
    assert!(tl.finished, "{tl:#?}");
    (tl.steps.iter())
        .filter_map(|s| match &s.state {
            StepState::Stuck(why) => Some(why.clone()),
            _ => None,
        })
        .collect()
}

fn diagnosed(w: &World) -> (Snapshot, Vec<chain::Chain>) {
    let snap = export::snapshot(w);
    let chains = chain::diagnose(&snap);
    (snap, chains)
}

#[test]
fn a_rotation_stuck_on_a_wrong_tenant_names_kvc404_as_the_tree_does() {
    let mut w = broken("spc-wrong-tenant");
    let (before, chains) = diagnosed(&w);
    assert!(
        (chains.iter().flat_map(|c| c.findings())).any(|f| f.code == chain::Code::KVC404),
        "the tree's cause"
    );
    let mut watch = RotationWatch::new(&before, "kv-shop-lab", "checkout-db-password")
        .starting_at(before.source.observed_at);
    w.rotate_secret(
        "kv-shop-lab",
        "checkout-db-password",
        Some(b"checkout-pass-9"),
    )
    .unwrap();
    for _ in 0..90 {
        w.advance(Duration::from_secs(10));
        let (snap, chains) = diagnosed(&w);
        watch.observe_diagnosed(&snap, &chains);
        if watch.timeline().finished {
            break;
        }
    }
    let why = stuck(&watch.timeline());
    assert!(why.iter().any(|w| w.contains("KVC404")), "{why:#?}");
    assert!(!why.iter().any(|w| w.contains("KVC301")), "{why:#?}");
}

#[test]
fn a_restart_whose_new_pod_cannot_mount_names_the_subject_typo() {
    let mut w = broken("fic-subject-typo");
    let (before, _) = diagnosed(&w);
    let pod = (before.pods.items.iter())
        .find(|p| p.namespace == "shop" && p.name.starts_with("checkout-"))
        .expect("a checkout pod")
        .name
        .to_string();
    let plan = RestartPlan::for_pod(&before, before.pod("shop", &pod).expect("pod"));
    let mut watch = RestartWatch::for_plan(&before, "shop", &pod, &plan);
    w.restart_pod("shop", &pod).expect("restarted");
    for _ in 0..90 {
        w.advance(Duration::from_secs(10));
        let (snap, chains) = diagnosed(&w);
        watch.observe_diagnosed(&snap, &chains);
        if watch.timeline().finished {
            break;
        }
    }
    let why = stuck(&watch.timeline());
    assert!(why.iter().any(|w| w.contains("KVC401")), "{why:#?}");
    assert!(!why.iter().any(|w| w.contains("KVC405")), "{why:#?}");
}
