//! Readiness in the restart plan, from the documented behaviour. A StatefulSet under
//! podManagementPolicy OrderedReady (the default) waits for each pod to be Running AND Ready
//! before it goes on, its rolling update included (Kubernetes docs, "Pod Management
//! Policies", "Forced rollback"): a Running pod whose Ready condition is not True holds it as a
//! pod stuck in ContainerCreating does. A DaemonSet's rolling update replaces its pods node by
//! node within maxUnavailable (1 by default), and a new pod that never becomes available
//! (Ready for minReadySeconds) stops it at its node ("Perform a Rolling Update on a
//! DaemonSet"). A pod whose readiness is not observed is not taken for a pod not Ready.

use super::tests::{db_set, owned, with, workload};
use super::*;
use crate::chain::index::Index;
use crate::snapshot::{Coll, UpdateObs};

/// StatefulSet db of 3 (strategy `update`), every pod Running, each with readiness `ready`.
fn db_ready(update: UpdateObs, ready: [Option<bool>; 3]) -> (Snapshot, Vec<PodObs>) {
    let (mut s, mut pods) = db_set(update, &[]);
    for (p, r) in pods.iter_mut().zip(ready) {
        p.ready = r;
    }
    s.pods = Coll::known(pods.clone());
    (s, pods)
}

const NOT_READY: &str = "Running, but its Ready condition is not True";

#[test]
fn an_ordered_ready_sets_running_pod_not_ready_is_deleted_and_holds_its_siblings_rollout() {
    let (s, pods) = db_ready(UpdateObs::default(), [Some(true), Some(false), Some(true)]);
    let own = RestartPlan::for_pod(&s, &pods[1]);
    assert!(
        matches!(&own, RestartPlan::DeleteOwnedPod { pod, .. } if pod == "db-1"),
        "{own:?}"
    );
    let said = own.confirmation();
    assert!(
        said.contains(&format!("Pod db-1 is not Running and Ready ({NOT_READY})"))
            && said.contains("the rollout waits for it")
            && said.contains("Deleting it is what replaces it"),
        "{said}"
    );
    let sibling = RestartPlan::for_pod(&s, &pods[2]);
    assert!(
        matches!(&sibling, RestartPlan::RolloutRestart { .. }),
        "{sibling:?}"
    );
    let said = sibling.confirmation();
    assert!(
        said.contains(&format!(
            "No pod is replaced while pod db-1 is not Running and Ready ({NOT_READY})"
        )) && !said.contains("Every replica is replaced"),
        "{said}"
    );
}

/// A pod deleted above a Running pod that is not Ready comes back only once that one is Ready.
#[test]
fn a_delete_above_a_pod_not_ready_says_it_waits_for_it() {
    let on_delete = UpdateObs {
        on_delete: true,
        ..Default::default()
    };
    let (s, pods) = db_ready(on_delete, [Some(false), Some(true), Some(true)]);
    let said = RestartPlan::for_pod(&s, &pods[2]).confirmation();
    assert!(
        said.contains("makes db-2 again only once db-0 is"),
        "{said}"
    );
}

/// Parallel waits for no pod, Ready or not: every replica is replaced.
#[test]
fn a_parallel_set_is_not_held_by_a_pod_not_ready() {
    let parallel = UpdateObs {
        parallel: true,
        ..Default::default()
    };
    let (s, pods) = db_ready(parallel, [Some(true), Some(false), Some(true)]);
    for p in &pods[1..] {
        let said = RestartPlan::for_pod(&s, p).confirmation();
        assert!(said.ends_with("Every replica is replaced."), "{said}");
    }
}

