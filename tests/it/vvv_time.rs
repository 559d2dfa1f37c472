//! Audit VVV-time: what a trainer and a developer see over time at 80×24 — the detail pane
//! under a spanning lesson, the rotation timeline's stuck reasons and messages, long words.

use crossterm::event::KeyCode;
use ratatui::layout::Rect;

use super::lessons::tui::{key, screen, six_hops_started, tick};

/// The text a pane's rectangle holds on a drawn screen (one string per row).
pub(crate) fn pane(screen: &str, r: Rect) -> Vec<String> {
    (screen.lines())
        .skip(usize::from(r.y))
        .take(usize::from(r.height))
        .map(|l| {
            (l.chars())
                .skip(usize::from(r.x))
                .take(usize::from(r.width))
                .collect()
        })
        .collect()
}

/// README (TUI, Lesson): each six-hops step asks to "read the finding in the detail pane"
/// while the lesson, too tall for the detail column at 80×24, spans the tree's width. It took
/// every row but eight of the body, which left the detail three lines — its header, a blank
/// and the link's first check — and the finding the step is about out of view. The detail
/// now keeps room for its finding; the lesson keeps three lines of its step (its border says
/// how to scroll the rest).
#[test]
fn under_the_spanning_six_hops_lesson_the_detail_shows_the_finding_at_80x24() {
    let (mut app, mut src, mut rev) = six_hops_started();
    app.update(kvchain::ui::app::AppEvent::Resize(80, 24));
    let mut seen = 0;
    for step in 1..=6 {
        key(&mut app, &mut src, KeyCode::Char('n'));
        for _ in 0..12 {
            tick(&mut app, &mut src, &mut rev);
        }
        let s = screen(&mut app);
        assert!(!s.contains("CANARY"), "{s}");
        let a = app.areas();
        assert!(a.lesson.width > a.detail.width, "the lesson spans: {a:?}");
        assert!(
            a.lesson.height >= 5,
            "step {step}: the lesson keeps three lines: {a:?}\n{s}"
        );
        let detail = pane(&s, a.detail).join("\n");
        let broken = (app.selected_link()).is_some_and(|l| !l.findings.is_empty());
        if broken {
            seen += 1;
            assert!(
                detail.contains("KVC"),
                "step {step}: the detail shows its finding:\n{detail}\n---\n{s}"
            );
        }
    }
    assert!(seen >= 3, "the steps break hops: {seen}");
}

/// The rows the status bar takes at 80×24 for `out`, an action's outcome, on the lab's
/// healthy world with a checkout pod selected.
pub(crate) fn status_rows_at_80(out: &kvchain::action::ActionOutcome) -> u16 {
    use kvchain::source::SourceEvent;
    use kvchain::source::lab::{self, export};
    use kvchain::ui::app::{App, AppEvent};
    use kvchain::ui::config::UiConfig;
    use std::sync::Arc;

    let mut src = lab::open("healthy", None).expect("built-in scenario");
    src.world_mut()
        .run_until_stable(std::time::Duration::from_secs(600));
    let snapshot = export::snapshot(src.world());
    let mut app = App::new(snapshot.source.clone(), UiConfig::default());
    app.update(AppEvent::Resize(80, 24));
    app.update(AppEvent::Source(SourceEvent::Lab(src.status())));
    app.update(AppEvent::Source(SourceEvent::Snapshot(Arc::new(snapshot))));
    app.update(AppEvent::ActionDone(out.clone()));
    app.areas().status.height
}

