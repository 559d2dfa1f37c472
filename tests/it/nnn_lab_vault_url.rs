//! Audit NNN-out 6: the Key Vault URL in the lab's error texts. The provider builds the vault
//! URL from the SecretProviderClass's `keyvaultName` as written, `https://<keyvaultName>.
//! <KeyVaultDNSSuffix>/` (FACTS §5, getVaultURL: plain concatenation, no case folding), and
//! azcore's `ResponseError` prints the request's URL (`GET https://<vault>.vault.azure.net/
//! secrets/<name>/<ver>`, FACTS §5). DNS finds the vault in any case, so an SPC spelling it
//! `KV-Shop-Lab` reaches vault `kv-shop-lab`, and the error names the host it asked:
//! `KV-Shop-Lab.vault.azure.net`. The lab printed the vault's own spelling instead, a URL
//! the pod's events never show.

use std::time::Duration;

use kvchain::source::lab::world::World;
use kvchain::source::lab::{export, scenario};

use crate::lab_nodes::{CLUSTER, HEALTHY, SHOP};

/// The checkout chain with its SPC's `keyvaultName` spelled `KV-Shop-Lab` and its object
/// misspelled (a 404 from the vault): the FailedMount messages of its pods.
fn failed_mounts() -> Vec<String> {
    let healthy = HEALTHY
        .replace("keyvaultName: kv-shop-lab", "keyvaultName: KV-Shop-Lab")
        .replace(
            "objectName: checkout-db-password",
            "objectName: checkout-db-passwrd",
        );
    assert!(healthy.contains("keyvaultName: KV-Shop-Lab\n"));
    assert!(healthy.contains("objectName: checkout-db-passwrd\n"));
    let docs = [CLUSTER, SHOP, &healthy].join("\n---\n");
    let sc = scenario::parse("url", std::path::Path::new("url.yaml"), &docs).expect("loads");
    let mut w = World::new(sc);
    w.run_until_stable(Duration::from_secs(600));
    let s = export::snapshot(&w);
    (s.events.items.iter())
        .filter(|e| e.reason == "FailedMount")
        .map(|e| e.message.to_string())
        .collect()
}

#[test]
fn the_error_url_spells_the_vault_as_the_spc_names_it() {
    let failed = failed_mounts();
    let with_url: Vec<&String> = (failed.iter())
        .filter(|m| m.contains("SecretNotFound"))
        .collect();
    assert!(!with_url.is_empty(), "a 404 from the vault: {failed:#?}");
    for m in with_url {
        assert!(
            m.contains("GET https://KV-Shop-Lab.vault.azure.net/secrets/checkout-db-passwrd/"),
            "{m}"
        );
        assert!(!m.contains("https://kv-shop-lab.vault.azure.net"), "{m}");
    }
}
