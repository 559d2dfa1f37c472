//! The federated credentials of an identity kvchain cannot read, listed as pasted (audit V4,
//! T6's confirm). `az identity federated-credential list` takes the identity's name and
//! resource group, not its clientId; `az identity list --query "[?clientId=='…']"` finds them
//! by the clientId the SPC names. FACTS §5: identity binding (`useAzureTokenProxy`) is the
//! identity `clientID` names; §11: AADSTS70021 is told apart only by comparing those
//! credentials. Nothing is listed under an empty name; the fixes that update or create a
//! credential look the identity up the same way, and change nothing when it is not found.

use kvchain::chain::Code;
use kvchain::chain::testkit::{self as tk, APP};
use kvchain::snapshot::*;

use super::cause_kit::*;
use super::paste_kit::paste;
use super::rules_identity_binding::{BINDING, binding_rejected};

fn kvc405_confirm() -> (String, String) {
    let mut s = tk::healthy();
    binding_rejected(&mut s, BINDING);
    s.azure.identities.items.clear();
    s.azure.identities.gaps.all = Some(gaps::AZURE_DISABLED.into());
    let confirm = find(&one(&s), Code::KVC405).confirm.to_string();
    (confirm, tk::client_id(tk::NS, APP))
}

#[test]
fn an_unread_bound_identitys_credentials_are_listed_by_the_spcs_client_id() {
    let (confirm, client) = kvc405_confirm();
    assert!(
        !confirm.contains("$IDENTITY_NAME") && !confirm.contains("$IDENTITY_RG"),
        "{confirm}"
    );
    let arms = format!(
        "\"identity list --query [?clientId=='{client}'].[name,resourceGroup] -o tsv\") printf 'id-app\\trg-ids\\n' ;;"
    );
    let p = paste(&confirm, &arms, "");
    let listed = p.called("az [identity] [federated-credential] [list]");
    assert_eq!(listed.len(), 1, "{confirm}\n{:#?}", p.calls);
    assert!(
        listed[0].contains("[--identity-name] [id-app] [-g] [rg-ids]"),
        "{confirm}\n{:#?}",
        p.calls
    );
}

#[test]
fn no_identity_with_that_client_id_lists_nothing() {
    let (confirm, _) = kvc405_confirm();
    let p = paste(&confirm, "", "");
    assert!(
        p.called("az [identity] [federated-credential]").is_empty(),
        "{confirm}\n{:#?}",
        p.calls
    );
}

/// The provider's error for an Entra refusal `code` (`AADSTS700211`: no credential with the
/// presented issuer; `AADSTS700213`: none with the presented subject; FACTS §7, §11).
fn refused(code: &str, what: &str) -> String {
    format!(
        "failed to get objectType:secret, objectName:web-db-pass, objectVersion:: ClientAssertionCredential authentication failed. \nPOST https://login.microsoftonline.com/{}/oauth2/v2.0/token\n----\nRESPONSE 400: 400 Bad Request\n----\n{{ \"error\": \"invalid_request\", \"error_description\": \"{code}: No matching federated identity record found for presented assertion {what}.\" }}",
        tk::TENANT
    )
}

/// `code`'s fix when the FailedMount says `cause` and kvchain read no identity: the SPC's
/// clientID is all it knows of the identity (fixer A's leftovers: KVC401's create and
/// KVC402's update still named `"$IDENTITY_NAME"` / `"$IDENTITY_RG"`).
fn unread_fix(cause: &str, code: Code) -> String {
    let mut s = tk::healthy();
    s.azure.identities.items.clear();
    s.azure.identities.gaps.all = Some(gaps::AZURE_DISABLED.into());
    let fix = find(&one(&failing_with(s, cause)), code).fix.to_string();
    assert!(
        !fix.contains("$IDENTITY_NAME")
            && !fix.contains("$IDENTITY_RG")
            && !fix.contains("<credential>"),
        "{fix}"
    );
    fix
}

/// The identity list by the SPC's clientId answers `id-app` in `rg-ids`.
fn found() -> String {
    format!(
        "\"identity list --query [?clientId=='{}'].[name,resourceGroup] -o tsv\") printf 'id-app\\trg-ids\\n' ;;",
        tk::client_id(tk::NS, APP)
    )
}

#[test]
fn an_issuer_mismatch_updates_the_credential_of_the_identity_the_client_id_names() {
    let fix = unread_fix(
        &refused("AADSTS700211", &format!("issuer '{}'", tk::ISSUER)),
        Code::KVC402,
    );
    let arms = format!(
        "{}\n\"identity federated-credential list --identity-name id-app -g rg-ids --query [?subject=='system:serviceaccount:{}:{APP}'].name -o tsv\") echo web-cred ;;",
        found(),
        tk::NS
    );
    let p = paste(&fix, &arms, "");
    assert_eq!(
        p.called("az [identity] [federated-credential] [update]"),
        [format!(
            "az [identity] [federated-credential] [update] [--name] [web-cred] [--identity-name] [id-app] [-g] [rg-ids] [--issuer] [{}]",
            tk::ISSUER
        )],
        "{fix}\n{:#?}",
        p.calls
    );
    // No identity with that clientId, or no credential for the subject: nothing is updated.
    for arms in [String::new(), found()] {
        let p = paste(&fix, &arms, "");
        assert!(
            p.called("az [identity] [federated-credential] [update]")
                .is_empty(),
            "{fix}\n{:#?}",
            p.calls
        );
    }
}

