//! A Key Vault request that gets no answer (FACTS §11, Network): "A vault behind a private
//! endpoint without the private DNS zone linked, or a mistyped vault name, shows as `context
//! deadline exceeded` / DNS failure, not as a 403/404." Both are explained (codes.yaml
//! KVC505, KVC506), never left to KVC701 "no rule explains".

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{CONTRADICTED, Code, LinkKind, Status};
use kvchain::snapshot::*;

use super::cause_kit::*;

/// The provider's error for a GET to `vault` that got `response` instead of an answer.
fn unanswered(vault: &str, response: &str) -> String {
    format!(
        "failed to get objectType:secret, objectName:web-db-pass, objectVersion:: GET https://{vault}.vault.azure.net/secrets/web-db-pass/\nRESPONSE: {response}"
    )
}

fn no_such_host(vault: &str) -> String {
    unanswered(
        vault,
        &format!("dial tcp: lookup {vault}.vault.azure.net on 10.0.0.10:53: no such host"),
    )
}

const DEADLINE: &str = "context deadline exceeded";

/// The SPC names `vault` instead of the app's vault.
fn naming(s: &mut Snapshot, vault: &str) {
    let spc = tk::spc_mut(s, APP);
    spc.parameters.insert("keyvaultName".into(), vault.into());
    tk::reparse(spc);
}

#[test]
fn a_host_that_does_not_resolve_for_a_name_no_vault_has_is_the_name_with_the_nearest() {
    let real = tk::vault_name(NS);
    let typo = format!("{}0", &real[..real.len() - 1]);
    let mut s = tk::healthy();
    naming(&mut s, &typo);
    let c = one(&failing_with(s, &no_such_host(&typo)));
    assert_eq!(codes(&c), [Code::KVC506], "{:#?}", c.links);
    let f = find(&c, Code::KVC506);
    assert!(has_event(f));
    assert!(
        f.message.contains(&typo) && f.message.contains(&format!("did you mean {real}?")),
        "{}",
        f.message
    );
    assert!(
        f.fix
            .ends_with(&format!("# parameters.keyvaultName: {real}")),
        "{}",
        f.fix
    );
    assert_eq!(c.link(LinkKind::Access).status, Status::Broken);
    assert_eq!(c.link(LinkKind::Mount).summary, "blocked: Access");
    // A vault that does not exist has no objects to read: the object waits on the name
    // (audit 10, V10: it read `? Azure unknown`).
    let object = c.link(LinkKind::VaultObject);
    assert_eq!(
        (object.status, object.summary.as_str()),
        (Status::Pending, "blocked: Access"),
        "{object:#?}"
    );
}

/// The vault exists and denies public access: the deadline is its private endpoint's name
/// not resolving from the nodes. The vault's rules read fine, but that does not contradict
/// the event: the DNS zone link is not something kvchain reads.
#[test]
fn a_deadline_to_a_private_vault_is_the_private_dns_zone() {
    let mut s = tk::healthy();
    let v = tk::vault_mut(&mut s, NS);
    v.network.public_access = false;
    v.network.default_deny = true;
    v.network.cluster_allowed = Observed::Known(true);
    let c = one(&failing_with(s, &unanswered(&tk::vault_name(NS), DEADLINE)));
    assert_eq!(codes(&c), [Code::KVC505], "{:#?}", c.links);
    let f = find(&c, Code::KVC505);
    assert!(has_event(f));
    assert!(
        f.message.contains("privatelink.vaultcore.azure.net") && f.message.contains(DEADLINE),
        "{}",
        f.message
    );
    assert!(
        f.confirm
            .contains(&format!("nslookup {}.vault.azure.net", tk::vault_name(NS)))
            && f.confirm.starts_with("kubectl debug node/"),
        "{}",
        f.confirm
    );
    assert!(
        f.fix.contains("az network private-dns link vnet create")
            && f.fix.contains("-z privatelink.vaultcore.azure.net"),
        "{}",
        f.fix
    );
    // The cluster's VNet, also on the AKS-managed VNet (an empty vnetSubnetId): the node
    // resource group's, never `-v ""` (audit T4).
    assert!(
        f.fix.contains("[ -n \"$SUBNET\" ] || { NODE_RG=")
            && f.fix.contains("-v \"${SUBNET%/subnets/*}\""),
        "{}",
        f.fix
    );
    assert_ne!(c.link(LinkKind::Access).summary, CONTRADICTED);
}

/// Vaults unreadable: a name not seen proves nothing, so the network is named (KVC505).
#[test]
fn with_vaults_unreadable_a_dns_failure_is_not_called_a_wrong_name() {
    let mut s = tk::healthy();
    s.azure = AzureObs::unknown("no Azure credentials");
    naming(&mut s, "kv-elsewhere");
    let c = one(&failing_with(s, &no_such_host("kv-elsewhere")));
    assert_eq!(codes(&c), [Code::KVC505], "{:#?}", c.links);
    assert!(!c.findings().any(|f| f.code == Code::KVC701));
}

