//! A mount failure about the Pod link over objects kvchain reads and now finds right (audit
//! L1). FACTS §3 gives the shapes: `failed to get secretproviderclass <ns>/<spc>, error: …
//! "<spc>" not found`, `driver name secrets-store.csi.k8s.io not found in the list of
//! registered CSI drivers`, `token for audience <a> not found`. FACTS §11 "Evidence ages":
//! events are history, and each of these causes can be repaired between the failure and the
//! observation (an SPC applied after its Deployment, a node the driver's DaemonSet pod had not
//! registered on yet — "presence is per node" —, a CSIDriver updated). README "Finding codes":
//! "A failure event on a link whose objects kvchain reads and finds right (a repair not yet
//! retried) says so, and proposes nothing to create."

use kvchain::chain::testkit::{self as tk, APP, AUDIENCE, NS};
use kvchain::chain::{CONTRADICTED, Chain, Code, Finding, LinkKind, Severity, Status, diagnose};
use kvchain::snapshot::*;

const NODE: &str = "aks-nodepool1-12345678-vmss000000";

fn one(s: &Snapshot) -> Chain {
    let mut chains = diagnose(s);
    assert_eq!(chains.len(), 1);
    chains.remove(0)
}

fn csi(s: &mut Snapshot) -> &mut CsiDriverFacts {
    match &mut s.cluster.csi_driver {
        Observed::Known(c) => c,
        Observed::Unknown(_) => panic!("testkit knows the driver"),
    }
}

/// The app's pod, not mounted, with a current kubelet FailedMount carrying `message`.
fn failing(message: String) -> Snapshot {
    let mut s = tk::healthy();
    tk::unmount(&mut s, APP);
    let mut e = tk::failed_mount(NS, &tk::pod_name(APP, 0), "secrets-store-inline", "x");
    e.message = message;
    s.events.items.push(e);
    s
}

/// One Linux node (NODE) with `taints`, and the AKS add-on's two DaemonSets placed on Linux
/// nodes.
pub(crate) fn addon_on_linux_node(s: &mut Snapshot, taints: Vec<TaintObs>) {
    let linux = || [("kubernetes.io/os".to_string(), "linux".to_string())].into();
    s.cluster.nodes = Observed::Known(vec![NodeObs {
        name: NODE.into(),
        labels: linux(),
        taints,
        ..NodeObs::default()
    }]);
    let set = |name: &str, provider: bool| PlacementObs {
        daemonset: format!("kube-system/{name}"),
        provider,
        node_selector: linux(),
        ..PlacementObs::default()
    };
    csi(s).install = Some(DriverInstall::AksAddon);
    csi(s).placement = Observed::Known(vec![
        set("aks-secrets-store-csi-driver", false),
        set("aks-secrets-store-provider-azure", true),
    ]);
}

fn finding(c: &Chain, code: Code) -> Finding {
    c.findings()
        .find(|f| f.code == code)
        .unwrap_or_else(|| panic!("{code} in {:#?}", c.links))
        .clone()
}

/// The finding says the attempt failed and the objects look right now: still an error (the
/// failure is current), nothing to create, the event kept as evidence.
fn assert_contradicted(c: &Chain, code: Code) -> Finding {
    let f = finding(c, code);
    assert_eq!(f.severity, Severity::Error, "a failed attempt is current");
    assert!(f.message.contains("looks right now"), "{}", f.message);
    assert!(f.fix.starts_with("# nothing to change"), "{}", f.fix);
    assert!(
        f.evidence.iter().any(|e| e.starts_with("FailedMount")),
        "{f:#?}"
    );
    assert_eq!(c.link(LinkKind::Pod).summary, CONTRADICTED);
    f
}

fn spc_not_found() -> String {
    let spc = tk::spc_name(APP);
    format!(
        "MountVolume.SetUp failed for volume \"secrets-store-inline\" : rpc error: code = Unknown desc = failed to get secretproviderclass {NS}/{spc}, error: secretproviderclasses.secrets-store.csi.x-k8s.io \"{spc}\" not found"
    )
}

const NOT_REGISTERED: &str = "MountVolume.SetUp failed for volume \"secrets-store-inline\" : kubernetes.io/csi: mounter.SetUpAt failed to get CSI client: driver name secrets-store.csi.k8s.io not found in the list of registered CSI drivers";

/// The SPC is read in the pod's namespace now: the FailedMount that did not find it predates
/// it (a Deployment applied before its SPC). No `kubectl apply` of what exists, no `<file…>`.
#[test]
fn spc_not_found_while_the_spc_exists_in_the_pods_namespace_failed_now_looks_right() {
    let s = failing(spc_not_found());
    let f = assert_contradicted(&one(&s), Code::KVC101);
    assert!(
        !f.fix.contains("kubectl apply") && !f.fix.contains('<'),
        "{}",
        f.fix
    );
    // The SPC really missing: the rule reading the objects owns the symptom, with its fix.
    let mut s = failing(spc_not_found());
    s.spcs.items.clear();
    let c = one(&s);
    let f = finding(&c, Code::KVC101);
    assert_ne!(c.link(LinkKind::Pod).summary, CONTRADICTED);
    assert!(!f.fix.starts_with("# nothing to change"), "{}", f.fix);
    assert_eq!(c.link(LinkKind::Pod).status, Status::Broken);
}

