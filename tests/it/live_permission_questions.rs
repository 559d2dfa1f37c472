//! The permission questions the TUI asks before an action (`PermissionQuestion`), end to end
//! on the running live source: Kubernetes access reviews, the caller's Key Vault data actions
//! (wildcards, object scopes, an unanswerable question), access-policy vaults. Asking changes
//! nothing in the cluster or the vault.

use std::sync::Arc;

use crate::azure_support::{self, FakeAzure, Route};
use crate::live_actions::{KV, OBJECT, VAULT, puts, rotate, start, verify_busybox};
use crate::live_support::*;
use azure_core::http::Method;
use kvchain::action::Action;
use kvchain::action::reveal::RevealTarget;
use kvchain::source::PermissionQuestion;
use serde_json::json;

#[tokio::test]
async fn permission_questions_ask_access_reviews_and_change_nothing() {
    let api = world();
    let mut run = start(&api, None).await;
    run.until(20, |s| !s.pods.items.is_empty()).await;
    assert_eq!(run.permitted(verify_busybox()).await, Ok(()));
    api.raw(
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
               "spec": {}, "status": {"allowed": false, "reason": "no RBAC policy matched"}}),
    );
    let denied = run
        .permitted(Action::Restart {
            namespace: NS.into(),
            pod: POD.into(),
        })
        .await
        .unwrap_err();
    assert!(
        denied.contains("not allowed to delete pods") && denied.contains("no RBAC policy matched"),
        "{denied}"
    );
    let reqs = api.requests();
    assert_eq!(
        reqs.iter()
            .filter(|r| r.contains("selfsubjectaccessreviews"))
            .count(),
        2,
        "{reqs:?}"
    );
    assert!(
        !reqs
            .iter()
            .any(|r| r.starts_with("DELETE") || r.starts_with("PATCH") || r.contains("/exec")),
        "{reqs:?}"
    );
    assert!(run.audit_lines().is_empty());
}

/// Resource Graph knows kv-payments: RBAC, or access policies granting `policy_secrets`.
fn vault_graph(fake: &FakeAzure, rbac: bool, policy_secrets: &[&str]) {
    fake.add(
        Route::new(Method::Post, azure_support::ARM, azure_support::GRAPH)
            .body_has("keyvault/vaults")
            .reply(
                200,
                json!({"totalRecords": 1, "count": 1, "data": [{
                    "id": azure_support::vault_id(VAULT), "name": VAULT,
                    "properties": {"tenantId": azure_support::TENANT,
                                   "enableRbacAuthorization": rbac,
                                   "accessPolicies": [{"tenantId": azure_support::TENANT,
                                       "objectId": azure_support::PRINCIPAL_ID,
                                       "permissions": {"secrets": policy_secrets}}]}}]})
                .to_string(),
            ),
    );
}

/// ARM's "Permissions - List For Resource" at kv-payments.
fn permissions_path() -> String {
    format!(
        "{}/providers/Microsoft.Authorization/permissions",
        azure_support::vault_id(VAULT)
    )
}

fn vault_reveal() -> PermissionQuestion {
    PermissionQuestion::Reveal(RevealTarget::VaultSecret {
        vault: VAULT.into(),
        object: OBJECT.into(),
        version: None,
    })
}

/// A caller with Key Vault Secrets User on an RBAC vault may reveal but not rotate: asked
/// ahead of time from its ARM permissions at the vault (one call for both questions), the
/// denial names the data action and the role, and nothing is read, written or recorded.
#[tokio::test]
async fn key_vault_permission_questions_read_the_callers_data_actions() {
    let fake = Arc::new(FakeAzure::default());
    vault_graph(&fake, true, &[]);
    fake.add(
        Route::get(azure_support::ARM, &permissions_path())
            .query_has("api-version=2022-04-01")
            .reply(
                200,
                json!({"value": [
                    {"actions": [], "notActions": [],
                     "dataActions": ["Microsoft.KeyVault/vaults/secrets/getSecret/action",
                                     "Microsoft.KeyVault/vaults/secrets/readMetadata/action"],
                     "notDataActions": []},
                    {"actions": ["*/read"], "notActions": [], "dataActions": [], "notDataActions": []}
                ]})
                .to_string(),
            ),
    );
    let mut run = start(&world(), Some(&fake)).await;
    let denied = run.permitted(rotate(false)).await.unwrap_err();
    assert_eq!(
        denied,
        "kvchain's Azure identity lacks Microsoft.KeyVault/vaults/secrets/setSecret/action on vault kv-payments (Key Vault Secrets Officer)"
    );
    assert_eq!(run.permitted(vault_reveal()).await, Ok(()));
    assert_eq!(run.permitted(rotate(true)).await, Err(denied));
    assert_eq!(
        fake.count("/providers/Microsoft.Authorization/permissions"),
        1,
        "cached for the refresh interval: {:?}",
        fake.log()
    );
    assert!(
        !fake
            .log()
            .iter()
            // Version lists and, on a miss, the deleted listings: ids and dates, no value.
            .any(|l| l.contains(KV) && !l.contains("/versions") && !l.contains("/deleted")),
        "no value read: {:?}",
        fake.log()
    );
    assert!(puts(&fake).is_empty());
    assert!(run.audit_lines().is_empty());
}

