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
    // A retired pod (finished, failed, being deleted) is placed nowhere again: its node's
    // absence is history (audit U4: an evicted pod of a scaled-down node).
    if cx.template || cx.retired() {
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
    // Its per-node reasons; the preemption summary after them adds nothing here.
    let said = latest
        .message
        .split(". preemption:")
        .next()
        .unwrap_or_default()
        .trim_end_matches('.');
    let why = Reasons::of(said);
    // The DaemonSet controller creates a pod only for a node whose labels and taints its
    // template admits (no eligible node: no pod at all), so a selector or taint rejection is
    // not a DaemonSet pod's story. Too little CPU or memory on its node still can be.
    if daemon_pod(cx) && !why.resources {
        link.facts.push(crate::chain::model::Fact::new(
            "FailedScheduling",
            "on a DaemonSet's pod, which its controller creates only for a node its template admits: not why it waits",
        ));
        return;
    }
    // Unschedulable since the pod was created (the scheduler tries a new pod at once); the
    // event's own time only bounds it when the creation time is not known.
    let since = cx.pod.created_at.or(latest.last_seen);
    // More nodes now than the scheduler weighed ("0/<n> nodes are available"): some came
    // after the event, which cannot say whether they fit; its next retry will.
    let weighed = weighed_nodes(said);
    let now_read = cx.cluster().nodes.known().map(Vec::len);
    let predates = match (weighed, now_read) {
        (Some(w), Some(n)) if n > w => Some((w, n)),
        _ => None,
    };
    let long = predates.is_none()
        && since
            .and_then(|t| t.checked_add(UNSCHEDULABLE_GRACE).ok())
            .is_some_and(|t| cx.ix.clock().after(t));
    let how_long = match (long, since) {
        (true, Some(t)) => format!(
            " for more than 5 minutes (Pending since {})",
            crate::glance::time(t)
        ),
        _ => String::new(),
    };
    let newer = match predates {
        Some((w, n)) => format!(
            "; the event predates the cluster's newer nodes (it weighed {w}, kvchain now reads {n}): the scheduler's next retry (within 5 minutes) tells whether one fits"
        ),
        None => String::new(),
    };
    let mut f = cx.remedied(
        Code::KVC107,
        format!("Pod/{}", cx.pod.name),
        format!(
            "pod {} is not scheduled{how_long}: kube-scheduler finds no node that fits it, so no kubelet mounts volume {}: {said}{newer}",
            cx.pod.name, cx.volume.name,
        ),
        vec![event_evidence(latest)],
    );
    f.fix = if predates.is_some() {
        format!(
            "# nothing to change yet: wait for the scheduler's retry against the new nodes; if it fails again: {}",
            f.confirm
        )
    } else {
        why.fix(cx)
    }
    .into();
    if !long {
        // The scheduler retries: a node may yet fit (a scale-up, a taint removed).
        f.severity = Severity::Warning;
    }
    link.findings.push(f);
}

/// Whether the chain's pod is a DaemonSet's: its controller picks the node (FailedScheduling
/// events about selectors or taints are folded in here, not as a finding of their own).
pub(crate) fn daemon_pod(cx: &Ctx) -> bool {
    cx.workload.is_some_and(|(kind, _)| kind == "DaemonSet")
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
    // The scheduler bound it, not the owner's template (which sets no nodeName): PodGC's
    // deletion and the controller's replacement heal it, and the template has nothing to edit.
    let template_binds = cx
        .workload_object
        .and_then(|w| w.template.as_deref())
        .map(|t| t.node.is_some());
    f.fix = if template_binds == Some(false) {
        f.severity = Severity::Warning;
        format!(
            "# nothing to edit: {} sets no nodeName (the scheduler bound this pod to a node since removed); PodGC deletes the pod and {} creates a replacement the scheduler places",
            cx.owner_resource(),
            cx.owner_resource()
        )
    } else {
        super::remedy::edit_owner(
            cx,
            &format!("remove spec.nodeName {node} (let the scheduler place the pod) or name a node that exists"),
        )
    }
    .into();
    // A pod bound by nodeName never meets the scheduler: no FailedScheduling to look for.
    f.confirm = format!(
        "kubectl get pod {} -n {} -o jsonpath='{{.spec.nodeName}}'; kubectl get nodes",
        cx.pod.name,
        cx.ns()
    )
    .into();
    // Said as what it is: nothing is scheduled there, nor can it be; a state that heals on its
    // own (the warning above) is no broken link (audit V3).
    let status = match f.severity {
        Severity::Error => crate::chain::model::Status::Broken,
        _ => crate::chain::model::Status::Warning,
    };
    link.findings.push(f);
    super::set(link, status, "no such node");
}

