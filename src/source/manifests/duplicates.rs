//! Pod specs the API server's validation (ValidatePodSpec) refuses for a duplicate, said as it
//! says them: two volumes of one name (`spec.volumes[1].name: Duplicate value: "kv"`), or two
//! mounts of one container at one mountPath (`spec.containers[0].volumeMounts[1].mountPath:
//! Invalid value: "/mnt/kv": must be unique`). The typed value reads both, and the rules would
//! diagnose a pod that can never be made (kubectl apply is refused).

use k8s_openapi::api::core::v1::{Container, PodSpec};

/// Every duplicate of the pod spec at `path` (`spec.template.spec`, a Pod's `spec`), in the
/// API server's order (volumes, then init containers, then containers).
pub(super) fn check(path: &str, spec: &PodSpec, errors: &mut super::field_errors::FieldErrors) {
    let mut names = std::collections::HashSet::new();
    for (i, v) in spec.volumes.iter().flatten().enumerate() {
        if !v.name.is_empty() && !names.insert(v.name.as_str()) {
            errors.push(format!(
                "{path}.volumes[{i}].name: Duplicate value: {}",
                quoted(&v.name)
            ));
        }
    }
    for (at, container) in super::required::containers(path, spec) {
        mount_paths(&at, container)
            .into_iter()
            .for_each(|e| errors.push(e));
    }
}

/// The mounts of one container at a mountPath an earlier mount of it already uses (the API
/// checks each container on its own; an empty path is another error).
fn mount_paths(path: &str, container: &Container) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    (container.volume_mounts.iter().flatten().enumerate())
        .filter(|(_, m)| !m.mount_path.is_empty() && !seen.insert(m.mount_path.as_str()))
        .map(|(i, m)| {
            format!(
                "{path}.volumeMounts[{i}].mountPath: Invalid value: {}: must be unique",
                quoted(&m.mount_path)
            )
        })
        .collect()
}

/// A value as the API's field errors quote it, cut as every echoed value is.
fn quoted(value: &str) -> String {
    format!("{:?}", crate::shown::shown_line(value))
}
