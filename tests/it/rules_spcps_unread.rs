//! The synced Secret while SecretProviderClassPodStatus could not be read: what the pod has
//! mounted is unknown, so the Sync link is never a quiet ✓ ("unknown is not absent"). The
//! vault's versions can still prove the Secret stale: a pod created after the latest version
//! was made mounted it (its first mount fetches the latest, FACTS §5), while the Secret,
//! created once and then rewritten only by rotation (FACTS §2, §11), holds an older version's
//! value (compared by fingerprints). A pod older than that version proves nothing: its mount
//! may be as old (a rotation still within its poll, or off).

use jiff::SignedDuration;
use kvchain::chain::testkit::{self as tk, APP, V1, V2};
use kvchain::chain::{Code, LinkKind, Severity, Status};
use kvchain::fingerprint::Fingerprint;
use kvchain::snapshot::*;

use crate::cause_kit::{one, with};

/// The healthy app with its SPCPS list unread, the vault's latest version `V2` made
/// `latest_age` ago (value fingerprint as the testkit's), and the previous one `V1` (another
/// value) 20 days ago; the Secret holds `V1`'s value when `stale`, else the latest.
fn unread(latest_age: SignedDuration, stale: bool) -> Snapshot {
    let mut s = tk::healthy();
    s.spc_statuses.items.clear();
    s.spc_statuses.gaps.all = Some("secretproviderclasspodstatuses: forbidden".into());
    let old = Fingerprint::of(b"the previous value");
    let Observed::Known(Some(o)) = &mut tk::object_mut(&mut s, APP).state else {
        panic!("testkit object is known");
    };
    let now = o.latest_fingerprint;
    o.versions = vec![
        ObjectVersion {
            version: V2.into(),
            enabled: true,
            created: Some(tk::ago(latest_age)),
            expires: None,
            not_before: None,
            fingerprint: now,
        },
        ObjectVersion {
            version: V1.into(),
            enabled: true,
            created: Some(tk::ago(SignedDuration::from_hours(24 * 20))),
            expires: None,
            not_before: None,
            fingerprint: Some(old),
        },
    ];
    if stale {
        let secret = tk::secret_mut(&mut s, APP);
        *secret.data.get_mut("password").unwrap() = old;
    }
    s
}

/// The pod was created after the latest version was made (the testkit's pods are younger than
/// a day): its mount holds it, the Secret an older one: KVC805, the stale Secret named, with
/// the versions (short ids, fingerprints) as evidence and the remount fix.
#[test]
fn a_secret_holding_an_older_version_than_a_younger_pod_mounted_is_stale_though_spcps_is_unread() {
    let s = unread(SignedDuration::from_hours(24), true);
    let c = one(&s);
    let stale = with(&c, Code::KVC805);
    assert_eq!(stale.len(), 1, "{:#?}", c.links);
    let f = stale[0];
    assert_eq!(f.severity, Severity::Error);
    assert_eq!(f.resource, format!("Secret/{}", tk::secret_name(APP)));
    assert!(f.message.contains("password"), "{}", f.message);
    assert!(
        f.evidence.iter().any(|e| e.contains(&V1[..8]))
            && f.evidence.iter().any(|e| e.contains(&V2[..8]))
            && f.evidence.iter().any(|e| e.contains("forbidden")),
        "{:#?}",
        f.evidence
    );
    assert!(
        f.fix
            .contains(&format!("kubectl delete secret {}", tk::secret_name(APP))),
        "{}",
        f.fix
    );
    assert_eq!(c.link(LinkKind::Sync).status, Status::Broken);
}

/// A latest version made after the pod was created: the mount may hold the older one too
/// (rotation within its poll), so the Secret is not called stale, but the Sync link is unknown
/// and says why. A Secret holding the latest version, which a younger pod mounted, is ok.
#[test]
fn a_secret_not_provably_stale_is_unknown_while_spcps_is_unread() {
    let s = unread(SignedDuration::from_secs(60), true);
    let c = one(&s);
    assert!(with(&c, Code::KVC805).is_empty(), "{:#?}", c.links);
    let sync = c.link(LinkKind::Sync);
    assert_eq!(sync.status, Status::Unknown, "{sync:#?}");
    // The read's reason as the unknown fact (the reports tie the link to its gap), and what
    // could not be told beside it, with the versions compared.
    assert!(
        sync.facts
            .iter()
            .any(|f| f.label == "unknown" && f.observed.contains("forbidden")),
        "{sync:#?}"
    );
    assert!(
        sync.facts
            .iter()
            .any(|f| f.label == "not checked" && f.observed.contains(&V1[..8])),
        "{sync:#?}"
    );
    // The same pod, the Secret holding the vault's latest: unknown too (the mount may be
    // older); a younger pod proves it.
    let s = unread(SignedDuration::from_secs(60), false);
    assert_eq!(one(&s).link(LinkKind::Sync).status, Status::Unknown);
    let s = unread(SignedDuration::from_hours(24), false);
    let c = one(&s);
    assert_eq!(c.link(LinkKind::Sync).status, Status::Ok, "{:#?}", c.links);
}
