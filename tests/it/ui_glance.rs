//! Reading at a glance (issue 14 §2) and the TUI items of issue 13: the chain strip never
//! cuts a word, links behind a break are "not reached", the broken link is selected after a
//! fault, the break menu names and takes the selected workload, read-only makes it
//! view-only and faults are audited, a revealed value is hidden on time while the source is
//! busy, gaps show in a banner and the status bar.

use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kvchain::chain::{self, LinkKind, Status};
use kvchain::report;
use kvchain::snapshot::{Coll, PodObs, Snapshot};
use kvchain::source::lab::{self, export};
use kvchain::source::{FaultTarget, LabControl, SourceCommand, SourceEvent};
use kvchain::ui::app::{App, AppEvent, Effect, Mode};
use kvchain::ui::config::UiConfig;
use kvchain::ui::strip_text;
use kvchain::ui::testing::{self, healthy_chain};
use kvchain::ui::tree::Row;
use kvchain::ui::views;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::{Constraint, Layout, Rect};

fn app_for(snapshot: Snapshot, config: UiConfig, w: u16, h: u16) -> App {
    let chains = chain::diagnose(&snapshot);
    let mut app = App::new(snapshot.source.clone(), config);
    app.update(AppEvent::Resize(w, h));
    app.apply(Arc::new(snapshot), chains);
    app
}

/// Select the first pod row the way a user does (from the row above, `j`).
fn select_first_pod(app: &mut App) {
    let pod = app
        .tree
        .rows
        .iter()
        .position(|r| matches!(r, Row::Pod(..)))
        .expect("a pod row");
    let chains = app.chains.clone();
    app.tree.select(pod - 1, &chains);
    key(app, KeyCode::Char('j'));
    assert!(app.selected_chain().is_some());
}

fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
    app.update(AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn render(app: &mut App) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(app.size.width, app.size.height)).unwrap();
    t.draw(|f| views::draw(f, app)).unwrap();
    t
}

fn text(app: &mut App) -> String {
    render(app).backend().to_string()
}

/// The text inside each of the nine strip boxes, one string per body line.
fn strip_boxes(app: &mut App) -> Vec<[String; 2]> {
    let t = render(app);
    let buf = t.backend().buffer().clone();
    let strip = Rect::new(0, 0, app.size.width, 4);
    Layout::horizontal([Constraint::Ratio(1, 9); 9])
        .split(strip)
        .iter()
        .map(|r| {
            let row = |y: u16| -> String {
                (r.x + 1..r.x + r.width - 1)
                    .map(|x| buf[(x, y)].symbol().to_string())
                    .collect::<String>()
                    .trim_end()
                    .to_string()
            };
            [row(1), row(2)]
        })
        .collect()
}

fn is_mark_or_code(w: &str) -> bool {
    ["✓", "✗", "…", "?", "!", "—", "–"].contains(&w)
        || (w.len() == 6 && w.starts_with("KVC") && w[3..].chars().all(|c| c.is_ascii_digit()))
}

