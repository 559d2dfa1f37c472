//! May kvchain's Azure identity rotate or reveal secrets of a vault? Asked ahead of time so the
//! UI can grey the keys with the reason. RBAC vaults answer through ARM's "Permissions - List
//! For Resource" (the caller's effective `dataActions` at the vault scope); access-policy vaults
//! through the policies Resource Graph already returned. Pure judging lives here; the fetching
//! is in [`super::vault_access`].
//!
//! The answers lean to "allowed": only a certain denial greys a key. The write itself still
//! reports a 403 with the missing permission.

use serde_json::Value;

use super::arm::{AssignmentRow, strings};
use crate::snapshot::AccessPolicyObs;

/// What an action needs from Key Vault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VaultNeed {
    /// The rotation test reads the current value and writes it back as a new version.
    Rotate,
    /// Reveal reads the latest value.
    Reveal,
}

const GET_SECRET: &str = "Microsoft.KeyVault/vaults/secrets/getSecret/action";
const SET_SECRET: &str = "Microsoft.KeyVault/vaults/secrets/setSecret/action";

impl VaultNeed {
    /// The RBAC data actions the action uses.
    pub fn data_actions(self) -> &'static [&'static str] {
        match self {
            VaultNeed::Rotate => &[GET_SECRET, SET_SECRET],
            VaultNeed::Reveal => &[GET_SECRET],
        }
    }

    /// The least built-in role that grants them.
    pub fn role(self) -> &'static str {
        match self {
            VaultNeed::Rotate => "Key Vault Secrets Officer",
            VaultNeed::Reveal => "Key Vault Secrets User",
        }
    }

    /// The access-policy secret permissions the action uses.
    pub fn policy_permissions(self) -> &'static [&'static str] {
        match self {
            VaultNeed::Rotate => &["get", "set"],
            VaultNeed::Reveal => &["get"],
        }
    }

    fn doing(self) -> &'static str {
        match self {
            VaultNeed::Rotate => "the rotation test",
            VaultNeed::Reveal => "reveal",
        }
    }
}

/// One entry of the permissions list: what one role assignment grants at the scope.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Grant {
    pub data_actions: Vec<String>,
    pub not_data_actions: Vec<String>,
    /// An ABAC condition kvchain cannot evaluate: the grant may apply.
    pub conditional: bool,
}

/// The caller's effective permissions at one scope.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Permissions {
    pub grants: Vec<Grant>,
}

/// The `value` items of a permissions list (`actions`, `notActions`, `dataActions`,
/// `notDataActions`, optional `condition`). Control-plane actions are not kept: Key Vault
/// secrets are read and written through data actions only.
pub fn parse(items: &[Value]) -> Permissions {
    Permissions {
        grants: items
            .iter()
            .map(|p| Grant {
                data_actions: strings(p.get("dataActions")),
                not_data_actions: strings(p.get("notDataActions")),
                conditional: p
                    .get("condition")
                    .and_then(Value::as_str)
                    .is_some_and(|c| !c.trim().is_empty()),
            })
            .collect(),
    }
}

/// Azure's action pattern match (shared with the access rules: one matcher).
pub use crate::snapshot::action_matches as matches;

impl Permissions {
    /// Whether some assignment grants the data action and does not take it back.
    pub fn allows_data(&self, action: &str) -> bool {
        self.grants.iter().any(|g| {
            g.data_actions.iter().any(|p| matches(p, action))
                && !g.not_data_actions.iter().any(|p| matches(p, action))
        })
    }
}

/// The RBAC answer at the vault scope.
pub fn judge_rbac(perms: &Permissions, vault: &str, need: VaultNeed) -> Result<(), String> {
    let missing: Vec<&str> = need
        .data_actions()
        .iter()
        .copied()
        .filter(|a| !perms.allows_data(a))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(format!(
        "kvchain's Azure identity lacks {} on vault {vault} ({})",
        missing.join(" and "),
        need.role()
    ))
}

