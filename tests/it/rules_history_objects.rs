//! Objects with `objectVersionHistory` (audit O1, O2). FACTS §5: with objectVersionHistory > 1
//! the provider writes `<alias-or-name>/<i>`, 0 the newest enabled version, and no bare
//! `<alias-or-name>`; §2: `secretObjects[].data[].objectName` must name a mounted file
//! ("`alias/0` for history"); §1: the SPCPS ids are `<type>/<objectName>/<index>`.

use kvchain::chain::testkit::{self as tk, APP};
use kvchain::chain::{Code, LinkKind, Status};
use kvchain::snapshot::*;

use super::rules_runtime::{all, codes, only, run};
use super::rules_runtime_objects::newer_version_30_minutes_ago;

/// The app's one object with objectVersionHistory 2, with or without its alias `password`,
/// and the synced Secret's key read from `synced_from`.
fn history(s: &mut Snapshot, alias: bool, synced_from: &str) {
    let obj = tk::object_name(APP);
    let mut item = vec![
        ("objectName", obj.as_str()),
        ("objectType", "secret"),
        ("objectVersionHistory", "2"),
    ];
    if alias {
        item.push(("objectAlias", "password"));
    }
    let spc = tk::spc_mut(s, APP);
    tk::set_objects(spc, tk::objects_yaml(&[&item]));
    spc.secret_objects[0].data[0].object_name = synced_from.into();
    // The pod's mount as the provider reports it for a history object (FACTS §1).
    for st in &mut s.spc_statuses.items {
        for o in &mut st.objects {
            o.id = format!("{}/0", o.id).into();
        }
    }
}

#[test]
fn a_history_object_synced_by_its_bare_name_is_pointed_at_index_0_not_added_again() {
    let mut s = tk::healthy();
    let obj = tk::object_name(APP);
    history(&mut s, false, &obj);
    let f = only(&run(&s), Code::KVC801);
    // The item is listed: adding it again would clash with it (KVC706).
    assert!(
        f.fix.contains(&format!(
            "secretObjects[{}].data[key=password].objectName: {obj}/0",
            tk::secret_name(APP)
        )) && !f.fix.contains("add an item"),
        "{}",
        f.fix
    );
    assert!(
        f.message.contains("objectVersionHistory: 2")
            && !f.message.contains("no item of objects lists"),
        "{}",
        f.message
    );
}

#[test]
fn a_history_object_with_an_alias_synced_by_its_bare_alias_is_pointed_at_alias_0() {
    let mut s = tk::healthy();
    history(&mut s, true, "password");
    let f = only(&run(&s), Code::KVC801);
    assert!(f.fix.ends_with("objectName: password/0"), "{}", f.fix);
}

#[test]
fn a_history_object_whose_index_0_lags_the_vault_is_kvc703() {
    let mut s = tk::healthy();
    history(&mut s, true, "password/0");
    newer_version_30_minutes_ago(&mut s);
    let chains = run(&s);
    let f = only(&chains, Code::KVC703);
    assert!(
        f.message.contains(tk::V1) && f.message.contains(tk::V2),
        "{}",
        f.message
    );
    assert_eq!(chains[0].link(LinkKind::Mount).status, Status::Warning);
}

#[test]
fn index_0_holds_the_newest_enabled_version_so_a_disabled_newest_is_no_lag() {
    let mut s = tk::healthy();
    history(&mut s, true, "password/0");
    newer_version_30_minutes_ago(&mut s);
    // The provider skips disabled versions (FACTS §5): /0 is V1, which the pod mounts.
    if let Observed::Known(Some(o)) = &mut tk::object_mut(&mut s, APP).state {
        o.versions[0].enabled = false;
    }
    assert!(
        !codes(&run(&s)).contains(&Code::KVC703),
        "{:#?}",
        all(&run(&s))
    );
}