/// Every built-in scenario, settled, at 80×24 and 160×45: each word in a strip box is a whole
/// word of the link's summary, of its documented short form, or "not reached".
#[test]
fn strip_cuts_no_word_in_any_builtin_scenario() {
    let abbreviations: Vec<&str> = strip_text::abbreviation_words().collect();
    for (name, _) in lab::builtin_scenarios() {
        if name.starts_with("generated") {
            continue;
        }
        let snapshot = lab::run_check(name, None).unwrap();
        for (w, h) in [(80, 24), (160, 45)] {
            let mut app = app_for(snapshot.clone(), UiConfig::default(), w, h);
            // Open everything so every pod row can be selected.
            for i in 0..app.tree.rows.len() {
                let chains = app.chains.clone();
                app.tree.select(i, &chains);
                key(&mut app, KeyCode::Char('l'));
            }
            let mut checked = 0;
            for i in 0..app.tree.rows.len() {
                let chains = app.chains.clone();
                app.tree.select(i, &chains);
                if !matches!(app.tree.selected_row(), Row::Pod(..) | Row::Chain(..)) {
                    continue;
                }
                let c = app.selected_chain().unwrap().clone();
                checked += 1;
                for (kind, lines) in LinkKind::ALL.iter().zip(strip_boxes(&mut app)) {
                    let summary = c.link(*kind).summary.to_string();
                    // A name broken after a hyphen is one word again when joined.
                    let joined = if lines[0].ends_with('-') {
                        format!("{}{}", lines[0], lines[1])
                    } else {
                        format!("{} {}", lines[0], lines[1])
                    };
                    for word in joined.split_whitespace() {
                        assert!(
                            is_mark_or_code(word)
                                || summary.split_whitespace().any(|s| s == word)
                                || abbreviations.contains(&word)
                                || ["not", "reached"].contains(&word),
                            "{name} {w}×{h} {} {kind:?}: {word:?} is not a whole word of {summary:?} (box {lines:?})",
                            c.pod
                        );
                    }
                }
            }
            assert!(checked > 0, "{name}: no pod row checked");
        }
    }
}

/// "Key Vault Secrets User" used to read "Key Vault Secr" at 160 columns.
#[test]
fn a_long_role_name_reads_as_a_whole_short_form() {
    let snapshot = lab::run_check("healthy", None).unwrap();
    for (w, want) in [(160, "✓ Secrets User"), (200, "✓ KV Secrets User")] {
        let mut app = app_for(snapshot.clone(), UiConfig::default(), w, 45);
        select_first_pod(&mut app);
        let access = &strip_boxes(&mut app)[LinkKind::Access.index()];
        assert_eq!(access[0], want, "{w} columns: {access:?}");
    }
}

/// The object is missing: the mount fails because of it. One red box (Object); the mount is
/// drawn "… not reached", and its detail names the cause.
#[test]
fn links_behind_the_break_are_not_reached() {
    let snapshot = lab::run_check("object-not-found", None).unwrap();
    let mut app = app_for(snapshot, UiConfig::default(), 160, 45);
    let c = app
        .chains
        .iter()
        .find(|c| c.link(LinkKind::VaultObject).status == Status::Broken)
        .expect("a chain with the object missing")
        .clone();
    assert_eq!(
        c.link(LinkKind::Mount).status,
        Status::Broken,
        "engine view"
    );
    let mount = strip_text::shown(&c, LinkKind::Mount);
    assert_eq!(mount.status, Status::Pending);
    assert_eq!(mount.text, "not reached");
    assert_eq!(mount.not_reached, Some(LinkKind::VaultObject));
    let red = LinkKind::ALL
        .iter()
        .filter(|k| strip_text::shown(&c, **k).status == Status::Broken)
        .count();
    assert_eq!(red, 1, "one red box: the cause");
    // Selected on first load: its strip shows it.
    assert_eq!(app.link, LinkKind::VaultObject);
    let boxes = strip_boxes(&mut app);
    assert_eq!(boxes[LinkKind::Mount.index()][0], "… not reached");
}

/// A healthy chain shows its first link; a fault breaks it live: the strip moves to the
/// broken link (it used to stay on Pod).
#[test]
fn the_broken_link_is_selected_after_a_fault() {
    let mut source = lab::open("healthy", None).unwrap();
    source.world_mut().run_until_stable(lab::MAX_SETTLE);
    let before = export::snapshot(source.world());
    let mut app = app_for(before, UiConfig::default(), 120, 32);
    // A healthy pod: its first link.
    select_first_pod(&mut app);
    assert_eq!(app.link, LinkKind::Pod);
    source
        .control(&LabControl::Fault {
            id: "delete-object".into(),
            apply: true,
            target: None,
        })
        .unwrap();
    source.world_mut().advance(Duration::from_secs(600));
    let after = export::snapshot(source.world());
    let chains = chain::diagnose(&after);
    app.apply(Arc::new(after), chains);
    assert_eq!(app.link, LinkKind::VaultObject);
    // The user's own choice then stands while the diagnosis stays the same.
    app.focus = kvchain::ui::app::Pane::Strip;
    key(&mut app, KeyCode::Left);
    let again = export::snapshot(source.world());
    let chains = chain::diagnose(&again);
    app.apply(Arc::new(again), chains);
    assert_eq!(app.link, LinkKind::Access);
}

