//! Audit JJ3, JJ4: what is said of a workload's pods while they are being deleted.
//!
//! FACTS §4: env vars from a synced Secret are a start-time snapshot. A pod being deleted
//! takes its snapshot with it: an old value only when the snapshot is old, nothing old when
//! kvchain has established it equals the Secret now (JJ3).
//!
//! FACTS §1: the driver keeps one SecretProviderClassPodStatus per pod and SPC. A workload
//! whose pods are all being deleted is diagnosed from its template too, as the pod it would
//! create; that template is no pod, and "(N pods)" and the TUI's "Chains · N pods" count pods
//! (JJ4).

use std::sync::Arc;

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Code, Finding, diagnose};
use kvchain::snapshot::*;
use kvchain::source::SourceEvent;
use kvchain::ui::app::{App, AppEvent};
use kvchain::ui::config::UiConfig;
use kvchain::ui::views;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// The app's two pods, both being deleted; their Secret rewritten 5 minutes ago, after their
/// containers started, with a vault version made then (`changed`) or with the version they
/// started with (the value unchanged).
fn deleting(changed: bool) -> Snapshot {
    let mut s = tk::empty();
    tk::add_app(&mut s, NS, APP, 2);
    let at = tk::ago(jiff::SignedDuration::from_mins(5));
    tk::secret_mut(&mut s, APP).updated_at = Some(at);
    if changed && let Observed::Known(Some(o)) = &mut tk::object_mut(&mut s, APP).state {
        o.versions[0].created = Some(at);
    }
    for p in s.pods.items.iter_mut() {
        p.deleting = true;
    }
    s
}

fn kvc901(s: &Snapshot) -> Vec<Finding> {
    (diagnose(s).iter().flat_map(|c| c.findings()))
        .filter(|f| f.code == Code::KVC901)
        .cloned()
        .collect()
}

/// JJ3: the copy holds the value the Secret holds now: nothing old goes with the pod.
#[test]
fn a_deleting_pods_current_env_copy_is_no_old_value() {
    let found = kvc901(&deleting(false));
    assert!(!found.is_empty(), "a KVC901 on the rewritten Secret");
    for f in &found {
        assert!(f.message.contains("holds the same value"), "{}", f.message);
        assert!(f.message.contains("is being deleted"), "{}", f.message);
        assert!(!f.message.contains("old value"), "{}", f.message);
    }
}

/// Control: an old copy goes with the pod, as II4 says.
#[test]
fn a_deleting_pods_old_env_copy_goes_with_it() {
    let found = kvc901(&deleting(true));
    assert!(!found.is_empty(), "a KVC901 on the changed Secret");
    for f in &found {
        assert!(
            f.message.contains("the old value goes with it"),
            "{}",
            f.message
        );
    }
}

/// `deleting(false)` with the Deployment's template read, as the live source reads it (the
/// pod it would create, named as the Deployment): diagnosed as a chain of its own.
fn deleting_with_template() -> Snapshot {
    let mut s = deleting(false);
    let mut t = s.pods.items[0].clone();
    t.name = APP.into();
    t.owners.clear();
    t.template_of = Some(tk::owner("Deployment", APP));
    t.deleting = false;
    t.phase = "".into();
    t.created_at = None;
    tk::workload_mut(&mut s, "Deployment", APP).template = Some(Box::new(t));
    s
}

/// JJ4: the text report counts the two pods, and names the template as what it is.
#[test]
fn the_text_report_counts_no_template_as_a_pod() {
    let s = deleting_with_template();
    let chains = diagnose(&s);
    assert_eq!(chains.len(), 3, "two pods and the template");
    let text = kvchain::report::text(&s, &chains, false);
    assert!(
        text.contains(&format!("Deployment/{APP} (2 pods and the template)")),
        "{text}"
    );
    assert!(!text.contains("(3 pods"), "{text}");
}

/// JJ4: the TUI's tree title counts the two pods; the template is a chain without a pod.
#[test]
fn the_tui_title_counts_no_template_as_a_pod() {
    let s = deleting_with_template();
    let mut app = App::new(s.source.clone(), UiConfig::default());
    app.update(AppEvent::Resize(160, 45));
    app.update(AppEvent::Source(SourceEvent::Snapshot(Arc::new(s))));
    assert_eq!(app.tree.pods(), 2);
    let mut t = Terminal::new(TestBackend::new(160, 45)).unwrap();
    t.draw(|f| views::draw(f, &mut app)).unwrap();
    let text = t.backend().to_string();
    assert!(text.contains("Chains · 2 pods · 1 without a pod"), "{text}");
}
