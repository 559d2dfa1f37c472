//! A pod that is not (yet) mounted: never scheduled (FailedScheduling, scenarios.md "Trainer
//! faults"), bound to a node that does not exist, or merely starting. The first two are the
//! Pod link's cause and everything downstream waits on it (`blocked: Pod`); a pod merely
//! starting is no finding at all, and its synced Secret is pending, not KVC802 (README
//! "Finding codes": a link the break kept from being tried is drawn `…`). Also: a
//! FailedToCreateSecret that explains a missing synced Secret is its one cause (KVC801), never
//! beside a "missing, and no event says why" KVC806.

use jiff::SignedDuration;
use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Chain, Code, Finding, LinkKind, Severity, Status, diagnose};
use kvchain::snapshot::*;

const UNSCHEDULABLE: &str = "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.";
const NODE: &str = "aks-nodepool1-12345678-vmss000000";

fn one(s: &Snapshot) -> Chain {
    let mut chains = diagnose(s);
    assert_eq!(chains.len(), 1, "{chains:#?}");
    chains.remove(0)
}

fn find(c: &Chain, code: Code) -> &Finding {
    c.findings()
        .find(|f| f.code == code)
        .unwrap_or_else(|| panic!("{code} missing: {:#?}", c.links))
}

fn summary(c: &Chain, l: LinkKind) -> (Status, &str) {
    let link = c.link(l);
    (link.status, link.summary.as_str())
}

/// Makes the app's pod one created `age` ago, Pending with no node and not mounted; its uid.
pub(crate) fn pending(s: &mut Snapshot, age: SignedDuration) -> String {
    tk::unmount(s, APP);
    let pod = tk::pod_mut(s, APP);
    pod.node = None;
    pod.created_at = Some(tk::ago(age));
    for c in &mut pod.containers {
        c.state = ContainerStateObs::Waiting {
            reason: String::new(),
            message: String::new(),
        };
    }
    pod.uid.to_string()
}

/// The app's pod, created `age` ago, Pending with no node, and kube-scheduler's
/// FailedScheduling about it (seen `count` times, last a few seconds ago).
fn unschedulable(age: SignedDuration, count: u32) -> Snapshot {
    let mut s = tk::healthy();
    let uid = pending(&mut s, age);
    s.events.items.push(EventObs {
        namespace: NS.into(),
        involved_kind: "Pod".into(),
        involved_name: tk::pod_name(APP, 0).into(),
        involved_uid: uid,
        type_: "Warning".into(),
        reason: "FailedScheduling".into(),
        message: UNSCHEDULABLE.into(),
        count,
        source: "default-scheduler".into(),
        last_seen: Some(tk::ago(SignedDuration::from_secs(5))),
        first_seen: None,
    });
    s
}

/// Everything after the Pod link waits on it: drawn pending, naming the Pod link; an effect
/// finding there (no synced Secret) says `blocked by Pod`.
fn assert_downstream_blocked_by_pod(c: &Chain) {
    for l in [LinkKind::Mount, LinkKind::Sync, LinkKind::Consumers] {
        let (status, said) = summary(c, l);
        assert_eq!(said, "blocked: Pod", "{l:?}: {:#?}", c.link(l));
        assert!(status <= Status::Warning, "{l:?} {status:?}");
    }
    for f in c.findings().filter(|f| f.link != LinkKind::Pod) {
        assert_eq!(f.follows, Some(LinkKind::Pod), "{f:#?}");
        assert!(f.message.starts_with("blocked by Pod"), "{}", f.message);
    }
}

