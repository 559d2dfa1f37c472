//! Audit GGG: the truth of the Azure-side findings, each planted in the testkit's healthy
//! world (`shop/web`) by changing one thing, and checked against the documented behaviour
//! (FACTS §5, §8, §9; README's Azure section; codes.yaml).

use crate::compound_optional::with as findings;
use crate::rules_runtime::codes;
use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Chain, Code, Finding, LinkKind, Status, diagnose};
use kvchain::snapshot::*;

/// `objects` YAML of one secret object of the app with `extra` keys.
fn one_secret(extra: &[(&str, &str)]) -> String {
    let name = tk::object_name(APP);
    let mut item: Vec<(&str, &str)> = vec![("objectName", &name), ("objectType", "secret")];
    item.extend_from_slice(extra);
    tk::objects_yaml(&[&item])
}

fn set_objects(s: &mut Snapshot, objects: String) {
    let spc = tk::spc_mut(s, APP);
    tk::set_objects(spc, objects);
}

/// GGG-A1. On an access-policy vault role assignments are ignored (FACTS §8): an identity
/// over-privileged through its access policy is narrowed in that policy. The fix used to grant
/// an RBAC role (which the vault ignores) and delete "$OVER_PRIVILEGED_ROLE" at "$ITS_SCOPE",
/// placeholders for a role that does not exist, leaving the write permissions in place.
#[test]
fn kvc504_on_an_access_policy_vault_narrows_the_policy_not_a_role() {
    let mut s = tk::healthy();
    s.azure.role_assignments.items.clear();
    let pid = tk::principal_id(NS, APP);
    let vault = tk::vault_mut(&mut s, NS);
    vault.rbac = false;
    vault.access_policies.push(AccessPolicyObs {
        object_id: pid.clone(),
        secrets: vec!["get".into(), "list".into(), "set".into(), "delete".into()],
        keys: vec!["all".into()],
        ..AccessPolicyObs::default()
    });
    let kv = vault.name.clone();
    let chains = diagnose(&s);
    let f = findings(&chains, Code::KVC504);
    assert_eq!(f.len(), 1, "{:#?}", codes(&chains));
    let f = &f[0];
    assert!(!f.fix.contains("az role assignment"), "{}", f.fix);
    assert!(!f.fix.contains('$'), "placeholders: {}", f.fix);
    // One set-policy naming every type replaces the whole policy (audit HHH: no delete first,
    // see hhh_leftovers::kvc504_replaces_an_access_policy_in_one_write).
    assert!(
        f.fix.starts_with(&format!(
            "az keyvault set-policy -n {kv} --object-id {pid} --secret-permissions get "
        )),
        "{}",
        f.fix
    );
    assert!(f.confirm.contains("accessPolicies"), "{}", f.confirm);
    // The read it keeps is the one the mount makes: no KVC501/KVC502 beside it.
    assert!(
        !codes(&chains)
            .iter()
            .any(|c| matches!(c, Code::KVC501 | Code::KVC502)),
        "{:#?}",
        codes(&chains)
    );
}

/// GGG-A2. A firewall that denies by default with rules kvchain cannot match to the cluster's
/// egress (IP or virtual-network rules, private endpoints) leaves the read's path unknown:
/// the Access link is unknown, not ok (README: what kvchain cannot see leaves its link
/// unknown, never a verdict), until a mount proves the path.
#[test]
fn access_behind_firewall_rules_kvchain_cannot_match_is_unknown_until_a_mount() {
    let restricted = NetworkObs {
        public_access: true,
        default_deny: true,
        cluster_allowed: Observed::unknown(
            "vault firewall denies by default with 1 IP rule(s), 0 virtual network rule(s) and 0 private endpoint(s); kvchain cannot match the cluster's egress against them",
        ),
    };
    let mut s = tk::healthy();
    tk::unmount(&mut s, APP);
    tk::vault_mut(&mut s, NS).network = restricted.clone();
    let chains = diagnose(&s);
    let access = chains[0].link(LinkKind::Access);
    assert_eq!(access.status, Status::Unknown, "{access:#?}");
    assert!(
        access
            .facts
            .iter()
            .any(|f| format!("{f:?}").contains("cannot match the cluster's egress")),
        "{access:#?}"
    );
    assert!(
        !codes(&chains).contains(&Code::KVC505),
        "{:#?}",
        codes(&chains)
    );

    // Mounted: the mount went through the firewall.
    let mut s = tk::healthy();
    tk::vault_mut(&mut s, NS).network = restricted;
    let chains = diagnose(&s);
    assert_eq!(chains[0].link(LinkKind::Access).status, Status::Ok);

    // An open vault stays ok without a mount.
    let mut s = tk::healthy();
    tk::unmount(&mut s, APP);
    let chains = diagnose(&s);
    assert_eq!(chains[0].link(LinkKind::Access).status, Status::Ok);
}

