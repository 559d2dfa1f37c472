//! Fixes that name what the SecretProviderClass already holds (README: fixes come "with the
//! real names filled in"). A required key written in another case (`keyVaultName`) is why
//! the provider says "keyvaultName is not provided" (FACTS §5: exact keys): the value is in
//! the SPC, so the fix is the rename, told once. A `useWorkloadIdentity` next to a `clientID`
//! is removed, not replaced by a second `clientID`.

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Code, Severity};

use super::cause_kit::*;

fn rename(s: &mut kvchain::snapshot::Snapshot, from: &str, to: &str) -> String {
    let spc = tk::spc_mut(s, APP);
    let v = spc
        .parameters
        .remove(from)
        .expect("testkit SPC has the key");
    spc.parameters.insert(to.into(), v.clone());
    tk::reparse(spc);
    v
}

#[test]
fn a_miscased_vault_key_is_kvc302s_named_cause_and_its_fix_is_the_rename() {
    let mut s = tk::healthy();
    let vault = rename(&mut s, "keyvaultName", "keyVaultName");
    let c = one(&s);
    let f = find(&c, Code::KVC302);
    assert_eq!(f.severity, Severity::Error);
    assert!(
        f.message
            .contains(&format!("keyVaultName: {vault} is written")),
        "{}",
        f.message
    );
    assert!(
        f.fix.ends_with(&format!(
            "# rename keyVaultName to keyvaultName (its value {vault} stays)"
        )),
        "{}",
        f.fix
    );
    assert!(
        !f.fix.contains('<'),
        "a placeholder where the SPC holds the value: {}",
        f.fix
    );
    // One cause, one finding: the unread-key warning does not say it again.
    assert!(
        with(&c, Code::KVC305)
            .iter()
            .all(|f| !f.message.contains("keyVaultName")),
        "{:#?}",
        with(&c, Code::KVC305)
    );
}

#[test]
fn a_miscased_tenant_key_is_named_the_same_way() {
    let mut s = tk::healthy();
    let tenant = rename(&mut s, "tenantId", "TenantID");
    let c = one(&s);
    let f = find(&c, Code::KVC302);
    assert!(
        f.message
            .contains(&format!("TenantID: {tenant} is written")),
        "{}",
        f.message
    );
    assert!(f.fix.contains("rename TenantID to tenantID"), "{}", f.fix);
}

#[test]
fn use_workload_identity_next_to_a_client_id_is_removed_not_replaced() {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters
        .insert("useWorkloadIdentity".into(), "true".into());
    tk::reparse(spc);
    let c = one(&s);
    let f = find(&c, Code::KVC305);
    assert!(f.fix.contains("remove useWorkloadIdentity"), "{}", f.fix);
    assert!(!f.fix.contains("clientID: <"), "{}", f.fix);
}

/// An unrendered clientID while the pods' ServiceAccount names the identity: that id fills
/// the fix (as KVC302's no-credential fix already did).
#[test]
fn an_unrendered_client_id_is_filled_from_the_service_account() {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters
        .insert("clientID".into(), "${USER_ASSIGNED_CLIENT_ID}".into());
    tk::reparse(spc);
    let c = one(&s);
    let f = find(&c, Code::KVC306);
    assert!(
        f.fix
            .contains(&format!("clientID: {}", tk::client_id(NS, APP))),
        "{}",
        f.fix
    );
}
