//! The env hop under Reloader's SecretProviderClass annotation (FACTS §10: it acts only under
//! `--enable-csi-integration=true`, on pod status changes that rotation makes): the rotation
//! timeline follows the verdict KVC902 follows (`consumers::csi_reload`), restarted, not, or
//! unknown (audit XB-left; it said "restart needed" for each).

use super::super::testkit::*;
use super::*;
use crate::snapshot::*;

const ENV: &str = "Deployment/web / app: env DB_PASS";

/// After the poll (file and Secret at v2, web-1 started long before), Deployment `web`
/// annotated `secretproviderclass.reloader.stakater.com/auto` only, `reloader` the Reloader
/// seen (None: none read).
fn polled(reloader: Option<ReloaderObs>) -> Snapshot {
    let mut s = world(115, 2, 2, 112, 2, 113);
    let mut workloads = deployment("web-6d9", false);
    workloads[0].annotations = [(
        "secretproviderclass.reloader.stakater.com/auto".to_string(),
        "true".to_string(),
    )]
    .into_iter()
    .collect::<std::collections::BTreeMap<_, _>>()
    .into();
    s.workloads = Coll::known(workloads);
    s.cluster.reloader = reloader.map(|run| ReloaderFacts {
        seen: vec![ReloaderSeen {
            namespace: "reloader".into(),
            name: "reloader".into(),
            replicas: Some(1),
            run,
        }],
        unseen: None,
    });
    s
}

fn env_after(s: &Snapshot) -> StepState {
    let mut w = RotationWatch::new(&world(0, 1, 1, -3000, 1, -3000), "kv-pay", "db-pass");
    w.observe(s);
    state_of(&w.timeline(), ENV).clone()
}

#[test]
fn a_reloader_with_the_csi_integration_is_waited_for() {
    let on = ReloaderObs {
        csi_integration: true,
        ..ReloaderObs::default()
    };
    assert_eq!(env_after(&polled(Some(on))), StepState::Waiting);
}

#[test]
fn a_reloader_without_the_flag_leaves_the_env_stale() {
    assert!(matches!(
        env_after(&polled(Some(ReloaderObs::default()))),
        StepState::Never(why) if why.contains("restart needed")
    ));
}

#[test]
fn no_reloader_read_is_unknown_not_restart_needed() {
    assert!(matches!(
        env_after(&polled(None)),
        StepState::Unknown(why) if why.contains("secretproviderclass.reloader.stakater.com/auto")
            && why.contains("CSI integration")
    ));
}

/// The subPath copy of the CSI volume in the same pods (container `legacy`): a copy made at
/// container start (FACTS §4) that a restart by Reloader's CSI integration binds again, so it
/// follows the same verdict as the env hop: waited for, restart needed, or unknown with
/// KVC902's reason (audit XC-left; it said "never … restart needed" for each).
fn sub_path_after(s: &Snapshot) -> StepState {
    let mut w = RotationWatch::new(&world(0, 1, 1, -3000, 1, -3000), "kv-pay", "db-pass");
    w.observe(s);
    state_of(&w.timeline(), "web-1 / legacy: CSI volume").clone()
}

#[test]
fn a_sub_path_copy_under_the_csi_integration_is_waited_for() {
    let on = ReloaderObs {
        csi_integration: true,
        ..ReloaderObs::default()
    };
    assert_eq!(sub_path_after(&polled(Some(on))), StepState::Waiting);
}

#[test]
fn a_sub_path_copy_without_the_flag_needs_a_restart() {
    assert!(matches!(
        sub_path_after(&polled(Some(ReloaderObs::default()))),
        StepState::Never(why) if why.contains("subPath") && why.contains("restart needed")
    ));
}

#[test]
fn a_sub_path_copy_with_no_reloader_read_is_unknown() {
    assert!(matches!(
        sub_path_after(&polled(None)),
        StepState::Unknown(why) if why.contains("secretproviderclass.reloader.stakater.com/auto")
            && why.contains("CSI integration")
    ));
}