/// GGG-A3. A pinned objectVersion the object does not have (KVC601): the confirm lists the
/// object's versions (FACTS §9: the listing returns ids and attributes), among which the pin
/// is missing; `show` without --version prints the latest version's attributes, which say
/// nothing of the pin.
#[test]
fn kvc601_a_missing_pinned_version_is_confirmed_by_the_version_list() {
    let mut s = tk::healthy();
    set_objects(
        &mut s,
        one_secret(&[("objectVersion", "deadbeefdeadbeefdeadbeefdeadbeef")]),
    );
    let chains = diagnose(&s);
    let f = findings(&chains, Code::KVC601);
    assert_eq!(f.len(), 1, "{:#?}", codes(&chains));
    let f = &f[0];
    assert!(
        f.message.contains("has no version deadbeef"),
        "{}",
        f.message
    );
    let kv = tk::vault_name(NS);
    let obj = tk::object_name(APP);
    assert_eq!(
        &*f.confirm,
        format!(
            "az keyvault secret list-versions --vault-name {kv} -n {obj} --query \"[].id\" -o tsv"
        ),
    );
}

/// GGG-A4. objectVersionHistory lists the object's versions first (FACTS §5: "needs list
/// permission"); under Azure RBAC a secret's listing is `secrets/readMetadata/action`, which
/// Key Vault Secrets User holds beside getSecret (FACTS §8) and a custom role granting
/// getSecret alone does not: the listing fails with 403, so the Access link is broken, not ok.
#[test]
fn kvc502_history_under_a_custom_role_without_the_listing() {
    let history = one_secret(&[("objectAlias", "password"), ("objectVersionHistory", "2")]);
    let custom = |s: &mut Snapshot| {
        let r = tk::role_mut(s, NS, APP);
        r.role_name = "secret-reader".into();
        r.role_definition_id = "/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Authorization/roleDefinitions/0b5fe924-9a61-425c-96af-cfe6e287ca2d".into();
        r.data_actions = vec!["Microsoft.KeyVault/vaults/secrets/getSecret/action".into()];
    };
    let mut s = tk::healthy();
    tk::unmount(&mut s, APP);
    set_objects(&mut s, history.clone());
    custom(&mut s);
    let chains = diagnose(&s);
    let f = findings(&chains, Code::KVC502);
    assert_eq!(f.len(), 1, "{:#?}", codes(&chains));
    let f = &f[0];
    assert!(
        f.message
            .contains("Microsoft.KeyVault/vaults/secrets/readMetadata/action"),
        "{}",
        f.message
    );
    assert!(
        f.fix.starts_with(&format!(
            "az role assignment create --assignee-object-id {} --assignee-principal-type ServicePrincipal --role \"Key Vault Secrets User\" --scope {}",
            tk::principal_id(NS, APP),
            tk::vault_id(NS)
        )),
        "{}",
        f.fix
    );
    assert_eq!(chains[0].link(LinkKind::Access).status, Status::Broken);

    // The same role without history reads the one version: no listing, no finding.
    let mut s = tk::healthy();
    tk::unmount(&mut s, APP);
    custom(&mut s);
    let chains = diagnose(&s);
    assert!(
        !codes(&chains)
            .iter()
            .any(|c| matches!(c, Code::KVC501 | Code::KVC502)),
        "{:#?}",
        codes(&chains)
    );
    // Key Vault Secrets User with history: it grants the listing.
    let mut s = tk::healthy();
    tk::unmount(&mut s, APP);
    set_objects(&mut s, history);
    let chains = diagnose(&s);
    assert!(
        !codes(&chains)
            .iter()
            .any(|c| matches!(c, Code::KVC501 | Code::KVC502)),
        "{:#?}",
        codes(&chains)
    );
}

