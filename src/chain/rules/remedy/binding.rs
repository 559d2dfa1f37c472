//! AADSTS70021 (KVC405) as a token exchange sees it, by what the snapshot holds of the
//! identity's federated credentials (audit O6). FACTS §11: which of issuer, subject and
//! audience differs is found only by comparing the presented values with each credential of
//! the identity — so a known list is compared, never called "not visible". FACTS §5:
//! identity binding (`useAzureTokenProxy: "true"`) presents the token for audience
//! api://AKSIdentityBinding and needs one credential per identity for any number of
//! workloads — the AKS identity binding's — not a workload-identity credential per service
//! account.

use super::audience::BINDING_AUDIENCE;
use super::{aks_name, aks_rg, identity_by_client, identity_name, identity_rg, known_client_id};
use crate::chain::context::{AuthMode, Ctx};
use crate::chain::events::Presented;

/// What the message says of the identity's credentials after the presented values.
pub(super) fn compared(cx: &Ctx, p: Option<&Presented>) -> String {
    let binding = matches!(cx.mode, AuthMode::TokenProxy { .. });
    let fics = cx.identity.and_then(|i| i.federated_credentials.known());
    let mode = if binding {
        format!(
            ". The mount uses identity binding (useAzureTokenProxy), which needs the identity's one binding credential (audience {BINDING_AUDIENCE}), serving any number of workloads"
        )
    } else {
        String::new()
    };
    let Some(fics) = fics else {
        return format!(
            "{mode}. The credentials are not visible here, so the credential's issuer (often a missing or extra trailing '/'), subject or audience may be the field that differs"
        );
    };
    let id = identity_name(cx);
    if fics.is_empty() {
        return format!("{mode}; identity {id} has no federated credential at all");
    }
    if binding
        && !fics
            .iter()
            .any(|f| f.audiences.iter().any(|a| a == BINDING_AUDIENCE))
    {
        return format!(
            "{mode}; none of identity {id}'s {} federated credentials ({}) has audience {BINDING_AUDIENCE}",
            fics.len(),
            names(fics.iter())
        );
    }
    // Each credential against the presented values: the fields that differ.
    let Some(p) = p else {
        return format!(
            "{mode}; identity {id}'s federated credentials ({}) are to be compared with the presented values",
            names(fics.iter())
        );
    };
    let diffs: Vec<String> = fics
        .iter()
        .filter(|f| !binding || f.audiences.iter().any(|a| a == BINDING_AUDIENCE))
        .map(|f| {
            let mut d = Vec::new();
            if f.issuer != p.issuer {
                d.push(format!("issuer {}", f.issuer));
            }
            if f.subject != p.subject {
                d.push(format!("subject {}", f.subject));
            }
            if !f.audiences.contains(&p.audience) {
                d.push(format!("audience {}", f.audiences.join(",")));
            }
            if d.is_empty() {
                // FACTS §7: a new credential can fail for a couple of minutes.
                return format!(
                    "{} matches all three (if it is new, caches take a few minutes to know it)",
                    f.name
                );
            }
            format!("{} differs in {}", f.name, d.join(", "))
        })
        .collect();
    format!(
        "{mode}; of identity {id}'s credentials, {}",
        diffs.join("; ")
    )
}

/// The fix under identity binding: the identity's binding on this cluster, whose credential
/// serves every workload using the identity (FACTS §5), not a credential per service account.
pub(super) fn fix(cx: &Ctx) -> Option<String> {
    if !matches!(cx.mode, AuthMode::TokenProxy { .. }) {
        return None;
    }
    let note = |id: &str| {
        format!(
            "identity binding needs one federated credential per identity (audience {BINDING_AUDIENCE}), which the binding makes and which serves every workload using {id}; no credential per service account"
        )
    };
    // Not observed but named by the SPC's clientID: looked up by clientId (audit T6), the
    // binding named as the identity, and nothing run when no identity has that clientId.
    if cx.identity.is_none()
        && let Some(client) = known_client_id(cx)
    {
        return Some(format!(
            "ID={} && [ -n \"$ID\" ] && az aks identity-binding create -g {} --cluster-name {} -n \"${{ID##*/}}\" --managed-identity-resource-id \"$ID\"  # {}",
            identity_by_client(client, "id"),
            aks_rg(cx),
            aks_name(cx),
            note(&format!("the identity with clientId {client}"))
        ));
    }
    let id = identity_name(cx);
    Some(format!(
        "az aks identity-binding create -g {} --cluster-name {} -n {id} --managed-identity-resource-id \"$(az identity show -n {id} -g {} --query id -o tsv)\"  # {}",
        aks_rg(cx),
        aks_name(cx),
        identity_rg(cx),
        note(&id)
    ))
}

fn names<'a>(fics: impl Iterator<Item = &'a crate::snapshot::FederatedCredentialObs>) -> String {
    fics.map(|f| f.name.as_str()).collect::<Vec<_>>().join(", ")
}