/// The lab's `r` says its version cut on the status line (audit UUU-time2) and, as the live
/// source, whole where the audit log is written (README `r`).
#[test]
fn the_labs_rotation_keeps_the_whole_version_for_the_audit_log() {
    use kvchain::action::Action;
    use kvchain::source::lab::{self, export};

    let mut src = lab::open("healthy", None).expect("built-in scenario");
    src.world_mut()
        .run_until_stable(std::time::Duration::from_secs(600));
    let object = "checkout-db-password";
    let out = src.act(&Action::Rotate {
        vault: "kv-shop-lab".into(),
        object: object.into(),
        marker: false,
    });
    assert!(out.ok, "{out:?}");
    let after = export::snapshot(src.world());
    let new = (after.azure.objects.iter())
        .filter(|o| o.name == object)
        .find_map(|o| o.state.known().cloned().flatten())
        .and_then(|o| o.latest().map(|v| v.version.to_string()))
        .expect("the secret's latest version");
    assert_eq!(new.chars().count(), 32, "{new}");
    assert!(!out.message.contains(&new), "{out:?}");
    assert!(out.message.contains(&format!("{}…", &new[..8])), "{out:?}");
    let audit = out.audit.as_deref().unwrap_or(&out.message);
    assert!(audit.contains(&new), "{out:?}");
    assert!(status_rows_at_80(&out) <= 2, "{out:?}");
}

/// README (`r`): the timeline replaces the events pane and ends "in a verdict per hop". At
/// 80×24 without a lesson that pane kept its 35% of the right column: four lines, the verdict
/// cut after its third hop (env / restart, the hop that says whether a restart is needed, out
/// of view) and nothing on its border saying there was more. While a result is shown it takes
/// 60% of the column, as under a lesson, and a result taller than the pane says on its border
/// which lines show.
#[test]
fn the_rotation_verdict_is_readable_at_80x24_without_a_lesson() {
    use kvchain::source::SourceEvent;
    use kvchain::source::lab::export;
    use kvchain::ui::app::AppEvent;
    use std::sync::Arc;
    use std::time::Duration;

    let (mut src, mut app) = super::uuu_time2::on_a_checkout_pod(Duration::from_secs(600));
    let action = super::uuu_time2::confirmed(&mut app, &[KeyCode::Char('r'), KeyCode::Char('y')]);
    let out = src.act(&action);
    app.update(AppEvent::ActionDone(out));
    for _ in 0..40 {
        src.world_mut().advance(Duration::from_secs(10));
        app.update(AppEvent::Source(SourceEvent::Lab(src.status())));
        let s = Arc::new(export::snapshot(src.world()));
        app.update(AppEvent::Source(SourceEvent::Snapshot(s)));
    }
    assert!(
        app.timeline.as_ref().is_some_and(|t| t.finished),
        "the watch ended"
    );
    let a = app.areas();
    assert!(
        a.events.height * 10 >= (a.events.height + a.detail.height) * 6 - 10,
        "the timeline takes 60% of the column: {a:?}"
    );
    let s = screen(&mut app);
    assert!(!s.contains("CANARY"), "{s}");
    let shown = pane(&s, a.events).join("\n");
    for hop in [
        "verdict",
        "Key Vault: new version",
        "mounted file",
        "synced Secret",
        "env / restart",
    ] {
        assert!(shown.contains(hop), "{hop:?} in\n{shown}\n---\n{s}");
    }
    // Taller than the pane: its border says which lines show.
    let bottom = pane(&s, a.events).last().cloned().unwrap_or_default();
    assert!(bottom.contains("lines 1–"), "{bottom}\n{s}");
    assert!(
        bottom.contains("done") && bottom.contains("esc closes"),
        "{bottom}"
    );
}

