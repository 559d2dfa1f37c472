//! Node identity mode (`useVMManagedIdentity: "true"`, FACTS §5): the provider asks the node's
//! metadata endpoint (IMDS) for a token of the identity `userAssignedIdentityID` names (none:
//! the scale set's system-assigned one); `clientID` takes no part. The endpoint serves only
//! identities assigned to the node's virtual machine scale set; for any other it answers 400
//! "Identity not found", which azidentity words "ManagedIdentityCredential authentication
//! failed. the requested identity isn't assigned to this resource" ([SDK] azidentity). So the
//! fault is userAssignedIdentityID (it names no identity), or the scale set (the identity is
//! not assigned to it): one cause on the Identity link, the event its evidence (KVC301).

use super::remedy::{aks_args, identity_by_client, install, node_rg, node_vmss, sh_word};
use crate::chain::catalog::Code;
use crate::chain::context::{AuthMode, Ctx};
use crate::chain::model::Finding;
use crate::snapshot::DriverInstall;

/// userAssignedIdentityID, if the SPC (with the volume's attributes) names one.
fn named<'a>(cx: &'a Ctx) -> Option<&'a str> {
    match &cx.mode {
        AuthMode::VmIdentity { user_assigned } => user_assigned.as_deref(),
        _ => None,
    }
}

/// Set userAssignedIdentityID to an identity the node pools already hold: the AKS add-on's
/// (AKS assigns it to the node pools) when the driver is the add-on; otherwise (a Helm
/// install has no add-on identity, audit T2; or the install is not known) one assigned to
/// the scale set of the pod's node, which the snapshot names (AKS gives every pool the
/// kubelet identity). The lookup is tested non-empty first: an empty userAssignedIdentityID
/// would move the SPC to the scale set's system-assigned identity (FACTS §5). A merge patch
/// in double quotes, so `$ID` expands when pasted.
fn use_held_identity(cx: &Ctx) -> String {
    let patch = |lookup: &str, whose: &str| {
        format!(
            "ID=\"$({lookup})\" && [ -n \"$ID\" ] && kubectl patch secretproviderclass {} -n {} --type merge -p \"{{\\\"spec\\\":{{\\\"parameters\\\":{{\\\"userAssignedIdentityID\\\":\\\"$ID\\\"}}}}}}\"  # {whose}; it needs read access on the vault",
            sh_word(cx.spc_name),
            cx.ns(),
        )
    };
    let command = if install(cx) == Some(DriverInstall::AksAddon) {
        patch(
            &format!(
                "az aks show {} --query addonProfiles.azureKeyvaultSecretsProvider.identity.clientId -o tsv",
                aks_args(cx)
            ),
            "the AKS add-on's identity, assigned to the node pools by AKS",
        )
    } else {
        let rg = node_rg(cx);
        let lookup = match node_vmss(cx) {
            Some(vmss) => format!(
                "az vmss show {} -n {vmss} --query \"values(identity.userAssignedIdentities)[0].clientId\" -o tsv",
                rg.args
            ),
            None => format!(
                "az vmss list {} --query \"values([0].identity.userAssignedIdentities)[0].clientId\" -o tsv",
                rg.args
            ),
        };
        let of = node_vmss(cx).unwrap_or_else(|| "of the node pool".to_string());
        rg.before(&patch(
            &lookup,
            &format!("an identity the scale set {of} already holds"),
        ))
    };
    // A controller-owned SPC is changed through its owner (audit TT6): the whole chain is
    // the note, as the lookup serves the patch alone.
    super::remedy::unless_controlled(cx, command)
}

/// Assign the identity with clientId `client` to the scale set of the pod's node. Looked up
/// by clientId when not observed, and tested non-empty: `--identities ""` names none.
fn assign_to_scale_set(cx: &Ctx, client: &str) -> String {
    let vmss = node_vmss(cx).unwrap_or_else(|| "\"$NODEPOOL_VMSS\"".to_string());
    let rg = node_rg(cx);
    let assign = |id: &str| {
        format!(
            "az vmss identity assign {} -n {vmss} --identities {id}  # every node pool the pods run on",
            rg.args
        )
    };
    rg.before(&match cx.identity {
        Some(i) if !i.resource_id.is_empty() => assign(&sh_word(&i.resource_id)),
        _ => format!(
            "ID={} && [ -n \"$ID\" ] && {}",
            identity_by_client(client, "id"),
            assign("\"$ID\"")
        ),
    })
}

/// KVC301 from the objects: userAssignedIdentityID names no managed identity kvchain can see
/// (the lookup was conclusive).
pub(super) fn missing(cx: &Ctx, client: &str) -> Finding {
    cx.finding(
        Code::KVC301,
        cx.spc_resource(),
        format!(
            "userAssignedIdentityID {client} of SecretProviderClass {} names no managed identity visible to kvchain: with useVMManagedIdentity the provider asks the node for that identity's token, and no node can hold an identity that does not exist",
            cx.spc_name
        ),
        vec![
            format!("useVMManagedIdentity: true, userAssignedIdentityID: {client}"),
            format!(
                "{} managed identities listed",
                cx.azure().identities.items.len()
            ),
        ],
        confirm(cx, Some(client)),
        use_held_identity(cx),
    )
}

/// What shows the identities the node pool's scale sets hold, beside the one named.
fn confirm(cx: &Ctx, client: Option<&str>) -> String {
    let rg = node_rg(cx);
    let sets = rg.before(&format!(
        "az vmss list {} --query \"[].{{vmss:name,identities:identity.userAssignedIdentities}}\" -o json",
        rg.args
    ));
    match client {
        Some(c) => format!(
            "{}; {sets}",
            super::remedy::identity_list(c, ".{name:name,rg:resourceGroup}\" -o table")
        ),
        None => sets,
    }
}

/// KVC301 from the node's metadata endpoint refusing the identity asked (the event).
pub(crate) fn from_event(cx: &Ctx, evidence: String) -> Finding {
    let node = cx.pod.node.as_deref().unwrap_or("(unknown)");
    let Some(client) = named(cx) else {
        return cx.finding(
            Code::KVC301,
            cx.spc_resource(),
            format!(
                "the scale set of node {node} has no system-assigned identity to give SecretProviderClass {} (useVMManagedIdentity without userAssignedIdentityID): the node's metadata endpoint answers \"Identity not found\"",
                cx.spc_name
            ),
            vec![evidence],
            confirm(cx, None),
            use_held_identity(cx),
        );
    };
    let (why, fix) = match cx.identity {
        // It exists: the scale set lacks it.
        Some(i) => (
            format!(
                "managed identity {} exists but is not assigned to the scale set of node {node}",
                i.name
            ),
            format!(
                "{}  — or use an identity the node pools hold instead: {}",
                assign_to_scale_set(cx, client),
                use_held_identity(cx)
            ),
        ),
        None => (
            format!(
                "no identity with that clientId is assigned to the scale set of node {node} (kvchain cannot see whether one exists)"
            ),
            format!(
                "{}  — or, if no identity has that clientId, use one the node pools hold: {}",
                assign_to_scale_set(cx, client),
                use_held_identity(cx)
            ),
        ),
    };
    cx.finding(
        Code::KVC301,
        cx.spc_resource(),
        format!(
            "the node's metadata endpoint refuses identity {client} (userAssignedIdentityID of SecretProviderClass {}, useVMManagedIdentity): {why}",
            cx.spc_name
        ),
        vec![evidence],
        confirm(cx, Some(client)),
        fix,
    )
}