/// A timeout means the public name resolved: some vault has it, even one kvchain cannot see.
#[test]
fn a_timeout_for_a_vault_not_seen_is_the_network_not_the_name() {
    let mut s = tk::healthy();
    naming(&mut s, "kv-other-sub");
    let c = one(&failing_with(s, &unanswered("kv-other-sub", DEADLINE)));
    assert_eq!(codes(&c), [Code::KVC505], "{:#?}", c.links);
}

/// With the vaults unreadable kvchain cannot tell a name no vault has from a private
/// endpoint whose DNS zone is not linked (FACTS §11: both are a DNS failure): the finding
/// names both, never claims the vault exists, and its fix offers both edits (codes.yaml
/// KVC505 upstream: "no such host (for a vault that exists)"; KVC506 needs the vaults read).
#[test]
fn a_host_that_does_not_resolve_with_the_vaults_unread_names_both_causes() {
    let typo = "kv-dem0";
    let mut s = tk::healthy();
    naming(&mut s, typo);
    s.azure.vaults.items.clear();
    s.azure.vaults.gaps.all = Some("403 Forbidden: cannot list vaults".into());
    let c = one(&failing_with(s, &no_such_host(typo)));
    assert_eq!(codes(&c), [Code::KVC505], "{:#?}", c.links);
    let f = find(&c, Code::KVC505);
    assert!(has_event(f));
    assert!(
        f.message.contains("either no Key Vault is named kv-dem0")
            && f.message.contains("privatelink.vaultcore.azure.net")
            && !f.message.contains("cannot reach"),
        "{}",
        f.message
    );
    assert!(
        f.confirm.starts_with("nslookup kv-dem0.vault.azure.net")
            && f.confirm.contains("az keyvault list"),
        "{}",
        f.confirm
    );
    assert!(
        f.fix.contains("parameters.keyvaultName") && f.fix.contains("private-dns link vnet create"),
        "{}",
        f.fix
    );
    assert_ne!(c.link(LinkKind::Access).summary, "firewall");
}

/// With publicNetworkAccess Disabled Key Vault admits only private endpoints (and trusted
/// services) and does not honour its IP or VNet rules (the ARM property's own description):
/// a network rule changes nothing, the fix is a private endpoint the nodes reach, named with
/// the vault's id and resource group from the snapshot.
#[test]
fn a_vault_with_public_access_disabled_is_fixed_by_a_private_endpoint_not_a_rule() {
    let mut s = tk::healthy();
    tk::vault_mut(&mut s, NS).network = NetworkObs {
        public_access: false,
        default_deny: false,
        cluster_allowed: Observed::Known(false),
    };
    let c = one(&s);
    assert_eq!(codes(&c), [Code::KVC505], "{:#?}", c.links);
    let f = find(&c, Code::KVC505);
    assert!(!f.message.contains("no rule admits"), "{}", f.message);
    assert!(
        !f.fix.starts_with("az keyvault network-rule add"),
        "{}",
        f.fix
    );
    assert!(
        f.fix.contains("az network private-endpoint create"),
        "{}",
        f.fix
    );
    assert!(
        f.fix.contains(&format!(
            "--private-connection-resource-id {} --group-id vault",
            tk::vault_id(NS)
        )),
        "{}",
        f.fix
    );
    assert!(
        f.fix.contains("privatelink.vaultcore.azure.net"),
        "{}",
        f.fix
    );
    assert!(
        f.fix.contains("--public-network-access Enabled"),
        "the other way: {}",
        f.fix
    );
    assert!(!f.fix.contains('<'), "{}", f.fix);
    // Public access on, denying by default: the node subnet's rule is what admits it.
    let mut s = tk::healthy();
    tk::vault_mut(&mut s, NS).network = NetworkObs {
        public_access: true,
        default_deny: true,
        cluster_allowed: Observed::Known(false),
    };
    let f = find(&one(&s), Code::KVC505).clone();
    assert!(
        f.fix
            .contains("az keyvault network-rule add -n kv-shop --subnet \"$SUBNET\""),
        "{}",
        f.fix
    );
    assert!(!f.fix.contains("private-endpoint create"), "{}", f.fix);
}

