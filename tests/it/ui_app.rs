//! Behaviour of the app state machine: keys, mouse, filters, selection that survives
//! refreshes, effects (copy, lab commands, confirmed actions), read-only, idle ticks.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use kvchain::chain::{Chain, LinkKind};
use kvchain::snapshot::Coll;
use kvchain::source::SourceEvent;
use kvchain::ui::app::{App, AppEvent, Effect, Mode, Pane};
use kvchain::ui::config::UiConfig;
use kvchain::ui::testing::{self, healthy_chain, lab_snapshot};
use kvchain::ui::tree::{NodeKey, Row};

pub(crate) fn app(chains: Vec<Chain>, config: UiConfig) -> App {
    let mut snapshot = lab_snapshot("default");
    snapshot.events = Coll::known(testing::demo_events());
    let mut app = App::new(snapshot.source.clone(), config);
    app.update(AppEvent::Resize(100, 30));
    app.apply(Arc::new(snapshot), chains);
    app
}

pub(crate) fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
    app.update(AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

pub(crate) fn chars(app: &mut App, s: &str) -> Vec<Effect> {
    s.chars().flat_map(|c| key(app, KeyCode::Char(c))).collect()
}

pub(crate) fn selected_pod(app: &App) -> Option<String> {
    app.selected_pod().map(|(ns, p)| format!("{ns}/{p}"))
}

#[test]
fn first_snapshot_lands_on_the_first_broken_pod_and_its_worst_link() {
    let app = app(testing::demo_chains(), UiConfig::default());
    assert_eq!(
        selected_pod(&app).as_deref(),
        Some("payments/worker-5c6d-xk2p9")
    );
    assert_eq!(app.link, LinkKind::Federation);
    // Its events are there, classified to the federation link.
    assert_eq!(app.pod_events.len(), 1);
    assert_eq!(app.pod_events[0].link, Some(LinkKind::Federation));
}

#[test]
fn vim_keys_move_and_expand() {
    let mut a = app(testing::demo_chains(), UiConfig::default());
    key(&mut a, KeyCode::Char('g'));
    assert_eq!(a.tree.selected, 0);
    key(&mut a, KeyCode::Char('G'));
    assert_eq!(a.tree.selected, a.tree.rows.len() - 1);
    key(&mut a, KeyCode::Char('k'));
    key(&mut a, KeyCode::Up);
    key(&mut a, KeyCode::Char('j'));
    assert_eq!(a.tree.selected, a.tree.rows.len() - 2);
    key(&mut a, KeyCode::Down);
    // Open the selected pod: its SPC row appears; open that: its objects appear.
    let before = a.tree.rows.len();
    let row = a.tree.selected_row();
    assert!(matches!(row, Row::Pod(..)), "{row:?}");
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.tree.rows.len(), before + 1);
    key(&mut a, KeyCode::Char('j'));
    key(&mut a, KeyCode::Char('l'));
    assert_eq!(a.tree.rows.len(), before + 3);
    key(&mut a, KeyCode::Char('j'));
    assert!(matches!(a.tree.selected_row(), Row::Object { .. }));
    // h on a leaf goes to its parent, h again closes it.
    key(&mut a, KeyCode::Char('h'));
    assert!(matches!(a.tree.selected_row(), Row::Chain(..)));
    key(&mut a, KeyCode::Char('h'));
    assert_eq!(a.tree.rows.len(), before + 1);
}

#[test]
fn selection_and_open_state_survive_a_refresh() {
    let mut a = app(testing::demo_chains(), UiConfig::default());
    key(&mut a, KeyCode::Enter); // open the worker pod
    let selected = a.tree.selected_key().cloned();
    // New snapshot: an extra pod sorts before the selected one.
    let mut chains = testing::demo_chains();
    chains.push(healthy_chain("payments", Some("aaa"), "aaa-1"));
    a.apply(Arc::new(lab_snapshot("default")), chains);
    assert_eq!(a.tree.selected_key().cloned(), selected);
    assert_eq!(
        selected_pod(&a).as_deref(),
        Some("payments/worker-5c6d-xk2p9")
    );
    assert_eq!(a.tree.is_row_open(a.tree.selected_row()), Some(true));
    // The pod disappears: the selection stays at the same height, on an existing row.
    let chains: Vec<Chain> = testing::demo_chains()
        .into_iter()
        .filter(|c| c.pod != "worker-5c6d-xk2p9")
        .collect();
    a.apply(Arc::new(lab_snapshot("default")), chains);
    assert!(a.tree.selected < a.tree.rows.len());
}

