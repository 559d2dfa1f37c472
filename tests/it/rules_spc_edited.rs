//! A synced Secret behind an edit of `secretObjects`, by rotation's stance (FACTS §4: SPC edits
//! after pod start are picked up only by rotation; §11: rotation can fail silently, and §2: the
//! driver writes exactly the `secretObjects` keys). With rotation on, a Secret lacking a new
//! key is the next poll's to fix while a poll has not passed, and rotation's failure after
//! that (KVC703's driver-log confirm and repair). A key no entry makes any more is a leftover
//! its readers lose when the Secret is rebuilt.

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Code, LinkKind, Severity, Status};
use kvchain::snapshot::*;

use crate::cause_kit::{one, with};

/// The Secret and the pod's SPCPS were last written `secs` seconds ago (rotation on, poll
/// 120 s in the testkit).
fn written_ago(s: &mut Snapshot, secs: i64) {
    let at = tk::ago(jiff::SignedDuration::from_secs(secs));
    tk::secret_mut(s, APP).updated_at = Some(at);
    for st in &mut s.spc_statuses.items {
        st.updated_at = Some(at);
    }
}

/// The SPC's secretObjects gained key `apikey` after the Secret was written (it holds only
/// `password`).
fn gains_key(s: &mut Snapshot) {
    tk::spc_mut(s, APP).secret_objects[0]
        .data
        .push(SecretObjectData {
            object_name: "password".into(),
            key: "apikey".into(),
        });
}

/// The SPC's objects also gained an object the pod's mount (SPCPS) does not list: the mount
/// predates the edit too.
fn gains_object(s: &mut Snapshot) {
    let obj = tk::object_name(APP);
    let objects = tk::objects_yaml(&[
        &[
            ("objectName", &obj),
            ("objectType", "secret"),
            ("objectAlias", "password"),
        ],
        &[("objectName", "api-key"), ("objectType", "secret")],
    ]);
    let spc = tk::spc_mut(s, APP);
    tk::set_objects(spc, objects);
}

/// V1: rotation on and the Secret written less than a poll ago: the next poll should write
/// the key. A warning that says so; nothing to delete; the mount is not judged stale yet.
#[test]
fn with_rotation_on_a_key_added_within_a_poll_waits_for_the_next_poll() {
    let mut s = tk::healthy();
    gains_key(&mut s);
    gains_object(&mut s);
    written_ago(&mut s, 30);
    let c = one(&s);
    let f = with(&c, Code::KVC805);
    assert_eq!(f.len(), 1, "{:#?}", c.links);
    assert_eq!(f[0].severity, Severity::Warning, "{:#?}", f[0]);
    assert!(f[0].message.contains("next poll"), "{}", f[0].message);
    assert!(
        !f[0].message.contains("only rotation updates it"),
        "{}",
        f[0].message
    );
    assert!(!f[0].fix.contains("kubectl delete"), "{}", f[0].fix);
    assert_eq!(c.link(LinkKind::Mount).status, Status::Ok);
}

/// V1: rotation on and more than a poll (+ slack) since the Secret was written: rotation has
/// not applied the edit. The driver log confirms why, the fix repairs rotation (after the
/// remount that applies the edit now), and the mount, older than the SPC, is drawn `!`.
#[test]
fn with_rotation_on_a_key_still_missing_past_a_poll_is_rotation_failing() {
    let mut s = tk::healthy();
    gains_key(&mut s);
    gains_object(&mut s);
    written_ago(&mut s, 600);
    let c = one(&s);
    let f = with(&c, Code::KVC805);
    assert_eq!(f.len(), 1, "{:#?}", c.links);
    let f = f[0];
    assert_eq!(f.severity, Severity::Error);
    assert!(f.message.contains("rotation is on"), "{}", f.message);
    assert!(f.message.contains("has not applied"), "{}", f.message);
    assert!(f.confirm.contains("-c secrets-store"), "{}", f.confirm);
    assert!(f.fix.contains("repair rotation"), "{}", f.fix);
    assert!(
        f.fix.contains(&format!(
            "kubectl delete secret {} -n {NS}",
            tk::secret_name(APP)
        )),
        "{}",
        f.fix
    );
    let mount = c.link(LinkKind::Mount);
    assert_eq!(mount.status, Status::Warning, "{mount:#?}");
    // A key of an object already mounted: the mount's files are what the SPC makes.
    let mut s = tk::healthy();
    gains_key(&mut s);
    written_ago(&mut s, 600);
    let c = one(&s);
    assert_eq!(with(&c, Code::KVC805)[0].severity, Severity::Error);
    assert_eq!(c.link(LinkKind::Mount).status, Status::Ok);
}