/// The node subnet's rule, pasted, must work on the clusters AKS makes by default:
/// - a node pool on the AKS-managed VNet has an empty `vnetSubnetId`, so the subnet is found in
///   the node resource group's VNet rather than passed as `--subnet ""`;
/// - a virtual-network rule needs the subnet's Microsoft.KeyVault service endpoint (Key Vault
///   refuses the rule without it unless told to ignore it), added to the endpoints the subnet
///   already has, since `--service-endpoints` replaces the list.
#[test]
fn the_node_subnet_rule_finds_a_managed_vnet_subnet_and_enables_its_service_endpoint() {
    for public_access in [true, false] {
        let mut s = tk::healthy();
        tk::vault_mut(&mut s, NS).network = NetworkObs {
            public_access,
            default_deny: true,
            cluster_allowed: Observed::Known(false),
        };
        let f = find(&one(&s), Code::KVC505).clone();
        let rule = f
            .fix
            .find("az keyvault network-rule add")
            .unwrap_or_else(|| panic!("{}", f.fix));
        let endpoint = f
            .fix
            .find("--service-endpoints $(az network vnet subnet show --ids \"$SUBNET\" --query \"serviceEndpoints[].service\" -o tsv | grep -vx Microsoft.KeyVault) Microsoft.KeyVault")
            .unwrap_or_else(|| panic!("{}", f.fix));
        assert!(endpoint < rule, "the endpoint first: {}", f.fix);
        let fallback = f
            .fix
            .find("[ -n \"$SUBNET\" ] || { NODE_RG=\"$(az aks show -g")
            .unwrap_or_else(|| panic!("{}", f.fix));
        assert!(fallback < endpoint, "{}", f.fix);
        assert!(f.fix.contains("--query nodeResourceGroup"), "{}", f.fix);
        // The node resource group held and tested before the VNet lookup (audit XE-paste).
        assert!(
            f.fix
                .contains("SUBNET=\"$(az network vnet list -g \"$NODE_RG\" "),
            "{}",
            f.fix
        );
        // History expansion in an interactive shell: no `!` in what is pasted.
        assert!(!f.fix.contains('!'), "{}", f.fix);
    }
}

/// The vault unread, Key Vault's own 403 says public access is disabled
/// (ForbiddenByConnection): IP and VNet rules are not honoured then (the ARM property's
/// description), so the fix is a private endpoint, not the node subnet's rule (audit R5).
#[test]
fn public_access_disabled_in_the_403_is_fixed_by_a_private_endpoint_with_the_vault_unread() {
    let mut s = tk::healthy();
    s.azure = AzureObs::unknown("no Azure credentials");
    let message = "failed to get objectType:secret, objectName:web-db-pass, objectVersion:: GET https://kv-shop.vault.azure.net/secrets/web-db-pass/\n--------------------------------------------------------------------------------\nRESPONSE 403: 403 Forbidden\nERROR CODE: ForbiddenByConnection\n--------------------------------------------------------------------------------\n{\"error\":{\"code\":\"Forbidden\",\"message\":\"Public network access is disabled and request is not from a trusted service nor via an approved private link.\",\"innererror\":{\"code\":\"ForbiddenByConnection\"}}}";
    let c = one(&failing_with(s, message));
    let f = find(&c, Code::KVC505);
    assert!(
        f.fix.contains("az network private-endpoint create"),
        "{}",
        f.fix
    );
    assert!(
        !f.fix.starts_with("SUBNET=")
            || f.fix.find("private-endpoint") < f.fix.find("network-rule add"),
        "{}",
        f.fix
    );
}

/// A name no vault has, far from every visible vault (no typo to name): the snapshot fills the
/// vault when one visible vault's listing holds the SPC's object (Key Vault compares object
/// names in any case); with no listing read, the vaults' listing runs as a step of its own and
/// the edit says in words which to take, never "the name az keyvault list prints" or a name
/// to fill inside a command (audit NNN2).
#[test]
fn a_name_no_vault_has_is_fixed_with_the_vault_holding_the_objects_or_the_listing_first() {
    let real = tk::vault_name(NS);
    let mut s = tk::healthy();
    naming(&mut s, "kv-elsewhere");
    let listed = s.clone();
    let c = one(&failing_with(s, &no_such_host("kv-elsewhere")));
    let fix = &find(&c, Code::KVC506).fix;
    assert!(
        fix.starts_with(
            "az keyvault list --query \"[].name\" -o tsv && kubectl edit secretproviderclass"
        ) && fix.contains("the vault of that list that holds web-db-pass")
            && !fix.contains("az keyvault list prints"),
        "{fix}"
    );
    let mut s = listed;
    tk::vault_mut(&mut s, NS).object_names = Some(vec![(ObjectType::Secret, "WEB-DB-PASS".into())]);
    let c = one(&failing_with(s, &no_such_host("kv-elsewhere")));
    let fix = &find(&c, Code::KVC506).fix;
    assert!(
        fix.starts_with("kubectl edit secretproviderclass")
            && fix.contains(&format!("parameters.keyvaultName: {real} (the one vault")),
        "{fix}"
    );
}
