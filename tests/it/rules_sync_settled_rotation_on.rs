//! A pasted SPC edit that adds an `objects` item, re-checked with rotation on (audit EE1). FACTS
//! §4: "SPC edits after pod start are picked up only by rotation", and with rotation on the
//! driver re-fetches once the poll interval has passed since the mount was written; §1: the
//! SPCPS is rewritten by that fetch, and the SPCPS controller builds the synced Secret (§2).
//! So the answer right after the paste is "wait one poll", not a remount: the driver's old
//! FailedToCreateSecret is no evidence that rotation is broken. The edit came after the
//! event's last attempt, so a poll is due from then on, however old the SPCPS is: no KVC703
//! beside the wait (audit FF1-a; `rules_sync_settled_poll`).

use crate::rules_sync_settled::{one, tls_item_added};
use kvchain::chain::testkit as tk;
use kvchain::chain::{Code, LinkKind, Severity};
use kvchain::snapshot::*;

/// cert-for-tls right after KVC804's fix, rotation on (the testkit's 120 s poll), the pod's
/// SPCPS written `ago` before now.
fn rotating(ago: i64) -> Snapshot {
    let mut s = tls_item_added();
    s.azure = AzureObs::unknown("offline");
    for st in &mut s.spc_statuses.items {
        st.updated_at = Some(tk::ago(jiff::SignedDuration::from_secs(ago)));
    }
    s
}

#[test]
fn rotation_on_an_item_added_since_waits_one_poll_without_a_remount() {
    // The SPCPS last written 6 minutes ago: more than a poll, as for any pod whose versions
    // have not changed since it mounted (FACTS §1, ≤v1.5: status rewritten only on change).
    let c = one(&rotating(360));
    let sync = c
        .findings()
        .find(|f| f.link == LinkKind::Sync)
        .unwrap_or_else(|| {
            panic!(
                "the Sync failure is shown: {:#?}",
                c.findings().collect::<Vec<_>>()
            )
        });
    assert!(sync.message.contains("rotation's next poll"), "{sync:#?}");
    assert!(sync.fix.starts_with("# nothing to change"), "{}", sync.fix);
    assert!(
        sync.fix.contains("wait one rotation poll (120s)"),
        "{}",
        sync.fix
    );
    assert!(!sync.fix.contains("kubectl delete"), "{}", sync.fix);
    assert_eq!(c.link(LinkKind::Sync).summary, "failed, now looks right");
    // KVC703 is not raised to the one error over a rotation that may simply not have polled
    // since the edit, nor shown beside the wait: the event (30 s ago) is within a poll.
    let root = c.root_cause().expect("a cause");
    assert_ne!(root.code, Code::KVC703, "{root:#?}");
    assert!(
        !c.findings()
            .any(|f| f.code == Code::KVC703 && f.severity == Severity::Error),
        "{:#?}",
        c.findings().collect::<Vec<_>>()
    );
}

#[test]
fn rotation_on_within_a_poll_the_same_wait_is_said() {
    // The SPCPS written a minute ago: the poll is still due (no KVC703 at all).
    let c = one(&rotating(60));
    assert!(!c.findings().any(|f| f.code == Code::KVC703));
    let sync = c
        .findings()
        .find(|f| f.link == LinkKind::Sync)
        .expect("the Sync failure is shown");
    assert!(
        sync.fix.contains("wait one rotation poll (120s)"),
        "{}",
        sync.fix
    );
}
