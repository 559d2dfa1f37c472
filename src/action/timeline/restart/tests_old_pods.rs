//! A rollout restart replaces every replica: the old pods gone are counted, all of them, not
//! only the one `R` was pressed on (audit VVV-time2; FACTS §4).

use super::super::testkit::*;
use super::*;
use crate::snapshot::*;

/// Deployment `web` of two replicas at `now`: `old` of ReplicaSet web-6d9 (made long ago;
/// terminating when named in `terminating`) and `new` of web-7aa (made at +5s, running at +30s).
fn web(now: i64, old: &[&str], terminating: &[&str], new: &[&str]) -> Snapshot {
    let mut s = world(now, 2, 2, -10, 2, -10);
    s.spc_statuses.items.clear();
    let mut workloads = deployment("web-6d9", false);
    workloads.extend(deployment("web-7aa", false).into_iter().skip(1));
    workloads[0].replicas = Some(2);
    s.workloads = Coll::known(workloads);
    let old = old.iter().map(|n| {
        let mut p = pod(n, -3600, -3500, "web-6d9");
        p.deleting = terminating.contains(n);
        p
    });
    let new = new.iter().map(|n| pod(n, 5, 30, "web-7aa"));
    s.pods.items = (old.chain(new))
        .map(|mut p| {
            p.containers.truncate(1);
            p
        })
        .collect::<Vec<_>>()
        .into();
    s
}

#[test]
fn a_rollout_restart_is_done_when_every_old_replica_is_gone() {
    let before = web(0, &["web-1", "web-2"], &[], &[]);
    let owner = Some(("Deployment".to_string(), "web".to_string()));
    let mut w = RestartWatch::new(&before, "pay", "web-1", owner);
    // Both new pods run; web-1 is gone, web-2 still terminating (still serving its old env).
    w.observe(&web(40, &["web-2"], &["web-2"], &["web-3", "web-4"]));
    let tl = w.timeline();
    assert!(!tl.finished, "an old replica is still there: {tl:#?}");
    assert_eq!(
        *state_of(
            &tl,
            "old pods of Deployment/web: 1 of 2 gone, 1 terminating"
        ),
        StepState::Waiting,
        "{tl:#?}"
    );
    w.observe(&web(60, &[], &[], &["web-3", "web-4"]));
    let tl = w.timeline();
    assert!(tl.finished, "{tl:#?}");
    let line = (tl.verdict.iter()).find(|l| l.label.starts_with("old pod"));
    assert_eq!(
        line.map(|l| (l.label.as_str(), &l.state)),
        Some((
            "old pods gone (2 of 2)",
            &StepState::Done(Duration::from_secs(60))
        )),
        "{tl:#?}"
    );
}
