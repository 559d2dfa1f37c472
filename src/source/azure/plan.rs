//! What one observe asks of Azure, worked out from the snapshot before any request: the
//! identities, vaults and objects the SecretProviderClasses name, grouped by cloud, with
//! input that cannot safely go into a query refused here.

use std::collections::{BTreeMap, BTreeSet};

use super::arm;
use super::cloud::Cloud;
use crate::snapshot::{ObjectType, Snapshot};

/// What the Kubernetes side asks of Azure: derived from the SecretProviderClasses in use, so
/// requests scale with distinct identities/vaults/objects, never with pods.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AzureWanted {
    /// SPC `clientID`s (and SA client-id annotations).
    pub client_ids: BTreeSet<String>,
    /// (vault name, cloudName as written in the SPC, "" for default)
    pub vaults: BTreeSet<(String, String)>,
    /// (vault name, type, object name)
    pub objects: BTreeSet<(String, ObjectType, String)>,
}

/// Everything the chains of `snapshot` need from Azure.
pub fn wanted(snapshot: &Snapshot) -> AzureWanted {
    let mut w = AzureWanted::default();
    // A volume's `volumeAttributes` override its SecretProviderClass's parameters (FACTS §5):
    // the identities, vaults and objects it names instead are wanted too.
    let overridden = snapshot.overridden_params();
    let spcs = snapshot.spcs.items.iter().map(|s| &s.parsed);
    for p in spcs.chain(&overridden) {
        if let Some(c) = &p.client_id {
            w.client_ids.insert(c.clone());
        }
        // A name the provider refuses before any request (KVC302) is not looked up: no vault
        // answers to it, and its absence is not a read that failed.
        let vault =
            (p.keyvault_name.as_ref()).filter(|v| crate::spc::invalid_vault_name(v).is_none());
        if let Some(v) = vault {
            w.vaults
                .insert((v.clone(), p.cloud_name.clone().unwrap_or_default()));
            for o in &p.objects {
                if let Some(t) = o.object_type {
                    w.objects.insert((v.clone(), t, o.object_name.clone()));
                }
            }
        }
    }
    for sa in &snapshot.service_accounts.items {
        if let Some(c) = sa.annotations.get("azure.workload.identity/client-id") {
            w.client_ids.insert(c.clone());
        }
    }
    w
}

/// Vault names as the provider validates them: 3–24 of `[-A-Za-z0-9]`.
pub(super) fn is_valid_vault_name(name: &str) -> bool {
    (3..=24).contains(&name.len()) && arm::is_safe_token(name)
}

/// One observe's requests, normalised before any IO.
#[derive(Debug, PartialEq)]
pub(super) struct Plan {
    /// Client ids safe to put in a query, lower-cased, deduplicated.
    pub client_ids: Vec<String>,
    /// Each wanted vault (as the SPC spells it) with its cloud, or why it cannot be looked up.
    pub vault_cloud: BTreeMap<String, Result<Cloud, String>>,
    /// Lower-cased vault names to look up, per cloud.
    pub by_cloud: BTreeMap<Cloud, Vec<String>>,
    /// Where identities are looked up.
    pub arm_cloud: Cloud,
}

impl Plan {
    pub fn new(wanted: &AzureWanted) -> Plan {
        let mut vault_cloud: BTreeMap<String, Result<Cloud, String>> = BTreeMap::new();
        for (name, cloud_name) in &wanted.vaults {
            let c = if is_valid_vault_name(name) {
                Cloud::from_spc(cloud_name)
            } else {
                Err(format!(
                    "{name:?} is not a valid vault name (3-24 letters, digits, '-')"
                ))
            };
            vault_cloud.entry(name.clone()).or_insert(c);
        }
        let mut by_cloud: BTreeMap<Cloud, Vec<String>> = BTreeMap::new();
        for (name, c) in &vault_cloud {
            if let Ok(c) = c {
                let lower = name.to_ascii_lowercase();
                let names = by_cloud.entry(*c).or_default();
                if !names.contains(&lower) {
                    names.push(lower);
                }
            }
        }
        let client_ids = wanted
            .client_ids
            .iter()
            .filter(|c| arm::is_safe_token(c))
            .map(|c| c.to_ascii_lowercase())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        Plan {
            client_ids,
            arm_cloud: primary_cloud(vault_cloud.values()),
            vault_cloud,
            by_cloud,
        }
    }
}

