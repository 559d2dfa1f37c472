//! `generated:N`: a large world of N pods for benchmarks and property tests. Deployments of up
//! to five replicas, twenty per namespace, one vault per namespace, each with its own identity,
//! federated credential, role assignment, SecretProviderClass (synced Secret) and an env
//! consumer. With `planted_faults`, every tenth workload carries one planted fault.

use serde_json::json;

use super::scenario::{
    ClusterSpec, FederatedCredential, KeyVault, KeyVaultSpec, ManagedIdentity, ManagedIdentitySpec,
    NetworkSpec, RoleAssignment, RoleAssignmentSpec, Scenario, ScopeSpec, SecretSpec,
};

pub const TENANT: &str = "8f3c2b1a-0d4e-4c6b-9a7f-1e2d3c4b5a60";
pub const ISSUER: &str = "https://westeurope.oic.prod-aks.azure.com/8f3c2b1a-0d4e-4c6b-9a7f-1e2d3c4b5a60/3c9f7a52-6b1e-4d2a-8f0c-5e7d9b1a2c34/";

/// The most pods a lab world holds (`generated:N`, and all replicas of a scenario).
pub const MAX_PODS: usize = 200_000;

/// Parses `generated:N`.
pub fn parse_spec(s: &str) -> Option<Result<usize, String>> {
    let n = s.strip_prefix("generated:")?;
    Some(
        n.parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PODS).contains(n))
            .ok_or_else(|| format!("generated:N needs N between 1 and {MAX_PODS}, got {n:?}")),
    )
}

fn guid(kind: u32, i: usize) -> String {
    format!("{kind:08x}-{:04x}-4000-8000-{i:012x}", (i >> 16) & 0xffff)
}

/// Which planted fault workload `g` gets, if any.
pub fn planted(g: usize) -> Option<&'static str> {
    if g % 10 != 9 {
        return None;
    }
    Some(["subject-typo", "no-role", "object-missing"][(g / 10) % 3])
}

