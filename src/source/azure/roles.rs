//! Built-in role definitions by their fixed GUIDs (FACTS §8), so role assignments resolve to a
//! name and `dataActions` without one ARM call per assignment. Unknown ids (custom roles) are
//! looked up once per refresh interval by the ARM module.

/// A role definition reduced to what the access rules need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleDef {
    pub name: String,
    pub data_actions: Vec<String>,
    /// Taken back from `data_actions` by pattern, as Azure does (not subtracted here: a
    /// `secrets/*` minus `secrets/getSecret/action` has no list of its own).
    pub not_data_actions: Vec<String>,
}

const KV: &str = "Microsoft.KeyVault/vaults";

/// (GUID, name, dataActions relative to `Microsoft.KeyVault/vaults`; "" ⇒ the prefix itself).
const BUILT_IN: &[(&str, &str, &[&str])] = &[
    (
        "00482a5a-887f-4fb3-b363-3b7fe8e74483",
        "Key Vault Administrator",
        &["/*"],
    ),
    (
        "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
        "Key Vault Secrets Officer",
        &["/secrets/*"],
    ),
    (
        "4633458b-17de-408a-b874-0445c86b69e6",
        "Key Vault Secrets User",
        &["/secrets/getSecret/action", "/secrets/readMetadata/action"],
    ),
    (
        "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba",
        "Key Vault Certificate User",
        &[
            "/certificates/read",
            "/secrets/getSecret/action",
            "/secrets/readMetadata/action",
            "/keys/read",
        ],
    ),
    (
        "a4417e6f-fecd-4de8-b567-7b0420556985",
        "Key Vault Certificates Officer",
        &[
            "/certificatecas/*",
            "/certificates/*",
            "/certificatecontacts/write",
        ],
    ),
    (
        "12338af0-0e69-4776-bea7-57ae8d297424",
        "Key Vault Crypto User",
        &[
            "/keys/read",
            "/keys/update/action",
            "/keys/backup/action",
            "/keys/encrypt/action",
            "/keys/decrypt/action",
            "/keys/wrap/action",
            "/keys/unwrap/action",
            "/keys/sign/action",
            "/keys/verify/action",
        ],
    ),
    (
        "21090545-7ca7-4776-b22c-e363652d74d2",
        "Key Vault Reader",
        &["/*/read", "/secrets/readMetadata/action"],
    ),
    (
        "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
        "Key Vault Crypto Officer",
        &["/keys/*", "/keyrotationpolicies/*"],
    ),
    (
        "e147488a-f6f5-4113-8e2d-b22465e65bf6",
        "Key Vault Crypto Service Encryption User",
        &["/keys/read", "/keys/wrap/action", "/keys/unwrap/action"],
    ),
    // Management-plane roles: no data actions, so they never grant object access. Listed so
    // the common ones cost no look-up.
    (
        "f25e0fa2-a7c8-4377-a976-54943a77a395",
        "Key Vault Contributor",
        &[],
    ),
    ("8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "Owner", &[]),
    ("b24988ac-6180-42a0-ab88-20f7382dd24c", "Contributor", &[]),
    ("acdd72a7-3385-48ef-bd42-f606fba81ae7", "Reader", &[]),
    (
        "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
        "User Access Administrator",
        &[],
    ),
];

/// The GUID at the end of a `roleDefinitionId`
/// (`/subscriptions/…/providers/Microsoft.Authorization/roleDefinitions/<guid>`).
pub fn definition_guid(role_definition_id: &str) -> &str {
    role_definition_id
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(role_definition_id)
}

/// The built-in role with this definition id (full id or bare GUID), if it is one we know.
pub fn built_in(role_definition_id: &str) -> Option<RoleDef> {
    let guid = definition_guid(role_definition_id);
    BUILT_IN
        .iter()
        .find(|(g, _, _)| g.eq_ignore_ascii_case(guid))
        .map(|(_, name, actions)| RoleDef {
            name: (*name).to_string(),
            data_actions: actions.iter().map(|a| format!("{KV}{a}")).collect(),
            not_data_actions: Vec::new(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_secrets_user_by_full_id() {
        let r = built_in("/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6").unwrap();
        assert_eq!(r.name, "Key Vault Secrets User");
        assert_eq!(
            r.data_actions,
            [
                "Microsoft.KeyVault/vaults/secrets/getSecret/action",
                "Microsoft.KeyVault/vaults/secrets/readMetadata/action"
            ]
        );
    }

    #[test]
    fn administrator_covers_the_vault() {
        let r = built_in("00482A5A-887F-4FB3-B363-3B7FE8E74483").unwrap();
        assert_eq!(r.data_actions, ["Microsoft.KeyVault/vaults/*"]);
    }

    #[test]
    fn custom_roles_are_not_guessed() {
        assert!(built_in("/providers/Microsoft.Authorization/roleDefinitions/0b5fe924-9a61-425c-96af-cfe6e287ca2d").is_none());
    }
}
