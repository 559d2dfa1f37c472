//! A keyvaultName Resource Graph did not return (audit EE4). Key Vault names are global: every
//! vault is `<name>.vault.azure.net` (FACTS §5, Vault URL), so ARM's Check Name Availability
//! answers for every subscription and tenant whether any vault holds a name. A name no vault
//! holds is a typo, KVC506 with the nearest vault kvchain read, as the lab says; a name some
//! vault holds, or one Azure did not answer for, stays unseen: a DNS failure is then either
//! cause (FACTS §11, Network), KVC505 naming both (audit CC2).

use crate::azure_support::Route;
use crate::azure_tk_world::{ARM, SECRETS_USER_DEF, SUB_GUID, diagnose, own_assignment, world};
use azure_core::http::Method;
use kvchain::chain::Code;
use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::snapshot::Snapshot;

use super::cause_kit::*;

/// What the SPC of `APP` names instead of `kv-<ns>`: one letter dropped.
pub(crate) fn typo() -> String {
    tk::vault_name(NS).replacen('-', "", 1)
}

/// The provider's error when `host` does not resolve from the node.
pub(crate) fn no_such_host(host: &str) -> String {
    format!(
        "failed to get objectType:secret, objectName:{}, objectVersion:: GET https://{host}/secrets/{}/\nRESPONSE: dial tcp: lookup {host} on 10.0.0.10:53: no such host",
        tk::object_name(APP),
        tk::object_name(APP)
    )
}

/// The testkit world with a second app reading the vault and `APP`'s SPC naming [`typo`],
/// whose mount fails DNS.
fn typo_world() -> Snapshot {
    let mut s = tk::healthy();
    tk::add_app(&mut s, NS, "api", 1);
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters.insert("keyvaultName".into(), typo());
    tk::reparse(spc);
    let host = format!("{}.vault.azure.net", typo());
    failing_with(s, &no_such_host(&host))
}

pub(crate) fn check_name(available: bool) -> Route {
    Route::new(
        Method::Post,
        ARM,
        &format!("/subscriptions/{SUB_GUID}/providers/Microsoft.KeyVault/checkNameAvailability"),
    )
    .body_has(&typo())
    .reply(200, format!(r#"{{"nameAvailable":{available}}}"#))
}

#[tokio::test]
async fn a_name_no_vault_holds_is_kvc506_with_the_vault_kvchain_read() {
    let fake = world(
        true,
        serde_json::json!([]),
        vec![own_assignment(SECRETS_USER_DEF)],
    );
    fake.add(check_name(true));
    let mut s = typo_world();
    let c = diagnose(&fake, &mut s).await;
    let f = find(&c, Code::KVC506);
    assert!(
        f.message
            .contains(&format!("did you mean {}?", tk::vault_name(NS))),
        "{}",
        f.message
    );
    assert!(
        f.fix
            .contains(&format!("parameters.keyvaultName: {}", tk::vault_name(NS))),
        "{}",
        f.fix
    );
    assert!(!codes(&c).contains(&Code::KVC505), "{:?}", codes(&c));
}

#[tokio::test]
async fn a_name_some_vault_holds_stays_unseen_and_keeps_the_near_name() {
    let fake = world(
        true,
        serde_json::json!([]),
        vec![own_assignment(SECRETS_USER_DEF)],
    );
    fake.add(check_name(false));
    let mut s = typo_world();
    let c = diagnose(&fake, &mut s).await;
    assert!(!codes(&c).contains(&Code::KVC506), "{:?}", codes(&c));
    let f = find(&c, Code::KVC505);
    assert!(
        f.message.contains("a vault holds that name"),
        "{}",
        f.message
    );
    // The typo branch still names the vault kvchain read (audit EE4's "did you mean").
    assert!(
        f.message
            .contains(&format!("did you mean {}?", tk::vault_name(NS)))
            && f.fix
                .contains(&format!("parameters.keyvaultName: {}", tk::vault_name(NS))),
        "{}\n{}",
        f.message,
        f.fix
    );
}

#[tokio::test]
async fn no_answer_on_the_name_stays_unseen() {
    // No Check Name Availability route: the fake answers 404, which tells nothing.
    let fake = world(
        true,
        serde_json::json!([]),
        vec![own_assignment(SECRETS_USER_DEF)],
    );
    let mut s = typo_world();
    let c = diagnose(&fake, &mut s).await;
    assert!(!codes(&c).contains(&Code::KVC506), "{:?}", codes(&c));
    let f = find(&c, Code::KVC505);
    assert!(
        f.message
            .contains("whether a vault holds that name is unknown"),
        "{}",
        f.message
    );
}