#[test]
fn a_pod_the_scheduler_just_failed_to_place_is_a_pod_warning_citing_its_message() {
    let c = one(&unschedulable(SignedDuration::from_secs(40), 2));
    let f = find(&c, Code::KVC107);
    assert_eq!(f.link, LinkKind::Pod);
    assert_eq!(
        f.severity,
        Severity::Warning,
        "the scheduler retries: {f:#?}"
    );
    assert!(
        f.evidence
            .iter()
            .any(|e| e.starts_with("FailedScheduling") && e.contains(UNSCHEDULABLE)),
        "{f:#?}"
    );
    assert_eq!(summary(&c, LinkKind::Pod).1, "not schedulable");
    assert_downstream_blocked_by_pod(&c);
    // One cause: the scheduler's event is its evidence, not a second finding (KVC701).
    assert_eq!(
        c.findings().filter(|f| f.link == LinkKind::Pod).count(),
        1,
        "{:#?}",
        c.links
    );
    assert!(!c.findings().any(|f| f.code == Code::KVC701));
}

#[test]
fn a_pod_unschedulable_for_minutes_is_a_pod_error() {
    let c = one(&unschedulable(SignedDuration::from_mins(6), 4));
    let f = find(&c, Code::KVC107);
    assert_eq!(f.severity, Severity::Error, "{f:#?}");
    assert_eq!(c.link(LinkKind::Pod).status, Status::Broken);
    assert!(
        f.message.contains("more than 5 minutes"),
        "how long: {}",
        f.message
    );
    assert_eq!(c.root_cause().map(|r| r.code), Some(Code::KVC107));
    assert_downstream_blocked_by_pod(&c);
}

/// A pod that was Pending and then placed: the scheduler's old message is history.
#[test]
fn a_failed_scheduling_of_a_pod_now_on_a_node_is_history() {
    let mut s = unschedulable(SignedDuration::from_mins(10), 3);
    let pod = tk::pod_mut(&mut s, APP);
    pod.node = Some(NODE.into());
    let mut healthy = tk::healthy();
    let fresh = tk::pod_mut(&mut healthy, APP).clone();
    let pod = tk::pod_mut(&mut s, APP);
    pod.phase = fresh.phase.clone();
    pod.containers = fresh.containers.clone();
    s.spc_statuses = healthy.spc_statuses.clone();
    s.secrets = healthy.secrets.clone();
    let c = one(&s);
    assert!(c.findings().next().is_none(), "{:#?}", c.links);
    assert!(
        c.link(LinkKind::Pod)
            .facts
            .iter()
            .any(|f| f.label.starts_with("history") && f.observed.contains("FailedScheduling")),
        "{:#?}",
        c.link(LinkKind::Pod)
    );
}

/// A pod bound (spec.nodeName) to a node the cluster does not have: no kubelet will run or
/// mount it. Not "mounting".
#[test]
fn a_pod_bound_to_a_node_that_does_not_exist_is_a_pod_error_not_mounting() {
    let mut s = tk::healthy();
    tk::unmount(&mut s, APP);
    // Created moments ago: merely starting (past three minutes with no event it is unknown).
    tk::pod_mut(&mut s, APP).created_at = Some(tk::ago(SignedDuration::from_secs(30)));
    tk::pod_mut(&mut s, APP).node = Some("aks-gpu-00000000-vmss000009".into());
    s.cluster.nodes = Observed::Known(vec![NodeObs {
        name: NODE.into(),
        labels: [("kubernetes.io/os".to_string(), "linux".to_string())].into(),
        taints: vec![],
        ..NodeObs::default()
    }]);
    let c = one(&s);
    let f = find(&c, Code::KVC107);
    assert_eq!(f.severity, Severity::Error);
    assert!(
        f.message.contains("aks-gpu-00000000-vmss000009"),
        "{}",
        f.message
    );
    assert!(
        f.evidence.iter().any(|e| e.contains(NODE)),
        "the nodes there are: {f:#?}"
    );
    assert_ne!(summary(&c, LinkKind::Mount).1, "mounting");
    // Nothing is scheduled there: the Pod link says what it is, not "not schedulable".
    assert_eq!(summary(&c, LinkKind::Pod), (Status::Broken, "no such node"));
    assert_downstream_blocked_by_pod(&c);
    // Nodes not read: nothing to say about the node, the pod is just mounting.
    s.cluster.nodes = Observed::unknown("forbidden");
    let c = one(&s);
    assert!(!c.findings().any(|f| f.code == Code::KVC107));
    assert_eq!(summary(&c, LinkKind::Mount), (Status::Pending, "mounting"));
}

