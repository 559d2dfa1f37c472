//! The names inside a pod spec as the API server validates them (ValidatePodSpec): a volume's
//! and a container's name is an RFC 1123 label (ValidateDNS1123Label), containers (init
//! containers included) have distinct names, and each volumeMount names a volume of the pod
//! (ValidateVolumeMounts: `field.NotFound`). kvchain read `name: Web_App` or a mount of a
//! volume named `secrets-stor` as a pod that runs, and diagnosed its chain, where `kubectl
//! apply` is refused and no pod exists. An empty name is required.rs's, a duplicate volume
//! name duplicates.rs's.

use std::collections::HashSet;

use k8s_openapi::api::core::v1::PodSpec;

use super::field_errors::FieldErrors;
use crate::k8s_name::dns_label;

/// Each name of pod spec `spec` at `path` the API server refuses, in its words and order
/// (volumes, then init containers, then containers).
pub(super) fn check(path: &str, spec: &PodSpec, added: &[&str], errors: &mut FieldErrors) {
    // The volumes a mount may name: those the API server accepts (ValidateVolumes keeps only
    // volumes without errors; of a name's errors only these are judged here), and those the
    // controller adds to each pod (`added`: a StatefulSet's claim templates).
    let mut volumes: HashSet<&str> = added.iter().copied().collect();
    for (i, v) in spec.volumes.iter().flatten().enumerate() {
        if v.name.is_empty() {
            continue;
        }
        let refused = label(&format!("{path}.volumes[{i}].name"), &v.name, errors);
        if !refused && !volumes.contains(v.name.as_str()) {
            volumes.insert(v.name.as_str());
        }
    }
    let mut containers = HashSet::new();
    for (at, c) in super::required::containers(path, spec) {
        let field = format!("{at}.name");
        if !c.name.is_empty() {
            label(&field, &c.name, errors);
        }
        if !containers.insert(c.name.as_str()) {
            errors.push(format!("{field}: Duplicate value: {}", quoted(&c.name)));
        }
        for (i, m) in c.volume_mounts.iter().flatten().enumerate() {
            if !volumes.contains(m.name.as_str()) {
                errors.push(format!(
                    "{at}.volumeMounts[{i}].name: Not found: {}",
                    quoted(&m.name)
                ));
            }
        }
    }
}

/// ValidateDNS1123Label: each rule `name` breaks at `field`; whether it broke one.
fn label(field: &str, name: &str, errors: &mut FieldErrors) -> bool {
    if dns_label(name) {
        return false;
    }
    if name.len() > 63 {
        errors.invalid(field, name, "must be no more than 63 characters");
    }
    // The regex, whatever the length.
    let ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = name.as_bytes();
    let shaped = bytes.first().copied().is_some_and(ok)
        && bytes.last().copied().is_some_and(ok)
        && bytes.iter().all(|&b| ok(b) || b == b'-');
    if !shaped {
        errors.invalid(field, name, super::refused::LABEL);
    }
    true
}

/// A value as the API's field errors quote it, cut as every echoed value is.
fn quoted(value: &str) -> String {
    format!("{:?}", crate::shown::shown_line(value))
}