pub fn scenario(pods: usize, planted_faults: bool) -> Result<Scenario, String> {
    let mut sc = Scenario {
        name: format!("generated:{pods}"),
        cluster: ClusterSpec {
            oidc_issuer_url: ISSUER.into(),
            tenant_id: TENANT.into(),
            // Rotation on, as the generated fleet always ran (the lab's default is off,
            // FACTS §4).
            csi_driver: super::scenario::CsiDriverSpec {
                enable_secret_rotation: true,
                ..Default::default()
            },
            // Its Deployments are annotated for Reloader, which runs (the lab's default is
            // none): the generated fleet is healthy.
            reloader: true,
            ..ClusterSpec::default()
        },
        ..Scenario::default()
    };
    let groups = pods.div_ceil(5);
    for g in 0..groups {
        let replicas = (pods - g * 5).min(5);
        let ns_index = g / 20;
        let ns = format!("team-{ns_index:03}");
        let vault = format!("kv-gen-{ns_index:04}");
        if g % 20 == 0 {
            sc.namespaces.push(from(
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
            )?);
            sc.vaults.push(KeyVault {
                name: vault.clone(),
                spec: KeyVaultSpec {
                    tenant_id: TENANT.into(),
                    resource_group: "rg-gen".into(),
                    enable_rbac_authorization: true,
                    network: NetworkSpec::default(),
                    access_policies: Vec::new(),
                    request_limit: None,
                    secrets: Vec::new(),
                    keys: Vec::new(),
                    certificates: Vec::new(),
                    purge_protection: false,
                    soft_delete_retention_days: 90,
                },
            });
        }
        let fault = if planted_faults { planted(g) } else { None };
        let app = format!("app-{g:05}");
        let client_id = guid(0xc11e, g);
        let principal_id = guid(0x0b1e, g);
        let subject = format!("system:serviceaccount:{ns}:{app}");
        sc.identities.push(ManagedIdentity {
            name: format!("id-{app}"),
            spec: ManagedIdentitySpec {
                client_id: client_id.clone(),
                principal_id: principal_id.clone(),
                tenant_id: TENANT.into(),
                resource_group: "rg-gen".into(),
                former_principal_ids: Vec::new(),
                federated_credentials: vec![FederatedCredential {
                    name: format!("fic-{app}"),
                    issuer: ISSUER.into(),
                    subject: if fault == Some("subject-typo") {
                        format!("system:serviceaccount:{ns}:{}", app.replace("app", "App"))
                    } else {
                        subject
                    },
                    audiences: vec!["api://AzureADTokenExchange".into()],
                    modified_at: None,
                }],
            },
        });
        if fault != Some("no-role") {
            sc.role_assignments.push(RoleAssignment {
                name: format!("ra-{app}"),
                spec: RoleAssignmentSpec {
                    principal_id,
                    role: "Key Vault Secrets User".into(),
                    scope: ScopeSpec::of_vault(&vault),
                    data_actions: None,
                    not_data_actions: Vec::new(),
                },
                created_at: None,
            });
        }
        let secret = format!("{app}-password");
        if fault != Some("object-missing")
            && let Some(v) = sc.vaults.last_mut()
        {
            v.spec.secrets.push(SecretSpec {
                name: secret.clone(),
                value: Some(format!("generated-value-{g}")),
                versions: Vec::new(),
                enabled: true,
                expires_in: None,
                expired: false,
                not_before_in: None,
                content_type: None,
                deleted: false,
            });
        }
        sc.service_accounts.push(from(json!({
            "apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": app, "namespace": ns,
                "annotations": {"azure.workload.identity/client-id": client_id}}
        }))?);
        let objects = format!(
            "array:\n  - |\n    objectName: {secret}\n    objectType: secret\n    objectAlias: password\n"
        );
        sc.spcs.push(from(json!({
            "apiVersion": "secrets-store.csi.x-k8s.io/v1", "kind": "SecretProviderClass",
            "metadata": {"name": app, "namespace": ns},
            "spec": {
                "provider": "azure",
                "parameters": {"clientID": client_id, "keyvaultName": vault, "tenantId": TENANT, "objects": objects},
                "secretObjects": [{"secretName": format!("{app}-secrets"), "type": "Opaque",
                    "data": [{"objectName": "password", "key": "password"}]}]
            }
        }))?);
        sc.deployments.push(from(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": app, "namespace": ns,
                "annotations": {"reloader.stakater.com/auto": "true"}},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": app}},
                "template": {
                    "metadata": {"labels": {"app": app, "azure.workload.identity/use": "true"}},
                    "spec": {
                        "serviceAccountName": app,
                        "containers": [{
                            "name": "app", "image": "mcr.microsoft.com/azurelinux/busybox:1.36",
                            "env": [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": format!("{app}-secrets"), "key": "password"}}}],
                            "volumeMounts": [{"name": "secrets", "mountPath": "/mnt/secrets", "readOnly": true}]
                        }],
                        "volumes": [{"name": "secrets", "csi": {"driver": "secrets-store.csi.k8s.io", "readOnly": true,
                            "volumeAttributes": {"secretProviderClass": app}}}]
                    }
                }
            }
        }))?);
    }
    Ok(sc)
}

fn from<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Result<T, String> {
    serde_json::from_value(v).map_err(|e| format!("generator produced an invalid object: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_names_follow_n() {
        let sc = scenario(12, true).unwrap();
        assert_eq!(sc.deployments.len(), 3);
        let replicas: Vec<i32> = sc
            .deployments
            .iter()
            .map(|d| d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0))
            .collect();
        assert_eq!(replicas, [5, 5, 2]);
        assert_eq!(sc.spcs[0].metadata.name.as_deref(), Some("app-00000"));
        assert!(
            sc.deployments[0]
                .spec
                .as_ref()
                .unwrap()
                .template
                .spec
                .is_some()
        );
        assert_eq!(parse_spec("generated:10"), Some(Ok(10)));
        assert!(matches!(parse_spec("generated:x"), Some(Err(_))));
        assert_eq!(parse_spec("default"), None);
    }
}
