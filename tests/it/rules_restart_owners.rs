//! The restart half of fixes for owners `kubectl rollout restart` does not restart, and the
//! Reloader fix (KVC902) for owners Reloader does not watch (audit 18, A18-3/A18-8).
//! A fix works when pasted: it restarts the pod the way its owner allows (a StatefulSet under
//! OnDelete or with a partition above the pod: the pod deleted; an Argo Rollout: its
//! `spec.restartAt`; a static pod: not from the API), and proposes no Reloader annotation
//! where Reloader never looks (Stakater Reloader restarts Deployments, DaemonSets,
//! StatefulSets, Argo Rollouts, CronJobs and DeploymentConfigs — FACTS §10 and its docs).

use jiff::SignedDuration;
use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Code, Severity};
use kvchain::snapshot::*;

use super::rules_runtime::{all, only, run};

/// The Secret (and its vault version) written after the container started: KVC901.
fn rotated_after_start(s: &mut Snapshot) {
    let at = tk::ago(SignedDuration::from_mins(5));
    tk::secret_mut(s, APP).updated_at = Some(at);
    if let Observed::Known(Some(o)) = &mut tk::object_mut(s, APP).state {
        o.versions[0].created = Some(at);
    }
}

/// The app's pod owned by `owner` instead of its Deployment's ReplicaSet, renamed `name`;
/// the Deployment and ReplicaSet gone, `workloads` in their place.
fn owned(s: &mut Snapshot, name: &str, owner: OwnerRef, workloads: Vec<WorkloadObs>) {
    let rs = tk::replica_set(APP);
    s.workloads
        .items
        .retain(|w| w.name != APP && w.name.as_str() != rs);
    s.workloads.items.extend(workloads);
    for p in s.pods.items.iter_mut() {
        p.owners = vec![owner.clone()];
        p.name = name.into();
    }
    for st in s.spc_statuses.items.iter_mut() {
        st.pod_name = name.into();
    }
}

fn stateful_set(update: UpdateObs) -> WorkloadObs {
    WorkloadObs {
        kind: "StatefulSet".into(),
        namespace: NS.into(),
        name: APP.into(),
        replicas: Some(3),
        annotations: [("reloader.stakater.com/auto".to_string(), "true".to_string())]
            .into_iter()
            .collect::<std::collections::BTreeMap<_, _>>()
            .into(),
        update: Some(update),
        ..Default::default()
    }
}

fn kvc901_fix(s: &Snapshot) -> String {
    only(&run(s), Code::KVC901).fix.to_string()
}

#[test]
fn a_stateful_set_on_delete_is_restarted_by_deleting_the_pod() {
    let mut s = tk::healthy();
    rotated_after_start(&mut s);
    let pod = format!("{APP}-1");
    owned(
        &mut s,
        &pod,
        tk::owner("StatefulSet", APP),
        vec![stateful_set(UpdateObs {
            on_delete: true,
            partition: None,
            ..Default::default()
        })],
    );
    let fix = kvc901_fix(&s);
    assert!(
        fix.starts_with(&format!(
            "kubectl delete pod {pod} -n {NS}  # its StatefulSet {APP} starts a new one; StatefulSet {APP} has updateStrategy OnDelete"
        )),
        "{fix}"
    );
    assert!(!fix.contains("kubectl rollout restart"), "{fix}");
}

#[test]
fn a_stateful_set_partition_deletes_a_pod_below_it_and_rolls_one_above_it() {
    let mut s = tk::healthy();
    rotated_after_start(&mut s);
    let partition = UpdateObs {
        on_delete: false,
        partition: Some(2),
        ..Default::default()
    };
    let mut below = s.clone();
    owned(
        &mut below,
        &format!("{APP}-1"),
        tk::owner("StatefulSet", APP),
        vec![stateful_set(partition.clone())],
    );
    let fix = kvc901_fix(&below);
    assert!(
        fix.starts_with(&format!("kubectl delete pod {APP}-1 -n {NS}  #"))
            && fix.contains("Pod ordinal 1 is below StatefulSet web's rollingUpdate.partition 2"),
        "{fix}"
    );
    owned(
        &mut s,
        &format!("{APP}-2"),
        tk::owner("StatefulSet", APP),
        vec![stateful_set(partition)],
    );
    let fix = kvc901_fix(&s);
    assert!(
        fix.starts_with(&format!(
            "kubectl rollout restart statefulset/{APP} -n {NS}  # Only pods with ordinal 2 or above are replaced"
        )),
        "{fix}"
    );
}

