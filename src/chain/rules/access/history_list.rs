//! The listing objectVersionHistory makes: on an access-policy vault it needs `list` beside
//! `get` (FACTS §5).

use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::Finding;
use crate::chain::rules::remedy;
use crate::snapshot::{AccessPolicyObs, ObjectType, VaultObs};

/// KVC502 for objects of type `t` read with objectVersionHistory on an access-policy vault
/// whose policies for `principal` grant get but not list: the provider lists the versions
/// first (FACTS §5: history "needs list permission"), and Key Vault refuses the listing
/// (AccessDenied). Under RBAC the roles that grant the read grant the listing too (FACTS §8).
pub(super) fn history_unlisted(
    cx: &Ctx,
    vault: &VaultObs,
    principal: &str,
    policies: &[&AccessPolicyObs],
    p: &crate::spc::AzureSpc,
    t: ObjectType,
) -> Option<Finding> {
    let with_history: Vec<&str> = (p.objects.iter())
        .filter(|o| o.object_type == Some(t) && o.object_version_history.unwrap_or(0) > 1)
        .map(|o| o.object_name.as_str())
        .collect();
    let perms = |a: &&AccessPolicyObs| match t {
        ObjectType::Secret => a.secrets.clone(),
        ObjectType::Key => a.keys.clone(),
        ObjectType::Cert => a.certificates.clone(),
    };
    let held: Vec<String> = policies.iter().flat_map(perms).collect();
    let lists = |x: &String| x.eq_ignore_ascii_case("list") || x.eq_ignore_ascii_case("all");
    if with_history.is_empty() || held.iter().any(lists) {
        return None;
    }
    let what = format!("{} {}", t.as_str(), with_history.join(", "));
    Some(cx.finding(
        Code::KVC502,
        format!("KeyVault/{}", vault.name),
        format!(
            "{what} is read with objectVersionHistory, which lists its versions first, but the access policy of principal {principal} on Key Vault {} grants {} without list: the listing fails with 403 (AccessDenied)",
            vault.name,
            t.collection()
        ),
        vec![format!(
            "access policy {} permissions: {}",
            t.collection(),
            held.join(", ")
        )],
        remedy::policy_confirm(&vault.name, principal),
        // set-policy replaces the type's permissions: those held are kept, list added.
        format!(
            "az keyvault set-policy -n {} --object-id {principal} {}",
            vault.name,
            remedy::policy_flag(cx, &vault.name, principal, t, "list")
        ),
    ))
}
