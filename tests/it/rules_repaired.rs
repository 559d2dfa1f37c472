//! A failure event on the Mount link whose cause kvchain reads and now finds right (README
//! "Finding codes": "A failure event on a link whose objects kvchain reads and finds right (a
//! repair not yet retried) says so, and proposes nothing to create"). The SPC's `objects`
//! are what a KVC705 event (the provider rejecting them) is about: once they parse and
//! validate, the event is an attempt that failed before the repair, not a reason to edit them.

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{CONTRADICTED, Chain, Code, LinkKind, Severity, Status, diagnose};
use kvchain::snapshot::*;

fn one(s: &Snapshot) -> Chain {
    let mut chains = diagnose(s);
    assert_eq!(chains.len(), 1);
    chains.remove(0)
}

/// The provider's rotation failure for the app's pod, `cause` in the upstream wrapper (FACTS §3).
fn rotation_failed(cause: &str) -> EventObs {
    EventObs {
        namespace: NS.into(),
        involved_kind: "Pod".into(),
        involved_name: tk::pod_name(APP, 0).into(),
        type_: "Warning".into(),
        reason: "MountRotationFailed".into(),
        message: format!(
            "provider mount err: rpc error: code = Unknown desc = failed to mount secrets store objects for pod {NS}/{}, err: rpc error: code = Unknown desc = failed to mount objects, error: {cause}",
            tk::pod_name(APP, 0)
        ),
        count: 2,
        source: "csi-secrets-store-rotation".into(),
        last_seen: Some(tk::ago(jiff::SignedDuration::from_secs(30))),
        ..EventObs::default()
    }
}

const UNMARSHAL: &str =
    "failed to unmarshal objects, error: yaml: line 3: did not find expected key";

/// N9: the objects were broken and are repaired; the last rotation poll still failed on them.
#[test]
fn a_kvc705_event_over_objects_that_now_validate_says_failed_now_looks_right() {
    let mut s = tk::healthy();
    s.events.items.push(rotation_failed(UNMARSHAL));
    let c = one(&s);
    let f = c
        .findings()
        .find(|f| f.code == Code::KVC705)
        .unwrap_or_else(|| panic!("{:#?}", c.links));
    let mount = c.link(LinkKind::Mount);
    assert_eq!(mount.summary, CONTRADICTED, "{mount:#?}");
    assert_eq!(
        f.severity,
        Severity::Error,
        "a failed attempt is still current"
    );
    assert!(
        f.message.contains("looks right now"),
        "the event's own explanation is not repeated: {}",
        f.message
    );
    assert!(
        f.fix.starts_with("# nothing to change") && !f.fix.contains("kubectl edit"),
        "nothing to edit: {}",
        f.fix
    );
    assert!(
        f.evidence
            .iter()
            .any(|e| e.starts_with("MountRotationFailed")),
        "{f:#?}"
    );
    // The same event while the objects really are broken: the static KVC705 owns it, with
    // its edit.
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters.insert(
        "objects".into(),
        "array:\n  - |\n    objectName: x\n   objectType: secret\n".into(),
    );
    tk::reparse(spc);
    let c = one(&s);
    let f = c.findings().find(|f| f.code == Code::KVC705).unwrap();
    assert_ne!(c.link(LinkKind::Mount).summary, CONTRADICTED);
    assert!(!f.fix.starts_with("# nothing to change"), "{}", f.fix);
    assert_eq!(c.link(LinkKind::Mount).status, Status::Broken);
}

/// A FailedMount kvchain cannot classify (KVC701) names no object kvchain reads: nothing can
/// show it wrong, so it stays as it is (its fix: read the provider log).
#[test]
fn an_unclassified_failed_mount_is_left_as_it_is() {
    let mut s = tk::healthy();
    tk::unmount(&mut s, APP);
    s.events.items.push(tk::failed_mount(
        NS,
        &tk::pod_name(APP, 0),
        "secrets-store-inline",
        "something nobody has seen before",
    ));
    let c = one(&s);
    let f = c.findings().find(|f| f.code == Code::KVC701).unwrap();
    assert_eq!(f.severity, Severity::Error);
    assert_ne!(c.link(LinkKind::Mount).summary, CONTRADICTED);
    assert!(!f.fix.starts_with("# nothing to change"), "{}", f.fix);
}
