//! Pod identity mode (`usePodIdentity: "true"`, FACTS §5): the provider asks aad-pod-identity's
//! NMI for the pod's token, and NMI answers only with an identity MIC assigned to that pod,
//! which MIC does for a pod an AzureIdentityBinding selects: by the pod's `aadpodidbinding`
//! label, equal to the binding's `spec.selector` (aad-pod-identity docs). A pod without that
//! label gets no token — NMI's "no AzureAssignedIdentity found for pod …" — wherever
//! aad-pod-identity runs, so its mount fails. That cause is the pod's, told on the mode's own
//! finding (KVC304, the Identity link), as an error with the pod named: one symptom, one cause,
//! the NMI event its evidence (events::classify).

use crate::chain::context::Ctx;
use crate::chain::model::{Finding, Severity};

/// The pod label an AzureIdentityBinding's `spec.selector` matches.
const BINDING_LABEL: &str = "aadpodidbinding";

/// What an AzureIdentityBinding selects, and which identity it binds, cluster-wide.
const BINDINGS: &str = "kubectl get azureidentitybinding -A -o custom-columns=NAMESPACE:.metadata.namespace,NAME:.metadata.name,IDENTITY:.spec.azureIdentity,SELECTOR:.spec.selector";

/// Makes KVC304 `f` the error of a pod no AzureIdentityBinding can select: it carries no
/// `aadpodidbinding` label. Not said of a pod whose mount succeeded (its status is there:
/// something gave it a token, which kvchain does not read).
pub(super) fn unbound(cx: &Ctx, f: &mut Finding) {
    let label = cx.pod.labels.get(BINDING_LABEL).map(|v| v.trim());
    if label.is_some_and(|v| !v.is_empty()) || (cx.status.is_some() && !cx.template) {
        return;
    }
    let who = match cx.workload {
        Some(_) => format!("the pods of {} carry", cx.owner_resource()),
        None => format!("{} carries", cx.owner_resource()),
    };
    f.severity = Severity::Error;
    f.message = format!(
        "{}; {who} no {BINDING_LABEL} label: aad-pod-identity's NMI gives a pod a token only for the identity an AzureIdentityBinding assigns it, and a binding selects pods by that label (its spec.selector), so this mount gets none (NMI: no AzureAssignedIdentity found for the pod) even where aad-pod-identity runs",
        f.message
    )
    .into();
    f.evidence
        .push(format!("pod labels: {:?} (no {BINDING_LABEL})", cx.pod.labels).into());
    if !cx.template {
        f.confirm = format!(
            "{} && kubectl get pod {} -n {} --show-labels",
            f.confirm,
            cx.pod.name,
            cx.ns()
        )
        .into();
    }
    // The move to workload identity needs no binding; staying on pod identity needs the label.
    let last = f.fix.lines().last().unwrap_or_default();
    let sep = if last.contains("  # ") || last.starts_with('#') {
        "; "
    } else {
        "  # "
    };
    f.fix = format!(
        "{}{sep}or, staying on aad-pod-identity while it still runs, label the pod template {BINDING_LABEL}: <the SELECTOR of the AzureIdentityBinding of an identity that may read the vault> ({BINDINGS})",
        f.fix
    )
    .into();
}
