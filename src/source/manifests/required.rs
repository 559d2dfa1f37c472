//! Fields of a pod spec the API server requires that k8s-openapi reads as empty when absent: its
//! required fields default (`name: value_name.unwrap_or_default()`), so a container with no
//! `name` decoded as a pod that runs, where `kubectl apply` is refused with
//! `spec.containers[0].name: Required value` (ValidatePodSpec's `field.Required(path, "")`,
//! audit UUU-real2). An empty string is refused alike (`len(x) == 0`). Only what the API server
//! requires of every pod is said here: a volume's and a container's name, a container's image,
//! a mount's name and mountPath, an env entry's name; and (audit VVV-real) what the secret chain
//! reads: a `csi` volume's `driver` (ValidateCSIDriverName), a `secret` volume's `secretName`
//! and its items' `key` and `path` (validateKeyToPath), a port's `containerPort` (0 when
//! absent: validateContainerPorts), a `secretKeyRef`'s or `configMapKeyRef`'s `key` and an
//! `envFrom` `secretRef`'s `name`. A csi volume with no driver was read as no secrets-store
//! volume at all, and a pod the API server refuses as one that runs.

use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::{Container, PodSpec};

use super::field_errors::FieldErrors;

/// Each required field of pod spec `spec` at `path` (`spec.template.spec`, a Pod's `spec`) left
/// empty, in the API server's words and order (volumes, then init containers, then containers).
pub(super) fn check(path: &str, spec: &PodSpec, errors: &mut FieldErrors) {
    let mut said = Vec::new();
    for (i, v) in spec.volumes.iter().flatten().enumerate() {
        let at = format!("{path}.volumes[{i}]");
        if v.name.is_empty() {
            said.push(format!("{at}.name"));
        }
        if v.csi.as_ref().is_some_and(|c| c.driver.is_empty()) {
            said.push(format!("{at}.csi.driver"));
        }
        if let Some(secret) = &v.secret {
            if secret.secret_name.as_deref().unwrap_or_default().is_empty() {
                said.push(format!("{at}.secret.secretName"));
            }
            for (k, item) in secret.items.iter().flatten().enumerate() {
                if item.key.is_empty() {
                    said.push(format!("{at}.secret.items[{k}].key"));
                }
                if item.path.is_empty() {
                    said.push(format!("{at}.secret.items[{k}].path"));
                }
            }
        }
    }
    for (at, container) in containers(path, spec) {
        container_fields(&at, container, &mut said);
    }
    said.iter().for_each(|f| errors.required(f));
}

/// Why the API server refuses CronJob `c` for its schedule left out (batch validation's
/// validateCronJobSpec: `spec.schedule: Required value`, checked before its job template):
/// k8s-openapi reads a missing one as "", and the CronJob was read as one that makes pods.
pub(super) fn cron_job(c: &CronJob) -> Option<String> {
    c.spec
        .as_ref()
        .is_none_or(|s| s.schedule.is_empty())
        .then(|| refusal(&["spec.schedule: Required value".to_string()]))
        .flatten()
}

/// The init containers, then the containers, of pod spec `spec` at `path`, each with its own
/// path (`spec.containers[0]`): the order the API server validates them in.
pub(super) fn containers<'s>(
    path: &str,
    spec: &'s PodSpec,
) -> impl Iterator<Item = (String, &'s Container)> {
    let lists = [
        (
            "initContainers",
            spec.init_containers.as_deref().unwrap_or_default(),
        ),
        ("containers", spec.containers.as_slice()),
    ];
    lists.into_iter().flat_map(move |(list, containers)| {
        (containers.iter().enumerate())
            .map(move |(c, container)| (format!("{path}.{list}[{c}]"), container))
    })
}

/// The API server's refusal of a pod spec for the field errors `said`, or None when there is
/// none. Joined by `; `: the API server's messages hold commas of their own.
pub(super) fn refusal(said: &[String]) -> Option<String> {
    (!said.is_empty()).then(|| {
        format!(
            "{}: the API server refuses the document (kubectl apply says so), and no pod is made from it",
            said.join("; ")
        )
    })
}

/// The required fields of one container left empty, as paths under `at`.
fn container_fields(at: &str, c: &Container, said: &mut Vec<String>) {
    if c.name.is_empty() {
        said.push(format!("{at}.name"));
    }
    if c.image.as_deref().unwrap_or_default().is_empty() {
        said.push(format!("{at}.image"));
    }
    for (i, p) in c.ports.iter().flatten().enumerate() {
        if p.container_port == 0 {
            said.push(format!("{at}.ports[{i}].containerPort"));
        }
    }
    for (i, e) in c.env.iter().flatten().enumerate() {
        if e.name.is_empty() {
            said.push(format!("{at}.env[{i}].name"));
        }
        let from = e.value_from.as_ref();
        if from
            .and_then(|f| f.secret_key_ref.as_ref())
            .is_some_and(|r| r.key.is_empty())
        {
            said.push(format!("{at}.env[{i}].valueFrom.secretKeyRef.key"));
        }
        if from
            .and_then(|f| f.config_map_key_ref.as_ref())
            .is_some_and(|r| r.key.is_empty())
        {
            said.push(format!("{at}.env[{i}].valueFrom.configMapKeyRef.key"));
        }
    }
    for (i, e) in c.env_from.iter().flatten().enumerate() {
        if e.secret_ref.as_ref().is_some_and(|r| r.name.is_empty()) {
            said.push(format!("{at}.envFrom[{i}].secretRef.name"));
        }
    }
    for (i, m) in c.volume_mounts.iter().flatten().enumerate() {
        if m.name.is_empty() {
            said.push(format!("{at}.volumeMounts[{i}].name"));
        }
        if m.mount_path.is_empty() {
            said.push(format!("{at}.volumeMounts[{i}].mountPath"));
        }
    }
}
