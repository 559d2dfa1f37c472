//! Node identity mode (`useVMManagedIdentity: "true"`, FACTS §5): the provider asks the node's
//! metadata endpoint (IMDS) for a token of the identity `userAssignedIdentityID` names (none:
//! the scale set's system-assigned one); `clientID` takes no part. The endpoint serves only
//! identities assigned to the node's virtual machine scale set; for any other it answers 400
//! "Identity not found", which azidentity words "ManagedIdentityCredential authentication
//! failed. the requested identity isn't assigned to this resource" ([SDK] azidentity). So the
//! fault is userAssignedIdentityID (it names no identity), or the scale set (the identity is
//! not assigned to it): one cause on the Identity link, the event its evidence (KVC301).

use super::remedy::{aks_args, sh_word};
use crate::chain::catalog::Code;
use crate::chain::context::{AuthMode, Ctx};
use crate::chain::model::Finding;

/// The scale set of an AKS node (`aks-<pool>-<id>-vmss000000` → `aks-<pool>-<id>-vmss`).
fn scale_set(node: &str) -> Option<&str> {
    super::remedy::node_pool(node)?;
    let at = node.rfind("vmss")? + "vmss".len();
    Some(&node[..at])
}

/// userAssignedIdentityID, if the SPC (with the volume's attributes) names one.
fn named<'a>(cx: &'a Ctx) -> Option<&'a str> {
    match &cx.mode {
        AuthMode::VmIdentity { user_assigned } => user_assigned.as_deref(),
        _ => None,
    }
}

/// Set userAssignedIdentityID to the AKS add-on's identity, which AKS assigns to the node
/// pools: a merge patch in double quotes, so the lookup runs when pasted.
fn use_addon_identity(cx: &Ctx) -> String {
    format!(
        "kubectl patch secretproviderclass {} -n {} --type merge -p \"{{\\\"spec\\\":{{\\\"parameters\\\":{{\\\"userAssignedIdentityID\\\":\\\"$(az aks show {} --query addonProfiles.azureKeyvaultSecretsProvider.identity.clientId -o tsv)\\\"}}}}}}\"  # the AKS add-on's identity, assigned to the node pools by AKS; it needs read access on the vault",
        sh_word(cx.spc_name),
        cx.ns(),
        aks_args(cx)
    )
}

/// Assign the identity with clientId `client` to the scale set of the pod's node.
fn assign_to_scale_set(cx: &Ctx, client: &str) -> String {
    let vmss = cx.pod.node.as_deref().and_then(scale_set).map_or_else(
        || "\"$NODEPOOL_VMSS\"".to_string(),
        |s| sh_word(s).into_owned(),
    );
    let id = match cx.identity {
        Some(i) if !i.resource_id.is_empty() => sh_word(&i.resource_id).into_owned(),
        _ => format!("\"$(az identity list --query \\\"[?clientId=='{client}'].id\\\" -o tsv)\""),
    };
    format!(
        "az vmss identity assign -g \"$(az aks show {} --query nodeResourceGroup -o tsv)\" -n {vmss} --identities {id}  # every node pool the pods run on",
        aks_args(cx)
    )
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
        use_addon_identity(cx),
    )
}

/// What shows the identities the node pool's scale sets hold, beside the one named.
fn confirm(cx: &Ctx, client: Option<&str>) -> String {
    let sets = format!(
        "az vmss list -g \"$(az aks show {} --query nodeResourceGroup -o tsv)\" --query \"[].{{vmss:name,identities:identity.userAssignedIdentities}}\" -o json",
        aks_args(cx)
    );
    match client {
        Some(c) => format!(
            "az identity list --query \"[?clientId=='{c}'].{{name:name,rg:resourceGroup}}\" -o table; {sets}"
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
            use_addon_identity(cx),
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
                "{}  — or use the add-on's identity instead: {}",
                assign_to_scale_set(cx, client),
                use_addon_identity(cx)
            ),
        ),
        None => (
            format!(
                "no identity with that clientId is assigned to the scale set of node {node} (kvchain cannot see whether one exists)"
            ),
            format!(
                "{}  — or, if no identity has that clientId, use the add-on's: {}",
                assign_to_scale_set(cx, client),
                use_addon_identity(cx)
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
