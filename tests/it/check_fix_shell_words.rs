//! A fix works when pasted: a vault name that is still a template placeholder
//! (`<key-vault-name>`, which bash reads as a redirection) or that carries shell syntax
//! (`kv;touch …`, which bash would run) never lands bare in a command; the command names
//! `"$KEYVAULT_NAME"` for the user to set, as the fixes leave `"$IDENTITY_RG"`.

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `check -f -o json` on the healthy `web` example moved to the VM's managed identity (so
/// KVC303 proposes the migration, whose role assignment is scoped to the vault) with
/// `keyvaultName` set to `vault`: each finding's (code, confirm, fix).
fn findings(vault: &str) -> Vec<(String, String, String)> {
    let dir = tempfile::tempdir().unwrap();
    let healthy = root().join("assets/examples/healthy");
    let web = std::fs::read_to_string(healthy.join("web.yaml"))
        .unwrap()
        .replace(
            "keyvaultName: \"kv-shop\"",
            &format!("keyvaultName: \"{vault}\""),
        )
        .replace(
            "clientID: \"3f2c9a1e-7b4d-4e8a-9c1f-2a6b5d8e0f13\"",
            "useVMManagedIdentity: \"true\"\n    userAssignedIdentityID: \"3f2c9a1e-7b4d-4e8a-9c1f-2a6b5d8e0f13\"",
        );
    std::fs::write(dir.path().join("web.yaml"), web).unwrap();
    std::fs::copy(
        healthy.join("serviceaccounts.json"),
        dir.path().join("serviceaccounts.json"),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "-f"])
        .arg(dir.path())
        .args(["-o", "json"])
        .output()
        .expect("run kvchain");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_string();
            (s("code"), s("confirm"), s("fix"))
        })
        .collect()
}

/// The part of a command line bash runs: up to its first comment.
fn command(line: &str) -> &str {
    line.split("  #").next().unwrap_or(line)
}

#[test]
fn a_vault_name_unfit_for_a_shell_becomes_a_variable_in_every_command() {
    for vault in ["<key-vault-name>", "kv;touch /tmp/kvchain-pwned"] {
        let found = findings(vault);
        let migration = found
            .iter()
            .find(|(code, ..)| code == "KVC303")
            .unwrap_or_else(|| panic!("{vault}: KVC303 in {found:?}"));
        assert!(
            migration.2.contains(
                "VAULT_ID=\"$(az keyvault show -n \"$KEYVAULT_NAME\" --query id -o tsv)\" && "
            ) && migration.2.contains("--scope \"$VAULT_ID\""),
            "{vault}: {}",
            migration.2
        );
        for (code, confirm, fix) in &found {
            for line in [confirm, fix] {
                assert!(
                    !command(line).contains(vault),
                    "{vault}: {code} pastes it bare: {line}"
                );
            }
        }
    }
}

/// A real vault name stays as it is.
#[test]
fn a_real_vault_name_is_named_as_it_is() {
    let found = findings("kv-shop");
    let migration = found
        .iter()
        .find(|(code, ..)| code == "KVC303")
        .expect("KVC303");
    assert!(
        migration
            .2
            .contains("az keyvault show -n kv-shop --query id"),
        "{}",
        migration.2
    );
}
