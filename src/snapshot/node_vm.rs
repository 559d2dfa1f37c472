//! Where an AKS node's virtual machine lives, as its `spec.providerID` says. The Azure cloud
//! provider (cloud-provider-azure, `pkg/provider/azure_vmss.go`: `vmssMachineIDTemplate`) sets
//! it to the VM's ARM id under `azure://`:
//! `azure:///subscriptions/<sub>/resourceGroups/<node RG>/providers/Microsoft.Compute/virtualMachineScaleSets/<vmss>/virtualMachines/<n>`
//! (a VM outside a scale set: `…/providers/Microsoft.Compute/virtualMachines/<vm>`). The
//! node resource group is where AKS keeps the pools' scale sets, whatever its name
//! (`MC_<rg>_<cluster>_<region>` is only the default), so a fix names it from here rather than
//! look it up or guess it. The cluster's own name and resource group are nowhere in it.

use super::{ClusterFacts, NodeObs};

/// The node's VM: subscription, resource group, and scale set (None for a VM of no scale set).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeVm<'a> {
    pub subscription: &'a str,
    pub resource_group: &'a str,
    pub scale_set: Option<&'a str>,
}

/// The VM a providerID names; None for any other provider's id, or one not of that shape.
pub fn node_vm(provider_id: &str) -> Option<NodeVm<'_>> {
    let id = provider_id.strip_prefix("azure://")?;
    let mut parts = id.split('/');
    // `azure:///subscriptions/…`: the path starts after the (empty) authority.
    let mut next = |name: &str| {
        (parts.by_ref())
            .find(|p| !p.is_empty())
            .filter(|p| p.eq_ignore_ascii_case(name))?;
        parts.next().filter(|v| !v.is_empty())
    };
    let subscription = next("subscriptions")?;
    let resource_group = next("resourceGroups")?;
    let provider = next("providers")?;
    if !provider.eq_ignore_ascii_case("Microsoft.Compute") {
        return None;
    }
    let (kind, name) = (parts.next()?, parts.next().filter(|v| !v.is_empty())?);
    let scale_set = if kind.eq_ignore_ascii_case("virtualMachineScaleSets") {
        Some(name)
    } else if kind.eq_ignore_ascii_case("virtualMachines") {
        None
    } else {
        return None;
    };
    Some(NodeVm {
        subscription,
        resource_group,
        scale_set,
    })
}

impl NodeObs {
    /// The VM this node is, where its providerID was read and names one.
    pub fn vm(&self) -> Option<NodeVm<'_>> {
        node_vm(&self.provider_id)
    }
}

impl ClusterFacts {
    /// The VM of node `name`, where the nodes were read and its providerID names one.
    pub fn node_vm(&self, name: &str) -> Option<NodeVm<'_>> {
        (self.nodes.known()?.iter())
            .find(|n| n.name == name)
            .and_then(NodeObs::vm)
    }

    /// The node resource group and its subscription, where every node whose providerID names
    /// an Azure VM names the same ones (a virtual node, with no such id, says nothing); None
    /// where no node names one, or two disagree (which the fix then does not choose between).
    pub fn node_resource_group(&self) -> Option<(&str, &str)> {
        let mut vms = (self.nodes.known()?.iter()).filter_map(NodeObs::vm);
        let first = vms.next()?;
        vms.all(|v| {
            v.subscription.eq_ignore_ascii_case(first.subscription)
                && v.resource_group.eq_ignore_ascii_case(first.resource_group)
        })
        .then_some((first.subscription, first.resource_group))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::Observed;

    const VMSS: &str = "azure:///subscriptions/0000-1/resourceGroups/MC_rg_aks_westeurope/providers/Microsoft.Compute/virtualMachineScaleSets/aks-nodepool1-12345678-vmss/virtualMachines/3";

    #[test]
    fn a_scale_set_vm_names_subscription_group_and_scale_set() {
        assert_eq!(
            node_vm(VMSS),
            Some(NodeVm {
                subscription: "0000-1",
                resource_group: "MC_rg_aks_westeurope",
                scale_set: Some("aks-nodepool1-12345678-vmss"),
            })
        );
        let vm = node_vm(
            "azure:///subscriptions/s/resourceGroups/nodes-custom/providers/Microsoft.Compute/virtualMachines/aks-pool-1-vm",
        );
        assert_eq!(
            vm.map(|v| (v.resource_group, v.scale_set)),
            Some(("nodes-custom", None))
        );
    }

    #[test]
    fn other_ids_name_nothing() {
        for id in [
            "",
            "aws:///eu-west-1a/i-0abc",
            "kind://docker/kind/kind-control-plane",
            "azure:///subscriptions//resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/v",
            "azure:///subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualMachines/v",
            "azure:///subscriptions/s/resourceGroups/rg",
        ] {
            assert_eq!(node_vm(id), None, "{id}");
        }
    }

    fn facts(ids: &[&str]) -> ClusterFacts {
        let nodes = (ids.iter().enumerate())
            .map(|(i, id)| NodeObs {
                name: format!("n{i}"),
                provider_id: id.to_string(),
                ..NodeObs::default()
            })
            .collect();
        ClusterFacts {
            nodes: Observed::Known(nodes),
            ..ClusterFacts::default()
        }
    }

    #[test]
    fn the_node_resource_group_is_the_one_every_azure_node_names() {
        let virtual_node = "";
        assert_eq!(
            facts(&[VMSS, virtual_node]).node_resource_group(),
            Some(("0000-1", "MC_rg_aks_westeurope"))
        );
        assert_eq!(facts(&[virtual_node]).node_resource_group(), None);
        let elsewhere = VMSS.replace("MC_rg_aks_westeurope", "other");
        assert_eq!(facts(&[VMSS, &elsewhere]).node_resource_group(), None);
        assert_eq!(ClusterFacts::default().node_resource_group(), None);
        assert_eq!(
            facts(&[VMSS]).node_vm("n0").and_then(|v| v.scale_set),
            Some("aks-nodepool1-12345678-vmss")
        );
    }
}
