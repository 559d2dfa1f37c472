//! Audit EEE7: a confirmation is sized to its text (README "Actions": "always confirmed first
//! with the exact operation spelled out"). It wraps to the terminal, grows up to the screen,
//! and when it still does not fit, j/k (or the arrows) scroll it and its border says so: the
//! whole text and its "y to confirm" can always be read, never cut silently. `y` confirms and
//! any other key cancels, as before.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kvchain::action::Action;
use kvchain::chain::model::WorkloadRef;
use kvchain::snapshot::{Coll, OwnerRef, PodObs, WorkloadObs};
use kvchain::ui::app::{App, AppEvent, Effect, Mode};
use kvchain::ui::config::UiConfig;
use kvchain::ui::testing::{healthy_chain, lab_snapshot};
use kvchain::ui::tree::Row;
use kvchain::ui::views;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn owner(kind: &str, name: &str) -> OwnerRef {
    OwnerRef {
        kind: kind.into(),
        name: name.into(),
        uid: Default::default(),
        controller: true,
    }
}

fn pod(ns: &str, name: &str, owner: OwnerRef, labels: &[(&str, &str)]) -> PodObs {
    PodObs {
        namespace: ns.into(),
        name: name.into(),
        owners: vec![owner],
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        phase: "Running".into(),
        node: Some("aks-node-1".into()),
        ..Default::default()
    }
}

/// The longest namespace and DaemonSet names Kubernetes takes (63-character DNS labels; a
/// DaemonSet's pods add `-xxxxx`): its confirmation spells them out several times.
const LONG_NS: &str = "payments-settlement-reconciliation-and-ledger-export-staging-eu";
const LONG_DS: &str = "node-local-secrets-store-sync-agent-with-a-very-long-name-xx";

/// A paused Deployment's pod (ledger), a DaemonSet's (agent), and a DaemonSet's with the
/// longest names, each with its chain.
fn app(width: u16, height: u16) -> App {
    let long_pod = format!("{LONG_DS}-q8x2z");
    let pods = [
        (
            pod(
                "payments",
                "ledger-6b7c8-k2j4h",
                owner("ReplicaSet", "ledger-6b7c8"),
                &[("pod-template-hash", "6b7c8")],
            ),
            ("Deployment", "ledger"),
        ),
        (
            pod(
                "payments",
                "agent-xr4cp",
                owner("DaemonSet", "agent"),
                &[("app", "agent")],
            ),
            ("DaemonSet", "agent"),
        ),
        (
            pod(LONG_NS, &long_pod, owner("DaemonSet", LONG_DS), &[]),
            ("DaemonSet", LONG_DS),
        ),
    ];
    let mut snapshot = lab_snapshot("default");
    snapshot.pods = Coll::known(pods.iter().map(|(p, _)| p.clone()).collect());
    let workload = |ns: &str, kind: &str, name: &str| WorkloadObs {
        kind: kind.into(),
        namespace: ns.into(),
        name: name.into(),
        ..Default::default()
    };
    snapshot.workloads = Coll::known(vec![
        WorkloadObs {
            owners: vec![owner("Deployment", "ledger")],
            ..workload("payments", "ReplicaSet", "ledger-6b7c8")
        },
        WorkloadObs {
            paused: true,
            ..workload("payments", "Deployment", "ledger")
        },
        workload("payments", "DaemonSet", "agent"),
        workload(LONG_NS, "DaemonSet", LONG_DS),
    ]);
    let chains = pods
        .iter()
        .map(|(p, (kind, name))| {
            let mut c = healthy_chain(&p.namespace, None, &p.name);
            c.workload = Some(WorkloadRef {
                kind: (*kind).into(),
                name: (*name).into(),
            });
            c
        })
        .collect();
    let mut app = App::new(snapshot.source.clone(), UiConfig::default());
    app.update(AppEvent::Resize(width, height));
    app.apply(Arc::new(snapshot), chains);
    app
}

fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
    app.update(AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

/// `R` on pod `name`: the prompt offered.
fn offer(app: &mut App, name: &str) -> String {
    let chains = app.chains.clone();
    let i = (0..app.tree.rows.len())
        .find(|i| {
            app.tree.select(*i, &chains);
            app.selected_pod().is_some_and(|(_, p)| p == name)
                && matches!(app.tree.selected_row(), Row::Pod(..) | Row::Chain(..))
        })
        .unwrap_or_else(|| panic!("no pod {name}"));
    app.tree.select(i, &chains);
    key(app, KeyCode::Char('R'));
    match &app.mode {
        Mode::Confirm { prompt, .. } => prompt.clone(),
        other => panic!("no confirmation for {name}: {other:?} {:?}", app.message),
    }
}

/// The dialog as drawn: its rows inside the border, and its bottom border's text.
fn dialog(app: &mut App) -> (Vec<String>, String) {
    let (w, h) = (app.size.width, app.size.height);
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| views::draw(f, app)).unwrap();
    let buf = t.backend().buffer().clone();
    let row = |y: u16, from: u16, to: u16| -> String {
        (from..to).map(|x| buf[(x, y)].symbol()).collect::<String>()
    };
    // The title sits right after the dialog's top-left corner: "┌ Confirm ──┐".
    let title: Vec<&str> = " Confirm".split_inclusive(|_| true).collect();
    let (left, top) = (0..h)
        .find_map(|y| {
            (1..w.saturating_sub(8))
                .find(|x| (0..8).all(|i| buf[(x + i, y)].symbol() == title[usize::from(i)]))
                .map(|x| (x - 1, y))
        })
        .expect("the dialog's title");
    assert_eq!(buf[(left, top)].symbol(), "┌");
    let right = (left + 1..w)
        .find(|x| buf[(*x, top)].symbol() == "┐")
        .expect("right corner");
    let bottom = (top + 1..h)
        .find(|y| buf[(left, *y)].symbol() == "└")
        .expect("bottom border");
    let rows = (top + 1..bottom)
        .map(|y| row(y, left + 1, right).trim().to_string())
        .collect();
    (rows, row(bottom, left, right + 1))
}