/// Readiness not observed (a snapshot saved before it was read): not a pod not Ready, so no
/// delete and no "waits for", but no plain promise either: the plan says what it depends on.
#[test]
fn readiness_unknown_is_said_never_taken_for_not_ready() {
    let (s, pods) = db_ready(UpdateObs::default(), [Some(true), None, Some(true)]);
    let plan = RestartPlan::for_pod(&s, &pods[1]);
    assert!(
        matches!(&plan, RestartPlan::RolloutRestart { .. }),
        "{plan:?}"
    );
    let said = plan.confirmation();
    assert!(
        said.contains("Whether pod db-1 is Ready is not known (no Ready condition observed)")
            && said.contains("holds the rollout")
            && !said.contains("is not Running and Ready")
            && !said.contains("Every replica is replaced"),
        "{said}"
    );
    let (s, pods) = db_ready(UpdateObs::default(), [None; 3]);
    let said = RestartPlan::for_pod(&s, &pods[0]).confirmation();
    assert!(
        said.contains("Whether pod db-0 and 2 more are Ready"),
        "{said}"
    );
    // Every pod known Ready: the plain promise.
    let (s, pods) = db_ready(UpdateObs::default(), [Some(true); 3]);
    let said = RestartPlan::for_pod(&s, &pods[0]).confirmation();
    assert!(said.ends_with("Every replica is replaced."), "{said}");
}

/// Not observed, the set is taken as OrderedReady (the default): its pod Running but not
/// Ready is deleted, one whose readiness is unknown is not.
#[test]
fn an_unobserved_sets_pod_not_ready_is_deleted_and_unknown_is_not() {
    let (_, pods) = db_ready(UpdateObs::default(), [Some(false), None, Some(true)]);
    let plan = RestartPlan::for_pod(&Snapshot::default(), &pods[0]);
    assert!(
        matches!(&plan, RestartPlan::DeleteOwnedPod { .. }),
        "{plan:?}"
    );
    assert!(plan.confirmation().contains(NOT_READY));
    let plan = RestartPlan::for_pod(&Snapshot::default(), &pods[1]);
    assert!(
        matches!(&plan, RestartPlan::RolloutRestart { .. }),
        "{plan:?}"
    );
}

/// DaemonSet agent (RollingUpdate) on three nodes, its pods Running with readiness `ready`,
/// the third `terminating` if asked.
fn agent(ready: [Option<bool>; 3], terminating: bool) -> (Snapshot, Vec<PodObs>) {
    let mut w = workload("DaemonSet", "agent", vec![]);
    w.update = Some(UpdateObs::default());
    let pods: Vec<PodObs> = (0..3)
        .map(|i| {
            let mut p = owned("DaemonSet", "agent");
            p.name = format!("agent-{}", ["a", "b", "c"][i]).into();
            p.node = Some(format!("aks-np-{i}").into());
            p.ready = ready[i];
            p.deleting = terminating && i == 2;
            p
        })
        .collect();
    let mut s = with(vec![w]);
    s.pods = Coll::known(pods.clone());
    (s, pods)
}

const NODE_BY_NODE: &str = "Its pods are replaced node by node, at most maxUnavailable nodes at a time (1 unless set): a new pod that never becomes available (Ready for minReadySeconds) stops the rollout at its node, and the nodes not reached yet keep their old pods.";

/// A DaemonSet's rollout restart does not promise every pod at once: it says it goes node by
/// node and stops at a new pod that never becomes available, in the dialog and the command.
#[test]
fn a_daemon_sets_rollout_says_it_goes_node_by_node_and_stops_at_a_pod_never_ready() {
    let (s, pods) = agent([Some(true); 3], false);
    let plan = RestartPlan::for_pod(&s, &pods[0]);
    assert_eq!(
        plan,
        RestartPlan::RolloutRestart {
            namespace: "pay".into(),
            kind: "DaemonSet".into(),
            name: "agent".into(),
            note: Some(NODE_BY_NODE.into()),
        }
    );
    assert!(!plan.confirmation().contains("Every replica is replaced"));
    assert_eq!(
        plan.command(),
        format!("kubectl rollout restart daemonset/agent -n pay  # {NODE_BY_NODE}")
    );
}

/// A pod of the DaemonSet Running but not Ready now: the rollout replaces it first (an old pod
/// not available is replaced whatever maxUnavailable), and stops at its node if the new one is
/// not Ready either. Said from any pod's restart, naming the pod and its node.
#[test]
fn a_daemon_set_pod_not_ready_now_is_where_the_rollout_stops() {
    let (s, pods) = agent([Some(true), Some(false), Some(true)], false);
    for p in [&pods[0], &pods[1]] {
        let said = RestartPlan::for_pod(&s, p).confirmation();
        assert!(
            said.contains(NODE_BY_NODE)
                && said.contains(&format!(
                    "Pod agent-b on node aks-np-1 is not Running and Ready now (agent-b: {NOT_READY})"
                ))
                && said.contains("an old pod that is not available is replaced first")
                && said.ends_with("the rollout stops at node aks-np-1."),
            "{said}"
        );
    }
    // Two of them: both counted, the first named.
    let (s, pods) = agent([Some(false), Some(false), Some(true)], false);
    let said = RestartPlan::for_pod(&s, &pods[2]).confirmation();
    assert!(
        said.contains("Pod agent-a on node aks-np-0 and 1 other pod are not Running and Ready now")
            && said.ends_with("the rollout stops at their nodes."),
        "{said}"
    );
}

