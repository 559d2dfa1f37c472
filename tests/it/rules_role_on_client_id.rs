//! A role assigned to the identity's clientId instead of its principal (object) id: codes.yaml
//! KVC501 names it as a cause ("assigned to the clientId instead of the principal (object)
//! id"), and FACTS §7 says RBAC is granted to the principalId while the SPC and SA use the
//! clientId. kvchain reads that assignment: KVC501 points at it instead of saying nothing
//! exists, and its fix makes the grant for the principal and deletes the useless one.

use kvchain::chain::Code;
use kvchain::chain::testkit::{self as tk, APP, NS};

use super::cause_kit::*;

#[test]
fn a_role_on_the_client_id_is_named_as_kvc501s_cause() {
    let mut s = tk::healthy();
    let client = tk::client_id(NS, APP);
    let principal = tk::principal_id(NS, APP);
    tk::role_mut(&mut s, NS, APP).principal_id = client.clone();
    tk::unmount(&mut s, APP);
    let c = one(&s);
    assert_eq!(codes(&c), [Code::KVC501]);
    let f = find(&c, Code::KVC501);
    assert!(
        f.message.contains(&format!(
            "clientId {client} as principal instead of its principal (object) id"
        )),
        "{}",
        f.message
    );
    assert!(
        f.evidence
            .iter()
            .any(|e| e.contains(&format!("principalId {client}"))),
        "{:?}",
        f.evidence
    );
    // Granted to the principal, at the scope it was meant for; the stray one deleted by id
    // (`--assignee <clientId>` would resolve to the principal and delete nothing).
    assert!(
        f.fix.starts_with(&format!(
            "az role assignment create --assignee-object-id {principal} --assignee-principal-type ServicePrincipal --role \"{}\" --scope {}",
            tk::SECRETS_USER,
            tk::vault_id(NS)
        )),
        "{}",
        f.fix
    );
    assert!(
        f.fix.contains(&format!(
            "az role assignment delete --ids $(az role assignment list --scope {} --query \"[?principalId=='{client}'",
            tk::vault_id(NS)
        )),
        "{}",
        f.fix
    );
}

/// Without such an assignment the finding says nothing about a clientId.
#[test]
fn a_missing_role_says_nothing_of_a_client_id() {
    let mut s = tk::healthy();
    s.azure.role_assignments.items = Default::default();
    tk::unmount(&mut s, APP);
    let c = one(&s);
    let f = find(&c, Code::KVC501);
    assert!(!f.message.contains("clientId"), "{}", f.message);
    assert!(!f.fix.contains("delete"), "{}", f.fix);
}
