//! Audit III: a fix must work when pasted. Each test asserts a command as the CLI it calls
//! documents it, and the Key Vault roles' data actions (FACTS §8: Certificate User holds
//! every data action of Secrets User, so a second assignment beside it grants nothing).

use std::time::Duration;

use kvchain::chain::{self, Code};
use kvchain::source::lab::world::World;
use kvchain::source::lab::{self, export};

use crate::lab_nodes::{CLUSTER, HEALTHY, SHOP};

/// III1: the healthy checkout identity holds Key Vault Administrator on its RBAC vault and its
/// SPC reads a secret and a key (the certificate invoice-signing's public key). KVC504's fix
/// replaces the broad role with the reads: Certificate User alone (it reads keys and secrets,
/// FACTS §8), not Certificate User and then Secrets User, which would grant nothing more.
#[test]
fn an_over_privileged_reader_of_a_secret_and_a_key_gets_certificate_user_alone() {
    let app = HEALTHY
        .replacen(
            "  role: Key Vault Secrets User",
            "  role: Key Vault Administrator",
            1,
        )
        .replacen(
            "          objectAlias: db-password\n",
            "          objectAlias: db-password\n        - |\n          objectName: invoice-signing\n          objectType: key\n",
            1,
        );
    let docs = [CLUSTER, SHOP, &app].join("\n---\n");
    let sc = lab::scenario::parse("iii1", std::path::Path::new("iii1.yaml"), &docs).unwrap();
    let mut w = World::new(sc);
    w.advance(Duration::from_secs(180));
    let chains = chain::diagnose(&export::snapshot(&w));
    let f = (chains.iter())
        .flat_map(|c| c.findings())
        .find(|f| f.code == Code::KVC504)
        .unwrap_or_else(|| panic!("no KVC504: {:#?}", chains[0].links));
    assert_eq!(
        f.fix.matches("az role assignment create").count(),
        1,
        "{}",
        f.fix
    );
    assert!(
        f.fix.contains("--role \"Key Vault Certificate User\"")
            && !f.fix.contains("Key Vault Secrets User")
            && f.fix.contains("az role assignment delete")
            && f.fix.contains("--role \"Key Vault Administrator\""),
        "{}",
        f.fix
    );
}
