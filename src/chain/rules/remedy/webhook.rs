//! The workload-identity webhook's side of a fix: the label it selects pods by, on the pod
//! template where each kind keeps it, and the webhook installed on AKS (FACTS §6).

use super::{aks_args, edit_owner, rolled_in};
use crate::chain::context::Ctx;

/// Installs the workload-identity webhook on AKS (with the OIDC issuer it needs).
pub(super) fn install_webhook(cx: &Ctx) -> String {
    format!(
        "az aks update {} --enable-oidc-issuer --enable-workload-identity",
        aks_args(cx)
    )
}

/// Each mutating webhook configuration's name and creation time, and for the
/// workload-identity webhook what decides which pods it skips (FACTS §6).
pub(super) fn webhook_config() -> String {
    r#"kubectl get mutatingwebhookconfiguration -o jsonpath='{range .items[*]}{.metadata.name} created {.metadata.creationTimestamp}:{range .webhooks[?(@.name=="mutation.azure-workload-identity.io")]} failurePolicy {.failurePolicy}, namespaceSelector {.namespaceSelector}, objectSelector {.objectSelector}{end}{"\n"}{end}'"#.to_string()
}

pub(super) fn pod_labels_and_env(cx: &Ctx) -> String {
    format!(
        "kubectl get pod {} -n {} -o jsonpath='{{.metadata.labels}} {{.spec.initContainers[*].env[*].name}} {{.spec.containers[*].env[*].name}}'",
        cx.pod.name,
        cx.ns()
    )
}

/// KVC201's fix: the label on the pod template, where each kind keeps it. Where the webhook is
/// known not to be installed, nothing would mutate the pods the label rolls out (FACTS §6):
/// it is installed first, so the one rollout the label makes is the one that injects (audit
/// DD6), not a second round of KVC205.
pub(super) fn label_fix(cx: &Ctx) -> String {
    let fix = label_on_template(cx);
    if cx.cluster().workload_identity_webhook.known() != Some(&false) {
        return fix;
    }
    let first = "the workload-identity webhook is not installed: it is installed first, so that the pods the label makes are mutated";
    match fix.strip_prefix("# ") {
        Some(note) => format!("{}  # {first}; then {note}", install_webhook(cx)),
        None => super::in_turn(&[&install_webhook(cx), &fix, &format!("# {first}")]),
    }
}

/// The label on the pod template, where each kind keeps it. A Job's template is immutable
/// (the API server refuses the patch) and a CronJob's is in its job template.
fn label_on_template(cx: &Ctx) -> String {
    const LABEL: &str = r#"{"metadata":{"labels":{"azure.workload.identity/use":"true"}}}"#;
    let ns = cx.ns();
    match cx.workload {
        Some(("Job", _)) => edit_owner(
            cx,
            "add label azure.workload.identity/use: \"true\" to spec.template.metadata.labels",
        ),
        Some((k, n)) if k != "Pod" => match crate::chain::context::template_of(k) {
            Some(t) => {
                // {"spec":{"template":LABEL}} from the template's path, innermost last.
                let steps: Vec<&str> = t.jsonpath.trim_start_matches('.').split('.').collect();
                let patch = steps.iter().rev().fold(LABEL.to_string(), |inner, step| {
                    format!("{{\"{step}\":{inner}}}")
                });
                let merge = if t.built_in { "" } else { " --type merge" };
                let when = match k {
                    "CronJob" | "ScaledJob" => "the next run's pods are mutated on CREATE",
                    _ => "new pods are mutated on CREATE",
                };
                let fix = format!(
                    "kubectl patch {} {n} -n {ns}{merge} -p '{patch}'  # {when}",
                    k.to_ascii_lowercase()
                );
                rolled_in(cx, cx.pod, cx.workload, fix, "the labelled template")
            }
            None => format!(
                "# {k}/{n} makes these pods: add label azure.workload.identity/use: \"true\" to the pod template in its spec (where its operator reads it), then let it re-create pod {} (the webhook mutates on CREATE only)",
                cx.pod.name
            ),
        },
        // A pod nothing owns: recreated with the label, as KVC707 recreates one (audit Z6: the
        // words "add label … and recreate it" ran `add` when pasted).
        _ => edit_owner(
            cx,
            "add label azure.workload.identity/use: \"true\" to metadata.labels (the webhook mutates on CREATE only)",
        ),
    }
}