/// README (TUI, Tree): a pod row names the pod, its worst link and code. A row wider than the
/// tree was cut at its end: at 80×24 the two checkout pods both read `checkout-d7jg2fdwwk-`,
/// the suffix that tells them apart cut off, and at 120×40 a row read `Consumers KVC`, its
/// code's number cut. A row too wide keeps the code and drops the link's name (the code says
/// it), then cuts the pod's name in its middle, keeping the end that tells the pods apart.
#[test]
fn tree_rows_keep_the_end_of_a_pod_name_and_its_code() {
    use kvchain::source::SourceEvent;
    use kvchain::source::lab::{self, export};
    use kvchain::ui::app::{App, AppEvent};
    use kvchain::ui::config::UiConfig;
    use std::sync::Arc;

    let mut src = lab::open("default", None).expect("built-in scenario");
    src.world_mut()
        .run_until_stable(std::time::Duration::from_secs(600));
    let snapshot = export::snapshot(src.world());
    let pods: Vec<String> = (snapshot.pods.items.iter())
        .filter(|p| p.template_of.is_none())
        .map(|p| p.name.to_string())
        .collect();
    let mut app = App::new(snapshot.source.clone(), UiConfig::default());
    app.update(AppEvent::Source(SourceEvent::Lab(src.status())));
    app.update(AppEvent::Source(SourceEvent::Snapshot(Arc::new(snapshot))));
    for (w, h) in [(80, 24), (120, 40), (80, 60)] {
        app.update(AppEvent::Resize(w, h));
        let s = screen(&mut app);
        let a = app.areas();
        let rows = pane(&s, a.tree);
        let mut seen = std::collections::BTreeSet::new();
        for pod in &pods {
            let tail = &pod[pod.len() - 5..];
            let Some(row) = (rows.iter()).find(|r| r.contains('▸') && r.contains(tail)) else {
                // Rows below the tree's last row are not drawn.
                continue;
            };
            assert!(
                seen.insert(row.clone()),
                "{w}×{h}: two pods read alike: {row}"
            );
            if row.contains("KVC") {
                assert!(
                    regex_lite_code(row),
                    "{w}×{h}: a code cut: {row}\n{}",
                    rows.join("\n")
                );
            }
        }
        assert!(
            seen.len() >= 8,
            "{w}×{h}: {} pods read whole:\n{}",
            seen.len(),
            rows.join("\n")
        );
    }
}

/// Whether every `KVC` in `row` is followed by its three digits.
fn regex_lite_code(row: &str) -> bool {
    row.match_indices("KVC").all(|(i, _)| {
        let digits: String = row[i + 3..].chars().take(3).collect();
        digits.len() == 3 && digits.chars().all(|c| c.is_ascii_digit())
    })
}

/// The detail's title names the link, the pod and its SecretProviderClass (README, Detail). At
/// 80×24 it was cut at its end: `Pod · shop/checkout-d7jg2fdwwk-mnndv · spc/ch`, the SPC's
/// name lost. A title too wide drops the namespace (the tree's row above says it), then cuts
/// the pod's name in its middle.
#[test]
fn the_detail_title_keeps_the_spc_at_80x24() {
    use kvchain::source::SourceEvent;
    use kvchain::source::lab::{self, export};
    use kvchain::ui::app::{App, AppEvent};
    use kvchain::ui::config::UiConfig;
    use std::sync::Arc;

    let mut src = lab::open("healthy", None).expect("built-in scenario");
    src.world_mut()
        .run_until_stable(std::time::Duration::from_secs(600));
    let snapshot = export::snapshot(src.world());
    let mut app = App::new(snapshot.source.clone(), UiConfig::default());
    app.update(AppEvent::Source(SourceEvent::Lab(src.status())));
    app.update(AppEvent::Source(SourceEvent::Snapshot(Arc::new(snapshot))));
    super::ui_timelines::select_pod(&mut app, "checkout-");
    let (_, pod) = app.selected_pod().expect("selected");
    let pod = pod.to_string();
    for (w, h) in [(80, 24), (120, 40)] {
        app.update(AppEvent::Resize(w, h));
        let s = screen(&mut app);
        let a = app.areas();
        let title = pane(&s, a.detail).first().cloned().unwrap_or_default();
        assert!(title.contains("spc/checkout-kv "), "{w}×{h}: {title}");
        assert!(title.contains(&pod[pod.len() - 6..]), "{w}×{h}: {title}");
        assert!(title.contains(" Pod · "), "{w}×{h}: {title}");
    }
}
