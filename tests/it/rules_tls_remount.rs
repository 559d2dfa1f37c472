//! KVC804's fix with rotation known off (audit DD1, FF1-b). The fix reads tls.key from the
//! certificate's `objectType: secret` object, which the SPC does not mount yet: an edit of
//! `objects`. FACTS §4: "SPC edits after pod start are picked up only by rotation; without
//! rotation: delete synced Secret and restart pod", and with rotation off an already-mounted
//! path is never re-fetched. So the edit is followed by the pod's remount, pasted as one line:
//! a Deployment's pod deleted (its ReplicaSet makes a new one), a pod nothing owns recreated
//! from its spec (a delete would leave none). With rotation on the next poll fetches the item,
//! and an edit that only points the entry at an item already mounted needs no remount (FACTS
//! §2: the driver builds the Secret from the mounted files at its next reconcile).

use crate::rules_sync_settled::{one, rotation_off};
use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Code, Finding};
use kvchain::snapshot::*;

/// The healthy app whose tls entry takes tls.key and tls.crt from a `cert` object (FACTS §5:
/// the certificate alone, no private key), the Secret never built.
fn tls_from_cert() -> Snapshot {
    let mut s = tk::healthy();
    s.azure = AzureObs::unknown("offline");
    s.secrets.items.clear();
    tk::sync_tls_from(&mut s.spcs.items[0], APP, "cert");
    s
}

fn kvc804(s: &Snapshot) -> Finding {
    let c = one(s);
    c.findings()
        .find(|f| f.code == Code::KVC804)
        .cloned()
        .unwrap_or_else(|| panic!("KVC804: {:#?}", c.findings().collect::<Vec<_>>()))
}

/// The commands of a fix, without its note.
fn commands(fix: &str) -> &str {
    fix.split("  # ").next().unwrap_or(fix)
}

#[test]
fn rotation_off_the_edit_of_objects_is_followed_by_the_pods_remount() {
    let mut s = tls_from_cert();
    rotation_off(&mut s);
    let f = kvc804(&s);
    let cmds = commands(&f.fix);
    let edit = cmds
        .find("kubectl edit secretproviderclass")
        .unwrap_or_else(|| panic!("the SPC edit: {}", f.fix));
    // The SPC syncs a Secret: the pod's owner restarts all its replicas (audit MM1).
    let delete = cmds
        .find(&format!("kubectl rollout restart deployment/{APP} -n {NS}"))
        .unwrap_or_else(|| panic!("then the pod's remount: {}", f.fix));
    assert!(edit < delete, "{}", f.fix);
    assert!(
        cmds.contains(&format!(
            "kubectl delete secret {} -n {NS} --ignore-not-found",
            tk::secret_name(APP)
        )),
        "{}",
        f.fix
    );
    assert!(f.fix.contains("rotation is off"), "{}", f.fix);
}

#[test]
fn rotation_off_a_bare_pod_is_recreated_after_the_edit() {
    let mut s = tls_from_cert();
    rotation_off(&mut s);
    s.pods.items[0].owners.clear();
    let f = kvc804(&s);
    let pod = tk::pod_name(APP, 0);
    let cmds = commands(&f.fix);
    assert!(
        cmds.contains(&format!(
            "kubectl get pod {pod} -n {NS} -o yaml | kubectl replace --force -f -"
        )),
        "{}",
        f.fix
    );
    assert!(!cmds.contains("kubectl delete pod"), "{}", f.fix);
}

#[test]
fn rotation_on_or_no_edit_of_objects_needs_no_remount() {
    // Rotation on (the testkit's default): its next poll fetches the new item.
    let f = kvc804(&tls_from_cert());
    assert!(!f.fix.contains("kubectl delete pod"), "{}", f.fix);
    // Rotation off, but the certificate's secret object is mounted already under another
    // alias: the fix only points the entry at it, and the mount holds that file.
    let mut s = tls_from_cert();
    rotation_off(&mut s);
    let obj = tk::object_name(APP);
    let spc = &mut s.spcs.items[0];
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
    let f = kvc804(&s);
    assert!(f.fix.contains("password-secret"), "{}", f.fix);
    assert!(!f.fix.contains("kubectl delete pod"), "{}", f.fix);
}
