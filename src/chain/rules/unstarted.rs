//! A pod that has not started. Nothing it runs reads anything yet, so its Consumers link
//! proves nothing; and a pod still waiting for its mount is "merely starting" (README: no
//! finding, links drawn `…`) only while no failure is seen. With its events unreadable, "no
//! mount failure" is unknown, not established: past the time a mount takes, the Mount link is
//! unknown and says why (README "Degrading": unknown, not broken nor pending).

use jiff::SignedDuration;

use super::{set, unknown};
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::{Fact, Link, LinkKind, Status};

/// The Mount link's summary while the pod waits past [`MOUNT_GRACE`] and its events, which
/// would say why, cannot be read.
pub(crate) const NOT_STARTED: &str = "not started; events unread";

/// The Mount link's summary while the pod waits past [`SILENCE_GRACE`] and the events, which
/// can be read, hold none about it ([`silent_mount`]).
pub(crate) const NO_EVENT: &str = "not started; no event says why";

/// The Consumers link's summary beside a [`NOT_STARTED`] Mount link.
pub(crate) const NO_CONSUMER_YET: &str = "pod not started";

/// Whether `link` is unknown only because the pod has not started (see [`unseen_mount`],
/// [`silent_mount`]): a root cause found upstream explains the wait, and the link then reads
/// blocked by it.
pub(crate) fn unseen(link: &Link) -> bool {
    link.status == Status::Unknown
        && [NOT_STARTED, NO_EVENT, NO_CONSUMER_YET].contains(&link.summary.as_str())
}

/// Whether `chain`'s pod waits for its mount past the time a mount takes with nothing
/// upstream to explain it and no event that could be read saying why (its events unread, or
/// none about it): no verdict can be given on it, so a `check` over it is undetermined
/// (exit 3), never "0 errors".
pub fn waits_unexplained(chain: &crate::chain::model::Chain) -> bool {
    let mount = chain.link(LinkKind::Mount);
    mount.status == Status::Unknown && [NOT_STARTED, NO_EVENT].contains(&mount.summary.as_str())
}

/// How long a mount may take before "still mounting" needs evidence: kubelet waits about two
/// minutes for a pod's volumes, then gives the attempt up ("Unable to attach or mount volumes
/// … timed out waiting for the condition", FACTS §3) and retries. A pod with no SPCPS after
/// that is not on its way to a first mount as far as anything visible shows.
pub(crate) const MOUNT_GRACE: SignedDuration = SignedDuration::from_mins(2);

/// How long a waiting pod may go without any event about it: the kubelet gives a mount up
/// after about two minutes and says so (FACTS §3: "Unable to attach or mount volumes … timed
/// out waiting for the condition"), and reports every failed attempt before that as a
/// FailedMount; a minute past [`MOUNT_GRACE`] leaves that event time to arrive.
pub(crate) const SILENCE_GRACE: SignedDuration = SignedDuration::from_mins(3);

/// The pod has waited for its mount past [`SILENCE_GRACE`], its namespace's events can be
/// read, and none is about its mount: the Mount link is unknown, not "mounting". Nothing
/// visible shows a mount on its way (no SPCPS, FACTS §1) and nothing says why it is not (the
/// kubelet reports a failed mount, FACTS §3): its node's kubelet may not be reporting, or the
/// events were dropped (audit L3). False, leaving the link alone, otherwise.
pub(crate) fn silent_mount(cx: &Ctx, link: &mut Link) -> bool {
    // An event about another of its volumes may be why it waits (KVC108 says so): only a pod
    // no event names at all is silent.
    // Any mount or sync event about the pod, for this volume (`cx.events` are drawn from the
    // same per-pod list) or another, says something; the scheduler's FailedScheduling, history
    // once the pod is on a node, does not (audit N1). A pod being deleted is not waiting for a
    // mount: the kubelet tears it down (audit N4).
    if cx.pod.deleting
        || cx.snap().events.unknown_in(cx.ns()).is_some()
        || crate::chain::chain_events::pod_has_mount_events(cx.ix, cx.pod)
    {
        return false;
    }
    let Some(since) = waited_past(cx, SILENCE_GRACE) else {
        return false;
    };
    let minutes = cx.ix.clock().now().duration_since(since.at).as_mins();
    let node = cx.pod.node.as_deref().unwrap_or("its node");
    unknown(
        link,
        NO_EVENT,
        &format!(
            "no event about pod {}'s mount in the {minutes} minutes since it was {}",
            cx.pod.name, since.what
        ),
    );
    link.facts.push(Fact::new(
        "not started",
        format!(
            "pod {} was {} at {} and is still not mounted {minutes} minutes later (no SecretProviderClassPodStatus, containers waiting), and no event says why: the kubelet reports each failed mount as a FailedMount event, so none at all suggests the kubelet on {node} is not reporting (node NotReady) or the events were dropped: kubectl describe pod {} -n {}; kubectl get node {node}",
            cx.pod.name,
            since.what,
            crate::glance::time(since.at),
            cx.pod.name,
            cx.ns()
        ),
    ));
    true
}