/// Driver installed, provider running, the pod's node known and admitted by both DaemonSets:
/// where a driver pod may run, not that one runs there and is registered (FACTS §11
/// "Presence is per node"), so the failure stands (audit N2) — with the node's fix: enabling
/// the add-on, which is enabled, does nothing.
#[test]
fn driver_not_registered_on_a_node_the_daemonsets_admit_stays_a_per_node_failure() {
    let mut s = failing(NOT_REGISTERED.into());
    addon_on_linux_node(&mut s, vec![]);
    let c = one(&s);
    let f = finding(&c, Code::KVC104);
    assert_ne!(c.link(LinkKind::Pod).summary, CONTRADICTED);
    assert!(!f.fix.starts_with("# nothing to change"), "{}", f.fix);
    assert!(!f.fix.contains("enable-addons"), "{}", f.fix);
    assert!(
        f.confirm.contains(&format!("spec.nodeName={NODE}")),
        "the node's driver pods: {}",
        f.confirm
    );
    // The node tainted against the DaemonSets: they cannot run there, the rule that reads
    // placement says so (not contradicted).
    if let Observed::Known(nodes) = &mut s.cluster.nodes {
        nodes[0].taints.push(TaintObs {
            key: "sku".into(),
            value: "gpu".into(),
            effect: "NoSchedule".into(),
        });
    }
    let c = one(&s);
    let f = finding(&c, Code::KVC104);
    assert_ne!(c.link(LinkKind::Pod).summary, CONTRADICTED);
    assert!(!f.fix.starts_with("# nothing to change"), "{}", f.fix);
    // The nodes not read: nothing says the driver is there, the event stands.
    let mut s = failing(NOT_REGISTERED.into());
    csi(&mut s).install = Some(DriverInstall::AksAddon);
    let c = one(&s);
    assert_ne!(c.link(LinkKind::Pod).summary, CONTRADICTED);
}

/// The CSIDriver's tokenRequests list the audience the event says had no token: it was
/// updated after the failure (FACTS §4, §5). No "update the add-on" for what is there.
#[test]
fn no_token_for_an_audience_the_csidriver_requests_failed_now_looks_right() {
    let cause = format!(
        "failed to get objectType:secret, objectName:{}, objectVersion:: failed to get service account token: token for audience {AUDIENCE} not found",
        tk::object_name(APP)
    );
    let wrapped = |s: &Snapshot| s.events.items[0].message.clone();
    let mut s = tk::healthy();
    tk::unmount(&mut s, APP);
    s.events.items.push(tk::failed_mount(
        NS,
        &tk::pod_name(APP, 0),
        "secrets-store-inline",
        &cause,
    ));
    assert!(wrapped(&s).contains("token for audience"));
    csi(&mut s).install = Some(DriverInstall::AksAddon);
    let f = assert_contradicted(&one(&s), Code::KVC105);
    assert!(!f.fix.contains("az aks upgrade"), "{}", f.fix);
    // The CSIDriver without it: the rule reading it owns the symptom and its fix.
    csi(&mut s).token_audiences = Observed::Known(vec!["api://AKSIdentityBinding".into()]);
    let c = one(&s);
    let f = finding(&c, Code::KVC105);
    assert_ne!(c.link(LinkKind::Pod).summary, CONTRADICTED);
    assert!(!f.fix.starts_with("# nothing to change"), "{}", f.fix);
}

/// A KVC105 known from the event alone names the audience the event names, in its message
/// and its fix: "requests no token for :" named none (audit L1). Here the SPC reads no token
/// any more (the VM's identity), so no rule reading the objects owns the event, and the
/// CSIDriver requests none.
#[test]
fn a_kvc105_from_the_event_names_its_audience_in_the_fix() {
    let cause =
        format!("failed to get service account token: token for audience {AUDIENCE} not found");
    let mut s = tk::healthy();
    tk::unmount(&mut s, APP);
    s.events.items.push(tk::failed_mount(
        NS,
        &tk::pod_name(APP, 0),
        "secrets-store-inline",
        &cause,
    ));
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters
        .insert("useVMManagedIdentity".into(), "true".into());
    tk::reparse(spc);
    csi(&mut s).token_audiences = Observed::Known(vec![]);
    csi(&mut s).install = Some(DriverInstall::AksAddon);
    let f = finding(&one(&s), Code::KVC105);
    assert!(!f.fix.contains("for :"), "{}", f.fix);
    assert!(
        f.fix.contains(&format!("requests no token for {AUDIENCE}")),
        "{}",
        f.fix
    );
}
