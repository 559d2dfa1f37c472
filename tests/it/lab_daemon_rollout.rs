//! A lab DaemonSet's update, as Kubernetes documents it ("Perform a Rolling Update on a
//! DaemonSet"): RollingUpdate is the default strategy, with maxUnavailable 1 and maxSurge 0, so
//! after a template change (a `kubectl rollout restart` too) the old pods are killed and new
//! ones made node by node, at most maxUnavailable nodes without an available pod at once, each
//! next node only once the new pod is available; a template that never becomes available
//! stops the update at its first node. maxSurge makes the new pod beside the old one, which
//! goes once the new one is available. OnDelete replaces a pod only when it is deleted.

use std::collections::BTreeMap;
use std::time::Duration;

use kvchain::source::lab::world::{Stage, Workload, World};

use crate::lab_daemonset::{POOL_B, daemonset};
use crate::lab_nodes::healthy_with;

const POOL_C: &str = "apiVersion: v1\nkind: Node\nmetadata:\n  name: aks-poolc-0000-vmss000000\n  labels: {kubernetes.io/os: linux, pool: c}\n";

/// DaemonSet agent on three nodes with `strategy` (spec lines indented two spaces), run until
/// every node runs its pod.
pub(crate) fn agent(strategy: &str) -> World {
    let ds = daemonset("").replacen(
        "spec:\n  selector:",
        &format!("spec:\n{strategy}  selector:"),
        1,
    );
    assert!(ds.contains(strategy), "{ds}");
    let mut w = healthy_with(&[&ds, POOL_B, POOL_C]);
    w.run_until_stable(Duration::from_secs(3600));
    let nodes = on_nodes(&w);
    assert_eq!(nodes.len(), 3, "{nodes:?}");
    assert!(
        nodes
            .values()
            .all(|p| p.len() == 1 && p[0].1 == Stage::Running),
        "{nodes:?}"
    );
    w
}

/// A pod of agent: (uid, stage, controller-revision-hash).
pub(crate) type Pod = (String, Stage, String);

/// Agent's pods by node.
pub(crate) fn on_nodes(w: &World) -> BTreeMap<String, Vec<Pod>> {
    let mut nodes: BTreeMap<String, Vec<Pod>> = BTreeMap::new();
    for p in w.pods.values().filter(|p| p.name().starts_with("agent-")) {
        let node = p.spec.as_ref().and_then(|s| s.node_name.clone());
        let rev = p.labels.get("controller-revision-hash").cloned();
        nodes.entry(node.expect("bound")).or_default().push((
            p.uid().to_string(),
            p.stage,
            rev.unwrap_or_default(),
        ));
    }
    nodes
}

/// Nodes without a pod of agent Running (terminating ones serve nothing).
fn down(w: &World, nodes: &[String]) -> usize {
    let on = on_nodes(w);
    nodes
        .iter()
        .filter(|n| {
            on.get(*n)
                .is_none_or(|p| p.iter().all(|p| p.1 != Stage::Running))
        })
        .count()
}

/// What the update did, watched second by second for `secs`: the most nodes down at once,
/// the seconds at which each old pod was deleted, and the most pods one node had.
fn watch(w: &mut World, old: &[String], secs: u64) -> (usize, Vec<u64>, usize) {
    let nodes: Vec<String> = on_nodes(w).into_keys().collect();
    let (mut most_down, mut deleted, mut most_on_a_node) = (0, BTreeMap::new(), 0);
    for t in 0..secs {
        w.advance(Duration::from_secs(1));
        most_down = most_down.max(down(w, &nodes));
        let on = on_nodes(w);
        most_on_a_node = most_on_a_node.max(on.values().map(Vec::len).max().unwrap_or(0));
        for uid in old {
            let alive = on
                .values()
                .flatten()
                .any(|p| p.0 == *uid && p.1 != Stage::Terminating);
            if !alive {
                deleted.entry(uid.clone()).or_insert(t);
            }
        }
    }
    (most_down, deleted.into_values().collect(), most_on_a_node)
}

pub(crate) fn uids(w: &World) -> Vec<String> {
    on_nodes(w).into_values().flatten().map(|p| p.0).collect()
}

/// The default: one node at a time, never two down, each old pod deleted in its own second
/// (the next only after a new pod runs), and every node ends on the new template.
#[test]
fn a_rollout_restart_replaces_the_pods_node_by_node() {
    for strategy in ["", "  updateStrategy: {type: RollingUpdate}\n"] {
        let mut w = agent(strategy);
        let old = uids(&w);
        let revision = on_nodes(&w).values().next().unwrap()[0].2.clone();
        w.rollout_restart("DaemonSet", "shop", "agent").unwrap();
        let (most_down, mut deleted, _) = watch(&mut w, &old, 600);
        assert_eq!(most_down, 1, "one node at a time ({strategy:?})");
        deleted.sort();
        deleted.dedup();
        assert_eq!(deleted.len(), 3, "each in its own turn: {deleted:?}");
        for pods in on_nodes(&w).values() {
            assert_eq!(pods.len(), 1, "{pods:?}");
            let (uid, stage, rev) = &pods[0];
            assert!(!old.contains(uid) && *stage == Stage::Running && *rev != revision);
        }
    }
}

