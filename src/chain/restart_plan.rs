//! What "restart this pod" means, decided from observations alone.
//!
//! Restart is offered on the pod row, and what it does depends on what owns the pod. Only a
//! Deployment, StatefulSet or DaemonSet is restarted the way `kubectl rollout restart` does it
//! (a new template annotation, every replica replaced) — for a Deployment only when it is not
//! paused, for a StatefulSet or DaemonSet only when its update strategy replaces this pod (and
//! for an OrderedReady StatefulSet only when this pod is not stuck: its rollout would wait for
//! it). An Argo Rollout is restarted through its
//! `spec.restartAt`, as `kubectl argo rollouts restart` does. Any other owner (a Job, a bare
//! ReplicaSet, an operator's resource) gets the pod deleted for it to make a new one. A mirror
//! pod cannot be restarted from the API at all, and a bare pod deleted is lost. The same plan
//! is confirmed, carried out (live and lab), followed by the timeline, and written as a fix.

use crate::snapshot::{JobObs, PodObs, Snapshot, WorkloadObs};

pub use lookup::{Lookup, Scan, SetPods, controller, owner};

/// Set by the kubelet on the API's copy of a static pod.
pub use crate::snapshot::MIRROR_ANNOTATION;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RestartPlan {
    /// Patch the owner's pod template with `kubectl.kubernetes.io/restartedAt`.
    RolloutRestart {
        namespace: String,
        kind: String,
        name: String,
        /// What the restart leaves out (a StatefulSet's partition), or what is not known.
        note: Option<String>,
    },
    /// Set the Argo Rollout's `spec.restartAt`: its controller deletes the pods one at a time.
    ArgoRestart { namespace: String, name: String },
    /// Delete the pod; its owner makes a new one.
    DeleteOwnedPod {
        namespace: String,
        pod: String,
        /// `Kind/name` of the controller that replaces the pod.
        owner: String,
        /// Why deleting rather than a rollout restart, and what the deletion costs.
        note: Option<String>,
    },
    /// Delete a pod nothing owns: nothing recreates it.
    DeleteBarePod { namespace: String, pod: String },
    /// Nothing the API offers restarts this pod: nothing is done.
    Refused {
        namespace: String,
        pod: String,
        why: String,
    },
}

impl RestartPlan {
    /// The plan for one pod, the snapshot searched for its owner and the owner's pods.
    pub fn for_pod(s: &Snapshot, pod: &PodObs) -> RestartPlan {
        Self::for_pod_in(s, &Scan::new(s), pod)
    }

