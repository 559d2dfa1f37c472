//! A soft-deleted object read live. Soft delete is always on: a deleted secret answers GET 404
//! as a name never used, a create of the name fails 409 Conflict
//! (ObjectIsDeletedButRecoverable), and `recover` brings it back with its versions; a
//! certificate's secret comes back only with its certificate (Microsoft Learn, "Azure Key
//! Vault soft-delete overview"). The lab models this; live read no deleted objects, so its
//! KVC601 fix had to try `recover || … || set`. The observer now reads the vault's deleted
//! listing (ids and dates, never a value) on a miss, and the fix is the recover alone.

use crate::azure_support::Route;
use crate::azure_tk_world::{SECRETS_USER_DEF, diagnose, own_assignment, shown, unmounted, world};
use kvchain::chain::Code;
use kvchain::chain::model::LinkKind;
use kvchain::chain::testkit::{self as tk, APP, NS};
use serde_json::json;

fn kv_host() -> String {
    format!("{}.vault.azure.net", tk::vault_name(NS))
}

/// The testkit's vault, where the app's secret answers 404 (deleted, or never there).
fn secret_gone() -> std::sync::Arc<crate::azure_support::FakeAzure> {
    let fake = world(true, json!([]), vec![own_assignment(SECRETS_USER_DEF)]);
    fake.add_first(
        Route::get(
            &kv_host(),
            &format!("/secrets/{}/versions", tk::object_name(APP)),
        )
        .reply(
            404,
            r#"{"error":{"code":"SecretNotFound","message":"A secret with (name/id) was not found in this key vault."}}"#,
        ),
    );
    fake
}

/// The vault's deleted listing of `collection` holding `name` (as Key Vault lists it).
fn deleted_listing(collection: &str, name: &str, managed: bool) -> Route {
    let host = kv_host();
    Route::get(&host, &format!("/deleted{collection}")).reply(
        200,
        json!({"value": [{
            "recoveryId": format!("https://{host}/deleted{collection}/{name}"),
            "id": format!("https://{host}/{collection}/{name}"),
            "deletedDate": 1_764_000_000, "scheduledPurgeDate": 1_771_776_000,
            "managed": managed, "attributes": {"enabled": true, "recoveryLevel": "Recoverable+Purgeable"}
        }], "nextLink": null})
        .to_string(),
    )
}

fn kvc601(c: &kvchain::chain::model::Chain) -> kvchain::chain::model::Finding {
    (c.link(LinkKind::VaultObject).findings.iter())
        .find(|f| f.code == Code::KVC601)
        .cloned()
        .unwrap_or_else(|| panic!("KVC601 expected:\n{}", shown(c, LinkKind::VaultObject)))
}

#[tokio::test]
async fn a_deleted_secret_read_live_is_recovered_not_created_again() {
    let fake = secret_gone();
    fake.add(deleted_listing("secrets", &tk::object_name(APP), false));
    let mut s = unmounted();
    let c = diagnose(&fake, &mut s).await;
    let f = kvc601(&c);
    assert!(
        f.message.contains("soft-deleted") && f.message.contains("2025-11-24"),
        "the deletion and its date are said: {}",
        f.message
    );
    assert!(
        f.fix.starts_with(&format!(
            "az keyvault secret recover --vault-name {} -n {}",
            tk::vault_name(NS),
            tk::object_name(APP)
        )),
        "{}",
        f.fix
    );
    // A create of the name fails 409 until it is recovered: the fix never tries one.
    assert!(!f.fix.contains(" set "), "{}", f.fix);
}

#[tokio::test]
async fn a_certificates_secret_deleted_with_it_is_recovered_through_the_certificate() {
    let fake = secret_gone();
    fake.add(deleted_listing(
        "certificates",
        &tk::object_name(APP),
        false,
    ));
    let mut s = unmounted();
    let c = diagnose(&fake, &mut s).await;
    let f = kvc601(&c);
    assert!(
        f.fix.starts_with("az keyvault certificate recover"),
        "{}",
        f.fix
    );
    assert!(f.message.contains("certificate"), "{}", f.message);
}

#[tokio::test]
async fn an_unreadable_deleted_listing_keeps_both_ways_back() {
    let fake = secret_gone();
    fake.add(Route::get(&kv_host(), "/deletedsecrets").reply(
        403,
        r#"{"error":{"code":"Forbidden","message":"Caller is not authorized","innererror":{"code":"ForbiddenByRbac"}}}"#,
    ));
    let mut s = unmounted();
    let c = diagnose(&fake, &mut s).await;
    let f = kvc601(&c);
    assert!(
        f.fix.contains("recover") && f.fix.contains(" set "),
        "without the listing, deleted and never-created are both possible: {}",
        f.fix
    );
    assert!(!f.message.contains("soft-deleted"), "{}", f.message);
}

#[tokio::test]
async fn a_found_object_costs_no_deleted_listing() {
    let fake = world(true, json!([]), vec![own_assignment(SECRETS_USER_DEF)]);
    let mut s = unmounted();
    diagnose(&fake, &mut s).await;
    assert_eq!(fake.count("/deleted"), 0, "{:#?}", fake.log());
}

#[tokio::test]
async fn purge_protection_read_live_says_recover_is_the_only_way_back() {
    let fake = secret_gone();
    fake.add(deleted_listing("secrets", &tk::object_name(APP), false));
    let vault = json!({"totalRecords": 1, "count": 1, "resultTruncated": "false", "data": [{
        "id": tk::vault_id(NS), "name": tk::vault_name(NS),
        "properties": {"tenantId": tk::TENANT, "enableRbacAuthorization": true, "enablePurgeProtection": true,
            "publicNetworkAccess": "Enabled", "networkAcls": {"defaultAction": "Allow"}, "accessPolicies": []}
    }]});
    fake.add_first(
        Route::new(
            azure_core::http::Method::Post,
            crate::azure_tk_world::ARM,
            crate::azure_tk_world::GRAPH,
        )
        .body_has("keyvault/vaults")
        .reply(200, vault.to_string()),
    );
    let mut s = unmounted();
    let c = diagnose(&fake, &mut s).await;
    let f = kvc601(&c);
    assert!(
        f.message.contains("purge protection is on"),
        "{}",
        f.message
    );
}
