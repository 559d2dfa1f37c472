//! How grave a settled Sync failure is (audit FF1-c). A driver failure to build the synced
//! Secret whose cause the SPC has since lost ("failed, now looks right") leaves nothing to fix:
//! the driver builds the Secret from the SPC as it is at its next reconcile, every 5 minutes
//! (FACTS §2), or once rotation's next poll has fetched an item the edit added (FACTS §4). A
//! wait is a warning, as a deleted synced Secret the driver recreates within 5 minutes is
//! (KVC806), and `check` exits 1 only for an error (README, exit status: `--fail-on error` is
//! the default). Where a new mount may be needed (an item the mount lacks, rotation not known
//! on) the failure keeps the event's severity.

use crate::rules_sync_settled::{after_edit, one, tls_item_added};
use kvchain::chain::{LinkKind, Severity, Status};
use kvchain::snapshot::*;

/// The Sync link's one finding of `s`'s chain: its severity and the link's status.
fn sync_of(s: &Snapshot) -> (Severity, Status) {
    let c = one(s);
    let sync: Vec<_> = c.findings().filter(|f| f.link == LinkKind::Sync).collect();
    assert_eq!(sync.len(), 1, "{sync:#?}");
    (sync[0].severity, c.link(LinkKind::Sync).status)
}

#[test]
fn a_failure_the_next_reconcile_repairs_is_a_warning() {
    for err in [
        "secret type is empty",
        "file matching objectName db-pass not found in the pod",
    ] {
        assert_eq!(
            sync_of(&after_edit(err)),
            (Severity::Warning, Status::Warning),
            "{err}"
        );
    }
}

#[test]
fn a_failure_the_next_rotation_poll_repairs_is_a_warning() {
    // Rotation on (the testkit's 120 s poll), the event 30 s old: the poll is due.
    let mut s = tls_item_added();
    s.azure = AzureObs::unknown("offline");
    assert_eq!(sync_of(&s), (Severity::Warning, Status::Warning));
}

#[test]
fn an_item_the_mount_lacks_with_rotation_not_read_keeps_the_events_severity() {
    // Only rotation (unread here) or a new mount brings the file: not a mere wait.
    let mut s = tls_item_added();
    s.azure = AzureObs::unknown("offline");
    if let Observed::Known(csi) = &mut s.cluster.csi_driver {
        csi.rotation_enabled = Observed::unknown("not read");
    }
    assert_eq!(sync_of(&s).0, Severity::Error);
}

#[test]
fn check_exits_0_while_the_driver_only_has_to_retry() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snap.json");
    let s = after_edit("secret type is empty");
    std::fs::write(
        &path,
        kvchain::snapshot::file::to_string(&s, false).unwrap(),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "--snapshot"])
        .arg(&path)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("failed, now looks right"), "{text}");
    assert_eq!(out.status.code(), Some(0), "{text}");
    // Still shown: `--fail-on warning` counts it.
    let strict = std::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "--fail-on", "warning", "--snapshot"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(strict.status.code(), Some(1));
}
