//! A pod waiting for its mount with its events unreadable. README: a pod merely starting (no
//! scheduler failure, no mount failure) has no finding and its Mount, Sync and Consumers
//! links are drawn `…`; with events unreadable "no mount failure" is unknown, not
//! established, so past the time a mount takes the Mount link is unknown (README "Degrading":
//! unknown, not broken nor pending) and says why. A container that never started proves no
//! consumer: Consumers never reads ✓ for such a pod.

use jiff::SignedDuration;
use kvchain::chain::testkit::{self as tk, APP};
use kvchain::chain::{Chain, Code, LinkKind, Severity, Status, diagnose};
use kvchain::snapshot::*;

pub(crate) const FORBIDDEN: &str = "cannot list events in shop: forbidden";

fn one(s: &Snapshot) -> Chain {
    let mut chains = diagnose(s);
    assert_eq!(chains.len(), 1, "{chains:#?}");
    chains.remove(0)
}

/// The app's pod, created `age` ago and still in ContainerCreating with no SPCPS; its SPC
/// mounts files only (no `secretObjects`, so no synced Secret to wait on, and no env reads
/// one: a Secret nothing makes would hold its container, KVC109); events unreadable when
/// `events_gap`.
pub(crate) fn waiting(age: SignedDuration, events_gap: bool) -> Snapshot {
    let mut s = tk::healthy();
    tk::unmount(&mut s, APP);
    let pod = tk::pod_mut(&mut s, APP);
    pod.created_at = Some(tk::ago(age));
    for c in &mut pod.containers {
        c.env
            .retain(|e| !matches!(e.source, EnvSourceObs::SecretKey { .. }));
    }
    let spc = tk::spc_mut(&mut s, APP);
    spc.secret_objects.clear();
    if events_gap {
        s.events.gaps.all = Some(FORBIDDEN.into());
    }
    s
}

#[test]
fn events_unreadable_and_not_started_for_minutes_is_an_unknown_mount_that_says_why() {
    let c = one(&waiting(SignedDuration::from_mins(6), true));
    let mount = c.link(LinkKind::Mount);
    assert_eq!(mount.status, Status::Unknown, "{mount:#?}");
    // Why, in the link: the events gap's own reason (so reports tie it to that gap), and that
    // the pod has not started.
    assert!(
        mount
            .facts
            .iter()
            .any(|f| f.label == "unknown" && f.observed == FORBIDDEN),
        "{mount:#?}"
    );
    assert!(
        mount.summary.contains("not started") && mount.summary.contains("events"),
        "{}",
        mount.summary
    );
    assert!(
        mount
            .facts
            .iter()
            .any(|f| f.observed.contains("not mounted") && f.observed.contains("cannot be read")),
        "{mount:#?}"
    );
    let consumers = c.link(LinkKind::Consumers);
    assert_eq!(consumers.status, Status::Unknown, "{consumers:#?}");
    // Unknown is no guessed cause.
    assert!(
        c.findings().all(|f| f.severity < Severity::Error),
        "{:#?}",
        c.links
    );
}

#[test]
fn a_pod_within_the_time_a_mount_takes_is_merely_starting_even_with_events_unreadable() {
    let c = one(&waiting(SignedDuration::from_secs(40), true));
    let mount = c.link(LinkKind::Mount);
    assert_eq!(
        (mount.status, mount.summary.as_str()),
        (Status::Pending, "mounting")
    );
    let consumers = c.link(LinkKind::Consumers);
    assert_eq!(consumers.status, Status::Pending, "{consumers:#?}");
}

#[test]
fn with_events_readable_a_waiting_pod_with_no_failure_is_merely_starting_and_no_link_claims_a_consumer()
 {
    // Past the two minutes of a mount, but within the minute the kubelet's "timed out" event
    // may take to arrive.
    let c = one(&waiting(SignedDuration::from_secs(150), false));
    assert_eq!(
        (
            c.link(LinkKind::Mount).status,
            c.link(LinkKind::Mount).summary.as_str()
        ),
        (Status::Pending, "mounting")
    );
    assert_eq!(c.link(LinkKind::Consumers).status, Status::Pending);
    assert!(c.findings().next().is_none(), "{:#?}", c.links);
}

