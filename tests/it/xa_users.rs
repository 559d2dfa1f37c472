//! Audit XA-users: the lab walked through as a trainer, an operator and a developer verifying
//! rotation; each test is a statement the screen made that the documents contradict.

use kvchain::action::timeline::StepState;

use crate::actions_lab::{rotate, settled};

/// A hop line's reason, `Never` or `Stuck`.
pub(crate) fn reason(state: &StepState) -> &str {
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
    // Audit XE-tui: "…; 1 more of the 2 not reached" under "(0 of 2)" read as one pod.
    assert!(why.starts_with("none of the 2: "), "{why}");
}

/// After `M` on billing's key in `demo subpath`, billing's file /etc/billing/api-key is a
/// subPath copy of the CSI volume itself (the SPC syncs no Secret: its Sync link reads "no
/// sync"), and KVC901 says so in its message. The detail pane then printed the code's title
/// and gist under it: "env var or subPath file from the synced Secret is older than the
/// Secret" and "… from the synced Secret that changed after the container started" — a
/// Secret this chain does not have. FACTS §4: a subPath of the CSI volume never sees rotated
/// content, the same stale copy as one of the synced Secret; codes.yaml's own `why` for
/// KVC901 names both. What the pane says of the code must name both sources too.
#[test]
fn a_stale_subpath_of_the_csi_volume_is_not_called_a_synced_secrets_copy() {
    use kvchain::chain::{Code, LinkKind, Status};
    let mut src = settled("subpath");
    let _ = rotate(&mut src, "billing-api-key", true);
    let chains = kvchain::chain::diagnose(&crate::actions_lab::snapshot(&src));
    let chain = chains
        .iter()
        .find(|c| c.pod.starts_with("billing-"))
        .expect("billing's chain");
    let sync = chain.link(LinkKind::Sync);
    assert_eq!(
        (sync.status, sync.summary.as_str()),
        (Status::Ok, "no sync")
    );
    let f = chain
        .findings()
        .find(|f| f.code == Code::KVC901)
        .unwrap_or_else(|| panic!("KVC901 after the marker: {chain:#?}"));
    assert!(f.message.contains("CSI volume"), "{}", f.message);
    let title = f.code.title();
    let (gist, _) = kvchain::codedoc::gist(f.code);
    for said in [title, gist.as_str()] {
        assert!(
            said.contains("synced Secret") && said.contains("CSI volume"),
            "the pane says of this CSI subPath copy: {said}"
        );
    }
}
