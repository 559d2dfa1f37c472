//! What each owner kind does with a fault that changes its pods (a template edit, the owner
//! deleted and made again), said as its controller does it: a trainer's status line must not
//! promise a replacement that does not come (Kubernetes: a Deployment rolls out, a StatefulSet
//! replaces its pods one at a time from the highest ordinal, a DaemonSet node by node, neither
//! under `OnDelete`; a Job's pod template is immutable; nothing recreates a bare pod).

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::Pod;

use crate::source::lab::world::{
    LabPod, Workload, WorkloadKey, replaced_by_update, stateful_start,
};

/// Why a template edit cannot be made on `wk` at all, as the API server or Kubernetes'
/// semantics refuse it.
pub(super) fn template_edit_refused(wk: &WorkloadKey) -> Option<String> {
    let (kind, ns, name) = wk;
    match kind.as_str() {
        "Job" => Some(format!(
            "Job {ns}/{name}: a Job's pod template is immutable (spec.template: field is immutable); only deleting and creating the Job again changes it"
        )),
        "Pod" => Some(format!(
            "Pod {ns}/{name} is a bare pod: the webhook mutates only on CREATE and nothing recreates the pod, so removing its label reaches nothing"
        )),
        _ => None,
    }
}

/// What the controller of `w` does after its pod template changed (a fault's edit or its
/// repair): who replaces the pods, in what order, or that none is replaced until deleted.
pub(super) fn template_rollout(w: &Workload, wk: &WorkloadKey) -> String {
    let (kind, ns, name) = wk;
    let (on_delete, partition) = replaced_by_update(w);
    if on_delete {
        return format!(
            "{kind} {ns}/{name} is OnDelete: no pod is replaced until deleted (R on each)"
        );
    }
    match w {
        Workload::StatefulSet(s) if partition > 0 => partitioned(s, ns, name, partition),
        Workload::StatefulSet(_) => format!(
            "StatefulSet {ns}/{name} replaces its pods one at a time from the highest ordinal"
        ),
        Workload::DaemonSet(_) => format!("DaemonSet {ns}/{name} replaces its pods node by node"),
        Workload::Deployment(d) if d.spec.as_ref().and_then(|s| s.paused) == Some(true) => format!(
            "Deployment {ns}/{name} is paused: it rolls out nothing until resumed (kubectl rollout resume deployment/{name} -n {ns})"
        ),
        _ => format!("{} {ns}/{name} rolls out new pods", w.kind()),
    }
}

/// A StatefulSet under `rollingUpdate.partition`: the partition is an index from
/// `spec.ordinals.start` (start 5, partition 2: from ordinal 7 up, docs/scenarios.md), so the
/// pods it replaces are named by ordinal, and a partition at or above `replicas` replaces none
/// (Kubernetes, StatefulSets "Partitioned rolling updates": a partition greater than replicas
/// propagates no update to the pods).
fn partitioned(s: &StatefulSet, ns: &str, name: &str, partition: i32) -> String {
    let replicas = (s.spec.as_ref().and_then(|s| s.replicas))
        .unwrap_or(1)
        .max(0);
    let start = i64::try_from(stateful_start(s)).unwrap_or(i64::MAX);
    if partition >= replicas {
        return format!(
            "StatefulSet {ns}/{name} replaces no pod: its partition {partition} is at or above its {replicas} replicas (a pod deleted comes back from the template before the edit: lower rollingUpdate.partition to roll it out)"
        );
    }
    let (first, last) = (
        start + i64::from(partition),
        start + i64::from(replicas) - 1,
    );
    format!(
        "StatefulSet {ns}/{name} replaces its pods one at a time from the highest ordinal, {name}-{last} down to {name}-{first} (partition {partition}): those below keep their template"
    )
}

/// What happens when a deleted owner is created again by a repair.
pub(super) fn recreated(wk: &WorkloadKey) -> String {
    let (kind, ns, name) = wk;
    match kind.as_str() {
        "Job" => format!("Job {ns}/{name} created again: it runs a new pod"),
        "Pod" => format!(
            "Pod {ns}/{name} created again from its saved manifest (nothing recreates a bare pod by itself)"
        ),
        _ => format!("{kind} {ns}/{name} created again: its controller makes new pods"),
    }
}

/// A bare pod as `kubectl get pod -o yaml` saves it for re-creating: its labels, annotations
/// and the admitted spec (its node and the webhook's injections kept: admission adds nothing
/// twice), without what the API server sets on a new object.
pub(super) fn saved_manifest(p: &LabPod) -> Pod {
    let mut meta = p.meta.clone();
    meta.labels = Some((*p.labels).clone());
    meta.uid = None;
    meta.creation_timestamp = None;
    meta.deletion_timestamp = None;
    meta.deletion_grace_period_seconds = None;
    meta.resource_version = None;
    Pod {
        metadata: meta,
        spec: p.spec.as_deref().cloned(),
        status: None,
    }
}