/// The cloud for ARM look-ups of identities: the one most wanted vaults live in (an
/// identity and the vaults it reads are in the same cloud), public when there are none.
fn primary_cloud<'a>(clouds: impl Iterator<Item = &'a Result<Cloud, String>>) -> Cloud {
    let mut counts: BTreeMap<Cloud, usize> = BTreeMap::new();
    for c in clouds.flatten() {
        *counts.entry(*c).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by(|(ca, a), (cb, b)| a.cmp(b).then(cb.cmp(ca)))
        .map_or(Cloud::Public, |(c, _)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A keyvaultName the provider refuses before any request (a vault URL) is not looked up:
    /// no vault answers to it, and its absence would read as a failed read (KVC302 says why).
    #[test]
    fn a_vault_name_the_provider_refuses_is_not_wanted() {
        use crate::chain::testkit::{self as tk, APP};
        let mut s = tk::healthy();
        let spc = tk::spc_mut(&mut s, APP);
        let url = "https://kv-shop.vault.azure.net/";
        spc.parameters.insert("keyvaultName".into(), url.into());
        tk::reparse(spc);
        let w = wanted(&s);
        assert!(!w.vaults.iter().any(|(v, _)| v == url), "{w:?}");
        assert!(!w.objects.iter().any(|(v, _, _)| v == url), "{w:?}");
        assert!(
            !w.client_ids.is_empty(),
            "the identity is still wanted: {w:?}"
        );
    }

    /// A volume's `volumeAttributes` override its SecretProviderClass's parameters (FACTS §5):
    /// the client id, vault and objects it names are what its mount uses, so they are looked up.
    #[test]
    fn what_a_volume_overrides_is_wanted_too() {
        use crate::chain::testkit::{self as tk, APP};
        use crate::snapshot::VolumeSourceObs;
        let mut s = tk::healthy();
        let overrides = [
            ("clientID", "0b9c5e1a-0000-4000-8000-000000000001"),
            ("keyvaultName", "kv-other"),
            (
                "objects",
                "array:\n  - |\n    objectName: other-secret\n    objectType: secret\n",
            ),
        ];
        if let VolumeSourceObs::Csi { attributes, .. } = &mut s.pods.items[0].volumes[0].source {
            for (k, v) in overrides {
                attributes.insert(k.into(), v.into());
            }
        }
        let spc_vault = tk::spc_mut(&mut s, APP)
            .parsed
            .keyvault_name
            .clone()
            .unwrap();
        let w = wanted(&s);
        assert!(w.client_ids.contains(overrides[0].1), "{w:?}");
        assert!(
            w.vaults.contains(&("kv-other".into(), String::new())),
            "{w:?}"
        );
        assert!(
            w.objects
                .contains(&("kv-other".into(), ObjectType::Secret, "other-secret".into())),
            "{w:?}"
        );
        // The SecretProviderClass's own, which other pods mount as written, stay wanted.
        assert!(w.vaults.iter().any(|(v, _)| *v == spc_vault), "{w:?}");
    }

    #[test]
    fn plan_groups_vaults_by_cloud_and_refuses_unsafe_input() {
        let w = AzureWanted {
            client_ids: BTreeSet::from([
                "4024AB25-56a8-4370-aea6-6389221caf29".to_string(),
                "4024ab25-56a8-4370-aea6-6389221caf29".to_string(),
                "x' or 1==1".to_string(),
            ]),
            vaults: BTreeSet::from([
                ("kv-gov".to_string(), "AzureUSGovernmentCloud".to_string()),
                ("KV-Gov".to_string(), "azureusgovernmentcloud".to_string()),
                ("kv-pub".to_string(), String::new()),
                ("kv-mars".to_string(), "Mars".to_string()),
            ]),
            objects: BTreeSet::new(),
        };
        let p = Plan::new(&w);
        assert_eq!(p.client_ids, ["4024ab25-56a8-4370-aea6-6389221caf29"]);
        assert_eq!(p.by_cloud[&Cloud::UsGovernment], ["kv-gov"]);
        assert_eq!(p.by_cloud[&Cloud::Public], ["kv-pub"]);
        assert!(p.vault_cloud["kv-mars"].is_err());
        assert_eq!(
            p.arm_cloud,
            Cloud::UsGovernment,
            "two wanted vaults are in US Gov"
        );
    }

    #[test]
    fn public_cloud_when_nothing_says_otherwise() {
        assert_eq!(primary_cloud([].iter()), Cloud::Public);
        let tie = [Ok(Cloud::China), Ok(Cloud::Public)];
        assert_eq!(primary_cloud(tie.iter()), Cloud::Public);
    }
}