    /// The plan for `pod`, its owner and the owner's pods looked up through `look` (the
    /// diagnosis's index, for the fixes of every chain).
    pub fn for_pod_in<'s>(s: &Snapshot, look: &impl Lookup<'s>, pod: &PodObs) -> RestartPlan {
        let ns = pod.namespace.to_string();
        let pod_name = pod.name.to_string();
        let owner = pod
            .owners
            .iter()
            .find(|o| o.controller)
            .or(pod.owners.first());
        if let Some(why) = mirror(pod) {
            return RestartPlan::Refused {
                namespace: ns,
                pod: pod_name,
                why,
            };
        }
        let Some(owner) = owner else {
            return RestartPlan::DeleteBarePod {
                namespace: ns,
                pod: pod_name,
            };
        };
        let object = |kind: &str, name: &str| look.workload(&ns, kind, name);
        let delete = |note: Option<String>| RestartPlan::DeleteOwnedPod {
            namespace: ns.clone(),
            pod: pod_name.clone(),
            owner: format!("{}/{}", owner.kind, owner.name),
            note,
        };
        let (kind, name) = (owner.kind.as_str(), owner.name.as_str());
        // A Deployment's rollout restart, unless it is paused: then the pod is deleted and
        // its ReplicaSet makes a new one.
        let deployment = |d: &str| match paused(s, object("Deployment", d), &ns, d) {
            Pause::Paused(why) => delete(Some(why)),
            Pause::Running(note) => RestartPlan::RolloutRestart {
                namespace: ns.clone(),
                kind: "Deployment".into(),
                name: d.to_string(),
                note,
            },
        };
        match kind {
            "Deployment" => deployment(name),
            // Being deleted already: the set makes it again once it is gone (a StatefulSet
            // under the same name), so the delete a plan would carry out is under way.
            "StatefulSet" | "DaemonSet" if pod.deleting => RestartPlan::Refused {
                namespace: ns.clone(),
                pod: pod_name.clone(),
                why: format!(
                    "pod {ns}/{pod_name} is being deleted already: its {kind} {name} makes {}, which reads the Secret as it is then",
                    match kind {
                        "StatefulSet" => "it again under the same name once it is gone",
                        // The DaemonSet controller skips a terminating pod when it counts a
                        // node's daemon pods: the new one may come before the old is gone.
                        _ => "a new one for its node",
                    }
                ),
            },
            "StatefulSet" | "DaemonSet" => {
                match held_back(look, kind, name, pod, object(kind, name)) {
                    Held::No(note) => RestartPlan::RolloutRestart {
                        namespace: ns.clone(),
                        kind: kind.to_string(),
                        name: name.to_string(),
                        note,
                    },
                    Held::Yes(why) => delete(Some(why)),
                }
            }
            "ReplicaSet" => match replica_set_owner(s, pod, name, object(kind, name)) {
                Some(Top::Deployment(d)) => deployment(d),
                Some(Top::Rollout(r)) => RestartPlan::ArgoRestart {
                    namespace: ns.clone(),
                    name: r.to_string(),
                },
                Some(Top::Other(k, n)) => delete(Some(format!(
                    "ReplicaSet {name} is controlled by {k}/{n} (not a Deployment): deleting the pod is the restart"
                ))),
                None => delete(None),
            },
            "Job" => match pod.phase.as_str() {
                "Succeeded" | "Failed" => RestartPlan::Refused {
                    namespace: ns.clone(),
                    pod: pod_name.clone(),
                    why: format!(
                        "pod {ns}/{pod_name} of Job {name} has finished ({}): deleting it starts nothing, the Job does not run it again",
                        pod.phase
                    ),
                },
                // Its failures at the limit: the delete ends the Job, no new pod comes.
                _ => match object("Job", name).and_then(|j| j.job.as_ref()) {
                    Some(job) if job.one_failure_from_the_end() => RestartPlan::Refused {
                        namespace: ns.clone(),
                        pod: pod_name.clone(),
                        why: ends_job(name, job),
                    },
                    job => delete(Some(job_cost(name, job))),
                },
            },
            _ => delete(Some(format!(
                "{kind} is not a built-in workload: its operator is expected to make the new pod; if it does not, nothing does"
            ))),
        }
    }

    /// The exact operation, spelled out for the confirmation dialog.
    pub fn confirmation(&self) -> String {
        match self {
            RestartPlan::RolloutRestart {
                namespace,
                kind,
                name,
                note,
            } => {
                let effect = note
                    .clone()
                    .unwrap_or_else(|| "Every replica is replaced.".into());
                format!(
                    "Rollout restart {kind} {namespace}/{name}: patch its pod template with kubectl.kubernetes.io/restartedAt (like `kubectl rollout restart {} {name} -n {namespace}`). {effect}",
                    kind.to_lowercase()
                )
            }
            RestartPlan::ArgoRestart { namespace, name } => format!(
                "Restart Argo Rollout {namespace}/{name}: set its spec.restartAt to now (like `kubectl argo rollouts restart {name} -n {namespace}`); the Rollout's controller deletes its pods one at a time and their ReplicaSets make new ones."
            ),
            RestartPlan::DeleteOwnedPod {
                namespace,
                pod,
                owner,
                note,
            } => {
                let note = note
                    .as_deref()
                    .map(|n| format!(" {n}."))
                    .unwrap_or_default();
                format!(
                    "Delete pod {namespace}/{pod}; its controller {owner} makes a new one.{note}"
                )
            }
            RestartPlan::DeleteBarePod { namespace, pod } => format!(
                "Delete pod {namespace}/{pod}. WARNING: it has no owner — nothing recreates it: the pod is lost."
            ),
            RestartPlan::Refused { why, .. } => format!("Not restarted: {why}."),
        }
    }

    /// The command a fix gives for this restart: what the action does, pasted.
    pub fn command(&self) -> String {
        match self {
            RestartPlan::RolloutRestart {
                namespace,
                kind,
                name,
                note,
            } => {
                let note = note
                    .as_deref()
                    .map(|n| format!("  # {n}"))
                    .unwrap_or_default();
                format!(
                    "kubectl rollout restart {}/{name} -n {namespace}{note}",
                    kind.to_ascii_lowercase()
                )
            }
            RestartPlan::ArgoRestart { namespace, name } => format!(
                "kubectl patch rollout.argoproj.io {name} -n {namespace} --type merge -p \"{{\\\"spec\\\":{{\\\"restartAt\\\":\\\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\\\"}}}}\"  # what kubectl argo rollouts restart does"
            ),
            RestartPlan::DeleteOwnedPod {
                namespace,
                pod,
                owner,
                note,
            } => {
                let (kind, name) = owner.split_once('/').unwrap_or((owner, ""));
                let note = note
                    .as_deref()
                    .map(|n| format!("; {n}"))
                    .unwrap_or_default();
                format!(
                    "kubectl delete pod {pod} -n {namespace}  # its {kind} {name} starts a new one{note}"
                )
            }
            RestartPlan::DeleteBarePod { namespace, pod } => format!(
                "{}  # recreates the pod: nothing owns it",
                recreate_bare_pod(namespace, pod)
            ),
            RestartPlan::Refused { why, .. } => format!("# not restartable from the API: {why}"),
        }
    }

    /// What the restart writes, as a SelfSubjectAccessReview names it: (verb, API group,
    /// resource, namespace, name). The review names the object, so its answer holds for that
    /// object only (RBAC `resourceNames` may allow one Deployment and not its neighbour).
    /// None when the plan writes nothing.
    pub fn review_target(&self) -> Option<(&'static str, &'static str, &'static str, &str, &str)> {
        match self {
            RestartPlan::RolloutRestart {
                namespace,
                kind,
                name,
                ..
            } => Some(("patch", "apps", rollout_plural(kind), namespace, name)),
            RestartPlan::ArgoRestart { namespace, name } => {
                Some(("patch", "argoproj.io", "rollouts", namespace, name))
            }
            RestartPlan::DeleteOwnedPod { namespace, pod, .. }
            | RestartPlan::DeleteBarePod { namespace, pod } => {
                Some(("delete", "", "pods", namespace, pod))
            }
            RestartPlan::Refused { .. } => None,
        }
    }

    /// The owner whose new pods replace the old one (for the restart timeline).
    pub fn replacing_owner(&self) -> Option<(String, String)> {
        match self {
            RestartPlan::RolloutRestart { kind, name, .. } => Some((kind.clone(), name.clone())),
            RestartPlan::ArgoRestart { name, .. } => Some(("Rollout".into(), name.clone())),
            RestartPlan::DeleteOwnedPod { owner, .. } => owner
                .split_once('/')
                .map(|(k, n)| (k.to_string(), n.to_string())),
            RestartPlan::DeleteBarePod { .. } | RestartPlan::Refused { .. } => None,
        }
    }

    /// Only the deleted pod is replaced (its siblings are left alone).
    pub fn replaces_one_pod(&self) -> bool {
        matches!(self, RestartPlan::DeleteOwnedPod { .. })
    }

    /// How the restart timeline names it.
    pub fn title(&self) -> String {
        match self {
            RestartPlan::RolloutRestart { kind, name, .. } => {
                format!("rollout restart of {kind}/{name}")
            }
            RestartPlan::ArgoRestart { name, .. } => {
                format!("restart of Rollout/{name} (spec.restartAt)")
            }
            RestartPlan::DeleteOwnedPod { pod, owner, .. } => {
                format!("delete of pod {pod} ({owner} makes a new one)")
            }
            RestartPlan::DeleteBarePod { pod, .. } => format!("delete of bare pod {pod}"),
            RestartPlan::Refused { pod, .. } => format!("no restart of pod {pod}"),
        }
    }
}