/// maxUnavailable 2: two nodes go together, never all three.
#[test]
fn max_unavailable_lets_that_many_nodes_go_at_once() {
    let mut w = agent("  updateStrategy:\n    rollingUpdate: {maxUnavailable: 2}\n");
    let old = uids(&w);
    w.rollout_restart("DaemonSet", "shop", "agent").unwrap();
    let (most_down, _, _) = watch(&mut w, &old, 600);
    assert_eq!(most_down, 2);
    assert!(uids(&w).iter().all(|u| !old.contains(u)), "all replaced");
}

/// A new template whose pod never runs (its env names a Secret that does not exist) stops the
/// update at its first node: the other two keep their old pods.
#[test]
fn a_template_that_never_becomes_available_stops_at_the_first_node() {
    let mut w = agent("");
    let old = uids(&w);
    let key = (
        "DaemonSet".to_string(),
        "shop".to_string(),
        "agent".to_string(),
    );
    let mut ds = w.workloads[&key].clone();
    let Workload::DaemonSet(d) = &mut ds else {
        panic!("a DaemonSet")
    };
    let spec = d.spec.as_mut().unwrap().template.spec.as_mut().unwrap();
    spec.containers[0].env = Some(vec![
        serde_json::from_value(serde_json::json!({
            "name": "P", "valueFrom": {"secretKeyRef": {"name": "nope", "key": "k"}}
        }))
        .unwrap(),
    ]);
    w.add_workload(ds);
    w.advance(Duration::from_secs(600));
    let now = uids(&w);
    assert_eq!(
        old.iter().filter(|u| now.contains(u)).count(),
        2,
        "two old pods kept"
    );
    let stuck: Vec<Pod> = on_nodes(&w)
        .into_values()
        .flatten()
        .filter(|p| !old.contains(&p.0))
        .collect();
    assert_eq!(stuck.len(), 1, "{stuck:?}");
    assert_eq!(stuck[0].1, Stage::Configuring);
}

/// maxSurge 1 (maxUnavailable 0): every node keeps a running pod throughout; the new one
/// comes up beside the old.
#[test]
fn max_surge_makes_the_new_pod_before_the_old_goes() {
    let mut w = agent("  updateStrategy:\n    rollingUpdate: {maxUnavailable: 0, maxSurge: 1}\n");
    let old = uids(&w);
    w.rollout_restart("DaemonSet", "shop", "agent").unwrap();
    let (most_down, deleted, most_on_a_node) = watch(&mut w, &old, 600);
    assert_eq!(most_down, 0, "never a node without a running pod");
    assert_eq!(most_on_a_node, 2, "old and new side by side");
    assert_eq!(deleted.len(), 3);
    assert!(uids(&w).iter().all(|u| !old.contains(u)), "all replaced");
}

/// OnDelete: a template change replaces no pod; a deleted one comes back new.
#[test]
fn on_delete_replaces_only_a_deleted_pod() {
    let mut w = agent("  updateStrategy: {type: OnDelete}\n");
    let old = uids(&w);
    let revision = on_nodes(&w).values().next().unwrap()[0].2.clone();
    w.rollout_restart("DaemonSet", "shop", "agent").unwrap();
    w.advance(Duration::from_secs(300));
    assert_eq!(uids(&w), old, "no pod replaced");
    let name = w
        .pods
        .values()
        .find(|p| p.uid() == old[0])
        .map(|p| p.name().to_string())
        .unwrap();
    w.delete_pod("shop", &name).unwrap();
    w.advance(Duration::from_secs(120));
    let on = on_nodes(&w);
    let new: Vec<&Pod> = on
        .values()
        .flatten()
        .filter(|p| !old.contains(&p.0))
        .collect();
    assert_eq!(new.len(), 1, "{on:?}");
    assert!(
        new[0].1 == Stage::Running && new[0].2 != revision,
        "{new:?}"
    );
    assert_eq!(
        old.iter().filter(|u| uids(&w).contains(u)).count(),
        2,
        "the others kept"
    );
}

/// Audit EEE10: with maxSurge 0 (the default) the old pod goes first and the new one is made
/// once it is gone (the DaemonSet controller creates a pod only on a node with none, a
/// terminating one included): never a node with the old pod terminating beside the new one.
/// The same for a pod deleted under OnDelete.
#[test]
fn without_surge_the_new_pod_is_made_once_the_old_one_is_gone() {
    for strategy in [
        "",
        "  updateStrategy:\n    rollingUpdate: {maxUnavailable: 2}\n",
    ] {
        let mut w = agent(strategy);
        let old = uids(&w);
        w.rollout_restart("DaemonSet", "shop", "agent").unwrap();
        let (_, deleted, most_on_a_node) = watch(&mut w, &old, 600);
        assert_eq!(
            most_on_a_node, 1,
            "old and new never together ({strategy:?})"
        );
        assert_eq!(deleted.len(), 3, "{strategy:?}");
        assert!(uids(&w).iter().all(|u| !old.contains(u)), "all replaced");
    }
    let mut w = agent("  updateStrategy: {type: OnDelete}\n");
    let name = (w.pods.values())
        .find(|p| p.name().starts_with("agent-"))
        .map(|p| p.name().to_string())
        .unwrap();
    w.delete_pod("shop", &name).unwrap();
    let old = uids(&w);
    let (_, _, most_on_a_node) = watch(&mut w, &old, 120);
    assert_eq!(most_on_a_node, 1);
    assert_eq!(uids(&w).len(), 3, "{:?}", on_nodes(&w));
}
