//! Audit II: what a retired pod's spec, node and copies say is history. A pod that finished
//! (phase Succeeded), failed (an evicted pod) or is being deleted mounts and starts nothing
//! again: the driver's rotation reconciler skips it and its SPC pod status stays until the pod
//! object goes (FACTS §1); `subPath` harms a *running* reader (FACTS §4); a node without the
//! driver fails a *mount* (FACTS §11 "Nodes"); an env copy is refreshed by a pod restart
//! (FACTS §4), which a pod being deleted is already having. A Job of its own (no CronJob)
//! whose pod Succeeded is complete and creates no further pods (kubernetes.io "Jobs"), so an
//! object gone since is history too; a CronJob's next run still needs it.

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Chain, Code, Finding, LinkKind, Severity, Status, diagnose};
use kvchain::snapshot::*;

use crate::rules_pod_link_repaired::addon_on_linux_node;

/// An edit that retires a pod.
pub(crate) type Retire = fn(&mut PodObs);

pub(crate) const RETIRED: [(&str, Retire); 3] = [
    ("evicted", |p| {
        p.phase = "Failed".into();
        for c in &mut p.containers {
            c.state = ContainerStateObs::Terminated {
                reason: "ContainerStatusUnknown".into(),
                exit_code: 137,
            };
        }
    }),
    ("succeeded", |p| {
        p.phase = "Succeeded".into();
        for c in &mut p.containers {
            c.state = ContainerStateObs::Terminated {
                reason: "Completed".into(),
                exit_code: 0,
            };
        }
    }),
    ("terminating", |p| p.deleting = true),
];

fn findings(s: &Snapshot) -> Vec<Finding> {
    diagnose(s)
        .iter()
        .flat_map(|c| c.findings().cloned().collect::<Vec<_>>())
        .collect()
}

fn codes(s: &Snapshot) -> Vec<Code> {
    findings(s).iter().map(|f| f.code).collect()
}

/// Two pods of the app; the first (an older revision's) mounts the CSI volume with subPath,
/// which the Deployment's template and the other pod no longer have.
fn sub_path_on_first(retire: Option<Retire>) -> Snapshot {
    let mut s = tk::empty();
    tk::add_app(&mut s, NS, APP, 2);
    let pod = tk::pod_mut(&mut s, APP);
    let csi = (pod.volumes.iter())
        .find(|v| matches!(v.source, VolumeSourceObs::Csi { .. }))
        .expect("CSI volume")
        .name
        .clone();
    pod.containers[0].mounts.push(MountObs {
        volume: csi,
        path: "/etc/db-password".into(),
        sub_path: Some("password".into()),
        read_only: true,
    });
    if let Some(retire) = retire {
        retire(pod);
    }
    s
}

/// II1: no KVC102 from a retired pod's subPath: its fix would edit a template that lost it.
#[test]
fn a_retired_pods_sub_path_is_no_rotation_gap() {
    for (name, retire) in RETIRED {
        let got = codes(&sub_path_on_first(Some(retire)));
        assert!(!got.contains(&Code::KVC102), "{name}: {got:?}");
    }
}

/// Control: the running pod's subPath is the latent gap it always was.
#[test]
fn a_running_pods_sub_path_is_still_judged() {
    let got = codes(&sub_path_on_first(None));
    assert!(got.contains(&Code::KVC102), "{got:?}");
}

/// The app's two pods on the add-on's Linux node; the first moved to a Windows node, where no
/// driver DaemonSet may run (FACTS §11), and `retire`d.
fn first_on_windows(retire: Option<Retire>) -> Snapshot {
    let mut s = tk::empty();
    tk::add_app(&mut s, NS, APP, 2);
    addon_on_linux_node(&mut s, Vec::new());
    if let Observed::Known(nodes) = &mut s.cluster.nodes {
        nodes.push(NodeObs {
            name: "akswin000000".into(),
            labels: [("kubernetes.io/os".to_string(), "windows".to_string())].into(),
            taints: Vec::new(),
            ..NodeObs::default()
        });
    }
    let pod = tk::pod_mut(&mut s, APP);
    pod.node = Some("akswin000000".into());
    if let Some(retire) = retire {
        retire(pod);
    }
    s
}

/// II2: a retired pod on a node without the driver mounts nothing there again: no KVC104 (it
/// made the whole Deployment ✗ and exited 1), and its chain's Pod link is not broken.
#[test]
fn a_retired_pod_on_a_node_without_the_driver_is_no_finding() {
    for (name, retire) in RETIRED {
        let s = first_on_windows(Some(retire));
        let chains = diagnose(&s);
        let got: Vec<Code> = chains
            .iter()
            .flat_map(|c| c.findings())
            .map(|f| f.code)
            .collect();
        assert!(!got.contains(&Code::KVC104), "{name}: {got:?}");
        for c in &chains {
            assert_ne!(
                c.link(LinkKind::Pod).status,
                Status::Broken,
                "{name}: {}",
                c.id
            );
        }
    }
}

/// Control: the same node under a running pod is the error it is.
#[test]
fn a_running_pod_on_a_node_without_the_driver_is_still_an_error() {
    let f = findings(&first_on_windows(None));
    let f = f.iter().find(|f| f.code == Code::KVC104).expect("KVC104");
    assert_ne!(f.severity, Severity::Info, "{}", f.message);
}

/// The app's two pods; the password rotated 5 minutes ago (a new vault version, the Secret
/// they read through env rewritten), after their containers started; the first pod
/// `deleting` or not.
fn env_copy_old(deleting: bool) -> Snapshot {
    let mut s = tk::empty();
    tk::add_app(&mut s, NS, APP, 2);
    let at = tk::ago(jiff::SignedDuration::from_mins(5));
    tk::secret_mut(&mut s, APP).updated_at = Some(at);
    if let Observed::Known(Some(o)) = &mut tk::object_mut(&mut s, APP).state {
        o.versions[0].created = Some(at);
    }
    tk::pod_mut(&mut s, APP).deleting = deleting;
    s
}