/// Audit L3: events readable, none about the pod, no SPCPS, 90 minutes on. The kubelet reports
/// every failed mount as a FailedMount and gives a mount up after about two minutes with
/// "Unable to attach or mount volumes … timed out waiting for the condition" (FACTS §3), and
/// an SPCPS is written only after a successful mount (FACTS §1): nothing shows a mount on its
/// way, and nothing says why. Unknown, and the run is undetermined — not "mounting", exit 0.
#[test]
fn a_pod_waiting_long_past_its_mount_with_no_event_at_all_is_unknown_and_undetermined() {
    let s = waiting(SignedDuration::from_mins(90), false);
    let chains = diagnose(&s);
    let c = &chains[0];
    let mount = c.link(LinkKind::Mount);
    assert_eq!(mount.status, Status::Unknown, "{mount:#?}");
    assert_eq!(mount.summary, "not started; no event says why");
    let pod = tk::pod_name(APP, 0);
    assert!(
        mount.facts.iter().any(|f| f.observed.contains("90 minutes")
            && f.observed.contains(&format!("kubectl describe pod {pod}"))
            && f.observed.contains("kubectl get node")),
        "{mount:#?}"
    );
    assert_eq!(c.link(LinkKind::Consumers).status, Status::Unknown);
    assert!(kvchain::report::undetermined(&s, &chains));
    let text = kvchain::report::text(&s, &chains, false);
    let headline = text.lines().next().unwrap_or_default();
    assert!(
        headline.starts_with(
            "UNDETERMINED: 1 pod not started, and no event that could be read says why"
        ),
        "{headline}"
    );
    // No guessed cause.
    assert!(c.findings().all(|f| f.severity < Severity::Error), "{c:#?}");
}

/// The scheduler's FailedScheduling from before the pod got its node is history (README
/// "Events are history"): it says nothing of the mount, and the pod stays unexplained (audit
/// N1: one old scheduler event turned the check off).
#[test]
fn an_old_failed_scheduling_event_does_not_explain_a_silent_mount() {
    let mut s = waiting(SignedDuration::from_mins(90), false);
    let pod = tk::pod_mut(&mut s, APP);
    let (name, uid) = (pod.name.clone(), pod.uid.to_string());
    s.events.items.push(EventObs {
        namespace: tk::NS.into(),
        involved_kind: "Pod".into(),
        involved_name: name,
        involved_uid: uid,
        type_: "Warning".into(),
        reason: "FailedScheduling".into(),
        message: "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.".into(),
        count: 2,
        source: "default-scheduler".into(),
        last_seen: Some(tk::ago(SignedDuration::from_mins(85))),
        first_seen: None,
    });
    let chains = diagnose(&s);
    let mount = chains[0].link(LinkKind::Mount);
    assert_eq!(
        mount.summary, "not started; no event says why",
        "{mount:#?}"
    );
    assert!(kvchain::report::undetermined(&s, &chains));
}

/// A pod that waited for a node (capacity, schedulingGates) has waited for its mount only
/// since its kubelet took it (`status.startTime`, "acknowledged by the Kubelet" in the API
/// reference): an hour of scheduling is no silent mount (left open by audit N).
#[test]
fn the_wait_for_a_mount_counts_from_when_the_kubelet_took_the_pod() {
    let mut s = waiting(SignedDuration::from_mins(90), false);
    tk::pod_mut(&mut s, APP).kubelet_since = Some(tk::ago(SignedDuration::from_secs(60)));
    let chains = diagnose(&s);
    let mount = chains[0].link(LinkKind::Mount);
    assert_ne!(mount.status, Status::Unknown, "{mount:#?}");
    assert!(!kvchain::report::undetermined(&s, &chains));

    // Past the grace from the kubelet's time, it is silent again, and says from when.
    tk::pod_mut(&mut s, APP).kubelet_since = Some(tk::ago(SignedDuration::from_mins(10)));
    let chains = diagnose(&s);
    let mount = chains[0].link(LinkKind::Mount);
    assert_eq!(mount.summary, "not started; no event says why");
    assert!(
        mount.facts.iter().any(|f| f.observed.contains("10 minutes")
            && f.observed.contains("taken by its node's kubelet")),
        "{mount:#?}"
    );
}

