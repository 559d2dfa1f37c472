//! KVC901 where the copy taken at start goes away by itself or never went old (audit 12):
//! - A12-4: pods a Deployment's rollout is replacing (Reloader after a rotation, FACTS §10)
//!   hold the old env only until the rollout removes them: an info with nothing to do, not an
//!   error whose fix restarts again; a rollout stalled past the progress deadline leaves them,
//!   and its fix is what keeps the new pods from running.
//! - A12-5: a reader that does not mount the SPC, after its Secret was deleted and rebuilt
//!   with no vault version created since it started: with rotation on, the Secret followed
//!   the vault, so the value is the one it took (codes.yaml KVC901: info, same value).

use jiff::SignedDuration;
use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Chain, Code, Finding, Severity, diagnose};
use kvchain::snapshot::*;

fn kvc901(chains: &[Chain], pod: &str) -> Vec<Finding> {
    chains
        .iter()
        .flat_map(|c| c.findings())
        .filter(|f| f.code == Code::KVC901 && f.resource == format!("Pod/{pod}"))
        .cloned()
        .collect()
}

/// The password rotated 5 minutes ago (a new version, the Secret rewritten): the healthy
/// app's pod, started an hour ago, holds the old value in its env.
fn rotated(s: &mut Snapshot) {
    let at = tk::ago(SignedDuration::from_mins(5));
    tk::secret_mut(s, APP).updated_at = Some(at);
    if let Observed::Known(Some(o)) = &mut tk::object_mut(s, APP).state {
        o.versions[0].created = Some(at);
    }
}

/// Reloader rolled the Deployment out: the app's ReplicaSet is revision 1, a newer one
/// (revision 2) has one pod created `ago`, `running` or still ContainerCreating.
fn rolling_out(s: &mut Snapshot, ago: SignedDuration, running: bool) -> String {
    let rs = tk::replica_set(APP);
    tk::workload_mut(s, "ReplicaSet", &rs)
        .annotations
        .insert("deployment.kubernetes.io/revision".into(), "1".into());
    let new_rs = format!("{APP}-7c9d4f6b8");
    s.workloads.items.push(WorkloadObs {
        kind: "ReplicaSet".into(),
        namespace: NS.into(),
        name: new_rs.as_str().into(),
        uid: "uid-rs-new".into(),
        owners: vec![tk::owner("Deployment", APP)],
        annotations: [(
            "deployment.kubernetes.io/revision".to_string(),
            "2".to_string(),
        )]
        .into(),
        replicas: Some(1),
        ..WorkloadObs::default()
    });
    let mut pod = tk::pod_mut(s, APP).clone();
    let name = format!("{new_rs}-x2k9q");
    pod.name = name.as_str().into();
    pod.uid = "uid-pod-new".into();
    pod.owners = vec![tk::owner("ReplicaSet", &new_rs)];
    let created = tk::ago(ago);
    pod.created_at = Some(created);
    for c in &mut pod.containers {
        c.state = if running {
            ContainerStateObs::Running {
                started_at: created,
            }
        } else {
            ContainerStateObs::Waiting {
                reason: "ContainerCreating".into(),
                message: String::new(),
            }
        };
    }
    if !running {
        pod.phase = "Pending".into();
    }
    s.pods.items.push(pod);
    name
}

#[test]
fn a_pod_the_rollout_is_replacing_gets_an_info_with_nothing_to_do() {
    let mut s = tk::healthy();
    rotated(&mut s);
    let old = tk::pod_name(APP, 0);
    // Without a rollout: the old value, an error whose fix restarts (the baseline).
    let f = &kvc901(&diagnose(&s), &old)[0];
    assert_eq!(f.severity, Severity::Error, "{f:#?}");
    assert!(f.fix.contains("rollout restart"), "{}", f.fix);
    rolling_out(&mut s, SignedDuration::from_secs(20), true);
    let found = kvc901(&diagnose(&s), &old);
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(f.severity, Severity::Info, "{f:#?}");
    assert!(
        f.message.contains("rollout of Deployment") && f.message.contains("revision 2"),
        "{}",
        f.message
    );
    assert!(!f.fix.contains("rollout restart"), "{}", f.fix);
    assert!(f.fix.starts_with("# nothing to do"), "{}", f.fix);
}

