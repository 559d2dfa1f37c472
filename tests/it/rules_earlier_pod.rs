//! A SecretProviderClassPodStatus is named `<pod>-<ns>-<spc>` (FACTS §1), so a pod re-created
//! under the same name (a StatefulSet's) finds the one its predecessor left: its `targetPath`
//! still holds the old pod uid and it was written before the new pod existed. The driver
//! updates it only after the new pod's mount succeeds, so until then it proves nothing about
//! the new pod: no success signal, and a FailedMount of the new pod stays current evidence
//! (README "Events": history is only what is older than the chain's newest success signal).

use jiff::SignedDuration;
use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Chain, LinkKind, Severity, Status, diagnose};
use kvchain::snapshot::*;

const FORBIDDEN: &str = "failed to get objectType:secret, objectName:db, objectVersion:: GET https://kv.vault.azure.net/secrets/db/\n--------------------------------------------------------------------------------\nRESPONSE 403: 403 Forbidden\nERROR CODE: Forbidden\n--------------------------------------------------------------------------------\n{\"error\":{\"code\":\"Forbidden\",\"message\":\"Caller is not authorized to perform action on resource.\",\"innererror\":{\"code\":\"ForbiddenByRbac\"}}}";
const NEW_UID: &str = "11111111-2222-3333-4444-555555555555";

fn one(s: &Snapshot) -> Chain {
    let mut chains = diagnose(s);
    assert_eq!(chains.len(), 1, "{chains:#?}");
    chains.remove(0)
}

/// The healthy app's pod deleted and created again under its name 4 minutes ago, waiting in
/// ContainerCreating; the old pod's SPCPS (written an hour ago) left as it was.
fn recreated() -> Snapshot {
    let mut s = tk::healthy();
    let pod = tk::pod_mut(&mut s, APP);
    pod.uid = NEW_UID.into();
    pod.phase = "Pending".into();
    pod.created_at = Some(tk::ago(SignedDuration::from_mins(4)));
    for c in &mut pod.containers {
        c.state = ContainerStateObs::Waiting {
            reason: "ContainerCreating".into(),
            message: String::new(),
        };
    }
    s
}

/// A FailedMount 403 of the new pod, last seen a minute ago.
fn forbidden(s: &mut Snapshot) {
    let mut e = tk::failed_mount(NS, &tk::pod_name(APP, 0), "secrets-store-inline", FORBIDDEN);
    e.involved_uid = NEW_UID.into();
    e.last_seen = Some(tk::ago(SignedDuration::from_mins(1)));
    s.events.items.push(e);
}

fn no_history(c: &Chain) {
    for l in &c.links {
        assert!(
            !l.facts.iter().any(|f| f.label.starts_with("history")),
            "{:?} turned the new pod's failure into history: {:#?}",
            l.link,
            l.facts
        );
    }
}

#[test]
fn an_earlier_pods_status_does_not_hide_the_new_pods_403() {
    let mut s = recreated();
    forbidden(&mut s);
    let c = one(&s);
    no_history(&c);
    assert!(
        c.findings().any(|f| f.severity == Severity::Error),
        "the pod is stuck on a 403: {:#?}",
        c.links
    );
    assert_ne!(c.link(LinkKind::Mount).status, Status::Ok);
}

#[test]
fn an_earlier_pods_status_is_not_this_pods_mount_and_says_whose_it_is() {
    let s = recreated();
    let c = one(&s);
    let mount = c.link(LinkKind::Mount);
    assert_ne!(mount.status, Status::Ok, "{mount:#?}");
    let fact = mount
        .facts
        .iter()
        .find(|f| f.label == "earlier pod's SPCPS")
        .unwrap_or_else(|| panic!("{mount:#?}"));
    // It names the uid in the targetPath and this pod's.
    assert!(
        fact.observed.contains(&format!("uid-pod-{NS}-")),
        "{}",
        fact.observed
    );
    assert!(fact.observed.contains(NEW_UID), "{}", fact.observed);
    assert_ne!(c.link(LinkKind::Consumers).status, Status::Ok);
}

#[test]
fn a_status_written_before_the_pod_existed_is_an_earlier_pods_when_no_uid_tells() {
    let mut s = recreated();
    // A targetPath kvchain cannot read a uid from: the times alone tell.
    for st in &mut s.spc_statuses.items {
        st.target_path = String::new();
    }
    forbidden(&mut s);
    let c = one(&s);
    no_history(&c);
    let mount = c.link(LinkKind::Mount);
    assert!(
        mount.facts.iter().any(|f| f.label == "earlier pod's SPCPS"
            && f.observed.contains("before this pod was created")),
        "{mount:#?}"
    );
}

#[test]
fn the_pods_own_status_still_makes_an_older_failure_history() {
    let mut s = tk::healthy();
    let uid = tk::pod_mut(&mut s, APP).uid.to_string();
    let mut e = tk::failed_mount(NS, &tk::pod_name(APP, 0), "secrets-store-inline", FORBIDDEN);
    e.involved_uid = uid;
    // Before the mount an hour ago succeeded (the SPCPS was written then).
    e.last_seen = Some(tk::ago(SignedDuration::from_mins(61)));
    s.events.items.push(e);
    let c = one(&s);
    assert!(
        c.findings().all(|f| f.severity < Severity::Error),
        "{:#?}",
        c.links
    );
    assert!(
        c.links
            .iter()
            .any(|l| l.facts.iter().any(|f| f.label.starts_with("history"))),
        "{:#?}",
        c.links
    );
}

