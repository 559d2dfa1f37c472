//! Service-principal mode fixes run as pasted (audit T3, T5). FACTS §5: with no identity mode
//! and no clientID the provider signs in with the nodePublishSecretRef Secret's `clientid` and
//! `clientsecret` (a key that is missing or empty: `could not find clientsecret in secrets`);
//! a Key Vault 403 names its caller, `appid=…;oid=…` (RBAC: `Caller: appid=…;oid=…;iss=…`;
//! access policy: `'appid=…;oid=…;iss=…' does not have secrets get permission`). That oid is
//! the principal to grant; a service principal is not a managed identity, so `az identity
//! list` never finds it. No secret value is ever printed.

use kvchain::chain::Code;
use kvchain::snapshot::*;

use super::cause_kit::*;
use super::paste_kit::{paste, paste_kube};
use super::rules_sp_entra::{APP_ID, client_secret_credential, service_principal_failing};

const OID: &str = "0d1e2f3a-4b5c-4d6e-8f7a-9b0c1d2e3f4a";
const SP_ID: &str = "7a7a7a7a-8b8b-4c4c-9d9d-0e0e0e0e0e0e";
const NEW_SECRET: &str = "N3wS3cret~value";

pub(super) fn forbidden(message: &str, inner: &str) -> String {
    format!(
        "failed to get objectType:secret, objectName:web-db-pass, objectVersion:: GET https://kv-shop.vault.azure.net/secrets/web-db-pass/\n----\nRESPONSE 403: 403 Forbidden\nERROR CODE: Forbidden\n----\n{{\"error\":{{\"code\":\"Forbidden\",\"message\":\"{message}\",\"innererror\":{{\"code\":\"{inner}\"}}}}}}\n----"
    )
}

/// The 403 in service-principal mode, the Azure side unread: KVC501's fix.
pub(super) fn kvc501(cause: &str) -> String {
    let mut s = service_principal_failing(cause);
    s.azure.identities.items.clear();
    s.azure.identities.gaps.all = Some(gaps::AZURE_DISABLED.into());
    s.azure.vaults.items.clear();
    s.azure.vaults.gaps.all = Some(gaps::AZURE_DISABLED.into());
    let c = one(&s);
    let f = find(&c, Code::KVC501);
    for text in [&f.fix, &f.confirm] {
        assert!(
            !text.contains("<clientID>") && !text.contains("az identity list"),
            "{text}"
        );
    }
    f.fix.to_string()
}

#[test]
fn t3_an_access_policy_403_grants_the_caller_it_names() {
    let fix = kvc501(&forbidden(
        &format!(
            "The user, group or application 'appid={APP_ID};oid={OID};iss=https://sts.windows.net/t/' does not have secrets get permission on key vault 'kv-shop;location=westeurope'."
        ),
        "AccessDenied",
    ));
    let p = paste(&fix, "", "");
    assert_eq!(
        p.called("az [keyvault] [set-policy]"),
        [format!(
            "az [keyvault] [set-policy] [-n] [kv-shop] [--object-id] [{OID}] [--secret-permissions] [get]"
        )],
        "{fix}"
    );
}

/// `az keyvault show` answering the vault's id.
const VAULT_ARM: &str = "*\"keyvault show\"*) echo /subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-shop ;;";

#[test]
fn t3_an_rbac_403_grants_the_caller_it_names() {
    let fix = kvc501(&forbidden(
        &format!(
            "Caller is not authorized to perform action on resource.\\r\\nCaller: appid={APP_ID};oid={OID};iss=https://sts.windows.net/t/\\r\\nAction: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'"
        ),
        "ForbiddenByRbac",
    ));
    // The vault's id, held before the grant (audit XE-paste).
    let p = paste(&fix, VAULT_ARM, "");
    let grants = p.called("az [role] [assignment] [create]");
    assert_eq!(grants.len(), 1, "{fix}\n{:#?}", p.calls);
    assert!(
        grants[0].contains(&format!("[--assignee-object-id] [{OID}]")),
        "{fix}"
    );
}

