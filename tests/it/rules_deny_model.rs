//! A 403 read from the event alone (Azure not readable): the message says which permission
//! model refused the read (FACTS §5: an RBAC deny is `ForbiddenByRbac`, "Caller is not
//! authorized…"; an access-policy deny is `AccessDenied`, "… does not have secrets get
//! permission on key vault '…'"), and FACTS §8 says role assignments are ignored on an
//! access-policy vault. So KVC501's fix grants in the model the message names (audit P1).

use kvchain::chain::testkit as tk;
use kvchain::chain::{Code, diagnose};
use kvchain::snapshot::*;

/// The healthy app with the Azure side unknown and its pod stuck mounting on `cause`.
fn kvc501_fix(cause: &str) -> String {
    let mut s = tk::healthy();
    s.azure = AzureObs::unknown("no Azure credentials");
    diagnose(&super::cause_kit::failing_with(s, cause))
        .iter()
        .flat_map(|c| c.findings())
        .find(|f| f.code == Code::KVC501)
        .map(|f| f.fix.to_string())
        .expect("KVC501 from the event")
}

const CALLER: &str = "appid=3f2c9a1e-7b4d-4e8a-9c1f-2a6b5d8e0f13;oid=0d1e2f3a-4b5c-4d6e-8f7a-9b0c1d2e3f4a;iss=https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/";

/// The track-2 SDK's access-policy deny (FACTS §5), for an object of type `t`.
fn access_policy_track2(t: &str, kind: &str) -> String {
    format!(
        "failed to get objectType:{t}, objectName:web-db-pass, objectVersion:: GET https://kv-shop.vault.azure.net/{kind}/web-db-pass/\n----\nRESPONSE 403: 403 Forbidden\nERROR CODE: Forbidden\n----\n{{\n  \"error\": {{\n    \"code\": \"Forbidden\",\n    \"message\": \"The user, group or application '{CALLER}' does not have {kind} get permission on key vault 'kv-shop;location=westeurope'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287\",\n    \"innererror\": {{\n      \"code\": \"AccessDenied\"\n    }}\n  }}\n}}\n----\n"
    )
}

#[test]
fn an_access_policy_deny_gets_an_access_policy_not_a_role() {
    for (t, kind, flag) in [
        ("secret", "secrets", "--secret-permissions get"),
        ("cert", "certificates", "--certificate-permissions get"),
    ] {
        let fix = kvc501_fix(&access_policy_track2(t, kind));
        assert!(
            fix.starts_with("az keyvault set-policy -n kv-shop --object-id ") && fix.contains(flag),
            "{t}: {fix}"
        );
        assert!(!fix.contains("az role assignment"), "{t}: {fix}");
    }
}

/// The pre-track-2 provider's shape of the same deny (FACTS §5, autorest).
#[test]
fn the_autorest_shape_of_an_access_policy_deny_too() {
    let cause = format!(
        "failed to get objectType:secret, objectName:web-db-pass, objectVersion:: keyvault.BaseClient#GetSecret: Failure responding to request: StatusCode=403 -- Original Error: autorest/azure: Service returned an error. Status=403 Code=\"Forbidden\" Message=\"The user, group or application '{CALLER}' does not have secrets get permission on key vault 'kv-shop;location=westeurope'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287\" InnerError={{\"code\":\"AccessDenied\"}}"
    );
    let fix = kvc501_fix(&cause);
    assert!(
        fix.starts_with("az keyvault set-policy -n kv-shop")
            && fix.contains("--secret-permissions get"),
        "{fix}"
    );
    assert!(!fix.contains("az role assignment"), "{fix}");
}

/// An RBAC deny keeps the role for the object type (FACTS §8: Certificate User for a cert).
#[test]
fn an_rbac_deny_gets_the_role_for_the_object_type() {
    let cause = "failed to get objectType:cert, objectName:web-db-pass, objectVersion:: GET https://kv-shop.vault.azure.net/certificates/web-db-pass/\n----\nRESPONSE 403: 403 Forbidden\nERROR CODE: Forbidden\n----\n{\"error\":{\"code\":\"Forbidden\",\"message\":\"Caller is not authorized to perform action on resource.\\r\\nAction: 'Microsoft.KeyVault/vaults/certificates/read'\",\"innererror\":{\"code\":\"ForbiddenByRbac\"}}}";
    let fix = kvc501_fix(cause);
    // A principal looked up is read and tested non-empty first (audit V4).
    let grant = fix.rsplit("[ -n \"$PRINCIPAL\" ] && ").next().unwrap();
    assert!(
        // The vault's id held and tested first (audit XE-paste).
        grant.starts_with("VAULT_ID=\"$(az keyvault show ")
            && grant.contains("}\" && az role assignment create ")
            && fix.contains("--role \"Key Vault Certificate User\""),
        "{fix}"
    );
    assert!(!fix.contains("set-policy"), "{fix}");
}