/// P3: a healthy pod that is only starting (ContainerCreating, no SPCPS yet, no failure) has
/// no finding; its synced Secret does not exist yet and the Sync link waits for the mount.
#[test]
fn a_pod_merely_starting_has_no_finding_and_sync_waits_for_the_mount() {
    let mut s = tk::healthy();
    tk::unmount(&mut s, APP);
    // Created moments ago: merely starting (past three minutes with no event it is unknown).
    tk::pod_mut(&mut s, APP).created_at = Some(tk::ago(SignedDuration::from_secs(30)));
    let c = one(&s);
    assert!(c.findings().next().is_none(), "{:#?}", c.links);
    assert_eq!(summary(&c, LinkKind::Mount), (Status::Pending, "mounting"));
    let (status, said) = summary(&c, LinkKind::Sync);
    assert_eq!(status, Status::Pending, "{:#?}", c.link(LinkKind::Sync));
    assert_eq!(said, "waiting for mount");
    assert_eq!(c.link(LinkKind::Consumers).status, Status::Pending);
    // Not scheduled yet, with no FailedScheduling (the scheduler has not tried): the same.
    tk::pod_mut(&mut s, APP).node = None;
    let c = one(&s);
    assert!(c.findings().next().is_none(), "{:#?}", c.links);
    assert_eq!(
        summary(&c, LinkKind::Mount),
        (Status::Pending, "not scheduled")
    );
    assert_eq!(c.link(LinkKind::Sync).status, Status::Pending);
}

/// The default lab at 0s (P3): the cause the SPC shows (KVC801) is the one finding for its
/// never-built Secret, with no KVC802 beside it while the pod mounts.
#[test]
fn a_static_cause_is_the_one_finding_for_a_secret_never_built_while_mounting() {
    let mut s = tk::healthy();
    tk::unmount(&mut s, APP);
    let spc = s
        .spcs
        .items
        .iter_mut()
        .find(|x| x.name == tk::spc_name(APP))
        .unwrap();
    spc.secret_objects[0].data[0].object_name = tk::object_name(APP);
    let c = one(&s);
    assert_eq!(find(&c, Code::KVC801).severity, Severity::Error);
    assert!(
        !c.findings().any(|f| f.code == Code::KVC802),
        "{:#?}",
        c.links
    );
}

/// P7: the driver's FailedToCreateSecret names why the synced Secret is missing (a
/// secretObjects file that is not mounted, here a history index the vault has no version
/// for): KVC801 with the event, and no KVC806 claiming no event says why.
#[test]
fn a_failed_to_create_secret_explains_the_missing_secret_once() {
    let mut s = tk::healthy();
    s.secrets.items.retain(|x| x.name != tk::secret_name(APP));
    let uid = tk::pod_mut(&mut s, APP).uid.to_string();
    s.events.items.push(EventObs {
        namespace: NS.into(),
        involved_kind: "Pod".into(),
        involved_name: tk::pod_name(APP, 0).into(),
        involved_uid: uid,
        type_: "Warning".into(),
        reason: "FailedToCreateSecret".into(),
        message: format!(
            "failed to get data in spc {NS}/{} for secret {}, err: file matching objectName password/1 not found in the pod",
            tk::spc_name(APP),
            tk::secret_name(APP)
        ),
        count: 3,
        source: "csi-secrets-store-controller".into(),
        last_seen: Some(tk::ago(SignedDuration::from_secs(30))),
        first_seen: None,
    });
    let c = one(&s);
    let f = find(&c, Code::KVC801);
    // The healthy entry reads `password`, not `password/1`: the SPC changed since the event
    // ("failed, now looks right", audit DD1), a wait for the driver's next reconcile (FACTS
    // §2), so a warning (audit FF1-c).
    assert_eq!(f.severity, Severity::Warning);
    assert!(
        f.evidence
            .iter()
            .any(|e| e.starts_with("FailedToCreateSecret (x3")),
        "{f:#?}"
    );
    assert!(
        !c.findings().any(|f| f.code == Code::KVC806),
        "{:#?}",
        c.links
    );
    // Without any event, a Secret missing under a mounted SPC is still KVC806 (deleted since).
    let mut s = tk::healthy();
    s.secrets.items.retain(|x| x.name != tk::secret_name(APP));
    let c = one(&s);
    assert_eq!(find(&c, Code::KVC806).severity, Severity::Warning);
}

