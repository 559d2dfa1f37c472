//! What pressing `R` does, for advice that names the key (the rotation timeline's "restart
//! needed"): told from the very plans `R` carries out, so the two cannot disagree (audit
//! VV2: "R restarts StatefulSet/x" where R deletes one pod; "R restarts Pod/x" where R
//! deletes a pod nothing recreates).

use super::RestartPlan;

impl RestartPlan {
    /// What `R` does on each of `plans` (one per pod that needs a restart), said once per
    /// owner: a rollout restart replaces every replica; a deleted pod is the only one
    /// replaced, so each other stale pod needs its own `R`; a bare pod is deleted and nothing
    /// recreates it; a refused plan does nothing.
    pub fn key_advice(plans: &[&RestartPlan]) -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut push = |p: String| {
            if !parts.contains(&p) {
                parts.push(p);
            }
        };
        // Owner → the pods R deletes one at a time, in the order met.
        let mut deleted: Vec<(&str, Vec<&str>)> = Vec::new();
        for plan in plans {
            match plan {
                RestartPlan::RolloutRestart { kind, name, .. } => {
                    push(format!("R restarts {kind}/{name}"))
                }
                RestartPlan::ArgoRestart { name, .. } => push(format!("R restarts Rollout/{name}")),
                RestartPlan::DeleteOwnedPod { pod, owner, .. } => {
                    match deleted.iter_mut().find(|(o, _)| o == owner) {
                        Some((_, pods)) if !pods.contains(&pod.as_str()) => pods.push(pod),
                        Some(_) => {}
                        None => deleted.push((owner, vec![pod])),
                    }
                }
                RestartPlan::DeleteBarePod { namespace, pod } => push(format!(
                    "R only deletes pod {pod} and nothing recreates it, as nothing owns it; recreate it instead with: {}",
                    super::recreate_bare_pod(namespace, pod)
                )),
                RestartPlan::Refused { pod, why, .. } => {
                    push(format!("R cannot restart pod {pod}: {why}"))
                }
            }
        }
        for (owner, pods) in deleted {
            push(match pods.as_slice() {
                [one] => format!(
                    "R deletes pod {one} only, and {owner} makes a new one; its other pods are not restarted"
                ),
                many => format!(
                    "R deletes only the pod it is pressed on, and {owner} makes a new one: pods {} each need their own R",
                    many.join(", ")
                ),
            });
        }
        parts.join("; ")
    }
}
