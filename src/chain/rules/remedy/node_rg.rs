//! The node resource group and scale set a fix names (audit XE-paste). AKS keeps the node
//! pools' scale sets in the node resource group, whose name is the cluster's
//! `nodeResourceGroup` (`MC_<rg>_<cluster>_<region>` by default, anything when set at
//! creation). A node's providerID names it for certain ([`crate::snapshot::node_vm`]), with the
//! subscription and the node's scale set: where the nodes were read, a fix names them. Where
//! they were not (a manifests check, a snapshot without nodes), the fix looks the group up
//! with `az aks show … --query nodeResourceGroup`, held in `NODE_RG` and stopped with a message
//! when empty: as an argument (`-g "$(az aks show …)"`) a lookup that prints nothing (a wrong
//! `CLUSTER_RG`, az on another subscription) became `-g ""`, and the command ran on anyway.

use super::{aks_args, sh_word};
use crate::chain::context::Ctx;

/// The node resource group as a fix names it.
pub(crate) struct NodeRg {
    /// `-g <group> --subscription <id>` from the nodes, else `-g "$NODE_RG"`.
    pub(crate) args: String,
    /// What sets `NODE_RG` (and stops the line when the lookup prints nothing), where the
    /// nodes did not name the group.
    lookup: Option<String>,
}

impl NodeRg {
    /// `command`, which names [`Self::args`], after the lookup where there is one.
    pub(crate) fn before(&self, command: &str) -> String {
        match &self.lookup {
            Some(lookup) => format!("{lookup} && {command}"),
            None => command.to_string(),
        }
    }
}

pub(crate) fn node_rg(cx: &Ctx) -> NodeRg {
    if let Some((subscription, group)) = cx.cluster().node_resource_group() {
        return NodeRg {
            args: format!(
                "-g {} --subscription {}",
                sh_word(group),
                sh_word(subscription)
            ),
            lookup: None,
        };
    }
    let known = cx.cluster().name.is_some() && cx.cluster().resource_group.is_some();
    // No `"`, `$`, `'`, `}` or `\` in a `${V:?…}` message (see `guard::what`).
    let hint = if known {
        "az account set to the subscription of the AKS cluster"
    } else {
        "set CLUSTER_RG and CLUSTER to the resource group and name of the AKS cluster, and az account set to its subscription"
    };
    NodeRg {
        args: "-g \"$NODE_RG\"".to_string(),
        lookup: Some(looked_up(
            "NODE_RG",
            &format!(
                "az aks show {} --query nodeResourceGroup -o tsv",
                aks_args(cx)
            ),
            &format!("az aks show printed no node resource group: {hint}"),
        )),
    }
}

/// `VAR="$(lookup)" && : "${VAR:?message}"`: `lookup`'s output held in `var`, the line stopped
/// with `message` when it is empty (bash manual, "Shell Parameter Expansion": `${V:?word}`
/// writes word and a non-interactive shell exits). `message` starts `az … printed no …`.
pub(crate) fn looked_up(var: &str, lookup: &str, message: &str) -> String {
    debug_assert!(!message.contains(['"', '$', '\'', '}', '\\', '`']));
    format!("{var}=\"$({lookup})\" && : \"${{{var}:?{message}}}\"")
}

/// The scale set of the pod's node, as a shell word: its providerID's where the node was read,
/// else from the node's name as AKS gives it (`aks-<pool>-<id>-vmss<instance>`).
pub(crate) fn node_vmss(cx: &Ctx) -> Option<String> {
    let node = cx.pod.node.as_deref()?;
    let from_id = cx.cluster().node_vm(node).and_then(|v| v.scale_set);
    (from_id.or_else(|| scale_set_named(node))).map(|s| sh_word(s).into_owned())
}

/// The scale set of an AKS node name (`aks-<pool>-<id>-vmss000000` → `aks-<pool>-<id>-vmss`).
fn scale_set_named(node: &str) -> Option<&str> {
    super::node_pool(node)?;
    let at = node.rfind("vmss")? + "vmss".len();
    Some(&node[..at])
}

/// The node pool of the pod's node: its `kubernetes.azure.com/agentpool` label where the node
/// was read, else from its name.
pub(crate) fn pod_node_pool<'a>(cx: &Ctx<'a>) -> Option<&'a str> {
    let node = cx.pod.node.as_deref()?;
    let labelled = (cx.cluster().nodes.known())
        .and_then(|nodes| nodes.iter().find(|n| n.name == node))
        .and_then(|n| n.labels.get("kubernetes.azure.com/agentpool"))
        .map(String::as_str)
        .filter(|p| !p.is_empty());
    labelled.or_else(|| super::node_pool(node))
}
