//! KVC703 with rotation on: the mounted version lags the vault's latest and no event says
//! why. codes.yaml KVC703: rotation is "failing silently (e.g. serviceaccounts/token forbidden
//! in the driver log)", fix "… and repair rotation"; FACTS §11: on the AKS add-on it fails
//! silently with `serviceaccounts/token … forbidden` in the driver log. A remount fetches the
//! latest once; the finding must point at the driver log and end with repairing what it names.

use kvchain::chain::testkit::{self as tk, APP};
use kvchain::chain::{Code, Finding, diagnose};
use kvchain::snapshot::*;

use crate::rules_runtime_objects::newer_version_30_minutes_ago;

/// The healthy app with a vault version 30 minutes newer than the one mounted; rotation as
/// given, the driver installed as given.
fn lagging(rotation: bool, install: Option<DriverInstall>) -> Finding {
    let mut s = tk::healthy();
    newer_version_30_minutes_ago(&mut s);
    let Observed::Known(csi) = &mut s.cluster.csi_driver else {
        panic!()
    };
    csi.rotation_enabled = Observed::Known(rotation);
    csi.install = install;
    let chains = diagnose(&s);
    chains
        .iter()
        .flat_map(|c| c.findings())
        .find(|f| f.code == Code::KVC703)
        .cloned()
        .unwrap_or_else(|| panic!("no KVC703: {chains:#?}"))
}

const LOG: &str = "kubectl logs -n kube-system -l app=secrets-store-csi-driver -c secrets-store";

#[test]
fn with_rotation_on_the_confirm_reads_the_driver_log_for_why_rotation_fails() {
    let f = lagging(true, None);
    assert!(f.confirm.contains(LOG), "{}", f.confirm);
    assert!(f.confirm.contains("forbidden"), "{}", f.confirm);
    // Still shows what is mounted.
    assert!(
        f.confirm.contains("secretproviderclasspodstatus"),
        "{}",
        f.confirm
    );
}

#[test]
fn with_rotation_on_the_fix_remounts_then_repairs_what_the_log_names() {
    let f = lagging(true, None);
    // The remount is the command (the SPC syncs a Secret: the pod's owner restarts, audit
    // MM1); the repair follows it.
    let remount = f
        .fix
        .find(&format!("kubectl rollout restart deployment/{APP}"))
        .expect("remount");
    let repair = f
        .fix
        .find("repair rotation")
        .unwrap_or_else(|| panic!("{}", f.fix));
    assert!(remount < repair, "{}", f.fix);
    assert!(f.fix.contains("serviceaccounts/token"), "{}", f.fix);
}

#[test]
fn on_the_aks_add_on_the_repair_names_the_add_on_not_helm() {
    let f = lagging(true, Some(DriverInstall::AksAddon));
    assert!(f.fix.contains("add-on"), "{}", f.fix);
    assert!(!f.fix.contains("helm upgrade"), "{}", f.fix);
    let f = lagging(true, Some(DriverInstall::Helm));
    assert!(f.fix.contains("helm upgrade"), "{}", f.fix);
}

#[test]
fn with_rotation_off_kvc702_owns_the_repair() {
    let f = lagging(false, None);
    assert!(!f.confirm.contains(LOG), "{}", f.confirm);
    assert!(!f.fix.contains("repair rotation"), "{}", f.fix);
}
