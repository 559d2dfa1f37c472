//! The live Azure observer on a wrong objectType (KVC601 "exists as …"): an object missing
//! under the type the SPC asks is looked up under the other two types, only on a miss, and
//! only what is found is kept (a look-up the SPC never asked for is no gap).

use std::time::Duration;

use crate::azure_support::*;
use kvchain::snapshot::{ObjectType, Observed};

#[tokio::test]
async fn a_secret_asked_for_as_a_key_is_found_under_its_own_type() {
    let fake = contoso();
    fake.add_first(
        Route::get("kv-rbac.vault.azure.net", "/keys/db-password/versions")
            .reply(404, fixture("error-secret-not-found.json")),
    );
    let obs = observer(&fake, Duration::from_secs(3600))
        .observe(&wanted(&[(ObjectType::Key, "db-password")]))
        .await;
    let state = |t: ObjectType| {
        obs.objects
            .iter()
            .find(|o| o.object_type == t && o.name == "db-password")
            .map(|o| &o.state)
    };
    assert!(
        matches!(state(ObjectType::Key), Some(Observed::Known(None))),
        "the type asked is known absent: {:?}",
        state(ObjectType::Key)
    );
    assert!(
        matches!(state(ObjectType::Secret), Some(Observed::Known(Some(_)))),
        "found as a secret: {:?}",
        state(ObjectType::Secret)
    );
    // The certificate look-up found nothing and is not kept: not a gap, not an observation.
    assert!(state(ObjectType::Cert).is_none(), "{:?}", obs.objects);
    assert_eq!(fake.count("/certificates/db-password/versions"), 1);
}

#[tokio::test]
async fn an_object_found_under_its_type_costs_no_other_look_up() {
    let fake = contoso();
    let obs = observer(&fake, Duration::from_secs(3600))
        .observe(&wanted(&[(ObjectType::Secret, "db-password")]))
        .await;
    assert_eq!(obs.objects.len(), 1, "{:?}", obs.objects);
    assert_eq!(fake.count("/keys/db-password"), 0);
    assert_eq!(fake.count("/certificates/db-password"), 0);
}
