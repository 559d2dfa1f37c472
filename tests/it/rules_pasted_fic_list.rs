//! The federated credentials of an identity kvchain cannot read, listed as pasted (audit V4,
//! T6's confirm). `az identity federated-credential list` takes the identity's name and
//! resource group, not its clientId; `az identity list --query "[?clientId=='…']"` finds them
//! by the clientId the SPC names. FACTS §5: identity binding (`useAzureTokenProxy`) is the
//! identity `clientID` names; §11: AADSTS70021 is told apart only by comparing those
//! credentials. Nothing is listed under an empty name.

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