#[test]
fn a_new_pod_still_starting_within_the_progress_deadline_is_a_rollout_in_progress() {
    let mut s = tk::healthy();
    rotated(&mut s);
    rolling_out(&mut s, SignedDuration::from_mins(2), false);
    let f = &kvc901(&diagnose(&s), &tk::pod_name(APP, 0))[0];
    assert_eq!(f.severity, Severity::Info, "{f:#?}");
}

#[test]
fn a_rollout_stalled_past_the_progress_deadline_keeps_the_finding_and_points_at_the_new_pod() {
    let mut s = tk::healthy();
    rotated(&mut s);
    // progressDeadlineSeconds defaults to 600: eleven minutes without the new pod running.
    let stuck = rolling_out(&mut s, SignedDuration::from_mins(11), false);
    let f = &kvc901(&diagnose(&s), &tk::pod_name(APP, 0))[0];
    assert_eq!(f.severity, Severity::Error, "{f:#?}");
    assert!(
        f.message.contains("stalled") && f.message.contains(&stuck),
        "{}",
        f.message
    );
    assert!(!f.fix.contains("rollout restart"), "{}", f.fix);
    assert!(
        f.fix
            .contains(&format!("kubectl describe pod {stuck} -n {NS}")),
        "{}",
        f.fix
    );
}

/// The rollout is the pod's own Deployment's, told from the ReplicaSets it owns in its
/// namespace: the highest revision among them is the new one (a same-named Deployment of
/// another namespace at revision 9 is not), and its pods are those running for it now (a
/// terminating one is leaving, not one of the new pods).
#[test]
fn the_rollout_counts_its_own_deployments_newest_replica_set_and_its_live_pods() {
    let mut s = tk::healthy();
    rotated(&mut s);
    let new_pod = rolling_out(&mut s, SignedDuration::from_secs(20), true);
    let mut leaving = (s.pods.items.iter())
        .find(|p| p.name == new_pod.as_str())
        .expect("the new pod")
        .clone();
    leaving.name = format!("{new_pod}-old").as_str().into();
    leaving.deleting = true;
    s.pods.items.push(leaving);
    let mut elsewhere = s
        .workloads
        .items
        .iter()
        .next_back()
        .expect("the new ReplicaSet")
        .clone();
    elsewhere.namespace = "other".into();
    elsewhere.name = format!("{APP}-9f8e7d6c5").as_str().into();
    elsewhere
        .annotations
        .insert("deployment.kubernetes.io/revision".into(), "9".into());
    s.workloads.items.push(elsewhere);
    let found = kvc901(&diagnose(&s), &tk::pod_name(APP, 0));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].message.contains(&format!(
            "the rollout of Deployment {APP} to revision 2 (ReplicaSet {APP}-7c9d4f6b8, 1 of 1 new pods running)"
        )),
        "{}",
        found[0].message
    );
}

/// Reloader changes the pod template on the Secret's watch event and the new ReplicaSet
/// follows within seconds: just after the write its rollout is due, not missing. A minute
/// later with no newer revision it did not happen, and the old value is the finding again.
#[test]
fn just_after_the_write_a_watched_workloads_rollout_is_due_and_missing_a_minute_later() {
    let mut s = tk::healthy();
    let at = tk::ago(SignedDuration::from_secs(10));
    tk::secret_mut(&mut s, APP).updated_at = Some(at);
    if let Observed::Known(Some(o)) = &mut tk::object_mut(&mut s, APP).state {
        o.versions[0].created = Some(at);
    }
    let pod = tk::pod_name(APP, 0);
    let f = &kvc901(&diagnose(&s), &pod)[0];
    assert_eq!(f.severity, Severity::Info, "{f:#?}");
    assert!(f.message.contains("rollout is due"), "{}", f.message);
    // Not watched by Reloader: nothing will restart it.
    tk::workload_mut(&mut s, "Deployment", APP)
        .annotations
        .clear();
    let f = &kvc901(&diagnose(&s), &pod)[0];
    assert_eq!(f.severity, Severity::Error, "{f:#?}");
}

