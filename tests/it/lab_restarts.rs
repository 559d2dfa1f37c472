//! The one-key restart on the lab for owners whose `kubectl rollout restart` would not restart
//! the pod (audit 18, A18-3/10), and the timeline that follows it. A StatefulSet with
//! updateStrategy OnDelete replaces no pod when its template changes, and with a
//! rollingUpdate.partition only the ordinals at or above it (Kubernetes "StatefulSets",
//! update strategies): the restart deletes the pod instead, the StatefulSet makes it again
//! under the same name, and the timeline tells the new pod from the old by its uid. A
//! DaemonSet's restart is followed until every node runs a new pod. A pod below the partition
//! that is deleted comes back from the StatefulSet's current revision, not the new template.

use std::time::Duration;

use kvchain::action::timeline::{RestartWatch, StepState, Timeline};
use kvchain::chain::restart_plan::RestartPlan;
use kvchain::snapshot::{ContainerObs, Snapshot};
use kvchain::source::lab::export;
use kvchain::source::lab::world::World;

use crate::lab_nodes::{HEALTHY, healthy_with};

/// The healthy chain with its Deployment turned into a StatefulSet with `strategy`.
fn stateful(strategy: &str) -> World {
    let healthy = HEALTHY
        .replacen("kind: Deployment\n", "kind: StatefulSet\n", 1)
        .replacen(
            "spec:\n  replicas: 2\n",
            &format!(
                "spec:\n  replicas: 2\n  serviceName: checkout\n  updateStrategy: {strategy}\n"
            ),
            1,
        );
    assert!(healthy.contains("kind: StatefulSet"), "{healthy}");
    let mut w = World::new(
        kvchain::source::lab::scenario::parse(
            "stateful",
            std::path::Path::new("stateful.yaml"),
            &[crate::lab_nodes::CLUSTER, crate::lab_nodes::SHOP, &healthy].join("\n---\n"),
        )
        .expect("scenario parses"),
    );
    w.run_until_stable(Duration::from_secs(3600));
    w
}

fn uid(s: &Snapshot, pod: &str) -> String {
    s.pod("shop", pod)
        .unwrap_or_else(|| panic!("no pod {pod}"))
        .uid
        .to_string()
}

/// `R` on `pod` as the lab carries it out, followed to the end: (plan, outcome, timeline).
fn restart(w: &mut World, pod: &str) -> (RestartPlan, String, Timeline) {
    let before = export::snapshot(w);
    let plan = RestartPlan::for_pod(&before, before.pod("shop", pod).expect("pod"));
    let mut watch = RestartWatch::for_plan(&before, "shop", pod, &plan);
    let out = w.restart_pod("shop", pod).expect("restarted");
    for _ in 0..60 {
        w.advance(Duration::from_secs(10));
        watch.observe(&export::snapshot(w));
        if watch.timeline().finished {
            return (plan, out, watch.timeline());
        }
    }
    panic!("the restart never finished: {:#?}", watch.timeline());
}

fn all_done(tl: &Timeline) -> bool {
    tl.steps
        .iter()
        .all(|s| matches!(s.state, StepState::Done(_)))
}

#[test]
fn on_delete_the_pod_is_deleted_and_comes_back_under_its_name() {
    let mut w = stateful("{type: OnDelete}");
    let before = export::snapshot(&w);
    let (plan, out, tl) = restart(&mut w, "checkout-0");
    assert!(plan.confirmation().contains("OnDelete"), "{plan:?}");
    assert!(
        out.contains("StatefulSet/checkout makes a new one"),
        "{out}"
    );
    assert!(tl.finished && all_done(&tl), "{tl:#?}");
    assert!(
        tl.steps
            .iter()
            .any(|s| s.label == "new pod checkout-0: created"),
        "{tl:#?}"
    );
    let after = export::snapshot(&w);
    assert_ne!(uid(&before, "checkout-0"), uid(&after, "checkout-0"));
    assert_eq!(
        uid(&before, "checkout-1"),
        uid(&after, "checkout-1"),
        "its sibling is not touched"
    );
}

