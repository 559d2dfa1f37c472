//! Key Vault built-in roles (Azure RBAC permission model), with the real role definition ids
//! and `dataActions` (shared/upstream FACTS §8), and the wildcard matching ARM applies.

use super::scenario::RoleAssignmentSpec;
use crate::snapshot::ObjectType;

pub struct BuiltinRole {
    pub name: &'static str,
    pub guid: &'static str,
    pub data_actions: &'static [&'static str],
}

const ROLES: &[BuiltinRole] = &[
    BuiltinRole {
        name: "Key Vault Administrator",
        guid: "00482a5a-887f-4fb3-b363-3b7fe8e74483",
        data_actions: &["Microsoft.KeyVault/vaults/*"],
    },
    BuiltinRole {
        name: "Key Vault Secrets Officer",
        guid: "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
        data_actions: &["Microsoft.KeyVault/vaults/secrets/*"],
    },
    BuiltinRole {
        name: "Key Vault Secrets User",
        guid: "4633458b-17de-408a-b874-0445c86b69e6",
        data_actions: &[
            "Microsoft.KeyVault/vaults/secrets/getSecret/action",
            "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
        ],
    },
    BuiltinRole {
        name: "Key Vault Certificate User",
        guid: "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba",
        data_actions: &[
            "Microsoft.KeyVault/vaults/certificates/read",
            "Microsoft.KeyVault/vaults/secrets/getSecret/action",
            "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
            "Microsoft.KeyVault/vaults/keys/read",
        ],
    },
    BuiltinRole {
        name: "Key Vault Certificates Officer",
        guid: "a4417e6f-fecd-4de8-b567-7b0420556985",
        data_actions: &[
            "Microsoft.KeyVault/vaults/certificatecas/*",
            "Microsoft.KeyVault/vaults/certificates/*",
            "Microsoft.KeyVault/vaults/certificatecontacts/write",
        ],
    },
    BuiltinRole {
        name: "Key Vault Crypto User",
        guid: "12338af0-0e69-4776-bea7-57ae8d297424",
        data_actions: &[
            "Microsoft.KeyVault/vaults/keys/read",
            "Microsoft.KeyVault/vaults/keys/update/action",
            "Microsoft.KeyVault/vaults/keys/backup/action",
            "Microsoft.KeyVault/vaults/keys/encrypt/action",
            "Microsoft.KeyVault/vaults/keys/decrypt/action",
            "Microsoft.KeyVault/vaults/keys/wrap/action",
            "Microsoft.KeyVault/vaults/keys/unwrap/action",
            "Microsoft.KeyVault/vaults/keys/sign/action",
            "Microsoft.KeyVault/vaults/keys/verify/action",
        ],
    },
    BuiltinRole {
        name: "Key Vault Reader",
        guid: "21090545-7ca7-4776-b22c-e363652d74d2",
        data_actions: &[
            "Microsoft.KeyVault/vaults/*/read",
            "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
        ],
    },
    BuiltinRole {
        name: "Key Vault Contributor",
        guid: "f25e0fa2-a7c8-4377-a976-54943a77a395",
        data_actions: &[],
    },
];

pub fn builtin(name: &str) -> Option<&'static BuiltinRole> {
    ROLES.iter().find(|r| r.name.eq_ignore_ascii_case(name))
}

pub fn names() -> Vec<&'static str> {
    ROLES.iter().map(|r| r.name).collect()
}

/// The data action the provider's GET needs for an object type (FACTS §8, AKS doc).
pub fn required_action(t: ObjectType) -> &'static str {
    match t {
        ObjectType::Secret => "Microsoft.KeyVault/vaults/secrets/getSecret/action",
        ObjectType::Key => "Microsoft.KeyVault/vaults/keys/read",
        ObjectType::Cert => "Microsoft.KeyVault/vaults/certificates/read",
    }
}

/// ARM action matching (the one matcher the observer and the access rules share).
pub use crate::snapshot::action_matches;

pub fn grants(role: &BuiltinRole, action: &str) -> bool {
    role.data_actions.iter().any(|p| action_matches(p, action))
}

/// The role definition a lab assignment names: a built-in role, or the custom role its
/// `dataActions` / `notDataActions` write out (audit UUU-azure: the lab had built-in roles
/// only, so no trainer could show a custom role that grants the read, or one that takes it
/// back).
pub struct Definition<'a> {
    pub name: &'a str,
    /// The role definition's id (a GUID): a built-in role's own, a custom role's made from
    /// its name, as a tenant's custom role names are unique.
    pub guid: String,
    pub data_actions: Vec<&'a str>,
    pub not_data_actions: Vec<&'a str>,
}

impl Definition<'_> {
    /// Whether the role allows `action`: a `dataActions` pattern matches it and no
    /// `notDataActions` pattern takes it back (Microsoft Learn, "Understand Azure role
    /// definitions": NotDataActions are subtracted from DataActions; case-insensitive, `*`
    /// wildcards).
    pub fn grants(&self, action: &str) -> bool {
        crate::snapshot::role_allows(&self.data_actions, &self.not_data_actions, action)
    }
}

/// The definition `spec` names: `None` for a built-in name the lab does not know (the scenario
/// parser refuses it).
pub fn definition(spec: &RoleAssignmentSpec) -> Option<Definition<'_>> {
    if let Some(data) = &spec.data_actions {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(spec.role.to_ascii_lowercase().as_bytes());
        return Some(Definition {
            name: &spec.role,
            guid: crate::snapshot::guid_of(&digest),
            data_actions: data.iter().map(String::as_str).collect(),
            not_data_actions: spec.not_data_actions.iter().map(String::as_str).collect(),
        });
    }
    let b = builtin(&spec.role)?;
    Some(Definition {
        name: b.name,
        guid: b.guid.to_string(),
        data_actions: b.data_actions.to_vec(),
        not_data_actions: Vec::new(),
    })
}

/// The data action the provider's listing of versions needs (objectVersionHistory, FACTS §5)
/// under RBAC: a secret's versions are listed with `secrets/readMetadata/action`, which a
/// custom role granting `getSecret` alone lacks; a key's and a certificate's with the same
/// `read` that gets them.
pub fn list_action(t: ObjectType) -> &'static str {
    match t {
        ObjectType::Secret => "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
        _ => required_action(t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_user_reads_secrets_but_not_certificates_or_keys() {
        let r = builtin("Key Vault Secrets User").unwrap();
        assert!(grants(r, required_action(ObjectType::Secret)));
        assert!(!grants(r, required_action(ObjectType::Cert)));
        assert!(!grants(r, required_action(ObjectType::Key)));
    }

    #[test]
    fn reader_sees_metadata_only_and_admin_everything() {
        let reader = builtin("key vault reader").unwrap();
        assert!(!grants(reader, required_action(ObjectType::Secret)));
        assert!(grants(reader, required_action(ObjectType::Key)));
        let admin = builtin("Key Vault Administrator").unwrap();
        for t in [ObjectType::Secret, ObjectType::Key, ObjectType::Cert] {
            assert!(grants(admin, required_action(t)));
        }
    }
}
