//! README "Degrading, not failing": "A 403 makes only that collection unknown … and the links
//! that depend on it show *unknown*, not *broken*" — nor ✓. A check that needs an unread
//! collection is not made, so its link is unknown with the reason, never ok (audit 11, A11-2).

use kvchain::chain::testkit::{self as tk, APP};
use kvchain::chain::{Chain, Code, LinkKind, Status, diagnose};
use kvchain::snapshot::*;

fn codes(chains: &[Chain]) -> Vec<Code> {
    chains
        .iter()
        .flat_map(|c| c.findings())
        .map(|f| f.code)
        .collect()
}

fn says(chain: &Chain, kind: LinkKind, what: &str) -> bool {
    chain
        .link(kind)
        .facts
        .iter()
        .any(|f| format!("{f:?}").contains(what))
}

const DEPLOYMENTS_403: &str = "cannot list deployments in shop: forbidden";

/// The healthy world's Deployment without a Reloader annotation: KVC902 when it can be read.
fn no_reloader() -> Snapshot {
    let mut s = tk::healthy();
    tk::workload_mut(&mut s, "Deployment", APP)
        .annotations
        .clear();
    s
}

#[test]
fn kvc902_is_found_when_the_deployment_is_read() {
    let chains = diagnose(&no_reloader());
    assert!(
        codes(&chains).contains(&Code::KVC902),
        "{:?}",
        codes(&chains)
    );
}

/// The Reloader annotation KVC902 looks for is on the Deployment: workloads unread, whether
/// anything restarts the env reader is unknown, not ✓.
#[test]
fn workloads_unread_make_the_restart_check_unknown_not_ok() {
    let mut s = no_reloader();
    s.workloads = Coll::unknown(DEPLOYMENTS_403);
    let chains = diagnose(&s);
    assert!(!codes(&chains).contains(&Code::KVC902));
    for c in &chains {
        let link = c.link(LinkKind::Consumers);
        assert_eq!(link.status, Status::Unknown, "{link:?}");
        assert_eq!(link.summary, "restart unknown");
        assert!(says(c, LinkKind::Consumers, DEPLOYMENTS_403), "{link:?}");
        assert!(says(c, LinkKind::Consumers, "Deployment/web"), "{link:?}");
    }
}

/// Same in one namespace only (`-n`, or a Role in that namespace): the gap is per namespace.
#[test]
fn workloads_unread_in_the_pods_namespace_only_is_the_same() {
    let mut s = no_reloader();
    s.workloads.items = Items::new();
    s.workloads
        .gaps
        .namespaces
        .insert(tk::NS.into(), DEPLOYMENTS_403.into());
    let chains = diagnose(&s);
    assert!(!chains.is_empty());
    for c in &chains {
        assert_eq!(c.link(LinkKind::Consumers).status, Status::Unknown);
    }
}

/// A pod that reads its Secret only as files needs no restart: nothing unknown there.
#[test]
fn workloads_unread_leave_a_file_reader_ok() {
    let mut s = tk::healthy();
    for pod in s.pods.items.iter_mut() {
        for c in pod.containers.iter_mut() {
            c.env.clear();
            c.env_from_secrets.clear();
        }
    }
    s.workloads = Coll::unknown(DEPLOYMENTS_403);
    for c in &diagnose(&s) {
        assert_ne!(c.link(LinkKind::Consumers).status, Status::Unknown, "{c:?}");
    }
}

const DAEMONSETS_403: &str = "cannot list daemonsets in kube-system: forbidden";

fn csi(s: &mut Snapshot) -> &mut CsiDriverFacts {
    match &mut s.cluster.csi_driver {
        Observed::Known(c) => c,
        Observed::Unknown(_) => panic!("the healthy world knows its driver"),
    }
}

#[test]
fn kvc702_is_found_when_the_driver_is_read() {
    let mut s = tk::healthy();
    csi(&mut s).rotation_enabled = Observed::Known(false);
    assert!(codes(&diagnose(&s)).contains(&Code::KVC702));
}

/// The driver's `--enable-secret-rotation` is read from its kube-system DaemonSet: unread,
/// the Mount link's rotation check is not made, so a mounted volume reads unknown, not ✓.
#[test]
fn driver_daemonsets_unread_make_the_mount_unknown_not_ok() {
    let mut s = tk::healthy();
    csi(&mut s).rotation_enabled = Observed::unknown(DAEMONSETS_403);
    let chains = diagnose(&s);
    assert!(!chains.is_empty());
    for c in &chains {
        let link = c.link(LinkKind::Mount);
        assert_eq!(link.status, Status::Unknown, "{link:?}");
        assert_eq!(link.summary, "rotation unknown");
        assert!(says(c, LinkKind::Mount, DAEMONSETS_403), "{link:?}");
        assert!(
            says(c, LinkKind::Mount, "--enable-secret-rotation"),
            "{link:?}"
        );
    }
}

#[test]
fn driver_facts_unread_altogether_make_the_mount_unknown_too() {
    let mut s = tk::healthy();
    s.cluster.csi_driver = Observed::unknown("cluster facts not listed within 1m");
    for c in &diagnose(&s) {
        assert_eq!(c.link(LinkKind::Mount).status, Status::Unknown, "{c:?}");
    }
}

/// With SecretProviderClasses unread the SPC's `keyvaultName` is unknown, but a FailedMount
/// quotes the request (`GET https://kv-billing.vault.azure.net/…`): KVC601's resource, text
/// and confirm name that vault, never `<keyvaultName>` (audit 11, A11-9).
#[test]
fn kvc601_names_the_vault_its_failed_mount_quotes_when_the_spc_is_unread() {
    let mut s = tk::healthy();
    tk::unmount(&mut s, APP);
    s.spcs = Coll::unknown("cannot list secretproviderclasses in shop: forbidden");
    let pod = tk::pod_name(APP, 0);
    let volume = tk::pod_mut(&mut s, APP)
        .volumes
        .iter()
        .find(|v| matches!(v.source, VolumeSourceObs::Csi { .. }))
        .map(|v| v.name.to_string())
        .expect("a CSI volume");
    s.events.items.push(tk::failed_mount(
        tk::NS,
        &pod,
        &volume,
        "failed to get objectType:secret, objectName:web-db-pass, objectVersion:: GET https://kv-billing.vault.azure.net/secrets/web-db-pass/\n----\nRESPONSE 404: 404 Not Found\nERROR CODE: SecretNotFound\n A secret with (name/id) web-db-pass was not found in this key vault.",
    ));
    let chains = diagnose(&s);
    let f = chains
        .iter()
        .flat_map(|c| c.findings())
        .find(|f| f.code == Code::KVC601)
        .unwrap_or_else(|| panic!("no KVC601: {:?}", codes(&chains)));
    assert_eq!(f.resource, "KeyVault/kv-billing");
    for text in [&*f.message, &*f.confirm, &*f.fix] {
        assert!(!text.contains("<keyvaultName>"), "{text}");
    }
    assert!(
        f.confirm.contains("--vault-name kv-billing"),
        "{}",
        f.confirm
    );
}
