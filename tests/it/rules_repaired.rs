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
    "failed to yaml unmarshal objects, error: yaml: line 3: did not find expected key";

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

const FORBIDDEN: &str = "failed to get objectType:secret, objectName:web-password, objectVersion:: GET https://kv-shop.vault.azure.net/secrets/web-password/\n--------------------------------------------------------------------------------\nRESPONSE 403: 403 Forbidden\nERROR CODE: Forbidden\n--------------------------------------------------------------------------------\n{\"error\":{\"code\":\"Forbidden\",\"message\":\"Caller is not authorized to perform action on resource.\",\"innererror\":{\"code\":\"ForbiddenByRbac\"}}}";

fn rotation(s: &mut Snapshot, on: bool) {
    if let Observed::Known(csi) = &mut s.cluster.csi_driver {
        csi.rotation_enabled = Observed::Known(on);
    }
}

/// Rotation off, a 403 rotation failure half a minute old, the grant there now: FACTS §4 "with
/// rotation off, an already-mounted path is never re-fetched", so no next attempt will tell,
/// and "wait for the next attempt" never resolves. The event is history; what it left is read
/// from the mount: a mount that holds the latest version is fine, one behind the vault is
/// KVC703 with a fix that remounts. With rotation on, the same event within two polls is
/// still the contradicted current failure.
#[test]
fn a_rotation_failure_while_rotation_is_off_is_history_and_the_mount_says_what_it_left() {
    let mut s = tk::healthy();
    s.events.items.push(rotation_failed(FORBIDDEN));
    rotation(&mut s, true);
    let c = one(&s);
    assert_eq!(
        c.link(LinkKind::Access).summary,
        CONTRADICTED,
        "{:#?}",
        c.links
    );
    rotation(&mut s, false);
    let c = one(&s);
    assert!(
        !c.findings().any(|f| f.code == Code::KVC501),
        "{:#?}",
        c.links
    );
    assert!(
        !c.findings()
            .any(|f| f.fix.contains("wait for the next attempt")),
        "{:#?}",
        c.links
    );
    assert_eq!(c.link(LinkKind::Access).status, Status::Ok);
    // The vault has a version the mount missed (made an hour ago, after the mount).
    if let Observed::Known(Some(o)) = &mut tk::object_mut(&mut s, APP).state {
        let mut newer = o.versions[0].clone();
        newer.version = tk::V2.into();
        newer.created = Some(tk::ago(jiff::SignedDuration::from_mins(10)));
        o.versions.insert(0, newer);
    }
    let c = one(&s);
    let behind = c
        .findings()
        .find(|f| f.code == Code::KVC703)
        .unwrap_or_else(|| panic!("{:#?}", c.links));
    assert!(
        behind.fix.contains("kubectl delete pod") || behind.fix.contains("rollout restart"),
        "{}",
        behind.fix
    );
    assert!(
        !c.findings().any(|f| f.code == Code::KVC501),
        "{:#?}",
        c.links
    );
}

/// The same rotation failure with rotation off while SecretProviderClassPodStatus could not be
/// read: the pod's running container proves its volume mounted (the kubelet starts none
/// before, FACTS §3), and the rotation event itself was a mounted pod's (FACTS §4: rotation
/// re-fetches mounted volumes only). So nothing retries it either, and "wait for the next
/// attempt" would wait forever; what the mount holds is unknown, and the Mount link says so.
#[test]
fn a_rotation_failure_while_rotation_is_off_is_history_though_spcps_is_unread() {
    let mut s = tk::healthy();
    s.spc_statuses.items.clear();
    s.spc_statuses.gaps.all = Some("secretproviderclasspodstatuses: forbidden".into());
    s.events.items.push(rotation_failed(FORBIDDEN));
    rotation(&mut s, false);
    let c = one(&s);
    assert!(
        !c.findings()
            .any(|f| f.fix.contains("wait for the next attempt")),
        "{:#?}",
        c.links
    );
    assert!(
        !c.findings().any(|f| f.code == Code::KVC501),
        "{:#?}",
        c.links
    );
    let access = c.link(LinkKind::Access);
    assert_eq!(access.status, Status::Ok, "{access:#?}");
    assert!(
        access.facts.iter().any(|f| f.label.starts_with("history")),
        "{access:#?}"
    );
    // Rotation off is the Mount link's own warning (KVC702); the unread list stays named.
    let mount = c.link(LinkKind::Mount);
    assert_ne!(mount.status, Status::Ok, "{mount:#?}");
    assert!(
        mount.facts.iter().any(|f| f.observed.contains("forbidden")),
        "{mount:#?}"
    );
}
