//! Audit U1: a pod that will mount nothing again — finished (a Job's pod, phase Succeeded),
//! failed (an evicted pod), or being deleted — keeps the SPC pod status of its last mount until
//! the pod object goes (FACTS §1), and the driver's rotation reconciler skips it ("skip
//! rotation if the pod is being terminated or the pod is in succeeded state … or … failed
//! state"). Its mount's versions are history: no rotation lag (KVC703) and no synced Secret
//! "differing from what it mounted" (KVC805) while the live pods and the Secret are current.

use jiff::SignedDuration;
use kvchain::chain::testkit::{self as tk, APP};
use kvchain::chain::{Code, diagnose};
use kvchain::snapshot::*;

/// The app's first pod mounted an older version of the object than the vault's latest,
/// which the other pods and the synced Secret hold; `retire` makes it history.
fn behind(retire: fn(&mut PodObs)) -> Snapshot {
    let mut s = tk::healthy();
    let pod_name = tk::pod_name(APP, 0);
    let status = s
        .spc_statuses
        .items
        .iter_mut()
        .find(|st| st.pod_name == pod_name)
        .expect("the pod's SPC pod status");
    for o in status.objects.iter_mut() {
        o.version = "0ldversion0000000000000000000000".into();
    }
    if let Some(files) = status.files.as_mut() {
        for (_, fp) in files.iter_mut() {
            *fp = kvchain::fingerprint::Fingerprint::of(b"an older value");
        }
    }
    let pod = tk::pod_mut(&mut s, APP);
    pod.created_at = Some(tk::ago(SignedDuration::from_hours(48)));
    retire(pod);
    s
}

fn codes(s: &Snapshot) -> Vec<Code> {
    diagnose(s)
        .iter()
        .flat_map(|c| c.findings())
        .map(|f| f.code)
        .collect()
}

#[test]
fn a_finished_failed_or_deleted_pods_old_mount_is_no_lag_and_no_stale_secret() {
    let cases: [(&str, fn(&mut PodObs)); 3] = [
        ("succeeded", |p| p.phase = "Succeeded".into()),
        ("evicted", |p| p.phase = "Failed".into()),
        ("terminating", |p| p.deleting = true),
    ];
    for (name, retire) in cases {
        let got = codes(&behind(retire));
        assert!(
            !got.contains(&Code::KVC703) && !got.contains(&Code::KVC805),
            "{name}: {got:?}"
        );
    }
}

/// Control: the same old mount on a running pod is a current lag.
#[test]
fn a_running_pods_old_mount_is_still_judged() {
    let got = codes(&behind(|_| {}));
    assert!(
        got.contains(&Code::KVC703) || got.contains(&Code::KVC805),
        "{got:?}"
    );
}
