//! Rendering tests: TestBackend buffers as insta snapshots, per state and per theme.

use std::sync::Arc;

use kvchain::chain::{Chain, LinkKind};
use kvchain::snapshot::{Coll, Snapshot};
use kvchain::source::{Progress, SourceEvent};
use kvchain::ui::app::{App, AppEvent, Mode};
use kvchain::ui::config::UiConfig;
use kvchain::ui::testing::{self, break_link, healthy_chain, lab_snapshot, unknown_azure};
use kvchain::ui::views;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

fn app_with(chains: Vec<Chain>, config: UiConfig, w: u16, h: u16) -> App {
    let mut snapshot = lab_snapshot("default");
    snapshot.events = Coll::known(testing::demo_events());
    let mut app = App::new(snapshot.source.clone(), config);
    app.update(AppEvent::Resize(w, h));
    app.apply(Arc::new(snapshot), chains);
    app
}

fn render(app: &mut App) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(app.size.width, app.size.height)).unwrap();
    t.draw(|f| views::draw(f, app)).unwrap();
    t
}

fn text(app: &mut App) -> String {
    render(app).backend().to_string()
}

fn buffer(app: &mut App) -> Buffer {
    render(app).backend().buffer().clone()
}

fn screen_contains(app: &mut App, needle: &str) -> bool {
    text(app).contains(needle)
}

#[test]
fn healthy_chain_80x24() {
    let mut app = app_with(
        vec![healthy_chain("payments", Some("api"), "api-7d9f8-abcde")],
        UiConfig::default(),
        80,
        24,
    );
    // Select the pod row (cluster, ns, workload, pod).
    app.tree.select(3, &app.chains.clone());
    insta::assert_snapshot!(text(&mut app));
}

#[test]
fn each_link_broken() {
    for link in LinkKind::ALL {
        let mut c = healthy_chain("payments", Some("api"), "api-7d9f8-abcde");
        break_link(&mut c, link);
        let code = c.link(link).findings[0].code;
        let mut app = app_with(vec![c], UiConfig::default(), 120, 32);
        // The first snapshot lands on the broken pod and on its worst link.
        assert_eq!(app.link, link, "{link:?}");
        let screen = text(&mut app);
        assert!(
            screen.contains(code.as_str()),
            "{link:?}: {code} not on screen"
        );
        insta::assert_snapshot!(format!("broken_{}", link.as_str()), screen);
    }
}

#[test]
fn federation_subject_diff_is_highlighted() {
    let mut c = healthy_chain("payments", Some("api"), "api-1");
    break_link(&mut c, LinkKind::Federation);
    let mut app = app_with(vec![c], UiConfig::default(), 120, 32);
    let buf = buffer(&mut app);
    let theme = app.theme.clone();
    // Find the observed subject and check that exactly the differing "P" is marked.
    let area = buf.area;
    let mut found = false;
    for y in 0..area.height {
        let line: String = (0..area.width)
            .map(|x| buf[(x, y)].symbol().to_string())
            .collect();
        if let Some(col) = line.find("system:serviceaccount:Payments") {
            let x0 = line[..col].chars().count() as u16;
            let p = x0 + "system:serviceaccount:".len() as u16;
            assert_eq!(buf[(p, y)].symbol(), "P");
            assert_eq!(buf[(p, y)].bg, theme.diff_observed, "differing char marked");
            assert_ne!(
                buf[(p + 1, y)].bg,
                theme.diff_observed,
                "equal char not marked"
            );
            found = true;
            break;
        }
    }
    assert!(found, "observed subject not drawn");
}

#[test]
fn unknown_azure_side() {
    let mut c = healthy_chain("payments", Some("api"), "api-1");
    unknown_azure(&mut c);
    let mut app = app_with(vec![c], UiConfig::default(), 100, 28);
    assert_eq!(app.link, LinkKind::Identity);
    insta::assert_snapshot!(text(&mut app));
}

#[test]
fn empty_cluster() {
    let mut app = app_with(Vec::new(), UiConfig::default(), 80, 24);
    let screen = text(&mut app);
    assert!(screen.contains("No pod mounts Key Vault"));
    insta::assert_snapshot!(screen);
}

