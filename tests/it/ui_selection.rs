//! README §TUI: "Selection and opened nodes survive refreshes"; §Keys `b`: a break acts on the
//! selected row's workload. When the selected node vanishes (a rollout replaced its pod, the
//! workload was deleted), the selection falls back to the nearest surviving ancestor of the
//! same workload — never to another workload — and an open break menu keeps its target.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kvchain::chain::Chain;
use kvchain::source::{FaultTarget, LabControl, SourceCommand, SourceEvent};
use kvchain::ui::app::{App, AppEvent, Effect, Mode};
use kvchain::ui::config::UiConfig;
use kvchain::ui::testing::{healthy_chain, lab_snapshot, lab_status};
use kvchain::ui::tree::{NodeKey, Row};

/// shop/checkout (pod `old`) and shop/edge-sync: checkout sorts first, edge-sync right below.
fn chains(checkout_pod: Option<&str>) -> Vec<Chain> {
    let mut v = Vec::new();
    if let Some(p) = checkout_pod {
        v.push(healthy_chain("shop", Some("checkout"), p));
    }
    v.push(healthy_chain("shop", Some("edge-sync"), "edge-sync-1"));
    v
}

fn refresh(app: &mut App, chains: Vec<Chain>) {
    app.apply(Arc::new(lab_snapshot("default")), chains);
}

fn lab_app() -> App {
    let mut app = App::new(lab_snapshot("default").source, UiConfig::default());
    app.update(AppEvent::Resize(160, 45));
    app.update(AppEvent::Source(SourceEvent::Lab(lab_status())));
    refresh(&mut app, chains(Some("checkout-old")));
    app
}

fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
    app.update(AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

/// Select the first row whose key matches.
fn select(app: &mut App, want: impl Fn(&NodeKey) -> bool) {
    let chains = app.chains.clone();
    let i = (0..app.tree.rows.len())
        .find(|i| want(&app.tree.key(app.tree.rows[*i], &chains)))
        .expect("row visible");
    app.tree.select(i, &chains);
}

fn selected_workload(app: &App) -> Option<String> {
    app.fault_target().map(|t| t.name)
}

fn checkout() -> FaultTarget {
    FaultTarget {
        kind: "Deployment".into(),
        namespace: "shop".into(),
        name: "checkout".into(),
    }
}

#[test]
fn an_object_row_whose_pod_was_replaced_falls_back_to_the_new_pod_of_its_workload() {
    let mut app = lab_app();
    select(
        &mut app,
        |k| matches!(k, NodeKey::Pod { name, .. } if name == "checkout-old"),
    );
    key(&mut app, KeyCode::Char('l')); // open the pod: its SPC
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Char('l')); // open the SPC: its objects
    key(&mut app, KeyCode::Char('j'));
    assert!(matches!(app.tree.selected_row(), Row::Object { .. }));
    // A rollout: the old pod is gone, a new one of the same Deployment runs.
    refresh(&mut app, chains(Some("checkout-new")));
    assert_eq!(
        app.selected_pod().map(|(_, p)| p).as_deref(),
        Some("checkout-new")
    );
    assert_eq!(selected_workload(&app).as_deref(), Some("checkout"));
}

#[test]
fn a_deleted_workload_falls_back_to_its_namespace_and_comes_back_when_recreated() {
    let mut app = lab_app();
    select(
        &mut app,
        |k| matches!(k, NodeKey::Workload { name, .. } if name == "checkout"),
    );
    refresh(&mut app, chains(None));
    assert!(
        matches!(app.tree.selected_row(), Row::Namespace(_)),
        "not the neighbouring workload: {:?} ({:?})",
        app.tree.selected_row(),
        selected_workload(&app)
    );
    assert_ne!(selected_workload(&app).as_deref(), Some("edge-sync"));
    // Re-created: the selection returns to it.
    refresh(&mut app, chains(Some("checkout-new")));
    assert!(matches!(
        app.tree.selected_key(),
        Some(NodeKey::Workload { name, .. }) if name == "checkout"
    ));
}

#[test]
fn a_move_by_the_user_forgets_the_vanished_node() {
    let mut app = lab_app();
    select(
        &mut app,
        |k| matches!(k, NodeKey::Workload { name, .. } if name == "checkout"),
    );
    refresh(&mut app, chains(None));
    select(
        &mut app,
        |k| matches!(k, NodeKey::Workload { name, .. } if name == "edge-sync"),
    );
    refresh(&mut app, chains(Some("checkout-new")));
    assert_eq!(selected_workload(&app).as_deref(), Some("edge-sync"));
}

