//! The events pane tags each event with the link the diagnosis reads it on. The message alone
//! cannot always tell: AADSTS700016 ("application not found in the directory") for an
//! identity that exists is the SPC's tenantID (FACTS §11: KVC404 on the Federation link),
//! not a missing identity; the pane tagged it [Identity] beside a strip whose cause was
//! Federation (audit D5).

use kvchain::chain::{Code, LinkKind, diagnose};
use kvchain::source::lab;
use kvchain::ui::views::events::{cited_on, link_of};

#[test]
fn an_event_the_diagnosis_cites_is_tagged_with_its_link() {
    let snapshot = lab::run_check("cross-tenant", None).expect("built-in scenario");
    let chains = diagnose(&snapshot);
    let (chain, event) = chains
        .iter()
        .find_map(|c| {
            c.findings().find(|f| f.code == Code::KVC404)?;
            let e = (snapshot.events.items.iter()).find(|e| {
                e.involved_name == c.pod.as_str() && e.message.contains("AADSTS700016")
            })?;
            Some((c, e))
        })
        .expect("a chain whose KVC404 cites an AADSTS700016 event");
    // The message alone reads as a missing identity.
    assert_eq!(
        link_of(&event.reason, &event.message),
        Some(LinkKind::Identity)
    );
    assert_eq!(cited_on(chain, event), Some(LinkKind::Federation));
}

/// A 403 ForbiddenByRbac event is the Access link's (FACTS §5, README: `ForbiddenByRbac` →
/// Access), history or not. A later missing object (404 SecretNotFound, the Object link) is
/// cited by its own finding; that finding quotes the 404's message, not the 403's, whose
/// first line (the GET of the same secret) is the same: the 403 keeps its own tag (audit K4).
#[test]
fn a_finding_retags_only_the_events_whose_message_it_quotes() {
    let snapshot = healthy_after(&[
        ("remove-role-assignment", true),
        ("remove-role-assignment", false),
        ("delete-object", true),
    ]);
    let chains = diagnose(&snapshot);
    let mut seen = 0;
    for c in &chains {
        let events =
            || (snapshot.events.items.iter()).filter(|e| e.involved_name == c.pod.as_str());
        let (Some(denied), Some(missing)) = (
            events().find(|e| e.message.contains("ForbiddenByRbac")),
            events().find(|e| e.message.contains("SecretNotFound")),
        ) else {
            continue;
        };
        seen += 1;
        assert_eq!(
            link_of(&denied.reason, &denied.message),
            Some(LinkKind::Access)
        );
        assert_eq!(cited_on(c, missing), Some(LinkKind::VaultObject), "{c:#?}");
        assert_ne!(cited_on(c, denied), Some(LinkKind::VaultObject), "{c:#?}");
    }
    assert!(
        seen > 0,
        "a pod with both events: {:#?}",
        snapshot.events.items
    );
}

/// The built-in `healthy` scenario settled, then each lab fault of `steps` applied (true) or
/// repaired (false) in turn, five lab minutes after each (a rotation poll and more).
pub(crate) fn healthy_after(steps: &[(&str, bool)]) -> kvchain::snapshot::Snapshot {
    use kvchain::source::lab::export;
    use kvchain::source::{LabControl, Source as _};
    use std::time::Duration;

    let mut src = lab::open("healthy", None).expect("built-in scenario");
    let _ = src.info();
    src.world_mut().run_until_stable(Duration::from_secs(600));
    for &(id, apply) in steps {
        src.control(&LabControl::Fault {
            id: id.into(),
            apply,
            target: None,
        })
        .expect("fault");
        src.world_mut().advance(Duration::from_secs(300));
    }
    export::snapshot(src.world())
}