/// The command that restarts a bare pod: replaced from its own manifest, as nothing recreates
/// a deleted one.
fn recreate_bare_pod(namespace: &str, pod: &str) -> String {
    format!("kubectl get pod {pod} -n {namespace} -o yaml | kubectl replace --force -f -")
}

/// Why a mirror pod is not restarted, if `pod` is one: the kubelet runs the static pod from
/// a manifest on its node and only mirrors it to the API, so deleting the mirror stops
/// nothing and the kubelet posts it again.
fn mirror(pod: &PodObs) -> Option<String> {
    let node = pod.static_node()?;
    Some(format!(
        "pod {}/{} is the mirror of a static pod on node {} (annotation {MIRROR_ANNOTATION}): deleting it does not restart the static pod, the kubelet posts the mirror again. Restart it on the node, by editing (or moving out and back) its manifest in the kubelet's staticPodPath (often /etc/kubernetes/manifests)",
        pod.namespace, pod.name, node
    ))
}

/// What deleting a running Job pod costs: the Job controller counts a pod deleted before it
/// succeeded as failed, against `backoffLimit` (Kubernetes docs, Job "Pod backoff failure
/// policy"). A plain delete sets no `DisruptionTarget` condition (only evictions, preemption,
/// taint and GC deletions do), so a podFailurePolicy that ignores disruptions does not spare it.
fn job_cost(job: &str, known: Option<&JobObs>) -> String {
    const PLAIN: &str = "A podFailurePolicy ignoring DisruptionTarget does not cover a plain delete (only an eviction sets that condition)";
    match known {
        Some(j) => format!(
            "Job {job} counts the deleted pod as a failure: {} of the {} its backoffLimit allows before the Job fails. {PLAIN}",
            j.failed.saturating_add(1),
            j.backoff_limit
        ),
        None => format!(
            "Job {job} counts the deleted pod as a failure against its backoffLimit (6 unless the Job sets it; not read): past the limit the Job fails and makes no new pod. {PLAIN}"
        ),
    }
}

