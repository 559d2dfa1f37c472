//! The synced Secret as it really is (FACTS §11: the driver creates it, then only rotation
//! updates it; §4: without rotation an SPC edit reaches it only by deleting it and restarting
//! a mounting pod). A Secret written before `secretObjects` gained a key lacks that key: the
//! Sync link names the stale Secret (KVC805) with that fix, and a reader stuck on the key
//! follows it (one cause per symptom). Under `objectVersionHistory` a disabled version
//! leaves a history index unwritten (FACTS §5): KVC801 names it, and no fix deletes a Secret
//! the driver cannot build again.

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Code, LinkKind, Severity, Status};
use kvchain::snapshot::*;

use crate::cause_kit::{one, with};
use crate::rules_runtime::latest;

fn rotation(s: &mut Snapshot, on: bool) {
    if let Observed::Known(csi) = &mut s.cluster.csi_driver {
        csi.rotation_enabled = Observed::Known(on);
    }
}

/// The app's container also reads key `key` of the synced Secret through env.
fn reads_key(s: &mut Snapshot, key: &str) {
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

/// The SPC's secretObjects gain key `apikey` after the Secret was written (it holds only
/// `password`), rotation off; the app's container asks for `apikey` and waits on it.
fn edited_after_write() -> Snapshot {
    let mut s = tk::healthy();
    rotation(&mut s, false);
    tk::spc_mut(&mut s, APP).secret_objects[0]
        .data
        .push(SecretObjectData {
            object_name: "password".into(),
            key: "apikey".into(),
        });
    reads_key(&mut s, "apikey");
    let secret = tk::secret_name(APP);
    tk::pod_mut(&mut s, APP).containers[0].state = ContainerStateObs::Waiting {
        reason: "CreateContainerConfigError".into(),
        message: format!("couldn't find key apikey in Secret {NS}/{secret}"),
    };
    s
}

/// R1: the Secret lacks a key the SPC now makes: the Sync link is broken by KVC805 naming
/// the Secret and the missing key, with FACTS §4's fix (delete it, restart the pods that read it,
/// or enable rotation); the reader's KVC905 follows it and does not blame the reader's key.
#[test]
fn a_secret_written_before_secret_objects_gained_a_key_is_stale_and_its_reader_follows() {
    let s = edited_after_write();
    let c = one(&s);
    let secret = tk::secret_name(APP);
    let stale = with(&c, Code::KVC805);
    assert_eq!(stale.len(), 1, "{:#?}", c.links);
    let f = stale[0];
    assert_eq!(f.severity, Severity::Error);
    assert_eq!(f.resource, format!("Secret/{secret}"));
    assert!(f.message.contains("apikey"), "{}", f.message);
    assert!(
        f.fix
            .contains(&format!("kubectl delete secret {secret} -n {NS}"))
            // Its env reader restarts with its owner (audit X3: every pod that read it).
            && f.fix
                .contains(&format!("kubectl rollout restart deployment/{APP} -n {NS}"))
            && f.fix.contains("rotation"),
        "{}",
        f.fix
    );
    assert_eq!(c.link(LinkKind::Sync).status, Status::Broken);
    let reader = with(&c, Code::KVC905);
    assert_eq!(reader.len(), 1, "{:#?}", c.links);
    assert_eq!(reader[0].follows, Some(LinkKind::Sync), "{:#?}", reader[0]);
    assert!(reader[0].fix.contains("KVC805"), "{}", reader[0].fix);
    assert!(
        reader[0]
            .evidence
            .iter()
            .any(|e| e.contains("couldn't find key apikey")),
        "{:#?}",
        reader[0]
    );
    // One red box: the reader's link is not drawn broken for the Sync link's cause.
    assert_ne!(c.link(LinkKind::Consumers).status, Status::Broken);
    assert_eq!(c.root_cause().map(|f| f.code), Some(Code::KVC805));
}

/// A key neither the Secret nor the SPC has is the reader's own cause (KVC905, no follows),
/// and a Secret that has every key the SPC makes is not stale.
#[test]
fn a_key_nothing_makes_is_the_readers_own_cause() {
    let mut s = tk::healthy();
    rotation(&mut s, false);
    reads_key(&mut s, "apikye");
    let c = one(&s);
    assert!(with(&c, Code::KVC805).is_empty(), "{:#?}", c.links);
    let reader = with(&c, Code::KVC905);
    assert_eq!(reader.len(), 1, "{:#?}", c.links);
    assert_eq!(reader[0].follows, None);
    assert_eq!(c.link(LinkKind::Consumers).status, Status::Broken);
}

/// `objectVersionHistory: 2`, `password/0` → current and `password/1` → previous; the
/// latest version is disabled, so only one enabled version is left.
pub(crate) fn history_with_disabled_latest() -> Snapshot {
    let mut s = tk::healthy();
    let obj = tk::object_name(APP);
    let objects = tk::objects_yaml(&[&[
        ("objectName", &obj),
        ("objectType", "secret"),
        ("objectAlias", "password"),
        ("objectVersionHistory", "2"),
    ]]);
    let spc = tk::spc_mut(&mut s, APP);
    tk::set_objects(spc, objects);
    spc.secret_objects[0].data = vec![
        SecretObjectData {
            object_name: "password/0".into(),
            key: "current".into(),
        },
        SecretObjectData {
            object_name: "password/1".into(),
            key: "previous".into(),
        },
    ];
    let mut older = latest(&mut s).clone();
    older.version = "0123456789abcdef0123456789abcdef".into();
    latest(&mut s).enabled = false;
    if let Observed::Known(Some(o)) = &mut tk::object_mut(&mut s, APP).state {
        o.versions.push(older);
    }
    // Built while both versions were enabled.
    let secret = tk::secret_mut(&mut s, APP);
    let fp = *secret.data.values().next().expect("a key");
    secret.data = [("current".to_string(), fp), ("previous".to_string(), fp)].into();
    if let EnvSourceObs::SecretKey { key, .. } =
        &mut tk::pod_mut(&mut s, APP).containers[0].env[0].source
    {
        *key = "current".into();
    }
    s
}

/// R3: one finding names the lost history index and the disabled version, with the fix to
/// re-enable it (or drop the mapping); nothing proposes deleting the Secret, which the
/// driver could not build again.
#[test]
fn a_disabled_version_losing_a_history_index_is_one_kvc801_that_never_deletes_the_secret() {
    let s = history_with_disabled_latest();
    let c = one(&s);
    let latest_version = match &tk::object_mut(&mut s.clone(), APP).state {
        Observed::Known(Some(o)) => o.versions[0].version.clone(),
        _ => unreachable!(),
    };
    let f = with(&c, Code::KVC801);
    assert_eq!(f.len(), 1, "{:#?}", c.links);
    assert!(f[0].message.contains("password/1"), "{}", f[0].message);
    assert!(f[0].message.contains(&latest_version), "{}", f[0].message);
    assert!(
        f[0].fix
            .contains(&format!("--version {latest_version} --enabled true")),
        "{}",
        f[0].fix
    );
    assert!(f[0].fix.contains("previous"), "{}", f[0].fix);
    assert!(with(&c, Code::KVC805).is_empty(), "{:#?}", c.links);
    assert!(
        !c.findings()
            .any(|f| f.fix.contains("kubectl delete secret")),
        "{:#?}",
        c.links
    );
    // Once the Secret is gone, its readers wait on the Sync link's cause.
    let mut s = s;
    s.secrets.items.retain(|x| x.name != tk::secret_name(APP));
    let c = one(&s);
    assert_eq!(with(&c, Code::KVC801).len(), 1, "{:#?}", c.links);
    let consumers = c.link(LinkKind::Consumers);
    assert_eq!(
        (consumers.status, consumers.summary.as_str()),
        (Status::Pending, "blocked: Sync"),
        "{consumers:#?}"
    );
}
