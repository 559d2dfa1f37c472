//! Audit XC-paste: every command kvchain prints works when pasted. Each test asserts a command
//! in the form the CLI it calls documents, for the world that produced it.
//!
//! The AKS add-on's driver flags: the Azure CLI reference lists `az aks addon` under the
//! aks-preview extension ("This reference is part of the aks-preview extension"), not the
//! Azure CLI itself; `az aks update` carries `--enable-secret-rotation` and
//! `--rotation-poll-interval` ("Use with azure-keyvault-secrets-provider addon") in the CLI as
//! installed (azure-cli 2.91: `az aks addon update` answers "'addon' is misspelled or not
//! recognized by the system").

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Code, Finding};
use kvchain::snapshot::*;
use serde_json::Value;

use crate::iii_paste::check_json;
use crate::rules_runtime::{csi, run};

/// The `code` finding's fix in `check` output `r`.
fn fix_of<'r>(r: &'r Value, code: &str) -> &'r str {
    (r["findings"].as_array().unwrap().iter())
        .find(|f| f["code"] == code)
        .and_then(|f| f["fix"].as_str())
        .unwrap_or_else(|| panic!("no {code}: {r:#}"))
}

/// XC1: the built-in `rotation-disabled` lab, its driver the AKS add-on with rotation off:
/// KVC702's fix turns rotation on with the Azure CLI's own `az aks update`, naming the lab's
/// cluster and its resource group.
#[test]
fn the_add_ons_rotation_is_turned_on_by_a_command_of_the_azure_cli_itself() {
    let r = check_json(&["--lab", "rotation-disabled"]);
    let fix = fix_of(&r, "KVC702");
    assert!(
        fix.starts_with("az aks update -g rg-kvchain-lab -n aks-shop-lab --enable-secret-rotation"),
        "{fix}"
    );
    assert!(!fix.contains("az aks addon"), "{fix}");
}

/// Rotation on, the add-on's driver polling every `poll_secs`, 24 pods on 24 nodes throttled
/// by Key Vault: the load is spread, so KVC704's fix lengthens the interval (rules_throttling).
fn throttled_add_on(install: Option<DriverInstall>) -> Finding {
    let mut s = tk::empty();
    tk::add_app(&mut s, NS, APP, 24);
    for (i, p) in s.pods.items.iter_mut().enumerate() {
        p.node = Some(format!("aks-nodepool1-12345678-vmss{i:06}").into());
    }
    csi(&mut s).rotation_enabled = Observed::Known(true);
    csi(&mut s).rotation_poll_interval = std::time::Duration::from_secs(120);
    csi(&mut s).install = install;
    let pod = tk::pod_name(APP, 0);
    s.events.items.push(EventObs {
        reason: "MountRotationFailed".into(),
        source: "csi-secrets-store-rotation".into(),
        message: format!(
            "provider mount err: failed to mount objects, error: failed to get objectType:secret, objectName:web-db-pass, objectVersion:: GET https://kv-shop.vault.azure.net/secrets/web-db-pass/\n--------\nRESPONSE 429: 429 Too Many Requests for spc {NS}/{}",
            tk::spc_name(APP)
        ),
        ..tk::failed_mount(NS, &pod, "secrets-store-inline", "")
    });
    (run(&s).iter().flat_map(|c| c.findings()))
        .find(|f| f.code == Code::KVC704)
        .cloned()
        .expect("KVC704")
}

/// XC2: the add-on's poll interval is set by `az aks update … --rotation-poll-interval`, the
/// same command whether the install method was seen (the add-on) or not (then beside Helm's).
#[test]
fn the_add_ons_poll_interval_is_set_by_a_command_of_the_azure_cli_itself() {
    for install in [Some(DriverInstall::AksAddon), None] {
        let f = throttled_add_on(install);
        assert!(
            f.fix.contains(
                "az aks update -g \"$CLUSTER_RG\" -n \"$CLUSTER\" --enable-secret-rotation --rotation-poll-interval 10m"
            ),
            "{install:?}: {}",
            f.fix
        );
        assert!(!f.fix.contains("az aks addon"), "{install:?}: {}", f.fix);
    }
}