/// Why a running pod of a Job whose failures are at its `backoffLimit` is not deleted: the
/// Job controller counts the delete as a failure past the limit, so the Job fails and makes
/// no new pod (audit ZZ2).
fn ends_job(job: &str, j: &JobObs) -> String {
    format!(
        "deleting it ends Job {job}: its backoffLimit is {} and it has counted {} failed pods so far, so the Job controller counts the deleted pod as one failure too many, marks the Job failed (BackoffLimitExceeded) and makes no new pod; re-create Job {job} from its manifest to run it again",
        j.backoff_limit, j.failed
    )
}

enum Held {
    /// A rollout restart replaces this pod (with what it leaves out, or what is not known).
    No(Option<String>),
    /// A rollout restart would not replace this pod: why, and that it is deleted instead.
    Yes(String),
}

enum Pause {
    /// Not paused as far as is known: a rollout restart replaces every replica (with what is
    /// not known about it).
    Running(Option<String>),
    /// Paused: why the pod is deleted instead, and how to restart every replica.
    Paused(String),
}

/// Whether Deployment `name` is paused (`spec.paused`). kubectl refuses to rollout-restart a
/// paused Deployment ("can't restart paused deployment (run rollout resume first)"), and the
/// patch itself, made through the API, rolls nothing: the deployment controller only syncs a
/// paused Deployment's scale, it makes no new ReplicaSet for a changed template. Its
/// ReplicaSets still keep their replica counts, so a deleted pod is made again.
fn paused(s: &Snapshot, found: Option<&WorkloadObs>, ns: &str, name: &str) -> Pause {
    match found {
        Some(d) if d.paused => Pause::Paused(format!(
            "Deployment {name} is paused (spec.paused): kubectl rollout restart refuses it and a template change rolls nothing until it is resumed; its ReplicaSet still replaces a deleted pod (the other replicas keep running). To restart every replica: kubectl rollout resume deployment/{name} -n {ns} && kubectl rollout restart deployment/{name} -n {ns} (resuming also rolls out whatever template change the pause held back)"
        )),
        // Recreate stops every old pod before it makes a new one: the restart is an outage
        // until the new pods are ready, which the confirmation and the fix say.
        Some(d) if d.recreate => Pause::Running(Some(recreate_note(name))),
        Some(_) => Pause::Running(None),
        // Unknown is not "not paused": say what the restart depends on.
        None => Pause::Running(s.workloads.unknown_in(ns).map(|_| {
            format!(
                "Every replica is replaced, unless Deployment {name} is paused: that is not known (Deployments not read), and kubectl refuses to restart a paused Deployment (resume it first, or delete the pod for its ReplicaSet to make a new one)."
            )
        })),
    }
}

