//! Custom resources that make pods: an Argo Rollout (`spec.template`, unless it points at a
//! Deployment with `workloadRef`) and a KEDA ScaledJob (`spec.jobTargetRef.template`) are read
//! like the built-in workloads. Any other kind holding a secrets-store volume is not skipped in
//! silence: where its pod template lives is its operator's business, so it is said unread.

use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;
use serde_yaml::Value;

use super::{Doc, convert, str_at, typed::custom};
use crate::chain::DRIVER_NAME;
use crate::input::InputError;

#[derive(Deserialize)]
pub(super) struct Custom<S> {
    #[serde(default)]
    pub metadata: ObjectMeta,
    pub spec: Option<S>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RolloutSpec {
    pub replicas: Option<i32>,
    pub template: Option<PodTemplateSpec>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ScaledJobSpec {
    pub job_target_ref: Option<JobTarget>,
}

#[derive(Deserialize)]
pub(super) struct JobTarget {
    pub template: Option<PodTemplateSpec>,
}

impl super::Builder {
    /// A kind none of the arms above reads: a pod-making custom resource kvchain knows is read
    /// as a workload; another one holding a secrets-store volume is unread (its chain would
    /// otherwise pass unchecked); the rest are not ours to judge. `selector`: why the
    /// Rollout's controller refuses its selector ([`super::selector`]).
    pub(super) fn other(
        &mut self,
        doc: &Doc,
        what: &str,
        kind: &str,
        value: serde_yaml::Value,
        selector: Option<String>,
    ) -> Result<(), InputError> {
        let api_version = str_at(&value, "apiVersion").to_string();
        match known(kind, &api_version) {
            Some("Rollout") => {
                let r: Custom<RolloutSpec> = custom(doc, what, value)?;
                // Its controller refuses a selector that does not select the template.
                if let Some(why) = selector {
                    return Err(doc.err(what, why));
                }
                let spec = r.spec.as_ref();
                let t = spec.and_then(|s| s.template.as_ref());
                let replicas = spec.and_then(|s| s.replicas);
                self.workload(
                    convert::custom_workload("Rollout", &r.metadata, t, replicas),
                    t,
                );
            }
            Some(_) => {
                let j: Custom<ScaledJobSpec> = custom(doc, what, value)?;
                // The API server refuses each Job made from a selector a Job may not hold.
                if let Some(why) = selector {
                    return Err(doc.err(what, why));
                }
                let t = j
                    .spec
                    .as_ref()
                    .and_then(|s| s.job_target_ref.as_ref())
                    .and_then(|r| r.template.as_ref());
                self.workload(
                    convert::custom_workload("ScaledJob", &j.metadata, t, None),
                    t,
                );
            }
            None => {
                if let Some(at) = secrets_store_volume(&value) {
                    let kind = crate::shown::shown(&format!("{api_version} {kind}")).into_owned();
                    return Err(doc.err(
                        what,
                        format!(
                            "kvchain does not read {kind}: its secrets-store volume at {at} is not checked (where its pod template lives is its operator's business; check the pods it makes, or the rendered workload)"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Which of the pod-making custom kinds `kind` of `api_version` is.
pub(super) fn known(kind: &str, api_version: &str) -> Option<&'static str> {
    let group = api_version.split('/').next().unwrap_or_default();
    match (kind, group) {
        ("Rollout", "argoproj.io") => Some("Rollout"),
        ("ScaledJob", "keda.sh") => Some("ScaledJob"),
        _ => None,
    }
}

/// The dotted path of the first secrets-store CSI volume in `v` (e.g.
/// `spec.template.spec.volumes[0].csi`), searching structure only, never string values.
pub(super) fn secrets_store_volume(v: &Value) -> Option<String> {
    match v {
        Value::Mapping(m) => {
            if let Some(csi) = m.get("csi")
                && csi.get("driver").and_then(Value::as_str) == Some(DRIVER_NAME)
            {
                return Some("csi".into());
            }
            m.iter().find_map(|(k, inner)| {
                let at = secrets_store_volume(inner)?;
                let k = k.as_str()?;
                Some(if at.starts_with('[') {
                    format!("{k}{at}")
                } else {
                    format!("{k}.{at}")
                })
            })
        }
        Value::Sequence(items) => items.iter().enumerate().find_map(|(i, inner)| {
            let at = secrets_store_volume(inner)?;
            Some(if at.starts_with('[') {
                format!("[{i}]{at}")
            } else {
                format!("[{i}].{at}")
            })
        }),
        Value::Tagged(t) => secrets_store_volume(&t.value),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_volume_is_found_by_its_path_and_strings_are_not_searched() {
        let v: Value = serde_yaml::from_str(
            "spec:\n  workers:\n    - template:\n        spec:\n          volumes:\n            - name: a\n              emptyDir: {}\n            - name: kv\n              csi:\n                driver: secrets-store.csi.k8s.io\n",
        )
        .unwrap();
        assert_eq!(
            secrets_store_volume(&v).as_deref(),
            Some("spec.workers[0].template.spec.volumes[1].csi")
        );
        let text: Value =
            serde_yaml::from_str("data:\n  pod.yaml: 'csi: {driver: secrets-store.csi.k8s.io}'\n")
                .unwrap();
        assert_eq!(secrets_store_volume(&text), None);
    }
}