/// `Microsoft.KeyVault/vaults/*` (Key Vault Administrator) covers the rotation test; a
/// permissions API that refuses to answer greys nothing.
#[tokio::test]
async fn key_vault_wildcards_allow_and_an_unanswerable_question_is_a_yes() {
    let fake = Arc::new(FakeAzure::default());
    vault_graph(&fake, true, &[]);
    fake.add(
        Route::get(azure_support::ARM, &permissions_path()).reply(
            200,
            json!({"value": [{"actions": [], "notActions": [],
                              "dataActions": ["Microsoft.KeyVault/vaults/*"],
                              "notDataActions": []}]})
            .to_string(),
        ),
    );
    let mut run = start(&world(), Some(&fake)).await;
    assert_eq!(run.permitted(rotate(false)).await, Ok(()));

    let refused = Arc::new(FakeAzure::default());
    vault_graph(&refused, true, &[]);
    refused.add(
        Route::get(azure_support::ARM, &permissions_path()).reply(
            403,
            json!({"error": {"code": "AuthorizationFailed",
                "message": "The client does not have authorization to perform action 'Microsoft.Authorization/permissions/read'"}})
            .to_string(),
        ),
    );
    let mut run = start(&world(), Some(&refused)).await;
    assert_eq!(run.permitted(rotate(false)).await, Ok(()));
    assert_eq!(run.permitted(vault_reveal()).await, Ok(()));
    assert_eq!(
        refused.count("/providers/Microsoft.Authorization/permissions"),
        1
    );

    // No Azure at all: nothing can be answered, nothing is greyed.
    let mut run = start(&world(), None).await;
    assert_eq!(run.permitted(rotate(false)).await, Ok(()));
}

/// A role assignment on a single secret is not in the vault-scope permissions list: once the
/// Azure side has seen one on the vault, a vault-scope "no" is uncertain and greys nothing.
#[tokio::test]
async fn object_scoped_assignments_make_a_vault_scope_no_uncertain() {
    let fake = Arc::new(FakeAzure::default());
    vault_graph(&fake, true, &[]);
    let vault = azure_support::vault_id(VAULT);
    let object_scope = format!("{vault}/secrets/{OBJECT}");
    fake.add(
        Route::get(azure_support::ARM, &permissions_path()).reply(
            200,
            json!({"value": [{"dataActions": ["Microsoft.KeyVault/vaults/secrets/getSecret/action"]}]})
                .to_string(),
        ),
    )
    .add(
        Route::get(
            azure_support::ARM,
            &format!("{vault}/providers/Microsoft.Authorization/roleAssignments"),
        )
        .reply(
            200,
            json!({"value": [{"properties": {
                "roleDefinitionId": format!("/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/b86a8fe4-44ce-4948-aee5-eccb2c155cd7", azure_support::SUB),
                "principalId": azure_support::PRINCIPAL_ID,
                "scope": object_scope}}]})
            .to_string(),
        ),
    );
    let mut run = start(&world(), Some(&fake)).await;
    run.until(10, |s| {
        s.azure
            .role_assignments
            .items
            .iter()
            .any(|a| a.scope == object_scope)
    })
    .await;
    assert_eq!(run.permitted(rotate(false)).await, Ok(()));
    assert_eq!(
        fake.count("/providers/Microsoft.Authorization/permissions"),
        1
    );
}

/// Access-policy vaults answer from their policies (no ARM permissions call): nobody holds
/// secrets/set, so the rotation test is a certain "no"; secrets/get is granted, so reveal may be.
#[tokio::test]
async fn access_policy_vaults_answer_from_their_policies() {
    let fake = Arc::new(FakeAzure::default());
    vault_graph(&fake, false, &["Get", "List"]);
    let mut run = start(&world(), Some(&fake)).await;
    let denied = run.permitted(rotate(false)).await.unwrap_err();
    assert!(
        denied.starts_with("no access policy on vault kv-payments grants secrets/set"),
        "{denied}"
    );
    assert_eq!(run.permitted(vault_reveal()).await, Ok(()));
    assert_eq!(
        fake.count("/providers/Microsoft.Authorization/permissions"),
        0
    );
}