/// What a rollout restart of Deployment `name` under `strategy.type: Recreate` does: Kubernetes
/// docs (Deployments, "Recreate Deployment") "All existing Pods are killed before new ones are
/// created".
pub(crate) fn recreate_note(name: &str) -> String {
    format!(
        "Deployment {name} has strategy Recreate: the rollout stops every replica before it starts any new one, so it serves nothing until the new pods are ready"
    )
}

/// Whether the update strategy of StatefulSet/DaemonSet `name` keeps a rollout restart from
/// replacing `pod`: `OnDelete` replaces no pod, a StatefulSet's partition none below it, and
/// an OrderedReady StatefulSet none while one of its pods is not Running and Ready
/// ([`ordered`]): this pod (deleting it replaces it) or another (the rollout waits for it).
/// A DaemonSet's rolling update says it goes node by node and where it would stop ([`daemon`]).
fn held_back<'s>(
    look: &impl Lookup<'s>,
    kind: &str,
    name: &str,
    pod: &PodObs,
    object: Option<&WorkloadObs>,
) -> Held {
    let stateful = kind == "StatefulSet";
    let ns = pod.namespace.as_str();
    let pods = look.set_pods(ns, kind, name);
    let Some(update) = object.and_then(|w| w.update.as_ref()) else {
        // OrderedReady is the default: a pod stuck is replaced by deleting it whatever the
        // set's strategy.
        if let Some(why) = ordered::unready(pod).filter(|_| stateful) {
            return Held::Yes(ordered::waits_for_itself(name, &pod.name, &why, false));
        }
        let unknown = format!(
            "{kind} {name}'s updateStrategy is not known (not observed): under OnDelete, or a partition above this pod's ordinal, the restart replaces no pod"
        );
        return Held::No(Some(match stateful {
            true => unknown,
            false => format!(
                "{unknown}. {}",
                daemon::rollout(name, &pods, false).join(" ")
            ),
        }));
    };
    let replicas = object.and_then(|w| w.replicas);
    // The pods of an OrderedReady StatefulSet it waits on.
    let ordered_ready = stateful && !update.parallel;
    let stuck = match ordered_ready {
        true => ordered::stuck(&pods, update, replicas),
        false => Vec::new(),
    };
    // A delete says when the StatefulSet will not make the pod again yet.
    let delete = |why: String| {
        Held::Yes(match ordered::held_below(name, &pod.name, &stuck) {
            Some(below) => format!("{why}. {below}"),
            None => why,
        })
    };
    if update.on_delete {
        return delete(format!(
            "{kind} {name} has updateStrategy OnDelete: a rollout restart changes its template and replaces no pod; the deleted pod comes back from the current template"
        ));
    }
    let mut notes = Vec::new();
    if let Some(partition) = update.partition {
        // The partition counts replicas from ordinals.start: ordinals from start + partition
        // are replaced (UpdateObs::updated_from).
        let (from, said) = (
            update.updated_from(),
            ordered::partition_said(partition, update.start),
        );
        match ordered::ordinal(name, &pod.name) {
            Some(i) if i < from => return delete(ordered::below_partition(i, name, &said, from)),
            _ => notes.push(ordered::partition_keeps(from, &said)),
        }
    }
    if let Some((_, _, why)) = stuck.iter().find(|(_, p, _)| *p == pod.name) {
        return delete(ordered::waits_for_itself(name, &pod.name, why, true));
    }
    if let Some((_, other, why)) = stuck.first() {
        notes.push(ordered::waits_for_other(name, other, why));
    } else if ordered_ready {
        notes.extend(ordered::readiness_unknown(name, &pods, update, replicas));
    }
    if !stateful {
        notes.extend(daemon::rollout(name, &pods, true));
    }
    Held::No((!notes.is_empty()).then(|| notes.join(" ")))
}

