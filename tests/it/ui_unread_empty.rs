//! Audits W1, W2: what the TUI says when kvchain could read less. With pods unreadable an
//! empty tree is no verdict ("unknown is not absent"): it says the chains could not be seen,
//! never "No pod mounts Key Vault material"; and a cluster fact that could not be read (the
//! CSIDriver) is a gap the banner names, as `check` lists it. The status bar counts nothing
//! then either: `✗0 ✓0` would read as a verdict.

use std::sync::Arc;

use kvchain::chain::diagnose;
use kvchain::chain::testkit as tk;
use kvchain::snapshot::*;
use kvchain::ui::app::{App, AppEvent};
use kvchain::ui::config::UiConfig;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn screen(snap: Snapshot) -> String {
    let snap = Arc::new(snap);
    let mut app = App::new(snap.source.clone(), UiConfig::default());
    app.update(AppEvent::Resize(160, 35));
    app.apply(Arc::clone(&snap), diagnose(&snap));
    let mut t = Terminal::new(TestBackend::new(160, 35)).unwrap();
    t.draw(|f| kvchain::ui::views::draw(f, &mut app)).unwrap();
    t.backend().to_string()
}

#[test]
fn pods_unread_is_no_empty_cluster() {
    let mut s = tk::healthy();
    s.source.kind = SourceKind::Live;
    s.pods = Coll::unknown("cannot list pods at the cluster scope: forbidden");
    let shown = screen(s);
    assert!(
        !shown.contains("No pod mounts Key Vault material"),
        "{shown}"
    );
    assert!(
        shown.contains("No chain seen: pods, SPCs, workloads or Ingresses unread."),
        "{shown}"
    );
    // Nor does the status bar count zero chains as a verdict (`✗0 ✓0`).
    let status = shown.lines().last().unwrap_or_default();
    assert!(!status.contains("✗0") && !status.contains("✓0"), "{status}");
    assert!(status.contains("? no chain seen"), "{status}");
}

#[test]
fn a_cluster_fact_unread_is_named_in_the_banner() {
    let mut s = tk::healthy();
    s.source.kind = SourceKind::Live;
    s.cluster.csi_driver =
        Observed::unknown("cannot get csidrivers at the cluster scope: forbidden");
    let shown = screen(s);
    assert!(shown.contains("not seen"), "{shown}");
    assert!(shown.contains("cannot get csidrivers"), "{shown}");
}