#[test]
fn loading_with_progress() {
    let snapshot: Snapshot = lab_snapshot("default");
    let mut app = App::new(snapshot.source.clone(), UiConfig::default());
    app.update(AppEvent::Resize(80, 24));
    app.update(AppEvent::Source(SourceEvent::Progress(Progress {
        stage: "pods".into(),
        done: 1200,
        total: Some(10_000),
    })));
    let screen = text(&mut app);
    assert!(screen.contains("Loading pods 1200/10000"));
    insta::assert_snapshot!(screen);
}

#[test]
fn demo_world_80x24_and_wide() {
    let mut app = app_with(testing::demo_chains(), UiConfig::default(), 80, 24);
    insta::assert_snapshot!("demo_80x24", text(&mut app));
    let mut app = app_with(testing::demo_chains(), UiConfig::default(), 180, 50);
    insta::assert_snapshot!("demo_180x50", text(&mut app));
}

#[test]
fn too_small_terminal() {
    let mut app = app_with(testing::demo_chains(), UiConfig::default(), 79, 24);
    assert!(screen_contains(&mut app, "Terminal too small"));
    let mut app = app_with(testing::demo_chains(), UiConfig::default(), 80, 23);
    assert!(screen_contains(&mut app, "needs at least 80×24"));
    let mut app = app_with(testing::demo_chains(), UiConfig::default(), 80, 24);
    assert!(!screen_contains(&mut app, "Terminal too small"));
    // Narrow: the requirement wraps, whole (it was cut to "kvchain needs at").
    let mut app = app_with(testing::demo_chains(), UiConfig::default(), 20, 6);
    let screen = text(&mut app);
    let words: Vec<&str> = (screen.split(|c: char| c.is_whitespace() || c == '"'))
        .filter(|w| !w.is_empty())
        .collect();
    assert!(
        words.ends_with(&["kvchain", "needs", "at", "least", "80×24"]),
        "{screen}"
    );
}

#[test]
fn each_theme() {
    let config = UiConfig::default();
    for (i, name) in ["default", "light", "high-contrast"].iter().enumerate() {
        let mut cfg = config.clone();
        cfg.theme_index = i;
        let mut app = app_with(testing::demo_chains(), cfg, 80, 24);
        assert_eq!(app.theme.name, *name);
        insta::assert_debug_snapshot!(format!("theme_{name}"), buffer(&mut app));
    }
}

#[test]
fn no_color_draws_no_colour() {
    let cfg = UiConfig {
        no_color: true,
        ..UiConfig::default()
    };
    let mut app = app_with(testing::demo_chains(), cfg, 80, 24);
    let buf = buffer(&mut app);
    for cell in buf.content() {
        assert_eq!(cell.fg, ratatui::style::Color::Reset);
        assert_eq!(cell.bg, ratatui::style::Color::Reset);
    }
    // Status still readable: symbols are drawn.
    let screen = text(&mut app);
    assert!(screen.contains('✗') && screen.contains('✓'));
}

#[test]
fn help_overlay_lists_every_bound_key() {
    let mut app = app_with(testing::demo_chains(), UiConfig::default(), 120, 40);
    app.mode = Mode::Help;
    let screen = text(&mut app);
    for (action, keys) in app.keymap.bindings() {
        assert!(screen.contains(action.description()), "{action:?} missing");
        for k in keys {
            assert!(
                screen.contains(&k.to_string()),
                "key {k} of {action:?} missing"
            );
        }
    }
    insta::assert_snapshot!(screen);
}

#[test]
fn help_overlay_fits_80x24_and_greys_writes_in_read_only() {
    let cfg = UiConfig {
        read_only: true,
        ..UiConfig::default()
    };
    let mut app = app_with(testing::demo_chains(), cfg, 80, 24);
    app.mode = Mode::Help;
    let screen = text(&mut app);
    assert!(screen.contains("⊘ disabled: --read-only"));
    insta::assert_snapshot!(screen);
}

#[test]
fn lab_menu_and_clock() {
    let mut app = app_with(testing::demo_chains(), UiConfig::default(), 100, 30);
    app.update(AppEvent::Source(SourceEvent::Lab(testing::lab_status())));
    let screen = text(&mut app);
    assert!(screen.contains("10:00:00 ×60"), "lab clock in status bar");
    app.mode = Mode::LabMenu { selected: 0 };
    insta::assert_snapshot!(text(&mut app));
}

