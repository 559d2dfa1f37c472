//! The Access link's confirm lists the grants the finding judged (audit CC3). `az role
//! assignment list --scope S` shows only the assignments made at S itself; `--include-inherited`
//! adds those at parent scopes (learn.microsoft.com role-assignments-list-cli: "To include role
//! assignments at parent scopes, add the --include-inherited parameter"), and a grant on one
//! object (`<vault id>/secrets/<name>`, FACTS §8) lies below the vault, so it is listed at its
//! own scope. Without them the confirm printed an empty table beside "holds Key Vault Secrets
//! User" (KVC502) or "no role assignment" (KVC501).

use kvchain::chain::Code;
use kvchain::chain::testkit::{self as tk, APP, NS};

use super::cause_kit::*;
use super::paste_kit::paste;

/// The `az role assignment list` calls the confirm makes, as pasted.
fn lists(confirm: &str) -> Vec<String> {
    let run = paste(confirm, "", "");
    (run.called("az [role] [assignment] [list]").into_iter())
        .map(str::to_string)
        .collect()
}

fn unmounted() -> kvchain::snapshot::Snapshot {
    let mut s = tk::healthy();
    tk::unmount(&mut s, APP);
    s
}

#[test]
fn the_no_grant_confirm_lists_inherited_and_object_level_grants() {
    let mut s = unmounted();
    s.azure.role_assignments.items.clear();
    let c = one(&s);
    let f = find(&c, Code::KVC501);
    let calls = lists(&f.confirm);
    let vault = tk::vault_id(NS);
    assert!(
        (calls.iter()).any(|l| l.contains(&format!("[--scope] [{vault}] [--include-inherited]"))),
        "{calls:#?}\n{}",
        f.confirm
    );
    let object = format!("[--scope] [{vault}/secrets/{}]", tk::object_name(APP));
    assert!(
        (calls.iter()).any(|l| l.contains(&object)),
        "{calls:#?}\n{}",
        f.confirm
    );
}

/// The grant KVC502 names sits at the resource group: the vault-scope list shows it only with
/// `--include-inherited`.
#[test]
fn the_wrong_role_confirm_lists_the_resource_group_grant_it_names() {
    let mut s = unmounted();
    let vault = tk::vault_id(NS);
    let rg = vault
        .split("/providers/")
        .next()
        .expect("a resource group scope")
        .to_string();
    let role = tk::role_mut(&mut s, NS, APP);
    role.scope = rg.clone();
    role.role_name = "Key Vault Crypto User".into();
    role.data_actions = vec!["Microsoft.KeyVault/vaults/keys/read".into()];
    let c = one(&s);
    let f = find(&c, Code::KVC502);
    assert!(
        f.evidence.iter().any(|e| e.contains(&rg)),
        "{:?}",
        f.evidence
    );
    let calls = lists(&f.confirm);
    assert!(
        (calls.iter()).any(|l| l.contains(&format!("[--scope] [{vault}] [--include-inherited]"))),
        "{calls:#?}\n{}",
        f.confirm
    );
}

/// `az rest` calls the confirm makes, as pasted.
fn rests(confirm: &str) -> Vec<String> {
    let run = paste(confirm, "", "");
    (run.called("az [rest]").into_iter())
        .map(str::to_string)
        .collect()
}

/// Audit EE3: `--include-inherited` matches parent scopes by path prefix (azure-cli
/// `_search_role_assignments`), so a grant at a management group is in no list above; ARM's
/// own listing at the vault shows every assignment that applies there, management groups
/// included. The confirm adds it when the grant it judged lies there.
#[test]
fn a_grant_at_a_management_group_is_listed_by_arm_at_the_vault() {
    let mut s = unmounted();
    let vault = tk::vault_id(NS);
    let group = "/providers/Microsoft.Management/managementGroups/mg-contoso";
    for v in s.azure.vaults.items.iter_mut() {
        v.management_groups = Some(vec![group.into()]);
    }
    let role = tk::role_mut(&mut s, NS, APP);
    role.scope = group.into();
    role.role_name = "Key Vault Crypto User".into();
    role.data_actions = vec!["Microsoft.KeyVault/vaults/keys/read".into()];
    let c = one(&s);
    let f = find(&c, Code::KVC502);
    let calls = rests(&f.confirm);
    let url = format!(
        "[--url] [{vault}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01]"
    );
    assert!(
        calls.iter().any(|l| l.contains(&url)),
        "{calls:#?}\n{}",
        f.confirm
    );
}

/// A grant on another object of the vault is below the vault and at no scope the lists name:
/// ARM's listing at the vault shows it too (audit EE3). A grant the lists show needs no more.
#[test]
fn a_grant_on_another_object_is_listed_and_a_listed_one_adds_nothing() {
    let mut s = unmounted();
    let vault = tk::vault_id(NS);
    tk::role_mut(&mut s, NS, APP).scope = format!("{vault}/secrets/something-else");
    let c = one(&s);
    let f = find(&c, Code::KVC501);
    assert_eq!(rests(&f.confirm).len(), 1, "{}", f.confirm);

    let mut s = unmounted();
    s.azure.role_assignments.items.clear();
    let c = one(&s);
    let f = find(&c, Code::KVC501);
    assert!(rests(&f.confirm).is_empty(), "{}", f.confirm);
}
