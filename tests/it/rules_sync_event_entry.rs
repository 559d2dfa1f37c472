//! A driver FailedToCreateSecret names the Secret it failed to build (FACTS §3: "failed to get
//! data in spc <ns>/<spc> for secret <name>, err: …"), and the SPC pod status controller builds
//! each `secretObjects` entry on its own (FACTS §2). So the event belongs to that entry only
//! (audit EE5): once that entry is corrected, it reads "failed, now looks right" and the
//! driver builds its Secret at the next reconcile, even while another entry is still wrong;
//! and that other entry's KVC801 does not quote it as its evidence.

use crate::rules_sync_settled::{after_edit, one};
use kvchain::chain::testkit::{self as tk, APP};
use kvchain::chain::{Code, LinkKind};
use kvchain::snapshot::*;

/// The healthy app's entry corrected after the driver failed on `db-pass` (the event names
/// its Secret), plus a second entry `extra` that still reads a file nothing mounts.
fn corrected_beside_a_wrong_entry() -> Snapshot {
    let mut s = after_edit("file matching objectName db-pass not found in the pod");
    s.spcs.items[0].secret_objects.push(SecretObjectSpec {
        secret_name: "extra".into(),
        type_: "Opaque".into(),
        data: vec![SecretObjectData {
            object_name: "passwd".into(),
            key: "pw".into(),
        }],
        ..SecretObjectSpec::default()
    });
    s
}

#[test]
fn another_entrys_kvc801_does_not_take_the_corrected_entrys_event() {
    let c = one(&corrected_beside_a_wrong_entry());
    let extra = c
        .findings()
        .find(|f| f.code == Code::KVC801 && f.message.contains("Secret extra"))
        .unwrap_or_else(|| panic!("KVC801 for extra: {:#?}", c.findings().collect::<Vec<_>>()));
    assert!(
        !extra
            .evidence
            .iter()
            .any(|e| e.contains("FailedToCreateSecret") || e.contains("db-pass")),
        "{extra:#?}"
    );
    assert!(extra.fix.contains("kubectl edit"), "{}", extra.fix);
}

#[test]
fn the_corrected_entry_still_waits_for_the_drivers_next_reconcile() {
    let c = one(&corrected_beside_a_wrong_entry());
    let secret = tk::secret_name(APP);
    let settled = c
        .findings()
        .find(|f| f.link == LinkKind::Sync && f.message.contains("changed since"))
        .unwrap_or_else(|| {
            panic!(
                "the settled failure: {:#?}",
                c.findings().collect::<Vec<_>>()
            )
        });
    assert!(
        settled.message.contains(&format!("Secret {secret}")),
        "{settled:#?}"
    );
    assert!(
        settled.message.contains("no longer names db-pass"),
        "{settled:#?}"
    );
    assert!(
        settled.message.contains("at most 16m40s apart"),
        "{settled:#?}"
    );
    assert!(
        settled.fix.starts_with("# nothing to change"),
        "{}",
        settled.fix
    );
    assert!(
        settled
            .evidence
            .iter()
            .any(|e| e.contains("FailedToCreateSecret")),
        "{settled:#?}"
    );
}
