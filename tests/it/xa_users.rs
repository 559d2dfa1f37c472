//! Audit XA-users: the lab walked through as a trainer, an operator and a developer verifying
//! rotation; each test is a statement the screen made that the documents contradict.

use kvchain::action::timeline::StepState;

use crate::actions_lab::{rotate, settled};

/// A hop line's reason, `Never` or `Stuck`.
fn reason(state: &StepState) -> &str {
    match state {
        StepState::Never(w) | StepState::Stuck(w) => w,
        other => panic!("not a failed hop: {other:?}"),
    }
}

/// Rotation off in the driver: both checkout pods keep the version they mounted, for one and
/// the same reason (FACTS §4: with rotation off an already-mounted path is never re-fetched).
/// The verdict said the other pod was "not reached, each with its own reason and restart in
/// the steps", but its step names the same reason and no restart: a developer looked for a
/// second cause and a restart that are not there.
#[test]
fn a_hop_whose_subjects_share_one_reason_says_so() {
    let mut src = settled("rotation-disabled");
    let tl = rotate(&mut src, "checkout-db-password", false);
    let mounted = tl
        .verdict
        .iter()
        .find(|s| s.label.starts_with("mounted file"))
        .unwrap_or_else(|| panic!("no mounted file hop in {tl:#?}"));
    assert_eq!(mounted.label, "mounted file (0 of 2)", "{tl:#?}");
    let why = reason(&mounted.state);
    assert!(why.contains("--enable-secret-rotation=false"), "{why}");
    assert!(
        !why.contains("each with its own reason"),
        "both pods are stuck for the one reason the line gives: {why}"
    );
    assert!(
        why.ends_with("; 1 more of the 2 not reached, for the same reason"),
        "{why}"
    );
}
