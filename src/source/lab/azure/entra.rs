//! Entra ID in the lab: the exchange of a pod's service-account token for an access token of
//! a managed identity, through its federated identity credentials (FACTS §5, §7).

use super::msg;
use super::{AUTHORITY, BINDING_AUDIENCE, LabIdentity, TOKEN_AUDIENCE};

/// A successful token exchange: whom the vault sees.
#[derive(Clone, Debug)]
pub struct Token {
    pub client_id: String,
    pub principal_id: String,
    /// Tenant the token was issued in.
    pub tenant: String,
}

/// Entra: exchange the pod's service-account token (issuer, subject, audience) for an access
/// token of the application `client_id` in `tenant`. With identity `binding`
/// (`useAzureTokenProxy`) the token is the one for api://AKSIdentityBinding, and the identity
/// needs one federated credential for any number of workloads (FACTS §5): the lab takes any
/// credential of the identity with that audience as the binding's (the binding's own issuer
/// and subject are not simulated), never a workload-identity credential per service account.
pub fn exchange<'i>(
    mut candidates: impl Iterator<Item = &'i LabIdentity>,
    client_id: &str,
    tenant: &str,
    issuer: &str,
    subject: &str,
    binding: bool,
) -> Result<Token, String> {
    // A tenant that is neither a tenant id nor a domain (`tid` in upstream examples) is no
    // tenant at all: Entra answers that before it looks for the application (codes.yaml
    // KVC302: AADSTS900023).
    if !crate::snapshot::is_guid(tenant) && !tenant.contains('.') {
        return Err(msg::token_exchange_failed(
            AUTHORITY,
            tenant,
            400,
            "invalid_request",
            &msg::aadsts900023(tenant),
            900023,
        ));
    }
    // Ids are GUIDs, which Entra reads in any case (only issuer, subject and audience are
    // compared case-sensitively, FACTS §7): `0B9C…` names the identity `0b9c…` does.
    let Some(id) = candidates.find(|i| {
        i.client_id.eq_ignore_ascii_case(client_id) && i.tenant_id.eq_ignore_ascii_case(tenant)
    }) else {
        return Err(msg::token_exchange_failed(
            AUTHORITY,
            tenant,
            400,
            "unauthorized_client",
            &msg::aadsts700016(client_id, tenant),
            700016,
        ));
    };
    // Exact, case-sensitive comparison of all three (Graph FIC docs).
    let audience = if binding {
        BINDING_AUDIENCE
    } else {
        TOKEN_AUDIENCE
    };
    let matched = id.fics.iter().any(|f| {
        f.audiences.iter().any(|a| a == audience)
            && (binding || (f.issuer == issuer && f.subject == subject))
    });
    if !matched {
        return Err(msg::token_exchange_failed(
            AUTHORITY,
            tenant,
            400,
            "invalid_request",
            &msg::aadsts70021(issuer, subject, audience),
            70021,
        ));
    }
    Ok(Token {
        client_id: id.client_id.clone(),
        principal_id: id.principal_id.clone(),
        tenant: id.tenant_id.clone(),
    })
}
