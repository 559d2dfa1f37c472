//! The lab's Key Vaults by name. A vault's name is the first label of its DNS host (the
//! provider's URL is `https://<keyvaultName>.<KeyVaultDNSSuffix>/`, FACTS §5), and DNS
//! resolves host names in any case: an SPC's `KV-Shop`, a timeline's `kv-shop` and the
//! scenario's `Kv-Shop` are one vault. A vault's objects are found in any case too: Key Vault
//! object identifiers are case-insensitive ("Object identifiers", Azure Key Vault keys, secrets
//! and certificates overview), so an SPC's `objectName: DB-Password` reads secret `db-password`.
//! Every look-up here is ASCII case-insensitive, so no caller can compare names exactly by
//! mistake.

use std::collections::BTreeMap;

use super::azure::{LabObject, LabVault};
use crate::snapshot::ObjectType;

/// The vaults, keyed by their lower-cased name (each keeps its own spelling in `name`).
#[derive(Clone, Debug, Default)]
pub struct Vaults(BTreeMap<String, LabVault>);

impl Vaults {
    /// The vault whose name is `name` in any ASCII case.
    pub fn get(&self, name: &str) -> Option<&LabVault> {
        self.0.get(&name.to_ascii_lowercase())
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut LabVault> {
        self.0.get_mut(&name.to_ascii_lowercase())
    }

    /// Whether `a` and `b` name the same vault.
    pub fn same(a: &str, b: &str) -> bool {
        a.eq_ignore_ascii_case(b)
    }

    /// The vaults in name order.
    pub fn values(&self) -> impl Iterator<Item = &LabVault> {
        self.0.values()
    }
}

/// `vaults[name]`, as a map indexes: panics when no vault has that name.
impl std::ops::Index<&str> for Vaults {
    type Output = LabVault;

    fn index(&self, name: &str) -> &LabVault {
        self.get(name)
            .unwrap_or_else(|| panic!("no vault named {name}"))
    }
}

impl FromIterator<LabVault> for Vaults {
    fn from_iter<I: IntoIterator<Item = LabVault>>(iter: I) -> Self {
        Vaults(
            iter.into_iter()
                .map(|v| (v.name.to_ascii_lowercase(), v))
                .collect(),
        )
    }
}

/// A vault's objects by type and name, found in any ASCII case; each keeps the name it was
/// made with (Key Vault names an object as it was first created, whatever case a later
/// request spells it in). The map's own method names, so the callers read as a map's.
#[derive(Clone, Debug, Default)]
pub struct VaultObjects(BTreeMap<(ObjectType, String), ((ObjectType, String), LabObject)>);

/// `objects[&(type, name)]`, as a map indexes: panics when the vault has no such object.
impl std::ops::Index<&(ObjectType, String)> for VaultObjects {
    type Output = LabObject;

    fn index(&self, key: &(ObjectType, String)) -> &LabObject {
        self.get(key)
            .unwrap_or_else(|| panic!("no {} {} in the vault", key.0.as_str(), key.1))
    }
}

fn folded(key: &(ObjectType, String)) -> (ObjectType, String) {
    (key.0, key.1.to_ascii_lowercase())
}

impl VaultObjects {
    pub fn get(&self, key: &(ObjectType, String)) -> Option<&LabObject> {
        self.0.get(&folded(key)).map(|(_, o)| o)
    }

    pub fn get_mut(&mut self, key: &(ObjectType, String)) -> Option<&mut LabObject> {
        self.0.get_mut(&folded(key)).map(|(_, o)| o)
    }

    pub fn contains_key(&self, key: &(ObjectType, String)) -> bool {
        self.0.contains_key(&folded(key))
    }

    /// Puts `object` under `key`; an object already there in another case keeps its name.
    pub fn insert(&mut self, key: (ObjectType, String), object: LabObject) -> Option<LabObject> {
        let at = folded(&key);
        match self.0.get_mut(&at) {
            Some((_, o)) => Some(std::mem::replace(o, object)),
            None => self.0.insert(at, (key, object)).map(|(_, o)| o),
        }
    }

    pub fn remove(&mut self, key: &(ObjectType, String)) -> Option<LabObject> {
        self.0.remove(&folded(key)).map(|(_, o)| o)
    }

    /// Type and name of each object, as the vault names it.
    pub fn keys(&self) -> impl Iterator<Item = &(ObjectType, String)> {
        self.0.values().map(|(k, _)| k)
    }

    /// Whether `a` and `b` name the same object (in a role assignment's scope, say).
    pub fn same(a: &str, b: &str) -> bool {
        a.eq_ignore_ascii_case(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::lab::scenario::{KeyVault, KeyVaultSpec};

    #[test]
    fn a_vault_is_found_in_any_case() {
        let spec: KeyVaultSpec = serde_yaml::from_str("tenantID: t").unwrap();
        let kv = KeyVault {
            name: "Kv-Shop".into(),
            spec,
        };
        let vaults: Vaults = [LabVault::from_spec(&kv, jiff::Timestamp::UNIX_EPOCH)]
            .into_iter()
            .collect();
        for asked in ["Kv-Shop", "kv-shop", "KV-SHOP"] {
            assert_eq!(vaults.get(asked).map(|v| v.name.as_str()), Some("Kv-Shop"));
        }
        assert!(vaults.get("kv-shop2").is_none());
    }

    #[test]
    fn an_object_is_found_in_any_case_and_keeps_its_name() {
        let spec: KeyVaultSpec =
            serde_yaml::from_str("tenantID: t\nsecrets:\n  - {name: db-password, value: v}")
                .unwrap();
        let kv = KeyVault {
            name: "kv".into(),
            spec,
        };
        let mut v = LabVault::from_spec(&kv, jiff::Timestamp::UNIX_EPOCH);
        for asked in ["db-password", "DB-Password", "DB-PASSWORD"] {
            assert!(v.objects.get(&(ObjectType::Secret, asked.into())).is_some());
        }
        assert!(
            v.objects
                .get(&(ObjectType::Key, "db-password".into()))
                .is_none()
        );
        let again = v
            .objects
            .get(&(ObjectType::Secret, "db-password".into()))
            .cloned();
        v.objects
            .insert((ObjectType::Secret, "DB-Password".into()), again.unwrap());
        let names: Vec<&str> = v.objects.keys().map(|(_, n)| n.as_str()).collect();
        assert_eq!(names, ["db-password"]);
    }
}
