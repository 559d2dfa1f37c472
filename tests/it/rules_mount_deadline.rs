//! The kubelet's own deadline on the mount (audit O4): `MountVolume.SetUp failed for volume
//! "…" : rpc error: code = DeadlineExceeded desc = context deadline exceeded`, the title of
//! AKV#1063, which names no host. FACTS §11 Network: a vault behind a private endpoint without
//! its private DNS zone linked, or a mistyped vault name, shows as `context deadline
//! exceeded`, not as a 403/404 — a network cause of the SPC's vault, never "no rule explains".

use kvchain::chain::Code;
use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::snapshot::*;

use super::rules_runtime::{all, codes, only, run};

fn deadline(s: &mut Snapshot) {
    tk::unmount(s, APP);
    let mut e = tk::failed_mount(NS, &tk::pod_name(APP, 0), "secrets-store-inline", "");
    e.message = "MountVolume.SetUp failed for volume \"secrets-store-inline\" : rpc error: code = DeadlineExceeded desc = context deadline exceeded".into();
    s.events.items.push(e);
}

#[test]
fn a_private_endpoint_vault_is_the_private_dns_cause() {
    let mut s = tk::healthy();
    // Public access off, a private endpoint for the cluster (its DNS zone not read).
    let network = &mut tk::vault_mut(&mut s, NS).network;
    network.public_access = false;
    network.cluster_allowed = Observed::Known(true);
    deadline(&mut s);
    let chains = run(&s);
    assert!(
        !codes(&chains).contains(&Code::KVC701),
        "{:#?}",
        all(&chains)
    );
    let f = only(&chains, Code::KVC505);
    assert!(f.message.contains("private DNS zone"), "{}", f.message);
    assert!(
        f.fix.contains("privatelink.vaultcore.azure.net"),
        "{}",
        f.fix
    );
}

#[test]
fn a_vault_name_no_vault_has_is_kvc506_with_the_near_name() {
    let mut s = tk::healthy();
    let vault = tk::vault_name(NS);
    let typo = format!("{vault}x");
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters.insert("keyvaultName".into(), typo.clone());
    tk::reparse(spc);
    deadline(&mut s);
    let chains = run(&s);
    assert!(
        !codes(&chains).contains(&Code::KVC701),
        "{:#?}",
        all(&chains)
    );
    let f = only(&chains, Code::KVC506);
    assert!(
        f.message.contains(&typo) && f.message.contains(&format!("did you mean {vault}?")),
        "{}",
        f.message
    );
    assert!(
        f.fix
            .ends_with(&format!("parameters.keyvaultName: {vault}")),
        "{}",
        f.fix
    );
}
