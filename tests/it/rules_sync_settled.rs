//! After a Sync-link fix is pasted (audit DD1, DD4, DD8): a driver failure to build the synced
//! Secret whose cause the SPC has since lost is history of the attempt (FACTS §3: driver
//! events are recorded on the pod), and the driver builds the Secret from the SPC as it is now
//! at its next retry of the failed reconcile (controller-runtime's backoff, at most 16m40s
//! apart; audit XA-left); an edit that added an item of `objects`
//! needs a new mount first (FACTS §4), which is then the one error. A bare pod's remount
//! recreates it: nothing owns it, so a delete leaves no pod (FACTS §1, §2).

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Chain, Code, LinkKind, Severity, Status, diagnose};
use kvchain::snapshot::*;

pub(crate) fn one(s: &Snapshot) -> Chain {
    let mut chains = diagnose(s);
    assert_eq!(chains.len(), 1);
    chains.remove(0)
}

/// The driver's FailedToCreateSecret on the app's pod, for its synced Secret (FACTS §3).
pub(crate) fn failed_to_create(err: &str) -> EventObs {
    EventObs {
        namespace: NS.into(),
        involved_kind: "Pod".into(),
        involved_name: tk::pod_name(APP, 0).into(),
        type_: "Warning".into(),
        reason: "FailedToCreateSecret".into(),
        message: format!(
            "failed to get data in spc {NS}/{} for secret {}, err: {err}",
            tk::spc_name(APP),
            tk::secret_name(APP)
        ),
        count: 3,
        source: "csi-secrets-store-controller".into(),
        last_seen: Some(tk::ago(jiff::SignedDuration::from_secs(30))),
        ..EventObs::default()
    }
}

/// The healthy app right after a pasted SPC edit: the driver has not built the Secret yet,
/// and its last failure (`err`) is from before the edit.
pub(crate) fn after_edit(err: &str) -> Snapshot {
    let mut s = tk::healthy();
    s.secrets.items.clear();
    s.events.items.push(failed_to_create(err));
    s
}

pub(crate) fn rotation_off(s: &mut Snapshot) {
    if let Observed::Known(csi) = &mut s.cluster.csi_driver {
        csi.rotation_enabled = Observed::Known(false);
    }
}

#[test]
fn a_file_name_corrected_since_the_failure_waits_for_the_drivers_next_reconcile() {
    // The entry reads `password` now; the event names the old objectName.
    let c = one(&after_edit(
        "file matching objectName db-pass not found in the pod",
    ));
    let f = c
        .findings()
        .find(|f| f.link == LinkKind::Sync)
        .expect("the Sync failure is shown");
    assert!(f.message.contains("no longer names db-pass"), "{f:#?}");
    assert!(f.message.contains("at most 16m40s apart"), "{f:#?}");
    // Not the edit the user just made again.
    assert!(f.fix.starts_with("# nothing to change"), "{}", f.fix);
    assert!(!f.fix.contains("kubectl edit"), "{}", f.fix);
    assert_eq!(c.link(LinkKind::Sync).summary, "failed, now looks right");
}

#[test]
fn a_type_set_since_the_failure_is_no_driver_failure_to_remount_for() {
    // FACTS §2: "secret type is empty"; the healthy entry says Opaque.
    let c = one(&after_edit("secret type is empty"));
    let sync: Vec<_> = c.findings().filter(|f| f.link == LinkKind::Sync).collect();
    assert_eq!(sync.len(), 1, "one symptom, one finding: {sync:#?}");
    let f = sync[0];
    assert!(f.message.contains(".type is Opaque now"), "{f:#?}");
    assert!(!f.fix.contains("kubectl delete pod"), "{}", f.fix);
    assert!(f.fix.contains("wait up to 16m40s"), "{}", f.fix);
}

#[test]
fn a_failure_the_spc_still_causes_keeps_its_structural_fix() {
    // The entry still names a file nothing mounts: KVC801's edit stands.
    let mut s = after_edit("file matching objectName db-pass not found in the pod");
    s.spcs.items[0].secret_objects[0].data[0].object_name = "db-pass".into();
    let c = one(&s);
    let f = c
        .findings()
        .find(|f| f.code == Code::KVC801)
        .expect("KVC801");
    assert!(f.fix.contains("kubectl edit"), "{}", f.fix);
    assert!(!f.message.contains("changed since"), "{f:#?}");
}

