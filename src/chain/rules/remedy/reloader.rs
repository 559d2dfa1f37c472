//! KVC902's confirm and fix: what restarts env readers of the synced Secret when it rotates.
//! Stakater Reloader rolls the workloads it watches by changing their pod template (FACTS
//! §10), and the workload's controller decides what that replaces (Reloader's maintainers,
//! stakater/Reloader#135: "the pod restart automatically happens based on the update
//! strategy"): an annotation where it looks (a paused Deployment then resumed, for it rolls
//! no template change); under `OnDelete`, which replaces no pod for a template change, no
//! annotation but the pods deleted after each rotation; for any other owner the restart that
//! works for it, or reading the mounted file instead of env.

use super::paused::{Hold, hold_in};
use super::restart::delete_owner_pods;
use super::{restart, rolled_in_later};
use crate::chain::context::Ctx;
use crate::chain::rules::consumers::reloader_watches;

/// KVC902's (confirm, fix) for the chain's pod and owner.
pub(super) fn commands(cx: &Ctx) -> (String, String) {
    let ns = cx.ns();
    match cx.workload {
        // A pod nothing owns: the finding rests on its ownerReferences, and Reloader rolls a
        // workload's pod template (FACTS §10), which a bare pod has none of.
        None if !cx.template => (
            format!(
                "kubectl get pod {} -n {ns} -o jsonpath='{{.metadata.ownerReferences}}'",
                cx.pod.name
            ),
            format!(
                "{}  # after each rotation: nothing restarts a bare pod (Reloader rolls workloads); or run it from a Deployment, or read the mounted file instead of env",
                super::remount::recreate_bare(cx)
            ),
        ),
        // Reloader rolls Deployments, DaemonSets and StatefulSets (FACTS §10): a Job's pods
        // are never restarted by it, and an annotation there silences nothing but this.
        Some(("Job", _)) => (
            format!(
                "kubectl get {} -n {ns} -o jsonpath='{{.spec.template.spec.initContainers[*].env}} {{.spec.template.spec.containers[*].env}}'",
                cx.owner_kubectl()
            ),
            "# nothing to annotate: Reloader does not restart Jobs; a run keeps the value it started with and the next run reads the current one (read the mounted file instead of env if a run must see a rotation)".to_string(),
        ),
        // An owner Reloader does not watch (a bare ReplicaSet, an operator's resource, a
        // static pod's node): an annotation would restart nothing.
        Some((kind, _)) if !reloader_watches(kind) => unwatched(cx, kind),
        // Reloader's template change replaces no pod of an OnDelete owner: an annotation
        // restarts nothing there.
        _ if let Some(Hold::OnDelete(kind, name)) = hold_in(cx, cx.workload) => {
            on_delete_commands(cx, kind, name)
        }
        // Reloader restarts a workload by changing its pod template (FACTS §10): a paused
        // Deployment rolls that out only once resumed.
        _ => (
            format!(
                "kubectl get {} -n {ns} -o jsonpath='{{.metadata.annotations}}'",
                cx.owner_kubectl()
            ),
            rolled_in_later(
                cx,
                cx.workload,
                format!(
                    "kubectl annotate {} -n {ns} {} --overwrite  # needs Stakater Reloader in the cluster{}",
                    cx.owner_kubectl(),
                    // The key the Reloader acting on the namespace reads (`--auto-annotation`),
                    // overwritten: kubectl refuses to change a key the workload already holds
                    // (an `auto: "false"`) without --overwrite, and annotates nothing
                    // (audit XC-paste).
                    super::sh_word(&format!(
                        "{}=true",
                        crate::chain::rules::consumers::reloader_config(cx).auto
                    )),
                    match cx.workload {
                        Some(("Rollout", _)) => ", started with --is-Argo-Rollouts=true",
                        _ => "",
                    }
                ),
                "the template change Reloader makes at each rotation",
            ),
        ),
    }
}

/// KVC902 for StatefulSet or DaemonSet `kind/name` under `OnDelete`, annotated for Reloader or
/// not: Reloader's template change at a rotation replaces none of its pods, so what restarts
/// them is deleting them after each rotation (the delete a template edit of it ends with), or
/// an update strategy that rolls the change out, or reading the mounted file.
pub(crate) fn on_delete_commands(cx: &Ctx, kind: &str, name: &str) -> (String, String) {
    let ns = cx.ns();
    let confirm = format!(
        "kubectl get {}/{name} -n {ns} -o jsonpath='{{.spec.updateStrategy.type}} {{.metadata.annotations}}'",
        kind.to_ascii_lowercase()
    );
    let why = format!(
        "{kind} {name} has updateStrategy OnDelete, and Reloader restarts by changing the pod template, which replaces no pod under OnDelete; or switch it to updateStrategy RollingUpdate with a Reloader annotation, or read the mounted file instead of env"
    );
    let fix = match delete_owner_pods(cx.ix, cx.pod, kind, name) {
        Some((delete, _)) => format!("{delete}  # after each rotation: {why}"),
        None => format!("# after each rotation, delete each pod of {kind} {name}: {why}"),
    };
    (confirm, fix)
}

