use super::*;
use crate::snapshot::{Coll, OwnerRef, UpdateObs, WorkloadObs};

pub(super) fn owner(kind: &str, name: &str) -> OwnerRef {
    OwnerRef {
        kind: kind.into(),
        name: name.into(),
        uid: Default::default(),
        controller: true,
    }
}

pub(super) fn owned(kind: &str, name: &str) -> PodObs {
    PodObs {
        namespace: "pay".into(),
        name: "web-6d9-abcde".into(),
        owners: vec![owner(kind, name)],
        labels: [("pod-template-hash".to_string(), "6d9".to_string())].into(),
        phase: "Running".into(),
        ..Default::default()
    }
}

pub(super) fn workload(kind: &str, name: &str, owners: Vec<OwnerRef>) -> WorkloadObs {
    WorkloadObs {
        kind: kind.into(),
        namespace: "pay".into(),
        name: name.into(),
        owners,
        ..Default::default()
    }
}

pub(super) fn with(workloads: Vec<WorkloadObs>) -> Snapshot {
    Snapshot {
        workloads: Coll::known(workloads),
        ..Default::default()
    }
}

/// The confirmation never promises a rollout restart the plan does not do.
fn says_rollout(plan: &RestartPlan) -> bool {
    plan.confirmation()
        .to_lowercase()
        .contains("rollout restart")
}

#[test]
fn replica_set_pod_restarts_its_deployment() {
    let s = with(vec![workload(
        "ReplicaSet",
        "web-6d9",
        vec![owner("Deployment", "web")],
    )]);
    let plan = RestartPlan::for_pod(&s, &owned("ReplicaSet", "web-6d9"));
    assert_eq!(
        plan,
        RestartPlan::RolloutRestart {
            namespace: "pay".into(),
            kind: "Deployment".into(),
            name: "web".into(),
            note: None,
        }
    );
    assert!(
        plan.confirmation()
            .contains("kubectl rollout restart deployment web -n pay")
    );
    assert_eq!(
        plan.command(),
        "kubectl rollout restart deployment/web -n pay"
    );
}

#[test]
fn deployment_is_found_from_template_hash_when_workloads_are_unknown() {
    let s = Snapshot::default();
    let plan = RestartPlan::for_pod(&s, &owned("ReplicaSet", "web-6d9"));
    assert_eq!(
        plan.replacing_owner(),
        Some(("Deployment".into(), "web".into()))
    );
}

#[test]
fn bare_pod_is_deleted_with_a_warning() {
    let s = Snapshot::default();
    let bare = PodObs {
        namespace: "pay".into(),
        name: "debug".into(),
        ..Default::default()
    };
    let plan = RestartPlan::for_pod(&s, &bare);
    assert!(matches!(plan, RestartPlan::DeleteBarePod { .. }));
    assert!(plan.confirmation().contains("nothing recreates it"));
    assert_eq!(plan.replacing_owner(), None);
}

/// An Argo Rollout's pod: its ReplicaSet is owned by the Rollout and the pods carry
/// `rollouts-pod-template-hash`. The restart is the plugin's: `spec.restartAt`, patched on
/// the Rollout, never a delete or a Deployment rollout.
#[test]
fn argo_rollout_pod_restarts_the_rollout_through_restart_at() {
    let mut pod = owned("ReplicaSet", "api-7f8c9d");
    pod.labels = [(
        "rollouts-pod-template-hash".to_string(),
        "7f8c9d".to_string(),
    )]
    .into();
    let observed = with(vec![workload(
        "ReplicaSet",
        "api-7f8c9d",
        vec![owner("Rollout", "api")],
    )]);
    for s in [observed, Snapshot::default()] {
        let plan = RestartPlan::for_pod(&s, &pod);
        assert_eq!(
            plan,
            RestartPlan::ArgoRestart {
                namespace: "pay".into(),
                name: "api".into()
            }
        );
        assert!(!says_rollout(&plan), "{}", plan.confirmation());
        assert!(plan.confirmation().contains("spec.restartAt"));
        assert_eq!(
            plan.review_target(),
            Some(("patch", "argoproj.io", "rollouts", "pay", "api"))
        );
        assert!(
            plan.command()
                .starts_with("kubectl patch rollout.argoproj.io api -n pay --type merge -p ")
        );
        assert_eq!(
            plan.replacing_owner(),
            Some(("Rollout".into(), "api".into()))
        );
    }
}