#[test]
fn a_failure_newer_than_the_pods_last_mount_and_start_is_not_history() {
    let mut s = tk::healthy();
    let uid = tk::pod_mut(&mut s, APP).uid.to_string();
    let mut e = tk::failed_mount(NS, &tk::pod_name(APP, 0), "secrets-store-inline", FORBIDDEN);
    e.involved_uid = uid;
    s.events.items.push(e); // last seen now: after the SPCPS write and the container start
    let c = one(&s);
    no_history(&c);
    assert!(
        c.findings().any(|f| f.severity == Severity::Error),
        "{:#?}",
        c.links
    );
}

/// FACTS §11 counts "container started" among the success signals: the kubelet starts a
/// container only once every volume is mounted. A re-created pod that runs has mounted, even
/// while the only SPCPS under its name is its predecessor's (or none is left at all).
#[test]
fn a_started_container_proves_the_mount_whose_spcps_is_an_earlier_pods() {
    for keep_status in [true, false] {
        let mut s = recreated();
        if !keep_status {
            s.spc_statuses.items.clear();
        }
        let pod = tk::pod_mut(&mut s, APP);
        pod.phase = "Running".into();
        for c in &mut pod.containers {
            c.state = ContainerStateObs::Running {
                started_at: tk::ago(SignedDuration::from_mins(3)),
            };
        }
        let c = one(&s);
        let mount = c.link(LinkKind::Mount);
        assert_eq!(mount.status, Status::Ok, "{mount:#?}");
        assert!(
            mount.facts.iter().any(|f| f.observed.contains("started")),
            "the fact says what proves it: {:#?}",
            mount.facts
        );
    }
}

/// A failed pod none of whose containers is seen started proves no mount, and will never
/// mount again (the kubelet does not retry a pod in a terminal phase; its SPC pod status goes
/// at teardown, FACTS §1): its Mount link is history, "pod finished", not an unknown that
/// hides a verdict (audit U1).
#[test]
fn a_failed_pod_without_a_started_container_is_history_not_unknown() {
    let mut s = recreated();
    s.spc_statuses.items.clear();
    let pod = tk::pod_mut(&mut s, APP);
    pod.phase = "Failed".into();
    for c in &mut pod.containers {
        c.state = ContainerStateObs::Unknown;
    }
    let c = one(&s);
    let mount = c.link(LinkKind::Mount);
    assert_eq!(mount.status, Status::Pending, "{mount:#?}");
    assert_eq!(mount.summary, "pod finished");
    assert!(
        mount.facts.iter().any(|f| f.label == "history"),
        "{mount:#?}"
    );
    assert!(c.findings().next().is_none(), "{c:#?}");
}

/// An event that carries no `involvedObject.uid` (a hand-made or older snapshot) and was last
/// seen before the pod was created is an earlier pod's of the name: never the new pod's
/// current failure (audit RR4). Seen after the creation, it may be this pod's and counts.
#[test]
fn an_event_without_uid_older_than_the_pod_is_not_its_failure() {
    // The re-created pod (4 minutes old) with the earlier pod's FailedMount 403, uid unknown.
    let mut s = recreated();
    s.spc_statuses.items.clear();
    forbidden(&mut s);
    let at = |s: &mut Snapshot, mins: i64| {
        let e = (s.events.items.iter_mut())
            .find(|e| e.reason == "FailedMount")
            .expect("event");
        e.involved_uid = String::new();
        e.last_seen = Some(tk::ago(SignedDuration::from_mins(mins)));
    };
    at(&mut s, 10);
    let c = one(&s);
    assert!(
        !c.findings().any(|f| f.severity == Severity::Error),
        "an earlier pod's failure: {:#?}",
        c.links
    );
    at(&mut s, 1);
    let c = one(&s);
    assert!(
        c.findings().any(|f| f.severity == Severity::Error),
        "seen since the pod exists: {:#?}",
        c.links
    );
}

/// The same for the scheduler: a FailedScheduling without uid from before the pod existed
/// says nothing of why this pod waits (no KVC107); one seen since does.
#[test]
fn a_failed_scheduling_without_uid_older_than_the_pod_is_not_kvc107() {
    let mut s = recreated();
    s.spc_statuses.items.clear();
    let pod = tk::pod_mut(&mut s, APP);
    pod.node = None;
    pod.kubelet_since = None;
    let scheduling = |mins: i64| {
        EventObs {
        reason: "FailedScheduling".into(),
        source: "default-scheduler".into(),
        message: "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.".into(),
        last_seen: Some(tk::ago(SignedDuration::from_mins(mins))),
        ..tk::failed_mount(NS, &tk::pod_name(APP, 0), "secrets-store-inline", "")
    }
    };
    s.events.items.push(scheduling(20));
    let kvc107 = |s: &Snapshot| {
        one(s)
            .findings()
            .any(|f| f.code == kvchain::chain::Code::KVC107)
    };
    assert!(!kvc107(&s), "{:#?}", one(&s).links);
    s.events.items.push(scheduling(1));
    assert!(kvc107(&s), "{:#?}", one(&s).links);
}
