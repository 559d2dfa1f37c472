//! The lab's Cluster has a name (`metadata.name`) and may have a resource group
//! (docs/scenarios.md): fixes that run `az aks` against the cluster name them instead of the
//! `"$CLUSTER"` / `"$CLUSTER_RG"` a user would have to fill (a fix works when pasted).

use kvchain::chain::{self, Code};
use kvchain::source::lab::world::World;
use kvchain::source::lab::{self, export};

const SHOP: &str = include_str!("../../assets/scenarios/shop.yaml");
const HEALTHY: &str = include_str!("../../assets/scenarios/healthy.yaml");

fn cluster(extra: &str) -> String {
    format!(
        r#"apiVersion: lab.kvchain.dev/v1
kind: Cluster
metadata:
  name: aks-names
spec:
  oidcIssuerURL: https://westeurope.oic.prod-aks.azure.com/5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b/6d8f2a3b-4c5e-4f70-9b1c-2d3e4f5a6b7c/
  tenantID: 5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b
  faultTarget: shop/checkout
{extra}  csiDriver:
    enableSecretRotation: false
"#
    )
}

/// The KVC702 fix of a rotation-off cluster.
fn rotation_fix(cluster: &str) -> String {
    let text = [cluster, SHOP, HEALTHY].join("\n---\n");
    let sc = lab::scenario::parse("names", std::path::Path::new("names.yaml"), &text)
        .expect("scenario loads");
    let mut w = World::new(sc);
    w.run_until_stable(lab::MAX_SETTLE);
    let chains = chain::diagnose(&export::snapshot(&w));
    chains
        .iter()
        .flat_map(|c| c.findings())
        .find(|f| f.code == Code::KVC702)
        .map(|f| f.fix.to_string())
        .expect("rotation off is KVC702")
}

#[test]
fn the_clusters_name_fills_az_aks_fixes() {
    let fix = rotation_fix(&cluster(""));
    assert!(
        fix.starts_with(": \"${CLUSTER_RG:?set CLUSTER_RG to the resource group of the AKS cluster}\" && az aks update -g \"$CLUSTER_RG\" -n aks-names "),
        "{fix}"
    );
}

#[test]
fn a_resource_group_given_fills_them_whole() {
    let fix = rotation_fix(&cluster("  resourceGroup: rg-aks\n"));
    assert!(
        fix.starts_with("az aks update -g rg-aks -n aks-names "),
        "{fix}"
    );
    assert!(!fix.contains('$'), "{fix}");
}