#[test]
fn bare_replica_set_and_custom_resource_pods_are_deleted_and_said_so() {
    let bare_rs = with(vec![workload("ReplicaSet", "cache-5d4", vec![])]);
    let mut pod = owned("ReplicaSet", "cache-5d4");
    pod.labels.clear();
    let plan = RestartPlan::for_pod(&bare_rs, &pod);
    assert!(
        matches!(&plan, RestartPlan::DeleteOwnedPod { owner, .. } if owner == "ReplicaSet/cache-5d4"),
        "{plan:?}"
    );
    assert!(!says_rollout(&plan), "{}", plan.confirmation());
    assert!(
        plan.confirmation().starts_with(
            "Delete pod pay/web-6d9-abcde; its controller ReplicaSet/cache-5d4 makes a new one."
        ),
        "{}",
        plan.confirmation()
    );

    let cr = RestartPlan::for_pod(&Snapshot::default(), &owned("RedisFailover", "cache"));
    assert!(!says_rollout(&cr), "{}", cr.confirmation());
    assert!(
        cr.confirmation()
            .contains("its controller RedisFailover/cache makes a new one")
            && cr.confirmation().contains("not a built-in workload"),
        "{}",
        cr.confirmation()
    );
    assert_eq!(cr.review_target().map(|t| t.0), Some("delete"));
}

#[test]
fn a_mirror_pod_is_refused_and_nothing_is_written() {
    let mut pod = owned("Node", "aks-node-1");
    pod.annotations
        .insert(MIRROR_ANNOTATION.into(), "3f2a".into());
    let plan = RestartPlan::for_pod(&Snapshot::default(), &pod);
    assert!(matches!(plan, RestartPlan::Refused { .. }), "{plan:?}");
    assert_eq!(plan.review_target(), None);
    assert_eq!(plan.replacing_owner(), None);
    let said = plan.confirmation();
    assert!(!says_rollout(&plan), "{said}");
    assert!(
        said.contains("static pod on node aks-node-1")
            && said.contains("does not restart the static pod")
            && said.contains("manifest"),
        "{said}"
    );
    assert!(plan.command().starts_with("# "), "{}", plan.command());
}

#[test]
fn a_running_job_pod_is_deleted_with_its_backoff_cost_and_a_finished_one_is_refused() {
    let s = Snapshot::default();
    let plan = RestartPlan::for_pod(&s, &owned("Job", "migrate"));
    assert!(matches!(&plan, RestartPlan::DeleteOwnedPod { owner, .. } if owner == "Job/migrate"));
    let said = plan.confirmation();
    assert!(!says_rollout(&plan), "{said}");
    assert!(
        said.contains("Job migrate counts the deleted pod as a failure against its backoffLimit"),
        "{said}"
    );
    let mut done = owned("Job", "migrate");
    done.phase = "Succeeded".into();
    assert!(matches!(
        RestartPlan::for_pod(&s, &done),
        RestartPlan::Refused { .. }
    ));
}

pub(super) fn stateful(update: Option<UpdateObs>) -> Snapshot {
    let mut w = workload("StatefulSet", "db", vec![]);
    w.update = update;
    with(vec![w])
}

pub(super) fn db_pod(ordinal: u32) -> PodObs {
    let mut p = owned("StatefulSet", "db");
    p.name = format!("db-{ordinal}").into();
    p
}

#[test]
fn a_stateful_set_on_delete_deletes_the_pod_instead_of_a_rollout_that_replaces_none() {
    let s = stateful(Some(UpdateObs {
        on_delete: true,
        partition: None,
        ..Default::default()
    }));
    let plan = RestartPlan::for_pod(&s, &db_pod(1));
    assert!(
        matches!(&plan, RestartPlan::DeleteOwnedPod { pod, owner, .. } if pod == "db-1" && owner == "StatefulSet/db"),
        "{plan:?}"
    );
    assert!(
        plan.confirmation().contains("OnDelete"),
        "{}",
        plan.confirmation()
    );
    assert!(plan.replaces_one_pod());
}

#[test]
fn a_stateful_set_partition_replaces_only_the_ordinals_at_or_above_it() {
    let s = stateful(Some(UpdateObs {
        on_delete: false,
        partition: Some(2),
        ..Default::default()
    }));
    let below = RestartPlan::for_pod(&s, &db_pod(1));
    assert!(
        matches!(&below, RestartPlan::DeleteOwnedPod { .. }),
        "{below:?}"
    );
    assert!(
        below
            .confirmation()
            .contains("below StatefulSet db's rollingUpdate.partition 2")
    );
    let above = RestartPlan::for_pod(&s, &db_pod(2));
    assert!(
        matches!(&above, RestartPlan::RolloutRestart { .. }),
        "{above:?}"
    );
    let said = above.confirmation();
    assert!(
        said.contains("Only pods with ordinal 2 or above are replaced")
            && !said.contains("Every replica"),
        "{said}"
    );
    assert!(
        above
            .command()
            .contains("# Only pods with ordinal 2 or above")
    );
}

