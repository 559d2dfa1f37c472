//! Pod link: a pod template whose `nodeSelector` is no label (`kubernetes.io/os:
//! $NODE_SELECTOR_OS`, an unrendered template value, or `agentpool: "gpu pool"`). The API server
//! validates a nodeSelector as labels (ValidatePodSpec → ValidateLabels), so it refuses what
//! carries it. A built-in workload or Pod with one is refused as a whole and never read from
//! manifests (source/manifests/labels.rs). What reaches this rule is the template of a custom
//! resource (an Argo Rollout, a KEDA ScaledJob): its CRD does not validate the template, so the
//! resource is accepted, and the API server refuses each ReplicaSet or Job its controller makes
//! from it: no pod is ever created, an error (audit TTT-real; it was a warning that said the
//! resource itself was refused).

use super::remedy;
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::Link;
use crate::k8s_name::{label_key_errors, label_value_errors};
use crate::snapshot::SourceKind;

pub(crate) fn check(cx: &Ctx, link: &mut Link) {
    // A pod or workload a cluster holds passed validation with its nodeSelector (a live
    // template too: the API server validates it with the workload): only a manifest can hold
    // one that is no label.
    if cx.source().kind != SourceKind::Manifests {
        return;
    }
    let refused: Vec<(&String, &String)> = cx
        .pod
        .node_selector
        .iter()
        .filter(|(k, v)| !label_key_errors(k).is_empty() || !label_value_errors(v).is_empty())
        .collect();
    let Some((key, value)) = refused.first() else {
        return;
    };
    let path = cx.pod_spec_path().trim_start_matches('.');
    let seen: Vec<String> = refused
        .iter()
        .map(|(k, v)| format!("{path}.nodeSelector.{k}: {v}"))
        .collect();
    let entries = (refused.iter())
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    let unrendered = crate::chain::rules::params::is_placeholder(value);
    let (confirm, fix) = if unrendered {
        remedy::unrendered(&format!("nodeSelector {key}"), value)
    } else {
        (
            format!("grep -rn -F {} .", remedy::sh_word(value)),
            format!(
                "# make nodeSelector {key} a label value the API server takes (at most 63 alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric): a label of the node pool the pods should run on"
            ),
        )
    };
    let (whose, made) = match (cx.template, cx.workload.map(|(k, _)| k)) {
        (true, Some("ScaledJob")) => ("pod template", "each Job its controller makes from it"),
        (true, Some("Rollout")) => (
            "pod template",
            "each ReplicaSet its controller makes from it",
        ),
        (true, _) => ("pod template", "what its controller makes from it"),
        (false, _) => ("pod", "the pod"),
    };
    let why = if unrendered {
        "unrendered template values"
    } else {
        "values that are no label"
    };
    let f = cx.finding(
        Code::KVC106,
        cx.owner_resource(),
        format!(
            "the {whose}'s nodeSelector holds {why} ({entries}): a nodeSelector is validated as labels, so the API server refuses {made} (spec.template.spec.nodeSelector: Invalid value) and no pod of {} runs",
            cx.owner_resource()
        ),
        seen,
        confirm,
        fix,
    );
    link.findings.push(f);
}
