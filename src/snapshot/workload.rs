//! Workloads as the chains read them: their kind, owners, annotations and pod template, and
//! how each kind replaces its pods (update strategy, rollout, a Job's state).

use serde::{Deserialize, Serialize};

use super::{Name, OwnerRef, PodObs, StrMap};

#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct WorkloadObs {
    /// Deployment | StatefulSet | DaemonSet | ReplicaSet | Job | CronJob
    pub kind: Name,
    pub namespace: Name,
    pub name: Name,
    #[serde(default)]
    pub uid: String,
    #[serde(default)]
    pub owners: Vec<OwnerRef>,
    #[serde(default)]
    pub annotations: StrMap,
    #[serde(default)]
    pub template_annotations: StrMap,
    #[serde(default)]
    pub replicas: Option<i32>,
    /// The pod template as the pod it would create, kept for Deployments, StatefulSets and
    /// DaemonSets whose template has a CSI volume: when none of its pods can be created
    /// (FailedCreate), the template is the only thing to diagnose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<Box<PodObs>>,
    /// How a StatefulSet or DaemonSet replaces its pods when its template changes: a
    /// `kubectl rollout restart` replaces none under `OnDelete`, and under a StatefulSet's
    /// partition only the ordinals at or above it. None when not read (or another kind).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<UpdateObs>,
    /// A DaemonSet's rollout as its status counts it (what `kubectl rollout status` reads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<RolloutObs>,
    /// A Deployment's `spec.paused`: its controller rolls out no template change (a rollout
    /// restart included, which kubectl refuses outright) until resumed; its ReplicaSets still
    /// replace deleted pods.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub paused: bool,
    /// A Deployment's `spec.strategy.type: Recreate`: its rollout (a rollout restart
    /// included) stops every old pod before it creates any new one, so the workload serves
    /// nothing until the new pods are ready (Kubernetes docs, Deployments, "Recreate").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub recreate: bool,
    /// The manifest file that defines it (`check -f` only): a Job, whose pod template cannot be changed, is re-created from that file, and the fix
    /// can name it (audit LL9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// `file` holds other objects too: the edit is made there, but the Job is re-created from
    /// its document alone, never by `apply -f` of the whole file (audit TT2).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub file_shared: bool,
    /// A Job's retry budget, when its spec was read (manifests, the lab; the live source
    /// watches Jobs' metadata only): what deleting one of its pods costs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<JobObs>,
    /// A Deployment whose pod template runs Stakater Reloader (its image), with what decides
    /// which Secrets it restarts workloads for: read so that "annotated for Reloader" is not
    /// taken for "restarted by Reloader" where no Reloader runs ([`super::ReloaderFacts`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reloader: Option<Box<super::ReloaderObs>>,
    /// A StatefulSet's pod-template CSI volumes that one of its `volumeClaimTemplates` of the
    /// same name replaces in every pod it makes (the controller's `updateStorage`: "If pod has
    /// conflicting local Volumes these are replaced with Volumes that conform to the set's
    /// templates"), as the template wrote them: no pod of the set ever mounts them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claim_replaced: Vec<super::VolumeObs>,
}

/// A Job's `spec.backoffLimit` (6 when unset) and `status.failed`: the Job controller counts a
/// pod deleted before it succeeded as failed, and once the failures exceed the limit the Job
/// fails and makes no new pod (Kubernetes docs, Job "Pod backoff failure policy").
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct JobObs {
    pub backoff_limit: i32,
    #[serde(default)]
    pub failed: i32,
}

impl JobObs {
    /// Whether one more failed pod ends the Job.
    pub fn one_failure_from_the_end(&self) -> bool {
        self.failed.saturating_add(1) > self.backoff_limit
    }

    /// Whether the Job has failed: its failures exceed the limit, so it makes no new pod.
    pub fn failed_for_good(&self) -> bool {
        self.failed > self.backoff_limit
    }
}

/// `spec.updateStrategy` of a StatefulSet or DaemonSet.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UpdateObs {
    /// `type: OnDelete`: a template change replaces no pod; a deleted pod comes back new.
    #[serde(default)]
    pub on_delete: bool,
    /// StatefulSet `rollingUpdate.partition` (above 0): pods with a lower ordinal are not
    /// replaced when the template changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<i32>,
    /// StatefulSet `podManagementPolicy: Parallel`. Otherwise (OrderedReady, the default) the
    /// controller does nothing while one of its pods is not Running and Ready: a rollout
    /// restart replaces no pod until that one is ready or deleted, and a deleted pod of a
    /// higher ordinal is not made again until then.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub parallel: bool,
    /// StatefulSet `spec.ordinals.start` (0 when unset): its replicas are the ordinals
    /// `[start, start + replicas)`, each pod named `<set>-<ordinal>`. The partition counts
    /// replicas from it, not ordinals from 0 (see [`UpdateObs::updated_from`]).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub start: i32,
}

fn is_zero(n: &i32) -> bool {
    *n == 0
}

impl UpdateObs {
    /// The lowest ordinal a StatefulSet's RollingUpdate replaces: `start + partition`. The
    /// controller compares the partition with a pod's index among its replicas (ordinal minus
    /// `ordinals.start`), not with its ordinal: `updateStatefulSet` loops over `replicas[target]`
    /// (filled at `getOrdinal(pod) - getStartOrdinal(set)`) down to `target >= partition`, and
    /// `newVersionedStatefulSetPod` gives the current revision to `ordinal < getStartOrdinal +
    /// partition` (kubernetes/kubernetes pkg/controller/statefulset). `start` without a
    /// partition: every ordinal from `start` is replaced.
    pub fn updated_from(&self) -> i32 {
        self.start
            .saturating_add(self.partition.unwrap_or(0).max(0))
    }

    /// Whether `ordinal` is one of the `replicas` (when known) ordinals from `start`: the pods
    /// the controller orders and waits on (others are condemned or not its own).
    pub fn replica(&self, ordinal: i32, replicas: Option<i32>) -> bool {
        // In i64: a start the API server would refuse (negative, from a file) must not
        // overflow the distance.
        let from_start = i64::from(ordinal) - i64::from(self.start);
        ordinal >= self.start && replicas.is_none_or(|n| from_start < i64::from(n))
    }
}

/// A DaemonSet's `metadata.generation` and rollout `status`.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RolloutObs {
    #[serde(default)]
    pub generation: Option<i64>,
    #[serde(default)]
    pub observed_generation: Option<i64>,
    #[serde(default)]
    pub desired: i32,
    /// Pods running the current template (`updatedNumberScheduled`).
    #[serde(default)]
    pub updated: i32,
    #[serde(default)]
    pub available: i32,
}

#[cfg(test)]
mod tests {
    use super::UpdateObs;

    /// A negative `ordinals.start` (the API server refuses it; a file or snapshot may hold
    /// it) counts replicas without overflowing: ordinal i32::MAX is 2^32 - 1 replicas past
    /// i32::MIN.
    #[test]
    fn a_replica_far_from_a_negative_start_does_not_overflow() {
        let u = UpdateObs {
            start: i32::MIN,
            ..UpdateObs::default()
        };
        assert!(!u.replica(i32::MAX, Some(3)));
        assert!(u.replica(i32::MIN + 2, Some(3)));
        assert!(!u.replica(i32::MIN + 3, Some(3)));
        assert!(u.replica(i32::MAX, None));
    }
}