/// The lab's shop with its gateway's kubernetes.io/tls entry reading tls.key from the
/// objectType secret of certificate gateway-tls, whose key is (not) `exportable`, settled.
pub(crate) fn gateway_tls_lab(exportable: bool) -> Snapshot {
    use kvchain::source::lab::world::World;
    use kvchain::source::lab::{self, export};
    let cluster = include_str!("../../assets/scenarios/cluster.yaml");
    let shop = include_str!("../../assets/scenarios/shop.yaml").replace(
        "    - name: gateway-tls\n      subject: CN=gateway.shop.example\n",
        &format!(
            "    - name: gateway-tls\n      subject: CN=gateway.shop.example\n      exportable: {exportable}\n"
        ),
    );
    let gateway = include_str!("../../assets/scenarios/cert-for-tls.yaml")
        .replace("objectType: cert", "objectType: secret");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nonexportable.yaml");
    std::fs::write(&path, format!("{cluster}\n---\n{shop}\n---\n{gateway}")).unwrap();
    let mut w = World::new(lab::load(path.to_str().unwrap()).unwrap());
    w.run_until_stable(lab::MAX_SETTLE);
    export::snapshot(&w)
}

/// GGG-A5. A certificate whose key is not exportable: Key Vault returns its secret without the
/// private key (the lab's Key Vault: "secret (private key + certificate when exportable)",
/// docs/scenarios.md), so a kubernetes.io/tls entry taking tls.key from that objectType secret
/// is never built. The Sync link named that failure "the SPC has changed since: wait up to 5
/// minutes" although nothing had changed and nothing would; it is KVC804 naming the key.
#[test]
fn kvc804_a_tls_key_from_a_certificate_whose_key_is_not_exportable() {
    let scenario = |exportable: bool| kvchain::chain::diagnose(&gateway_tls_lab(exportable));
    let gateway = |chains: &[Chain]| -> Vec<Finding> {
        chains
            .iter()
            .filter(|c| c.pod.starts_with("gateway-"))
            .flat_map(|c| c.findings())
            .cloned()
            .collect()
    };
    let chains = scenario(false);
    let found = gateway(&chains);
    let f: Vec<&Finding> = found.iter().filter(|f| f.code == Code::KVC804).collect();
    assert_eq!(f.len(), 1, "{found:#?}");
    assert!(f[0].message.contains("not exportable"), "{}", f[0].message);
    assert!(!f[0].message.contains("changed since"), "{}", f[0].message);
    assert_eq!(f[0].severity, kvchain::chain::Severity::Error);
    assert!(
        f[0].confirm.contains("policy.keyProperties.exportable"),
        "{}",
        f[0].confirm
    );
    // Exportable: the same SPC builds the Secret, nothing to say on Sync.
    let chains = scenario(true);
    let found = gateway(&chains);
    assert!(!found.iter().any(|f| f.code == Code::KVC804), "{found:#?}");
}

/// GGG-A6. An access policy made for the identity's clientId instead of its principal (object)
/// id grants nothing (a policy matches its objectId; FACTS §7: the SPC uses clientId, grants
/// go to principalId). KVC501 names it, as it names a role assigned to the clientId
/// (codes.yaml KVC501), and its fix sets the principal's policy, then deletes the stray one.
#[test]
fn kvc501_names_an_access_policy_made_for_the_client_id() {
    let mut s = tk::healthy();
    tk::unmount(&mut s, APP);
    s.azure.role_assignments.items.clear();
    let (pid, cid) = (tk::principal_id(NS, APP), tk::client_id(NS, APP));
    let vault = tk::vault_mut(&mut s, NS);
    vault.rbac = false;
    vault.access_policies.push(AccessPolicyObs {
        object_id: cid.clone(),
        secrets: vec!["get".into()],
        ..AccessPolicyObs::default()
    });
    let kv = vault.name.clone();
    let chains = diagnose(&s);
    let f = findings(&chains, Code::KVC501);
    assert_eq!(f.len(), 1, "{:#?}", codes(&chains));
    let f = &f[0];
    assert!(
        f.message
            .contains(&format!("access policy for object id {cid}"))
            && f.message.contains("grants nothing"),
        "{}",
        f.message
    );
    assert_eq!(
        &*f.fix,
        format!(
            "az keyvault set-policy -n {kv} --object-id {pid} --secret-permissions get && az keyvault delete-policy -n {kv} --object-id {cid}"
        )
    );
}
