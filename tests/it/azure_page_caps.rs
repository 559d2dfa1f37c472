//! Lists read up to a page cap: one that goes on past the cap is a gap ("more than N pages",
//! unknown), never a complete list in which what was not read looks absent.

use crate::azure_support::Route;
use crate::azure_tk_world::{
    ARM, SECRETS_USER_DEF, SUB_GUID, assignment, codes, diagnose, own_assignment, shown, unmounted,
    world,
};
use kvchain::chain::model::{LinkKind, Status};
use kvchain::chain::testkit::{self as tk, APP, NS};
use serde_json::{Value, json};

#[tokio::test]
async fn role_assignments_past_the_page_cap_leave_the_grant_unknown() {
    let fake = world(true, json!([]), vec![]);
    let path = format!(
        "{}/providers/Microsoft.Authorization/roleAssignments",
        tk::vault_id(NS)
    );
    let next = |p: usize| {
        json!(format!(
            "https://{ARM}{path}?api-version=2022-04-01&$skipToken=p{p}"
        ))
    };
    let other = |n: usize| {
        let mut a = assignment(
            "aaaaaaaa-0000-4000-8000-000000000000",
            "ServicePrincipal",
            SECRETS_USER_DEF,
            n,
        );
        a["properties"]["scope"] = json!(format!("/subscriptions/{SUB_GUID}"));
        a
    };
    // Page 1 has no skip token; pages 2..=11 follow by nextLink, the identity's on the last.
    fake.add_first(Route::get(ARM, &path).reply(
        200,
        json!({"value": [other(0)], "nextLink": next(2)}).to_string(),
    ));
    for page in 2..=11 {
        let (value, link) = if page == 11 {
            (json!([own_assignment(SECRETS_USER_DEF)]), Value::Null)
        } else {
            (json!([other(page)]), next(page + 1))
        };
        fake.add_first(
            Route::get(ARM, &path)
                .query_has(&format!("skipToken=p{page}"))
                .reply(200, json!({"value": value, "nextLink": link}).to_string()),
        );
    }
    let mut s = unmounted();
    let c = diagnose(&fake, &mut s).await;
    let out = shown(&c, LinkKind::Access);
    assert!(codes(&c, LinkKind::Access).is_empty(), "{out}");
    assert_eq!(c.link(LinkKind::Access).status, Status::Unknown, "{out}");
    assert!(out.contains("more than 10 pages, not all read"), "{out}");
}

#[tokio::test]
async fn versions_past_the_page_cap_leave_the_object_unknown() {
    let fake = world(true, json!([]), vec![own_assignment(SECRETS_USER_DEF)]);
    let host = format!("{}.vault.azure.net", tk::vault_name(NS));
    let path = format!("/secrets/{}/versions", tk::object_name(APP));
    let id = |i: usize| format!("https://{host}/secrets/{}/{i:032x}", tk::object_name(APP));
    // Pages 1-4 hold 100 disabled versions; the enabled newest is on page 5.
    let page = |p: usize| -> String {
        let (value, next) = if p == 5 {
            (
                json!([{"id": id(500), "attributes": {"enabled": true, "created": 1800000000, "updated": 1800000000}}]),
                Value::Null,
            )
        } else {
            let v: Vec<Value> = (0..25)
                .map(|i| json!({"id": id(p * 100 + i), "attributes": {"enabled": false, "created": 1600000000 + p * 100 + i, "updated": 1600000000}}))
                .collect();
            (
                json!(v),
                json!(format!(
                    "https://{host}{path}?api-version=7.5&maxresults=25&$skiptoken=q{}",
                    p + 1
                )),
            )
        };
        json!({"value": value, "nextLink": next}).to_string()
    };
    fake.add_first(Route::get(&host, &path).reply(200, page(1)));
    for p in 2..=5 {
        fake.add_first(
            Route::get(&host, &path)
                .query_has(&format!("skiptoken=q{p}"))
                .reply(200, page(p)),
        );
    }
    let mut s = unmounted();
    let c = diagnose(&fake, &mut s).await;
    let out = shown(&c, LinkKind::VaultObject);
    assert!(c.link(LinkKind::VaultObject).findings.is_empty(), "{out}");
    assert_eq!(
        c.link(LinkKind::VaultObject).status,
        Status::Unknown,
        "{out}"
    );
    assert!(out.contains("more than 100 versions"), "{out}");
}