#[test]
fn an_unobserved_stateful_set_says_its_strategy_is_not_known() {
    let plan = RestartPlan::for_pod(&Snapshot::default(), &db_pod(0));
    assert!(matches!(&plan, RestartPlan::RolloutRestart { .. }));
    assert!(plan.confirmation().contains("updateStrategy is not known"));
    let plain = RestartPlan::for_pod(&stateful(Some(UpdateObs::default())), &db_pod(0));
    assert!(plain.confirmation().ends_with("Every replica is replaced."));
}

#[test]
fn a_daemon_set_on_delete_deletes_the_pod() {
    let mut w = workload("DaemonSet", "agent", vec![]);
    w.update = Some(UpdateObs {
        on_delete: true,
        partition: None,
        ..Default::default()
    });
    let plan = RestartPlan::for_pod(&with(vec![w]), &owned("DaemonSet", "agent"));
    assert!(
        matches!(&plan, RestartPlan::DeleteOwnedPod { owner, .. } if owner == "DaemonSet/agent"),
        "{plan:?}"
    );
}

/// kubectl refuses to rollout-restart a paused Deployment, whether the pod names its
/// ReplicaSet or (rarely) the Deployment itself: the pod is deleted instead.
#[test]
fn a_paused_deployment_is_not_rolled_its_pod_is_deleted() {
    let mut d = workload("Deployment", "web", vec![]);
    d.paused = true;
    let rs = workload("ReplicaSet", "web-6d9", vec![owner("Deployment", "web")]);
    let s = with(vec![d, rs]);
    for (kind, name) in [("ReplicaSet", "web-6d9"), ("Deployment", "web")] {
        let plan = RestartPlan::for_pod(&s, &owned(kind, name));
        assert!(
            matches!(&plan, RestartPlan::DeleteOwnedPod { owner, note: Some(n), .. }
                if *owner == format!("{kind}/{name}") && n.starts_with("Deployment web is paused")),
            "{plan:?}"
        );
        assert!(
            plan.confirmation()
                .starts_with("Delete pod pay/web-6d9-abcde;")
        );
        assert!(
            plan.command()
                .starts_with("kubectl delete pod web-6d9-abcde -n pay  #")
        );
        assert_eq!(plan.review_target().map(|t| t.0), Some("delete"));
    }
}

