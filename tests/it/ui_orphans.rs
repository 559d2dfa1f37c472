//! A chain no pod starts (an Ingress whose TLS names a synced Secret nothing mounts any more)
//! in the TUI: named by what it comes from, in the row and the titles, and not counted as a
//! pod (audit D10: a blank row name, `shop/` in the titles, `Chains · 1 pods`).

use std::sync::Arc;

use kvchain::source::SourceEvent;
use kvchain::source::lab::{export, faults};
use kvchain::ui::app::{App, AppEvent};
use kvchain::ui::config::UiConfig;
use kvchain::ui::tree::Row;
use kvchain::ui::views;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

#[test]
fn an_ingress_chain_is_named_by_its_ingress_and_not_counted_as_a_pod() {
    let mut w = crate::lab_diagnosis::settled("gc-tls");
    let target = (
        "Deployment".to_string(),
        "shop".to_string(),
        "edge-sync".to_string(),
    );
    faults::apply_to(&mut w, "delete-mounting-workload", &target).unwrap();
    w.run_until_stable(kvchain::source::lab::MAX_SETTLE);
    let snap = export::snapshot(&w);
    let mut app = App::new(snap.source.clone(), UiConfig::default());
    app.update(AppEvent::Resize(160, 45));
    app.update(AppEvent::Source(SourceEvent::Snapshot(Arc::new(snap))));
    // The first snapshot lands on the broken row: the Ingress's chain.
    assert!(matches!(app.tree.selected_row(), Row::Pod(..)));
    let chain = app.selected_chain().expect("a chain is selected");
    assert!(chain.pod.is_empty(), "the Ingress's chain has no pod");
    assert_eq!(app.selected_pod(), None, "nothing to restart or verify");
    assert_eq!(
        app.selected_subject(),
        Some(("shop".to_string(), "Ingress/edge".to_string()))
    );
    // The SPC the deleted workload mounted is mounted by no pod now: a row of its own, not a
    // pod either (audit XC-tui).
    assert_eq!(app.tree.spcs.shown, 1);
    let pods = app.tree.counts.total() - 1 - app.tree.spcs.shown;
    assert_eq!(app.tree.pods(), pods);

    let mut t = Terminal::new(TestBackend::new(160, 45)).unwrap();
    t.draw(|f| views::draw(f, &mut app)).unwrap();
    let text = t.backend().to_string();
    assert!(
        text.contains(&format!(
            "Chains · {pods} pods · 1 without a pod · 1 SPC mounted by no pod"
        )),
        "{text}"
    );
    assert!(text.contains("spc/edge-sync-kv"), "{text}");
    assert!(
        text.contains("▸ ✗ Ingress/edge  Consumers KVC904"),
        "{text}"
    );
    assert!(
        text.contains("Consumers · shop/Ingress/edge · spc/edge-sync-kv"),
        "{text}"
    );
    assert!(text.contains("Events · shop/Ingress/edge"), "{text}");
    assert!(
        text.contains("Ingress/edge is not a pod: no pod events"),
        "{text}"
    );
}
