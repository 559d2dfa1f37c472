//! Pod link: a pod template whose `nodeSelector` still holds a template placeholder
//! (`kubernetes.io/os: $NODE_SELECTOR_OS`). A nodeSelector value is validated as a label value,
//! which cannot hold `$`, `{` or `<`: the API server refuses the pod (and a workload, whose
//! template is validated with it), so no pod exists to mount anything until the template is
//! rendered. Like every unrendered value (README `kvchain check`) it is said once, as
//! unrendered, and not judged further; a warning, as KVC306 is while nothing is seen failing.

use super::params;
use super::remedy;
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::{Link, Severity};
use crate::snapshot::SourceKind;

pub(crate) fn check(cx: &Ctx, link: &mut Link) {
    // A pod or workload a cluster holds passed validation with its nodeSelector (a live
    // template too: the API server validates it with the workload): only a manifest can hold
    // a placeholder there.
    if cx.source().kind != SourceKind::Manifests {
        return;
    }
    let unrendered: Vec<(&String, &String)> = cx
        .pod
        .node_selector
        .iter()
        .filter(|(_, v)| params::is_placeholder(v))
        .collect();
    let Some((key, value)) = unrendered.first() else {
        return;
    };
    let seen: Vec<String> = unrendered
        .iter()
        .map(|(k, v)| format!("spec.nodeSelector.{k}: {v}"))
        .collect();
    let (confirm, fix) = remedy::unrendered(&format!("nodeSelector {key}"), value);
    // A workload's template is validated with the workload: its apply fails, there is no
    // ReplicaSet or pod whose events to look for.
    let (whose, refused) = if cx.template {
        (
            "pod template",
            format!("the API server refuses {} itself", cx.owner_resource()),
        )
    } else {
        ("pod", "the API server refuses the pod".to_string())
    };
    let mut f = cx.finding(
        Code::KVC106,
        cx.owner_resource(),
        format!(
            "the {whose}'s nodeSelector holds unrendered template values ({}): label values cannot hold them, so {refused} and nothing runs until the template is rendered",
            seen.iter()
                .map(|s| s.trim_start_matches("spec.nodeSelector."))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        seen,
        confirm,
        fix,
    );
    f.severity = Severity::Warning;
    link.findings.push(f);
}