#[test]
fn rotation_timeline_replaces_the_events_pane() {
    use kvchain::action::timeline::{Step, StepState, Timeline};
    use std::time::Duration;
    let mut app = app_with(testing::demo_chains(), UiConfig::default(), 120, 32);
    let step = |label: &str, state| Step {
        label: label.into(),
        state,
    };
    app.timeline = Some(Timeline {
        title: "rotation of kv-prod/db-password".into(),
        started_at: testing::fixed_time(),
        elapsed: Duration::from_secs(150),
        deadline: Duration::from_secs(300),
        steps: vec![
            step("vault version", StepState::Done(Duration::ZERO)),
            step(
                "api-1 mounted version",
                StepState::Done(Duration::from_secs(112)),
            ),
            step("synced Secret app-secrets", StepState::Waiting),
            step(
                "api-1 env DB_PASSWORD",
                StepState::Never("env is read at start: restart needed".into()),
            ),
            step(
                "api-1 subPath file",
                StepState::Never("subPath mounts never update".into()),
            ),
        ],
        finished: false,
        ..Default::default()
    });
    let screen = text(&mut app);
    assert!(screen.contains("rotation of kv-prod/db-password"));
    assert!(screen.contains("✓ at +1m52s"));
    insta::assert_snapshot!(screen);
}

#[test]
fn revealed_value_is_masked_until_asked_twice_and_hidden_after_ten_seconds() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use kvchain::action::reveal::{RevealTarget, Revealed};
    use kvchain::ui::app::Effect;
    const CANARY: &str = "CANARY-ui-reveal-7731";
    let key = |app: &mut App, c: char| {
        app.update(AppEvent::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::NONE,
        )))
    };
    let mut app = app_with(
        vec![healthy_chain("payments", Some("api"), "api-1")],
        UiConfig::default(),
        120,
        32,
    );
    // Open pod and SPC, select the first object (a secret).
    let chains = app.chains.clone();
    app.tree.select(3, &chains);
    key(&mut app, 'l');
    key(&mut app, 'j');
    key(&mut app, 'l');
    key(&mut app, 'j');
    let fx = key(&mut app, 'v');
    let [Effect::Reveal(target)] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert_eq!(
        *target,
        RevealTarget::VaultSecret {
            vault: "kv-prod".into(),
            object: "db-password".into(),
            version: None,
        }
    );
    app.update(AppEvent::Revealed {
        target: target.clone(),
        result: Ok(Revealed::new(CANARY.into())),
    });
    let masked = text(&mut app);
    assert!(
        !masked.contains(CANARY),
        "value drawn before the second request"
    );
    assert!(masked.contains("(21 chars)"), "{masked}");
    assert!(key(&mut app, 'v').is_empty());
    assert!(text(&mut app).contains(CANARY), "second v unmasks");
    app.now += std::time::Duration::from_secs(11);
    app.update(AppEvent::Tick);
    assert!(app.revealed.is_none());
    assert!(!text(&mut app).contains(CANARY));
}

#[test]
fn reveal_is_refused_with_no_reveal() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let cfg = UiConfig {
        no_reveal: true,
        ..UiConfig::default()
    };
    let mut app = app_with(testing::demo_chains(), cfg, 100, 30);
    let fx = app.update(AppEvent::Key(KeyEvent::new(
        KeyCode::Char('v'),
        KeyModifiers::NONE,
    )));
    assert!(fx.is_empty());
    assert!(app.message.as_ref().unwrap().0.contains("--no-reveal"));
}

