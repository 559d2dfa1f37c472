//! What each owner kind does with a fault that changes its pods (a template edit, the owner
//! deleted and made again), said as its controller does it: a trainer's status line must not
//! promise a replacement that does not come (Kubernetes: a Deployment rolls out, a StatefulSet
//! replaces its pods one at a time from the highest ordinal, a DaemonSet node by node, neither
//! under `OnDelete`; a Job's pod template is immutable; nothing recreates a bare pod).

use k8s_openapi::api::core::v1::Pod;

use crate::source::lab::world::{LabPod, Workload, WorkloadKey};

/// `(OnDelete, partition)` of a StatefulSet's or DaemonSet's `updateStrategy`.
fn strategy(w: &Workload) -> (bool, i32) {
    let (kind, partition) = match w {
        Workload::StatefulSet(s) => {
            let u = s.spec.as_ref().and_then(|s| s.update_strategy.as_ref());
            let partition = u.and_then(|u| u.rolling_update.as_ref()?.partition);
            (u.and_then(|u| u.type_.clone()), partition.unwrap_or(0))
        }
        Workload::DaemonSet(d) => {
            let u = d.spec.as_ref().and_then(|s| s.update_strategy.as_ref());
            (u.and_then(|u| u.type_.clone()), 0)
        }
        _ => (None, 0),
    };
    (kind.as_deref() == Some("OnDelete"), partition)
}

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
    let (on_delete, partition) = strategy(w);
    if on_delete {
        return format!(
            "{kind} {ns}/{name} is OnDelete: no pod is replaced until deleted (R on each)"
        );
    }
    match w {
        Workload::StatefulSet(_) if partition > 0 => format!(
            "StatefulSet {ns}/{name} replaces its pods one at a time from the highest ordinal, only those at or above partition {partition}"
        ),
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
