//! KVC104 on a cluster whose driver is installed (audit L2). FACTS §11 "Nodes": "A pod on a
//! node without a registered driver gets `driver name secrets-store.csi.k8s.io not found in
//! the list of registered CSI drivers` … Presence is per node, not per cluster." With the
//! CSIDriver registered and the provider running, the fix is about the pod's node (its
//! DaemonSet pods, named as the install names them: FACTS §4 for the add-on's), never an
//! install of what is installed (`az aks enable-addons` on an enabled add-on) and never empty.
//! README "Finding codes": a `confirm` and a `fix` command with the real names filled in.

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Code, Finding, diagnose};
use kvchain::snapshot::*;

const NODE: &str = "aks-nodepool1-12345678-vmss000000";
const NOT_REGISTERED: &str = "MountVolume.SetUp failed for volume \"secrets-store-inline\" : kubernetes.io/csi: mounter.SetUpAt failed to get CSI client: driver name secrets-store.csi.k8s.io not found in the list of registered CSI drivers";

fn csi(s: &mut Snapshot) -> &mut CsiDriverFacts {
    match &mut s.cluster.csi_driver {
        Observed::Known(c) => c,
        Observed::Unknown(_) => panic!("testkit knows the driver"),
    }
}

/// The app's pod failing now with "driver not registered"; driver and provider installed;
/// the nodes not read (so nothing shows whether the DaemonSets run on the pod's node).
fn failing(install: DriverInstall) -> Snapshot {
    let mut s = tk::healthy();
    tk::unmount(&mut s, APP);
    let mut e = tk::failed_mount(NS, &tk::pod_name(APP, 0), "secrets-store-inline", "x");
    e.message = NOT_REGISTERED.into();
    s.events.items.push(e);
    csi(&mut s).install = Some(install);
    s
}

fn kvc104(s: &Snapshot) -> Finding {
    diagnose(s)
        .iter()
        .flat_map(|c| c.findings())
        .find(|f| f.code == Code::KVC104)
        .cloned()
        .expect("KVC104 from the event")
}

#[test]
fn addon_installed_fix_is_about_the_node_not_enabling_the_addon() {
    let f = kvc104(&failing(DriverInstall::AksAddon));
    assert!(!f.fix.contains("enable-addons"), "{}", f.fix);
    assert!(
        f.confirm.contains(&format!(
            "kubectl get pods -n kube-system -o wide --field-selector spec.nodeName={NODE}"
        )) && f.confirm.contains("aks-secrets-store-csi-driver"),
        "{}",
        f.confirm
    );
    assert!(
        f.fix.contains(
            "kubectl rollout status daemonset/aks-secrets-store-csi-driver -n kube-system"
        ) && f.fix.contains("daemonset/aks-secrets-store-provider-azure")
            && f.fix.contains(NODE),
        "{}",
        f.fix
    );
}

/// Helm with both driver and provider seen: nothing to install, so the install fix was empty.
/// The DaemonSets are named as observed; with none observed the pods are found by node.
#[test]
fn helm_installed_fix_is_never_empty_and_names_the_node() {
    let mut s = failing(DriverInstall::Helm);
    let f = kvc104(&s);
    assert!(!f.fix.trim().is_empty());
    assert!(!f.fix.contains("helm upgrade --install"), "{}", f.fix);
    assert!(
        f.fix
            .contains(&format!("-A -o wide --field-selector spec.nodeName={NODE}")),
        "{}",
        f.fix
    );
    csi(&mut s).placement = Observed::Known(vec![
        PlacementObs {
            daemonset: "kube-system/csi-secrets-store-secrets-store-csi-driver".into(),
            ..PlacementObs::default()
        },
        PlacementObs {
            daemonset: "kube-system/csi-secrets-store-provider-azure".into(),
            provider: true,
            ..PlacementObs::default()
        },
    ]);
    let f = kvc104(&s);
    assert!(
        f.fix.contains(
            "kubectl rollout status daemonset/csi-secrets-store-secrets-store-csi-driver -n kube-system"
        ),
        "{}",
        f.fix
    );
    assert!(
        f.confirm.contains(&format!("spec.nodeName={NODE}")),
        "{}",
        f.confirm
    );
}

/// What the node fix is not for: a driver that is not registered anywhere is installed.
#[test]
fn an_unregistered_driver_is_still_installed() {
    let mut s = failing(DriverInstall::AksAddon);
    csi(&mut s).installed = false;
    let f = kvc104(&s);
    assert!(
        crate::xd_paste::after_guards(&f.fix).starts_with("az aks enable-addons"),
        "{}",
        f.fix
    );
}