/// A StatefulSet's replacement keeps the old pod's name, and the API takes a pod of that name
/// only once the old one is gone: the timeline may not show the new pod created before the
/// old one gone (audit VV4), whatever snapshot first missed the old pod.
#[test]
fn on_delete_the_old_pod_is_gone_no_later_than_its_namesake_is_created() {
    let mut w = stateful("{type: OnDelete}");
    let before = export::snapshot(&w);
    let plan = RestartPlan::for_pod(&before, before.pod("shop", "checkout-0").expect("pod"));
    let mut watch = RestartWatch::for_plan(&before, "shop", "checkout-0", &plan);
    w.restart_pod("shop", "checkout-0").expect("restarted");
    // Snapshots far apart (a slow refresh): the first that misses the old pod already holds
    // its replacement, created in between.
    for _ in 0..20 {
        w.advance(Duration::from_secs(45));
        watch.observe(&export::snapshot(&w));
        if watch.timeline().finished {
            break;
        }
    }
    let tl = watch.timeline();
    assert!(tl.finished, "{tl:#?}");
    let at = |label: &str| match tl.steps.iter().find(|s| s.label == label) {
        Some(s) => match s.state {
            StepState::Done(d) => d,
            _ => panic!("{label} not done: {tl:#?}"),
        },
        None => panic!("no step {label}: {tl:#?}"),
    };
    let gone = at("old pod checkout-0: gone");
    let created = at("new pod checkout-0: created");
    assert!(
        gone <= created,
        "gone at {gone:?}, created at {created:?}: {tl:#?}"
    );
    // Shown in that order.
    let pos = |label: &str| tl.steps.iter().position(|s| s.label == label).unwrap();
    assert!(
        pos("old pod checkout-0: gone") < pos("new pod checkout-0: created"),
        "{tl:#?}"
    );
}

/// The lab's StatefulSet honours the strategy as the controller does: a template change
/// (the rollout restart of a lesson or a fix) replaces no pod under OnDelete.
#[test]
fn on_delete_a_rollout_restart_replaces_no_pod() {
    let mut w = stateful("{type: OnDelete}");
    let before = export::snapshot(&w);
    w.rollout_restart("StatefulSet", "shop", "checkout")
        .unwrap();
    w.advance(Duration::from_secs(120));
    let after = export::snapshot(&w);
    for pod in ["checkout-0", "checkout-1"] {
        assert_eq!(uid(&before, pod), uid(&after, pod), "{pod} replaced");
    }
}

#[test]
fn a_partition_restarts_the_pods_below_it_by_deleting_them_and_rolls_the_others() {
    let mut w = stateful("{type: RollingUpdate, rollingUpdate: {partition: 1}}");
    let before = export::snapshot(&w);

    let (plan, out, tl) = restart(&mut w, "checkout-0");
    assert!(
        matches!(plan, RestartPlan::DeleteOwnedPod { .. }),
        "{plan:?}"
    );
    assert!(out.contains("deleted"), "{out}");
    assert!(tl.finished && all_done(&tl), "{tl:#?}");
    let mid = export::snapshot(&w);
    assert_ne!(uid(&before, "checkout-0"), uid(&mid, "checkout-0"));
    assert_eq!(uid(&before, "checkout-1"), uid(&mid, "checkout-1"));

    let (plan, _, tl) = restart(&mut w, "checkout-1");
    assert!(
        matches!(plan, RestartPlan::RolloutRestart { .. }),
        "{plan:?}"
    );
    assert!(
        plan.confirmation()
            .contains("Only pods with ordinal 1 or above are replaced"),
        "{}",
        plan.confirmation()
    );
    // One pod at or above the partition: one replacement, not "1 of 2" stalled.
    assert!(tl.finished && all_done(&tl), "{tl:#?}");
    let after = export::snapshot(&w);
    assert_ne!(uid(&mid, "checkout-1"), uid(&after, "checkout-1"));
    assert_eq!(
        uid(&mid, "checkout-0"),
        uid(&after, "checkout-0"),
        "below the partition: kept"
    );
}

