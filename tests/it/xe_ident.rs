//! Audit XE-ident: the identity links told true in every mode (FACTS §5, §6, §7, §11
//! 'Tenants'). Worlds in tests/fixtures/lab/xe-ident-*.yaml and
//! tests/fixtures/manifests/xe-ident-*.yaml, each with its expected verdict in its header; vault
//! values are canaries (`CANARY-xeident-…`), never printed.

use serde_json::Value;

use super::mmm_lab::report;
use super::www_scen::findings;

const CANARY: &str = "CANARY-xeident";

/// The one finding of `code` in `r`, asserted alone.
fn the_one<'a>(r: &'a Value, code: &str) -> &'a Value {
    let f = findings(r, code);
    assert_eq!(f.len(), 1, "{code}: {r:#}");
    f[0]
}

/// FACTS §11 'Tenants': the token exchange happens before the vault call, so AADSTS70021 is
/// what the mount meets; but a managed identity cannot get a token Key Vault of another tenant
/// accepts (AKV10032), so a credential mended on it only moves the failure to the vault.
/// KVC406 is the cause to fix first (its fix replaces the identity, whose app registration
/// takes its own credential), and KVC401 waits behind it with a fix that runs nothing pasted.
#[test]
fn a_vault_of_another_tenant_comes_before_the_managed_identitys_credential() {
    let r = report("xe-ident-cross-tenant-subject.yaml", CANARY);
    let cross = the_one(&r, "KVC406");
    assert!(
        cross.get("follows").is_none(),
        "KVC406 is the root: {cross:#}"
    );
    let cross_message = cross["message"].as_str().unwrap();
    assert!(
        !cross_message.contains("blocked by") && !cross_message.contains("not met yet"),
        "{cross_message}"
    );
    let subject = the_one(&r, "KVC401");
    assert_eq!(subject["follows"], "federation", "{subject:#}");
    let message = subject["message"].as_str().unwrap();
    assert!(message.starts_with("blocked by KVC406: "), "{message}");
    assert!(message.contains("AKV10032"), "{message}");
    // Pasted first, the credential update would make the exchange pass and the vault refuse
    // the token: the fix is a note that runs nothing, KVC406 first.
    let fix = subject["fix"].as_str().unwrap();
    assert!(fix.starts_with("# fix KVC406 first"), "{fix}");
    assert!(findings(&r, "KVC404").is_empty(), "{r:#}");
    let chain = &r["chains"][0];
    assert_eq!(chain["status"], "broken", "{chain}");
}

/// FACTS §6: the webhook injects the account's client-id and tenant-id annotations, and the app
/// asks for the one at the other. Here they name id-other and its own tenant B, which agree
/// (FACTS §11: an identity lives in its home tenant), while the SPC mounts as id-api of tenant
/// A (FACTS §5: the mount reads neither annotation). So the app and the mount are different
/// identities (KVC204), and nothing holds a tenant its identity does not live in: no KVC206.
/// KVC204's fix moves the account to id-api: with its client id alone the app would ask for
/// id-api at tenant B (AADSTS700016), so the fix sets id-api's tenant A too.
#[test]
fn an_account_naming_another_identity_with_that_identitys_tenant_is_one_cause() {
    const ID_API: &str = "0b9c5e1a-7d2f-4c3e-9a8b-1f2e3d4c5b6a";
    const TENANT_A: &str = "5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b";
    let r = report("xe-ident-sa-other-identity.yaml", CANARY);
    assert!(findings(&r, "KVC206").is_empty(), "{r:#}");
    let fix = the_one(&r, "KVC204")["fix"].as_str().unwrap();
    assert!(
        fix.contains(&format!("azure.workload.identity/client-id={ID_API}"))
            && fix.contains(&format!("azure.workload.identity/tenant-id={TENANT_A}")),
        "{fix}"
    );
}
