//! The Azure Workload Identity mutating webhook, at pod CREATE only (existing pods are never
//! mutated): pods labelled `azure.workload.identity/use: "true"` get the projected token volume
//! and the AZURE_* variables, named as upstream names them (v1.5.x layout, which the AKS add-on
//! still ships; FACTS §6).

use k8s_openapi::api::core::v1::{
    EnvVar, Pod, ProjectedVolumeSource, ServiceAccount, ServiceAccountTokenProjection, Volume,
    VolumeMount, VolumeProjection,
};

use super::azure::{AUTHORITY, TOKEN_AUDIENCE};

pub const USE_LABEL: &str = "azure.workload.identity/use";
pub const CLIENT_ID_ANNOTATION: &str = "azure.workload.identity/client-id";
pub const TENANT_ID_ANNOTATION: &str = "azure.workload.identity/tenant-id";
pub const SKIP_CONTAINERS_ANNOTATION: &str = "azure.workload.identity/skip-containers";
pub const TOKEN_VOLUME: &str = "azure-identity-token";
pub const TOKEN_DIR: &str = "/var/run/secrets/azure/tokens";
pub const TOKEN_FILE: &str = "/var/run/secrets/azure/tokens/azure-identity-token";

/// Whether the webhook's objectSelector matches the pod.
pub fn selects(pod: &Pod) -> bool {
    pod.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(USE_LABEL))
        .is_some_and(|v| v == "true")
}

/// Mutates `pod` as the webhook would; `sa` is the pod's service account (admission has
/// already rejected pods whose SA does not exist). `kube-system` is excluded by AKS.
pub fn admit(pod: &mut Pod, sa: &ServiceAccount, cluster_tenant: &str) {
    if !selects(pod) || pod.metadata.namespace.as_deref() == Some("kube-system") {
        return;
    }
    let ann = sa.metadata.annotations.clone().unwrap_or_default();
    let client_id = ann.get(CLIENT_ID_ANNOTATION).cloned().unwrap_or_default();
    let tenant = ann
        .get(TENANT_ID_ANNOTATION)
        .cloned()
        .unwrap_or_else(|| cluster_tenant.to_string());
    let skip: Vec<String> = pod
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(SKIP_CONTAINERS_ANNOTATION))
        .map(|s| s.split(';').map(|x| x.trim().to_string()).collect())
        .unwrap_or_default();
    let Some(spec) = pod.spec.as_mut() else {
        return;
    };
    let env = [
        ("AZURE_CLIENT_ID", client_id),
        ("AZURE_TENANT_ID", tenant),
        ("AZURE_FEDERATED_TOKEN_FILE", TOKEN_FILE.to_string()),
        ("AZURE_AUTHORITY_HOST", AUTHORITY.to_string()),
    ];
    let containers = spec
        .init_containers
        .iter_mut()
        .flatten()
        .chain(spec.containers.iter_mut());
    for c in containers {
        if skip.contains(&c.name) {
            continue;
        }
        let vars = c.env.get_or_insert_with(Vec::new);
        for (name, value) in &env {
            // Pre-existing variables win; empty values are not injected (since v1.5.1).
            if value.is_empty() || vars.iter().any(|e| e.name == *name) {
                continue;
            }
            vars.push(EnvVar {
                name: name.to_string(),
                value: Some(value.clone()),
                value_from: None,
            });
        }
        let mounts = c.volume_mounts.get_or_insert_with(Vec::new);
        if !mounts.iter().any(|m| m.name == TOKEN_VOLUME) {
            mounts.push(VolumeMount {
                name: TOKEN_VOLUME.into(),
                mount_path: TOKEN_DIR.into(),
                read_only: Some(true),
                ..Default::default()
            });
        }
    }
    let volumes = spec.volumes.get_or_insert_with(Vec::new);
    if !volumes.iter().any(|v| v.name == TOKEN_VOLUME) {
        volumes.push(Volume {
            name: TOKEN_VOLUME.into(),
            projected: Some(ProjectedVolumeSource {
                default_mode: None,
                sources: Some(vec![VolumeProjection {
                    service_account_token: Some(ServiceAccountTokenProjection {
                        audience: Some(TOKEN_AUDIENCE.into()),
                        expiration_seconds: Some(3600),
                        path: TOKEN_VOLUME.into(),
                    }),
                    ..Default::default()
                }]),
            }),
            ..Default::default()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Container, PodSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn pod(labelled: bool) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some("p".into()),
                namespace: Some("app".into()),
                labels: labelled.then(|| [(USE_LABEL.to_string(), "true".to_string())].into()),
                ..Default::default()
            },
            spec: Some(PodSpec {
                containers: vec![Container {
                    name: "app".into(),
                    env: Some(vec![EnvVar {
                        name: "AZURE_TENANT_ID".into(),
                        value: Some("mine".into()),
                        value_from: None,
                    }]),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn sa() -> ServiceAccount {
        ServiceAccount {
            metadata: ObjectMeta {
                name: Some("sa".into()),
                annotations: Some([(CLIENT_ID_ANNOTATION.to_string(), "cid".to_string())].into()),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn labelled_pod_gets_token_volume_and_env_without_overwriting() {
        let mut p = pod(true);
        admit(&mut p, &sa(), "tenant-1");
        let spec = p.spec.unwrap();
        let env: Vec<_> = spec.containers[0]
            .env
            .iter()
            .flatten()
            .map(|e| (e.name.as_str(), e.value.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(
            env,
            [
                ("AZURE_TENANT_ID", "mine"),
                ("AZURE_CLIENT_ID", "cid"),
                ("AZURE_FEDERATED_TOKEN_FILE", TOKEN_FILE),
                ("AZURE_AUTHORITY_HOST", AUTHORITY),
            ]
        );
        assert_eq!(spec.volumes.unwrap()[0].name, TOKEN_VOLUME);
    }

    #[test]
    fn unlabelled_pod_is_untouched() {
        let mut p = pod(false);
        let before = p.clone();
        admit(&mut p, &sa(), "tenant-1");
        assert_eq!(p, before);
    }
}
