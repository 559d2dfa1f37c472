//! Rotation turned back on (a trainer's repair of `disable-rotation`, audit K3). FACTS §4: with
//! rotation on, the driver re-fetches every poll interval, so a version created while rotation
//! was off reaches the mount at the first poll after it was turned on, not before. Until then
//! the Mount link is pending (the next poll should bring it), not KVC703's silent failure with
//! its delete-the-Secret fix; §11: a repaired fault reads healthy within one poll after the next
//! successful rotation. A mount still behind a poll (+ slack) after that is KVC703 again.

use std::time::Duration;

use kvchain::chain::{self, Chain, Code, LinkKind, Severity, Status};
use kvchain::snapshot::Snapshot;
use kvchain::source::lab::world::World;
use kvchain::source::lab::{self, export};

use crate::lab_diagnosis::describe;
use crate::lab_nodes::{CLUSTER, HEALTHY, SHOP};

/// Rotation off at 1m, a new value of checkout's password at 2m, rotation on again at 5m
/// (the lab polls every 2 minutes: the next poll is at 6m).
const TIMELINE: &str = "apiVersion: lab.kvchain.dev/v1
kind: Timeline
metadata:
  name: t
spec:
  events:
    - at: 1m
      applyFault: {id: disable-rotation}
    - at: 2m
      rotateSecret: {vault: kv-shop-lab, name: checkout-db-password, value: checkout-pass-v3}
    - at: 5m
      repairFault: {id: disable-rotation}
";

fn world() -> World {
    let docs = [CLUSTER, SHOP, HEALTHY, TIMELINE].join("\n---\n");
    let sc = lab::scenario::parse(
        "rotation-reenabled",
        std::path::Path::new("rotation-reenabled.yaml"),
        &docs,
    )
    .expect("scenario loads");
    World::new(sc)
}

fn checkout(chains: &[Chain]) -> Vec<&Chain> {
    chains
        .iter()
        .filter(|c| c.workload.as_ref().is_some_and(|w| w.name == "checkout"))
        .collect()
}

fn at(secs: u64) -> Snapshot {
    let mut w = world();
    w.advance(Duration::from_secs(secs));
    export::snapshot(&w)
}

#[test]
fn right_after_rotation_is_turned_on_again_the_lagging_mount_is_pending_not_kvc703() {
    for secs in [301, 330, 355] {
        let chains = chain::diagnose(&at(secs));
        let mine = checkout(&chains);
        assert!(!mine.is_empty());
        for c in &mine {
            assert!(
                c.findings()
                    .all(|f| f.code != Code::KVC703 && f.severity < Severity::Warning),
                "at {secs}s: {}",
                describe(&chains)
            );
            let mount = c.link(LinkKind::Mount);
            assert_eq!(mount.status, Status::Pending, "at {secs}s: {mount:#?}");
            assert!(
                mount
                    .facts
                    .iter()
                    .any(|f| f.observed.contains("rotation was enabled")
                        && f.observed.contains("the next poll")),
                "at {secs}s: {mount:#?}"
            );
        }
    }
}

#[test]
fn one_poll_after_rotation_is_turned_on_again_the_chain_is_healthy() {
    let chains = chain::diagnose(&at(390));
    for c in checkout(&chains) {
        assert!(
            c.links.iter().all(|l| l.status == Status::Ok),
            "{}: {c:#?}",
            describe(&chains)
        );
    }
}

/// The same mount still behind once a poll (+ slack) has passed since rotation came back:
/// the lag is a signal again (KVC703), counted from when rotation was turned on.
#[test]
fn a_mount_still_behind_a_poll_after_rotation_came_back_is_kvc703() {
    let mut s = at(330);
    s.source.observed_at = s
        .source
        .observed_at
        .checked_add(jiff::SignedDuration::from_secs(240))
        .unwrap();
    let chains = chain::diagnose(&s);
    let lag: Vec<_> = checkout(&chains)
        .into_iter()
        .flat_map(|c| c.findings())
        .filter(|f| f.code == Code::KVC703)
        .collect();
    assert!(!lag.is_empty(), "{}", describe(&chains));
    assert!(
        lag.iter()
            .all(|f| f.message.contains("rotation was enabled 270s ago")),
        "{lag:#?}"
    );
}
