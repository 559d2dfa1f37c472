//! What each owner kind does with a fault that changes its pods (a template edit, the owner
//! deleted and made again), said as its controller does it: a trainer's status line must not
//! promise a replacement that does not come (Kubernetes: a Deployment rolls out, a StatefulSet
//! replaces its pods one at a time from the highest ordinal, a DaemonSet node by node, neither
//! under `OnDelete`; a Job's pod template is immutable; nothing recreates a bare pod).

use k8s_openapi::api::core::v1::Pod;

use crate::source::lab::world::{LabPod, Workload, WorkloadKey};

/// `kubectl` names a kind in lower case (`statefulset/web`).
fn lower(kind: &str) -> String {
    kind.to_ascii_lowercase()
}

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
            "Job {ns}/{name}: its pod template is immutable (the API server answers `spec.template: field is immutable`), so no label can be removed from it; a Job is changed only by deleting it and creating it again"
        )),
        "Pod" => Some(format!(
            "Pod {ns}/{name} is a bare pod: the workload-identity webhook mutates a pod on CREATE only, so removing the label from it changes nothing it holds, and nothing recreates it without the label"
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
            "{kind} {ns}/{name} has updateStrategy OnDelete: no pod is replaced until it is deleted (R on each pod, or kubectl delete pod -n {ns} -l …), so its running pods keep the template they were made from"
        );
    }
    match w {
        Workload::StatefulSet(_) if partition > 0 => format!(
            "StatefulSet {ns}/{name} replaces its pods one at a time from the highest ordinal, only ordinals at or above its partition {partition}; the others keep the template they were made from"
        ),
        Workload::StatefulSet(_) => format!(
            "StatefulSet {ns}/{name} replaces its pods one at a time from the highest ordinal, each once the one before runs"
        ),
        Workload::DaemonSet(_) => format!(
            "DaemonSet {ns}/{name} replaces its pods node by node (the old pod goes, then the new one is made)"
        ),
        _ => format!("{} {ns}/{name} rolls out its pods", w.kind()),
    }
}

/// What happens when a deleted owner is created again by a repair.
pub(super) fn recreated(wk: &WorkloadKey) -> String {
    let (kind, ns, name) = wk;
    match kind.as_str() {
        "Job" => format!(
            "Job {ns}/{name} created again: a new Job runs its pod again from the start (`kubectl get job {name} -n {ns}`)"
        ),
        "Pod" => format!(
            "Pod {ns}/{name} created again from its saved manifest, as `kubectl get pod {name} -n {ns} -o yaml | kubectl replace --force -f -` does: nothing recreates a bare pod by itself"
        ),
        _ => format!(
            "{kind} {ns}/{name} created again: its controller makes new pods (`kubectl rollout status {}/{name} -n {ns}`)",
            lower(kind)
        ),
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
