//! Key Vault's object kinds, as an SPC's `objectType` names them (`secret`, `key`, `cert`).

use serde::{Deserialize, Serialize};

/// A Key Vault object kind, as an SPC's `objectType` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectType {
    Secret,
    Key,
    Cert,
}

impl ObjectType {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "secret" => Some(ObjectType::Secret),
            "key" => Some(ObjectType::Key),
            "cert" => Some(ObjectType::Cert),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectType::Secret => "secret",
            ObjectType::Key => "key",
            ObjectType::Cert => "cert",
        }
    }
    /// The path segment Key Vault uses in object ids (`/secrets/`, `/keys/`, `/certificates/`).
    pub fn collection(self) -> &'static str {
        match self {
            ObjectType::Secret => "secrets",
            ObjectType::Key => "keys",
            ObjectType::Cert => "certificates",
        }
    }
}
