//! A role at a management group that the vault's own role-assignment listing, read whole, did
//! not return (audit EE6). ARM's List For Scope at the vault returns the assignments at, above
//! (resource group, subscription, management group) and below it; Azure RBAC inherits from a
//! management group to the subscriptions under it (learn.microsoft.com
//! `role-based-access-control/scope-overview`; the grant is the role's dataActions wherever it
//! applies, FACTS §8). So a management group missing from a listing read whole does not hold
//! the vault's subscription: the grant does not reach the vault, KVC501, not "unknown". A
//! snapshot that does not say the listing was read (an older file) keeps "unknown".

use crate::azure_support::Route;
use crate::azure_tk_world::{
    ARM, SECRETS_USER_DEF, codes, diagnose, own_assignment, shown, unmounted, world,
};
use kvchain::chain::model::{Chain, LinkKind, Status};
use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::snapshot::Snapshot;
use kvchain::source::lab::{self, export};
use serde_json::{Value, json};

const ACCESS: LinkKind = LinkKind::Access;
const MG: &str = "/providers/Microsoft.Management/managementGroups/mg-contoso";

/// `s` as a snapshot file carrying, per vault, `management_groups: groups` (absent: `None`).
fn with_listing(s: &Snapshot, groups: Option<Value>) -> Snapshot {
    let mut v = serde_json::to_value(s).expect("snapshot serializes");
    for vault in v["azure"]["vaults"]["items"]
        .as_array_mut()
        .expect("vaults")
    {
        let vault = vault.as_object_mut().expect("vault");
        match &groups {
            Some(g) => vault.insert("management_groups".into(), g.clone()),
            None => vault.remove("management_groups"),
        };
    }
    serde_json::from_value(v).expect("snapshot reads back")
}

fn shop(s: &Snapshot) -> Chain {
    kvchain::chain::diagnose(s)
        .into_iter()
        .find(|c| c.namespace.as_str() == NS)
        .expect("the shop chain")
}

/// The testkit's unmounted web pod whose only Secrets User is at management group MG.
fn role_at_group() -> Snapshot {
    let mut s = unmounted();
    tk::role_mut(&mut s, NS, APP).scope = MG.to_string();
    s
}

#[test]
fn a_management_group_the_vault_listing_did_not_return_does_not_reach_the_vault() {
    let c = shop(&with_listing(&role_at_group(), Some(json!([]))));
    let out = shown(&c, ACCESS);
    assert_eq!(c.link(ACCESS).status, Status::Broken, "{out}");
    assert_eq!(codes(&c, ACCESS), ["KVC501"], "{out}");
    // The grant is made where it applies: at the vault, the role for a secret (FACTS §8).
    assert!(
        out.contains(&format!(
            "--role \"Key Vault Secrets User\" --scope {}",
            tk::vault_id(NS)
        )),
        "{out}"
    );
    // The role the identity holds elsewhere is named, with why it does not count.
    let f = &c.link(ACCESS).findings[0];
    assert!(
        f.evidence
            .iter()
            .any(|e| e.contains(MG) && e.contains("does not reach")),
        "{:?}",
        f.evidence
    );
}

#[test]
fn a_management_group_the_vault_listing_returned_still_grants_the_read() {
    let c = shop(&with_listing(&role_at_group(), Some(json!([MG]))));
    let out = shown(&c, ACCESS);
    assert_eq!(c.link(ACCESS).status, Status::Ok, "{out}");
    assert!(codes(&c, ACCESS).is_empty(), "{out}");
}

/// A file that does not say whether the listing was read (written before the field existed,
/// or by hand) keeps "unknown": kvchain does not read the hierarchy.
#[test]
fn a_snapshot_without_the_listing_keeps_the_management_group_role_unknown() {
    let c = shop(&with_listing(&role_at_group(), None));
    let out = shown(&c, ACCESS);
    assert_eq!(c.link(ACCESS).status, Status::Unknown, "{out}");
    assert!(codes(&c, ACCESS).is_empty(), "{out}");
}

/// The observer records that the vault's listing was read, with no management group in it, and
/// records nothing when the listing failed.
#[tokio::test]
async fn the_observer_records_a_vault_listing_it_read_and_not_one_it_could_not() {
    let vault_field = |s: &Snapshot| {
        let v = serde_json::to_value(&s.azure.vaults.items[0]).expect("vault serializes");
        v.get("management_groups").cloned()
    };
    let fake = world(true, json!([]), vec![own_assignment(SECRETS_USER_DEF)]);
    let mut s = unmounted();
    diagnose(&fake, &mut s).await;
    assert_eq!(vault_field(&s), Some(json!([])), "{:?}", s.azure.vaults);

    let refused = world(true, json!([]), vec![]);
    let listing = format!(
        "{}/providers/Microsoft.Authorization/roleAssignments",
        tk::vault_id(NS)
    );
    refused.add_first(Route::get(ARM, &listing).reply(
        403,
        json!({"error": {"code": "AuthorizationFailed", "message": "no"}}).to_string(),
    ));
    let mut s = unmounted();
    diagnose(&refused, &mut s).await;
    assert_eq!(vault_field(&s), None, "{:?}", s.azure.vaults);
}

/// The lab reads every role assignment it holds (at a vault or one of its objects): a role
/// added at a management group, as in an edited lab snapshot, does not reach its vault.
#[test]
fn the_lab_says_its_vault_listings_were_read() {
    let sc = lab::load("wrong-role").expect("built-in scenario");
    let mut w = lab::world::World::new(sc);
    w.advance(std::time::Duration::from_secs(60));
    let mut s = export::snapshot(&w);
    let v = serde_json::to_value(&s.azure.vaults.items[0]).expect("vault serializes");
    assert_eq!(v.get("management_groups"), Some(&json!([])), "{v}");

    // invoices reads a cert; its only grant becomes Certificate User at MG, and no event
    // speaks (events are history, and the structural judgement is what is tested here).
    s.events.items.clear();
    let cert_user = lab::roles::builtin("Key Vault Certificate User").expect("built-in");
    let invoices = (s.azure.identities.items.iter())
        .find(|i| i.name.contains("invoices"))
        .map(|i| i.principal_id.clone())
        .expect("the invoices identity");
    for r in (s.azure.role_assignments.items.iter_mut()).filter(|r| r.principal_id == invoices) {
        r.scope = MG.to_string();
        r.role_name = cert_user.name.to_string();
        r.data_actions = cert_user
            .data_actions
            .iter()
            .map(|a| a.to_string())
            .collect();
    }
    let chains = kvchain::chain::diagnose(&s);
    let c = (chains.iter())
        .find(|c| c.spc.as_str().contains("invoices"))
        .expect("the invoices chain");
    let out = shown(c, ACCESS);
    assert_eq!(c.link(ACCESS).status, Status::Broken, "{out}");
    assert!(codes(c, ACCESS).contains(&"KVC501".to_string()), "{out}");
}