/// Since when the pod has waited for its mount, if that is more than `grace` before the
/// diagnosis clock: from when its node's kubelet acknowledged it (`status.startTime`), so time
/// spent waiting for a node (capacity, schedulingGates) is not counted as a silent mount;
/// from its creation when the kubelet's time is not known.
fn waited_past(cx: &Ctx, grace: SignedDuration) -> Option<Waited> {
    let since = match cx.pod.kubelet_since {
        Some(at) => Waited {
            at,
            what: "taken by its node's kubelet",
        },
        None => Waited {
            at: cx.pod.created_at?,
            what: "created",
        },
    };
    let due = since.at.checked_add(grace).ok()?;
    cx.ix.clock().after(due).then_some(since)
}

/// The start of a pod's wait for its mount and what happened then.
struct Waited {
    at: jiff::Timestamp,
    what: &'static str,
}

/// The pod has waited for its mount past [`MOUNT_GRACE`] and the namespace's events cannot be
/// read: the Mount link is unknown (the events gap's reason, so every format ties it to that
/// gap) rather than "mounting". False, leaving the link alone, otherwise.
pub(crate) fn unseen_mount(cx: &Ctx, link: &mut Link) -> bool {
    let Some(reason) = cx.snap().events.unknown_in(cx.ns()) else {
        return false;
    };
    let Some(since) = waited_past(cx, MOUNT_GRACE) else {
        return false;
    };
    unknown(link, NOT_STARTED, reason);
    // Its SPCPS unreadable too: "not mounted" rests on the containers alone.
    let status = if cx.snap().spc_statuses.unread_in(cx.ns()).is_some() {
        "its SecretProviderClassPodStatus cannot be read"
    } else {
        "no SecretProviderClassPodStatus"
    };
    link.facts.push(Fact::new(
        "not started",
        format!(
            "pod {} was {} at {} and is still not mounted more than {} minutes later ({status}, containers waiting); the events that would say why (a FailedMount) cannot be read: kubectl describe pod {} -n {} shows them to an account that may read events",
            cx.pod.name,
            since.what,
            crate::glance::time(since.at),
            MOUNT_GRACE.as_mins(),
            cx.pod.name,
            cx.ns()
        ),
    ));
    true
}

/// A pod that has not mounted its volume has started no container (kubelet starts none before
/// its volumes mount): its Consumers link cannot read ✓ with nothing found. Pending behind the
/// mount while it is on its way (`starting`, named after the root cause by `mark_effects`),
/// unknown while the Mount link is ([`NOT_STARTED`]).
pub(crate) fn consumers_unproven(links: &mut [Link], starting: bool) {
    let mount = &links[LinkKind::Mount.index()];
    let unseen = unseen(mount);
    if !starting && !unseen {
        return;
    }
    let consumers = &mut links[LinkKind::Consumers.index()];
    if consumers.status != Status::Ok || !consumers.findings.is_empty() {
        return;
    }
    if unseen {
        set(consumers, Status::Unknown, NO_CONSUMER_YET);
        consumers.facts.push(Fact::new(
            "unknown",
            "no container of the pod has started (its mount is not seen to succeed): nothing reads the mounted files yet",
        ));
    } else {
        set(consumers, Status::Pending, "blocked: Mount");
    }
}

/// Consumers findings that judge a workload's design, not what this pod's containers hold:
/// nothing restarts an env reader when the Secret rotates (KVC902) holds before the pod starts
/// as after; another workload reading the Secret without mounting (KVC903) is never about this
/// pod, which mounts (audit MMM).
const DESIGN: [Code; 2] = [Code::KVC902, Code::KVC903];

/// A pod waiting for its first mount (`starting`, read before the events) runs no container
/// yet: a design warning on its Consumers link stays listed, but the link is drawn behind the
/// mount, as it is without one ("blocked: Mount", named after the root cause by
/// `mark_effects`), not "no reloader" (nor ✓ for a Job's) beside a Federation that keeps every
/// reader from starting (audits YY5, ZZ3). Likewise a mounted pod whose container waits for a
/// synced Secret that does not exist (`behind_sync`, from the Consumers link: the kubelet
/// holds it with CreateContainerConfigError) is drawn behind Sync, as it is without a design
/// warning (audit MMM: the driver's sync off, FACTS §2, §11), and so is one that started with
/// an optional reference to it unset ("unset: Sync"). A pod held before any container starts
/// by another of its volumes failing, or by a Secret or ConfigMap its env names that does not
/// exist (`blocked_start`, [`super::consumers::blocked_start`]), is drawn behind that, which
/// the Pod link names (one symptom, one cause: not "no reloader"; audit QQQ-rules). Run after
/// the links are settled.
pub(crate) fn design_behind(
    links: &mut [Link],
    starting: bool,
    behind_sync: Option<&'static str>,
    blocked_start: impl FnOnce() -> Option<String>,
) {
    let consumers = &mut links[LinkKind::Consumers.index()];
    let design_only = !consumers.findings.is_empty()
        && (consumers.findings.iter()).all(|f| f.follows.is_none() && DESIGN.contains(&f.code));
    // Ok: a Job's KVC902 is information (its next run reads the current value), and the
    // link read ✓ for containers that never started.
    if !design_only || !matches!(consumers.status, Status::Ok | Status::Warning) {
        return;
    }
    if starting {
        set(consumers, Status::Pending, "blocked: Mount");
    } else if let Some(summary) = blocked_start() {
        set(consumers, Status::Pending, summary);
    } else if let Some(summary) = behind_sync {
        set(consumers, Status::Pending, summary);
    }
}
