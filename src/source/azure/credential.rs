//! Which Azure credential kvchain uses. The choice is a pure function of the environment
//! (tested without touching it); building it is a thin layer over azure_identity.
//!
//! Order: `AZURE_TOKEN_CREDENTIALS` if set (the variable other Azure SDKs honour), else a
//! workload identity when kvchain runs in a pod that has one, else an environment service
//! principal, else the developer chain (Azure CLI, then Azure Developer CLI). Managed
//! identity is only used when asked for: probing IMDS from a laptop costs seconds per start.

use std::sync::Arc;

use azure_core::credentials::{Secret, TokenCredential};
use azure_identity::{
    ClientSecretCredential, DeveloperToolsCredential, ManagedIdentityCredential,
    ManagedIdentityCredentialOptions, UserAssignedId, WorkloadIdentityCredential,
};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CredentialKind {
    /// `az login` / `azd auth login`.
    DeveloperTools,
    /// `AZURE_TENANT_ID` + `AZURE_CLIENT_ID` + `AZURE_CLIENT_SECRET`.
    ServicePrincipal,
    /// `AZURE_FEDERATED_TOKEN_FILE` (+ client and tenant ids) as the webhook injects them.
    WorkloadIdentity,
    /// IMDS / App Service identity; user-assigned when `AZURE_CLIENT_ID` is set.
    ManagedIdentity { client_id: Option<String> },
}

impl CredentialKind {
    pub fn describe(&self) -> &'static str {
        match self {
            CredentialKind::DeveloperTools => "Azure CLI / Azure Developer CLI login",
            CredentialKind::ServicePrincipal => "service principal from AZURE_CLIENT_SECRET",
            CredentialKind::WorkloadIdentity => "workload identity (AZURE_FEDERATED_TOKEN_FILE)",
            CredentialKind::ManagedIdentity { .. } => "managed identity",
        }
    }

    /// What to tell the user when this credential yields no token.
    pub fn hint(&self) -> &'static str {
        match self {
            CredentialKind::DeveloperTools => {
                "no Azure credentials: run `az login` (or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET)"
            }
            CredentialKind::ServicePrincipal => {
                "Azure service principal login failed: check AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET"
            }
            CredentialKind::WorkloadIdentity => {
                "Azure workload identity login failed: check the federated credential of AZURE_CLIENT_ID"
            }
            CredentialKind::ManagedIdentity { .. } => {
                "Azure managed identity login failed: is an identity assigned to this machine?"
            }
        }
    }
}

/// Choose from environment variables (`get` is `std::env::var` in production).
pub fn choose(get: impl Fn(&str) -> Option<String>) -> Result<CredentialKind, String> {
    let has = |k: &str| get(k).is_some_and(|v| !v.trim().is_empty());
    if let Some(sel) = get("AZURE_TOKEN_CREDENTIALS").filter(|v| !v.trim().is_empty()) {
        return match sel.trim().to_ascii_lowercase().as_str() {
            "dev" | "azureclicredential" | "azuredeveloperclicredential" => {
                Ok(CredentialKind::DeveloperTools)
            }
            "environmentcredential" => Ok(CredentialKind::ServicePrincipal),
            "workloadidentitycredential" => Ok(CredentialKind::WorkloadIdentity),
            "managedidentitycredential" => Ok(CredentialKind::ManagedIdentity {
                client_id: get("AZURE_CLIENT_ID"),
            }),
            "prod" => Ok(if has("AZURE_FEDERATED_TOKEN_FILE") {
                CredentialKind::WorkloadIdentity
            } else if has("AZURE_CLIENT_SECRET") {
                CredentialKind::ServicePrincipal
            } else {
                CredentialKind::ManagedIdentity {
                    client_id: get("AZURE_CLIENT_ID"),
                }
            }),
            other => Err(format!(
                "AZURE_TOKEN_CREDENTIALS={other} is not understood (dev, prod, AzureCliCredential, EnvironmentCredential, WorkloadIdentityCredential, ManagedIdentityCredential)"
            )),
        };
    }
    if has("AZURE_FEDERATED_TOKEN_FILE") && has("AZURE_CLIENT_ID") && has("AZURE_TENANT_ID") {
        return Ok(CredentialKind::WorkloadIdentity);
    }
    if has("AZURE_CLIENT_SECRET") && has("AZURE_CLIENT_ID") && has("AZURE_TENANT_ID") {
        return Ok(CredentialKind::ServicePrincipal);
    }
    Ok(CredentialKind::DeveloperTools)
}

/// Build the chosen credential. Secrets stay inside azure_identity's `Secret` type.
pub fn build(
    kind: &CredentialKind,
    get: impl Fn(&str) -> Option<String>,
) -> Result<Arc<dyn TokenCredential>, String> {
    let short = |e: azure_core::Error| super::login_error::explain(kind, &e.to_string());
    Ok(match kind {
        CredentialKind::DeveloperTools => DeveloperToolsCredential::new(None).map_err(short)?,
        CredentialKind::WorkloadIdentity => WorkloadIdentityCredential::new(None).map_err(short)?,
        CredentialKind::ServicePrincipal => {
            let need = |k: &str| get(k).ok_or_else(|| format!("{}: {k} is not set", kind.hint()));
            ClientSecretCredential::new(
                &need("AZURE_TENANT_ID")?,
                need("AZURE_CLIENT_ID")?,
                Secret::new(need("AZURE_CLIENT_SECRET")?),
                None,
            )
            .map_err(short)?
        }
        CredentialKind::ManagedIdentity { client_id } => {
            ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
                user_assigned_id: client_id.clone().map(UserAssignedId::ClientId),
                ..Default::default()
            }))
            .map_err(short)?
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn developer_login_is_the_default() {
        assert_eq!(choose(env(&[])), Ok(CredentialKind::DeveloperTools));
        // A lone client id (e.g. left over in a shell) does not switch credentials.
        assert_eq!(
            choose(env(&[("AZURE_CLIENT_ID", "c")])),
            Ok(CredentialKind::DeveloperTools)
        );
    }

    #[test]
    fn pod_with_workload_identity_uses_it() {
        let e = env(&[
            ("AZURE_CLIENT_ID", "c"),
            ("AZURE_TENANT_ID", "t"),
            (
                "AZURE_FEDERATED_TOKEN_FILE",
                "/var/run/secrets/azure/tokens/azure-identity-token",
            ),
            ("AZURE_CLIENT_SECRET", "ignored"),
        ]);
        assert_eq!(choose(e), Ok(CredentialKind::WorkloadIdentity));
    }

    #[test]
    fn service_principal_from_environment() {
        let e = env(&[
            ("AZURE_CLIENT_ID", "c"),
            ("AZURE_TENANT_ID", "t"),
            ("AZURE_CLIENT_SECRET", "s"),
        ]);
        assert_eq!(choose(e), Ok(CredentialKind::ServicePrincipal));
    }

    #[test]
    fn managed_identity_only_when_asked() {
        let e = env(&[
            ("AZURE_TOKEN_CREDENTIALS", "ManagedIdentityCredential"),
            ("AZURE_CLIENT_ID", "c"),
        ]);
        assert_eq!(
            choose(e),
            Ok(CredentialKind::ManagedIdentity {
                client_id: Some("c".into())
            })
        );
        assert!(choose(env(&[("AZURE_TOKEN_CREDENTIALS", "magic")])).is_err());
    }
}