#[test]
fn an_argo_rollouts_pod_is_restarted_through_restart_at() {
    let mut s = tk::healthy();
    rotated_after_start(&mut s);
    let rs = format!("{APP}-6c7d8e9f");
    owned(
        &mut s,
        &format!("{rs}-x1p2q"),
        tk::owner("ReplicaSet", &rs),
        vec![WorkloadObs {
            kind: "ReplicaSet".into(),
            namespace: NS.into(),
            name: rs.as_str().into(),
            owners: vec![tk::owner("Rollout", APP)],
            ..Default::default()
        }],
    );
    for p in s.pods.items.iter_mut() {
        p.labels
            .insert("rollouts-pod-template-hash".into(), "6c7d8e9f".into());
    }
    let fix = kvc901_fix(&s);
    assert!(
        fix.starts_with(&format!(
            "kubectl patch rollout.argoproj.io {APP} -n {NS} --type merge -p \"{{\\\"spec\\\":{{\\\"restartAt\\\":\\\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\\\"}}}}\""
        )),
        "{fix}"
    );
}

#[test]
fn a_mirror_pods_fix_restarts_nothing_from_the_api_and_says_where() {
    let mut s = tk::healthy();
    rotated_after_start(&mut s);
    owned(&mut s, "etcd-node-1", tk::owner("Node", "node-1"), vec![]);
    for p in s.pods.items.iter_mut() {
        p.annotations
            .insert("kubernetes.io/config.mirror".into(), "4c1f".into());
    }
    let fix = kvc901_fix(&s);
    assert!(fix.starts_with("# not restartable from the API"), "{fix}");
    assert!(
        fix.contains("static pod on node node-1") && !fix.contains("kubectl delete"),
        "{fix}"
    );
}

/// A18-8: a ReplicaSet with no Deployment above it is not watched by Reloader: no annotate
/// fix; what restarts its pods is deleting them, after each rotation.
#[test]
fn kvc902_a_bare_replica_sets_pods_get_no_reloader_annotation() {
    let mut s = tk::healthy();
    let rs = tk::replica_set(APP);
    let pod = tk::pod_name(APP, 0);
    s.workloads.items.retain(|w| w.name != APP);
    for w in s.workloads.items.iter_mut() {
        w.owners.clear();
    }
    let f = only(&run(&s), Code::KVC902);
    assert_eq!(
        f.resource,
        format!("ReplicaSet/{rs}"),
        "{:#?}",
        all(&run(&s))
    );
    assert_eq!(f.severity, Severity::Warning);
    assert!(f.message.contains("not a ReplicaSet"), "{}", f.message);
    assert!(!f.fix.contains("annotate"), "{}", f.fix);
    assert!(
        f.fix.starts_with(&format!(
            "kubectl delete pod {pod} -n {NS}  # after each rotation (its ReplicaSet {rs} starts a new one): Reloader does not restart a ReplicaSet"
        )),
        "{}",
        f.fix
    );
    assert_eq!(
        f.confirm.as_ref() as &str,
        format!("kubectl get replicaset/{rs} -n {NS} -o jsonpath='{{.metadata.ownerReferences}}'")
    );
}

/// An operator's resource (not observed, not watched by Reloader) is known not to be
/// restarted by Reloader: said, with the restart that works.
#[test]
fn kvc902_an_operators_pods_get_no_reloader_annotation() {
    let mut s = tk::healthy();
    owned(
        &mut s,
        "redis-0",
        tk::owner("RedisFailover", "redis"),
        vec![],
    );
    let f = only(&run(&s), Code::KVC902);
    assert_eq!(f.resource, "RedisFailover/redis");
    assert!(f.message.contains("not a RedisFailover"), "{}", f.message);
    assert!(
        f.fix.starts_with(&format!(
            "kubectl delete pod redis-0 -n {NS}  # after each rotation"
        )) && !f.fix.contains("annotate"),
        "{}",
        f.fix
    );
}