/// A pod being deleted is not waiting for its mount: no verdict is missing (audit N4).
#[test]
fn a_terminating_pod_that_never_mounted_is_not_undetermined() {
    let mut s = waiting(SignedDuration::from_mins(90), false);
    tk::pod_mut(&mut s, APP).deleting = true;
    let chains = diagnose(&s);
    assert_ne!(
        chains[0].link(LinkKind::Mount).summary,
        "not started; no event says why"
    );
    assert!(!kvchain::report::undetermined(&s, &chains));
}

/// Control: the same pod with a FailedMount about its volume is explained by that event, not
/// unknown.
#[test]
fn a_failed_mount_event_explains_the_wait() {
    let mut s = waiting(SignedDuration::from_mins(90), false);
    let pod = tk::pod_mut(&mut s, APP);
    let (name, uid) = (pod.name.clone(), pod.uid.clone());
    let volume = pod.volumes[0].name.clone();
    s.events.items.push(EventObs {
        namespace: tk::NS.into(),
        involved_kind: "Pod".into(),
        involved_name: name,
        involved_uid: uid.to_string(),
        type_: "Warning".into(),
        reason: "FailedMount".into(),
        message: format!("MountVolume.SetUp failed for volume \"{volume}\" : rpc error: code = Unknown desc = failed to mount secrets store objects for pod shop/web, err: rpc error: code = Unknown desc = failed to mount objects, error: failed to get objectType:secret, objectName:web-db-pass, objectVersion:: GET https://kv.vault.azure.net/secrets/web-db-pass/\nRESPONSE 404: 404 Not Found\nERROR CODE: SecretNotFound"),
        count: 30,
        source: "kubelet".into(),
        last_seen: Some(tk::ago(SignedDuration::from_mins(1))),
        first_seen: None,
    });
    let chains = diagnose(&s);
    let mount = chains[0].link(LinkKind::Mount);
    assert_ne!(
        mount.summary, "not started; no event says why",
        "{mount:#?}"
    );
    assert!(!kvchain::report::undetermined(&s, &chains));
}

#[test]
fn a_cause_found_upstream_explains_the_wait_when_events_are_unreadable() {
    let mut s = waiting(SignedDuration::from_mins(6), true);
    tk::object_mut(&mut s, APP).state = Observed::Known(None); // not in the vault
    let c = one(&s);
    assert_eq!(c.root_cause().map(|f| f.code), Some(Code::KVC601));
    for l in [LinkKind::Mount, LinkKind::Consumers] {
        let link = c.link(l);
        assert_eq!(
            (link.status, link.summary.as_str()),
            (Status::Pending, "blocked: Object"),
            "{l:?}"
        );
    }
}

