//! A pasted SPC edit that adds an `objects` item, re-checked with rotation on, when the pod's
//! SPCPS is older than a poll (audit FF1-a, after EE1). The driver's FailedToCreateSecret over
//! the entry the edit corrected read the SPC as it was before the edit (FACTS §3: recorded on
//! the pod; §2: the controller builds the Secret from the SPC as it is), so the edit came after
//! the event's last attempt. FACTS §4: with rotation on the driver re-fetches once the poll
//! interval has passed, and "SPC edits after pod start are picked up only by rotation". So a
//! poll is due from the event on, whatever the SPCPS's age: the one answer is "wait one poll",
//! with no remount and no rotation repair beside it (one symptom, one cause). Once a poll (+
//! the slack) has passed since the event too, KVC703's rotation-on warning is the one cause and
//! the event is its evidence.

use crate::rules_sync_settled::{one, tls_item_added};
use kvchain::chain::testkit as tk;
use kvchain::chain::{Code, LinkKind, Severity, Status};
use kvchain::snapshot::*;

/// cert-for-tls right after KVC804's fix, rotation on (the testkit's 120 s poll): the pod's
/// SPCPS written 6 minutes ago (unchanged versions leave it so, FACTS §1), the driver's
/// failure last seen `event_ago` seconds ago.
fn rotating(event_ago: i64) -> Snapshot {
    let mut s = tls_item_added();
    s.azure = AzureObs::unknown("offline");
    for st in &mut s.spc_statuses.items {
        st.updated_at = Some(tk::ago(jiff::SignedDuration::from_secs(360)));
    }
    for e in &mut s.events.items {
        e.last_seen = Some(tk::ago(jiff::SignedDuration::from_secs(event_ago)));
    }
    s
}

#[test]
fn an_edit_made_after_a_failure_seen_within_a_poll_is_waited_for_not_remounted() {
    let c = one(&rotating(30));
    let all: Vec<_> = c.findings().collect();
    assert_eq!(all.len(), 1, "one symptom, one finding: {all:#?}");
    let f = all[0];
    assert_eq!(f.link, LinkKind::Sync, "{f:#?}");
    assert!(f.fix.contains("wait one rotation poll (120s)"), "{}", f.fix);
    assert!(!c.findings().any(|f| f.code == Code::KVC703), "{all:#?}");
    assert!(
        !c.findings().any(|f| f.fix.contains("kubectl delete")),
        "no remount while the poll is due: {all:#?}"
    );
    // The Mount link waits for that poll, as it does right after a fresh mount.
    let mount = c.link(LinkKind::Mount);
    assert_eq!(mount.status, Status::Pending, "{mount:#?}");
    assert_eq!(mount.summary, "rotation pending");
}

#[test]
fn past_a_poll_since_the_failure_kvc703_is_the_one_cause_with_the_event_as_evidence() {
    // 120 s poll + 60 s slack: 400 s since the event leaves a poll that should have run.
    let c = one(&rotating(400));
    let all: Vec<_> = c.findings().collect();
    assert_eq!(all.len(), 1, "one symptom, one finding: {all:#?}");
    let f = all[0];
    assert_eq!(f.code, Code::KVC703, "{f:#?}");
    // Rotation on: an edit made since the event within the last poll looks alike (EE1).
    assert_eq!(f.severity, Severity::Warning, "{f:#?}");
    assert!(
        f.evidence
            .iter()
            .any(|e| e.contains("FailedToCreateSecret")),
        "{f:#?}"
    );
    let sync = c.link(LinkKind::Sync);
    assert_eq!(sync.status, Status::Pending, "{sync:#?}");
    assert_eq!(sync.summary, "blocked: Mount");
}
