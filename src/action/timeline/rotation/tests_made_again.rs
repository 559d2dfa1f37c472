//! A pod re-created under its name during a rotation watch (a StatefulSet's) is another pod
//! (FACTS §1, §11): what the watch says when its mount does not show the new version.

use super::super::testkit::*;
use super::tests::web_1_made_again;
use super::*;
use crate::snapshot::*;

const DENIED: &str = "provider mount err: failed to get objectType:secret, objectName:db-pass, objectVersion:: keyvault.BaseClient#GetSecret: Failure responding to request: StatusCode=403 -- Original Error: autorest/azure: Service returned an error. Status=403 Code=\"Forbidden\" Message=\"Caller is not authorized to perform action on resource.\"";

/// `s` with a MountRotationFailed (403) on pod web-1, about uid `uid`, last seen at `seen`.
fn failed_poll(mut s: Snapshot, uid: &str, seen: i64) -> Snapshot {
    s.events = Coll::known(vec![EventObs {
        namespace: "pay".into(),
        involved_kind: "Pod".into(),
        involved_name: "web-1".into(),
        involved_uid: uid.into(),
        type_: "Warning".into(),
        reason: "MountRotationFailed".into(),
        message: DENIED.into(),
        count: 1,
        last_seen: Some(t(seen)),
        ..Default::default()
    }]);
    s
}

/// The mounted version step of web-1 once the watch ended, with the rotation poll of the pod
/// that existed at the write failing at +60 (uid `old_uid`) and web-1 made again at +90
/// (`new_uid`; its status not written yet, the earlier pod's still reading the old version).
fn stuck_after_made_again(old_uid: &str, new_uid: &str, event_uid: &str) -> String {
    let before = web_1_made_again(world(0, 1, 1, -3000, 1, -3000), old_uid, -3600);
    let mut w = RotationWatch::new(&before, "kv-pay", "db-pass");
    let polled = web_1_made_again(world(70, 2, 1, -3000, 1, -3000), old_uid, -3600);
    w.observe(&failed_poll(polled, event_uid, 60));
    let again = web_1_made_again(world(100, 2, 1, -3000, 1, -3000), new_uid, 90);
    w.observe(&failed_poll(again, event_uid, 60));
    w.tick(t(1000));
    let tl = w.timeline();
    assert!(tl.finished, "{tl:#?}");
    match state_of(&tl, "web-1: mounted version") {
        StepState::Stuck(why) => why.clone(),
        other => panic!("{other:?}: {tl:#?}"),
    }
}

/// Audit UUU-time2: the failed rotation polls were kept by pod name, so the pod made again
/// under web-1's name inherited the earlier pod's 403 as why it is stuck. A pod made after
/// the write mounts the latest version at creation: no rotation poll is why it did not, and
/// the earlier pod's failure (told by uid, else by the event last seen before the new pod
/// was created) is not its own.
#[test]
fn a_pod_made_again_is_not_stuck_on_the_earlier_pods_failed_polls() {
    for (old_uid, new_uid) in [("u-1", "u-2"), ("", "")] {
        let why = stuck_after_made_again(old_uid, new_uid, old_uid);
        assert!(
            !why.contains("rotation polls fail") && !why.contains("403"),
            "uid {new_uid:?}: {why}"
        );
        assert!(
            why.contains("made after the write") && why.contains("FailedMount"),
            "uid {new_uid:?}: {why}"
        );
    }
}

/// The pod's own failure (its uid) is still why it is stuck.
#[test]
fn a_pod_made_again_keeps_its_own_failed_polls() {
    let why = stuck_after_made_again("u-1", "u-2", "u-2");
    assert!(why.contains("rotation polls fail"), "{why}");
}

const NO_FIC: &str = "rpc error: code = Unknown desc = failed to mount secrets store objects for pod pay/web-1, err: rpc error: code = Unknown desc = AADSTS70021: No matching federated identity record found for presented assertion.";
const TIMED_OUT: &str = "Unable to attach or mount volumes: unmounted volumes=[secrets], unattached volumes=[]: timed out waiting for the condition";