/// The real engine's output, not hand-built chains: a federated credential whose subject has
/// a capitalised namespace must show KVC401 with the differing character marked.
#[test]
fn engine_diagnosed_subject_typo() {
    use kvchain::chain::testkit;
    let mut snap = testkit::healthy();
    testkit::add_app(&mut snap, "shop", "api", 2);
    let fic = testkit::fic_mut(&mut snap, "api");
    fic.subject = fic.subject.replace(":shop:", ":Shop:");
    let chains = kvchain::chain::diagnose(&snap);
    let mut app = App::new(snap.source.clone(), UiConfig::default());
    app.update(AppEvent::Resize(140, 40));
    app.apply(Arc::new(snap), chains);
    assert_eq!(app.link, LinkKind::Federation, "lands on the broken link");
    let screen = text(&mut app);
    assert!(screen.contains("KVC401"), "{screen}");
    assert!(screen.contains(":Shop:"), "{screen}");
    // No insta snapshot here: the engine's wording evolves on its own schedule.
}

/// The lab's canary value is consumed by file, synced Secret and env; browsing every row and
/// every link of the TUI never draws it (only an explicit reveal may).
#[test]
fn lab_canary_value_is_never_drawn_while_browsing() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use kvchain::source::lab::{self, export};
    const CANARY: &str = "CANARY-ui-browse-40c1";
    let scenario = [
        include_str!("../../assets/scenarios/cluster.yaml").to_string(),
        include_str!("../../assets/scenarios/shop.yaml").replace("checkout-pass-v2", CANARY),
        include_str!("../../assets/scenarios/healthy.yaml").to_string(),
    ]
    .join("\n---\n");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("canary.yaml");
    std::fs::write(&path, scenario).unwrap();
    let mut src = lab::open(path.to_str().unwrap(), None).unwrap();
    src.world_mut()
        .run_until_stable(std::time::Duration::from_secs(600));
    let snapshot = export::snapshot(src.world());
    let chains = kvchain::chain::diagnose(&snapshot);
    let mut app = App::new(snapshot.source.clone(), UiConfig::default());
    app.update(AppEvent::Resize(200, 60));
    app.apply(Arc::new(snapshot), chains);
    let press = |app: &mut App, code| {
        app.update(AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    };
    let mut seen_checkout = false;
    for _ in 0..200 {
        // Open whatever is selected so SPC and object rows are visited too.
        press(&mut app, KeyCode::Char(' '));
        press(&mut app, KeyCode::Esc);
        for _ in 0..9 {
            let screen = text(&mut app);
            assert!(!screen.contains(CANARY), "{screen}");
            seen_checkout |= screen.contains("checkout-db-password");
            press(&mut app, KeyCode::Right);
        }
        let before = app.tree.selected;
        press(&mut app, KeyCode::Char('j'));
        if app.tree.selected == before {
            break;
        }
    }
    assert!(seen_checkout, "the canary's object was on screen, by name");
}

/// On a live cluster the status bar shows the context and how many Azure requests were made.
#[test]
fn live_status_bar_counts_azure_requests() {
    let mut snapshot = lab_snapshot("aks-prod");
    snapshot.source.kind = kvchain::snapshot::SourceKind::Live;
    snapshot.azure.requests = 26;
    let mut app = App::new(snapshot.source.clone(), UiConfig::default());
    app.update(AppEvent::Resize(120, 30));
    app.apply(Arc::new(snapshot), testing::demo_chains());
    let screen = text(&mut app);
    let status = screen.lines().last().unwrap();
    assert!(
        status.contains("ctx aks-prod") && status.contains("azure 26 req"),
        "{status}"
    );
}

/// `G` in the detail pane goes to the last line, still in view (audit D13: it scrolled
/// everything out and drew an empty pane); `k` then moves up at once.
#[test]
fn g_in_the_detail_pane_keeps_the_last_line_in_view() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let mut app = app_with(testing::demo_chains(), UiConfig::default(), 80, 24);
    let press = |app: &mut App, code: KeyCode| {
        app.update(AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    };
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Char('G'));
    let buf = buffer(&mut app);
    let d = app.areas().detail;
    let row = |y: u16| -> String {
        (d.x + 1..d.x + d.width - 1)
            .map(|x| buf[(x, y)].symbol().to_string())
            .collect()
    };
    let scrolled = app.detail_scroll;
    assert!(scrolled > 0, "the detail is longer than the pane");
    // The last row inside the border holds the content's last line.
    let last = row(d.y + d.height - 2);
    assert!(!last.trim().is_empty(), "{}", text(&mut app));
    press(&mut app, KeyCode::Char('k'));
    assert_eq!(app.detail_scroll, scrolled - 1);
}