/// KVC902 for a Deployment annotated for Reloader but paused: Reloader's template change at a
/// rotation rolls out nothing until it is resumed (FACTS §10; Kubernetes docs, "Pausing and
/// Resuming a rollout").
pub(crate) fn resume_commands(cx: &Ctx, name: &str) -> (String, String) {
    let ns = cx.ns();
    (
        format!(
            "kubectl get deployment/{name} -n {ns} -o jsonpath='{{.spec.paused}} {{.metadata.annotations}}'"
        ),
        format!(
            "kubectl rollout resume deployment/{name} -n {ns}  # the template changes Reloader makes at rotations roll out once it is resumed, and so does whatever other template change the pause held back"
        ),
    )
}

/// KVC902 for a pod of StatefulSet `name`, annotated for Reloader, below its
/// `rollingUpdate.partition` (a template: its pods below it): Reloader's template change at a
/// rotation reaches only the ordinals at or above it (Kubernetes docs, StatefulSet
/// "Partitioned rolling updates"). The partition goes to 0, not to the pod's ordinal: 0 is the
/// one value at which that change reaches every pod at every rotation, which is what the
/// annotation is for, and every held pod of the set then has the one same fix (one lowered to
/// each pod's ordinal would leave the ordinals below it held, and pasted out of order would
/// raise it again). Keeping the partition, deleting the pod restarts it: it comes back at the
/// previous revision, whose env still reads the Secret at container start.
pub(crate) fn partition_commands(
    cx: &Ctx,
    name: &str,
    partition: i32,
    start: i32,
) -> (String, String) {
    let ns = cx.ns();
    // The partition counts replicas from ordinals.start: shown beside it when set.
    let start_field = match start {
        0 => "",
        _ => " {.spec.ordinals.start}",
    };
    let confirm = format!(
        "kubectl get statefulset/{name} -n {ns} -o jsonpath='{{.spec.updateStrategy.rollingUpdate.partition}}{start_field} {{.metadata.annotations}}'"
    );
    // A template's pods below the partition: the first of its replicas (1 when not set, the
    // default), ordinals from ordinals.start.
    let pods = match cx.template {
        true => {
            let replicas = cx.workload_object.and_then(|w| w.replicas).unwrap_or(1);
            restart::ordinals(name, start, partition.min(replicas).max(1))
        }
        false => cx.pod.name.to_string(),
    };
    let keep = format!("kubectl delete pod {pods} -n {ns}");
    let (said, from) = (
        crate::chain::restart_plan::partition_said(partition, start),
        start.saturating_add(partition),
    );
    let fix = format!(
        r#"kubectl patch statefulset {name} -n {ns} -p '{{"spec":{{"updateStrategy":{{"rollingUpdate":{{"partition":0}}}}}}}}'  # Reloader restarts by changing the pod template, which {said} rolls out only to ordinals {from} and up: at 0 the change Reloader makes at each rotation reaches every pod, and lowering it also rolls out whatever other template change the partition held back; to keep the partition, {keep} after each rotation instead (a deleted pod comes back at the previous revision, whose env reads the Secret again at container start), or read the mounted file instead of env"#
    );
    (confirm, fix)
}

/// KVC902 for an owner Reloader never looks at: what restarts the pod is the restart itself,
/// after each rotation, or reading the mounted file.
fn unwatched(cx: &Ctx, kind: &str) -> (String, String) {
    let ns = cx.ns();
    let confirm = match kind {
        // Whether a Deployment is above it.
        "ReplicaSet" => format!(
            "kubectl get {} -n {ns} -o jsonpath='{{.metadata.ownerReferences}}'",
            cx.owner_kubectl()
        ),
        _ => format!(
            "kubectl get pod {} -n {ns} -o jsonpath='{{.metadata.ownerReferences}}'",
            cx.pod.name
        ),
    };
    let restart = restart(cx);
    let fix = match restart.strip_prefix("# ") {
        Some(note) => format!(
            "# {note}; nothing restarts it {}: read the mounted file instead of env",
            crate::chain::rules::consumers::when_it_changes(cx)
        ),
        None => {
            let (run, note) = restart.split_once("  # ").unwrap_or((&restart, ""));
            let note = if note.is_empty() {
                String::new()
            } else {
                format!(" ({note})")
            };
            format!(
                "{run}  # after each {}{note}: Reloader does not restart a {kind}; or run the pods from a Deployment, or read the mounted file instead of env",
                match crate::chain::rules::remedy::rotation_off(cx) {
                    true => "change of the Secret",
                    false => "rotation",
                }
            )
        }
    };
    (confirm, fix)
}
