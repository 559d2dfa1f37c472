//! A firewall refusal after the firewall was repaired (audit 12, A12-1). Events are history
//! (FACTS §11): a KVC505 event is not a current finding once a later answer from Key Vault got
//! past the network rules, or once the vault's network rules as read now let the cluster
//! through while another finding on the Access link explains the failures (one symptom, one
//! cause). And never a network-rule fix for a vault that already lets the traffic in.

use jiff::SignedDuration;
use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Chain, Code, LinkKind, diagnose};
use kvchain::snapshot::*;

fn one(s: &Snapshot) -> Chain {
    let mut chains = diagnose(s);
    assert_eq!(chains.len(), 1);
    chains.remove(0)
}

const FIREWALL: &str = "failed to get objectType:secret, objectName:web-db-pass, objectVersion:: GET https://kv-shop.vault.azure.net/secrets/web-db-pass/\nRESPONSE 403: 403 Forbidden\nERROR CODE: Forbidden\n{\"error\":{\"code\":\"Forbidden\",\"message\":\"Client address is not authorized and caller is not a trusted service.\",\"innererror\":{\"code\":\"ForbiddenByFirewall\"}}}";

const RBAC: &str = "failed to get objectType:secret, objectName:web-db-pass, objectVersion:: GET https://kv-shop.vault.azure.net/secrets/web-db-pass/\nRESPONSE 403: 403 Forbidden\nERROR CODE: Forbidden\n{\"error\":{\"code\":\"Forbidden\",\"message\":\"Caller is not authorized to perform action on resource.\",\"innererror\":{\"code\":\"ForbiddenByRbac\"}}}";

/// A ≤v1.5 rotation failure on the app's pod, last seen `ago`.
fn rotation_failed(cause: &str, ago: SignedDuration) -> EventObs {
    let pod = tk::pod_name(APP, 0);
    EventObs {
        namespace: NS.into(),
        involved_kind: "Pod".into(),
        involved_name: pod.as_str().into(),
        type_: "Warning".into(),
        reason: "MountRotationFailed".into(),
        message: format!(
            "provider mount err: rpc error: code = Unknown desc = failed to mount secrets store objects for pod {NS}/{pod}, err: rpc error: code = Unknown desc = failed to mount objects, error: {cause}"
        ),
        count: 1,
        source: "csi-secrets-store-rotation".into(),
        last_seen: Some(tk::ago(ago)),
        ..EventObs::default()
    }
}

/// The firewall was on and refused a rotation, then the role was removed too, then the
/// firewall was repaired: the vault is open again (the testkit's default network) and the
/// identity has no grant.
fn firewall_repaired_role_removed() -> Snapshot {
    let mut s = tk::healthy();
    s.azure.role_assignments.items.clear();
    s.events
        .items
        .push(rotation_failed(FIREWALL, SignedDuration::from_secs(90)));
    s
}

fn access_codes(c: &Chain) -> Vec<Code> {
    c.link(LinkKind::Access)
        .findings
        .iter()
        .map(|f| f.code)
        .collect()
}

fn kept_as_history(c: &Chain, why: &str) -> bool {
    c.link(LinkKind::Access)
        .facts
        .iter()
        .any(|f| f.label == "history (KVC505)" && f.observed.contains(why))
}

#[test]
fn a_later_refusal_for_want_of_a_grant_makes_an_earlier_firewall_refusal_history() {
    let mut s = firewall_repaired_role_removed();
    // Key Vault applies its network rules before the grants: this 403 got past them.
    s.events
        .items
        .push(rotation_failed(RBAC, SignedDuration::from_secs(10)));
    // Even were the network read as closed, the later answer says it let the request in.
    tk::vault_mut(&mut s, NS).network.cluster_allowed = Observed::Unknown("no egress".into());
    tk::vault_mut(&mut s, NS).network.default_deny = true;
    let c = one(&s);
    assert_eq!(access_codes(&c), [Code::KVC501], "{:#?}", c.links);
    assert!(
        kept_as_history(&c, "got past the vault's network rules"),
        "{:#?}",
        c.link(LinkKind::Access)
    );
}

#[test]
fn a_firewall_refusal_contradicted_by_the_open_network_is_history_beside_the_real_cause() {
    // Before the next poll: no later event, but the network rules read now let the cluster
    // through and the missing grant (KVC501) explains the failures from now on.
    let c = one(&firewall_repaired_role_removed());
    assert_eq!(access_codes(&c), [Code::KVC501], "{:#?}", c.links);
    assert!(
        kept_as_history(&c, "network rules let the cluster through now"),
        "{:#?}",
        c.link(LinkKind::Access)
    );
    assert!(
        !c.findings().any(|f| f.fix.contains("network-rule")),
        "no network rule for an open vault: {:#?}",
        c.findings().collect::<Vec<_>>()
    );
}

#[test]
fn a_firewall_refusal_while_the_firewall_still_refuses_stays_current() {
    let mut s = firewall_repaired_role_removed();
    let n = &mut tk::vault_mut(&mut s, NS).network;
    n.default_deny = true;
    n.cluster_allowed = Observed::Known(false);
    let c = one(&s);
    let codes = access_codes(&c);
    assert!(codes.contains(&Code::KVC505), "{:#?}", c.links);
    let f = c.findings().find(|f| f.code == Code::KVC505).unwrap();
    assert!(
        f.evidence
            .iter()
            .any(|e| e.starts_with("MountRotationFailed")),
        "the event corroborates the structural finding: {f:#?}"
    );
}

#[test]
fn a_firewall_refusal_on_a_link_that_now_looks_right_says_so_and_changes_nothing() {
    // The single fault repaired, before the next poll (README: "a repair not yet retried says
    // so, and proposes nothing to create").
    let mut s = tk::healthy();
    s.events
        .items
        .push(rotation_failed(FIREWALL, SignedDuration::from_secs(90)));
    let c = one(&s);
    let f = c
        .findings()
        .find(|f| f.code == Code::KVC505)
        .expect("the recent failure is shown");
    assert!(f.fix.starts_with("# nothing to change"), "{f:#?}");
    assert_eq!(c.link(LinkKind::Access).summary, "failed, now looks right");
}
