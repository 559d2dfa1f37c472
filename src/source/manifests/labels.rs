//! A pod spec's `nodeSelector` as the API server validates it: each key a label key and each
//! value a label value (ValidatePodSpec → ValidateLabels). A value still holding a template
//! placeholder (`kubernetes.io/os: $NODE_SELECTOR_OS`, `"{{ .Values.os }}"`) is no label value,
//! so `kubectl apply` is refused and no pod exists; it was read as a pod that runs, with a
//! warning (audit TTT-real). Placeholders that are valid label values (`REPLACE_ME`) are
//! accepted by the API server and read as they are.

use k8s_openapi::api::core::v1::PodSpec;

use crate::k8s_name::{label_key_errors, label_value_errors};

/// Each nodeSelector entry of pod spec `spec` at `path` (`spec.template.spec`) the API server
/// refuses, in its words: `spec.template.spec.nodeSelector: Invalid value: "$OS": a valid
/// label must be …`.
pub(super) fn check(path: &str, spec: &PodSpec, errors: &mut super::field_errors::FieldErrors) {
    labels(
        &format!("{path}.nodeSelector"),
        spec.node_selector.as_ref(),
        errors,
    );
}

/// Each key and value of `labels` at `field` the API server refuses (ValidateLabels).
pub(super) fn labels(
    field: &str,
    labels: Option<&std::collections::BTreeMap<String, String>>,
    errors: &mut super::field_errors::FieldErrors,
) {
    for (k, v) in labels.into_iter().flatten() {
        label_key_errors(k)
            .iter()
            .for_each(|m| errors.invalid(field, k, m));
        label_value_errors(v)
            .iter()
            .for_each(|m| errors.invalid(field, v, m));
    }
}