#[test]
fn filter_by_code_status_and_name_then_esc_clears() {
    let mut a = app(testing::demo_chains(), UiConfig::default());
    chars(&mut a, "/KVC501");
    assert!(matches!(a.mode, Mode::Filter { .. }));
    assert_eq!(a.tree.counts.total(), 1);
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.mode, Mode::Normal);
    assert_eq!(a.filter.text, "KVC501");
    key(&mut a, KeyCode::Esc);
    assert_eq!(a.tree.counts.total(), 5);

    chars(&mut a, "/broken");
    assert_eq!(a.tree.counts.total(), 2);
    key(&mut a, KeyCode::Esc); // esc while typing restores the previous (empty) filter
    assert_eq!(a.tree.counts.total(), 5);

    chars(&mut a, "/debug");
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.tree.counts.total(), 1);
}

#[test]
fn colon_ns_restricts_to_a_namespace() {
    let mut a = app(testing::demo_chains(), UiConfig::default());
    chars(&mut a, ":ns shop");
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.filter.namespace.as_deref(), Some("shop"));
    assert_eq!(a.tree.namespaces.len(), 1);
    assert_eq!(a.tree.counts.total(), 2);
    chars(&mut a, ":ns");
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.tree.namespaces.len(), 2);
    let fx = chars(&mut a, ":q");
    assert!(fx.is_empty());
    let fx = key(&mut a, KeyCode::Enter);
    assert!(matches!(fx.as_slice(), [Effect::Quit]));
}

#[test]
fn q_and_ctrl_c_quit() {
    let mut a = app(testing::demo_chains(), UiConfig::default());
    assert!(matches!(
        key(&mut a, KeyCode::Char('q')).as_slice(),
        [Effect::Quit]
    ));
    // ctrl-c quits even while typing a filter.
    chars(&mut a, "/x");
    let fx = a.update(AppEvent::Key(KeyEvent::new(
        KeyCode::Char('c'),
        KeyModifiers::CONTROL,
    )));
    assert!(matches!(fx.as_slice(), [Effect::Quit]));
}

/// ctrl-z suspends in every mode, as ctrl-c quits (README Keys): typing a filter, in the help.
#[test]
fn ctrl_z_suspends_in_every_mode() {
    let mut a = app(testing::demo_chains(), UiConfig::default());
    let ctrl_z = |a: &mut App| {
        a.update(AppEvent::Key(KeyEvent::new(
            KeyCode::Char('z'),
            KeyModifiers::CONTROL,
        )))
    };
    assert!(matches!(ctrl_z(&mut a).as_slice(), [Effect::Suspend]));
    chars(&mut a, "/x");
    assert!(matches!(ctrl_z(&mut a).as_slice(), [Effect::Suspend]));
    // The filter is still being typed: suspending changed nothing.
    assert!(matches!(a.mode, Mode::Filter { .. }));
    key(&mut a, KeyCode::Esc);
    chars(&mut a, "?");
    assert!(matches!(ctrl_z(&mut a).as_slice(), [Effect::Suspend]));
}

#[test]
fn y_copies_the_fix_of_the_selected_link() {
    let mut a = app(testing::demo_chains(), UiConfig::default());
    let fx = key(&mut a, KeyCode::Char('y'));
    let [Effect::Copy(text)] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert!(text.starts_with("az identity federated-credential update"));
    assert!(text.contains("system:serviceaccount:payments:app-sa"));
    let osc = kvchain::ui::osc52(text);
    assert!(osc.starts_with("\x1b]52;c;") && osc.ends_with('\x07'));
}

#[test]
fn arrows_walk_the_chain_strip() {
    let mut a = app(testing::demo_chains(), UiConfig::default());
    assert_eq!(a.link, LinkKind::Federation);
    key(&mut a, KeyCode::Right);
    assert_eq!(a.link, LinkKind::Access);
    for _ in 0..20 {
        key(&mut a, KeyCode::Right);
    }
    assert_eq!(a.link, LinkKind::Consumers);
    key(&mut a, KeyCode::Left);
    assert_eq!(a.link, LinkKind::Sync);
}