/// cert-for-tls fixed the way KVC804 says: a `objectType: secret` item added for tls.key; the
/// pod's mount (its SPCPS) still holds only the cert.
pub(crate) fn tls_item_added() -> Snapshot {
    let mut s = after_edit(
        "failed to get cert data from file password, err: pkcs12: error reading P12 data: asn1: syntax error: sequence truncated",
    );
    let obj = tk::object_name(APP);
    let spc = &mut s.spcs.items[0];
    tk::sync_tls_from(spc, APP, "cert");
    spc.secret_objects[0].data[0].object_name = "password-secret".into();
    let objects = tk::objects_yaml(&[
        &[
            ("objectName", &obj),
            ("objectType", "cert"),
            ("objectAlias", "password"),
        ],
        &[
            ("objectName", &obj),
            ("objectType", "secret"),
            ("objectAlias", "password-secret"),
        ],
    ]);
    tk::set_objects(spc, objects);
    for st in &mut s.spc_statuses.items {
        for o in &mut st.objects {
            o.id = format!("cert/{obj}").into();
        }
    }
    s
}

#[test]
fn rotation_off_an_item_added_since_makes_the_remount_the_one_error() {
    let mut s = tls_item_added();
    // Azure unread: the cert's grant is not what this is about.
    s.azure = AzureObs::unknown("offline");
    rotation_off(&mut s);
    let c = one(&s);
    let root = c.root_cause().expect("a cause");
    assert_eq!(
        root.code,
        Code::KVC703,
        "{:#?}",
        c.findings().collect::<Vec<_>>()
    );
    assert_eq!(root.severity, Severity::Error);
    assert!(
        root.message.contains("only a new mount applies the edit"),
        "{root:#?}"
    );
    assert!(
        root.evidence
            .iter()
            .any(|e| e.contains("FailedToCreateSecret")),
        "{root:#?}"
    );
    // The stale KVC804 is not shown beside it: the Sync link waits on the Mount link.
    assert!(
        !c.findings().any(|f| f.code == Code::KVC804),
        "{:#?}",
        c.findings().collect::<Vec<_>>()
    );
    assert_eq!(c.link(LinkKind::Sync).status, Status::Pending);
}

#[test]
fn a_bare_pods_remount_recreates_it_instead_of_deleting_it() {
    // Rotation off and an item the mount lacks (KVC703, FACTS §4), on a pod nothing owns.
    let mut s = tk::healthy();
    rotation_off(&mut s);
    s.pods.items[0].owners.clear();
    let obj = tk::object_name(APP);
    let spc = &mut s.spcs.items[0];
    let objects = tk::objects_yaml(&[
        &[
            ("objectName", &obj),
            ("objectType", "secret"),
            ("objectAlias", "password"),
        ],
        &[("objectName", "extra"), ("objectType", "secret")],
    ]);
    tk::set_objects(spc, objects);
    let c = one(&s);
    let f = c
        .findings()
        .find(|f| f.code == Code::KVC703)
        .expect("KVC703");
    let pod = tk::pod_name(APP, 0);
    assert!(
        f.fix.contains(&format!(
            "kubectl get pod {pod} -n {NS} -o yaml | kubectl replace --force -f -"
        )),
        "{}",
        f.fix
    );
    assert!(!f.fix.contains("kubectl delete pod"), "{}", f.fix);
    assert!(
        f.fix.contains("keeps the env the webhook injected"),
        "{}",
        f.fix
    );
}

#[test]
fn kvc801_names_the_one_mounted_file_when_the_vault_lacks_the_name() {
    // FACTS §2: data[].objectName must be a mounted file; the SPC mounts one, `password`.
    let mut s = tk::healthy();
    s.spcs.items[0].secret_objects[0].data[0].object_name = "db-pass".into();
    tk::vault_mut(&mut s, NS).object_names = Some(vec![(ObjectType::Secret, tk::object_name(APP))]);
    let c = one(&s);
    let f = c
        .findings()
        .find(|f| f.code == Code::KVC801)
        .expect("KVC801");
    assert!(f.fix.contains(".objectName: password"), "{}", f.fix);
    assert!(
        !f.fix.contains("the mounted file the key should hold"),
        "{}",
        f.fix
    );
    assert!(!f.fix.contains("add an item"), "{}", f.fix);
}
