//! A pod spec's `nodeSelector` as the API server validates it: each key a label key and each
//! value a label value (ValidatePodSpec → ValidateLabels). A value still holding a template
//! placeholder (`kubernetes.io/os: $NODE_SELECTOR_OS`, `"{{ .Values.os }}"`) is no label value,
//! so `kubectl apply` is refused and no pod exists; it was read as a pod that runs, with a
//! warning (audit TTT-real). Placeholders that are valid label values (`REPLACE_ME`) are
//! accepted by the API server and read as they are.

use k8s_openapi::api::core::v1::PodSpec;

use crate::k8s_name::{label_key_errors, label_value_errors};

/// Why the API server refuses pod spec `spec` at `path` (`spec.template.spec`) for its
/// nodeSelector, in its words: `spec.template.spec.nodeSelector: Invalid value: "$OS": a valid
/// label must be …`, each refused entry after the first counted.
pub(super) fn refused(path: &str, spec: &PodSpec) -> Option<String> {
    let mut errs = Vec::new();
    for (k, v) in spec.node_selector.iter().flatten() {
        errs.extend(label_key_errors(k).into_iter().map(|m| (k, m)));
        errs.extend(label_value_errors(v).into_iter().map(|m| (v, m)));
    }
    let ((value, msg), more) = (errs.first()?, errs.len() - 1);
    let more = match more {
        0 => String::new(),
        n => format!(" (and {n} more)"),
    };
    let unrendered = super::refused::unrendered_note(value);
    Some(format!(
        "{path}.nodeSelector: Invalid value: \"{}\": {msg}{more}: the API server refuses the document (kubectl apply says so), and no pod is made from it.{unrendered}",
        crate::shown::shown(value)
    ))
}
