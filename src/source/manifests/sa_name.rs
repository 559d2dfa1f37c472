//! A pod spec's `serviceAccountName` as the API server validates it: ValidatePodSpec checks a
//! non-empty one with ValidateServiceAccountName, apimachinery's NameIsDNSSubdomain. A
//! placeholder left in it (`"{{ .Values.sa }}"`, `${SA}`) is no such name, so `kubectl apply`
//! is refused and no pod exists; it was read as a pod that runs, with a KVC202 warning to
//! render the template (audit VVV-real). Said as labels.rs says a nodeSelector's.

use k8s_openapi::api::core::v1::PodSpec;

use crate::k8s_name::dns_subdomain;

/// Why the API server refuses pod spec `spec` at `path` (`spec.template.spec`) for its
/// serviceAccountName, in its words: `spec.template.spec.serviceAccountName: Invalid value:
/// "$SA": a lowercase RFC 1123 subdomain must consist of …`.
pub(super) fn refused(path: &str, spec: &PodSpec) -> Option<String> {
    let name = spec
        .service_account_name
        .as_deref()
        .filter(|n| !n.is_empty() && !dns_subdomain(n))?;
    let rule = if name.len() > 253 {
        "must be no more than 253 characters"
    } else {
        super::refused::SUBDOMAIN
    };
    let unrendered = super::refused::unrendered_note(name);
    Some(format!(
        "{path}.serviceAccountName: Invalid value: \"{}\": {rule}: the API server refuses the document (kubectl apply says so), and no pod is made from it.{unrendered}",
        crate::shown::shown(name)
    ))
}
