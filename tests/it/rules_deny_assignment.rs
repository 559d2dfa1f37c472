//! A Key Vault 403 that names a deny assignment (audit CC6). FACTS §5's RBAC deny body carries
//! `DenyAssignmentId:` (`null` when no deny assignment refused) and a `DecisionReason`. A deny
//! assignment blocks what it lists whatever role assignments grant, so with the grant read
//! and right it is neither "it changed since: wait for the next attempt" nor a role to add.

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{CONTRADICTED, Code, LinkKind};

use super::cause_kit::*;

const DENY: &str = "/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Authorization/denyAssignments/9f1c2d3e-aaaa-bbbb-cccc-000000000001";

/// Key Vault's RBAC refusal of the app's secret (FACTS §5 shape), naming `deny` and `reason`.
fn refused(deny: &str, reason: &str) -> String {
    format!(
        "failed to get objectType:secret, objectName:{0}, objectVersion:: GET https://{1}.vault.azure.net/secrets/{0}/\n----\nRESPONSE 403: 403 Forbidden\nERROR CODE: Forbidden\n----\n{{\"error\":{{\"code\":\"Forbidden\",\"message\":\"Caller is not authorized to perform action on resource.\\r\\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\\r\\nCaller: appid=x;oid={2};iss=https://sts.windows.net/{3}/\\r\\nAction: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'\\r\\nResource: '{4}/secrets/{0}'\\r\\nAssignment: (not found)\\r\\nDenyAssignmentId: {deny}\\r\\nDecisionReason: '{reason}' \\r\\nVault: {1};location=westeurope\",\"innererror\":{{\"code\":\"ForbiddenByRbac\"}}}}}}",
        tk::object_name(APP),
        tk::vault_name(NS),
        tk::principal_id(NS, APP),
        tk::TENANT,
        tk::vault_id(NS).to_ascii_lowercase(),
    )
}

#[test]
fn a_403_naming_a_deny_assignment_names_it_and_is_no_wait() {
    let c = one(&failing_with(
        tk::healthy(),
        &refused(DENY, "DeniedWithDenyAssignment"),
    ));
    let f = find(&c, Code::KVC501);
    assert!(
        f.message.contains(&format!("deny assignment {DENY}")),
        "{}",
        f.message
    );
    assert!(!f.fix.contains("wait for the next attempt"), "{}", f.fix);
    assert!(!f.fix.contains("az role assignment create"), "{}", f.fix);
    assert!(
        f.confirm.contains(&format!("--url \"{DENY}?api-version=")),
        "{}",
        f.confirm
    );
    assert_ne!(c.link(LinkKind::Access).summary, CONTRADICTED);
}

/// `DenyAssignmentId: null` names none: the grant read looks right, so the attempt is told as
/// one the next will settle (the behaviour this guards, unchanged).
#[test]
fn a_403_naming_no_deny_assignment_over_a_grant_that_looks_right_stays_a_wait() {
    let c = one(&failing_with(
        tk::healthy(),
        &refused("null", "DeniedWithNoValidRBAC"),
    ));
    let f = find(&c, Code::KVC501);
    assert!(!f.message.contains("deny assignment"), "{}", f.message);
    assert_eq!(c.link(LinkKind::Access).summary, CONTRADICTED);
}

/// The deny assignment first, then the grant (audit EE2): with the role also missing or
/// wrong, the 403 naming a deny assignment is the cause a grant cannot clear (FACTS §5: the
/// body names the deny assignment that refused), so the structural KVC501/KVC502 says it,
/// confirms it with its own read, and its fix notes it beside the grant.
fn assert_deny_first(f: &kvchain::chain::model::Finding) {
    let deny_at = f.message.find(&format!("deny assignment {DENY}"));
    assert!(deny_at.is_some(), "{}", f.message);
    assert!(
        f.confirm
            .starts_with(&format!("az rest --method get --url \"{DENY}?api-version=")),
        "{}",
        f.confirm
    );
    assert!(
        f.fix.contains("az role assignment create") && f.fix.contains(DENY),
        "{}",
        f.fix
    );
}

#[test]
fn a_deny_403_with_no_role_says_the_deny_assignment_first() {
    let mut s = tk::healthy();
    s.azure.role_assignments.items.clear();
    let c = one(&failing_with(s, &refused(DENY, "DeniedWithDenyAssignment")));
    assert_deny_first(find(&c, Code::KVC501));
}

#[test]
fn a_deny_403_with_a_wrong_role_says_the_deny_assignment_first() {
    let mut s = tk::healthy();
    let role = tk::role_mut(&mut s, NS, APP);
    role.role_name = "Key Vault Crypto User".into();
    role.data_actions = vec!["Microsoft.KeyVault/vaults/keys/read".into()];
    let c = one(&failing_with(s, &refused(DENY, "DeniedWithDenyAssignment")));
    assert_deny_first(find(&c, Code::KVC502));
}
