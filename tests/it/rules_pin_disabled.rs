//! KVC603 (an SPC pinning an object version) proposes unpinning, so that rotation follows the
//! vault. Unpinned, the provider fetches the latest version (FACTS §5), and Key Vault refuses
//! a disabled one (403): while the latest version is disabled the unpin would break a mount
//! that works, so the fix keeps the pin and says when to drop it. With objectVersionHistory
//! the provider skips disabled versions, and the unpin stays the fix.

use kvchain::chain::testkit::{self as tk, APP, V1, V2};
use kvchain::chain::{Code, Finding, diagnose};
use kvchain::snapshot::*;

/// The app's SPC pins `V1`; the vault holds `V2` (latest, `latest_enabled`) and `V1`.
fn pinned(latest_enabled: bool) -> Snapshot {
    let mut s = tk::healthy();
    let Observed::Known(Some(o)) = &mut tk::object_mut(&mut s, APP).state else {
        panic!("testkit object is known");
    };
    let mut newest = o.versions[0].clone();
    o.versions[0].version = V1.into();
    newest.version = V2.into();
    newest.enabled = latest_enabled;
    o.versions.insert(0, newest);
    let spc = tk::spc_mut(&mut s, APP);
    let objects = spc.parameters["objects"].replace(
        "objectType: secret",
        &format!("objectType: secret\n    objectVersion: {V1}"),
    );
    tk::set_objects(spc, objects);
    s
}

fn kvc603(s: &Snapshot) -> Finding {
    let chains = diagnose(s);
    let mut found = chains.iter().flat_map(|c| c.findings());
    found
        .find(|f| f.code == Code::KVC603)
        .unwrap_or_else(|| panic!("KVC603: {chains:#?}"))
        .clone()
}

#[test]
fn a_pin_is_unpinned_when_the_latest_version_is_enabled() {
    let f = kvc603(&pinned(true));
    assert!(f.fix.contains("objectVersion: \"\""), "{}", f.fix);
    assert!(
        f.fix.starts_with("kubectl edit secretproviderclass"),
        "{}",
        f.fix
    );
}

#[test]
fn a_pin_is_kept_while_the_latest_version_is_disabled() {
    let f = kvc603(&pinned(false));
    assert!(!f.fix.starts_with("kubectl"), "{}", f.fix);
    assert!(f.fix.contains("keep objects[0].objectVersion"), "{}", f.fix);
    assert!(
        f.message
            .contains(&format!("latest version {V2} is disabled")),
        "{}",
        f.message
    );
}
