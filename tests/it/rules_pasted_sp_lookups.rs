//! Service-principal mode's lookups, run as pasted (audit T3 leftovers, V4). FACTS §5: with no
//! identity mode and no clientID the provider signs in with the nodePublishSecretRef Secret's
//! `clientid` and `clientsecret`. The application id is that `clientid`: a confirm reads it
//! from the Secret when pasted (an id, not a secret value; `clientsecret` is never read), and
//! looks the application's service principal up with `az ad sp show` — `az identity list`
//! lists managed identities only, and `<clientID>` is a placeholder the Secret fills. FACTS
//! §11: a service principal lives in its app registration's tenant. A lookup that finds
//! nothing grants nothing (the guard T1 and T2 have).

use kvchain::chain::Code;
use kvchain::chain::testkit::{self as tk, TENANT};
use kvchain::snapshot::*;

use super::cause_kit::*;
use super::paste_kit::{paste, paste_kube};
use super::rules_pasted_sp::{forbidden, kvc501};
use super::rules_sp_entra::{APP_ID, CREDS, client_secret_credential, service_principal_failing};

/// What `kubectl get secret kvcreds -o jsonpath={.data.clientid}` prints: APP_ID, base64.
const CLIENTID_B64: &str = "MTExMTExMTEtMjIyMi0zMzMzLTQ0NDQtNTU1NTU1NTU1NTU1";
const HOME: &str = "4d3c2b1a-0f9e-4d8c-8b7a-6f5e4d3c2b1a";

/// The chain of service-principal mode failing with `cause`, the Azure side unread.
fn unread(cause: &str) -> kvchain::chain::Chain {
    let mut s = service_principal_failing(cause);
    s.azure = AzureObs::unknown("no Azure credentials");
    one(&s)
}

/// `text` pasted: the Secret's clientid is read (never its clientsecret), and the app's
/// service principal is asked its home tenant.
fn reads_the_secrets_client_id(text: &str) {
    assert!(
        !text.contains("<clientID>") && !text.contains("az identity list"),
        "{text}"
    );
    let arms = format!(
        "\"ad sp show --id {APP_ID} --query appOwnerOrganizationId -o tsv\") echo {HOME} ;;"
    );
    let p = paste_kube(text, &arms, CLIENTID_B64, "");
    assert!(
        p.calls.contains(&format!(
            "kubectl [get] [secret] [{CREDS}] [-n] [{}] [-o] [jsonpath={{.data.clientid}}]",
            tk::NS
        )),
        "{text}\n{:#?}",
        p.calls
    );
    assert!(
        p.called("az [ad] [sp] [show] [--id]")
            .iter()
            .any(|c| c.contains(&format!("[{APP_ID}]"))),
        "{text}\n{:#?}",
        p.calls
    );
    assert!(
        p.calls.iter().all(|c| !c.contains("clientsecret")),
        "{:#?}",
        p.calls
    );
}

#[test]
fn a_token_from_another_tenant_is_confirmed_with_the_secrets_application() {
    let c = unread(&akv10032(OTHER_TENANT, TENANT));
    let f = find(&c, Code::KVC406);
    reads_the_secrets_client_id(&f.confirm);
}

/// FACTS §11 (Tenants): only an application can reach a vault in another tenant, and in
/// service-principal mode there is no managed identity and no federated credential: the
/// application signs in with its secret at the tenant `tenantId` names, which must be one
/// where it has a service principal. The fix says that, as a note (audit Z6: it started with
/// the words "a managed identity cannot do this", which bash ran).
#[test]
fn a_token_from_another_tenant_in_service_principal_mode_names_the_application_not_a_managed_identity()
 {
    let c = unread(&akv10032(OTHER_TENANT, TENANT));
    let fix = &find(&c, Code::KVC406).fix;
    assert!(fix.starts_with("# service-principal mode: "), "{fix}");
    for wrong in [
        "managed identity",
        "federated credential",
        "issuer",
        "subject",
    ] {
        assert!(!fix.contains(wrong), "{wrong}: {fix}");
    }
    for said in [
        format!("Secret {CREDS}"),
        format!("an app registration of tenant {OTHER_TENANT}"),
        format!("consent it in tenant {OTHER_TENANT}"),
        format!("tenantId: {OTHER_TENANT}"),
    ] {
        assert!(fix.contains(&said), "{said}: {fix}");
    }
}

#[test]
fn a_tenant_entra_does_not_know_is_confirmed_with_the_secrets_application() {
    let body = format!(
        "{{ \"error\": \"invalid_request\", \"error_description\": \"AADSTS90002: Tenant '{OTHER_TENANT}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.\", \"error_codes\": [90002] }}"
    );
    let c = unread(&client_secret_credential("400: 400 Bad Request", &body));
    let f = find(&c, Code::KVC404);
    assert!(!f.message.contains("<clientID>"), "{}", f.message);
    assert!(f.message.contains(CREDS), "{}", f.message);
    reads_the_secrets_client_id(&f.confirm);
}

#[test]
fn a_missing_tenant_names_the_lookup_of_the_service_principals_home_tenant() {
    let mut s = service_principal_failing("");
    s.events.items.clear();
    let spc = tk::spc_mut(&mut s, tk::APP);
    spc.parameters.remove("tenantId");
    tk::reparse(spc);
    let c = one(&s);
    let f = find(&c, Code::KVC302);
    assert!(f.fix.contains("tenant"), "{}", f.fix);
    let note = &f.fix[tk::comment_at(&f.fix).unwrap()..];
    // The lookup, in the note: the one that reads the Secret's clientid and asks Entra.
    let lookup = note
        .split_once(": ")
        .and_then(|(_, l)| l.find("az ad sp show").map(|at| &l[at..]))
        .unwrap_or_else(|| panic!("{}", f.fix));
    let lookup = lookup.split('>').next().unwrap();
    assert!(lookup.contains("appOwnerOrganizationId"), "{lookup}");
    reads_the_secrets_client_id(lookup);
}

/// A 403 naming no caller (its message cut before it): the principal is looked up from the
/// Secret's clientid; when nothing answers, nothing is granted to an empty object id.
#[test]
fn a_lookup_that_finds_nothing_grants_nothing() {
    for (message, inner, grant) in [
        (
            "Caller is not authorized to perform action on resource.",
            "ForbiddenByRbac",
            "az [role] [assignment] [create]",
        ),
        (
            "The user, group or application does not have secrets get permission on key vault 'kv-shop;location=westeurope'.",
            "AccessDenied",
            "az [keyvault] [set-policy]",
        ),
    ] {
        let fix = kvc501(&forbidden(message, inner));
        let p = paste(&fix, "", "");
        assert!(
            p.called("az [ad] [sp] [show]").len() == 1,
            "{fix}\n{:#?}",
            p.calls
        );
        assert!(p.called(grant).is_empty(), "{fix}\n{:#?}", p.calls);
    }
}