/// The StatefulSet controller makes a pod below the partition from its current revision
/// (`newVersionedStatefulSetPod`), and a partition above 0 keeps the current revision the old
/// template (`completeRollingUpdate` waits for every replica): after a rollout restart, a
/// deleted `checkout-0` comes back as it was, without the restart's annotation, while
/// `checkout-1` runs the new template.
#[test]
fn a_pod_below_the_partition_comes_back_from_the_current_revision() {
    let mut w = stateful("{type: RollingUpdate, rollingUpdate: {partition: 1}}");
    let before = export::snapshot(&w);
    let revision = |s: &Snapshot, pod: &str| {
        s.pod("shop", pod).expect("pod").labels["controller-revision-hash"].to_string()
    };
    let restarted = |s: &Snapshot, pod: &str| {
        (s.pod("shop", pod).expect("pod").annotations)
            .contains_key("kubectl.kubernetes.io/restartedAt")
    };
    let old = revision(&before, "checkout-0");
    assert_eq!(old, revision(&before, "checkout-1"));

    w.rollout_restart("StatefulSet", "shop", "checkout")
        .unwrap();
    w.advance(Duration::from_secs(120));
    let rolled = export::snapshot(&w);
    assert_ne!(uid(&before, "checkout-1"), uid(&rolled, "checkout-1"));
    assert!(restarted(&rolled, "checkout-1"));
    let new = revision(&rolled, "checkout-1");
    assert_ne!(new, old);

    w.delete_pod("shop", "checkout-0").unwrap();
    w.advance(Duration::from_secs(120));
    let after = export::snapshot(&w);
    assert_ne!(
        uid(&rolled, "checkout-0"),
        uid(&after, "checkout-0"),
        "re-created"
    );
    assert_eq!(after.pod("shop", "checkout-0").unwrap().phase, "Running");
    assert_eq!(revision(&after, "checkout-0"), old, "the current revision");
    assert!(!restarted(&after, "checkout-0"), "the old template");
    assert_eq!(revision(&after, "checkout-1"), new, "untouched");
}

/// Without a partition the update completes: every replica runs the new template, which
/// becomes the current revision, so a pod deleted afterwards comes back from it.
#[test]
fn without_a_partition_a_deleted_pod_comes_back_from_the_completed_update() {
    let mut w = stateful("{type: RollingUpdate}");
    w.rollout_restart("StatefulSet", "shop", "checkout")
        .unwrap();
    w.advance(Duration::from_secs(120));
    let rolled = export::snapshot(&w);
    let new =
        rolled.pod("shop", "checkout-1").unwrap().labels["controller-revision-hash"].to_string();
    w.delete_pod("shop", "checkout-0").unwrap();
    w.advance(Duration::from_secs(120));
    let after = export::snapshot(&w);
    assert_ne!(uid(&rolled, "checkout-0"), uid(&after, "checkout-0"));
    assert_eq!(
        after.pod("shop", "checkout-0").unwrap().labels["controller-revision-hash"],
        new
    );
}

/// A DaemonSet's restart replaces its pod on every node: the timeline counts them all.
#[test]
fn a_daemon_sets_restart_is_followed_on_every_node() {
    let ds = r#"apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
  namespace: shop
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata:
      labels: {app: agent, azure.workload.identity/use: "true"}
    spec:
      serviceAccountName: checkout
      containers:
        - name: app
          image: busybox
          volumeMounts: [{name: s, mountPath: /mnt/s, readOnly: true}]
      volumes:
        - name: s
          csi: {driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {secretProviderClass: checkout-kv}}"#;
    // A second node: one agent pod each.
    let node = "apiVersion: v1\nkind: Node\nmetadata:\n  name: aks-poolb-0000-vmss000000\n  labels: {kubernetes.io/os: linux, pool: b}\n";
    let mut w = healthy_with(&[ds, node]);
    w.run_until_stable(Duration::from_secs(3600));
    let s = export::snapshot(&w);
    let agents: Vec<String> = s
        .pods
        .items
        .iter()
        .filter(|p| p.name.starts_with("agent-"))
        .map(|p| p.name.to_string())
        .collect();
    assert!(agents.len() >= 2, "a node each: {agents:?}");
    let (plan, _, tl) = restart(&mut w, &agents[0]);
    assert!(matches!(plan, RestartPlan::RolloutRestart { ref kind, .. } if kind == "DaemonSet"));
    assert!(tl.finished && all_done(&tl), "{tl:#?}");
    let n = agents.len();
    assert!(
        tl.steps
            .iter()
            .any(|s| s.label == format!("new pods of DaemonSet/agent: {n} of {n}")),
        "{tl:#?}"
    );
    let after = export::snapshot(&w);
    assert!(
        agents.iter().all(|a| after.pod("shop", a).is_none()),
        "every old pod replaced"
    );
}

/// The running checkout pods (`<deployment>-<hash>-<suffix>`) and the ReplicaSets present.
fn checkout(s: &Snapshot) -> (Vec<String>, Vec<String>) {
    let pods = s
        .pods
        .items
        .iter()
        .filter(|p| p.name.starts_with("checkout-") && p.phase == "Running")
        .map(|p| p.name.to_string())
        .collect();
    let sets = s
        .workloads
        .items
        .iter()
        .filter(|w| w.kind == "ReplicaSet" && w.name.starts_with("checkout-"))
        .map(|w| w.name.to_string())
        .collect();
    (pods, sets)
}

