//! Identity lookups in node identity and identity binding fixes, run as pasted (audit T1, T2,
//! T6). FACTS §5: with `useVMManagedIdentity` the provider asks the node for the identity
//! `userAssignedIdentityID` names, and an empty one means the scale set's system-assigned
//! identity; identity binding (`useAzureTokenProxy`) needs the AKS identity binding of the
//! identity `clientID` names. `az identity list` finds an identity by clientId with the
//! JMESPath `[?clientId=='…']`; a Helm-installed driver has no AKS add-on identity.

use kvchain::chain::testkit::{self as tk, APP};
use kvchain::chain::{Chain, Code};
use kvchain::snapshot::*;

use super::cause_kit::*;
use super::paste_kit::paste;
use super::rules_identity_binding::{BINDING, binding_rejected};
use super::rules_node_identity_imds::{OTHER_CLIENT, node_identity_failing};

const HELD: &str = "12121212-3434-5656-7878-909090909090";
const ID_RESOURCE: &str = "/subscriptions/s/resourceGroups/rg-ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-app";

fn azure_unread(s: &mut Snapshot) {
    s.azure.identities.items.clear();
    s.azure.identities.gaps.all = Some(gaps::AZURE_DISABLED.into());
}

fn with_install(mut s: Snapshot, install: DriverInstall) -> Snapshot {
    if let Observed::Known(d) = &mut s.cluster.csi_driver {
        d.install = Some(install);
    }
    s
}

fn kvc301(s: &Snapshot) -> String {
    let c: Chain = one(s);
    find(&c, Code::KVC301).fix.to_string()
}

/// `az` answering the clientId lookup only when its JMESPath is exactly right.
fn by_client_id(client: &str) -> String {
    format!("\"identity list --query [?clientId=='{client}'].id -o tsv\") echo {ID_RESOURCE} ;;")
}

#[test]
fn t1_an_unread_identity_is_assigned_to_the_scale_set_by_its_client_id() {
    let mut s = node_identity_failing(OTHER_CLIENT);
    azure_unread(&mut s);
    let fix = kvc301(&s);
    // The node resource group looked up (the snapshot read no node): the scale set is
    // assigned in the group az names, never in `-g ""` (audit XE-paste).
    let node_rg = "*\"aks show\"*nodeResourceGroup*) echo MC_rg-aks_aks_eastus ;;";
    let p = paste(
        &fix,
        &format!("{}\n{node_rg}", by_client_id(OTHER_CLIENT)),
        "",
    );
    assert_eq!(
        p.called("az [vmss] [identity] [assign]"),
        [format!(
            "az [vmss] [identity] [assign] [-g] [MC_rg-aks_aks_eastus] [-n] [aks-nodepool1-12345678-vmss] [--identities] [{ID_RESOURCE}]"
        )],
        "{fix}\n{:#?}",
        p.calls
    );
    // The group looked up prints nothing: nothing is assigned anywhere.
    let p = paste(&fix, &by_client_id(OTHER_CLIENT), "");
    assert!(p.called("az [vmss]").is_empty(), "{fix}\n{:#?}", p.calls);
    // No identity has that clientId: nothing is assigned (`--identities ""` names none).
    let p = paste(&fix, "", "");
    assert!(
        p.called("az [vmss] [identity] [assign]").is_empty(),
        "{:#?}",
        p.calls
    );
}

#[test]
fn t2_on_a_helm_driver_the_fix_names_an_identity_the_scale_set_holds() {
    let s = with_install(node_identity_failing(OTHER_CLIENT), DriverInstall::Helm);
    let fix = kvc301(&s);
    assert!(
        !fix.contains("azureKeyvaultSecretsProvider") && !fix.contains("add-on"),
        "{fix}"
    );
    // The node resource group looked up first (no node read, audit XE-paste).
    let arms = format!(
        "*\"vmss show\"*aks-nodepool1-12345678-vmss*userAssignedIdentities*) echo {HELD} ;;\n*\"aks show\"*nodeResourceGroup*) echo MC_rg-aks_aks_eastus ;;"
    );
    let p = paste(&fix, &arms, "");
    let patch =
        format!("[{{\"spec\":{{\"parameters\":{{\"userAssignedIdentityID\":\"{HELD}\"}}}}}}]");
    assert!(
        (p.called("kubectl [patch] [secretproviderclass]").iter()).any(|c| c.ends_with(&patch)),
        "{fix}\n{:#?}",
        p.calls
    );
    // The scale set holds no user-assigned identity: nothing is written.
    let p = paste(&fix, "", "");
    assert!(p.called("kubectl").is_empty(), "{fix}\n{:#?}", p.calls);
}

#[test]
fn t2_the_add_on_identity_is_never_written_empty() {
    let s = with_install(node_identity_failing(OTHER_CLIENT), DriverInstall::AksAddon);
    let fix = kvc301(&s);
    assert!(fix.contains("azureKeyvaultSecretsProvider"), "{fix}");
    let p = paste(&fix, "", "");
    assert!(p.called("kubectl").is_empty(), "{fix}\n{:#?}", p.calls);
}

#[test]
fn t6_an_unread_bound_identity_is_found_by_the_spcs_client_id() {
    let mut s = tk::healthy();
    binding_rejected(&mut s, BINDING);
    let client = tk::client_id(tk::NS, APP);
    azure_unread(&mut s);
    let c = one(&s);
    let fix = find(&c, Code::KVC405).fix.to_string();
    assert!(
        !fix.contains("$IDENTITY_NAME") && !fix.contains("$IDENTITY_RG"),
        "{fix}"
    );
    let p = paste(&fix, &by_client_id(&client), "");
    assert_eq!(
        p.called("az [aks] [identity-binding] [create]"),
        [format!(
            "az [aks] [identity-binding] [create] [-g] [rg-aks] [--cluster-name] [aks] [-n] [id-app] [--managed-identity-resource-id] [{ID_RESOURCE}]"
        )],
        "{fix}\n{:#?}",
        p.calls
    );
    let p = paste(&fix, "", "");
    assert!(
        p.called("az [aks] [identity-binding]").is_empty(),
        "{:#?}",
        p.calls
    );
}