/// What kube-scheduler's FailedScheduling says kept the pod off each node (its message
/// shapes: `<n> Insufficient cpu`, `<n> node(s) didn't match Pod's node affinity/selector`,
/// `<n> node(s) had untolerated taint {<key>: <value>}`, `<n> node(s) were unschedulable`).
#[derive(Default)]
struct Reasons {
    resources: bool,
    labels: bool,
    cordoned: bool,
    /// Taints a toleration may answer, as (key, value).
    taints: Vec<(String, String)>,
    /// `node.kubernetes.io/*` taints: the node lifecycle controller's word for a node that is
    /// down, not ready or under pressure. A toleration would only place the pod on a sick node.
    conditions: Vec<String>,
}

impl Reasons {
    fn of(said: &str) -> Reasons {
        let mut r = Reasons::default();
        // Taints first: their `{key: value}` holds the ": " the per-node split below uses.
        let mut rest = said;
        while let Some(i) = rest.find("untolerated taint {") {
            let after = &rest[i + "untolerated taint {".len()..];
            let Some(end) = after.find('}') else { break };
            let (key, value) = after[..end].split_once(':').unwrap_or((&after[..end], ""));
            let (key, value) = (key.trim().to_string(), value.trim().to_string());
            if key.starts_with("node.kubernetes.io/") {
                r.conditions.push(key);
            } else {
                r.taints.push((key, value));
            }
            rest = &after[end..];
        }
        for part in said.split(", ").flat_map(|p| p.split(": ")) {
            if part.contains("Insufficient ") {
                r.resources = true;
            } else if part.contains("didn't match Pod's node affinity/selector") {
                r.labels = true;
            } else if part.contains("node(s) were unschedulable") {
                r.cordoned = true;
            }
        }
        r
    }

    /// The edit each reason asks for; the whole list when the message names none known. A
    /// sick or cordoned node is fixed on the node, not in the pod's owner.
    fn fix(&self, cx: &Ctx) -> String {
        let mut edits = Vec::new();
        if self.labels {
            edits.push("make nodeSelector and required node affinity match the labels of a node pool that exists (kubectl get nodes --show-labels), or add such a pool".to_string());
        }
        if !self.taints.is_empty() {
            // No effect in the toleration: the message does not say it, and a toleration
            // without one matches every effect of that key and value.
            let tolerations: Vec<String> = self
                .taints
                .iter()
                .map(|(k, v)| match v.as_str() {
                    "" => format!("{{key: {k}, operator: Exists}}"),
                    v => format!("{{key: {k}, operator: Equal, value: {v}}}"),
                })
                .collect();
            edits.push(format!(
                "add to the pod template tolerations: [{}] (or take the taint off a node pool)",
                tolerations.join(", ")
            ));
        }
        if self.resources {
            edits.push("lower the containers' resources.requests to what a node can offer, or add capacity (a larger VM size, a scale-up of the pool)".to_string());
        }
        let mut node = Vec::new();
        // The scheduler's message names no node: the commands list the nodes to look at, and
        // the note says what to do with the one listed. `kubectl describe node <node>` was a
        // redirection to bash, which refused the whole line (audit III4). The column spec is
        // quoted: `[*]` is a glob to the shell.
        if !self.conditions.is_empty() {
            node.push(format!(
                "kubectl get nodes -o 'custom-columns=NODE:.metadata.name,TAINTS:.spec.taints[*].key'  # taint {} is the node lifecycle controller's: the node listed with it is down, not ready or under pressure (kubectl describe node on it says why); repair or replace it, or add a node (tolerating the taint would place the pod on that node)",
                self.conditions.join(", ")
            ));
        }
        if self.cordoned {
            node.push("kubectl get nodes --field-selector spec.unschedulable=true  # a node listed is cordoned (SchedulingDisabled): kubectl uncordon it once it may take pods again, or add a node".to_string());
        }
        if edits.is_empty() && node.is_empty() {
            edits.push("make nodeSelector, affinity, tolerations and resources.requests fit a node that exists".to_string());
        }
        if !edits.is_empty() {
            node.insert(0, super::remedy::edit_owner(cx, &edits.join("; ")));
        }
        // One line (a line break in a fix is an input's, escaped when shown, audit BB2).
        let node: Vec<&str> = node.iter().map(String::as_str).collect();
        super::remedy::in_turn(&node)
    }
}

/// The `<n>` of `0/<n> nodes are available`: how many nodes the scheduler weighed.
fn weighed_nodes(said: &str) -> Option<usize> {
    said.strip_prefix("0/")?.split(' ').next()?.parse().ok()
}