/// Readiness unknown is not "not Ready", and a terminating pod is on its way out: neither is
/// named as where the rollout stops.
#[test]
fn a_daemon_set_pod_of_unknown_readiness_or_terminating_is_not_named() {
    for (s, pods) in [
        agent([Some(true), None, None], false),
        agent([Some(true), Some(true), Some(false)], true),
    ] {
        let plan = RestartPlan::for_pod(&s, &pods[0]);
        assert!(
            matches!(&plan, RestartPlan::RolloutRestart { note: Some(n), .. } if n == NODE_BY_NODE),
            "{plan:?}"
        );
    }
}

/// The fixes of a diagnosis look the owner's pods up through its index: the same plan as the
/// snapshot searched, for every pod of both kinds.
#[test]
fn the_index_gives_the_plan_the_snapshot_search_gives() {
    let (mut s, ds) = agent([Some(true), Some(false), Some(true)], false);
    let (db, sts) = db_ready(UpdateObs::default(), [Some(true), Some(false), None]);
    db.workloads
        .items
        .iter()
        .for_each(|w| s.workloads.items.push(w.clone()));
    sts.into_iter().for_each(|p| s.pods.items.push(p));
    let ix = Index::build(&s);
    for p in &s.pods.items {
        assert_eq!(
            RestartPlan::for_pod_in(&s, &ix, p),
            RestartPlan::for_pod(&s, p),
            "{}",
            p.name
        );
    }
    assert!(ds.iter().all(|p| s.pod("pay", &p.name).is_some()));
    let unseen = ix.set_pods("pay", "DaemonSet", "other");
    assert_eq!(*unseen, SetPods::default());
}

/// An OnDelete owner's fix deletes its pods: the index lists them as the snapshot search
/// does, its own pods only (by controller, else first owner reference), in name order, no
/// template, none of another namespace or owner.
#[test]
fn the_index_lists_an_owners_pods_as_the_snapshot_search_does() {
    let (mut s, _) = agent([Some(true); 3], false);
    s.pods.items.reverse();
    let mut first_owner = owned("DaemonSet", "agent");
    first_owner.name = "agent-0".into();
    first_owner.owners[0].controller = false;
    let mut template = owned("DaemonSet", "agent");
    template.name = "agent".into();
    template.template_of = Some(template.owners[0].clone());
    let mut elsewhere = owned("DaemonSet", "agent");
    elsewhere.name = "agent-z".into();
    elsewhere.namespace = "other".into();
    let mut other = owned("DaemonSet", "other");
    other.name = "other-a".into();
    s.pods
        .items
        .extend([first_owner, template, elsewhere, other]);
    let ix = Index::build(&s);
    let scan = Scan::new(&s);
    let names = |pods: std::sync::Arc<[crate::snapshot::Name]>| -> Vec<String> {
        pods.iter().map(|n| n.to_string()).collect()
    };
    let want = ["agent-0", "agent-a", "agent-b", "agent-c"];
    assert_eq!(names(ix.owned_pods("pay", "DaemonSet", "agent")), want);
    assert_eq!(names(scan.owned_pods("pay", "DaemonSet", "agent")), want);
    for (ns, kind, name) in [
        ("other", "DaemonSet", "agent"),
        ("pay", "DaemonSet", "other"),
        ("pay", "StatefulSet", "agent"),
        ("pay", "DaemonSet", "nobody"),
    ] {
        assert_eq!(
            names(ix.owned_pods(ns, kind, name)),
            names(scan.owned_pods(ns, kind, name)),
            "{ns}/{kind}/{name}"
        );
    }
}