fn demo_app(config: UiConfig) -> App {
    let mut snapshot = testing::lab_snapshot("default");
    snapshot.events = Coll::known(testing::demo_events());
    let mut app = App::new(snapshot.source.clone(), config);
    app.update(AppEvent::Resize(80, 24));
    app.apply(Arc::new(snapshot), testing::demo_chains());
    app.update(AppEvent::Source(SourceEvent::Lab(testing::lab_status())));
    app
}

/// The break menu says which workload a break acts on (the selected one), passes it with
/// the fault, opens at the top every time, and honours g/G.
#[test]
fn break_menu_names_and_targets_the_selected_workload() {
    let mut app = demo_app(UiConfig::default());
    let (ns, _) = app.selected_pod().unwrap();
    let workload = app.selected_chain().unwrap().workload.clone().unwrap();
    key(&mut app, KeyCode::Char('b'));
    let screen = text(&mut app);
    let named = format!("break acts on: {} {ns}/{}", workload.kind, workload.name);
    assert!(screen.contains(&named), "{screen}");
    // Nothing is cut: the longest description is wrapped whole at 80 columns.
    assert!(
        screen.contains("remove the Key Vault Secrets User role"),
        "{screen}"
    );
    key(&mut app, KeyCode::Char('G'));
    assert!(matches!(app.mode, Mode::LabMenu { selected: 1 }));
    key(&mut app, KeyCode::Char('g'));
    assert!(matches!(app.mode, Mode::LabMenu { selected: 0 }));
    key(&mut app, KeyCode::Char('j'));
    let fx = key(&mut app, KeyCode::Enter);
    let want = FaultTarget {
        kind: workload.kind.to_string(),
        namespace: ns.clone(),
        name: workload.name.to_string(),
    };
    assert!(
        matches!(
            fx.as_slice(),
            [Effect::Command(SourceCommand::Lab(LabControl::Fault { id, apply: true, target: Some(t) }))]
                if id == "no-role" && *t == want
        ),
        "{fx:?}"
    );
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('b'));
    assert!(
        matches!(app.mode, Mode::LabMenu { selected: 0 }),
        "the menu opens at the top, not where it was left"
    );
}

#[test]
fn read_only_break_menu_is_view_only() {
    let cfg = UiConfig {
        read_only: true,
        ..UiConfig::default()
    };
    let mut app = demo_app(cfg);
    key(&mut app, KeyCode::Char('b'));
    assert!(matches!(app.mode, Mode::LabMenu { .. }), "still viewable");
    assert!(text(&mut app).contains("view-only (--read-only)"));
    let fx = key(&mut app, KeyCode::Enter);
    assert!(fx.is_empty(), "no fault sent: {fx:?}");
    let msg = &app.message.as_ref().unwrap().0;
    assert!(msg.contains("view-only"), "{msg}");
}

