//! KVC107's fix and confirm follow what kube-scheduler said (codes.yaml KVC107 "why": a
//! selector or affinity no node satisfies, a taint not tolerated, too little CPU or memory,
//! or a nodeName of no node), and a FailedScheduling older than a node kvchain now reads
//! says so. A DaemonSet's pods are created only for nodes its template admits (the
//! DaemonSet controller; desiredNumberScheduled 0 means no pod at all), so a selector
//! FailedScheduling is no KVC107 for one.

use jiff::SignedDuration;
use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Chain, Code, Finding, LinkKind, Severity, Status, diagnose};
use kvchain::snapshot::*;

const NODE: &str = "aks-nodepool1-12345678-vmss000000";

pub(crate) fn one(s: &Snapshot) -> Chain {
    let mut chains = diagnose(s);
    assert_eq!(chains.len(), 1, "{chains:#?}");
    chains.remove(0)
}

pub(crate) fn kvc107(c: &Chain) -> &Finding {
    c.findings()
        .find(|f| f.code == Code::KVC107)
        .unwrap_or_else(|| panic!("KVC107 missing: {:#?}", c.links))
}

fn node(name: &str, labels: &[(&str, &str)]) -> NodeObs {
    NodeObs {
        name: name.into(),
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        taints: vec![],
        ..NodeObs::default()
    }
}

/// The app's pod, created `age` ago, Pending with no node, and kube-scheduler's
/// FailedScheduling `message` about it (last seen `seen` ago); the cluster has one node.
fn unschedulable(message: &str, age: SignedDuration, seen: SignedDuration) -> Snapshot {
    let mut s = tk::healthy();
    s.cluster.nodes = Observed::Known(vec![node(NODE, &[("kubernetes.io/os", "linux")])]);
    let uid = crate::rules_pending::pending(&mut s, age);
    s.events.items.push(EventObs {
        namespace: NS.into(),
        involved_kind: "Pod".into(),
        involved_name: tk::pod_name(APP, 0).into(),
        involved_uid: uid,
        type_: "Warning".into(),
        reason: "FailedScheduling".into(),
        message: message.into(),
        count: 3,
        source: "default-scheduler".into(),
        last_seen: Some(tk::ago(seen)),
        first_seen: None,
    });
    s
}

pub(crate) fn recent(message: &str) -> Snapshot {
    unschedulable(
        message,
        SignedDuration::from_secs(40),
        SignedDuration::from_secs(5),
    )
}

const CPU: &str = "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.";
const SELECTOR: &str = "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.";
const TAINT: &str = "0/1 nodes are available: 1 node(s) had untolerated taint {sku: gpu}. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.";

/// N12: every node lacks CPU: the pod's requests or the nodes' size, not its selectors.
#[test]
fn insufficient_resources_get_a_resources_fix() {
    let c = one(&recent(CPU));
    let f = kvc107(&c);
    assert_eq!(f.severity, Severity::Warning);
    assert!(
        f.fix.contains("resources.requests") && !f.fix.contains("nodeSelector"),
        "{}",
        f.fix
    );
    assert!(!f.fix.contains("nodeName"), "no nodeName here: {}", f.fix);
    assert!(f.confirm.contains("FailedScheduling"), "{}", f.confirm);
}

#[test]
fn a_selector_mismatch_gets_a_labels_fix_and_a_taint_a_toleration_fix() {
    let c = one(&recent(SELECTOR));
    let f = kvc107(&c);
    assert!(
        f.fix.contains("nodeSelector")
            && !f.fix.contains("toleration")
            && !f.fix.contains("nodeName"),
        "{}",
        f.fix
    );
    let c = one(&recent(TAINT));
    let f = kvc107(&c);
    assert!(
        f.fix.contains("toleration") && f.fix.contains("sku") && !f.fix.contains("nodeSelector"),
        "{}",
        f.fix
    );
}

/// N12: a pod bound by nodeName never meets the scheduler: nothing to grep for.
#[test]
fn a_node_name_of_no_node_confirms_with_the_nodes_not_a_scheduler_event() {
    let mut s = tk::healthy();
    tk::unmount(&mut s, APP);
    tk::pod_mut(&mut s, APP).node = Some("aks-gpu-00000000-vmss000009".into());
    s.cluster.nodes = Observed::Known(vec![node(NODE, &[("kubernetes.io/os", "linux")])]);
    let c = one(&s);
    let f = kvc107(&c);
    assert_eq!(f.severity, Severity::Error);
    assert!(!f.confirm.contains("FailedScheduling"), "{}", f.confirm);
    assert!(f.confirm.contains("kubectl get nodes"), "{}", f.confirm);
}

