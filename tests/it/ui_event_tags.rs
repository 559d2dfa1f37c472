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
