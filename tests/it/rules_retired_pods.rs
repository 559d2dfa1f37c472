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
        // Their owners gone too (a namespace or release being deleted): nothing will make
        // pods that need them again (audit V2 keeps the finding while an owner lives on).
        s.workloads.items.clear();
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
    let mut s = tk::empty();
    tk::add_app(&mut s, tk::NS, APP, 2);
    // The other replica mounted the SPC after the failure.
    for st in s.spc_statuses.items.iter_mut() {
        st.updated_at = Some(tk::ago(SignedDuration::from_mins(5)));
    }
    let pod = tk::pod_mut(&mut s, APP);
    pod.phase = "Failed".into();
    pod.node = Some("aks-nodepool1-00000000-vmss00000z".into());
    let (ns, name) = (pod.namespace.to_string(), pod.name.to_string());
    let mut e = tk::failed_mount(
        &ns,
        &name,
        "secrets-store-inline",
        "failed to get objectType:secret, objectName:web-db-pass, objectVersion:: GET https://kv-shop.vault.azure.net/secrets/web-db-pass/\nRESPONSE 404: 404 Not Found\nERROR CODE: SecretNotFound",
    );
    e.last_seen = Some(tk::ago(SignedDuration::from_mins(30)));
    s.events.items.push(e);
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

/// Audit V1: a failed pod's mount failure with no success after it is how it ended, and may
/// still hold: it stays a current finding, history only once a live pod has mounted the same
/// SecretProviderClass after it (FACTS §11 "Evidence ages").
#[test]
fn a_retired_pods_failure_stays_until_a_live_pod_mounts_after_it() {
    let failed = |mounted_since: bool| {
        let mut s = tk::empty();
        tk::add_app(&mut s, tk::NS, APP, 2);
        s.azure = AzureObs::unknown("no Azure credentials");
        let when = tk::ago(SignedDuration::from_mins(20));
        let pod_name = tk::pod_name(APP, 0);
        // The other pod's mount: written after the failure, or before it.
        let written = if mounted_since {
            tk::ago(SignedDuration::from_mins(5))
        } else {
            tk::ago(SignedDuration::from_mins(40))
        };
        for st in s.spc_statuses.items.iter_mut() {
            st.updated_at = Some(written);
        }
        s.spc_statuses.items.retain(|st| st.pod_name != pod_name);
        let pod = tk::pod_mut(&mut s, APP);
        pod.phase = "Failed".into();
        for c in &mut pod.containers {
            c.state = ContainerStateObs::Terminated {
                reason: "DeadlineExceeded".into(),
                exit_code: 1,
            };
        }
        let (ns, name) = (pod.namespace.to_string(), pod.name.to_string());
        let mut e = tk::failed_mount(
            &ns,
            &name,
            "secrets-store-inline",
            "failed to get objectType:secret, objectName:web-db-pass, objectVersion:: GET https://kv-shop.vault.azure.net/secrets/web-db-pass/\nRESPONSE 404: 404 Not Found\nERROR CODE: SecretNotFound",
        );
        e.last_seen = Some(when);
        s.events.items.push(e);
        codes(&s)
    };
    let standing = failed(false);
    assert!(standing.contains(&Code::KVC601), "{standing:?}");
    let past = failed(true);
    assert!(!past.contains(&Code::KVC601), "{past:?}");
}

/// Audit V2: a finished pod whose owner lives on and whose template still names the gone
/// SecretProviderClass: the next run fails the same way, so KVC101 stands. Once the template
/// names another SPC, the finished pod's is history, and the template is judged on its own
/// (its next pods are what will mount).
#[test]
fn a_gone_spc_the_owners_template_still_names_is_still_an_error() {
    let run = |template_spc: Option<&str>| {
        let mut s = tk::healthy();
        for p in s.pods.items.iter_mut() {
            p.phase = "Succeeded".into();
        }
        s.spcs.items.clear();
        let mut t = tk::pod_mut(&mut s, APP).clone();
        if let Some(other) = template_spc {
            for v in t.volumes.iter_mut() {
                if let VolumeSourceObs::Csi { attributes, .. } = &mut v.source {
                    attributes.insert("secretProviderClass".into(), other.into());
                }
            }
        }
        tk::workload_mut(&mut s, "Deployment", APP).template = Some(Box::new(t));
        diagnose(&s)
            .iter()
            .flat_map(|c| c.findings())
            .filter(|f| f.code == Code::KVC101)
            .map(|f| f.message.to_string())
            .collect::<Vec<_>>()
    };
    let spc = tk::spc_name(APP);
    let same = run(None);
    assert!(
        same.iter().any(|m| m.contains(&format!("{spc} which"))),
        "{same:?}"
    );
    let moved = run(Some("web-kv-v2"));
    assert!(
        !moved.iter().any(|m| m.contains(&format!("{spc} which"))),
        "the finished pod's SPC is history: {moved:?}"
    );
    assert!(
        moved.iter().any(|m| m.contains("web-kv-v2 which")),
        "the template is judged: {moved:?}"
    );
}

/// Audits U4, V3: a live pod bound to a node since removed, whose owner's template sets no
/// nodeName, heals on its own (PodGC deletes it, the owner replaces it): a warning with no
/// template edit, and its link reads as a warning, not broken.
#[test]
fn a_live_pod_on_a_removed_node_is_a_warning_without_a_template_edit() {
    let mut s = tk::healthy();
    let mut t = tk::pod_mut(&mut s, APP).clone();
    t.node = None;
    tk::workload_mut(&mut s, "Deployment", APP).template = Some(Box::new(t));
    tk::pod_mut(&mut s, APP).node = Some("aks-nodepool1-00000000-vmss00000z".into());
    s.cluster.nodes = Observed::Known(vec![NodeObs {
        name: "aks-nodepool1-00000000-vmss000000".into(),
        labels: [("kubernetes.io/os".to_string(), "linux".to_string())].into(),
        taints: vec![],
        ..NodeObs::default()
    }]);
    let chains = diagnose(&s);
    let f = chains
        .iter()
        .flat_map(|c| c.findings())
        .find(|f| f.code == Code::KVC107)
        .unwrap_or_else(|| panic!("{chains:#?}"));
    assert_eq!(f.severity, kvchain::chain::Severity::Warning);
    assert!(!f.fix.contains("kubectl edit"), "{}", f.fix);
    let pod_link = chains[0].link(kvchain::chain::LinkKind::Pod);
    assert_eq!(
        pod_link.status,
        kvchain::chain::Status::Warning,
        "{pod_link:#?}"
    );
}