enum Top<'a> {
    Deployment(&'a str),
    Rollout(&'a str),
    Other(&'a str, &'a str),
}

/// The controller above ReplicaSet `rs`: from the observed ReplicaSet, else from the naming
/// conventions (`<owner>-<hash>`: the Deployment's `pod-template-hash`, an Argo Rollout's
/// `rollouts-pod-template-hash`). None: a bare ReplicaSet, or nothing says otherwise.
fn replica_set_owner<'a>(
    s: &Snapshot,
    pod: &'a PodObs,
    rs: &'a str,
    object: Option<&'a WorkloadObs>,
) -> Option<Top<'a>> {
    if let Some(o) = object {
        let up = o
            .owners
            .iter()
            .find(|o| o.controller)
            .or(o.owners.first())?;
        return Some(match up.kind.as_str() {
            "Deployment" => Top::Deployment(&up.name),
            // Argo's own ReplicaSets carry its hash label; a Rollout of another API group
            // would not.
            "Rollout" if pod.labels.contains_key("rollouts-pod-template-hash") => {
                Top::Rollout(&up.name)
            }
            other => Top::Other(other, &up.name),
        });
    }
    let by_label = |label: &str| {
        let hash = pod.labels.get(label)?;
        rs.strip_suffix(hash.as_str())?.strip_suffix('-')
    };
    if let Some(r) = by_label("rollouts-pod-template-hash") {
        return Some(Top::Rollout(r));
    }
    if let Some(d) = by_label("pod-template-hash") {
        return Some(Top::Deployment(d));
    }
    // ReplicaSets not visible and no label: the same convention as the chain's workload.
    if s.workloads.gaps.is_empty() {
        return None;
    }
    let (dep, hash) = rs.rsplit_once('-')?;
    (hash.len() >= 5 && hash.chars().all(|c| c.is_ascii_alphanumeric()))
        .then_some(Top::Deployment(dep))
}

/// The resource a rollout restart patches, as RBAC spells it.
pub fn rollout_plural(kind: &str) -> &'static str {
    match kind {
        "StatefulSet" => "statefulsets",
        "DaemonSet" => "daemonsets",
        _ => "deployments",
    }
}

mod advice;
mod daemon;
mod lookup;
mod ordered;
pub(crate) use daemon::rollout as daemon_rollout;
pub(crate) use ordered::{below_partition, ordinal, partition_keeps, partition_said, stuck};
#[cfg(test)]
mod ready_tests;
#[cfg(test)]
mod tests;