/// `s` with FailedMount events on pod web-1: `(uid, last seen, message)`.
fn failed_mounts(mut s: Snapshot, events: &[(&str, i64, &str)]) -> Snapshot {
    s.events = Coll::known(
        (events.iter())
            .map(|(uid, seen, message)| EventObs {
                namespace: "pay".into(),
                involved_kind: "Pod".into(),
                involved_name: "web-1".into(),
                involved_uid: (*uid).into(),
                type_: "Warning".into(),
                reason: "FailedMount".into(),
                message: (*message).into(),
                count: 1,
                last_seen: Some(t(*seen)),
                ..Default::default()
            })
            .collect(),
    );
    s
}

/// The mounted version step of web-1 made again at +90 (uid u-2) with `events` in the
/// snapshots after it.
fn stuck_with_failed_mounts(events: &[(&str, i64, &str)]) -> String {
    let before = web_1_made_again(world(0, 1, 1, -3000, 1, -3000), "u-1", -3600);
    let mut w = RotationWatch::new(&before, "kv-pay", "db-pass");
    let again = web_1_made_again(world(140, 2, 1, -3000, 1, -3000), "u-2", 90);
    w.observe(&failed_mounts(again, events));
    w.tick(t(1000));
    let tl = w.timeline();
    match state_of(&tl, "web-1: mounted version") {
        StepState::Stuck(why) => why.clone(),
        other => panic!("{other:?}: {tl:#?}"),
    }
}

/// Audit VVV-time: a pod made after the write whose mount fails was stuck "check the pod's
/// FailedMount events" while the snapshot held them. The latest FailedMount about this pod
/// (its uid: not the earlier pod's under the name, nor one from before the write) says why,
/// in kvchain's words — its code, link and short cause, never the event's raw text (FACTS §3,
/// §11; README: the step names its FailedMount). A later message naming no cause (the kubelet's
/// timeout) does not hide it.
#[test]
fn a_pod_made_after_the_write_says_what_its_failed_mount_says() {
    let why = stuck_with_failed_mounts(&[
        ("u-1", 60, NO_FIC),
        ("u-1", -100, NO_FIC),
        ("u-2", 120, DENIED),
        ("u-2", 130, TIMED_OUT),
    ]);
    assert!(why.contains("made after the write"), "{why}");
    assert!(why.contains("FailedMount"), "{why}");
    assert!(
        why.contains("KVC501") && why.contains("Access link"),
        "{why}"
    );
    for raw in [
        "Caller is not",
        "StatusCode",
        "Forbidden",
        "autorest",
        "timed out",
    ] {
        assert!(!why.contains(raw), "{raw}: {why}");
    }
    assert!(
        !why.contains("KVC405") && !why.contains("Federation"),
        "{why}"
    );
    // The latest of two causes, whatever order the events are listed in.
    for events in [
        [("u-2", 100, DENIED), ("u-2", 120, NO_FIC)],
        [("u-2", 120, NO_FIC), ("u-2", 100, DENIED)],
    ] {
        let why = stuck_with_failed_mounts(&events);
        assert!(why.contains("KVC405") && !why.contains("KVC501"), "{why}");
    }
}

/// One whose FailedMount names no cause kvchain classifies says so, without its text.
#[test]
fn a_failed_mount_of_no_known_cause_is_said_without_its_text() {
    let why = stuck_with_failed_mounts(&[("u-2", 120, TIMED_OUT)]);
    assert!(why.contains("its latest FailedMount"), "{why}");
    assert!(!why.contains("timed out"), "{why}");
    // None at all: still the events to check.
    let why = stuck_with_failed_mounts(&[("u-1", 60, DENIED)]);
    assert!(why.contains("check the pod's FailedMount events"), "{why}");
    assert!(!why.contains("KVC501"), "{why}");
}
