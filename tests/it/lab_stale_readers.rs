//! The lab over time for KVC901 (audit 12): Reloader's rollout after a rotation replaces the
//! old pods, which get no error meanwhile (A12-4, FACTS §10); a reader that does not mount the
//! SPC reads as before once a deleted mounting workload is restored, the vault unchanged
//! (A12-5, docs/scenarios.md: a repaired fault reads healthy within one rotation poll).

use std::time::Duration;

use kvchain::chain::{self, Chain, Code, Severity};
use kvchain::source::lab::scenario::LabAction;
use kvchain::source::lab::world::World;
use kvchain::source::lab::{self, export, faults};

use crate::lab_diagnosis::describe;
use crate::lab_nodes::{CLUSTER, HEALTHY, SHOP};
use crate::lab_placeholders::READER;

fn world(extra: &[&str]) -> World {
    let mut docs = vec![CLUSTER, SHOP, HEALTHY];
    docs.extend(extra);
    let sc = lab::scenario::parse(
        "stale-readers",
        std::path::Path::new("stale-readers.yaml"),
        &docs.join("\n---\n"),
    )
    .expect("scenario loads");
    World::new(sc)
}

fn diagnose(w: &World) -> Vec<Chain> {
    chain::diagnose(&export::snapshot(w))
}

/// (code, severity) of every warning or error, sorted.
fn problems(chains: &[Chain]) -> Vec<(Code, Severity)> {
    let mut out: Vec<_> = chains
        .iter()
        .flat_map(|c| c.findings())
        .filter(|f| f.severity > Severity::Info)
        .map(|f| (f.code, f.severity))
        .collect();
    out.sort();
    out.dedup();
    out
}

#[test]
fn lab_a_reloader_rollout_after_a_rotation_leaves_no_kvc901_warning_or_error() {
    let mut w = world(&[]);
    w.run_until_stable(lab::MAX_SETTLE);
    w.perform(&LabAction::RotateSecret {
        vault: "kv-shop-lab".into(),
        name: "checkout-db-password".into(),
        value: Some("checkout-pass-v3".into()),
    })
    .unwrap();
    // Through the poll that rewrites the Secret, Reloader's rollout and the old pods' grace.
    let mut saw_replaced = false;
    for _ in 0..40 {
        w.advance(Duration::from_secs(10));
        let chains = diagnose(&w);
        let kvc901: Vec<_> = chains
            .iter()
            .flat_map(|c| c.findings())
            .filter(|f| f.code == Code::KVC901)
            .collect();
        assert!(
            kvc901
                .iter()
                .all(|f| f.severity == Severity::Info && !f.fix.contains("rollout restart")),
            "{}",
            describe(&chains)
        );
        saw_replaced |= kvc901
            .iter()
            .any(|f| f.message.contains("is replacing this pod"));
    }
    assert!(saw_replaced, "the old pods were seen while being replaced");
    w.run_until_stable(lab::MAX_SETTLE);
    let chains = diagnose(&w);
    assert!(
        chains
            .iter()
            .flat_map(|c| c.findings())
            .all(|f| f.code != Code::KVC901),
        "{}",
        describe(&chains)
    );
}

#[test]
fn lab_a_reader_reads_as_before_once_the_deleted_mounting_workload_is_restored() {
    let mut w = world(&[READER]);
    w.run_until_stable(lab::MAX_SETTLE);
    let before = problems(&diagnose(&w));
    faults::apply(&mut w, "delete-mounting-workload").unwrap();
    w.advance(Duration::from_secs(240));
    assert_ne!(problems(&diagnose(&w)), before, "the fault shows");
    faults::repair(&mut w, "delete-mounting-workload").unwrap();
    // One rotation poll after the repair, and long after.
    for wait in [150, 3 * 3600] {
        w.advance(Duration::from_secs(wait));
        let chains = diagnose(&w);
        assert_eq!(problems(&chains), before, "{}", describe(&chains));
    }
}
