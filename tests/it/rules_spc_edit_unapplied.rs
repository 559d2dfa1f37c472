//! An edit of the SPC's `objects` that never reached the running pod's mount (audit O3).
//! FACTS §4: SPC edits after pod start are picked up only by rotation — with rotation off an
//! already-mounted volume is never fetched again (delete the synced Secret and restart the
//! pod), with it on the next poll applies it. §1: the SPCPS lists what the mount holds.

use jiff::SignedDuration;
use kvchain::chain::testkit::{self as tk, APP};
use kvchain::chain::{Code, LinkKind, Severity, Status};
use kvchain::snapshot::*;

use super::rules_runtime::{all, codes, csi, only, run};
use super::rules_runtime_objects::newer_version_30_minutes_ago;

const ADDED: &str = "web-api-key";

/// The SPC's objects gain `web-api-key`, which the vault holds; the pod's mount predates it.
fn object_added(s: &mut Snapshot) {
    let mut held = tk::object_mut(s, APP).clone();
    held.name = ADDED.into();
    s.azure.objects.push(held);
    let obj = tk::object_name(APP);
    let spc = tk::spc_mut(s, APP);
    spc.parameters.insert(
        "objects".into(),
        tk::objects_yaml(&[
            &[
                ("objectName", obj.as_str()),
                ("objectType", "secret"),
                ("objectAlias", "password"),
            ],
            &[("objectName", ADDED), ("objectType", "secret")],
        ]),
    );
    tk::reparse(spc);
}

fn spcps_written(s: &mut Snapshot, ago: SignedDuration) {
    for st in &mut s.spc_statuses.items {
        st.updated_at = Some(tk::ago(ago));
    }
}

#[test]
fn rotation_off_an_added_object_the_mount_lacks_is_kvc703_with_a_remount() {
    let mut s = tk::healthy();
    csi(&mut s).rotation_enabled = Observed::Known(false);
    object_added(&mut s);
    let chains = run(&s);
    let f = only(&chains, Code::KVC703);
    assert!(
        f.message.contains(ADDED) && f.message.contains("rotation is disabled"),
        "{}",
        f.message
    );
    // The SPC syncs a Secret: the pod's owner restarts all its replicas (audit MM1).
    assert!(
        f.fix.contains("kubectl rollout restart deployment/"),
        "{}",
        f.fix
    );
    assert_eq!(f.severity, Severity::Warning);
}

#[test]
fn rotation_on_the_edit_is_pending_within_a_poll_and_kvc703_past_it() {
    let mut s = tk::healthy();
    object_added(&mut s);
    spcps_written(&mut s, SignedDuration::from_secs(30));
    let chains = run(&s);
    assert!(
        !codes(&chains).contains(&Code::KVC703),
        "{:#?}",
        all(&chains)
    );
    assert_eq!(chains[0].link(LinkKind::Mount).status, Status::Pending);
    spcps_written(&mut s, SignedDuration::from_mins(6));
    let f = only(&run(&s), Code::KVC703);
    assert!(
        f.message.contains(ADDED) && f.message.contains("has not applied it"),
        "{}",
        f.message
    );
}

#[test]
fn rotation_off_a_pin_the_mount_does_not_hold_is_kvc703_and_the_secret_is_rebuilt() {
    let mut s = tk::healthy();
    csi(&mut s).rotation_enabled = Observed::Known(false);
    newer_version_30_minutes_ago(&mut s);
    let obj = tk::object_name(APP);
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters.insert(
        "objects".into(),
        tk::objects_yaml(&[&[
            ("objectName", obj.as_str()),
            ("objectType", "secret"),
            ("objectAlias", "password"),
            ("objectVersion", tk::V2),
        ]]),
    );
    tk::reparse(spc);
    let f = only(&run(&s), Code::KVC703);
    assert!(
        f.message
            .contains(&format!("pin {obj} to version {}", tk::V2)),
        "{}",
        f.message
    );
    // The synced Secret holds the mounted value: only a new one takes the pin (FACTS §11).
    assert!(
        f.fix
            .contains(&format!("kubectl delete secret {}", tk::secret_name(APP))),
        "{}",
        f.fix
    );
}

#[test]
fn a_secret_lacking_a_key_of_the_same_edit_is_kvc805_alone() {
    let mut s = tk::healthy();
    csi(&mut s).rotation_enabled = Observed::Known(false);
    object_added(&mut s);
    let spc = tk::spc_mut(&mut s, APP);
    spc.secret_objects[0].data.push(SecretObjectData {
        object_name: ADDED.into(),
        key: "api-key".into(),
    });
    let chains = run(&s);
    let found = codes(&chains);
    assert!(found.contains(&Code::KVC805), "{:#?}", all(&chains));
    assert!(!found.contains(&Code::KVC703), "{:#?}", all(&chains));
}