fn paused_checkout() -> World {
    let mut w = healthy_with(&[]);
    w.run_until_stable(Duration::from_secs(3600));
    w.set_paused("shop", "checkout", true).expect("paused");
    w.advance(Duration::from_secs(30));
    w
}

/// A rotation of checkout's password, ten minutes on: Reloader changes checkout's template.
pub(crate) fn rotate_checkout_password(w: &mut World) {
    w.rotate_secret(
        "kv-shop-lab",
        "checkout-db-password",
        Some(b"checkout-pass-v9"),
    )
    .unwrap();
    w.advance(Duration::from_secs(600));
}

/// How many env vars the checkout Deployment's template gives its first container.
fn template_env(s: &Snapshot) -> Option<usize> {
    let d = (s.workloads.items.iter()).find(|x| x.kind == "Deployment" && x.name == "checkout")?;
    d.template.as_ref().map(|t| t.containers[0].env.len())
}

/// kubectl refuses to rollout-restart a paused Deployment (its object restarter: "can't
/// restart paused deployment (run rollout resume first)"); its ReplicaSet still replaces a
/// deleted pod. `R` deletes the pod, says why, and the ReplicaSet makes a new one; the
/// sibling keeps running and no ReplicaSet is added.
#[test]
fn a_paused_deployments_pod_is_deleted_and_its_replica_set_makes_a_new_one() {
    let mut w = paused_checkout();
    let before = export::snapshot(&w);
    assert!(
        before
            .workloads
            .items
            .iter()
            .any(|x| x.kind == "Deployment" && x.name == "checkout" && x.paused),
        "the lab's snapshot says the Deployment is paused"
    );
    let (pods, sets) = checkout(&before);
    assert_eq!((pods.len(), sets.len()), (2, 1), "{pods:?} {sets:?}");
    let (plan, out, tl) = restart(&mut w, &pods[0]);
    assert!(
        matches!(&plan, RestartPlan::DeleteOwnedPod { owner, .. } if *owner == format!("ReplicaSet/{}", sets[0])),
        "{plan:?}"
    );
    let said = plan.confirmation();
    assert!(
        said.contains("Deployment checkout is paused (spec.paused)")
            && said.contains("kubectl rollout resume deployment/checkout -n shop")
            && !said.starts_with("Rollout restart"),
        "{said}"
    );
    assert!(out.contains("deleted"), "{out}");
    assert!(tl.finished && all_done(&tl), "{tl:#?}");
    let after = export::snapshot(&w);
    let (now, sets_now) = checkout(&after);
    assert_eq!(sets_now, sets, "no new ReplicaSet while paused");
    assert_eq!(now.len(), 2, "{now:?}");
    assert!(!now.contains(&pods[0]), "{now:?}");
    assert_eq!(
        uid(&before, &pods[1]),
        uid(&after, &pods[1]),
        "sibling kept"
    );
}

/// Paused, a rollout restart is refused as kubectl refuses it, and a template change (here
/// Reloader's, after a rotation) rolls nothing until the Deployment is resumed; resumed, it
/// rolls out.
#[test]
fn a_paused_deployment_rolls_no_template_change_until_resumed() {
    let mut w = paused_checkout();
    let err = w
        .rollout_restart("Deployment", "shop", "checkout")
        .unwrap_err();
    assert!(
        err.contains("can't restart paused deployment (run rollout resume first)"),
        "{err}"
    );
    let before = export::snapshot(&w);
    let (pods, sets) = checkout(&before);
    rotate_checkout_password(&mut w);
    let held = export::snapshot(&w);
    assert_ne!(
        template_env(&before),
        template_env(&held),
        "Reloader changed the template"
    );
    assert_eq!(
        checkout(&held),
        (pods.clone(), sets.clone()),
        "nothing rolled"
    );

    w.set_paused("shop", "checkout", false).expect("resumed");
    w.run_until_stable(Duration::from_secs(3600));
    let (rolled, sets_now) = checkout(&export::snapshot(&w));
    assert_eq!(rolled.len(), 2, "{rolled:?}");
    assert!(rolled.iter().all(|p| !pods.contains(p)), "{rolled:?}");
    assert_eq!(sets_now.len(), 2, "a new ReplicaSet: {sets_now:?}");
}