/// Audit MM2: a Secret deleted and created again (its last write is its creation) sets off no
/// Reloader rollout: Reloader acts on updates, and on creates only with `--reload-on-create`
/// (default false, FACTS §10 [R] `internal/pkg/options/flags.go`; the lab's Reloader too).
/// So just after such a write no rollout is due: the old value is the finding, its fix the
/// restart, and the message says why Reloader does not act.
#[test]
fn a_re_created_secret_promises_no_reloader_rollout() {
    let mut s = tk::healthy();
    let at = tk::ago(SignedDuration::from_secs(10));
    let secret = tk::secret_mut(&mut s, APP);
    secret.created_at = Some(at);
    secret.updated_at = Some(at);
    if let Observed::Known(Some(o)) = &mut tk::object_mut(&mut s, APP).state {
        o.versions[0].created = Some(at);
    }
    let pod = tk::pod_name(APP, 0);
    let f = &kvc901(&diagnose(&s), &pod)[0];
    assert_eq!(f.severity, Severity::Error, "{f:#?}");
    assert!(!f.message.contains("rollout is due"), "{}", f.message);
    assert!(f.message.contains("--reload-on-create"), "{}", f.message);
    assert!(
        f.fix
            .contains(&format!("kubectl rollout restart deployment/{APP}")),
        "{}",
        f.fix
    );
}

/// A Deployment `reader` whose pod mounts no SPC and reads the app's synced Secret through
/// env, started an hour ago.
fn env_reader(s: &mut Snapshot) {
    let mut reader = tk::pod_mut(s, APP).clone();
    reader.name = "reader-5d8f7-abcde".into();
    reader.uid = "uid-pod-reader".into();
    reader.owners = vec![tk::owner("ReplicaSet", "reader-5d8f7")];
    reader.volumes.clear();
    for c in &mut reader.containers {
        c.mounts.clear();
    }
    s.pods.items.push(reader);
    tk::deployment_with_replica_set(s, "reader", "reader-5d8f7");
}

/// The Secret was deleted and rebuilt 5 minutes ago (its mounting workload deleted and
/// restored); the vault holds an older version beside the latest, both long before any start.
fn rebuilt_with_two_versions(s: &mut Snapshot) {
    let at = tk::ago(SignedDuration::from_mins(5));
    let secret = tk::secret_mut(s, APP);
    secret.created_at = Some(at);
    secret.updated_at = Some(at);
    if let Observed::Known(Some(o)) = &mut tk::object_mut(s, APP).state {
        let mut older = o.versions[0].clone();
        older.version = "0123456789abcdef0123456789abcdef".into();
        older.created = Some(tk::ago(SignedDuration::from_hours(24 * 60)));
        older.fingerprint = Some(Fingerprint::of(b"the older value"));
        o.versions.push(older);
    }
}

#[test]
fn a_reader_without_the_spc_after_its_secret_was_rebuilt_holds_the_same_value_with_rotation_on() {
    let mut s = tk::healthy();
    env_reader(&mut s);
    rebuilt_with_two_versions(&mut s);
    let found = kvc901(&diagnose(&s), "reader-5d8f7-abcde");
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(f.severity, Severity::Info, "{f:#?}");
    assert!(
        !f.message.contains("may hold the old value"),
        "{}",
        f.message
    );
}

#[test]
fn with_rotation_off_a_rebuilt_secret_may_hold_a_newer_value_than_the_reader_took() {
    // FACTS §11: with rotation off the Secret is written only when missing, so it may have held
    // the older version when the reader started; rebuilt now, it holds the latest.
    let mut s = tk::healthy();
    env_reader(&mut s);
    rebuilt_with_two_versions(&mut s);
    if let Observed::Known(csi) = &mut s.cluster.csi_driver {
        csi.rotation_enabled = Observed::Known(false);
    }
    let f = &kvc901(&diagnose(&s), "reader-5d8f7-abcde")[0];
    assert_eq!(f.severity, Severity::Warning, "{f:#?}");
    assert!(
        f.message.contains("may hold the old value"),
        "{}",
        f.message
    );
}
