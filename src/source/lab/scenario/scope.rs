//! A lab role assignment's scope (`kind: RoleAssignment`, `spec.scope`).

use serde::Deserialize;

/// Where a role assignment is made: a vault (or one of its objects), a resource group, or the
/// lab's subscription. Azure RBAC inherits down the scopes (subscription → resource group →
/// resource → object, FACTS §8), so a grant at the resource group or subscription above a vault
/// reaches every vault in it. Exactly one of `vault`, `resourceGroup`, `subscription`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScopeSpec {
    /// The vault's name; empty for a resource-group or subscription scope.
    #[serde(default)]
    pub vault: String,
    /// `secrets/<name>`, `keys/<name>` or `certificates/<name>` for an object scope.
    #[serde(default)]
    pub object: Option<String>,
    /// A resource group of the lab's subscription (any, a vault's or not).
    #[serde(default)]
    pub resource_group: Option<String>,
    /// The lab's subscription.
    #[serde(default)]
    pub subscription: bool,
}

impl ScopeSpec {
    /// The scope of vault `name`.
    pub fn of_vault(name: &str) -> Self {
        ScopeSpec {
            vault: name.into(),
            ..ScopeSpec::default()
        }
    }

    /// The scope is vault `name` itself or an ancestor of it in resource group `rg`, or one of
    /// its objects: the assignments a vault's own listing returns.
    pub fn touches(&self, name: &str, rg: &str) -> bool {
        self.subscription
            || (self.resource_group.as_deref()).is_some_and(|g| g.eq_ignore_ascii_case(rg))
            || (!self.vault.is_empty() && self.vault.eq_ignore_ascii_case(name))
    }

    /// The scope reaches object `object` (`secrets/<name>`, as [`ScopeSpec::object`] spells
    /// it, compared in any case) of vault `name` in resource group `rg`.
    pub fn reaches(&self, name: &str, rg: &str, collection: &str, object: &str) -> bool {
        self.touches(name, rg)
            && self.object.as_deref().is_none_or(|o| {
                o.split_once('/').is_some_and(|(c, n)| {
                    c.eq_ignore_ascii_case(collection) && n.eq_ignore_ascii_case(object)
                })
            })
    }

    /// The ARM scope string, with `vault_id` the resource id of the vault [`ScopeSpec::vault`]
    /// names (unused for the other scopes).
    pub fn arm(
        &self,
        subscription: &str,
        vault_id: impl FnOnce() -> Option<String>,
    ) -> Option<String> {
        if self.subscription {
            return Some(format!("/subscriptions/{subscription}"));
        }
        if let Some(g) = &self.resource_group {
            return Some(format!("/subscriptions/{subscription}/resourceGroups/{g}"));
        }
        let id = vault_id()?;
        Some(match &self.object {
            Some(o) => format!("{id}/{o}"),
            None => id,
        })
    }
}

impl std::fmt::Display for ScopeSpec {
    /// How a message names the scope: `Key Vault kv-a`, `resource group rg-kv`, `the
    /// subscription`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.subscription {
            f.write_str("the subscription")
        } else if let Some(g) = &self.resource_group {
            write!(f, "resource group {g}")
        } else {
            write!(f, "Key Vault {}", self.vault)
        }
    }
}
