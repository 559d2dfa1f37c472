//! A grant made at another resource group than the vault's. A role assignment applies at its
//! scope and below it only (Microsoft Learn, "Understand scope for Azure RBAC"), so no vault
//! listing returns it: kvchain reads each identity's own assignments in the vault's
//! subscription (ARM's `principalId eq` filter returns those "at, above or below the scope for
//! the specified principal", Role Assignments - List For Scope) so KVC501 can say the grant is
//! misplaced, not missing (codes.yaml KVC501: "at another scope"). The vault's own listing
//! stays what says whether the read is granted.

use crate::azure_support::{GRAPH, Route};
use crate::azure_tk_world::{ARM, SECRETS_USER_DEF, codes, diagnose, shown, unmounted, world};
use azure_core::http::Method;
use kvchain::chain::model::{Chain, LinkKind, Status};
use kvchain::chain::testkit::{self as tk, APP, NS};
use serde_json::{Value, json};

const ACCESS: LinkKind = LinkKind::Access;

/// The Access link's findings' evidence, one line each.
fn evidence(c: &Chain) -> String {
    (c.link(ACCESS).findings.iter())
        .flat_map(|f| f.evidence.iter().map(|e| format!("{e}\n")))
        .collect()
}
const ELSEWHERE: &str =
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-elsewhere";

/// The identity's Key Vault Secrets User at `scope`, as ARM lists it.
fn grant_at(scope: &str) -> Value {
    json!({"properties": {"roleDefinitionId": SECRETS_USER_DEF, "principalId": tk::principal_id(NS, APP),
            "principalType": "ServicePrincipal", "scope": scope},
           "id": format!("{scope}/providers/Microsoft.Authorization/roleAssignments/00000000-0000-0000-0000-000000000077"),
           "type": "Microsoft.Authorization/roleAssignments", "name": "00000000-0000-0000-0000-000000000077"})
}

/// The identity's own listing in the vault's subscription answers `status` with `grants`.
fn principal_listing(status: u16, grants: Vec<Value>) -> Route {
    let body = match status {
        200 => json!({"value": grants}).to_string(),
        _ => r#"{"error":{"code":"AuthorizationFailed","message":"The client does not have authorization to perform action 'Microsoft.Authorization/roleAssignments/read' over scope '/subscriptions/00000000-0000-0000-0000-000000000001'"}}"#.to_string(),
    };
    Route::get(
        ARM,
        &format!(
            "{}/providers/Microsoft.Authorization/roleAssignments",
            tk::SUBSCRIPTION
        ),
    )
    .query_has(&format!(
        "principalId%20eq%20%27{}%27",
        tk::principal_id(NS, APP)
    ))
    .reply(status, body)
}

/// KVC501, its evidence naming the identity's Key Vault Secrets User at `scope` as a grant
/// that does not reach the vault.
fn kvc501_names_the_grant_at(c: &Chain, scope: &str) {
    let out = shown(c, ACCESS) + &evidence(c);
    assert!(codes(c, ACCESS).contains(&"KVC501".to_string()), "{out}");
    assert!(
        out.contains(&format!(
            "Key Vault Secrets User at {scope} does not reach vault {}",
            tk::vault_name(NS)
        )),
        "{out}"
    );
}

#[tokio::test]
async fn kvc501_names_the_grant_made_at_another_resource_group() {
    let fake = world(true, json!([]), vec![]);
    fake.add(principal_listing(200, vec![grant_at(ELSEWHERE)]));
    let c = diagnose(&fake, &mut unmounted()).await;
    kvc501_names_the_grant_at(&c, ELSEWHERE);
    assert_eq!(
        fake.count("principalId%20eq%20"),
        1,
        "one listing per identity and subscription: {:#?}",
        fake.log()
    );
}

#[tokio::test]
async fn an_identity_s_listing_refused_leaves_kvc501_as_the_vault_s_listing_says() {
    let fake = world(true, json!([]), vec![]);
    fake.add(principal_listing(403, vec![]));
    let c = diagnose(&fake, &mut unmounted()).await;
    let out = shown(&c, ACCESS) + &evidence(&c);
    assert_eq!(codes(&c, ACCESS), ["KVC501"], "{out}");
    assert!(!out.contains("does not reach vault"), "{out}");
    assert!(
        !out.contains("roleAssignments/read"),
        "no gap of its own: {out}"
    );
}

#[tokio::test]
async fn a_grant_on_the_vault_only_in_the_identity_s_listing_does_not_stand_in_for_the_vault_s() {
    // The vault's listing refused: what applies at the vault is unknown, whatever the
    // identity's own listing holds there.
    let fake = world(true, json!([]), vec![]);
    fake.add_first(
        Route::get(
            ARM,
            &format!(
                "{}/providers/Microsoft.Authorization/roleAssignments",
                tk::vault_id(NS)
            ),
        )
        .reply(
            403,
            r#"{"error":{"code":"AuthorizationFailed","message":"no read at the vault"}}"#,
        ),
    );
    fake.add(principal_listing(200, vec![grant_at(&tk::vault_id(NS))]));
    let c = diagnose(&fake, &mut unmounted()).await;
    let out = shown(&c, ACCESS);
    assert_eq!(c.link(ACCESS).status, Status::Unknown, "{out}");
    assert!(codes(&c, ACCESS).is_empty(), "{out}");
}

/// The identity's own subscription, another than the vault's.
const APP_SUBSCRIPTION: &str = "/subscriptions/00000000-0000-0000-0000-0000000000a9";

#[tokio::test]
async fn kvc501_names_a_grant_at_the_identity_s_own_resource_group_in_another_subscription() {
    // The identity lives in the application's subscription, the vault in a shared one: the
    // grant made beside the identity applies there and below only, so it reaches no vault
    // ("Understand scope for Azure RBAC"), and no listing in the vault's subscription holds it.
    let fake = world(true, json!([]), vec![]);
    let rg = format!("{APP_SUBSCRIPTION}/resourceGroups/rg-app");
    let id = format!(
        "{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{}",
        tk::identity_name(APP)
    );
    let graph = json!({"totalRecords": 1, "count": 1, "resultTruncated": "false", "data": [{
        "id": id, "name": tk::identity_name(APP),
        "properties": {"clientId": tk::client_id(NS, APP), "principalId": tk::principal_id(NS, APP), "tenantId": tk::TENANT}
    }]});
    fake.add_first(
        Route::new(Method::Post, ARM, GRAPH)
            .body_has("userassignedidentities")
            .reply(200, graph.to_string()),
    );
    fake.add(principal_listing(200, vec![]));
    fake.add(
        Route::get(
            ARM,
            &format!("{APP_SUBSCRIPTION}/providers/Microsoft.Authorization/roleAssignments"),
        )
        .query_has(&format!(
            "principalId%20eq%20%27{}%27",
            tk::principal_id(NS, APP)
        ))
        .reply(200, json!({"value": [grant_at(&rg)]}).to_string()),
    );
    let c = diagnose(&fake, &mut unmounted()).await;
    kvc501_names_the_grant_at(&c, &rg);
    assert_eq!(
        fake.count("principalId%20eq%20"),
        2,
        "the vault's subscription and the identity's: {:#?}",
        fake.log()
    );
}
