//! An SPC edited, under a running workload, to something the provider refuses (audit FF1).
//! FACTS §5: `Invalid vaultObjectTypes. Should be secret, key, or cert` and `PFX format only
//! supported for objectType: secret` are provider errors, wrapped in `failed to mount objects`
//! (§3): every new mount of the SPC fails, and so does every rotation poll (§4). The running
//! pods keep what they mounted before the edit. §4's workaround for an edit rotation has not
//! applied (delete the synced Secret, restart the pod) works only for an edit that can be
//! mounted: here it would trade a working replica for one stuck in ContainerCreating. One
//! cause (KVC705); the stale mount follows it. §1: SPCPS ids are `<type>/<objectName>` of a
//! type the provider knows.

use jiff::SignedDuration;
use kvchain::chain::testkit::{self as tk, APP};
use kvchain::chain::{Chain, Code, LinkKind};
use kvchain::snapshot::*;

use super::rules_runtime::{all, csi, only, run};
use super::rules_runtime_objects::newer_version_30_minutes_ago;

const SIGNING: &str = "web-signing";

/// The SPC's one object, with `extra` items after it; `object_type` for the mounted one.
fn objects(s: &mut Snapshot, object_type: &str, extra: &[&[(&str, &str)]]) {
    let obj = tk::object_name(APP);
    let first: &[(&str, &str)] = &[
        ("objectName", obj.as_str()),
        ("objectType", object_type),
        ("objectAlias", "password"),
    ];
    let mut items = vec![first];
    items.extend_from_slice(extra);
    let spc = tk::spc_mut(s, APP);
    tk::set_objects(spc, tk::objects_yaml(&items));
}

/// The mounted object's type retyped `secrets` (the provider refuses it).
fn retyped(s: &mut Snapshot) {
    objects(s, "secrets", &[]);
}

/// A new item: a key asked for as PFX (the provider refuses it).
fn pfx_key_added(s: &mut Snapshot) {
    objects(
        s,
        "secret",
        &[&[
            ("objectName", SIGNING),
            ("objectType", "key"),
            ("objectFormat", "pfx"),
        ]],
    );
}

/// More than a poll (+ slack) since the pod's SPCPS was written: rotation had its chance.
fn past_a_poll(s: &mut Snapshot) {
    for st in &mut s.spc_statuses.items {
        st.updated_at = Some(tk::ago(SignedDuration::from_mins(6)));
    }
}

fn rotation_off(s: &mut Snapshot) {
    csi(s).rotation_enabled = Observed::Known(false);
}

/// No finding's fix deletes a pod or the synced Secret when pasted: the remount fails on the
/// refusal. With rotation known off it is named only after the refusal's fix, in the comment
/// that says to fix KVC705 first (§4: no poll fetches the mounted volume again; audit HH2).
fn nothing_deleted(chains: &[Chain]) {
    for f in chains.iter().flat_map(|c| c.findings()) {
        let deletes =
            f.fix.contains("kubectl delete pod") || f.fix.contains("kubectl delete secret");
        assert!(
            !deletes || f.fix.starts_with("# fix KVC705 (Mount) first, then "),
            "{}: {}",
            f.code,
            f.fix
        );
    }
}

/// The stale mount (KVC703) follows the refusal: blocked, with the refusal's fix first.
fn stale_follows_refusal(chains: &[Chain]) -> kvchain::chain::Finding {
    let f = only(chains, Code::KVC703);
    assert_eq!(f.follows, Some(LinkKind::Mount), "{f:#?}");
    assert!(f.message.starts_with("blocked by "), "{}", f.message);
    assert!(f.fix.contains("fix KVC705"), "{}", f.fix);
    nothing_deleted(chains);
    f
}

/// The mounted item's type retyped to an invalid one: the mount still holds
/// `secret/<name>`, the edit added no item (the SPCPS id of `secrets/<name>` is not one the
/// provider could write). KVC705 alone, rotation on or known off.
#[test]
fn an_object_retyped_to_an_invalid_type_is_kvc705_alone_with_rotation_on_or_off() {
    for off in [false, true] {
        let mut s = tk::healthy();
        if off {
            rotation_off(&mut s);
        }
        retyped(&mut s);
        past_a_poll(&mut s);
        let chains = run(&s);
        only(&chains, Code::KVC705);
        assert!(
            !chains
                .iter()
                .flat_map(|c| c.findings())
                .any(|f| f.code == Code::KVC703),
            "rotation off {off}: {:#?}",
            all(&chains)
        );
        nothing_deleted(&chains);
        // And no fact says the SPC "now also lists" the object the mount holds.
        let mount = chains[0].link(LinkKind::Mount);
        assert!(
            !mount.facts.iter().any(|f| f.observed.contains("also list")),
            "{:#?}",
            mount.facts
        );
    }
}

/// A new item the provider refuses (a key as PFX), rotation on past a poll: the mount lacks
/// it because every poll fails on it. KVC703 follows KVC705, no remount.
#[test]
fn rotation_on_a_refused_new_item_the_mount_lacks_follows_kvc705() {
    let mut s = tk::healthy();
    pfx_key_added(&mut s);
    past_a_poll(&mut s);
    let chains = run(&s);
    assert_eq!(only(&chains, Code::KVC705).follows, None);
    let f = stale_follows_refusal(&chains);
    assert!(f.message.contains(SIGNING), "{}", f.message);
}

/// The same with rotation known off: §4's remount workaround would fail on the refusal too.
#[test]
fn rotation_off_a_refused_new_item_the_mount_lacks_follows_kvc705() {
    let mut s = tk::healthy();
    rotation_off(&mut s);
    pfx_key_added(&mut s);
    let chains = run(&s);
    let f = stale_follows_refusal(&chains);
    assert!(f.message.contains(SIGNING), "{}", f.message);
}

/// A version lag of a valid item beside a refused one: rotation fails on the whole mount, so
/// the lag follows the refusal too.
#[test]
fn a_version_lag_beside_a_refused_item_follows_kvc705() {
    let mut s = tk::healthy();
    newer_version_30_minutes_ago(&mut s);
    retyped_sibling(&mut s);
    let chains = run(&s);
    let f = stale_follows_refusal(&chains);
    assert!(f.message.contains(tk::V2), "{}", f.message);
}

/// A second item, the mounted one's sibling, with a type the provider refuses; the mount
/// holds the first (its SPCPS lists it).
fn retyped_sibling(s: &mut Snapshot) {
    objects(
        s,
        "secret",
        &[&[("objectName", SIGNING), ("objectType", "secrets")]],
    );
}