/// Audit 7, R4: unknown is not absent. A pod stuck for minutes whose cause cannot be read is
/// no verdict: the report says so before its counts and `check` exits 3 (undetermined), never
/// "0 errors" and 0. Within the mount's time, or with its cause found, it is an ordinary view.
#[test]
fn a_pod_stuck_with_its_cause_unread_makes_the_report_undetermined() {
    let verdict = |s: &Snapshot| {
        let chains = diagnose(s);
        let text = kvchain::report::text(s, &chains, false);
        let json: serde_json::Value =
            serde_json::from_str(&kvchain::report::json(s, &chains)).unwrap();
        (
            kvchain::report::undetermined(s, &chains),
            text.lines().next().unwrap_or("").to_string(),
            json["summary"]["unexplained"].as_u64().unwrap_or(0),
        )
    };
    let (undetermined, headline, unexplained) =
        verdict(&waiting(SignedDuration::from_mins(6), true));
    assert!(undetermined);
    assert!(
        headline.starts_with("UNDETERMINED: 1 pod not started")
            && headline.contains("no event that could be read says why")
            && headline.contains("0 errors"),
        "{headline}"
    );
    assert_eq!(unexplained, 1);

    let (undetermined, headline, unexplained) =
        verdict(&waiting(SignedDuration::from_secs(40), true));
    assert!(!undetermined && !headline.contains("UNDETERMINED") && unexplained == 0);

    let mut s = waiting(SignedDuration::from_mins(6), true);
    tk::object_mut(&mut s, APP).state = Observed::Known(None);
    let (undetermined, headline, _) = verdict(&s);
    assert!(
        !undetermined && !headline.contains("UNDETERMINED"),
        "{headline}"
    );
}

/// Audit F2: losing one more permission must not make the run greener. With the pod's
/// SecretProviderClassPodStatuses unreadable as well as its events, a pod stuck for minutes
/// is still undetermined (exit 3, the headline says so), not an ordinary unknown link; its
/// Mount link names both gaps.
#[test]
fn a_stuck_pod_stays_undetermined_when_its_pod_statuses_are_unreadable_too() {
    const SPCPS: &str = "cannot list secretproviderclasspodstatuses in shop: forbidden";
    let mut s = waiting(SignedDuration::from_mins(6), true);
    s.spc_statuses.gaps.all = Some(SPCPS.into());
    let chains = diagnose(&s);
    assert!(kvchain::report::undetermined(&s, &chains));
    let headline = kvchain::report::text(&s, &chains, false);
    let headline = headline.lines().next().unwrap_or_default();
    assert!(
        headline.starts_with("UNDETERMINED: 1 pod not started"),
        "{headline}"
    );
    let mount = chains[0].link(LinkKind::Mount);
    assert_eq!(mount.status, Status::Unknown, "{mount:#?}");
    for reason in [FORBIDDEN, SPCPS] {
        assert!(
            mount
                .facts
                .iter()
                .any(|f| f.label == "unknown" && f.observed == reason),
            "{reason}: {mount:#?}"
        );
    }
    assert_eq!(chains[0].link(LinkKind::Consumers).status, Status::Unknown);

    // Events readable: the pod statuses alone leave the mount unknown, no pod stuck without a
    // reason (the run exits 3 still, as the chain is not verified: audit VVV-honest).
    let mut s = waiting(SignedDuration::from_mins(6), false);
    s.spc_statuses.gaps.all = Some(SPCPS.into());
    let chains = diagnose(&s);
    assert!(!kvchain::chain::waits_unexplained(&chains[0]));
    // Within the time a mount takes it is merely starting, whatever is unread.
    let mut s = waiting(SignedDuration::from_secs(40), true);
    s.spc_statuses.gaps.all = Some(SPCPS.into());
    let chains = diagnose(&s);
    assert!(!kvchain::chain::waits_unexplained(&chains[0]));
}

/// A pod in a terminal phase (Failed: evicted, its node shut down) is not waiting for its
/// mount, whatever its containers last reported: the kubelet never retries it, so no verdict
/// is missing (the run is not UNDETERMINED for an old evicted pod).
#[test]
fn a_failed_pod_that_never_mounted_is_not_waiting_for_its_mount() {
    let mut s = waiting(SignedDuration::from_mins(90), false);
    tk::pod_mut(&mut s, APP).phase = "Failed".into();
    let chains = diagnose(&s);
    assert_ne!(
        chains[0].link(LinkKind::Mount).summary,
        "not started; no event says why"
    );
    assert!(!kvchain::report::undetermined(&s, &chains));
}
