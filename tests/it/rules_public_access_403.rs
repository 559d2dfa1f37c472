//! Key Vault's 403 for a request while its public network access is disabled (audit R5): the
//! error code `ForbiddenByConnection`, "Public network access is disabled and request is not
//! from a trusted service nor via an approved private link." The ARM `publicNetworkAccess`
//! property: when disabled, all traffic except private endpoint traffic (and trusted services)
//! is blocked, "even if the firewall rules are present we will not honor the rules". So the
//! finding names public access, not the firewall rules, as the cause; a firewall 403
//! (`ForbiddenByFirewall`, "Client address is not authorized") keeps the network rules.

use kvchain::chain::Code;
use kvchain::chain::testkit as tk;
use kvchain::snapshot::*;

use super::cause_kit::*;

fn kvc505_message(code: &str, text: &str) -> String {
    let mut s = tk::healthy();
    s.azure = AzureObs::unknown("no Azure credentials");
    let message = format!(
        "failed to get objectType:secret, objectName:web-db-pass, objectVersion:: GET https://kv-shop.vault.azure.net/secrets/web-db-pass/\n----\nRESPONSE 403: 403 Forbidden\nERROR CODE: {code}\n----\n{{\"error\":{{\"code\":\"Forbidden\",\"message\":\"{text}\",\"innererror\":{{\"code\":\"{code}\"}}}}}}"
    );
    let c = one(&failing_with(s, &message));
    find(&c, Code::KVC505).message.to_string()
}

#[test]
fn a_403_saying_public_access_is_disabled_is_told_as_that_not_as_firewall_rules() {
    let m = kvc505_message(
        "ForbiddenByConnection",
        "Public network access is disabled and request is not from a trusted service nor via an approved private link.",
    );
    assert!(m.contains("public network access disabled"), "{m}");
    assert!(m.contains("private endpoint"), "{m}");
    assert!(!m.contains("firewall / network rules refused"), "{m}");
}

#[test]
fn a_firewall_403_keeps_the_network_rules() {
    let m = kvc505_message(
        "ForbiddenByFirewall",
        "Client address is not authorized and caller is not a trusted service.",
    );
    assert!(m.contains("firewall / network rules"), "{m}");
    assert!(!m.contains("public network access disabled"), "{m}");
}

/// Audit WW7: the lab's vault with public access disabled answers in Key Vault's words for it
/// (`ForbiddenByConnection`), not the firewall's, so its snapshot replayed with the Azure side
/// stripped (the events alone) still gives the private-endpoint fix; with public access on and
/// the firewall denying, the firewall's 403 keeps the network rule.
#[test]
fn the_labs_public_access_off_replays_to_the_private_endpoint_fix() {
    const CLUSTER: &str = include_str!("../../assets/scenarios/cluster.yaml");
    const SHOP: &str = include_str!("../../assets/scenarios/shop.yaml");
    const HEALTHY: &str = include_str!("../../assets/scenarios/healthy.yaml");
    const OPEN: &str = "    publicNetworkAccess: true\n    defaultAction: Allow\n";
    assert!(SHOP.contains(OPEN));
    let replayed = |network: &str| {
        let shop = SHOP.replace(OPEN, network);
        let sc = kvchain::source::lab::scenario::parse(
            "network",
            std::path::Path::new("network.yaml"),
            &[CLUSTER, &shop, HEALTHY].join("\n---\n"),
        )
        .expect("scenario loads");
        let mut w = kvchain::source::lab::world::World::new(sc);
        w.advance(std::time::Duration::from_secs(60));
        let mut s = kvchain::source::lab::export::snapshot(&w);
        s.azure = AzureObs::unknown("no Azure credentials");
        let chains = kvchain::chain::diagnose(&s);
        find_any(&chains, Code::KVC505).clone()
    };
    let off = replayed(
        "    publicNetworkAccess: false\n    defaultAction: Allow\n    clusterAllowed: false\n",
    );
    assert!(
        off.message.contains("public network access disabled"),
        "{}",
        off.message
    );
    assert!(
        off.fix.contains("az network private-endpoint create"),
        "{}",
        off.fix
    );
    // The network rule is at most the note's alternative, never the command run.
    let run = tk::comment_at(&off.fix).map_or(off.fix.as_str(), |at| &off.fix[..at]);
    assert!(!run.contains("network-rule add"), "{}", off.fix);
    let firewall = replayed(
        "    publicNetworkAccess: true\n    defaultAction: Deny\n    clusterAllowed: false\n",
    );
    assert!(
        firewall.message.contains("firewall / network rules"),
        "{}",
        firewall.message
    );
}