#[test]
fn tab_cycles_panes_and_esc_returns_to_the_tree() {
    let mut a = app(testing::demo_chains(), UiConfig::default());
    key(&mut a, KeyCode::Tab);
    assert_eq!(a.focus, Pane::Strip);
    key(&mut a, KeyCode::Tab);
    assert_eq!(a.focus, Pane::Detail);
    key(&mut a, KeyCode::Char('j'));
    assert_eq!(a.detail_scroll, 1);
    key(&mut a, KeyCode::Esc);
    assert_eq!(a.focus, Pane::Tree);
}

/// The selected pod in the app's snapshot: the confirmation is the pod's restart plan, here
/// its ReplicaSet's Deployment (by its pod-template-hash).
#[test]
fn mouse_click_selects_and_wheel_scrolls() {
    let mut a = app(testing::demo_chains(), UiConfig::default());
    let tree = a.areas().tree;
    // Row 1 inside the border is the cluster row, row 2 the first namespace.
    a.update(AppEvent::Mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: tree.x + 3,
        row: tree.y + 2,
        modifiers: KeyModifiers::NONE,
    }));
    assert_eq!(a.tree.selected, 1);
    assert_eq!(
        a.tree.selected_key(),
        Some(&NodeKey::Namespace("payments".into()))
    );
    a.update(AppEvent::Mouse(MouseEvent {
        kind: MouseEventKind::ScrollDown,
        column: tree.x + 3,
        row: tree.y + 2,
        modifiers: KeyModifiers::NONE,
    }));
    assert_eq!(a.tree.selected, 2);
    // Clicking a strip box selects that link.
    let strip = a.areas().strip;
    a.update(AppEvent::Mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: strip.x + strip.width - 2,
        row: strip.y + 1,
        modifiers: KeyModifiers::NONE,
    }));
    assert_eq!(a.link, LinkKind::Consumers);
}

#[test]
fn idle_ticks_do_not_redraw() {
    let mut a = app(testing::demo_chains(), UiConfig::default());
    a.dirty = false;
    a.update(AppEvent::Tick); // first tick records the drawn age
    a.dirty = false;
    for _ in 0..5 {
        a.update(AppEvent::Tick);
        assert!(!a.dirty, "a tick with nothing new must not redraw");
    }
    a.now += std::time::Duration::from_secs(2);
    a.update(AppEvent::Tick);
    assert!(a.dirty, "the data age changed");
}

#[test]
fn t_cycles_themes() {
    let mut a = app(testing::demo_chains(), UiConfig::default());
    assert_eq!(a.theme.name, "default");
    key(&mut a, KeyCode::Char('t'));
    assert_eq!(a.theme.name, "light");
    key(&mut a, KeyCode::Char('t'));
    assert_eq!(a.theme.name, "high-contrast");
    key(&mut a, KeyCode::Char('t'));
    assert_eq!(a.theme.name, "default");
}

#[test]
fn failed_source_is_shown() {
    let snapshot = lab_snapshot("default");
    let mut a = App::new(snapshot.source.clone(), UiConfig::default());
    a.update(AppEvent::Source(SourceEvent::Failed(
        "scenario x: unknown kind".into(),
    )));
    assert_eq!(a.failed.as_deref(), Some("scenario x: unknown kind"));
}

#[tokio::test]
async fn static_source_through_the_diagnoser_reaches_the_app() {
    use kvchain::source::Source;
    use tokio::sync::mpsc;
    let mut snap = lab_snapshot("default");
    snap.events = Coll::known(testing::demo_events());
    let source = Box::new(testing::StaticSource::new(snap));
    let (stx, srx) = mpsc::unbounded_channel();
    let (ctx, crx) = mpsc::unbounded_channel();
    let (atx, mut arx) = mpsc::unbounded_channel();
    let task = tokio::spawn(source.run(stx, crx));
    tokio::spawn(kvchain::ui::diagnoser(srx, atx));
    let mut a = App::new(lab_snapshot("default").source, UiConfig::default());
    let mut got_snapshot = false;
    while let Some(ev) = arx.recv().await {
        let is_snap = matches!(ev, AppEvent::Diagnosed { .. });
        a.update(ev);
        if is_snap {
            got_snapshot = true;
            break;
        }
    }
    assert!(got_snapshot);
    assert!(!a.loading());
    drop(ctx);
    task.await.unwrap();
}

