//! Audit XE-paste: the node resource group and scale set a fix names come from what the cluster
//! tells. A node's `spec.providerID` is its VM's ARM id (cloud-provider-azure
//! `pkg/provider/azure_vmss.go`, `vmssMachineIDTemplate`:
//! `/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachineScaleSets/%s/virtualMachines/%s`,
//! under `azure://`), so the live source, which lists nodes, can name the node resource group,
//! its subscription and the pod's scale set for certain. Where no node was read, the group is
//! looked up (`az aks show … --query nodeResourceGroup`) into `NODE_RG` and the line stops
//! when the lookup prints nothing: as an argument (`-g "$(az aks show …)"`) an empty answer
//! was `-g ""`, and the command ran on (`az network vnet list -g ""` lists the subscription's
//! VNets, and its first subnet became the private endpoint's).

use std::process::Command;

use serde_json::{Value, json};

use crate::iii_paste::{bash_present, check_json};
use crate::live_support::*;
use crate::xd_paste::stubs;
use kvchain::chain::{Code, diagnose};

const SUBSCRIPTION: &str = "6b1f0e2d-0000-4000-8000-00000000e5e5";
/// A node resource group set at the cluster's creation: no `MC_` convention gives it.
const NODE_RG: &str = "nodes-payments-custom";
const VMSS: &str = "aks-nodepool1-12345678-vmss";
const NODE: &str = "aks-nodepool1-12345678-vmss000000";

/// The node the live world's pod runs on, as the API server returns it on AKS.
fn aks_node() -> Value {
    json!({"apiVersion": "v1", "kind": "Node",
           "metadata": {"name": NODE,
                        "labels": {"kubernetes.io/os": "linux",
                                   "kubernetes.azure.com/agentpool": "nodepool1"}},
           "spec": {"providerID": format!(
               "azure:///subscriptions/{SUBSCRIPTION}/resourceGroups/{NODE_RG}/providers/Microsoft.Compute/virtualMachineScaleSets/{VMSS}/virtualMachines/0")}})
}

/// The live world with its SPCs reading Key Vault as the scale set's own identity
/// (`useVMManagedIdentity: "true"`, no clientID nor userAssignedIdentityID, FACTS §5), and the
/// nodes listed when `nodes`.
async fn node_identity_confirm(nodes: bool) -> String {
    let api = world();
    let spcs: Vec<Value> = ["azure-sync", "azure-legacy"]
        .into_iter()
        .map(|name| {
            let mut spc = upstream("spc-azure-wi-synck8s.yaml", VARS);
            spc["metadata"]["namespace"] = json!(NS);
            spc["metadata"]["name"] = json!(name);
            let p = &mut spc["spec"]["parameters"];
            p.as_object_mut().unwrap().remove("clientID");
            p["useVMManagedIdentity"] = json!("true");
            spc
        })
        .collect();
    api.replace_silently(SPCS, spcs);
    if nodes {
        api.add("/api/v1/nodes", aks_node());
    }
    let snap = snapshot_of(&api).await;
    let chains = diagnose(&snap);
    let text = format!("{chains:?}");
    assert!(!text.contains("CANARY-"), "a canary in the findings");
    let f = (chains.iter())
        .filter(|c| c.pod == POD)
        .flat_map(|c| c.findings())
        .find(|f| f.code == Code::KVC303)
        .unwrap_or_else(|| panic!("no KVC303: {chains:#?}"));
    f.confirm.to_string()
}

/// XE1: the nodes were read: the scale sets are listed in the node resource group the node's
/// providerID names, in its subscription, with no lookup of the cluster and nothing to set.
#[tokio::test]
async fn live_nodes_name_the_node_resource_group_and_its_subscription() {
    let confirm = node_identity_confirm(true).await;
    assert_eq!(
        confirm,
        format!(
            "az vmss list -g {NODE_RG} --subscription {SUBSCRIPTION} --query \"[].{{vmss:name,identity:identity.type,principalId:identity.principalId}}\" -o table"
        )
    );
}

/// `text` run by `bash -u` with az printing nothing (a lookup whose cluster or subscription is
/// wrong) and logging each call on stderr, CLUSTER_RG and CLUSTER set: its stderr and status.
fn pasted_with_az_silent(text: &str) -> (String, bool) {
    let out = Command::new("bash")
        .args([
            "-u",
            "-c",
            &format!("{}{text}", stubs("echo \"az $*\" >&2; return 0;")),
        ])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("CLUSTER_RG", "rg-aks")
        .env("CLUSTER", "aks")
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.success(),
    )
}

/// XE2: no node read: the group is looked up and held; when az prints nothing the line stops
/// naming what to set, and no scale set is listed (or changed) in `-g ""`.
#[tokio::test]
async fn without_nodes_an_empty_node_resource_group_stops_the_line_naming_what_to_set() {
    let confirm = node_identity_confirm(false).await;
    assert!(
        confirm.contains(
            "NODE_RG=\"$(az aks show -g \"$CLUSTER_RG\" -n \"$CLUSTER\" --query nodeResourceGroup -o tsv)\""
        ) && confirm.contains(" && az vmss list -g \"$NODE_RG\" "),
        "{confirm}"
    );
    if !bash_present() {
        return;
    }
    let (stderr, ok) = pasted_with_az_silent(&confirm);
    assert!(!ok, "{stderr}");
    assert!(
        stderr.contains("NODE_RG: az aks show printed no node resource group: set CLUSTER_RG and CLUSTER to the resource group and name of the AKS cluster"),
        "{stderr}"
    );
    assert!(
        stderr.lines().all(|l| !l.starts_with("az vmss")),
        "{stderr}"
    );
}

