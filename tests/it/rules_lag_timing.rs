//! When a mount behind the vault is a lag (KVC703), by what the driver's flags say (audit
//! GG). FACTS §4: "with rotation off, an already-mounted path is never re-fetched", and the
//! poll interval is a flag (`--rotation-poll-interval`, default 2m; AKS's example sets 5m).
//! So with rotation known off a newer version is a lag as soon as it exists, with no poll to
//! wait for or to quote; and with the driver's flags unread no lag is measured against an
//! assumed interval: the Mount link is unknown ("rotation unknown"), not a stale mount whose
//! fix deletes the pod.

use jiff::SignedDuration;
use kvchain::chain::testkit::{self as tk, APP};
use kvchain::chain::{Code, LinkKind, Status};
use kvchain::snapshot::*;

use super::rules_runtime::{codes, csi, only, run};
use super::rules_runtime_objects::newer_version_30_minutes_ago;

/// The vault's newest version created `ago`, after the pods mounted the one before it.
fn newer_version(s: &mut Snapshot, ago: SignedDuration) {
    newer_version_30_minutes_ago(s);
    let Observed::Known(Some(o)) = &mut tk::object_mut(s, APP).state else {
        panic!("testkit object is known")
    };
    o.versions[0].created = Some(tk::ago(ago));
}

#[test]
fn with_rotation_off_a_newer_version_is_a_lag_at_once_and_quotes_no_poll() {
    let mut s = tk::healthy();
    csi(&mut s).rotation_enabled = Observed::Known(false);
    newer_version(&mut s, SignedDuration::from_secs(30));
    let f = only(&run(&s), Code::KVC703);
    assert!(
        f.message.contains(tk::V1) && f.message.contains(tk::V2),
        "{}",
        f.message
    );
    assert!(!f.message.contains("poll interval"), "{}", f.message);
}

#[test]
fn with_the_driver_unread_no_lag_is_measured_against_an_assumed_poll() {
    let mut s = tk::healthy();
    s.cluster.csi_driver =
        Observed::Unknown("cannot get csidrivers at the cluster scope: forbidden".into());
    // Past the 2m default and its slack, within a 5m poll (FACTS §4's AKS example).
    newer_version(&mut s, SignedDuration::from_secs(210));
    let chains = run(&s);
    assert!(
        !codes(&chains).contains(&Code::KVC703),
        "{:#?}",
        codes(&chains)
    );
    let mount = chains[0].link(LinkKind::Mount);
    assert_eq!(mount.status, Status::Unknown, "{mount:#?}");
    assert!(
        (mount.facts.iter()).any(|f| f.observed.contains("poll interval was not read")),
        "{mount:#?}"
    );
}

/// Guard: with the interval read, a version newer than the mount by less than a poll (+ its
/// slack) is no lag yet, and one past it is.
#[test]
fn with_a_ten_minute_poll_read_a_lag_waits_for_that_poll() {
    let mut s = tk::healthy();
    csi(&mut s).rotation_poll_interval = std::time::Duration::from_secs(600);
    newer_version(&mut s, SignedDuration::from_secs(210));
    assert!(!codes(&run(&s)).contains(&Code::KVC703));
    newer_version(&mut s, SignedDuration::from_secs(700));
    let f = only(&run(&s), Code::KVC703);
    assert!(f.message.contains("poll interval 600s"), "{}", f.message);
}
