//! Audit SSS-azure, on the testkit's shop/web chain (not mounted, so no mount proves the
//! read): grants at each scope and custom roles, judged from dataActions and notDataActions
//! (FACTS §8), a scope that is the vault or an ancestor of it reaching it (Azure RBAC
//! inheritance).

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Code, Finding, LinkKind, Status, diagnose};
use kvchain::snapshot::Snapshot;

const RG_SCOPE: &str = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-shop";

fn access_codes(s: &Snapshot) -> (Status, Vec<Finding>) {
    let chains = diagnose(s);
    let c = chains
        .iter()
        .find(|c| c.namespace.as_str() == NS)
        .expect("the shop chain");
    let l = c.link(LinkKind::Access);
    (l.status, l.findings.to_vec())
}

fn custom(s: &mut Snapshot, name: &str, actions: &[&str], not: &[&str], scope: &str) {
    let r = tk::role_mut(s, NS, APP);
    r.role_name = name.into();
    r.role_definition_id = format!(
        "{}/providers/Microsoft.Authorization/roleDefinitions/5e0bd9bd-7b93-4f28-af87-19fc36ad61bd",
        tk::SUBSCRIPTION
    );
    r.data_actions = actions.iter().map(|a| a.to_string()).collect();
    r.not_data_actions = not.iter().map(|a| a.to_string()).collect();
    r.scope = scope.into();
}

/// Secrets User at the vault's resource group and at its subscription reaches the vault
/// (Azure RBAC: a role assigned at a scope is inherited by the resources under it): granted.
#[test]
fn secrets_user_at_the_resource_group_or_subscription_reads_the_secret() {
    for scope in [RG_SCOPE, tk::SUBSCRIPTION, "/"] {
        let mut s = tk::healthy();
        tk::unmount(&mut s, APP);
        tk::role_mut(&mut s, NS, APP).scope = scope.into();
        let (status, found) = access_codes(&s);
        assert_eq!(status, Status::Ok, "{scope}: {found:#?}");
    }
}

/// A custom role `Microsoft.KeyVault/vaults/secrets/*` with getSecret in its notDataActions
/// grants no read (notDataActions subtract from dataActions, FACTS §8's built-in JSON shape):
/// the Access link is broken and the fix assigns Secrets User, which the identity does not
/// hold.
#[test]
fn a_custom_role_whose_not_data_actions_remove_get_secret_reads_nothing() {
    let mut s = tk::healthy();
    tk::unmount(&mut s, APP);
    custom(
        &mut s,
        "secret-writer",
        &["Microsoft.KeyVault/vaults/secrets/*"],
        &[tk::GET_SECRET],
        &tk::vault_id(NS),
    );
    let (status, found) = access_codes(&s);
    assert_eq!(status, Status::Broken, "{found:#?}");
    let grant: Vec<&Finding> = (found.iter())
        .filter(|f| matches!(f.code, Code::KVC501 | Code::KVC502))
        .collect();
    assert_eq!(grant.len(), 1, "{found:#?}");
    assert!(
        grant[0].message.contains(tk::GET_SECRET),
        "{}",
        grant[0].message
    );
    assert!(
        grant[0].fix.contains("--role \"Key Vault Secrets User\""),
        "{}",
        grant[0].fix
    );
}

/// A custom role whose dataActions is `Microsoft.KeyVault/vaults/*/read` (Key Vault Reader's
/// pattern) reads a key's public part and a certificate (keys/read, certificates/read, FACTS
/// §5, §8) but never a secret's value: granted for a key object.
#[test]
fn a_wildcard_read_role_reads_a_key_but_not_a_secret() {
    let key = tk::objects_yaml(&[&[("objectName", &tk::object_name(APP)), ("objectType", "key")]]);
    let mut s = tk::healthy();
    tk::unmount(&mut s, APP);
    custom(
        &mut s,
        "kv-read",
        &["Microsoft.KeyVault/vaults/*/read"],
        &[],
        &tk::vault_id(NS),
    );
    let secret_read = s.clone();
    tk::set_objects(tk::spc_mut(&mut s, APP), key);
    for o in s.azure.objects.iter_mut() {
        o.object_type = kvchain::snapshot::ObjectType::Key;
    }
    let (status, found) = access_codes(&s);
    assert!(
        !found
            .iter()
            .any(|f| matches!(f.code, Code::KVC501 | Code::KVC502)),
        "{found:#?}"
    );
    assert_eq!(status, Status::Ok, "{found:#?}");
    let (status, found) = access_codes(&secret_read);
    assert_eq!(status, Status::Broken, "{found:#?}");
}

/// Key Vault Administrator at the subscription beside Secrets User at the vault: the read is
/// granted; KVC504's fix deletes the Administrator at the scope it was assigned at and never
/// creates the Secrets User the identity already holds.
#[test]
fn over_privilege_fix_deletes_the_broad_role_where_it_is_and_keeps_the_held_one() {
    let mut s = tk::healthy();
    tk::unmount(&mut s, APP);
    let mut admin = tk::role_mut(&mut s, NS, APP).clone();
    admin.role_name = "Key Vault Administrator".into();
    admin.role_definition_id = format!(
        "{}/providers/Microsoft.Authorization/roleDefinitions/00482a5a-887f-4fb3-b363-3b7fe8e74483",
        tk::SUBSCRIPTION
    );
    admin.data_actions = vec!["Microsoft.KeyVault/vaults/*".into()];
    admin.scope = tk::SUBSCRIPTION.into();
    s.azure.role_assignments.items.push(admin);
    let (_, found) = access_codes(&s);
    let over: Vec<&Finding> = found.iter().filter(|f| f.code == Code::KVC504).collect();
    assert_eq!(over.len(), 1, "{found:#?}");
    let fix = &over[0].fix;
    assert!(!fix.contains("az role assignment create"), "{fix}");
    assert!(
        fix.contains("az role assignment delete") && fix.contains(tk::SUBSCRIPTION),
        "{fix}"
    );
    assert!(
        !found
            .iter()
            .any(|f| matches!(f.code, Code::KVC501 | Code::KVC502)),
        "{found:#?}"
    );
}