/// N12: the only FailedScheduling saw one node ("0/1"), 6 minutes ago; kvchain now reads two
/// (a pool was added since). The event predates the new node: the scheduler's next retry
/// tells; a warning, not the error of a pod stuck for minutes, and no "add that pool".
#[test]
fn a_failed_scheduling_older_than_a_node_now_read_says_it_predates_it() {
    let mut s = unschedulable(
        SELECTOR,
        SignedDuration::from_mins(6),
        SignedDuration::from_mins(6),
    );
    if let Observed::Known(nodes) = &mut s.cluster.nodes {
        nodes.push(node(
            "aks-gpu-0",
            &[("kubernetes.io/os", "linux"), ("agentpool", "gpu")],
        ));
    }
    let c = one(&s);
    let f = kvc107(&c);
    assert_eq!(f.severity, Severity::Warning, "{f:#?}");
    assert!(f.message.contains("predates"), "{}", f.message);
    assert!(!f.fix.contains("add "), "the pool is there: {}", f.fix);
    assert_eq!(c.link(LinkKind::Pod).status, Status::Warning);
    // The same event with no node added: still an error after 5 minutes.
    let s = unschedulable(
        SELECTOR,
        SignedDuration::from_mins(6),
        SignedDuration::from_mins(6),
    );
    assert_eq!(kvc107(&one(&s)).severity, Severity::Error);
}

/// N10: a DaemonSet's pod is created for a node its template admits; a selector or taint
/// FailedScheduling cannot be its story (the DaemonSet controller would not have made it):
/// no KVC107.
#[test]
fn a_daemonset_pod_is_not_flagged_for_a_selector_the_controller_already_matched() {
    for message in [SELECTOR, TAINT] {
        let mut s = recent(message);
        tk::pod_mut(&mut s, APP).owners = vec![tk::owner("DaemonSet", APP)];
        let c = one(&s);
        assert!(
            !c.findings().any(|f| f.code == Code::KVC107),
            "{:#?}",
            c.links
        );
    }
}

/// Q5: kube-scheduler writes a taint as `{<key>: <value>}` (codes.yaml KVC107 upstream); the
/// fix names both and gives a toleration that matches it, not a fragment of the braces.
#[test]
fn a_taint_fix_keeps_the_key_and_value_as_a_toleration() {
    const DEDICATED: &str = "0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: infra}. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.";
    let c = one(&recent(DEDICATED));
    let f = kvc107(&c);
    assert!(
        f.fix
            .contains("{key: dedicated, operator: Equal, value: infra}"),
        "{}",
        f.fix
    );
    assert!(!f.fix.contains("{dedicated ("), "garbled: {}", f.fix);
    // A taint without value is tolerated with Exists.
    const NOVALUE: &str = "0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: }. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.";
    let f = kvc107(&one(&recent(NOVALUE))).fix.to_string();
    assert!(f.contains("{key: dedicated, operator: Exists}"), "{f}");
}

/// Q5: `node.kubernetes.io/*` condition taints are put on by the node lifecycle controller on
/// a node that is down, not ready or under pressure; tolerating them would place the pod on a
/// sick node. The fix is the node's health, and the resources part still stands.
#[test]
fn a_node_condition_taint_points_at_the_node_not_a_toleration() {
    const UNREACH: &str = "0/1 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.";
    let c = one(&recent(UNREACH));
    let f = kvc107(&c);
    assert!(!f.fix.contains("toleration"), "{}", f.fix);
    assert!(
        f.fix.contains("node.kubernetes.io/unreachable"),
        "{}",
        f.fix
    );
    assert!(f.fix.contains("kubectl describe node"), "{}", f.fix);
    assert!(f.fix.contains("resources.requests"), "{}", f.fix);
}

/// Q5: "node(s) were unschedulable" is a cordoned node (spec.unschedulable): uncordon it or
/// add a node, not the generic "make everything fit".
#[test]
fn a_cordoned_node_gets_an_uncordon_fix() {
    const CORDONED: &str = "0/1 nodes are available: 1 node(s) were unschedulable. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.";
    let f = kvc107(&one(&recent(CORDONED))).fix.to_string();
    assert!(f.contains("kubectl uncordon"), "{f}");
    assert!(!f.contains("tolerations"), "{f}");
}
