//! The tenant an SPC should name, as a fix writes it. FACTS §11: a managed identity (or a
//! service principal) exists only in its home tenant, so the SPC `tenantID` is the identity's
//! home tenant — not the vault's, which is a documented cause of AADSTS700016 when the two
//! differ (codes.yaml KVC404).

use super::cluster_tenant;
use crate::chain::context::{AuthMode, Ctx};
use crate::chain::rules::params::is_placeholder;

/// The home tenant of the identity the SPC authenticates as: its id when the snapshot knows
/// it (the identity's own, or the cluster's for the node's managed identity, which AKS creates
/// in the cluster's tenant), else what to look up and where, in words a fix comment can hold.
pub(crate) fn home_tenant(cx: &Ctx) -> String {
    let client = cx.mode.client_id().filter(|c| !is_placeholder(c));
    if let Some(t) = client
        .and_then(|c| cx.ix.identity(c))
        .map(|i| i.tenant_id.as_str())
        .filter(|t| !t.is_empty())
    {
        return t.to_string();
    }
    match &cx.mode {
        AuthMode::VmIdentity { .. } => cluster_tenant(cx).map_or_else(
            || {
                // Not `az aks show --query identity.tenantId`: that is the tenant of a
                // system-assigned control-plane identity only, empty on a cluster with a
                // user-assigned one or a service principal (ManagedClusterIdentity.tenantId).
                // AKS creates the node identities in the cluster's subscription, whose tenant
                // `az account show` prints (with az set to that subscription).
                "<the cluster's tenant id, where its node identities live: the tenant of its subscription, az account show --query tenantId -o tsv>".to_string()
            },
            str::to_string,
        ),
        // The application the Secret's clientid names, looked up when pasted (FACTS §5).
        AuthMode::ServicePrincipal { .. } => match super::service_principal_show(cx) {
            Some(sp) => format!(
                "<the service principal's home tenant id (its app registration's tenant): {sp} --query appOwnerOrganizationId -o tsv>"
            ),
            None => "<the service principal's home tenant id (its app registration's tenant)>"
                .to_string(),
        },
        AuthMode::WorkloadIdentity { .. } | AuthMode::TokenProxy { .. } | AuthMode::PodIdentity => {
            match client {
                Some(c) => format!(
                    "<the identity's home tenant id: {}>",
                    super::identity_list(c, ".tenantId\" -o tsv")
                ),
                None => "<the identity's home tenant id>".to_string(),
            }
        }
        // No mode settled yet: either kind of identity may be meant.
        AuthMode::Invalid | AuthMode::Unknown => {
            "<the identity's home tenant id (for a service principal, its app registration's tenant)>".to_string()
        }
    }
}

/// The tenant key a fix edits: the one the SPC has, even empty (`tenantId: ""` is edited in
/// place, not shadowed by a second key); `tenantID`, the non-deprecated spelling (FACTS §5),
/// when it has neither.
pub(crate) fn tenant_key_to_edit(cx: &Ctx) -> &'static str {
    let present = |k: &str| {
        cx.attributes.contains_key(k) || cx.spc.is_some_and(|s| s.parameters.contains_key(k))
    };
    match cx.tenant_key() {
        "tenantID" if !present("tenantID") && present("tenantId") => "tenantId",
        key => key,
    }
}