/// N4: a static warning on the Mount link (rotation off, KVC702) says nothing about this
/// pod's mount: the pod is still only starting (no SPCPS, no FailedMount), so its synced
/// Secret waits for the mount — no KVC802 ("no running pod has the SPC mounted").
#[test]
fn a_pod_merely_starting_with_rotation_off_still_waits_for_the_mount() {
    let mut s = tk::healthy();
    if let Observed::Known(csi) = &mut s.cluster.csi_driver {
        csi.rotation_enabled = Observed::Known(false);
    }
    tk::unmount(&mut s, APP);
    // Created moments ago: merely starting (past three minutes with no event it is unknown).
    tk::pod_mut(&mut s, APP).created_at = Some(tk::ago(SignedDuration::from_secs(30)));
    let c = one(&s);
    let codes: Vec<(Code, Severity)> = c.findings().map(|f| (f.code, f.severity)).collect();
    assert_eq!(codes, [(Code::KVC702, Severity::Warning)], "{:#?}", c.links);
    assert!(!c.findings().any(|f| f.code == Code::KVC802));
    assert_eq!(
        summary(&c, LinkKind::Sync),
        (Status::Pending, "waiting for mount")
    );
    assert_eq!(c.link(LinkKind::Consumers).status, Status::Pending);
    // A FailedMount is no longer "starting": the mount failed, and the Secret waits on it.
    s.events.items.push(tk::failed_mount(
        NS,
        &tk::pod_name(APP, 0),
        "secrets-store-inline",
        "failed to unmarshal objects",
    ));
    let c = one(&s);
    assert_ne!(
        summary(&c, LinkKind::Sync).1,
        "waiting for mount",
        "{:#?}",
        c.links
    );
}

/// N13: a FailedToCreateSecret names the one Secret it could not build (`… for secret
/// <name>, err: …`, FACTS §3). Another Secret of the same SPC that is missing is a symptom of
/// its own: KVC806 for it stays.
#[test]
fn a_failed_to_create_secret_for_one_secret_does_not_explain_another() {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    let mut other = spc.secret_objects[0].clone();
    other.secret_name = "other".into();
    spc.secret_objects.push(other);
    // `other` was never seen; the app's own Secret was built before (it exists).
    let uid = tk::pod_mut(&mut s, APP).uid.to_string();
    s.events.items.push(EventObs {
        namespace: NS.into(),
        involved_kind: "Pod".into(),
        involved_name: tk::pod_name(APP, 0).into(),
        involved_uid: uid,
        type_: "Warning".into(),
        reason: "FailedToCreateSecret".into(),
        message: format!(
            "failed to get data in spc {NS}/{} for secret {}, err: file matching objectName nope not found in the pod",
            tk::spc_name(APP),
            tk::secret_name(APP)
        ),
        count: 3,
        source: "csi-secrets-store-controller".into(),
        last_seen: Some(tk::ago(SignedDuration::from_secs(30))),
        first_seen: None,
    });
    s.secrets.items.retain(|x| x.name != tk::secret_name(APP));
    let c = one(&s);
    let f806: Vec<&Finding> = c.findings().filter(|f| f.code == Code::KVC806).collect();
    assert_eq!(f806.len(), 1, "{:#?}", c.links);
    assert_eq!(f806[0].resource, "Secret/other", "{:#?}", f806[0]);
    assert_eq!(f806[0].severity, Severity::Warning);
    // The Secret the event names is explained by it: no KVC806 for that one.
    assert!(
        !c.findings().any(|f| f.code == Code::KVC806
            && f.resource == format!("Secret/{}", tk::secret_name(APP)).as_str()),
        "{:#?}",
        c.links
    );
}
