//! A pod spec's `serviceAccountName` as the API server validates it: ValidatePodSpec checks a
//! non-empty one with ValidateServiceAccountName, apimachinery's NameIsDNSSubdomain. A
//! placeholder left in it (`"{{ .Values.sa }}"`, `${SA}`) is no such name, so `kubectl apply`
//! is refused and no pod exists; it was read as a pod that runs, with a KVC202 warning to
//! render the template (audit VVV-real). Said as labels.rs says a nodeSelector's.

use k8s_openapi::api::core::v1::PodSpec;

use crate::k8s_name::dns_subdomain;

/// The serviceAccountName of pod spec `spec` at `path` (`spec.template.spec`) if the API server
/// refuses it, in its words: `spec.template.spec.serviceAccountName: Invalid value:
/// "$SA": a lowercase RFC 1123 subdomain must consist of …`.
pub(super) fn check(path: &str, spec: &PodSpec, errors: &mut super::field_errors::FieldErrors) {
    let Some(name) =
        (spec.service_account_name.as_deref()).filter(|n| !n.is_empty() && !dns_subdomain(n))
    else {
        return;
    };
    let rule = if name.len() > 253 {
        "must be no more than 253 characters"
    } else {
        super::refused::SUBDOMAIN
    };
    errors.invalid(&format!("{path}.serviceAccountName"), name, rule);
}
