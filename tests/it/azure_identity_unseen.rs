//! A clientId Resource Graph does not find: the graph answers for the subscriptions kvchain's
//! credential may read (and `--subscription`) only, so the identity is unknown, not absent
//! (no KVC301 with a fix to change a clientID that may work), and a mount proves it.

use crate::azure_support::Route;
use crate::azure_tk_world::{
    ARM, GRAPH, SECRETS_USER_DEF, codes, diagnose, own_assignment, shown, unmounted, world,
};
use azure_core::http::Method;
use kvchain::chain::model::{LinkKind, Status};
use kvchain::chain::testkit as tk;
use serde_json::json;

const IDENTITY: LinkKind = LinkKind::Identity;

fn identity_not_in_sight() -> std::sync::Arc<crate::azure_support::FakeAzure> {
    let fake = world(true, json!([]), vec![own_assignment(SECRETS_USER_DEF)]);
    fake.add_first(
        Route::new(Method::Post, ARM, GRAPH)
            .body_has("userassignedidentities")
            .reply(
                200,
                r#"{"totalRecords":0,"count":0,"resultTruncated":"false","data":[]}"#,
            ),
    );
    fake
}

#[tokio::test]
async fn an_identity_outside_the_visible_subscriptions_is_proven_by_the_mount() {
    let fake = identity_not_in_sight();
    let mut s = tk::healthy();
    let c = diagnose(&fake, &mut s).await;
    let out = shown(&c, IDENTITY);
    assert!(
        !codes(&c, IDENTITY).contains(&"KVC301".to_string()),
        "{out}"
    );
    assert_eq!(c.link(IDENTITY).status, Status::Ok, "{out}");
    assert!(out.contains("proven by mount"), "{out}");
}

#[tokio::test]
async fn an_identity_outside_the_visible_subscriptions_is_unknown_and_a_gap() {
    let fake = identity_not_in_sight();
    let mut s = unmounted();
    let c = diagnose(&fake, &mut s).await;
    let out = shown(&c, IDENTITY);
    assert!(
        !codes(&c, IDENTITY).contains(&"KVC301".to_string()),
        "{out}"
    );
    assert_eq!(c.link(IDENTITY).status, Status::Unknown, "{out}");
    let client = tk::client_id(tk::NS, tk::APP);
    assert!(
        out.contains(&format!(
            "no managed identity with clientId {client} in the subscriptions visible to kvchain"
        )),
        "{out}"
    );
    let gaps: Vec<String> = s.gaps().iter().map(|g| g.describe()).collect();
    assert!(
        gaps.iter()
            .any(|g| g.starts_with("azure.identities of identity") && g.contains(&client)),
        "{gaps:?}"
    );
}