/// The workloads Reloader watches keep the annotate fix (an Argo Rollout's needs Reloader's
/// Argo support switched on).
#[test]
fn kvc902_a_deployment_still_gets_the_reloader_annotation() {
    let mut s = tk::healthy();
    tk::workload_mut(&mut s, "Deployment", APP)
        .annotations
        .clear();
    let f = only(&run(&s), Code::KVC902);
    assert_eq!(
        f.fix.as_ref() as &str,
        format!(
            "kubectl annotate deployment/{APP} -n {NS} reloader.stakater.com/auto=true --overwrite  # needs Stakater Reloader in the cluster"
        )
    );
}

/// Workloads unread (a 403): an Argo Rollout's pod is known by its own hash label, not taken
/// for a Deployment's by the `<owner>-<hash>` naming both follow.
#[test]
fn an_argo_pod_with_workloads_unread_is_its_rollouts_not_a_deployments() {
    let mut s = tk::healthy();
    rotated_after_start(&mut s);
    s.workloads = Coll::unknown("cannot list replicasets in shop: forbidden");
    for p in s.pods.items.iter_mut() {
        p.labels.remove("pod-template-hash");
        p.labels
            .insert("rollouts-pod-template-hash".into(), "7d9f8c6b5".into());
    }
    let chains = run(&s);
    let workload = chains[0].workload.as_ref().expect("a workload");
    assert_eq!(
        (workload.kind.as_ref(), workload.name.as_ref()),
        ("Rollout", APP)
    );
    let fix = kvc901_fix(&s);
    assert!(
        fix.starts_with(&format!(
            "kubectl patch rollout.argoproj.io {APP} -n {NS} --type merge"
        )),
        "{fix}"
    );
}

/// A paused Deployment (`spec.paused`): kubectl refuses `rollout restart` ("can't restart
/// paused deployment (run rollout resume first)", kubectl's object restarter) and the
/// deployment controller rolls no template change while paused; its ReplicaSet still makes a
/// deleted pod again. The fix deletes the pod and says how to restart every replica.
#[test]
fn a_paused_deployments_pod_is_deleted_not_rolled() {
    let mut s = tk::healthy();
    rotated_after_start(&mut s);
    let running = kvc901_fix(&s);
    assert!(
        running.starts_with(&format!("kubectl rollout restart deployment/{APP} -n {NS}")),
        "{running}"
    );
    tk::workload_mut(&mut s, "Deployment", APP).paused = true;
    let fix = kvc901_fix(&s);
    let (run, note) = fix.split_once("  # ").expect("a command and why");
    assert_eq!(
        run,
        format!("kubectl delete pod {} -n {NS}", tk::pod_name(APP, 0)),
        "{fix}"
    );
    assert!(
        note.starts_with(&format!(
            "its ReplicaSet {} starts a new one; Deployment {APP} is paused (spec.paused): kubectl rollout restart refuses it",
            tk::replica_set(APP)
        )) && note.contains(&format!(
            "kubectl rollout resume deployment/{APP} -n {NS} && kubectl rollout restart deployment/{APP} -n {NS}"
        )),
        "{fix}"
    );
}

/// Deployments unread: whether the Deployment is paused is not known, and the rollout restart
/// says what it depends on instead of promising every replica.
#[test]
fn an_unread_deployments_restart_says_a_pause_is_not_known() {
    let mut s = tk::healthy();
    rotated_after_start(&mut s);
    s.workloads = Coll::unknown("cannot list deployments in shop: forbidden");
    let fix = kvc901_fix(&s);
    assert!(
        fix.starts_with(&format!(
            "kubectl rollout restart deployment/{APP} -n {NS}  # Every replica is replaced, unless Deployment {APP} is paused: that is not known"
        )),
        "{fix}"
    );
}
