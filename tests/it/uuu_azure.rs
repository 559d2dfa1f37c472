//! Audit UUU-azure: the Azure side the lab did not model — custom roles (dataActions less
//! notDataActions, wildcards, any case), soft-deleted objects, an access policy left on a
//! deleted principal, and the access model end to end. The lab worlds are
//! tests/fixtures/lab/uuu_azure/*.yaml; their vault values are canaries (`CANARY-uuu-az`) that no
//! output may show.

use serde_json::Value;

use super::mmm_lab::report;
use super::ttt_azure::{codes, findings};

const CANARY: &str = "CANARY-uuu-az";
const PID: &str = "3f4a5b6c-7d8e-4f9a-8b1c-2d3e4f5a6b7c";
const VAULT_ID: &str = "/subscriptions/00000000-0000-0000-0000-00000000ab01/resourceGroups/rg-kv-uuu/providers/Microsoft.KeyVault/vaults/kv-uuu";

/// The JSON report of world `name` (tests/fixtures/lab/uuu_azure/), its text and JSON checked
/// for the canary.
fn world(name: &str) -> Value {
    report(&format!("uuu_azure/{name}"), CANARY)
}

fn chain_link<'a>(r: &'a Value, name: &str) -> &'a Value {
    let chains = r["chains"].as_array().unwrap();
    assert_eq!(chains.len(), 1, "{r}");
    super::mmm_lab::link(&chains[0], name)
}

fn fix(f: &Value) -> &str {
    f["fix"].as_str().unwrap()
}

/// A custom role's `dataActions` are patterns: `Microsoft.KeyVault/vaults/secrets/*` allows
/// every secret data action, getSecret included (Microsoft Learn, "Understand Azure role
/// definitions", wildcards). The lab took built-in role names only, so no trainer could show
/// one. The mount works; the role also writes, so KVC504 says so, and its fix grants Secrets
/// User before it deletes the custom role by its own name.
#[test]
fn a_custom_role_with_a_secrets_wildcard_reads_and_is_over_privileged() {
    let r = world("uuu-az-custom-secrets-wildcard.yaml");
    assert_eq!(chain_link(&r, "access")["status"], "warning", "{r}");
    assert_eq!(chain_link(&r, "mount")["status"], "warning", "{r}");
    assert_eq!(codes(&r), ["KVC504", "KVC702"], "{r}");
    let f = fix(findings(&r, "KVC504")[0]);
    assert_eq!(
        f,
        format!(
            "az role assignment create --assignee-object-id {PID} --assignee-principal-type ServicePrincipal --role \"Key Vault Secrets User\" --scope {VAULT_ID} && az role assignment delete --assignee {PID} --role \"kv-uuu secret manager\" --scope {VAULT_ID}"
        )
    );
}

/// NotDataActions are subtracted from DataActions (Microsoft Learn, "Understand Azure role
/// definitions"): `secrets/*` less `secrets/getSecret/action` reads no value, Key Vault answers
/// 403 and the mount fails. KVC502 (a grant that does not fit) names the custom role, and its
/// fix grants Secrets User. The role still sets and deletes secrets: one assignment both
/// refused and too broad is one finding with one fix, which replaces it — granted beside it,
/// the writes stayed and KVC504 said so only once that fix was pasted (audit VVV-honest).
#[test]
fn a_custom_role_whose_not_data_actions_take_get_back_is_refused() {
    let r = world("uuu-az-custom-not-get.yaml");
    assert_eq!(chain_link(&r, "access")["status"], "broken", "{r}");
    assert_eq!(codes(&r), ["KVC502", "KVC702"], "{r}");
    let f = findings(&r, "KVC502")[0];
    let message = f["message"].as_str().unwrap();
    assert!(message.contains("kv-uuu secret writer"), "{message}");
    assert!(
        message.contains("may also write or delete in the vault"),
        "{message}"
    );
    let evidence = f["evidence"].to_string();
    assert!(
        evidence.contains("notDataActions") && evidence.contains("getSecret/action"),
        "{evidence}"
    );
    assert!(
        evidence.contains("403"),
        "the refusal is current: {evidence}"
    );
    assert_eq!(
        fix(f),
        format!(
            "az role assignment create --assignee-object-id {PID} --assignee-principal-type ServicePrincipal --role \"Key Vault Secrets User\" --scope {VAULT_ID} && az role assignment delete --assignee {PID} --role \"kv-uuu secret writer\" --scope {VAULT_ID}"
        )
    );
}

/// Azure compares actions in any case: a custom role spelling getSecret in lower case grants
/// it. The mount works; no Access finding.
#[test]
fn a_custom_role_in_lower_case_reads() {
    let r = world("uuu-az-custom-lowercase.yaml");
    assert_eq!(chain_link(&r, "access")["status"], "ok", "{r}");
    assert_eq!(codes(&r), ["KVC702"], "{r}");
}