#[test]
fn the_open_break_menu_keeps_its_target_when_the_selection_moves() {
    let mut app = lab_app();
    select(
        &mut app,
        |k| matches!(k, NodeKey::Workload { name, .. } if name == "checkout"),
    );
    key(&mut app, KeyCode::Char('b'));
    assert!(matches!(app.mode, Mode::LabMenu { .. }));
    // The workload disappears (a fault deleted it) while the menu is open.
    refresh(&mut app, chains(None));
    // The second fault is not applied yet: enter breaks it, on the pinned target.
    key(&mut app, KeyCode::Char('j'));
    let fx = key(&mut app, KeyCode::Enter);
    let target = fx.iter().find_map(|e| match e {
        Effect::Command(SourceCommand::Lab(LabControl::Fault {
            apply: true,
            target,
            ..
        })) => Some(target.clone()),
        _ => None,
    });
    assert_eq!(target, Some(Some(checkout())), "{fx:?}");
}

/// Audit EEE8: a row that names no workload a fault can act on (an Ingress chain, its group)
/// falls back to the lab's default target (README "Keys" `b`, docs/scenarios.md
/// `faultTarget`), and the menu's title names that target, not the Ingress.
#[test]
fn an_ingress_row_breaks_the_default_target_and_the_menu_says_so() {
    let mut app = lab_app();
    let mut ingress = healthy_chain("shop", Some("edge"), "");
    ingress.workload = Some(kvchain::chain::WorkloadRef {
        kind: "Ingress".into(),
        name: "edge".into(),
    });
    let mut all = chains(Some("checkout-old"));
    all.push(ingress);
    refresh(&mut app, all);
    let default = FaultTarget {
        kind: "Deployment".into(),
        namespace: "payments".into(),
        name: "api".into(),
    };
    for row in ["group", "chain"] {
        select(
            &mut app,
            |k| matches!(k, NodeKey::Workload { kind, name, .. } if kind == "Ingress" && name == "edge"),
        );
        if row == "chain" {
            key(&mut app, KeyCode::Char('l'));
            let chains = app.chains.clone();
            let i = (0..app.tree.rows.len())
                .find(|i| {
                    matches!(app.tree.rows[*i], Row::Pod(..) | Row::Chain(..))
                        && app.tree.row_chain(app.tree.rows[*i]).is_some_and(|c| {
                            chains[c]
                                .workload
                                .as_ref()
                                .is_some_and(|w| &*w.kind == "Ingress")
                        })
                })
                .expect("the Ingress chain's row");
            app.tree.select(i, &chains);
            assert_eq!(
                app.selected_chain()
                    .and_then(|c| c.workload.clone())
                    .map(|w| w.kind.to_string())
                    .as_deref(),
                Some("Ingress"),
                "{:?}",
                app.tree.selected_row()
            );
        }
        assert_eq!(app.fault_target(), Some(default.clone()), "{row}");
        key(&mut app, KeyCode::Char('b'));
        let screen = render(&mut app);
        assert!(
            screen.contains("break acts on: Deployment payments/api"),
            "{row}: {screen}"
        );
        assert!(
            !screen.contains("break acts on: Ingress"),
            "{row}: {screen}"
        );
        // The first fault is applied (a repair); the second breaks, on the default target.
        key(&mut app, KeyCode::Char('j'));
        let fx = key(&mut app, KeyCode::Enter);
        let target = fx.iter().find_map(|e| match e {
            Effect::Command(SourceCommand::Lab(LabControl::Fault {
                apply: true,
                target,
                ..
            })) => Some(target.clone()),
            _ => None,
        });
        assert_eq!(target, Some(Some(default.clone())), "{row}: {fx:?}");
        key(&mut app, KeyCode::Esc);
    }
    // At 80 columns the title wraps rather than cut why the default stands in.
    app.update(AppEvent::Resize(80, 24));
    select(
        &mut app,
        |k| matches!(k, NodeKey::Workload { kind, name, .. } if kind == "Ingress" && name == "edge"),
    );
    key(&mut app, KeyCode::Char('b'));
    let screen = render(&mut app);
    assert!(
        screen.contains("break acts on: Deployment payments/api (the lab's default: Ingress")
            && screen.contains("is no workload)"),
        "{screen}"
    );
}

fn render(app: &mut App) -> String {
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(
        app.size.width,
        app.size.height,
    ))
    .unwrap();
    t.draw(|f| kvchain::ui::views::draw(f, app)).unwrap();
    t.backend().to_string()
}
