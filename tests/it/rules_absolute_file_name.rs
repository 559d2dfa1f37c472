//! An absolute objectAlias or objectName (audit O5). FACTS §5: "File name = objectAlias if
//! set else objectName; must be non-empty, relative, no `..`" — the provider refuses it with
//! `file name must be a relative path`. One symptom, one cause: KVC705 names the item and the
//! name to use, and the FailedMount it causes (and a vault miss of an absolute objectName)
//! is its evidence, not a KVC701 or a KVC601 of its own.

use kvchain::chain::Code;
use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::snapshot::*;

use super::rules_runtime::{all, codes, run};

fn objects(s: &mut Snapshot, item: &[(&str, &str)], event_name: &str) {
    let spc = tk::spc_mut(s, APP);
    tk::set_objects(spc, tk::objects_yaml(&[item]));
    tk::unmount(s, APP);
    // The provider's per-object wrapper (FACTS §5).
    s.events.items.push(tk::failed_mount(
        NS,
        &tk::pod_name(APP, 0),
        "secrets-store-inline",
        &format!(
            "failed to get objectType:secret, objectName:{event_name}, objectVersion:: file name must be a relative path"
        ),
    ));
}

/// One KVC705 and no other cause of the mount: no KVC701, no KVC601 (the testkit's unmount
/// also removes the synced Secret, so KVC802 may follow).
fn one_kvc705(chains: &[kvchain::chain::Chain]) {
    let found = codes(chains);
    let n = chains
        .iter()
        .flat_map(|c| c.findings())
        .filter(|f| f.code == Code::KVC705)
        .count();
    assert!(
        n == 1 && !found.contains(&Code::KVC701) && !found.contains(&Code::KVC601),
        "{:#?}",
        all(chains)
    );
}

#[test]
fn an_absolute_alias_is_one_kvc705_naming_the_relative_name() {
    let mut s = tk::healthy();
    let obj = tk::object_name(APP);
    objects(
        &mut s,
        &[
            ("objectName", &obj),
            ("objectType", "secret"),
            ("objectAlias", "/etc/password"),
        ],
        &obj,
    );
    let chains = run(&s);
    one_kvc705(&chains);
    let f = chains[0]
        .findings()
        .find(|f| f.code == Code::KVC705)
        .unwrap();
    assert!(
        f.fix.contains("objects.array[0].objectAlias: password "),
        "{}",
        f.fix
    );
    assert!(
        f.evidence.iter().any(|e| e.contains("FailedMount")),
        "{:?}",
        f.evidence
    );
    assert!(
        !f.message.contains("The parameter is a YAML string"),
        "{}",
        f.message
    );
}

#[test]
fn an_absolute_object_name_is_one_kvc705_not_a_missing_object_too() {
    let mut s = tk::healthy();
    let obj = tk::object_name(APP);
    let absolute = format!("/{obj}");
    // The vault has no object of that name (Key Vault names have no '/').
    let o = tk::object_mut(&mut s, APP);
    o.name = absolute.clone();
    o.state = Observed::Known(None);
    objects(
        &mut s,
        &[("objectName", &absolute), ("objectType", "secret")],
        &absolute,
    );
    let chains = run(&s);
    one_kvc705(&chains);
    let f = chains[0]
        .findings()
        .find(|f| f.code == Code::KVC705)
        .unwrap();
    assert!(
        f.fix
            .contains(&format!("objects.array[0].objectName: {obj} ")),
        "{}",
        f.fix
    );
}