/// Kubernetes docs (Deployments, "Recreate Deployment"): "All existing Pods are killed
/// before new ones are created when .spec.strategy.type==Recreate", so its rollout restart
/// is an outage until the new pods are ready: the confirmation and the pasted command say
/// so (the Deployment read as every source reads one, from its object).
#[test]
fn a_recreate_deployments_restart_says_it_stops_every_replica_first() {
    use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy};
    let object = |strategy: &str| Deployment {
        metadata: kube::api::ObjectMeta {
            name: Some("web".into()),
            namespace: Some("pay".into()),
            ..Default::default()
        },
        spec: Some(DeploymentSpec {
            strategy: Some(DeploymentStrategy {
                type_: Some(strategy.into()),
                rolling_update: None,
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let rs = workload("ReplicaSet", "web-6d9", vec![owner("Deployment", "web")]);
    let d = crate::snapshot::convert::deployment(&object("Recreate"));
    let plan = RestartPlan::for_pod(&with(vec![d, rs.clone()]), &owned("ReplicaSet", "web-6d9"));
    assert!(
        matches!(&plan, RestartPlan::RolloutRestart { .. }),
        "{plan:?}"
    );
    let said = "Deployment web has strategy Recreate: the rollout stops every replica before it starts any new one, so it serves nothing until the new pods are ready";
    assert!(
        plan.confirmation().ends_with(said),
        "{}",
        plan.confirmation()
    );
    assert_eq!(
        plan.command(),
        format!("kubectl rollout restart deployment/web -n pay  # {said}")
    );
    // A rolling update replaces the replicas a few at a time: nothing more to say.
    let d = crate::snapshot::convert::deployment(&object("RollingUpdate"));
    let plan = RestartPlan::for_pod(&with(vec![d, rs]), &owned("ReplicaSet", "web-6d9"));
    assert!(
        plan.confirmation().ends_with("Every replica is replaced."),
        "{}",
        plan.confirmation()
    );
}

#[test]
fn a_deployment_unread_says_a_pause_is_not_known() {
    let s = Snapshot {
        workloads: Coll::unknown("forbidden"),
        ..Default::default()
    };
    let plan = RestartPlan::for_pod(&s, &owned("ReplicaSet", "web-6d9"));
    assert!(
        matches!(&plan, RestartPlan::RolloutRestart { .. }),
        "{plan:?}"
    );
    assert!(
        plan.confirmation()
            .contains("unless Deployment web is paused: that is not known"),
        "{}",
        plan.confirmation()
    );
}

/// StatefulSet db of 3 (`update` its strategy), its pods running and Ready but for `stuck`,
/// held in ContainerCreating (a SecretProviderClass mount failing keeps the pod Pending).
pub(super) fn db_set(update: UpdateObs, stuck: &[u32]) -> (Snapshot, Vec<PodObs>) {
    let mut w = workload("StatefulSet", "db", vec![]);
    w.update = Some(update);
    w.replicas = Some(3);
    let pods: Vec<PodObs> = (0..3)
        .map(|i| {
            let mut p = db_pod(i);
            // The kubelet's Ready condition: False while a container waits.
            p.ready = Some(!stuck.contains(&i));
            let state = match stuck.contains(&i) {
                true => {
                    p.phase = "Pending".into();
                    crate::snapshot::ContainerStateObs::Waiting {
                        reason: "ContainerCreating".into(),
                        message: String::new(),
                    }
                }
                false => crate::snapshot::ContainerStateObs::Running {
                    started_at: jiff::Timestamp::UNIX_EPOCH,
                },
            };
            p.containers = vec![crate::snapshot::ContainerObs {
                name: "app".into(),
                state,
                ..Default::default()
            }];
            p
        })
        .collect();
    let mut s = with(vec![w]);
    s.pods = Coll::known(pods.clone());
    (s, pods)
}

/// OrderedReady (the default) does nothing while a pod is not Running and Ready, so a rollout
/// restart would leave the stuck pod as it is ("Forced rollback"): its restart deletes it and
/// says so, never promising that the rollout replaces it.
#[test]
fn an_ordered_ready_stateful_sets_stuck_pod_is_deleted_the_rollout_would_wait_for_it() {
    let (s, pods) = db_set(UpdateObs::default(), &[1]);
    let plan = RestartPlan::for_pod(&s, &pods[1]);
    assert!(
        matches!(&plan, RestartPlan::DeleteOwnedPod { pod, owner, .. } if pod == "db-1" && owner == "StatefulSet/db"),
        "{plan:?}"
    );
    let said = plan.confirmation();
    assert!(
        said.contains(
            "Pod db-1 is not Running and Ready (container app waiting: ContainerCreating)"
        ) && said.contains("the rollout waits for it")
            && said.contains("Deleting it is what replaces it")
            && !said.contains("Every replica is replaced"),
        "{said}"
    );
    assert!(
        plan.command()
            .starts_with("kubectl delete pod db-1 -n pay  #")
    );
}

/// A healthy pod's restart is still the rollout restart, which says it waits for the stuck one.
#[test]
fn a_sibling_stuck_holds_the_rollout_and_the_plan_says_so() {
    let (s, pods) = db_set(UpdateObs::default(), &[1]);
    let plan = RestartPlan::for_pod(&s, &pods[2]);
    assert!(
        matches!(&plan, RestartPlan::RolloutRestart { .. }),
        "{plan:?}"
    );
    let said = plan.confirmation();
    assert!(
        said.contains("No pod is replaced while pod db-1 is not Running and Ready")
            && said.contains("deleting db-1 is what replaces it")
            && !said.contains("Every replica is replaced."),
        "{said}"
    );
    // Nothing stuck: the plain promise.
    let (s, pods) = db_set(UpdateObs::default(), &[]);
    let plan = RestartPlan::for_pod(&s, &pods[1]);
    assert!(plan.confirmation().ends_with("Every replica is replaced."));
}

/// Parallel waits for no pod: the rollout restart replaces the stuck one too.
#[test]
fn a_parallel_stateful_set_rolls_its_stuck_pod() {
    let parallel = UpdateObs {
        parallel: true,
        ..Default::default()
    };
    let (s, pods) = db_set(parallel, &[1]);
    for i in [1, 2] {
        let plan = RestartPlan::for_pod(&s, &pods[i]);
        assert!(
            plan.confirmation().ends_with("Every replica is replaced."),
            "{plan:?}"
        );
    }
}

/// A pod deleted above a stuck one is not made again until that one is ready: said.
#[test]
fn a_delete_above_a_stuck_pod_says_it_comes_back_only_once_that_one_is_ready() {
    let on_delete = UpdateObs {
        on_delete: true,
        ..Default::default()
    };
    let (s, pods) = db_set(on_delete, &[0]);
    let said = RestartPlan::for_pod(&s, &pods[2]).confirmation();
    assert!(
        said.contains("OnDelete") && said.contains("makes db-2 again only once db-0 is"),
        "{said}"
    );
}

/// Not observed, a stuck pod is deleted all the same: under every strategy that replaces it.
#[test]
fn an_unobserved_stateful_sets_stuck_pod_is_deleted() {
    let (_, pods) = db_set(UpdateObs::default(), &[0]);
    let plan = RestartPlan::for_pod(&Snapshot::default(), &pods[0]);
    assert!(
        matches!(&plan, RestartPlan::DeleteOwnedPod { .. }),
        "{plan:?}"
    );
    assert!(
        plan.confirmation()
            .contains("StatefulSet db is not observed")
    );
}
