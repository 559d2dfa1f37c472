//! Role assignments at a management group (audit CC1). Azure RBAC assigns at four levels —
//! management group, subscription, resource group, resource — and lower levels inherit from
//! higher ones; the grant is the role's dataActions wherever it is assigned (FACTS §8). A
//! management group's scope (`/providers/Microsoft.Management/managementGroups/<id>`) is no
//! path prefix of the vault id, and kvchain does not read the hierarchy: a group ARM's vault
//! listing returned holds the vault (that listing returns only what applies at the vault), any
//! other may or may not. Never "no role assignment" (KVC501) then, and never a fix granting a
//! role the identity may already hold there.

use crate::azure_tk_world::{codes, diagnose, shown, unmounted, world};
use kvchain::chain::model::{LinkKind, Status};
use kvchain::chain::testkit::{self as tk, APP, NS};
use serde_json::{Value, json};

const ACCESS: LinkKind = LinkKind::Access;
const MG: &str = "/providers/Microsoft.Management/managementGroups/mg-contoso";
const SECRETS_USER: &str =
    "/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6";
const ADMINISTRATOR: &str =
    "/providers/Microsoft.Authorization/roleDefinitions/00482a5a-887f-4fb3-b363-3b7fe8e74483";

/// The identity's principal holding `role_def` at management group MG, as ARM lists it.
fn at_management_group(role_def: &str) -> Value {
    json!({"properties": {"roleDefinitionId": format!("{MG}{role_def}"), "principalId": tk::principal_id(NS, APP),
            "principalType": "ServicePrincipal", "scope": MG},
           "id": format!("{MG}/providers/Microsoft.Authorization/roleAssignments/00000000-0000-0000-0000-000000000009"),
           "type": "Microsoft.Authorization/roleAssignments", "name": "00000000-0000-0000-0000-000000000009"})
}

fn no_grant_finding(c: &kvchain::chain::model::Chain) -> bool {
    let codes = codes(c, ACCESS);
    codes.iter().any(|c| c == "KVC501" || c == "KVC502")
}

#[tokio::test]
async fn a_role_the_vault_listing_returns_at_a_management_group_grants_the_read() {
    let fake = world(true, json!([]), vec![at_management_group(SECRETS_USER)]);
    let c = diagnose(&fake, &mut unmounted()).await;
    let out = shown(&c, ACCESS);
    assert_eq!(c.link(ACCESS).status, Status::Ok, "{out}");
    assert!(!no_grant_finding(&c), "{out}");
    assert!(
        c.link(ACCESS).summary.contains("Key Vault Secrets User"),
        "{out}"
    );
}

#[tokio::test]
async fn a_write_role_at_a_management_group_above_the_vault_is_over_privilege() {
    let fake = world(true, json!([]), vec![at_management_group(ADMINISTRATOR)]);
    let c = diagnose(&fake, &mut unmounted()).await;
    let out = shown(&c, ACCESS);
    assert_eq!(codes(&c, ACCESS), ["KVC504"], "{out}");
    assert!(out.contains(&format!("--scope {MG}")), "{out}");
}

/// A snapshot whose vault does not say which management groups hold it (one written by an
/// older kvchain, or by hand): the grant may reach the vault or not.
#[test]
fn a_role_at_a_management_group_not_known_to_hold_the_vault_leaves_the_read_unknown() {
    let mut s = unmounted();
    tk::role_mut(&mut s, NS, APP).scope = MG.to_string();
    let c = kvchain::chain::diagnose(&s)
        .into_iter()
        .find(|c| c.namespace.as_str() == NS)
        .expect("the shop chain");
    let out = shown(&c, ACCESS);
    assert_eq!(c.link(ACCESS).status, Status::Unknown, "{out}");
    assert!(!no_grant_finding(&c), "{out}");
    assert!(!out.contains("az role assignment create"), "{out}");
    assert!(
        out.contains(&format!(
            "Key Vault Secrets User is assigned to principal {} at {MG}",
            tk::principal_id(NS, APP)
        )),
        "{out}"
    );
    // The confirm asks ARM what applies at the vault: `az role assignment list
    // --include-inherited` matches parents by path prefix and would leave the group out.
    assert!(
        out.contains(&format!(
            "az rest --method get --url \"{}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01\"",
            tk::vault_id(NS)
        )),
        "{out}"
    );
}

#[test]
fn a_management_group_the_snapshot_places_above_the_vault_grants_the_read() {
    let mut s = unmounted();
    tk::role_mut(&mut s, NS, APP).scope = MG.to_string();
    tk::vault_mut(&mut s, NS).management_groups = Some(vec![MG.to_string()]);
    let c = kvchain::chain::diagnose(&s)
        .into_iter()
        .find(|c| c.namespace.as_str() == NS)
        .expect("the shop chain");
    let out = shown(&c, ACCESS);
    assert_eq!(c.link(ACCESS).status, Status::Ok, "{out}");
    assert!(!no_grant_finding(&c), "{out}");
}