/// With rotation off, nothing but a new Secret applies the edit (FACTS §4): as before.
#[test]
fn with_rotation_off_the_fix_is_a_new_secret_whenever_it_was_written() {
    let mut s = tk::healthy();
    if let Observed::Known(csi) = &mut s.cluster.csi_driver {
        csi.rotation_enabled = Observed::Known(false);
    }
    gains_key(&mut s);
    written_ago(&mut s, 30);
    let c = one(&s);
    let f = with(&c, Code::KVC805);
    assert_eq!(f.len(), 1, "{:#?}", c.links);
    assert_eq!(f[0].severity, Severity::Error);
    assert!(f[0].fix.contains("kubectl delete secret"), "{}", f[0].fix);
}

/// `reader` (a Deployment that does not mount the SPC) reads key `key` of the synced Secret.
fn reader_of(s: &mut Snapshot, key: &str) {
    let secret = tk::secret_name(APP);
    tk::pod_mut(s, APP).containers[0].env.push(EnvObs {
        name: "API_KEY".into(),
        source: EnvSourceObs::SecretKey {
            secret: secret.as_str().into(),
            key: key.into(),
            optional: false,
        },
    });
}

/// V3: the Secret still holds `apikey`, which no secretObjects entry makes any more: a
/// leftover (FACTS §2), and the container asking for it breaks when the Secret is rebuilt.
#[test]
fn a_key_no_entry_makes_any_more_is_a_leftover_naming_its_readers() {
    let mut s = tk::healthy();
    let secret = tk::secret_mut(&mut s, APP);
    let fp = *secret.data.values().next().expect("a key");
    secret.data.insert("apikey".into(), fp);
    reader_of(&mut s, "apikey");
    let c = one(&s);
    let f = with(&c, Code::KVC805);
    assert_eq!(f.len(), 1, "{:#?}", c.links);
    let f = f[0];
    assert_eq!(f.severity, Severity::Warning);
    assert!(
        f.message.contains("apikey") && f.message.contains("leftover"),
        "{}",
        f.message
    );
    assert!(
        f.message.contains(&format!("Deployment/{APP}")),
        "{}",
        f.message
    );
    // The fix points the reader at a key the SPC makes.
    assert!(
        f.fix
            .contains(&format!("kubectl edit deployment/{APP} -n {NS}"))
            && f.fix.contains("password"),
        "{}",
        f.fix
    );
    assert_ne!(c.link(LinkKind::Sync).status, Status::Ok);
    // The container runs today: no KVC905.
    assert!(with(&c, Code::KVC905).is_empty(), "{:#?}", c.links);
}

/// A leftover nothing asks for by name harms no one: info. Lacking a key and holding a
/// leftover at once is still one finding for the Secret.
#[test]
fn a_leftover_nobody_reads_is_info_and_one_secret_gets_one_finding() {
    let mut s = tk::healthy();
    let secret = tk::secret_mut(&mut s, APP);
    let fp = *secret.data.values().next().expect("a key");
    secret.data.insert("apikey".into(), fp);
    let c = one(&s);
    let f = with(&c, Code::KVC805);
    assert_eq!(f.len(), 1, "{:#?}", c.links);
    assert_eq!(f[0].severity, Severity::Info);
    gains_key_named(&mut s, "token");
    let c = one(&s);
    let f = with(&c, Code::KVC805);
    assert_eq!(f.len(), 1, "{:#?}", c.links);
    assert!(
        f[0].message.contains("token") && f[0].message.contains("apikey"),
        "{}",
        f[0].message
    );
}

fn gains_key_named(s: &mut Snapshot, key: &str) {
    tk::spc_mut(s, APP).secret_objects[0]
        .data
        .push(SecretObjectData {
            object_name: "password".into(),
            key: key.into(),
        });
}
