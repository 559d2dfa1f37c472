//! Recovery after a trainer's repair (FACTS §11 "Evidence ages"; docs/scenarios.md "Trainer
//! faults"): a recovered rotation may leave no success event — an SPC without secretObjects
//! whose versions did not change gets none from the ≤v1.5 reconciler — so the failure stopping
//! is the signal, and the lab must read healthy within one poll after the next successful
//! rotation. An SPC with secretObjects gets `SecretRotationComplete` from that rotation itself.

use std::time::Duration;

use kvchain::chain::{self, Chain, Status};
use kvchain::source::lab::world::World;
use kvchain::source::lab::{self, export};

const CLUSTER: &str = include_str!("../../assets/scenarios/cluster.yaml");
const SHOP: &str = include_str!("../../assets/scenarios/shop.yaml");
const HEALTHY: &str = include_str!("../../assets/scenarios/healthy.yaml");

/// `nosync` reads one secret through an SPC without secretObjects; the vault firewall goes up
/// at 1m (the 2m poll fails for every chain) and comes down at 3m (the 4m poll succeeds).
const NOSYNC: &str = r#"apiVersion: lab.kvchain.dev/v1
kind: ManagedIdentity
metadata: {name: id-nosync}
spec:
  clientID: 7f7f7f7f-1111-4222-8333-444444444444
  principalID: 8a8a8a8a-1111-4222-8333-444444444444
  tenantID: 5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b
  federatedCredentials:
    - name: fic-nosync
      issuer: https://westeurope.oic.prod-aks.azure.com/5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b/6d8f2a3b-4c5e-4f70-9b1c-2d3e4f5a6b7c/
      subject: system:serviceaccount:shop:nosync
---
apiVersion: lab.kvchain.dev/v1
kind: RoleAssignment
metadata: {name: ra-nosync}
spec:
  principalID: 8a8a8a8a-1111-4222-8333-444444444444
  role: Key Vault Secrets User
  scope: {vault: kv-shop-lab}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: nosync
  namespace: shop
  annotations: {azure.workload.identity/client-id: 7f7f7f7f-1111-4222-8333-444444444444}
---
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata: {name: nosync-kv, namespace: shop}
spec:
  provider: azure
  parameters:
    clientID: 7f7f7f7f-1111-4222-8333-444444444444
    keyvaultName: kv-shop-lab
    tenantId: 5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b
    objects: |
      array:
        - |
          objectName: shipping-api-key
          objectType: secret
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: nosync, namespace: shop}
spec:
  replicas: 1
  selector: {matchLabels: {app: nosync}}
  template:
    metadata: {labels: {app: nosync, azure.workload.identity/use: "true"}}
    spec:
      serviceAccountName: nosync
      containers: [{name: app, image: busybox, volumeMounts: [{name: s, mountPath: /mnt/s, readOnly: true}]}]
      volumes: [{name: s, csi: {driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {secretProviderClass: nosync-kv}}}]
---
apiVersion: lab.kvchain.dev/v1
kind: Timeline
metadata: {name: t}
spec:
  events:
    - at: 1m
      applyFault: {id: vault-firewall}
    - at: 3m
      repairFault: {id: vault-firewall}"#;

fn world() -> World {
    let text = [CLUSTER, SHOP, HEALTHY, NOSYNC].join("\n---\n");
    let sc = lab::scenario::parse("nosync", std::path::Path::new("nosync.yaml"), &text)
        .expect("scenario loads");
    World::new(sc)
}

/// The worst status of the app's chains.
fn status(chains: &[Chain], app: &str) -> Status {
    chains
        .iter()
        .filter(|c| c.pod.starts_with(&format!("{app}-")))
        .map(|c| c.worst())
        .max()
        .expect("the app has chains")
}

#[test]
fn a_repaired_fault_reads_healthy_within_one_poll_after_the_next_successful_rotation() {
    let mut w = world();
    w.advance(Duration::from_secs(150)); // 2m30s: the 2m poll failed for both
    let chains = chain::diagnose(&export::snapshot(&w));
    assert_eq!(status(&chains, "nosync"), Status::Broken);
    assert_eq!(status(&chains, "checkout"), Status::Broken);
    // Repaired at 3m; the 4m poll succeeds. checkout's synced Secret gets its
    // SecretRotationComplete from that poll.
    w.advance(Duration::from_secs(90));
    let chains = chain::diagnose(&export::snapshot(&w));
    assert_eq!(status(&chains, "checkout"), Status::Ok);
    // nosync has no success event to show: one poll after the 4m rotation the failure
    // has not recurred for two poll intervals, and that is history.
    w.advance(Duration::from_secs(120)); // 6m
    let chains = chain::diagnose(&export::snapshot(&w));
    assert_eq!(status(&chains, "nosync"), Status::Ok, "at the 6m poll");
}