/// With objectVersionHistory the provider lists the versions first (FACTS §5); a secret's
/// listing is `secrets/readMetadata/action`, which a custom role granting getSecret alone lacks.
/// The lab listed a secret's versions for any RBAC grant, so the pod mounted while KVC502 said
/// the listing fails: the lab now answers the listing 403 (ForbiddenByRbac), the pod waits,
/// and KVC502 names readMetadata with the 403 as its evidence.
#[test]
fn a_custom_role_with_get_alone_cannot_list_versions() {
    let r = world("uuu-az-custom-get-history.yaml");
    assert_eq!(chain_link(&r, "access")["status"], "broken", "{r}");
    assert_ne!(chain_link(&r, "mount")["status"], "ok", "{r}");
    let f = findings(&r, "KVC502");
    assert_eq!(f.len(), 1, "{r}");
    assert!(
        f[0]["message"]
            .as_str()
            .unwrap()
            .contains("secrets/readMetadata/action"),
        "{r}"
    );
    let evidence = f[0]["evidence"].to_string();
    assert!(evidence.contains("FailedMount"), "{evidence}");
    assert!(evidence.contains("403"), "{evidence}");
}

/// Soft delete is always on: a deleted secret stays under its name until its scheduled purge,
/// a GET answers 404 SecretNotFound, a create of the name fails 409 Conflict
/// (ObjectIsDeletedButRecoverable) and `az keyvault secret recover` brings it back; purge
/// protection forbids a purge (Microsoft Learn, "Azure Key Vault soft-delete overview"). The
/// lab had no deleted objects, so KVC601 never knew: it offered `recover || certificate
/// recover || set …` and would offer api-token2, a name one letter off, as a typo. The vault's
/// deleted listing now says api-token is soft-deleted: KVC601 says so (with the purge date and
/// purge protection), its confirm is `show-deleted`, and its fix is the recover alone — no
/// create that would get 409, no rename to another secret. The lab's own set of the deleted
/// name is refused 409 (the timeline event did not happen, reported as not read).
#[test]
fn a_soft_deleted_secret_is_recovered_not_created_nor_renamed() {
    let r = world("uuu-az-soft-deleted-secret.yaml");
    assert_eq!(chain_link(&r, "vaultObject")["status"], "broken", "{r}");
    let f = findings(&r, "KVC601");
    assert_eq!(f.len(), 1, "{r}");
    let message = f[0]["message"].as_str().unwrap();
    for said in [
        "soft-deleted",
        "409 Conflict",
        "recoverable until",
        "purge protection is on",
    ] {
        assert!(message.contains(said), "{said}: {message}");
    }
    assert!(!message.contains("api-token2"), "{message}");
    assert_eq!(
        fix(f[0]),
        "az keyvault secret recover --vault-name kv-uuu -n api-token  # brings back every version under its name; a new mount reads it"
    );
    assert_eq!(
        f[0]["confirm"],
        "az keyvault secret show-deleted --vault-name kv-uuu -n api-token"
    );
    let unread = r["unread"].to_string();
    assert!(
        unread.contains("409 Conflict (ObjectIsDeletedButRecoverable)"),
        "{unread}"
    );
}

/// The trainer's delete-object on a certificate read as a secret (its key and chain, FACTS §5):
/// Key Vault deletes the certificate with the secret and key it manages and recovers them only
/// with it (a secret's own recover is refused for a managed secret). The lab removed the
/// objects outright; it now soft-deletes all three, and KVC601 names the certificate and
/// recovers it — the one command that works — on both the old pod's chain (its version mounted:
/// deleted since) and the new one's.
#[test]
fn a_deleted_certificates_secret_is_recovered_through_the_certificate() {
    let r = world("uuu-az-soft-deleted-cert.yaml");
    let f = findings(&r, "KVC601");
    let chains: usize = (f.iter())
        .map(|f| f["chains"].as_array().unwrap().len())
        .sum();
    assert_eq!(chains, 2, "{r}");
    for f in f {
        let message = f["message"].as_str().unwrap();
        assert!(
            message.contains("the secret of certificate web-tls"),
            "{message}"
        );
        assert_eq!(
            fix(f),
            "az keyvault certificate recover --vault-name kv-uuu -n web-tls  # brings back every version under its name; a new mount reads it"
        );
    }
}

/// An access-policy vault whose only policy names id-web's old principal: the identity was
/// deleted and recreated under its name (a new principalId), and Key Vault keeps a policy whose
/// principal is gone (a policy matches its objectId only). Audit TTT-azure named this for role
/// assignments only; here the lab's unknown object id even made the read "unknown" (it "may be
/// a group"), though a principal the directory no longer holds is no group of anyone's. KVC501
/// now names the policy left on the deleted principal, sets the new principal's own policy and
/// deletes the old one by its object id.
#[test]
fn an_access_policy_left_on_a_recreated_identitys_old_principal_is_named() {
    const OLD: &str = "8b7a6f5e-4d3c-4b2a-9f1e-0d9c8b7a6f5e";
    let r = world("uuu-az-policy-deleted-principal.yaml");
    assert_eq!(chain_link(&r, "access")["status"], "broken", "{r}");
    let f = findings(&r, "KVC501");
    assert_eq!(f.len(), 1, "{r}");
    let message = f[0]["message"].as_str().unwrap();
    for said in [OLD, "no longer exists", "needs its own"] {
        assert!(message.contains(said), "{said}: {message}");
    }
    assert_eq!(
        fix(f[0]),
        format!(
            "az keyvault set-policy -n kv-uuu --object-id {PID} --secret-permissions get && az keyvault delete-policy -n kv-uuu --object-id {OLD}"
        )
    );
    assert!(
        f[0]["confirm"]
            .as_str()
            .unwrap()
            .contains(&format!("az ad sp show --id {OLD}")),
        "{r}"
    );
}