/// Role assignments below the vault (on single objects) are not in the vault-scope
/// permissions list: with any of them, a vault-scope "no" is not certain.
pub fn object_scoped(assignments: &[AssignmentRow], vault_id: &str) -> bool {
    let prefix = format!("{}/", vault_id.trim_end_matches('/').to_ascii_lowercase());
    assignments
        .iter()
        .any(|a| a.scope.to_ascii_lowercase().starts_with(&prefix))
}

/// The access-policy answer. kvchain does not know which groups its identity is in, so a
/// policy granting the permission to anyone may be its own: only a permission that no policy
/// grants at all is a certain "no".
pub fn judge_policies(
    policies: &[AccessPolicyObs],
    vault: &str,
    need: VaultNeed,
) -> Result<(), String> {
    let granted = |perm: &str| {
        policies.iter().any(|p| {
            p.secrets
                .iter()
                .any(|s| s.eq_ignore_ascii_case(perm) || s.eq_ignore_ascii_case("all"))
        })
    };
    let missing: Vec<String> = need
        .policy_permissions()
        .iter()
        .filter(|p| !granted(p))
        .map(|p| format!("secrets/{p}"))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let needed: Vec<String> = need
        .policy_permissions()
        .iter()
        .map(|p| format!("secrets/{p}"))
        .collect();
    Err(format!(
        "no access policy on vault {vault} grants {} to anyone, kvchain's Azure identity included ({} needs {} in an access policy)",
        missing.join(" and "),
        need.doing(),
        needed.join(" + ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wildcards_match_like_azure() {
        assert!(matches("*", SET_SECRET));
        assert!(matches("Microsoft.KeyVault/vaults/secrets/*", SET_SECRET));
        assert!(matches("microsoft.keyvault/vaults/*", GET_SECRET));
        assert!(matches(SET_SECRET, &SET_SECRET.to_uppercase()));
        assert!(matches("Microsoft.KeyVault/*/action", SET_SECRET));
        assert!(!matches("Microsoft.KeyVault/vaults/keys/*", SET_SECRET));
        assert!(!matches("*/read", SET_SECRET));
        assert!(!matches(GET_SECRET, SET_SECRET));
        assert!(
            !matches("Microsoft.KeyVault/vaults/secrets/getSecret", GET_SECRET),
            "no implicit prefix match"
        );
    }

    /// The documented response shape of `…/providers/Microsoft.Authorization/permissions`.
    fn response(entries: Value) -> Vec<Value> {
        let page = json!({ "value": entries });
        page["value"].as_array().cloned().unwrap()
    }

    #[test]
    fn secrets_officer_may_rotate_and_reveal() {
        let p = parse(&response(json!([
            {"actions": ["Microsoft.Authorization/*/read"], "notActions": [],
             "dataActions": ["Microsoft.KeyVault/vaults/secrets/*"], "notDataActions": []}
        ])));
        assert_eq!(judge_rbac(&p, "kv-x", VaultNeed::Rotate), Ok(()));
        assert_eq!(judge_rbac(&p, "kv-x", VaultNeed::Reveal), Ok(()));
    }

    #[test]
    fn secrets_user_may_reveal_but_not_rotate() {
        let p = parse(&response(json!([
            {"actions": [], "notActions": [],
             "dataActions": ["Microsoft.KeyVault/vaults/secrets/getSecret/action",
                             "Microsoft.KeyVault/vaults/secrets/readMetadata/action"],
             "notDataActions": []},
            {"actions": ["*"], "notActions": [], "dataActions": [], "notDataActions": []}
        ])));
        assert_eq!(judge_rbac(&p, "kv-x", VaultNeed::Reveal), Ok(()));
        assert_eq!(
            judge_rbac(&p, "kv-x", VaultNeed::Rotate),
            Err("kvchain's Azure identity lacks Microsoft.KeyVault/vaults/secrets/setSecret/action on vault kv-x (Key Vault Secrets Officer)".into())
        );
    }

    #[test]
    fn not_data_actions_take_back_only_within_their_own_grant() {
        let minus_set = json!({"dataActions": ["*"], "notDataActions": ["Microsoft.KeyVault/vaults/secrets/setSecret/action"]});
        let p = parse(&response(json!([minus_set.clone()])));
        assert!(p.allows_data(GET_SECRET));
        assert!(!p.allows_data(SET_SECRET));
        let why = judge_rbac(&p, "kv-x", VaultNeed::Rotate).unwrap_err();
        assert!(
            why.contains("lacks Microsoft.KeyVault/vaults/secrets/setSecret/action on vault kv-x"),
            "{why}"
        );
        assert!(!why.contains("getSecret"), "{why}");
        // Another assignment granting it still counts: notDataActions are not deny assignments.
        let p = parse(&response(
            json!([minus_set, {"dataActions": ["Microsoft.KeyVault/vaults/secrets/setSecret/action"]}]),
        ));
        assert!(p.allows_data(SET_SECRET));
    }

    #[test]
    fn nothing_granted_names_every_missing_action() {
        let p = parse(&response(json!([{"actions": ["*"], "notActions": []}])));
        assert_eq!(
            judge_rbac(&p, "kv-x", VaultNeed::Rotate).unwrap_err(),
            format!(
                "kvchain's Azure identity lacks {GET_SECRET} and {SET_SECRET} on vault kv-x (Key Vault Secrets Officer)"
            )
        );
        assert!(
            judge_rbac(&Permissions::default(), "kv-x", VaultNeed::Reveal)
                .unwrap_err()
                .ends_with("(Key Vault Secrets User)")
        );
    }

    #[test]
    fn conditional_grants_are_read() {
        let p = parse(&response(
            json!([{"dataActions": ["*"], "condition": "@Resource[x] == 'y'"}]),
        ));
        assert!(p.grants[0].conditional);
        assert!(
            p.allows_data(SET_SECRET),
            "an unevaluated condition may apply"
        );
    }

    fn policy(secrets: &[&str]) -> AccessPolicyObs {
        AccessPolicyObs {
            object_id: "25cc773c-7f05-40fc-a104-32d2300754ad".into(),
            secrets: secrets.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn access_policies_deny_only_what_nobody_is_granted() {
        let reader = [policy(&["Get", "List"])];
        assert_eq!(judge_policies(&reader, "kv-p", VaultNeed::Reveal), Ok(()));
        let why = judge_policies(&reader, "kv-p", VaultNeed::Rotate).unwrap_err();
        assert_eq!(
            why,
            "no access policy on vault kv-p grants secrets/set to anyone, kvchain's Azure identity included (the rotation test needs secrets/get + secrets/set in an access policy)"
        );
        let admin = [policy(&["get"]), policy(&["all"])];
        assert_eq!(judge_policies(&admin, "kv-p", VaultNeed::Rotate), Ok(()));
        assert!(
            judge_policies(&[], "kv-p", VaultNeed::Reveal)
                .unwrap_err()
                .contains("grants secrets/get to anyone")
        );
    }

    #[test]
    fn object_scoped_assignments_are_found_below_the_vault_only() {
        let vault = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-x";
        let at = |scope: &str| AssignmentRow {
            principal_id: "p".into(),
            role_definition_id: "r".into(),
            scope: scope.into(),
            principal_type: String::new(),
            created_on: None,
        };
        assert!(!object_scoped(&[at(vault), at("/subscriptions/s")], vault));
        assert!(object_scoped(
            &[at(&format!("{}/secrets/db", vault.to_lowercase()))],
            vault
        ));
        assert!(!object_scoped(
            &[at(&format!("{vault}-other/secrets/db"))],
            vault
        ));
    }
}
