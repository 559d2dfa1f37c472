//! How ARM spells the principal of a role assignment: a GUID in either case is the same
//! principal, and an assignment made to the identity's clientId (which grants nothing: RBAC
//! matches the principal only, FACTS §7) reaches the rules so KVC501 can name it.

use crate::azure_tk_world::{
    SECRETS_USER_DEF, assignment, codes, diagnose, own_assignment, shown, unmounted, world,
};
use kvchain::chain::model::{LinkKind, Status};
use kvchain::chain::testkit::{self as tk, APP, NS};
use serde_json::json;

const ACCESS: LinkKind = LinkKind::Access;

#[tokio::test]
async fn a_principal_spelled_in_upper_case_is_the_identity_s_own_grant() {
    let upper = tk::principal_id(NS, APP).to_ascii_uppercase();
    assert_ne!(upper, tk::principal_id(NS, APP), "the GUID has letters");
    let fake = world(
        true,
        json!([]),
        vec![assignment(&upper, "ServicePrincipal", SECRETS_USER_DEF, 1)],
    );
    let c = diagnose(&fake, &mut unmounted()).await;
    let out = shown(&c, ACCESS);
    assert_eq!(c.link(ACCESS).status, Status::Ok, "{out}");
    assert!(codes(&c, ACCESS).is_empty(), "{out}");
}

#[tokio::test]
async fn an_assignment_to_the_client_id_is_named_as_the_cause_of_kvc501() {
    let client = tk::client_id(NS, APP);
    let fake = world(
        true,
        json!([]),
        vec![assignment(&client, "ServicePrincipal", SECRETS_USER_DEF, 2)],
    );
    let c = diagnose(&fake, &mut unmounted()).await;
    let out = shown(&c, ACCESS);
    assert!(codes(&c, ACCESS).contains(&"KVC501".to_string()), "{out}");
    assert!(
        out.contains(&format!(
            "names the identity's clientId {client} as principal instead of its principal (object) id"
        )),
        "{out}"
    );
    assert!(out.contains("az role assignment delete --ids"), "{out}");
}

#[tokio::test]
async fn the_identity_s_own_grant_beside_one_on_its_client_id_is_ok() {
    let client = tk::client_id(NS, APP);
    let fake = world(
        true,
        json!([]),
        vec![
            own_assignment(SECRETS_USER_DEF),
            assignment(&client, "ServicePrincipal", SECRETS_USER_DEF, 2),
        ],
    );
    let c = diagnose(&fake, &mut unmounted()).await;
    let out = shown(&c, ACCESS);
    assert_eq!(c.link(ACCESS).status, Status::Ok, "{out}");
}