fn squeeze(s: &str) -> String {
    s.split_whitespace().collect()
}

/// Everything the dialog lets one read: its rows, scrolled down with `j` as long as its
/// border offers scrolling (each `j` one row). Returns the text and whether it scrolled.
fn read_whole(app: &mut App) -> (String, bool) {
    let (mut window, hint) = dialog(app);
    let mut rows = window.clone();
    let scrolls = hint.contains("scroll");
    if scrolls {
        for _ in 0..200 {
            assert!(key(app, KeyCode::Char('j')).is_empty(), "j only scrolls");
            assert!(matches!(app.mode, Mode::Confirm { .. }), "j did not cancel");
            let (now, _) = dialog(app);
            if now == window {
                break;
            }
            rows.push(now.last().cloned().unwrap_or_default());
            window = now;
        }
    }
    (rows.join(" "), scrolls)
}

#[test]
fn the_whole_confirmation_can_be_read_at_any_size_and_y_still_confirms() {
    for (w, h) in [(80, 24), (120, 40), (260, 60)] {
        for name in [
            "ledger-6b7c8-k2j4h",
            "agent-xr4cp",
            &format!("{LONG_DS}-q8x2z"),
        ] {
            let mut a = app(w, h);
            let prompt = offer(&mut a, name);
            assert!(prompt.ends_with("y to confirm"), "{prompt}");
            let (text, _) = read_whole(&mut a);
            assert!(
                squeeze(&text).contains(&squeeze(&prompt)),
                "{w}×{h} {name}: the whole text\n{prompt}\nnot readable in\n{text}"
            );
            let fx = key(&mut a, KeyCode::Char('y'));
            assert!(
                matches!(fx.as_slice(), [Effect::Act(Action::Restart { pod, .. })] if pod == name),
                "{w}×{h} {name}: {fx:?}"
            );
        }
    }
}

/// A text taller than the screen (no confirmation today needs more than 80×24, but a longer
/// one must not be cut either): the border says it scrolls and which lines show, j/↓ and k/↑
/// move it, any other key still cancels, and `y` still confirms from anywhere. While a name
/// is typed, letters are the name: only the arrows scroll.
#[test]
fn a_confirmation_taller_than_the_screen_scrolls_and_says_so() {
    let mut a = app(80, 24);
    let one = offer(&mut a, "ledger-6b7c8-k2j4h");
    let prompt = format!(
        "{} {one} {one} {one}",
        one.trim_end_matches(" y to confirm")
    );
    let open = |a: &mut App, typed: Option<String>| {
        let action = Action::Restart {
            namespace: "payments".into(),
            pod: "ledger-6b7c8-k2j4h".into(),
        };
        a.mode = Mode::Confirm {
            action,
            prompt: prompt.clone(),
            typed,
            scroll: 0,
        };
    };
    open(&mut a, None);
    let (first, hint) = dialog(&mut a);
    assert!(
        hint.contains("j/k scroll") && hint.contains("y confirm"),
        "{hint}"
    );
    assert!(
        !squeeze(&first.join(" ")).contains(&squeeze(&prompt)),
        "the test needs a text that does not fit: {first:?}"
    );
    let (text, scrolled) = read_whole(&mut a);
    assert!(
        scrolled && squeeze(&text).contains(&squeeze(&prompt)),
        "{text}"
    );
    open(&mut a, None);
    key(&mut a, KeyCode::Down);
    let (down, _) = dialog(&mut a);
    assert_eq!(down[0], first[1], "↓ scrolls one row");
    key(&mut a, KeyCode::Char('k'));
    assert_eq!(dialog(&mut a).0, first, "k scrolls back");
    key(&mut a, KeyCode::Up);
    assert_eq!(dialog(&mut a).0, first, "not above the top");
    assert!(key(&mut a, KeyCode::Char('x')).is_empty());
    assert_eq!(a.mode, Mode::Normal, "any other key cancels");
    let (said, _) = a.message.clone().unwrap();
    assert_eq!(said, "cancelled");
    open(&mut a, None);
    key(&mut a, KeyCode::Char('j'));
    let fx = key(&mut a, KeyCode::Char('y'));
    assert!(
        matches!(fx.as_slice(), [Effect::Act(Action::Restart { .. })]),
        "{fx:?}"
    );

    open(&mut a, Some(String::new()));
    let (first, hint) = dialog(&mut a);
    assert!(
        hint.contains("↑/↓ scroll") && hint.contains("enter confirms"),
        "{hint}"
    );
    key(&mut a, KeyCode::Char('j'));
    assert!(
        matches!(&a.mode, Mode::Confirm { typed: Some(t), .. } if t == "j"),
        "a letter is typed, not a scroll: {:?}",
        a.mode
    );
    assert_eq!(dialog(&mut a).0[0], first[0], "not scrolled");
    key(&mut a, KeyCode::Down);
    assert_eq!(dialog(&mut a).0[0], first[1], "↓ scrolls");
}