/// Paused after Reloader changed the Deployment's template, a deleted pod is made again by
/// its ReplicaSet from the ReplicaSet's own template: the new pod is its sibling's spec, not
/// the Deployment's changed one (the ReplicaSet controller knows only its own template).
#[test]
fn a_paused_deployments_replica_set_makes_a_deleted_pod_from_its_own_template() {
    let mut w = paused_checkout();
    let (pods, sets) = checkout(&export::snapshot(&w));
    rotate_checkout_password(&mut w);
    let env = |s: &Snapshot, pod: &str| {
        let p = s.pod("shop", pod).expect("pod");
        let names = |c: &ContainerObs| c.env.iter().map(|e| e.name.to_string()).collect();
        p.containers.iter().map(names).collect::<Vec<Vec<String>>>()
    };
    let held = export::snapshot(&w);
    let deployment_env = template_env(&held).expect("the Deployment's template");
    let sibling = env(&held, &pods[1]);
    assert_ne!(
        sibling[0].len(),
        deployment_env,
        "Reloader changed the Deployment's template, not the running pods"
    );
    w.delete_pod("shop", &pods[0]).expect("deleted");
    w.run_until_stable(Duration::from_secs(600));
    let after = export::snapshot(&w);
    let (now, sets_now) = checkout(&after);
    assert_eq!(sets_now, sets, "no new ReplicaSet while paused");
    let made: Vec<&String> = now.iter().filter(|p| !pods.contains(p)).collect();
    assert_eq!(made.len(), 1, "{now:?}");
    assert!(made[0].starts_with(&format!("{}-", sets[0])), "{made:?}");
    assert_eq!(
        env(&after, made[0]),
        sibling,
        "the ReplicaSet's own template"
    );
}

/// A scenario's Timeline pauses and resumes a Deployment; a `rolloutRestart` between them is
/// refused and reported as an event that did not happen.
#[test]
fn a_timeline_pause_refuses_a_rollout_restart_until_resumed() {
    let timeline = "apiVersion: lab.kvchain.dev/v1\nkind: Timeline\nmetadata:\n  name: t\nspec:\n  events:\n    - {at: 5m, pauseRollout: {namespace: shop, name: checkout}}\n    - {at: 6m, rolloutRestart: {namespace: shop, kind: Deployment, name: checkout}}\n    - {at: 7m, resumeRollout: {namespace: shop, name: checkout}}\n    - {at: 8m, rolloutRestart: {namespace: shop, kind: Deployment, name: checkout}}\n";
    let mut w = healthy_with(&[timeline]);
    w.advance(Duration::from_secs(5 * 60 + 30));
    let (pods, _) = checkout(&export::snapshot(&w));
    w.advance(Duration::from_secs(60));
    assert_eq!(
        checkout(&export::snapshot(&w)).0,
        pods,
        "refused: nothing rolled"
    );
    w.run_until_stable(Duration::from_secs(3600));
    let (rolled, _) = checkout(&export::snapshot(&w));
    assert!(rolled.iter().all(|p| !pods.contains(p)), "{rolled:?}");
    let failures = w.timeline_failures.join("\n");
    assert!(
        failures.contains("rolloutRestart Deployment/checkout in shop): did not happen")
            && failures.contains("can't restart paused deployment")
            && !failures.contains("8m"),
        "{failures}"
    );
}

/// A Deployment created paused gets no ReplicaSet and so runs no pod until it is resumed
/// (Kubernetes' e2e "paused deployment": no new ReplicaSet before the resume).
#[test]
fn a_deployment_created_paused_runs_no_pod_until_resumed() {
    let paused = crate::lab_nodes::HEALTHY.replacen(
        "spec:\n  replicas: 2\n",
        "spec:\n  paused: true\n  replicas: 2\n",
        1,
    );
    assert_ne!(paused, crate::lab_nodes::HEALTHY);
    let mut w = World::new(
        kvchain::source::lab::scenario::parse(
            "paused",
            std::path::Path::new("paused.yaml"),
            &[crate::lab_nodes::CLUSTER, crate::lab_nodes::SHOP, &paused].join("\n---\n"),
        )
        .expect("scenario parses"),
    );
    w.run_until_stable(Duration::from_secs(3600));
    assert_eq!(checkout(&export::snapshot(&w)), (vec![], vec![]));
    w.set_paused("shop", "checkout", false).expect("resumed");
    w.run_until_stable(Duration::from_secs(3600));
    let (pods, sets) = checkout(&export::snapshot(&w));
    assert_eq!((pods.len(), sets.len()), (2, 1), "{pods:?} {sets:?}");
}