#[test]
fn y_on_a_link_only_blocked_by_an_earlier_one_copies_the_root_cause_fix() {
    use kvchain::chain::testkit as tk;
    let mut s = tk::healthy();
    tk::fic_mut(&mut s, tk::APP).subject = "system:serviceaccount:shop:Web".into();
    tk::unmount(&mut s, tk::APP);
    let chains = kvchain::chain::diagnose(&s);
    let root = chains[0].root_cause().expect("root cause").clone();
    assert_eq!(root.link, LinkKind::Federation);
    let mut a = app(chains, UiConfig::default());
    // Sync holds only an effect (no synced Secret: nothing mounted); Mount holds nothing.
    for link in [LinkKind::Sync, LinkKind::Mount] {
        a.link = link;
        let fx = key(&mut a, KeyCode::Char('y'));
        let [Effect::Copy(text)] = fx.as_slice() else {
            panic!("{fx:?}")
        };
        // The command, without the note after it (`y` copies what runs).
        let command = root.fix.split("  # ").next().unwrap_or_default();
        assert_eq!(text, command, "{link:?}");
    }
}

/// README: the strip selects the broken link when a filter changes. With the cursor on a row
/// that has no chain (a namespace), the filter lands on the first pod it kept, and the status
/// line says what it matched (audit D14: strip `—`, "Select a pod", a stale "filter cleared").
#[test]
fn a_filter_selects_the_first_pod_it_matches_and_says_what_it_matched() {
    let mut a = app(testing::demo_chains(), UiConfig::default());
    key(&mut a, KeyCode::Char('g'));
    key(&mut a, KeyCode::Char('j'));
    assert!(matches!(a.tree.selected_row(), Row::Namespace(_)));
    // A stale message from an earlier esc.
    chars(&mut a, "/x");
    key(&mut a, KeyCode::Enter);
    key(&mut a, KeyCode::Esc);
    chars(&mut a, "/KVC401");
    key(&mut a, KeyCode::Enter);
    assert!(matches!(a.tree.selected_row(), Row::Pod(..)));
    let chain = a.selected_chain().expect("a pod is selected");
    assert!(chain.findings().any(|f| f.code.as_str() == "KVC401"));
    assert_eq!(a.link, LinkKind::Federation, "the broken link");
    let (msg, _) = a.message.clone().expect("the filter says what it matched");
    assert_eq!(msg, "filter /KVC401 matches 1 pod");

    chars(&mut a, "/zzz");
    key(&mut a, KeyCode::Enter);
    let (msg, _) = a.message.clone().unwrap();
    assert!(
        msg.starts_with("filter /KVC401zzz matches nothing"),
        "{msg}"
    );
}

/// A fix that is a description is no command: no `$ ` prompt before it, and `y` copies
/// nothing and says so; of `command  # note` only the command is copied (audit D16).
#[test]
fn y_copies_commands_only_and_prose_fixes_show_without_a_prompt() {
    use kvchain::ui::views;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    let with_fix = |fix: &str| {
        let mut c = healthy_chain("shop", Some("edge"), "edge-1");
        testing::break_link(&mut c, LinkKind::Consumers);
        c.link_mut(LinkKind::Consumers).findings[0].fix = fix.into();
        let mut a = app(vec![c], UiConfig::default());
        a.update(AppEvent::Resize(160, 45));
        a
    };
    let screen = |a: &mut App| {
        let mut t = Terminal::new(TestBackend::new(160, 45)).unwrap();
        t.draw(|f| views::draw(f, a)).unwrap();
        t.backend().to_string()
    };

    let prose = "run a workload that mounts SecretProviderClass edge-sync-kv";
    let mut a = with_fix(prose);
    assert_eq!(a.link, LinkKind::Consumers);
    let fx = key(&mut a, KeyCode::Char('y'));
    assert!(fx.iter().all(|e| !matches!(e, Effect::Copy(_))), "{fx:?}");
    let (msg, _) = a.message.clone().unwrap();
    assert!(msg.starts_with("no command to copy"), "{msg}");
    let text = screen(&mut a);
    assert!(text.contains(&format!("fix      {prose}")), "{text}");
    assert!(!text.contains(&format!("$ {prose}")), "{text}");
    assert!(
        !text.contains("copy fix ·"),
        "no copy hint without a command: {text}"
    );

    let mut a =
        with_fix("kubectl edit secretproviderclass edge-kv -n shop  # objects[0].objectName");
    let fx = key(&mut a, KeyCode::Char('y'));
    let [Effect::Copy(text)] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert_eq!(text, "kubectl edit secretproviderclass edge-kv -n shop");
    let text = screen(&mut a);
    assert!(
        text.contains(
            "$ kubectl edit secretproviderclass edge-kv -n shop  # objects[0].objectName"
        ),
        "{text}"
    );
}
