//! What "restart this pod" means, decided from observations alone.
//!
//! Restart is offered on the pod row, but a controller-owned pod is restarted the way
//! `kubectl rollout restart` does it — on its top-level owner — so the pod template is
//! rolled and every replica gets fresh env values. A bare pod can only be deleted.

use crate::snapshot::{Name, PodObs, Snapshot};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RestartPlan {
    /// Patch the owner's pod template with `kubectl.kubernetes.io/restartedAt`.
    RolloutRestart {
        namespace: String,
        kind: String,
        name: String,
    },
    /// Delete the pod; its owner (ReplicaSet without Deployment, Job) recreates it.
    DeleteOwnedPod {
        namespace: String,
        pod: String,
        owner: String,
    },
    /// Delete a pod nothing owns: nothing recreates it.
    DeleteBarePod { namespace: String, pod: String },
}

impl RestartPlan {
    pub fn for_pod(s: &Snapshot, pod: &PodObs) -> RestartPlan {
        let ns = pod.namespace.clone();
        let Some(owner) = pod
            .owners
            .iter()
            .find(|o| o.controller)
            .or(pod.owners.first())
        else {
            return RestartPlan::DeleteBarePod {
                namespace: ns.to_string(),
                pod: pod.name.to_string(),
            };
        };
        if matches!(
            owner.kind.as_str(),
            "Deployment" | "StatefulSet" | "DaemonSet"
        ) {
            return RestartPlan::RolloutRestart {
                namespace: ns.to_string(),
                kind: owner.kind.to_string(),
                name: owner.name.to_string(),
            };
        }
        if owner.kind == "ReplicaSet" {
            let deployment = s
                .workloads
                .items
                .iter()
                .find(|w| w.namespace == ns && w.kind == "ReplicaSet" && w.name == owner.name)
                .and_then(|rs| rs.owners.iter().find(|o| o.kind == "Deployment"))
                .map(|d| d.name.clone())
                // Workloads may be unobserved: the pod-template-hash naming convention still
                // tells us the Deployment (`<deployment>-<hash>`).
                .or_else(|| {
                    let hash = pod.labels.get("pod-template-hash")?;
                    owner.name.strip_suffix(&format!("-{hash}")).map(Name::from)
                });
            if let Some(name) = deployment {
                return RestartPlan::RolloutRestart {
                    namespace: ns.to_string(),
                    kind: "Deployment".into(),
                    name: name.to_string(),
                };
            }
        }
        RestartPlan::DeleteOwnedPod {
            namespace: ns.to_string(),
            pod: pod.name.to_string(),
            owner: format!("{}/{}", owner.kind, owner.name),
        }
    }

    /// The exact operation, spelled out for the confirmation dialog.
    pub fn confirmation(&self) -> String {
        match self {
            RestartPlan::RolloutRestart {
                namespace,
                kind,
                name,
            } => format!(
                "Rollout restart {kind} {namespace}/{name}: patch its pod template with kubectl.kubernetes.io/restartedAt (like `kubectl rollout restart {} {name} -n {namespace}`). Every replica is replaced.",
                kind.to_lowercase()
            ),
            RestartPlan::DeleteOwnedPod {
                namespace,
                pod,
                owner,
            } => {
                format!("Delete pod {namespace}/{pod}; its owner {owner} recreates it.")
            }
            RestartPlan::DeleteBarePod { namespace, pod } => format!(
                "Delete pod {namespace}/{pod}. WARNING: it has no owner — nothing recreates it."
            ),
        }
    }

    /// What the restart writes, as a SelfSubjectAccessReview names it: (verb, API group,
    /// resource, namespace, name). The review names the object, so its answer holds for that
    /// object only (RBAC `resourceNames` may allow one Deployment and not its neighbour).
    pub fn review_target(&self) -> (&'static str, &'static str, &'static str, &str, &str) {
        match self {
            RestartPlan::RolloutRestart {
                namespace,
                kind,
                name,
            } => ("patch", "apps", rollout_plural(kind), namespace, name),
            RestartPlan::DeleteOwnedPod { namespace, pod, .. }
            | RestartPlan::DeleteBarePod { namespace, pod } => {
                ("delete", "", "pods", namespace, pod)
            }
        }
    }

    /// The owner whose new pods replace the old one (for the restart timeline).
    pub fn replacing_owner(&self) -> Option<(String, String)> {
        match self {
            RestartPlan::RolloutRestart { kind, name, .. } => Some((kind.clone(), name.clone())),
            RestartPlan::DeleteOwnedPod { owner, .. } => owner
                .split_once('/')
                .map(|(k, n)| (k.to_string(), n.to_string())),
            RestartPlan::DeleteBarePod { .. } => None,
        }
    }
}

/// The resource a rollout restart patches, as RBAC spells it.
pub fn rollout_plural(kind: &str) -> &'static str {
    match kind {
        "StatefulSet" => "statefulsets",
        "DaemonSet" => "daemonsets",
        _ => "deployments",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{Coll, OwnerRef, WorkloadObs};

    fn owned(kind: &str, name: &str) -> PodObs {
        PodObs {
            namespace: "pay".into(),
            name: "web-6d9-abcde".into(),
            owners: vec![OwnerRef {
                kind: kind.into(),
                name: name.into(),
                uid: Default::default(),
                controller: true,
            }],
            labels: [("pod-template-hash".to_string(), "6d9".to_string())].into(),
            ..Default::default()
        }
    }

    #[test]
    fn replica_set_pod_restarts_its_deployment() {
        let s = Snapshot {
            workloads: Coll::known(vec![WorkloadObs {
                kind: "ReplicaSet".into(),
                namespace: "pay".into(),
                name: "web-6d9".into(),
                owners: vec![OwnerRef {
                    kind: "Deployment".into(),
                    name: "web".into(),
                    uid: Default::default(),
                    controller: true,
                }],
                ..Default::default()
            }]),
            ..Default::default()
        };
        let plan = RestartPlan::for_pod(&s, &owned("ReplicaSet", "web-6d9"));
        assert_eq!(
            plan,
            RestartPlan::RolloutRestart {
                namespace: "pay".into(),
                kind: "Deployment".into(),
                name: "web".into()
            }
        );
        assert!(
            plan.confirmation()
                .contains("kubectl rollout restart deployment web -n pay")
        );
    }

    #[test]
    fn deployment_is_found_from_template_hash_when_workloads_are_unknown() {
        let s = Snapshot::default();
        let plan = RestartPlan::for_pod(&s, &owned("ReplicaSet", "web-6d9"));
        assert_eq!(
            plan.replacing_owner(),
            Some(("Deployment".into(), "web".into()))
        );
    }

    #[test]
    fn bare_pod_is_deleted_with_a_warning_and_job_pod_is_deleted() {
        let s = Snapshot::default();
        let bare = PodObs {
            namespace: "pay".into(),
            name: "debug".into(),
            ..Default::default()
        };
        let plan = RestartPlan::for_pod(&s, &bare);
        assert!(matches!(plan, RestartPlan::DeleteBarePod { .. }));
        assert!(plan.confirmation().contains("nothing recreates it"));
        assert_eq!(plan.replacing_owner(), None);
        let job = RestartPlan::for_pod(&s, &owned("Job", "migrate"));
        assert!(
            matches!(job, RestartPlan::DeleteOwnedPod { ref owner, .. } if owner == "Job/migrate")
        );
    }
}
