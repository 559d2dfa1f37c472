//! The workload-identity webhook's side of a fix: the label it selects pods by, on the pod
//! template where each kind keeps it, and the webhook installed on AKS (FACTS §6).

use super::paused::{Hold, hold_in, then_run};
use super::restart::NAMED_PODS;
use super::{aks_args, edit_owner, rolled_in};
use crate::chain::context::Ctx;
use crate::snapshot::PodObs;

const USE_LABEL: &str = "azure.workload.identity/use";

/// The pods of the StatefulSet or DaemonSet a chain's pod belongs to, split by the webhook's
/// label (FACTS §6: it selects `azure.workload.identity/use: "true"`, exactly).
pub(crate) struct LabelSplit<'a> {
    pub lacking: Vec<&'a PodObs>,
    pub carrying: Vec<&'a PodObs>,
}

/// [`LabelSplit`] of the chain's set, when some of its pods carry the label: only a pod made
/// after a template change gets it, so under `updateStrategy: OnDelete` or a partition the
/// pods of one set may differ (Kubernetes docs, StatefulSet and DaemonSet "Update
/// strategies"). None for a template, any other owner, or a set whose pods all lack it.
pub(crate) fn label_split<'a>(cx: &Ctx<'a>) -> Option<LabelSplit<'a>> {
    let (kind @ ("StatefulSet" | "DaemonSet"), name) = cx.workload? else {
        return None;
    };
    if cx.template {
        return None;
    }
    let set = (cx.ns(), kind, name);
    let labelled = |p: &PodObs| p.labels.get(USE_LABEL).is_some_and(|v| v == "true");
    let carrying = cx.ix.set_pods_picked("wi_labelled", set, labelled);
    if carrying.is_empty() {
        return None;
    }
    let lacking = cx
        .ix
        .set_pods_picked("wi_unlabelled", set, |p| !labelled(p));
    Some(LabelSplit { lacking, carrying })
}

impl LabelSplit<'_> {
    /// Who lacks the label, in a sentence about `owner` (`StatefulSet/web`): "pod web-1 of
    /// StatefulSet/web", "pods web-1, web-2 of …", or over [`NAMED_PODS`] of them "37 pods of …".
    pub fn who(&self, owner: &str) -> String {
        match (&self.lacking[..], named(&self.lacking)) {
            ([one], _) => format!("pod {} of {owner}", one.name),
            (_, Some(names)) => format!("pods {names} of {owner}"),
            (many, None) => format!("{} pods of {owner}", many.len()),
        }
    }

    /// Who carries it, with the verb: "web-0 carries it", "web-0, web-2 carry it", "12 of
    /// its pods carry it".
    pub fn carriers(&self) -> String {
        match (&self.carrying[..], named(&self.carrying)) {
            ([one], _) => format!("{} carries it", one.name),
            (_, Some(names)) => format!("{names} carry it"),
            (many, None) => format!("{} of its pods carry it", many.len()),
        }
    }

    /// The delete of the pods that lack the label, of set `set` in `ns`, and them said: by
    /// name, or over [`NAMED_PODS`] of them selected when pasted (a selector `!=` also selects
    /// a pod without the key: Kubernetes docs, "Labels and Selectors").
    fn delete(&self, ns: &str, set: &str) -> (String, String) {
        let delete = match named(&self.lacking) {
            Some(_) => {
                let names: Vec<&str> = self.lacking.iter().map(|p| p.name.as_str()).collect();
                format!("kubectl delete pod {} -n {ns}", names.join(" "))
            }
            None => format!(
                "kubectl delete pod -n {ns} $(kubectl get pods -n {ns} -l '{USE_LABEL}!=true' -o jsonpath='{{.items[?(@.metadata.ownerReferences[0].name==\"{set}\")].metadata.name}}')"
            ),
        };
        let them = match (&self.lacking[..], named(&self.lacking)) {
            ([one], _) => format!("{}, the pod that lacks the label", one.name),
            (_, Some(names)) => format!("{names}, the pods that lack the label"),
            (many, None) => format!("its {} pods that lack the label", many.len()),
        };
        let left = if self.carrying.len() == 1 {
            "is"
        } else {
            "are"
        };
        (
            delete,
            format!("{them} ({} and {left} left running)", self.carriers()),
        )
    }
}

/// `pods` by name, up to [`NAMED_PODS`] of them.
fn named(pods: &[&PodObs]) -> Option<String> {
    let names: Vec<&str> = pods.iter().map(|p| p.name.as_str()).collect();
    (names.len() <= NAMED_PODS).then(|| names.join(", "))
}

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
                let change = "the labelled template";
                match label_split(cx) {
                    Some(split) => {
                        let (delete, which) = split.delete(ns, n);
                        rolled_in_only(cx, fix, change, delete, &which)
                    }
                    None => rolled_in(cx, cx.pod, cx.workload, fix, change),
                }
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

/// [`rolled_in`] for a change only some pods of the owner need (`which` says them, `delete`
/// deletes them; KVC201: the pods that lack the webhook's label, where others of the set carry
/// it): an OnDelete owner's fix deletes those alone, after the change, so no pod that is fine
/// is made again, and none from the template as it was before the change. Any other owner's
/// fix is [`rolled_in`]'s.
fn rolled_in_only(cx: &Ctx, fix: String, change: &str, delete: String, which: &str) -> String {
    match hold_in(cx, cx.workload) {
        Some(Hold::OnDelete(kind, name)) => {
            let why = |then: &str| {
                format!(
                    "{kind} {name} has updateStrategy OnDelete: {change} replaces no pod, only a pod deleted afterwards comes back from it{then}"
                )
            };
            let ran = why(&format!(", so the fix then deletes {which}"));
            let unran = why(&format!(": then delete {which} ({delete})"));
            then_run(fix, Some(delete), ran, unran)
        }
        _ => rolled_in(cx, cx.pod, cx.workload, fix, change),
    }
}
