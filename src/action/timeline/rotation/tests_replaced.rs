//! A rollout the rotation set off replaces the pods it followed: the hops count the pods
//! there now, the replaced ones said as replaced (audit VVV-time2; FACTS §1, §10, §11).

use std::time::Duration;

use super::super::testkit::*;
use super::*;
use crate::snapshot::*;

/// The world once Reloader rolled Deployment `web`: web-1 (rotated at +112s) terminating
/// when `terminating`, else gone, and web-2, made at +130s, mounting the new version at +140s.
fn rolled(terminating: bool) -> Snapshot {
    let mut s = world(150, 2, 2, 112, 2, 113);
    let mut workloads = deployment("web-6d9", true);
    workloads.extend(deployment("web-7aa", true).into_iter().skip(1));
    s.workloads = Coll::known(workloads);
    let mut old = pod("web-1", -3600, -3500, "web-6d9");
    old.deleting = true;
    let mut new = pod("web-2", 130, 140, "web-7aa");
    new.containers.truncate(1);
    old.containers.truncate(1);
    let mut status = s.spc_statuses.items[0].clone();
    status.pod_name = "web-2".into();
    status.name = "web-2-pay-spc".into();
    status.updated_at = Some(t(140));
    s.pods.items = match terminating {
        true => vec![old, new],
        false => vec![new],
    }
    .into();
    let mut statuses = match terminating {
        true => s.spc_statuses.items.iter().cloned().collect(),
        false => Vec::new(),
    };
    statuses.push(status);
    s.spc_statuses.items = statuses.into();
    s
}

#[test]
fn a_replaced_pod_is_not_counted_beside_its_replacement() {
    for terminating in [true, false] {
        let mut w = RotationWatch::new(&world(0, 1, 1, -3000, 1, -3000), "kv-pay", "db-pass");
        let mut polled = world(115, 2, 2, 112, 2, 113);
        polled.workloads = Coll::known(deployment("web-6d9", true));
        w.observe(&polled);
        w.observe(&rolled(terminating));
        w.tick(t(400));
        let tl = w.timeline();
        assert!(tl.finished, "{tl:#?}");
        let line = |hop: &str| {
            (tl.verdict.iter())
                .find(|l| l.label.starts_with(hop))
                .unwrap_or_else(|| panic!("no {hop}: {tl:#?}"))
                .clone()
        };
        // One pod of the Deployment now; the one rotation followed was replaced. The hop's
        // time is still when rotation reached it.
        let mounted = line("mounted file");
        assert_eq!(
            mounted.label, "mounted file (1 old pod replaced)",
            "{tl:#?}"
        );
        assert_eq!(mounted.state, StepState::Done(Duration::from_secs(112)));
        assert_eq!(line("volumes").label, "volumes", "{tl:#?}");
    }
}
