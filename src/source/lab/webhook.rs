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
pub const PROXY_SIDECAR_ANNOTATION: &str = "azure.workload.identity/inject-proxy-sidecar";
pub const EXPIRATION_ANNOTATION: &str = "azure.workload.identity/service-account-token-expiration";
/// The webhook's name, as the API server quotes it in a denial.
pub const WEBHOOK: &str = "mutation.azure-workload-identity.io";
/// The bounds and default of the projected token's lifetime, in seconds (FACTS §6).
const MIN_EXPIRATION: i64 = 3600;
const MAX_EXPIRATION: i64 = 86400;
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
///
/// Refuses, as upstream does (FACTS §6), a proxy sidecar on a hostNetwork pod and a token
/// expiration outside 3600–86400: with `failurePolicy: Fail` the API server then refuses the
/// pod, and the error is the denial it returns.
pub fn admit(pod: &mut Pod, sa: &ServiceAccount, cluster_tenant: &str) -> Result<(), String> {
    if !selects(pod) || pod.metadata.namespace.as_deref() == Some("kube-system") {
        return Ok(());
    }
    let expiration = refusal(pod, sa)
        .map_err(|why| format!("admission webhook \"{WEBHOOK}\" denied the request: {why}"))?;
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
        return Ok(());
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
                        expiration_seconds: Some(expiration),
                        path: TOKEN_VOLUME.into(),
                    }),
                    ..Default::default()
                }]),
            }),
            ..Default::default()
        });
    }
    Ok(())
}

/// The webhook's checks before it mutates, in its order: the proxy sidecar (asked for by the
/// annotation's presence, whatever its value) on a hostNetwork pod, then the token expiration
/// (the pod's annotation over the service account's; empty counts as unset). Ok: the
/// expiration to project.
fn refusal(pod: &Pod, sa: &ServiceAccount) -> Result<i64, String> {
    let pod_ann = pod.metadata.annotations.as_ref();
    let host_network = pod.spec.as_ref().and_then(|s| s.host_network) == Some(true);
    if pod_ann.is_some_and(|a| a.contains_key(PROXY_SIDECAR_ANNOTATION)) && host_network {
        return Err("hostNetwork is set to true, cannot inject proxy sidecar".into());
    }
    let set = |a: Option<&std::collections::BTreeMap<String, String>>| {
        a.and_then(|a| a.get(EXPIRATION_ANNOTATION))
            .filter(|v| !v.is_empty())
            .cloned()
    };
    let Some(value) = set(pod_ann).or_else(|| set(sa.metadata.annotations.as_ref())) else {
        return Ok(MIN_EXPIRATION);
    };
    // Go's strconv.ParseInt(value, 10, 64), as upstream parses it.
    match value.parse::<i64>() {
        Ok(n) if (MIN_EXPIRATION..=MAX_EXPIRATION).contains(&n) => Ok(n),
        Ok(n) => Err(format!(
            "token expiration {n} not valid. Expected value to be between {MIN_EXPIRATION} and {MAX_EXPIRATION}"
        )),
        Err(e) => {
            let why = match e.kind() {
                std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow => {
                    "value out of range"
                }
                _ => "invalid syntax",
            };
            Err(format!("strconv.ParseInt: parsing {value:?}: {why}"))
        }
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
        admit(&mut p, &sa(), "tenant-1").unwrap();
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

    /// FACTS §6: a container skip-containers names (`c1;c2`, trimmed) gets neither the
    /// variables nor the token mount; the pod gets the token volume all the same.
    #[test]
    fn skipped_container_gets_no_env_and_no_mount() {
        let mut p = pod(true);
        p.metadata.annotations = Some(
            [(
                SKIP_CONTAINERS_ANNOTATION.to_string(),
                " app ;other".to_string(),
            )]
            .into(),
        );
        let before = p.spec.as_ref().unwrap().containers[0].clone();
        admit(&mut p, &sa(), "tenant-1").unwrap();
        let spec = p.spec.unwrap();
        assert_eq!(spec.containers[0], before);
        assert_eq!(spec.volumes.unwrap()[0].name, TOKEN_VOLUME);
    }

    #[test]
    fn unlabelled_pod_is_untouched() {
        let mut p = pod(false);
        let before = p.clone();
        admit(&mut p, &sa(), "tenant-1").unwrap();
        assert_eq!(p, before);
    }

    /// FACTS §6: a proxy sidecar on a hostNetwork pod is an admission error, asked for by the
    /// annotation's presence (any value); the pod is left as it was.
    #[test]
    fn proxy_sidecar_on_host_network_is_refused() {
        for value in ["true", "false"] {
            let mut p = pod(true);
            p.metadata.annotations =
                Some([(PROXY_SIDECAR_ANNOTATION.to_string(), value.to_string())].into());
            p.spec.as_mut().unwrap().host_network = Some(true);
            let before = p.clone();
            let err = admit(&mut p, &sa(), "tenant-1").unwrap_err();
            assert_eq!(
                err,
                "admission webhook \"mutation.azure-workload-identity.io\" denied the request: hostNetwork is set to true, cannot inject proxy sidecar"
            );
            assert_eq!(p, before);
        }
        // Either alone is admitted.
        let mut p = pod(true);
        p.spec.as_mut().unwrap().host_network = Some(true);
        assert!(admit(&mut p, &sa(), "tenant-1").is_ok());
    }

    /// FACTS §6: token expiration valid 3600–86400, the pod's annotation over the service
    /// account's; the admitted value is what the projected token asks for.
    #[test]
    fn token_expiration_outside_the_bounds_is_refused() {
        let with = |pod_value: Option<&str>, sa_value: Option<&str>| {
            let mut p = pod(true);
            p.metadata.annotations =
                pod_value.map(|v| [(EXPIRATION_ANNOTATION.to_string(), v.to_string())].into());
            let mut s = sa();
            if let Some(v) = sa_value {
                s.metadata
                    .annotations
                    .as_mut()
                    .unwrap()
                    .insert(EXPIRATION_ANNOTATION.into(), v.into());
            }
            admit(&mut p, &s, "tenant-1").map(|()| {
                let v = &p.spec.unwrap().volumes.unwrap()[0];
                v.projected.as_ref().unwrap().sources.as_ref().unwrap()[0]
                    .service_account_token
                    .as_ref()
                    .unwrap()
                    .expiration_seconds
            })
        };
        let refused = |n: &str| {
            format!(
                "admission webhook \"mutation.azure-workload-identity.io\" denied the request: token expiration {n} not valid. Expected value to be between 3600 and 86400"
            )
        };
        assert_eq!(with(Some("1800"), None), Err(refused("1800")));
        assert_eq!(with(None, Some("90000")), Err(refused("90000")));
        // The pod's annotation wins over the service account's.
        assert_eq!(with(Some("86400"), Some("90000")), Ok(Some(86400)));
        assert_eq!(with(None, Some("7200")), Ok(Some(7200)));
        assert_eq!(with(None, None), Ok(Some(3600)));
        assert!(
            with(Some("1h"), None)
                .unwrap_err()
                .ends_with("strconv.ParseInt: parsing \"1h\": invalid syntax")
        );
    }
}
