//! The lab's Key Vaults by name. A vault's name is the first label of its DNS host (the
//! provider's URL is `https://<keyvaultName>.<KeyVaultDNSSuffix>/`, FACTS §5), and DNS
//! resolves host names in any case: an SPC's `KV-Shop`, a timeline's `kv-shop` and the
//! scenario's `Kv-Shop` are one vault. Every look-up here is ASCII case-insensitive, so no
//! caller can compare names exactly by mistake.

use std::collections::BTreeMap;

use super::azure::LabVault;

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
}
