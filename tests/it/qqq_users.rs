//! Audit QQQ-users: the TUI and CLI as a trainer and an operator meet them, checked against
//! README, docs/ and FACTS.

use kvchain::chain::{LinkKind, diagnose};

/// The trainer breaks `wrong-role` (Key Vault Crypto User for a secret: KVC502, docs/codes.yaml
/// "a grant exists, but it fits another object type") and repairs it. The rotation's 403 stays
/// on the Access link as history, labelled `history (KVC501)`: a missing grant, which is not
/// what happened. Key Vault answers a missing grant, a grant for another object type and a
/// grant in the model the vault does not enforce with the same 403 (KVC501, KVC502, KVC503),
/// so the label names the three and claims none of them alone.
#[test]
fn a_past_403_is_labelled_with_every_code_its_message_may_be() {
    let snapshot =
        super::ui_event_tags::healthy_after(&[("wrong-role", true), ("wrong-role", false)]);
    let labels: Vec<String> = (diagnose(&snapshot).iter())
        .flat_map(|c| c.link(LinkKind::Access).facts.clone())
        .filter(|f| f.observed.contains("RESPONSE 403") && f.label.starts_with("history"))
        .map(|f| f.label.to_string())
        .collect();
    assert!(!labels.is_empty(), "the 403 kept as history");
    for label in labels {
        assert_eq!(label, "history (KVC501, KVC502 or KVC503)");
    }
}
