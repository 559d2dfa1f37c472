//! A mount proves the vault existed when it was made, not now (audit EE7). FACTS §1: the
//! SecretProviderClassPodStatus is "created only AFTER a successful provider mount", so another
//! pod mounted from the vault shows that the vault answered then. FACTS §11: events are history
//! and evidence ages, and a mistyped (or missing) vault name fails as a DNS failure, as a
//! private endpoint without its DNS zone linked does. So only a mount written after the failure
//! began proves the vault exists under that name now; an older one leaves a deleted vault (a
//! soft-deleted vault keeps its name) and an edited keyvaultName open beside the private DNS
//! zone. And when no vault holds the name now (Key Vault names are global, FACTS §5: ARM's name
//! check found it free), a vault a pod mounted from was deleted since: no private-DNS link
//! brings it back.

use jiff::{SignedDuration, Timestamp};
use kvchain::chain::Code;
use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::snapshot::Snapshot;
use serde_json::json;

use super::cause_kit::*;

const OTHER: &str = "api";

fn host() -> String {
    format!("{}.vault.azure.net", tk::vault_name(NS))
}

/// The web pod's mount fails with `host` unresolved since `first` (its event's first time),
/// while app `api`, mounted from the same vault, wrote its status at `mounted`. The vault is
/// not among those kvchain read; `gap`: the reason Azure gave (a name some vault holds), or
/// none (the name is free).
fn world(first: SignedDuration, mounted: SignedDuration, gap: Option<&str>) -> Snapshot {
    let mut s = tk::healthy();
    tk::add_app(&mut s, NS, OTHER, 1);
    let vault = tk::vault_name(NS);
    s.azure.vaults.items.clear();
    if let Some(why) = gap {
        s.azure
            .vaults
            .gaps
            .namespaces
            .insert(vault.clone(), why.to_string());
    }
    let h = host();
    let cause = format!(
        "failed to get objectType:secret, objectName:{0}, objectVersion:: GET https://{h}/secrets/{0}/\nRESPONSE: dial tcp: lookup {h} on 10.0.0.10:53: no such host",
        tk::object_name(APP)
    );
    let mut s = failing_with(s, &cause);
    for st in (s.spc_statuses.items.iter_mut()).filter(|st| st.pod_name.contains(OTHER)) {
        st.updated_at = Some(tk::ago(mounted));
    }
    // The event's first time, as a snapshot file records it.
    let mut v = serde_json::to_value(&s).expect("snapshot serializes");
    for e in v["events"]["items"].as_array_mut().expect("events") {
        e["first_seen"] = json!(tk::ago(first).to_string());
    }
    serde_json::from_value(v).expect("snapshot reads back")
}

const HELD: &str = "vault not found in the subscriptions visible to kvchain (a vault holds that name: it is in another subscription or tenant, or soft-deleted)";

fn minutes(n: i64) -> SignedDuration {
    SignedDuration::from_mins(n)
}

#[test]
fn a_mount_older_than_the_failure_proves_only_that_the_vault_existed_then() {
    let s = world(minutes(10), minutes(60), Some(HELD));
    let chains = kvchain::chain::diagnose(&s);
    let f = find_any(&chains, Code::KVC505);
    let pod = format!("pod {NS}/{}", tk::pod_name(OTHER, 0));
    assert!(
        f.message
            .contains(&format!("it existed when {pod} mounted from it at")),
        "{}",
        f.message
    );
    assert!(!f.message.contains("so it exists"), "{}", f.message);
    // All three causes stay open: deleted (soft-deleted keeps the name), a renamed
    // keyvaultName, the private DNS zone.
    assert!(f.message.contains("deleted since"), "{}", f.message);
    assert!(
        f.fix
            .contains(&format!("az keyvault recover -n {}", tk::vault_name(NS))),
        "{}",
        f.fix
    );
    assert!(f.fix.contains("parameters.keyvaultName"), "{}", f.fix);
    assert!(f.fix.contains("private-dns link vnet create"), "{}", f.fix);
}

#[test]
fn a_mount_written_after_the_failure_began_proves_the_vault_exists() {
    let s = world(minutes(10), minutes(1), Some(HELD));
    let chains = kvchain::chain::diagnose(&s);
    assert!(
        chains.iter().all(|c| !codes(c).contains(&Code::KVC506)),
        "{chains:#?}"
    );
    let f = find_any(&chains, Code::KVC505);
    assert!(f.message.contains("so it exists"), "{}", f.message);
    assert!(f.fix.contains("private-dns link vnet create"), "{}", f.fix);
    assert!(!f.fix.contains("keyvaultName"), "{}", f.fix);
}

/// The name is free (no gap: ARM's Check Name Availability said no vault holds it, not even a
/// soft-deleted one), and a pod mounted from a vault of that name: it was deleted since.
#[test]
fn a_vault_a_pod_mounted_from_whose_name_is_free_now_was_deleted() {
    let s = world(minutes(10), minutes(60), None);
    let chains = kvchain::chain::diagnose(&s);
    let f = find_any(&chains, Code::KVC506);
    assert!(
        f.message.contains(&format!(
            "pod {NS}/{} mounted from it",
            tk::pod_name(OTHER, 0)
        )) && f.message.contains("deleted"),
        "{}",
        f.message
    );
    assert!(!f.fix.contains("private-dns"), "{}", f.fix);
    assert!(
        chains.iter().all(|c| !codes(c).contains(&Code::KVC505)),
        "{chains:#?}"
    );
}

/// The event's first time is read from the cluster (`firstTimestamp`), so a mount can be
/// compared with it.
#[test]
fn an_events_first_time_is_kept() {
    let e: k8s_openapi::api::core::v1::Event = serde_json::from_value(json!({
        "metadata": {"name": "web.1", "namespace": NS},
        "involvedObject": {"kind": "Pod", "name": "web-0", "namespace": NS},
        "reason": "FailedMount", "type": "Warning", "message": "no such host", "count": 9,
        "firstTimestamp": "2026-01-15T09:00:00Z", "lastTimestamp": "2026-01-15T09:04:10Z"
    }))
    .expect("an Event");
    let obs = serde_json::to_value(kvchain::snapshot::convert::event(&e)).expect("serializes");
    let first: Timestamp = "2026-01-15T09:00:00Z".parse().expect("time");
    assert_eq!(obs["first_seen"], json!(first.to_string()), "{obs}");
}
