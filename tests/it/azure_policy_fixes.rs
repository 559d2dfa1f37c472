//! Access-policy vaults: `az keyvault set-policy` replaces the principal's permissions of each
//! type it is given (azure-cli `set_policy`), so a fix keeps what the policy grants; and a
//! policy's objectId is a GUID, matched in any case.

use crate::azure_tk_world::{codes, diagnose, policy, shown, unmounted, world};
use kvchain::chain::model::{LinkKind, Status};
use kvchain::chain::testkit::{self as tk, APP, NS};
use serde_json::json;

const ACCESS: LinkKind = LinkKind::Access;

/// The `--secret-permissions` words of the Access link's grant fixes. KVC504's fix narrows
/// the policy to the reads on purpose (it removes the writes: audit GGG-A1), so it is not one.
fn secret_permissions(c: &kvchain::chain::model::Chain) -> Vec<Vec<String>> {
    c.link(ACCESS)
        .findings
        .iter()
        .filter(|f| f.code != kvchain::chain::Code::KVC504)
        .filter_map(|f| {
            let fix = f.fix.to_string();
            let (_, rest) = fix.split_once("--secret-permissions ")?;
            Some(
                rest.split(' ')
                    .take_while(|w| !w.starts_with("--") && *w != "&&")
                    .map(str::to_string)
                    .collect(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_set_policy_fix_keeps_the_permissions_held_and_the_list_history_needs() {
    let principal = tk::principal_id(NS, APP);
    let fake = world(false, json!([policy(&principal, &["list", "set"])]), vec![]);
    let mut s = unmounted();
    {
        let spc = tk::spc_mut(&mut s, APP);
        let objects = tk::objects_yaml(&[&[
            ("objectName", &tk::object_name(APP)),
            ("objectType", "secret"),
            ("objectAlias", "password"),
            ("objectVersionHistory", "3"),
        ]]);
        tk::set_objects(spc, objects);
    }
    let c = diagnose(&fake, &mut s).await;
    let out = shown(&c, ACCESS);
    let perms = secret_permissions(&c);
    assert!(!perms.is_empty(), "{out}");
    for p in perms {
        for want in ["get", "list", "set"] {
            assert!(
                p.iter().any(|w| w == want),
                "{want} missing from {p:?}\n{out}"
            );
        }
    }
}

#[tokio::test]
async fn the_set_policy_fix_keeps_other_secret_permissions_held() {
    let principal = tk::principal_id(NS, APP);
    let fake = world(false, json!([policy(&principal, &["set"])]), vec![]);
    let c = diagnose(&fake, &mut unmounted()).await;
    let out = shown(&c, ACCESS);
    assert!(codes(&c, ACCESS).contains(&"KVC502".to_string()), "{out}");
    assert_eq!(
        secret_permissions(&c),
        vec![vec!["set".to_string(), "get".to_string()]],
        "{out}"
    );
}

#[tokio::test]
async fn an_access_policy_object_id_matches_the_principal_in_any_case() {
    let principal = tk::principal_id(NS, APP).to_uppercase();
    let fake = world(false, json!([policy(&principal, &["get"])]), vec![]);
    let c = diagnose(&fake, &mut unmounted()).await;
    let out = shown(&c, ACCESS);
    assert_eq!(c.link(ACCESS).status, Status::Ok, "{out}");
    assert!(codes(&c, ACCESS).is_empty(), "{out}");
}