/// Faults go through the audited source like actions, under the OS user.
#[tokio::test]
async fn faults_are_audited_with_the_os_user() {
    use kvchain::source::Source;
    use kvchain::source::audited::Audited;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let mut inner = testing::StaticSource::new(testing::lab_snapshot("default"));
    inner.lab = Some(testing::lab_status());
    let audited = Box::new(Audited::new(Box::new(inner), Some(path.clone())));
    let (etx, mut erx) = tokio::sync::mpsc::unbounded_channel();
    let (ctx, crx) = tokio::sync::mpsc::unbounded_channel();
    let task = tokio::spawn(audited.run(etx, crx));
    ctx.send(SourceCommand::Lab(LabControl::Fault {
        id: "no-role".into(),
        apply: true,
        target: Some(FaultTarget {
            kind: "Deployment".into(),
            namespace: "payments".into(),
            name: "api".into(),
        }),
    }))
    .unwrap();
    // The static source answers a lab control with a new lab status: the record is written.
    loop {
        if let Some(SourceEvent::Lab(l)) = erx.recv().await
            && l.faults.iter().any(|f| f.id == "no-role" && f.active)
        {
            break;
        }
    }
    drop(ctx);
    let _ = task.await;
    let text = std::fs::read_to_string(&path).unwrap();
    let rec: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(rec["action"], "lab-break");
    assert_eq!(rec["target"], "fault no-role on Deployment payments/api");
    let identity = rec["identity"].as_str().unwrap();
    assert!(!identity.starts_with("unknown@"), "{identity}");
    assert_eq!(
        identity,
        format!("{}@default", kvchain::action::audit::os_user())
    );
}

/// `v` `v` unmasks for 10 s; a busy source (events, no ticks) does not keep it on screen.
#[test]
fn reveal_is_hidden_on_time_while_the_source_is_busy() {
    use kvchain::action::reveal::Revealed;
    let mut app = demo_app(UiConfig::default());
    app.apply(
        Arc::new(testing::lab_snapshot("default")),
        vec![healthy_chain("payments", Some("api"), "api-1")],
    );
    let chains = app.chains.clone();
    app.tree.select(3, &chains);
    for c in ['l', 'j', 'l', 'j'] {
        key(&mut app, KeyCode::Char(c));
    }
    let fx = key(&mut app, KeyCode::Char('v'));
    let [Effect::Reveal(target)] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    app.update(AppEvent::Revealed {
        target: target.clone(),
        result: Ok(Revealed::new("CANARY-busy-4411".into())),
    });
    key(&mut app, KeyCode::Char('v'));
    let deadline = app.reveal_deadline().expect("unmasked");
    assert!(text(&mut app).contains("CANARY-busy-4411"));
    // Busy: status events every half second, never a tick.
    for _ in 0..25 {
        app.now += Duration::from_millis(500);
        app.update(AppEvent::Source(SourceEvent::Status("syncing".into())));
        if app.now >= deadline {
            break;
        }
    }
    assert!(app.revealed.is_none(), "still revealed past its deadline");
    assert!(!text(&mut app).contains("CANARY-busy-4411"));
}

#[test]
fn gaps_show_in_a_banner_and_the_status_bar() {
    let mut snapshot = testing::lab_snapshot("aks-prod");
    snapshot.source.kind = kvchain::snapshot::SourceKind::Live;
    let mut pods: Coll<PodObs> = Coll::default();
    pods.gaps.namespaces.insert(
        "payments".into(),
        "pods is forbidden: User cannot list resource \"pods\"".into(),
    );
    snapshot.pods = pods;
    snapshot.events = Coll::unknown("events is forbidden at the cluster scope");
    let mut app = App::new(snapshot.source.clone(), UiConfig::default());
    app.update(AppEvent::Resize(160, 40));
    app.apply(Arc::new(snapshot), testing::demo_chains());
    let screen = text(&mut app);
    assert!(
        screen.contains("⚠ not seen (2 gaps): pods in payments: pods is forbidden"),
        "{screen}"
    );
    assert!(screen.contains("events (all namespaces)"), "{screen}");
    assert!(screen.contains("⚠ 2 gaps"), "{screen}");
}

#[test]
fn lab_fallback_is_loud_until_dismissed() {
    let mut app = demo_app(UiConfig::default());
    app.lab_fallback("KUBECONFIG names /nowhere/config, which does not exist");
    let screen = text(&mut app);
    assert!(screen.contains("No cluster configured"), "{screen}");
    assert!(screen.contains("/nowhere/config"), "{screen}");
    assert!(screen.contains(" LAB "), "{screen}");
    // The first key only dismisses.
    let fx = key(&mut app, KeyCode::Char('q'));
    assert!(fx.is_empty());
    let screen = text(&mut app);
    assert!(!screen.contains("No cluster configured"), "{screen}");
    assert!(!screen.contains(" LAB "), "{screen}");
}

