//! Readiness of the lab's pods, and the DaemonSet restart plan that reads it. The kubelet sets
//! a pod's Ready condition once it runs it: True when every container is ready, False
//! (ContainersNotReady) while one waits; a pod no kubelet has taken (unscheduled) has none
//! (Kubernetes docs, "Pod Lifecycle: Pod conditions"). The lab models no readiness probe, so
//! its running pod is Ready. A DaemonSet's rolling update replaces its pods node by node, at
//! most maxUnavailable (1) nodes without an available pod, an old pod that is not available
//! first; a new pod that never becomes available stops it at its node ("Perform a Rolling
//! Update on a DaemonSet"). The restart plan says so, and names the pod not Ready now where
//! the rollout stops: the lab, doing the restart, stops there.

use std::time::Duration;

use kvchain::chain::restart_plan::RestartPlan;
use kvchain::snapshot::{PodObs, Snapshot};
use kvchain::source::lab::export;
use kvchain::source::lab::world::Stage;

use crate::lab_daemon_rollout::{agent, on_nodes, uids};
use crate::lab_nodes::{healthy_with, placed};

fn agent_pods(s: &Snapshot) -> Vec<&PodObs> {
    let mut pods: Vec<&PodObs> = (s.pods.items.iter())
        .filter(|p| p.name.starts_with("agent-"))
        .collect();
    pods.sort_by(|a, b| a.name.cmp(&b.name));
    pods
}

#[test]
fn a_running_lab_pod_is_ready_a_waiting_one_is_not_an_unscheduled_one_has_no_condition() {
    let mut w = agent("");
    let s = export::snapshot(&w);
    let pods = agent_pods(&s);
    assert_eq!(pods.len(), 3);
    assert!(
        pods.iter()
            .all(|p| p.phase == "Running" && p.ready == Some(true)),
        "{pods:#?}"
    );

    // A pod made while its SecretProviderClass is missing stays in ContainerCreating.
    w.spcs
        .remove(&("shop".to_string(), "checkout-kv".to_string()))
        .expect("the chain's SPC");
    let gone = pods[0].name.to_string();
    w.delete_pod("shop", &gone).unwrap();
    w.advance(Duration::from_secs(120));
    let s = export::snapshot(&w);
    let waiting: Vec<&PodObs> = (agent_pods(&s).into_iter())
        .filter(|p| p.phase == "Pending")
        .collect();
    assert_eq!(waiting.len(), 1, "{:#?}", agent_pods(&s));
    assert_eq!(waiting[0].ready, Some(false));

    let mut w = healthy_with(&[&placed("  nodeSelector: {agentpool: gpu}\n")]);
    w.advance(Duration::from_secs(60));
    let s = export::snapshot(&w);
    let placed = s.pod("shop", "placed").expect("the unscheduled pod");
    assert_eq!((placed.phase.as_str(), placed.ready), ("Pending", None));
    let checkout = (s.pods.items.iter()).find(|p| p.name.starts_with("checkout-"));
    assert_eq!(checkout.map(|p| p.ready), Some(Some(true)));
}

/// Agent's pod on one node stuck (its SPC gone): a healthy pod's restart says the rollout goes
/// node by node and stops at that node. Done, the lab replaces the stuck pod first, its new
/// pod is stuck too, and the other nodes keep their old pods; with the SPC back it goes on.
#[test]
fn a_daemon_sets_rollout_stops_at_the_node_whose_pod_is_not_ready() {
    let mut w = agent("");
    let spc_key = ("shop".to_string(), "checkout-kv".to_string());
    let spc = w.spcs.remove(&spc_key).expect("the chain's SPC");
    let s = export::snapshot(&w);
    let first = agent_pods(&s)[0].name.to_string();
    w.delete_pod("shop", &first).unwrap();
    w.advance(Duration::from_secs(120));

    let s = export::snapshot(&w);
    let pods = agent_pods(&s);
    let stuck = pods.iter().find(|p| p.phase == "Pending").expect("stuck");
    let healthy = pods.iter().find(|p| p.phase == "Running").expect("running");
    let node = stuck.node.clone().expect("bound to its node");
    let plan = RestartPlan::for_pod(&s, healthy);
    assert!(
        matches!(&plan, RestartPlan::RolloutRestart { kind, .. } if kind == "DaemonSet"),
        "{plan:?}"
    );
    let said = plan.confirmation();
    assert!(
        said.contains("Its pods are replaced node by node")
            && said.contains(&format!(
                "Pod {} on node {node} is not Running and Ready now ({}: container app waiting: ContainerCreating)",
                stuck.name, stuck.name
            ))
            && said.ends_with(&format!("the rollout stops at node {node}."))
            && !said.contains("Every replica is replaced"),
        "{said}"
    );

    let before = on_nodes(&w);
    let old = uids(&w);
    w.rollout_restart("DaemonSet", "shop", "agent").unwrap();
    w.advance(Duration::from_secs(600));
    for (n, pods) in on_nodes(&w) {
        assert_eq!(pods.len(), 1, "{n}: {pods:?}");
        match n == node.as_str() {
            // Replaced first, and its new pod is held as the old one was.
            true => assert!(
                !old.contains(&pods[0].0) && pods[0].1 == Stage::Mounting,
                "{pods:?}"
            ),
            false => assert_eq!(pods, before[&n], "node {n} keeps its old pod"),
        }
    }

    w.spcs.insert(spc_key, spc);
    // The kubelet retries the mount on its backoff (up to about two minutes), quiet between.
    w.advance(Duration::from_secs(1800));
    let now = on_nodes(&w);
    assert!(
        now.values()
            .flatten()
            .all(|p| !old.contains(&p.0) && p.1 == Stage::Running),
        "{now:?}"
    );
}
