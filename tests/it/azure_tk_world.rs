//! A fake Azure shaped for the testkit's `shop/web` chain (identity and its federated
//! credential, the vault, the secret's versions), read by the real observer; its observation
//! replaces the testkit snapshot's Azure side before the chain is diagnosed. Each test adds
//! the role assignments (and what else it varies).

use std::sync::Arc;
use std::time::Duration;

use crate::azure_support::{FakeAzure, Route};
use azure_core::http::Method;
use kvchain::chain::model::{Chain, LinkKind};
use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::snapshot::Snapshot;
use kvchain::source::azure::wanted;
use serde_json::{Value, json};

pub const ARM: &str = "management.azure.com";
pub const GRAPH: &str = "/providers/Microsoft.ResourceGraph/resources";
pub const SUB_GUID: &str = "00000000-0000-0000-0000-000000000001";
pub const SECRETS_USER_DEF: &str = "/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6";
pub const READER_DEF: &str = "/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Authorization/roleDefinitions/21090545-7ca7-4776-b22c-e363652d74d2";
pub const GROUP_OID: &str = "9a0f6a4e-1111-4222-8333-444455556666";

pub fn identity_id() -> String {
    format!(
        "{}/resourceGroups/rg-{NS}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{}",
        tk::SUBSCRIPTION,
        tk::identity_name(APP)
    )
}

fn graph_identity() -> String {
    json!({"totalRecords": 1, "count": 1, "resultTruncated": "false", "data": [{
        "id": identity_id(), "name": tk::identity_name(APP),
        "properties": {"clientId": tk::client_id(NS, APP), "principalId": tk::principal_id(NS, APP), "tenantId": tk::TENANT}
    }]})
    .to_string()
}

fn graph_vault(rbac: bool, policies: Value) -> String {
    json!({"totalRecords": 1, "count": 1, "resultTruncated": "false", "data": [{
        "id": tk::vault_id(NS), "name": tk::vault_name(NS),
        "properties": {"tenantId": tk::TENANT, "enableRbacAuthorization": rbac, "publicNetworkAccess": "Enabled",
            "networkAcls": {"defaultAction": "Allow"}, "accessPolicies": policies}
    }]})
    .to_string()
}

/// One role assignment as ARM lists it.
pub fn assignment(principal: &str, ptype: &str, role_def: &str, n: usize) -> Value {
    let scope = tk::vault_id(NS);
    json!({"properties": {"roleDefinitionId": role_def, "principalId": principal, "principalType": ptype, "scope": scope},
           "id": format!("{scope}/providers/Microsoft.Authorization/roleAssignments/00000000-0000-0000-0000-{n:012}"),
           "type": "Microsoft.Authorization/roleAssignments", "name": format!("00000000-0000-0000-0000-{n:012}")})
}

/// The identity's principal, holding `role_def` at the vault.
pub fn own_assignment(role_def: &str) -> Value {
    assignment(&tk::principal_id(NS, APP), "ServicePrincipal", role_def, 1)
}

/// An access policy for `object_id` with these secret permissions.
pub fn policy(object_id: &str, secrets: &[&str]) -> Value {
    json!({"tenantId": tk::TENANT, "objectId": object_id,
           "permissions": {"secrets": secrets, "keys": [], "certificates": []}})
}

pub fn custom_def_id(guid: &str) -> String {
    format!("/subscriptions/{SUB_GUID}/providers/Microsoft.Authorization/roleDefinitions/{guid}")
}

/// The fake Azure: the vault (RBAC or `policies`) listing `assignments` at its scope.
pub fn world(rbac: bool, policies: Value, assignments: Vec<Value>) -> Arc<FakeAzure> {
    let fake = Arc::new(FakeAzure::default());
    let kv_host = format!("{}.vault.azure.net", tk::vault_name(NS));
    let fic = json!({"value": [{"name": format!("{NS}-{APP}"), "properties": {"issuer": tk::ISSUER,
        "subject": format!("system:serviceaccount:{NS}:{}", tk::sa_name(APP)), "audiences": [tk::AUDIENCE]}}]});
    let versions = json!({"value": [{"id": format!("https://{kv_host}/secrets/{}/{}", tk::object_name(APP), tk::V1),
        "attributes": {"enabled": true, "created": 1700000000, "updated": 1700000000}}], "nextLink": null});
    let listing = format!(
        "{}/providers/Microsoft.Authorization/roleAssignments",
        tk::vault_id(NS)
    );
    fake.add(
        Route::new(Method::Post, ARM, GRAPH)
            .body_has("userassignedidentities")
            .reply(200, graph_identity()),
    )
    .add(
        Route::new(Method::Post, ARM, GRAPH)
            .body_has("keyvault/vaults")
            .reply(200, graph_vault(rbac, policies)),
    )
    .add(
        Route::get(
            ARM,
            &format!("{}/federatedIdentityCredentials", identity_id()),
        )
        .reply(200, fic.to_string()),
    )
    .add(
        Route::get(
            &kv_host,
            &format!("/secrets/{}/versions", tk::object_name(APP)),
        )
        .reply(200, versions.to_string()),
    )
    .add(Route::get(ARM, &listing).reply(200, json!({"value": assignments}).to_string()));
    fake
}

/// Observe `fake` for `s` (its Azure side replaced) and diagnose the shop chain.
pub async fn diagnose(fake: &Arc<FakeAzure>, s: &mut Snapshot) -> Chain {
    let observer = crate::azure_support::observer(fake, Duration::from_secs(3600));
    s.azure = observer.observe(&wanted(s)).await;
    kvchain::chain::diagnose(s)
        .into_iter()
        .find(|c| c.namespace.as_str() == NS)
        .expect("the shop chain")
}

/// The testkit's healthy world with the pod not (yet) mounted: no mount proves access.
pub fn unmounted() -> Snapshot {
    let mut s = tk::healthy();
    tk::unmount(&mut s, APP);
    s
}

pub fn codes(c: &Chain, kind: LinkKind) -> Vec<String> {
    let l = c.link(kind);
    l.findings.iter().map(|f| format!("{:?}", f.code)).collect()
}

/// The link as text: status, summary, facts, findings with their fixes (for assertions and
/// their messages).
pub fn shown(c: &Chain, kind: LinkKind) -> String {
    let l = c.link(kind);
    let mut out = format!("{kind:?}: {:?} — {}\n", l.status, l.summary);
    for f in &l.facts {
        out.push_str(&format!("  fact {}: {}\n", f.label, f.observed));
    }
    for f in &l.findings {
        out.push_str(&format!(
            "  {:?} {}\n    fix: {}\n",
            f.code, f.message, f.fix
        ));
    }
    out
}
