//! A vault Resource Graph does not return (audit CC2). The graph answers for the subscriptions
//! kvchain's credential may read (and `--subscription`) only, so a vault it does not list is
//! unseen, not absent; and a pod mounted from a vault proves it exists. Neither is KVC506 "no
//! vault exists under that name" with a fix renaming a keyvaultName that may work: a private
//! endpoint whose DNS zone is not linked shows as the same DNS failure or deadline as a
//! mistyped name (FACTS §11, Network), so the finding is KVC505's, naming both causes or, when
//! a mount proves the vault, the network.

use crate::azure_support::Route;
use crate::azure_tk_world::{
    ARM, GRAPH, SECRETS_USER_DEF, diagnose, own_assignment, shown, unmounted, world,
};
use azure_core::http::Method;
use jiff::SignedDuration;
use kvchain::chain::Code;
use kvchain::chain::model::{LinkKind, Status};
use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::snapshot::Snapshot;
use serde_json::json;

use super::cause_kit::*;

/// The provider's error for the app's secret when `host` does not resolve from the node.
fn no_such_host(host: &str) -> String {
    format!(
        "failed to get objectType:secret, objectName:{}, objectVersion:: GET https://{host}/secrets/{}/\nRESPONSE: dial tcp: lookup {host} on 10.0.0.10:53: no such host",
        tk::object_name(APP),
        tk::object_name(APP)
    )
}

fn host() -> String {
    format!("{}.vault.azure.net", tk::vault_name(NS))
}

fn vault_not_in_sight() -> std::sync::Arc<crate::azure_support::FakeAzure> {
    let fake = world(true, json!([]), vec![own_assignment(SECRETS_USER_DEF)]);
    fake.add_first(
        Route::new(Method::Post, ARM, GRAPH)
            .body_has("keyvault/vaults")
            .reply(
                200,
                r#"{"totalRecords":0,"count":0,"resultTruncated":"false","data":[]}"#,
            ),
    );
    fake
}

#[tokio::test]
async fn a_vault_outside_the_visible_subscriptions_is_unknown_not_a_wrong_name() {
    let fake = vault_not_in_sight();
    let mut s = failing_with(unmounted(), &no_such_host(&host()));
    let c = diagnose(&fake, &mut s).await;
    let out = shown(&c, LinkKind::Access);
    assert!(!codes(&c).contains(&Code::KVC506), "{out}");
    let f = find(&c, Code::KVC505);
    assert!(
        f.message
            .contains("not found in the subscriptions visible to kvchain")
            && f.message.contains(&format!(
                "either no Key Vault is named {}",
                tk::vault_name(NS)
            )),
        "{}",
        f.message
    );
    assert!(f.fix.contains("private-dns link vnet create"), "{}", f.fix);
}

#[tokio::test]
async fn a_vault_outside_the_visible_subscriptions_leaves_access_unknown() {
    let fake = vault_not_in_sight();
    let mut s = unmounted();
    let c = diagnose(&fake, &mut s).await;
    let out = shown(&c, LinkKind::Access);
    assert_eq!(c.link(LinkKind::Access).status, Status::Unknown, "{out}");
    assert!(
        out.contains(&format!(
            "vault {} not found in the subscriptions visible to kvchain",
            tk::vault_name(NS)
        )),
        "{out}"
    );
}

/// A snapshot whose vaults were read without this one, with the gap the observer writes for a
/// name some vault holds: another app mounted from the vault after the failure began proves it
/// exists (FACTS §1). An older mount proves only that it existed then, and with no gap the name
/// is free (audit EE7: `rules_network_mount_age`).
fn another_app_mounted_from_the_vault() -> Snapshot {
    let mut s = tk::healthy();
    tk::add_app(&mut s, NS, "api", 1);
    s.azure.vaults.items.clear();
    s.azure.vaults.gaps.namespaces.insert(
        tk::vault_name(NS),
        "not found in the subscriptions visible to kvchain (a vault holds that name)".into(),
    );
    let mut s = failing_with(s, &no_such_host(&host()));
    let (failing, mounted) = (tk::ago(SignedDuration::from_mins(10)), tk::now());
    for st in (s.spc_statuses.items.iter_mut()).filter(|st| st.pod_name.contains("api")) {
        st.updated_at = Some(mounted);
    }
    for e in s.events.items.iter_mut() {
        e.first_seen = Some(failing);
    }
    s
}

#[test]
fn a_vault_another_pod_is_mounted_from_is_no_wrong_name() {
    let s = another_app_mounted_from_the_vault();
    let chains = kvchain::chain::diagnose(&s);
    assert!(
        chains.iter().all(|c| !codes(c).contains(&Code::KVC506)),
        "{chains:#?}"
    );
    let f = find_any(&chains, Code::KVC505);
    assert!(
        f.message
            .contains(&format!("pod {NS}/{}", tk::pod_name("api", 0)))
            && f.message.contains("so it exists"),
        "{}",
        f.message
    );
    assert!(!f.fix.contains("keyvaultName"), "{}", f.fix);
}
