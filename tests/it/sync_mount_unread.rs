//! Audit Q2: the synced Secret is created by the driver once a pod has mounted its
//! SecretProviderClass (FACTS §2 "No mount ⇒ no Secret"); which pods have it mounted is read
//! from the SPC pod statuses (FACTS §1). When those statuses cannot be read, or this pod's own
//! mount is unknown (not started, its events unread), a missing Secret is not KVC802 "no running
//! pod has it mounted" — whose fix, keep a pod mounting it, the pod already follows — but an
//! unknown Sync link tied to the failed read (README "Unknown is not absent").

use jiff::SignedDuration;
use kvchain::chain::testkit::{self as tk, APP};
use kvchain::chain::{Code, LinkKind, Status, diagnose};
use kvchain::snapshot::*;

const SPCPS_FORBIDDEN: &str =
    "cannot list secretproviderclasspodstatuses at the cluster scope: forbidden";

fn no_kvc802(chains: &[kvchain::chain::Chain]) {
    assert!(
        chains
            .iter()
            .flat_map(|c| c.findings())
            .all(|f| f.code != Code::KVC802),
        "{chains:#?}"
    );
}

#[test]
fn pod_statuses_unread_leave_a_missing_synced_secret_unknown_not_unmounted() {
    let mut s = tk::healthy();
    s.secrets.items.retain(|x| x.name != tk::secret_name(APP));
    s.spc_statuses.items.clear();
    s.spc_statuses.gaps.all = Some(SPCPS_FORBIDDEN.into());
    let chains = diagnose(&s);
    no_kvc802(&chains);
    let sync = chains[0].link(LinkKind::Sync);
    assert_eq!(sync.status, Status::Unknown, "{sync:#?}");
    assert!(
        sync.facts
            .iter()
            .any(|f| f.label == "unknown" && f.observed == SPCPS_FORBIDDEN),
        "tied to the gap: {sync:#?}"
    );
    let (_, summary) = {
        let json: serde_json::Value =
            serde_json::from_str(&kvchain::report::json(&s, &chains)).unwrap();
        ((), json["summary"].clone())
    };
    assert!(
        summary["unverified"].as_u64().unwrap_or(0) >= 1,
        "{summary}"
    );
}

#[test]
fn a_pod_whose_mount_is_unknown_leaves_its_missing_synced_secret_unknown() {
    // Stuck in ContainerCreating for six minutes, no SPC pod status, events unreadable; the
    // SPC syncs a Secret nothing has made yet.
    let mut s = tk::healthy();
    tk::unmount(&mut s, APP);
    s.secrets.items.retain(|x| x.name != tk::secret_name(APP));
    let pod = tk::pod_mut(&mut s, APP);
    pod.created_at = Some(tk::ago(SignedDuration::from_mins(6)));
    for c in &mut pod.containers {
        c.env
            .retain(|e| !matches!(e.source, EnvSourceObs::SecretKey { .. }));
    }
    s.events.gaps.all = Some(super::rules_unstarted::FORBIDDEN.into());
    let chains = diagnose(&s);
    let c = &chains[0];
    assert_eq!(c.link(LinkKind::Mount).status, Status::Unknown, "{c:#?}");
    no_kvc802(&chains);
    let sync = c.link(LinkKind::Sync);
    assert_eq!(sync.status, Status::Unknown, "{sync:#?}");
    assert!(
        sync.facts
            .iter()
            .any(|f| f.label == "unknown" && f.observed == super::rules_unstarted::FORBIDDEN),
        "{sync:#?}"
    );
}

/// Control: statuses read and no pod mounting the SPC at all is KVC802 (README, codes.yaml).
#[test]
fn with_pod_statuses_read_and_no_pod_mounting_the_missing_secret_is_kvc802() {
    let mut s = tk::healthy();
    s.secrets.items.retain(|x| x.name != tk::secret_name(APP));
    tk::unmount(&mut s, APP);
    let pod = tk::pod_mut(&mut s, APP);
    pod.phase = "Failed".into();
    let chains = diagnose(&s);
    assert!(
        chains
            .iter()
            .flat_map(|c| c.findings())
            .any(|f| f.code == Code::KVC802),
        "{chains:#?}"
    );
}
