//! The lab's `csiDriver.enableSecretRotation` default (audit X6). FACTS §4: "Flags:
//! `--enable-secret-rotation` (default false)", and the AKS add-on turns it on only with
//! `az aks update … --enable-secret-rotation`. A scenario whose Cluster leaves it out
//! gets no rotation: a new vault version reaches neither the mounted file nor the synced
//! Secret, so an env reader's value does not change under it (no KVC901), and the diagnosis
//! says rotation is off (KVC702).

use std::path::Path;
use std::time::Duration;

use kvchain::chain::{self, Code};
use kvchain::source::lab::world::World;
use kvchain::source::lab::{export, scenario};

use crate::lab_nodes::{CLUSTER, HEALTHY, SHOP};

const ENV_STALE: &str = include_str!("../../assets/scenarios/env-stale.yaml");

#[test]
fn a_cluster_that_does_not_set_rotation_has_none() {
    let cluster = CLUSTER.replace("    enableSecretRotation: true\n", "");
    assert_ne!(cluster, CLUSTER);
    let docs = [cluster.as_str(), SHOP, HEALTHY, ENV_STALE].join("\n---\n");
    let sc = scenario::parse("default-rotation", Path::new("d.yaml"), &docs).expect("loads");
    assert!(!sc.cluster.csi_driver.enable_secret_rotation);
    let mut w = World::new(sc);
    // env-stale writes a new version at 1m; two poll intervals later nothing moved.
    w.advance(Duration::from_secs(6 * 60));
    let codes: Vec<Code> = chain::diagnose(&export::snapshot(&w))
        .iter()
        .flat_map(|c| c.findings().map(|f| f.code).collect::<Vec<_>>())
        .collect();
    assert!(codes.contains(&Code::KVC702), "{codes:?}");
    assert!(!codes.contains(&Code::KVC901), "{codes:?}");
}
