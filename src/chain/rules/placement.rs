//! Pod link: the pod is on a node that will run it (KVC107). Nothing mounts before a kubelet
//! runs the pod: a pod kube-scheduler cannot place stays Pending with FailedScheduling events
//! (scenarios.md "Trainer faults"), and a pod whose `spec.nodeName` names a node the cluster
//! does not have is claimed by no kubelet until PodGC deletes it (FACTS §11 "Nodes": presence
//! is per node). Either way every later link waits on this one.

use crate::chain::catalog::Code;
use crate::chain::context::{Ctx, event_evidence};
use crate::chain::model::{Link, Severity};

/// How long an unschedulable pod is a warning. The scheduler retries on its own (a cluster
/// scale-up may add a node that fits, usually within minutes), and parks an unschedulable
/// pod for at most 5 minutes before trying it again against every node
/// (kube-scheduler's podMaxInUnschedulablePodsDuration): still unschedulable after that,
/// waiting is no longer the explanation.
pub(crate) const UNSCHEDULABLE_GRACE: jiff::SignedDuration = jiff::SignedDuration::from_mins(5);

pub(crate) fn check(cx: &Ctx, link: &mut Link) {
    if cx.template || cx.pod.deleting {
        return;
    }
    match cx.pod.node.as_deref() {
        None => unschedulable(cx, link),
        Some(node) => missing_node(cx, link, node),
    }
}

/// Pending with no node, and kube-scheduler said why. Without a FailedScheduling event the pod
/// is merely new (the scheduler has not tried yet): no finding.
fn unschedulable(cx: &Ctx, link: &mut Link) {
    if cx.pod.phase != "Pending" {
        return;
    }
    // The newest says what holds now (the scheduler re-evaluates on every retry).
    let Some(latest) = cx
        .events
        .iter()
        .map(|(_, e)| *e)
        .filter(|e| e.reason == "FailedScheduling" && e.type_ != "Normal")
        .max_by_key(|e| e.last_seen)
    else {
        return;
    };
    // Unschedulable since the pod was created (the scheduler tries a new pod at once); the
    // event's own time only bounds it when the creation time is not known.
    let since = cx.pod.created_at.or(latest.last_seen);
    let long = since
        .and_then(|t| t.checked_add(UNSCHEDULABLE_GRACE).ok())
        .is_some_and(|t| cx.ix.clock().after(t));
    let how_long = match (long, since) {
        (true, Some(t)) => format!(
            " for more than 5 minutes (Pending since {})",
            crate::glance::time(t)
        ),
        _ => String::new(),
    };
    let mut f = cx.remedied(
        Code::KVC107,
        format!("Pod/{}", cx.pod.name),
        format!(
            "pod {} is not scheduled{how_long}: kube-scheduler finds no node that fits it, so no kubelet mounts volume {}: {}",
            cx.pod.name,
            cx.volume.name,
            // Its per-node reasons; the preemption summary after them adds nothing here.
            latest
                .message
                .split(". preemption:")
                .next()
                .unwrap_or_default()
                .trim_end_matches('.')
        ),
        vec![event_evidence(latest)],
    );
    if !long {
        // The scheduler retries: a node may yet fit (a scale-up, a taint removed).
        f.severity = Severity::Warning;
    }
    link.findings.push(f);
}

/// Bound to a node the cluster does not have (only when the nodes were read).
fn missing_node(cx: &Ctx, link: &mut Link, node: &str) {
    let Some(nodes) = cx.cluster().nodes.known() else {
        return;
    };
    if nodes.iter().any(|n| n.name == node) {
        return;
    }
    let mut names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).take(5).collect();
    if nodes.len() > names.len() {
        names.push("…");
    }
    let replaced = if cx.workload.is_some() {
        "; its controller then creates a replacement"
    } else {
        ""
    };
    let mut f = cx.remedied(
        Code::KVC107,
        format!("Pod/{}", cx.pod.name),
        format!(
            "pod {} is bound to node {node}, which the cluster does not have: no kubelet runs it or mounts volume {}; PodGC deletes it{replaced}",
            cx.pod.name, cx.volume.name
        ),
        vec![
            format!("spec.nodeName: {node}"),
            format!("nodes: {}", names.join(", ")),
        ],
    );
    f.fix = super::remedy::edit_owner(
        cx,
        &format!("remove spec.nodeName {node} (let the scheduler place the pod) or name a node that exists"),
    )
    .into();
    link.findings.push(f);
    // Said as what it is: nothing is scheduled there, nor can it be.
    super::set(link, crate::chain::model::Status::Broken, "no such node");
}