fn kvc901_of_first(s: &Snapshot) -> Option<Finding> {
    let first = tk::pod_name(APP, 0);
    findings(s)
        .into_iter()
        .find(|f| f.code == Code::KVC901 && f.resource == format!("Pod/{first}"))
}

/// II4: a pod being deleted is having the restart its env copy needs (FACTS §4): its old copy
/// goes with it. At most an info, and no fix that restarts the Deployment's other pods.
#[test]
fn a_deleting_pods_old_env_copy_is_no_error_and_restarts_nothing() {
    let Some(f) = kvc901_of_first(&env_copy_old(true)) else {
        return;
    };
    assert_eq!(f.severity, Severity::Info, "{}", f.message);
    assert!(f.message.contains("being deleted"), "{}", f.message);
    assert!(f.fix.starts_with("# nothing to do"), "{}", f.fix);
    assert!(!f.fix.contains("rollout restart"), "{}", f.fix);
}

/// Control: a running pod's old env copy is a present fault.
#[test]
fn a_running_pods_old_env_copy_is_still_a_fault() {
    let f = kvc901_of_first(&env_copy_old(false)).expect("KVC901 on the running pod");
    assert!(f.severity >= Severity::Warning, "{}", f.message);
}

/// The app's one pod run by Job `migrate` (owned by CronJob `nightly` when `cron`), Succeeded;
/// then `gone` deletes what it used.
pub(crate) fn finished_job(cron: bool, gone: fn(&mut Snapshot)) -> Snapshot {
    let mut s = tk::healthy();
    s.workloads.items.clear();
    if cron {
        s.workloads.items.push(WorkloadObs {
            kind: "CronJob".into(),
            namespace: NS.into(),
            name: "nightly".into(),
            uid: "uid-cronjob-nightly".into(),
            ..Default::default()
        });
    }
    s.workloads.items.push(WorkloadObs {
        kind: "Job".into(),
        namespace: NS.into(),
        name: "migrate".into(),
        uid: "uid-job-migrate".into(),
        owners: if cron {
            vec![tk::owner("CronJob", "nightly")]
        } else {
            Vec::new()
        },
        ..Default::default()
    });
    let pod = tk::pod_mut(&mut s, APP);
    pod.owners = vec![tk::owner("Job", "migrate")];
    (RETIRED[1].1)(pod);
    gone(&mut s);
    s
}

/// What goes, and the code its absence gives a live pod.
type Gone = (&'static str, fn(&mut Snapshot), Code);

const GONE: [Gone; 3] = [
    (
        "service account",
        |s| s.service_accounts.items.clear(),
        Code::KVC202,
    ),
    (
        "SecretProviderClass",
        |s| s.spcs.items.clear(),
        Code::KVC101,
    ),
    (
        "federated credential",
        |s| {
            if let Observed::Known(fics) = &mut tk::identity_mut(s, APP).federated_credentials {
                fics.clear();
            }
        },
        Code::KVC401,
    ),
];

pub(crate) fn errors(chains: &[Chain]) -> Vec<Code> {
    (chains.iter().flat_map(|c| c.findings()))
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.code)
        .collect()
}

/// II3: a complete Job makes no pod again: what its pod used, gone since (a Helm hook's
/// ServiceAccount deleted on success), is history, not an error whose fix recreates it.
#[test]
fn what_a_complete_jobs_pod_used_and_is_gone_is_history() {
    for (what, gone, code) in GONE {
        let chains = diagnose(&finished_job(false, gone));
        assert!(
            !errors(&chains).contains(&code),
            "{what}: {:?}",
            errors(&chains)
        );
        assert!(
            chains
                .iter()
                .any(|c| c.links.iter().any(|l| l.summary == "Job finished")),
            "{what}: {:#?}",
            chains[0].links
        );
    }
}

/// Control: a CronJob's next run needs them again (audit V2): the error stands.
#[test]
fn what_a_cronjobs_finished_run_used_and_is_gone_is_still_an_error() {
    for (what, gone, code) in GONE {
        let chains = diagnose(&finished_job(true, gone));
        assert!(
            errors(&chains).contains(&code),
            "{what}: {:?}",
            errors(&chains)
        );
    }
}

/// Control: a Job whose controller reports it cannot create its next pod is not complete.
#[test]
fn a_job_failing_to_create_its_next_pod_is_not_finished() {
    let mut s = finished_job(false, GONE[0].1);
    s.events.items.push(job_failed_create(Some(tk::now())));
    let chains = diagnose(&s);
    assert!(
        errors(&chains).contains(&Code::KVC202),
        "{:?}",
        errors(&chains)
    );
}

/// The job-controller's FailedCreate on Job `migrate`: its ServiceAccount was not found.
pub(crate) fn job_failed_create(last_seen: Option<jiff::Timestamp>) -> EventObs {
    EventObs {
        namespace: NS.into(),
        involved_kind: "Job".into(),
        involved_name: "migrate".into(),
        involved_uid: String::new(),
        type_: "Warning".into(),
        reason: "FailedCreate".into(),
        message: format!(
            "Error creating: pods \"migrate-x\" is forbidden: error looking up service account {NS}/{}: serviceaccount \"{}\" not found",
            tk::sa_name(APP),
            tk::sa_name(APP)
        ),
        count: 1,
        source: "job-controller".into(),
        last_seen,
        first_seen: None,
    }
}