#[test]
fn a_missing_credential_is_created_on_the_identity_the_client_id_names() {
    let fix = unread_fix(
        &refused("AADSTS700213", "subject 'system:serviceaccount:shop:web'"),
        Code::KVC401,
    );
    // No credential of that name yet (`show` fails): the create runs on the identity found.
    let arms = format!("{}\n*\"federated-credential show\"*) exit 3 ;;", found());
    let p = paste(&fix, &arms, "");
    let created = p.called("az [identity] [federated-credential] [create]");
    assert_eq!(created.len(), 1, "{fix}\n{:#?}", p.calls);
    assert!(
        created[0].contains("[--identity-name] [id-app] [-g] [rg-ids]")
            && created[0].contains(&format!(
                "[--subject] [system:serviceaccount:{}:{APP}]",
                tk::NS
            )),
        "{fix}\n{:#?}",
        p.calls
    );
    // No identity with that clientId: nothing is shown or created under an empty name.
    let p = paste(&fix, "*\"federated-credential show\"*) exit 3 ;;", "");
    assert!(
        p.called("az [identity] [federated-credential]").is_empty(),
        "{fix}\n{:#?}",
        p.calls
    );
}

/// Audit WW2. FACTS §7: issuer and subject are unique per identity, so `federated-credential
/// create` fails when a credential under another name holds the pair (the audience is then
/// what differs). `az` here answers that credential for the pair's lookup, and refuses the
/// create as Entra does.
fn paired(extra: &str) -> String {
    format!(
        "{extra}\n*\"identity federated-credential list \"*\"[?issuer=='{}' && subject=='system:serviceaccount:{}:{APP}'].name\"*) echo web-cred ;;\n*\"federated-credential create\"*) echo 'a federated identity credential with this issuer and subject already exists' >&2; exit 1 ;;\n*\"federated-credential show\"*) exit 3 ;;",
        tk::ISSUER,
        tk::NS
    )
}

#[test]
fn ww2_an_audience_mismatch_updates_the_credential_holding_the_issuer_and_subject() {
    let fix = unread_fix(&aadsts70021(tk::ISSUER), Code::KVC405);
    let p = paste(&fix, &paired(&found()), "");
    assert!(
        p.called("az [identity] [federated-credential] [create]")
            .is_empty(),
        "{fix}\n{:#?}",
        p.calls
    );
    assert_eq!(
        p.called("az [identity] [federated-credential] [update]"),
        [
            "az [identity] [federated-credential] [update] [--name] [web-cred] [--identity-name] [id-app] [-g] [rg-ids] [--audiences] [api://AzureADTokenExchange]"
        ],
        "{fix}\n{:#?}",
        p.calls
    );
    // No credential holds the pair: the create runs, under a free name.
    let arms = format!("{}\n*\"federated-credential show\"*) exit 3 ;;", found());
    let p = paste(&fix, &arms, "");
    assert_eq!(
        p.called("az [identity] [federated-credential] [create]")
            .len(),
        1,
        "{fix}\n{:#?}",
        p.calls
    );
    assert!(
        p.called("az [identity] [federated-credential] [update]")
            .is_empty(),
        "{:#?}",
        p.calls
    );
}

#[test]
fn ww2_the_node_identity_move_reaches_the_spc_patch_when_the_credential_exists() {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters.remove("clientID");
    spc.parameters
        .insert("useVMManagedIdentity".into(), "true".into());
    tk::reparse(spc);
    s.azure.identities.items.clear();
    s.azure.identities.gaps.all = Some(gaps::AZURE_DISABLED.into());
    let fix = find(&one(&s), Code::KVC303).fix.to_string();
    let client = tk::client_id(tk::NS, APP);
    let arms = paired(&format!(
        "*\"identity list --query [?clientId=='{client}'].name \"*) echo id-app ;;\n*\"identity list --query [?clientId=='{client}'].resourceGroup \"*) echo rg-ids ;;\n*\"identity show\"*) echo 00000000-0000-0000-0000-0000000000aa ;;\n*\"keyvault show\"*\"enableRbacAuthorization\"*) echo true ;;\n*\"keyvault show\"*) echo /vault/id ;;"
    ));
    let p = paste(&fix, &arms, "");
    assert!(
        p.called("az [identity] [federated-credential] [create]")
            .is_empty(),
        "{fix}\n{:#?}",
        p.calls
    );
    assert_eq!(
        p.called("az [identity] [federated-credential] [update]")
            .len(),
        1,
        "{fix}\n{:#?}",
        p.calls
    );
    assert_eq!(
        p.called("kubectl [patch] [secretproviderclass]").len(),
        1,
        "the line stopped before the SPC patch: {fix}\n{:#?}",
        p.calls
    );
}
