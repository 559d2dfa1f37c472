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
fn behind(retire: Retire) -> Snapshot {
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

/// An edit that retires a pod.
type Retire = fn(&mut PodObs);

fn codes(s: &Snapshot) -> Vec<Code> {
    diagnose(s)
        .iter()
        .flat_map(|c| c.findings())
        .map(|f| f.code)
        .collect()
}

#[test]
fn a_finished_failed_or_deleted_pods_old_mount_is_no_lag_and_no_stale_secret() {
    let cases: [(&str, Retire); 3] = [
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

/// Audits U1, U2: an object a retired pod names, gone now (an SPC renamed after yesterday's
/// Job ran, a ServiceAccount deleted with its namespace), is history: no KVC101 or KVC202
/// whose fix recreates it (a namespace being deleted refuses new objects anyway).
#[test]
fn what_a_retired_pod_named_and_is_gone_is_no_error() {
    for retire in [
        (|p: &mut PodObs| p.phase = "Succeeded".into()) as Retire,
        |p| p.deleting = true,
    ] {
        let mut s = tk::healthy();
        for p in s.pods.items.iter_mut() {
            retire(p);
        }
        s.spcs.items.clear();
        s.service_accounts.items.clear();
        let got = codes(&s);
        assert!(
            !got.contains(&Code::KVC101) && !got.contains(&Code::KVC202),
            "{got:?}"
        );
    }
}

/// Audits U1, U4: a retired pod's old events describe how it ended, not a failure to wait
/// out; and a pod evicted from a node since removed is not bound anywhere that matters.
#[test]
fn a_retired_pods_old_failure_and_lost_node_are_history() {
    let mut s = tk::healthy();
    let pod = tk::pod_mut(&mut s, APP);
    pod.phase = "Failed".into();
    pod.node = Some("aks-nodepool1-00000000-vmss00000z".into());
    let (ns, name) = (pod.namespace.to_string(), pod.name.to_string());
    s.events.items.push(tk::failed_mount(
        &ns,
        &name,
        "secrets-store-inline",
        "failed to get objectType:secret, objectName:web-db-pass, objectVersion:: GET https://kv-shop.vault.azure.net/secrets/web-db-pass/\nRESPONSE 404: 404 Not Found\nERROR CODE: SecretNotFound",
    ));
    let got = codes(&s);
    assert!(
        !got.contains(&Code::KVC107) && !got.contains(&Code::KVC601),
        "{got:?}"
    );
}

/// Audit U3: a regular init container seen terminated while its pod runs has run to
/// completion (Kubernetes: "Init containers always run to completion") and reads its subPath
/// file no more: no KVC102, whose fix could change nothing. Still running (a native sidecar),
/// it is judged.
#[test]
fn a_completed_init_containers_sub_path_is_no_rotation_gap() {
    let with_init = |state: ContainerStateObs| {
        let mut s = tk::healthy();
        let pod = tk::pod_mut(&mut s, APP);
        let mut init = pod.containers[0].clone();
        init.name = "init-config".into();
        init.init = true;
        init.state = state;
        let csi = pod
            .volumes
            .iter()
            .find(|v| matches!(v.source, VolumeSourceObs::Csi { .. }))
            .expect("CSI volume")
            .name
            .clone();
        init.mounts = vec![MountObs {
            volume: csi,
            path: "/init/db-password".into(),
            sub_path: Some("db-password".into()),
            read_only: true,
        }];
        pod.containers.insert(0, init);
        codes(&s)
    };
    let done = with_init(ContainerStateObs::Terminated {
        reason: "Completed".into(),
        exit_code: 0,
    });
    assert!(!done.contains(&Code::KVC102), "{done:?}");
    let sidecar = with_init(ContainerStateObs::Running {
        started_at: tk::ago(SignedDuration::from_mins(5)),
    });
    assert!(sidecar.contains(&Code::KVC102), "{sidecar:?}");
}