#[test]
fn an_unknown_scenario_is_named_with_the_builtins() {
    let e = lab::load("nosuch").unwrap_err().to_string();
    assert!(
        e.contains("unknown scenario nosuch (built-in: default, healthy"),
        "{e}"
    );
    assert!(!e.contains("No such file"), "{e}");
}

/// `check` prints the decisive line of a FailedMount (status, error code, message), not the
/// rulers and the JSON body; the JSON report keeps the full text in `evidence`.
#[test]
fn check_shows_the_decisive_line_and_json_keeps_the_full_text() {
    let snapshot = lab::run_check("object-not-found", None).unwrap();
    let chains = chain::diagnose(&snapshot);
    let text = kvchain::report::text(&snapshot, &chains, false);
    let seen: Vec<&str> = text.lines().filter(|l| l.contains("FailedMount")).collect();
    assert!(!seen.is_empty(), "{text}");
    for l in &seen {
        assert!(!l.contains("-----") && !l.contains("{"), "{l}");
        assert!(
            l.contains("RESPONSE 404") && l.contains("SecretNotFound"),
            "{l}"
        );
    }
    let json = kvchain::report::json(&snapshot, &chains);
    assert!(json.contains("-----") && json.contains("\\\"code\\\": \\\"SecretNotFound\\\""));
}

/// The first time in `s` that reads below the second (`09:02:00.25`), if any.
fn sub_second_time(s: &str) -> Option<String> {
    let b = s.as_bytes();
    (0..b.len().saturating_sub(4)).find_map(|i| {
        let hit = b[i] == b':'
            && b[i + 1].is_ascii_digit()
            && b[i + 2].is_ascii_digit()
            && b[i + 3] == b'.'
            && b[i + 4].is_ascii_digit();
        hit.then(|| s[i.saturating_sub(16)..(i + 12).min(s.len())].to_string())
    })
}

/// At a speed the lab clock lands between seconds, so container starts, Secret writes and
/// vault versions carry fractions (`2026-01-15T09:02:00.25Z`). Every time a person reads is
/// to the second (issue 14 §2): the check text and each link's detail pane in the TUI.
#[test]
fn times_read_to_the_second_when_the_lab_clock_is_between_seconds() {
    let (mut check_times, mut tui_times) = (0, 0);
    for name in ["env-stale", "rotation-disabled", "default"] {
        let mut source = lab::open(name, None).unwrap();
        source.world_mut().advance(Duration::from_millis(250));
        source.world_mut().run_until_stable(lab::MAX_SETTLE);
        let snapshot = export::snapshot(source.world());
        let chains = chain::diagnose(&snapshot);
        let check = report::text(&snapshot, &chains, false);
        assert_eq!(sub_second_time(&check), None, "{name} check text:\n{check}");
        check_times += check.matches("2026-01-15 09:").count();

        let mut app = app_for(snapshot, UiConfig::default(), 200, 60);
        let pods: Vec<usize> = (0..app.tree.rows.len())
            .filter(|i| matches!(app.tree.rows[*i], Row::Pod(..)))
            .collect();
        for row in pods {
            let chains = app.chains.clone();
            app.tree.select(row, &chains);
            for kind in LinkKind::ALL {
                app.link = kind;
                let screen = text(&mut app);
                assert_eq!(
                    sub_second_time(&screen),
                    None,
                    "{name}, {kind:?} detail:\n{screen}"
                );
                tui_times += screen.matches("2026-01-15 09:").count();
            }
        }
    }
    // Not vacuous: both outputs did show times.
    assert!(check_times > 0, "no time in the check text");
    assert!(tui_times > 0, "no time on screen");
}
