//! Grants the observer sees but cannot judge: a role or an access policy held by an Entra
//! group (membership is not read), a role whose definition may not be read. The read is
//! unknown on the Access link, never "no grant" (KVC501) with a fix granting what the identity
//! may already hold. And notDataActions take back what they match, as Azure computes it.

use crate::azure_support::Route;
use crate::azure_tk_world::{
    GROUP_OID, READER_DEF, SECRETS_USER_DEF, assignment, codes, custom_def_id, diagnose,
    own_assignment, policy, shown, unmounted, world,
};
use kvchain::chain::model::{LinkKind, Status};
use serde_json::json;

const ACCESS: LinkKind = LinkKind::Access;

fn no_grant_finding(c: &kvchain::chain::model::Chain) -> bool {
    let codes = codes(c, ACCESS);
    codes.iter().any(|c| c == "KVC501" || c == "KVC502")
}

#[tokio::test]
async fn a_role_assigned_to_a_group_makes_the_read_unknown_not_refused() {
    let group = assignment(GROUP_OID, "Group", SECRETS_USER_DEF, 7);
    let fake = world(true, json!([]), vec![group]);
    let c = diagnose(&fake, &mut unmounted()).await;
    let out = shown(&c, ACCESS);
    assert_eq!(c.link(ACCESS).status, Status::Unknown, "{out}");
    assert!(!no_grant_finding(&c), "{out}");
    assert!(
        out.contains(&format!(
            "Key Vault Secrets User is granted to group {GROUP_OID}"
        )),
        "{out}"
    );
    assert!(out.contains("membership is not readable"), "{out}");
}

#[tokio::test]
async fn a_group_role_that_does_not_grant_the_read_leaves_it_refused() {
    let group = assignment(GROUP_OID, "Group", READER_DEF, 7);
    let fake = world(true, json!([]), vec![group]);
    let c = diagnose(&fake, &mut unmounted()).await;
    let out = shown(&c, ACCESS);
    assert!(codes(&c, ACCESS).contains(&"KVC501".to_string()), "{out}");
}

#[tokio::test]
async fn an_access_policy_for_another_object_that_may_be_a_group_makes_the_read_unknown() {
    let fake = world(false, json!([policy(GROUP_OID, &["get", "list"])]), vec![]);
    let c = diagnose(&fake, &mut unmounted()).await;
    let out = shown(&c, ACCESS);
    assert_eq!(c.link(ACCESS).status, Status::Unknown, "{out}");
    assert!(!no_grant_finding(&c), "{out}");
    // An access policy names an objectId only: it may be a group the identity is a member
    // of, or a user or an application's service principal, which grant the identity nothing.
    // The reason may not call it a group when it may as well be one of those (audit
    // VVV-honest).
    assert!(
        out.contains(&format!(
            "to object {GROUP_OID}, which kvchain cannot resolve"
        )),
        "{out}"
    );
    for kind in ["a group", "a user", "a service principal"] {
        assert!(
            out.contains(kind),
            "names {kind} among what it may be: {out}"
        );
    }
    assert!(!out.contains("which may be a group;"), "{out}");
}

#[tokio::test]
async fn an_unreadable_role_definition_makes_the_read_unknown_naming_the_assignment() {
    let def = custom_def_id("33333333-2222-4333-8444-555555555555");
    let fake = world(true, json!([]), vec![own_assignment(&def)]);
    fake.add(Route::get(crate::azure_tk_world::ARM, &def).reply(
        403,
        r#"{"error":{"code":"AuthorizationFailed","message":"The client does not have authorization to perform action 'Microsoft.Authorization/roleDefinitions/read'"}}"#,
    ));
    let c = diagnose(&fake, &mut unmounted()).await;
    let out = shown(&c, ACCESS);
    assert_eq!(c.link(ACCESS).status, Status::Unknown, "{out}");
    assert!(!no_grant_finding(&c), "{out}");
    assert!(
        out.contains("cannot read role definition 33333333-2222-4333-8444-555555555555"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "the role assignment of principal {}",
            kvchain::chain::testkit::principal_id(
                kvchain::chain::testkit::NS,
                kvchain::chain::testkit::APP
            )
        )),
        "{out}"
    );
}

/// A custom role granting `data` minus `not_data`, assigned to the identity at the vault.
async fn with_custom_role(
    data: serde_json::Value,
    not_data: serde_json::Value,
) -> kvchain::chain::model::Chain {
    let guid = "11111111-2222-4333-8444-555555555555";
    let def = custom_def_id(guid);
    let fake = world(true, json!([]), vec![own_assignment(&def)]);
    fake.add(Route::get(crate::azure_tk_world::ARM, &def).reply(
        200,
        json!({"properties": {"roleName": "Custom reader", "type": "CustomRole",
            "permissions": [{"actions": [], "notActions": [], "dataActions": data, "notDataActions": not_data}]},
            "id": def, "type": "Microsoft.Authorization/roleDefinitions", "name": guid})
        .to_string(),
    ));
    diagnose(&fake, &mut unmounted()).await
}

#[tokio::test]
async fn not_data_actions_take_back_a_read_a_wildcard_grants() {
    let c = with_custom_role(
        json!(["Microsoft.KeyVault/vaults/secrets/*"]),
        json!(["Microsoft.KeyVault/vaults/secrets/getSecret/action"]),
    )
    .await;
    let out = shown(&c, ACCESS);
    assert_eq!(c.link(ACCESS).status, Status::Broken, "{out}");
    assert!(no_grant_finding(&c), "{out}");
    // The evidence shows what takes the read back.
    let evidence: Vec<String> = (c.link(ACCESS).findings.iter())
        .flat_map(|f| f.evidence.iter().map(|e| e.to_string()))
        .collect();
    assert!(
        evidence.iter().any(|e| e
            .contains("notDataActions [\"Microsoft.KeyVault/vaults/secrets/getSecret/action\"]")),
        "{evidence:?}"
    );
}

#[tokio::test]
async fn not_data_actions_match_the_read_in_any_case() {
    let c = with_custom_role(
        json!([
            "Microsoft.KeyVault/vaults/secrets/getSecret/action",
            "Microsoft.KeyVault/vaults/secrets/readMetadata/action"
        ]),
        json!(["microsoft.keyvault/vaults/secrets/getsecret/action"]),
    )
    .await;
    let out = shown(&c, ACCESS);
    assert_eq!(c.link(ACCESS).status, Status::Broken, "{out}");
    assert!(no_grant_finding(&c), "{out}");
}

#[tokio::test]
async fn not_data_actions_leave_the_read_when_they_take_back_something_else() {
    let c = with_custom_role(
        json!(["Microsoft.KeyVault/vaults/secrets/*"]),
        json!([
            "Microsoft.KeyVault/vaults/secrets/setSecret/action",
            "Microsoft.KeyVault/vaults/secrets/delete"
        ]),
    )
    .await;
    let out = shown(&c, ACCESS);
    assert!(!no_grant_finding(&c), "{out}");
}