#[test]
fn t3_a_403_naming_no_caller_grants_the_secrets_service_principal() {
    // A deny whose message was cut before its caller line.
    let fix = kvc501(&forbidden(
        "Caller is not authorized to perform action on resource.",
        "ForbiddenByRbac",
    ));
    // kubectl prints the Secret's base64 clientid; az knows its service principal.
    let arms =
        format!("\"ad sp show --id {APP_ID} --query id -o tsv\") echo {SP_ID} ;;\n{VAULT_ARM}");
    let p = paste_kube(
        &fix,
        &arms,
        "MTExMTExMTEtMjIyMi0zMzMzLTQ0NDQtNTU1NTU1NTU1NTU1",
        "",
    );
    assert!(
        p.calls.iter().any(|c| c
            == "kubectl [get] [secret] [kvcreds] [-n] [shop] [-o] [jsonpath={.data.clientid}]"),
        "{:#?}",
        p.calls
    );
    let grants = p.called("az [role] [assignment] [create]");
    assert_eq!(grants.len(), 1, "{fix}\n{:#?}", p.calls);
    assert!(
        grants[0].contains(&format!("[--assignee-object-id] [{SP_ID}]")),
        "{fix}"
    );
}

fn kvc302(body: &str, status: &str) -> String {
    let s = service_principal_failing(&client_secret_credential(status, body));
    find(&one(&s), Code::KVC302).fix.to_string()
}

fn invalid_secret(app: &str) -> String {
    kvc302(
        &format!(
            "{{ \"error\": \"invalid_client\", \"error_description\": \"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{app}'.\", \"error_codes\": [7000215] }}"
        ),
        "401: 401 Unauthorized",
    )
}

#[test]
fn t5_a_reset_secret_reaches_the_secret_unprinted_and_a_failed_reset_writes_nothing() {
    let fix = invalid_secret(APP_ID);
    let arms = format!("*\"credential reset\"*) echo '{NEW_SECRET}' ;;");
    let p = paste(&fix, &arms, "");
    let body = format!("stdin {{\"stringData\":{{\"clientsecret\":\"{NEW_SECRET}\"}}}}");
    assert!(p.calls.contains(&body), "{fix}\n{:#?}", p.calls);
    // Not on the terminal, not in kubectl's arguments, not in the shell's trace.
    assert!(
        !p.stdout.contains(NEW_SECRET) && !p.stderr.contains(NEW_SECRET),
        "{}",
        p.stderr
    );
    assert!(p.called("kubectl").iter().all(|c| !c.contains(NEW_SECRET)));
    // Not an owner of the app: the reset prints nothing, and the Secret is left alone.
    let p = paste(&fix, "*\"credential reset\"*) exit 1 ;;", "");
    assert!(p.called("kubectl").is_empty(), "{fix}\n{:#?}", p.calls);
}

#[test]
fn t5_a_value_kvchain_cannot_know_is_typed_never_a_placeholder() {
    let unknown_app = kvc302(
        &format!(
            "{{ \"error\": \"unauthorized_client\", \"error_description\": \"AADSTS700016: Application with identifier '{APP_ID}' was not found in the directory 't'.\", \"error_codes\": [700016] }}"
        ),
        "400: 400 Bad Request",
    );
    let no_app = invalid_secret("");
    for (fix, key, typed) in [
        (&unknown_app, "clientid", SP_ID),
        (&no_app, "clientsecret", NEW_SECRET),
    ] {
        let p = paste(fix, "", &format!("{typed}\n"));
        assert!(
            p.calls.contains(&format!(
                "stdin {{\"stringData\":{{\"{key}\":\"{typed}\"}}}}"
            )),
            "{fix}\n{:#?}",
            p.calls
        );
        assert!(!p.stdout.contains(typed), "{}", p.stdout);
        // Nothing typed: nothing written.
        assert!(paste(fix, "", "").called("kubectl").is_empty(), "{fix}");
    }
    assert!(
        !no_app.contains("<a valid") && !unknown_app.contains("<the service"),
        "{no_app}"
    );
}