/// XE3: the lab's nodes say the same (a declared Node's providerID): a custom node resource
/// group in the KVC301 confirm, never the `az aks show` lookup; the lab world without such a
/// node keeps the lookup.
#[test]
fn a_lab_node_names_a_custom_node_resource_group() {
    let kvc301 = |world: &str| {
        let r = check_json(&["--lab", world]);
        assert!(!r.to_string().contains("CANARY-xepaste-"), "{r}");
        (r["findings"].as_array().unwrap().iter())
            .find(|f| f["code"] == "KVC301")
            .and_then(|f| f["confirm"].as_str())
            .map(str::to_string)
            .unwrap_or_else(|| panic!("no KVC301: {r:#}"))
    };
    let confirm = kvc301("tests/fixtures/lab/xe-paste-node-rg-from-provider-id.yaml");
    assert!(
        confirm.ends_with(
            "; az vmss list -g nodes-xep-custom --subscription 00000000-0000-0000-0000-00000000e501 --query \"[].{vmss:name,identities:identity.userAssignedIdentities}\" -o json"
        ),
        "{confirm}"
    );
    assert!(!confirm.contains("nodeResourceGroup"), "{confirm}");
    let confirm = kvc301("tests/fixtures/lab/xb-facts-vm-identity-unassigned.yaml");
    assert!(
        confirm.contains("NODE_RG=\"$(az aks show -g rg-aks -n aks-xbf --query nodeResourceGroup -o tsv)\" && : \"${NODE_RG:?az aks show printed no node resource group: "),
        "{confirm}"
    );
}

/// XE4: the private endpoint's subnet. A pool on the AKS-managed VNet has no vnetSubnetId, so
/// the fix falls back to the VNet in the node resource group; when both lookups print nothing
/// the line stops naming the subnet, and nothing is created: before, `SUBNET` stayed empty and
/// the endpoint was created with `--subnet ""` after `az network vnet list -g ""`.
#[test]
fn an_empty_subnet_lookup_stops_before_the_private_endpoint() {
    if !bash_present() {
        return;
    }
    let r = check_json(&["--lab", "tests/fixtures/lab/xa-scen-public-access-off.yaml"]);
    let fix = (r["findings"].as_array().unwrap().iter())
        .filter_map(|f| f["fix"].as_str())
        .find(|f| f.contains("az network private-endpoint create"))
        .unwrap_or_else(|| panic!("no private endpoint fix: {r:#}"));
    let (stderr, ok) = pasted_with_az_silent(fix);
    assert!(!ok, "{stderr}");
    assert!(
        stderr.contains("NODE_RG: az aks show printed no node resource group: "),
        "{stderr}"
    );
    assert!(
        (stderr.lines()).all(|l| !l.starts_with("az network")),
        "{stderr}"
    );
    // The node resource group found, its VNet none: the subnet stops the line.
    let vnet_empty = fix.replace(
        "NODE_RG=\"$(az aks show",
        "NODE_RG=\"$(echo MC_rg-aks_aks-xas_eastus; true az aks show",
    );
    let (stderr, _) = pasted_with_az_silent(&vnet_empty);
    assert!(
        stderr.contains("SUBNET: az printed no subnet of node pool nodepool1"),
        "{stderr}"
    );
    assert!(
        (stderr.lines()).all(|l| !l.starts_with("az network private-endpoint")),
        "{stderr}"
    );
}

/// XE5: moving a node-identity SPC to workload identity grants the identity its role on the
/// vault, whose id kvchain did not read. When `az keyvault show` prints nothing (the vault in a
/// subscription az is not set to), `--scope ""` is no scope: azure-cli's `_build_role_scope`
/// (`role/custom.py`) then assigns at az's current subscription, the role on every vault there.
/// The id is held and the line stops before any assignment, naming what to set.
#[test]
fn an_empty_vault_id_grants_no_role_at_the_subscription() {
    if !bash_present() {
        return;
    }
    let r = check_json(&[
        "--lab",
        "tests/fixtures/lab/xb-facts-vm-identity-federated.yaml",
    ]);
    let fix = (r["findings"].as_array().unwrap().iter())
        .filter(|f| f["code"] == "KVC303")
        .find_map(|f| f["fix"].as_str())
        .unwrap_or_else(|| panic!("no KVC303: {r:#}"));
    assert!(fix.contains("az role assignment create"), "{fix}");
    let principal = "*\"identity show\"*principalId*) echo 8b7a6c5d-4e3f-4a2b-9c1d-0e9f8a7b6c5d ;;";
    let p = crate::paste_kit::paste(fix, principal, "");
    assert!(
        p.called("az [role] [assignment] [create]").is_empty(),
        "{fix}\n{:#?}",
        p.calls
    );
    assert!(
        p.stderr.contains("VAULT_ID: az keyvault show printed no id of the Key Vault: az account set to the subscription of the vault"),
        "{}",
        p.stderr
    );
    // The vault found: the role is assigned on it, and only there.
    let vault = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-xbf";
    let p = crate::paste_kit::paste(
        fix,
        &format!("{principal}\n*\"keyvault show\"*) echo {vault} ;;"),
        "",
    );
    assert_eq!(
        p.called("az [role] [assignment] [create]"),
        [format!(
            "az [role] [assignment] [create] [--assignee-object-id] [8b7a6c5d-4e3f-4a2b-9c1d-0e9f8a7b6c5d] [--assignee-principal-type] [ServicePrincipal] [--role] [Key Vault Secrets User] [--scope] [{vault}]"
        )],
        "{fix}\n{:#?}",
        p.calls
    );
}
