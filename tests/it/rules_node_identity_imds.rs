//! Node identity mode (`useVMManagedIdentity: "true"`): the provider asks the node's metadata
//! endpoint for the identity `userAssignedIdentityID` names, and `clientID` takes no part
//! (FACTS §5). The endpoint's refusal of an identity the node's scale set does not hold is
//! azidentity's "ManagedIdentityCredential authentication failed. the requested identity
//! isn't assigned to this resource" with the IMDS body `"error_description": "Identity not
//! found"` ([SDK] azidentity). That is one cause on the Identity link, fixed where the mode
//! reads it: userAssignedIdentityID, or the scale set's identities.

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Code, LinkKind, Status};
use kvchain::snapshot::Snapshot;

use super::cause_kit::*;

pub(super) const OTHER_CLIENT: &str = "99999999-8888-7777-6666-555555555555";

/// azidentity's IMDS refusal, as the provider wraps it per object.
fn imds_refusal() -> String {
    "failed to get objectType:secret, objectName:web-db-pass, objectVersion:: ManagedIdentityCredential authentication failed. the requested identity isn't assigned to this resource\nGET http://169.254.169.254/metadata/identity/oauth2/token\n--------------------------------------------------------------------------------\nRESPONSE 400 Bad Request\n--------------------------------------------------------------------------------\n{\n  \"error\": \"invalid_request\",\n  \"error_description\": \"Identity not found\"\n}\n--------------------------------------------------------------------------------\nTo troubleshoot, visit https://aka.ms/azsdk/go/identity/troubleshoot#managed-id".to_string()
}

/// The causes beside KVC303, the note every node-identity SPC gets (shared identity).
fn causes(c: &kvchain::chain::Chain) -> Vec<Code> {
    codes(c)
        .into_iter()
        .filter(|c| *c != Code::KVC303)
        .collect()
}

/// The healthy app moved to node identity mode with `user_assigned`, failing with the IMDS
/// refusal.
pub(super) fn node_identity_failing(user_assigned: &str) -> Snapshot {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters.remove("clientID");
    spc.parameters
        .insert("useVMManagedIdentity".into(), "true".into());
    spc.parameters
        .insert("userAssignedIdentityID".into(), user_assigned.into());
    tk::reparse(spc);
    failing_with(s, &imds_refusal())
}

#[test]
fn an_identity_the_scale_set_lacks_is_one_identity_cause_fixed_on_the_scale_set() {
    // The identity exists (kvchain sees it) but the node does not hold it.
    let s = node_identity_failing(&tk::client_id(NS, APP));
    let c = one(&s);
    assert_eq!(
        causes(&c),
        [Code::KVC301],
        "{:#?}",
        c.findings().collect::<Vec<_>>()
    );
    let f = find(&c, Code::KVC301);
    assert!(has_event(f), "{f:#?}");
    assert!(
        f.message.contains("userAssignedIdentityID"),
        "{}",
        f.message
    );
    assert!(f.message.contains("not assigned"), "{}", f.message);
    assert!(
        // The node resource group held first (no node read), then the assignment there.
        crate::xd_paste::after_guards(&f.fix).starts_with("NODE_RG=\"$(az aks show ")
            && f.fix
                .contains(" && az vmss identity assign -g \"$NODE_RG\" "),
        "{}",
        f.fix
    );
    assert!(f.fix.contains("aks-nodepool1-12345678-vmss "), "{}", f.fix);
    assert!(!f.fix.contains("clientID"), "{}", f.fix);
    // Not "✓": the event shows the node cannot get the identity's token.
    assert_eq!(c.link(LinkKind::Identity).status, Status::Broken);
    assert!(with(&c, Code::KVC701).is_empty());
}

#[test]
fn a_user_assigned_id_naming_no_identity_is_fixed_in_user_assigned_identity_id() {
    let s = node_identity_failing(OTHER_CLIENT);
    let c = one(&s);
    assert_eq!(
        causes(&c),
        [Code::KVC301],
        "{:#?}",
        c.findings().collect::<Vec<_>>()
    );
    let f = find(&c, Code::KVC301);
    // The event is the static finding's evidence, not a second error.
    assert!(has_event(f), "{f:#?}");
    assert!(f.message.contains(OTHER_CLIENT), "{}", f.message);
    assert!(
        f.fix.contains("userAssignedIdentityID") && !f.fix.contains("clientID\\\""),
        "{}",
        f.fix
    );
    assert!(!f.fix.contains("parameters.clientID"), "{}", f.fix);
    assert!(
        !f.fix.contains("<rg>") && !f.fix.contains("<name>"),
        "{}",
        f.fix
    );
    assert!(with(&c, Code::KVC701).is_empty());
}

/// Azure not visible: the event alone names the identity and the node.
#[test]
fn with_azure_unknown_the_refusal_still_names_user_assigned_identity_id() {
    let mut s = node_identity_failing(OTHER_CLIENT);
    s.azure.identities.items.clear();
    s.azure.identities.gaps.all = Some("Azure disabled (--no-azure)".into());
    let c = one(&s);
    assert_eq!(
        causes(&c),
        [Code::KVC301],
        "{:#?}",
        c.findings().collect::<Vec<_>>()
    );
    let f = find(&c, Code::KVC301);
    assert!(f.message.contains(OTHER_CLIENT), "{}", f.message);
    assert!(
        f.message.contains("userAssignedIdentityID"),
        "{}",
        f.message
    );
    assert!(f.fix.contains("az vmss identity assign "), "{}", f.fix);
    assert!(f.fix.contains("userAssignedIdentityID"), "{}", f.fix);
    assert!(!f.fix.contains("parameters.clientID"), "{}", f.fix);
    assert_eq!(c.link(LinkKind::Identity).status, Status::Broken);
}
