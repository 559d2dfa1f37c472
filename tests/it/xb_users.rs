//! Audit XB-users: the TUI as a trainer, an operator and a developer meet it at 80×24,
//! checked against README "TUI" and "Keys" and docs/scenarios.md "Lessons": every line of a
//! pane is reachable and a pane cut short says so; the break menu says what `enter` does to
//! the selected fault; a lesson's "break it" step says when following it would repair.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kvchain::chain::{Chain, diagnose};
use kvchain::source::lab::{self, faults, lesson::LessonRun};
use kvchain::source::{FaultInfo, SourceEvent};
use kvchain::ui::app::{App, AppEvent, Pane};
use kvchain::ui::config::UiConfig;
use kvchain::ui::testing::{lab_snapshot, lab_status};
use kvchain::ui::views;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;

fn lab_default() -> kvchain::snapshot::Snapshot {
    lab::run_check("default", None).expect("built-in scenario")
}

/// The TUI on the lab's `default` scenario showing `chains` only, at `w`×`h`.
fn app_on(chains: Vec<Chain>, config: UiConfig, w: u16, h: u16) -> App {
    let snapshot = lab_default();
    let mut app = App::new(snapshot.source.clone(), config);
    app.update(AppEvent::Resize(w, h));
    app.apply(Arc::new(snapshot), chains);
    app
}

fn catalog_chain() -> Chain {
    (diagnose(&lab_default()).into_iter())
        .find(|c| c.pod.starts_with("catalog-"))
        .expect("the catalog chain (KVC601)")
}

fn press(app: &mut App, code: KeyCode) {
    app.update(AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn screen(app: &mut App) -> (Terminal<TestBackend>, String) {
    let mut t = Terminal::new(TestBackend::new(app.size.width, app.size.height)).unwrap();
    t.draw(|f| views::draw(f, app)).unwrap();
    let s = t.backend().to_string();
    (t, s)
}

/// The bottom border row of `area`, as drawn.
fn bottom_border(app: &mut App, area: impl Fn(&App) -> Rect) -> String {
    let (t, _) = screen(app);
    let r = area(app);
    let buf = t.backend().buffer();
    (r.x..r.x + r.width)
        .map(|x| buf[(x, r.y + r.height - 1)].symbol())
        .collect()
}

/// `lines A–B of N` on a border, as numbers.
fn lines_mark(border: &str) -> Option<(usize, usize, usize)> {
    let at = border.find("lines ")?;
    let rest = &border[at + "lines ".len()..];
    let (a, rest) = rest.split_once('–')?;
    let (b, rest) = rest.split_once(" of ")?;
    let n: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some((a.parse().ok()?, b.parse().ok()?, n.parse().ok()?))
}

/// README "TUI", Detail and Events: at 80×24 the catalog chain's finding (KVC601: fix,
/// evidence, `about`) is taller than the detail pane and its events than the events pane.
/// The panes scrolled, but nothing said there was more: the last row read as the end.
#[test]
fn a_detail_or_events_pane_cut_short_says_which_lines_show_and_reaches_the_last() {
    for (pane, area) in [
        (
            Pane::Detail,
            (|a: &App| a.areas().detail) as fn(&App) -> Rect,
        ),
        (Pane::Events, |a: &App| a.areas().events),
    ] {
        let mut app = app_on(vec![catalog_chain()], UiConfig::default(), 80, 24);
        let border = bottom_border(&mut app, area);
        let (first, last, total) =
            lines_mark(&border).unwrap_or_else(|| panic!("{pane:?}: no mark on {border:?}"));
        assert_eq!(first, 1, "{pane:?}: {border}");
        assert!(last < total, "{pane:?}: {border}");
        while app.focus != pane {
            press(&mut app, KeyCode::Tab);
        }
        press(&mut app, KeyCode::Char('G'));
        let border = bottom_border(&mut app, area);
        let (_, last, n) = lines_mark(&border).expect("mark after G");
        assert_eq!((last, n), (total, total), "{pane:?}: {border}");
    }
    // Tall enough for all of it: no mark.
    let mut app = app_on(vec![catalog_chain()], UiConfig::default(), 120, 100);
    let border = bottom_border(&mut app, |a| a.areas().detail);
    assert_eq!(lines_mark(&border), None, "{border}");
}

/// README "Keys" (`?`, disabled actions said why) at 80×24: the help's right column ended
/// with the reasons keys are disabled and the config file's path, cut at the overlay's edge.
/// Every line of it is reachable now: wrapped, scrolled with j/k, its border saying so.
#[test]
fn every_line_of_the_help_is_reachable_at_80x24() {
    let path = "/home/operator/.config/kvchain/profiles/aks-prod-westeurope/config.yaml";
    let config = UiConfig {
        read_only: true,
        no_reveal: true,
        file: Some(path.into()),
        ..UiConfig::default()
    };
    let mut app = app_on(vec![catalog_chain()], config, 80, 24);
    press(&mut app, KeyCode::Char('?'));
    let squeeze = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_whitespace() && !"│┌┐└┘─".contains(*c))
            .collect()
    };
    let mut seen = String::new();
    let mut marked = false;
    for _ in 0..30 {
        let (_, s) = screen(&mut app);
        // The right column, where the path is: from the middle to the overlay's border.
        for row in s.lines() {
            // TestBackend quotes each row: column x is char x + 1.
            let right: String = row.chars().skip(40).take(38).collect();
            seen.push_str(&squeeze(&right));
        }
        marked |= s.contains("lines 1–");
        press(&mut app, KeyCode::Char('j'));
    }
    assert!(marked, "the help's border says which lines show");
    assert!(seen.contains("--no-reveal"), "{seen}");
    assert!(seen.contains(&squeeze(path)), "{seen}");
    // The default help still fits 80×24 whole: no mark.
    let mut app = app_on(vec![catalog_chain()], UiConfig::default(), 80, 24);
    press(&mut app, KeyCode::Char('?'));
    let (_, s) = screen(&mut app);
    assert!(!s.contains("lines 1–"), "{s}");
    assert!(s.contains("j/k scroll what it cuts"), "{s}");
}

/// The lab's status with every fault of the catalogue, `active` applied.
fn catalogue_status(active: &[&str]) -> kvchain::source::LabStatus {
    let mut lab = lab_status();
    lab.faults = (faults::CATALOGUE.iter())
        .map(|f| FaultInfo {
            id: f.id.into(),
            title: f.title.into(),
            link: f.link,
            active: active.contains(&f.id),
            target: None,
            reach: None,
        })
        .collect();
    lab
}

fn menu_app(lab: kvchain::source::LabStatus, w: u16, h: u16) -> App {
    let mut app = App::new(lab_snapshot("default").source, UiConfig::default());
    app.update(AppEvent::Resize(w, h));
    app.update(AppEvent::Source(SourceEvent::Lab(lab)));
    app.apply(
        Arc::new(lab_snapshot("default")),
        kvchain::ui::testing::demo_chains(),
    );
    press(&mut app, KeyCode::Char('b'));
    app
}

/// README "Keys" `b`: `enter` breaks a fault that is not applied and repairs one that is.
/// The menu's border said `enter break/repair` whatever was selected: a trainer following
/// "repair it" on a fault not applied broke it instead. It says which, before the key.
#[test]
fn the_break_menu_says_what_enter_does_to_the_selected_fault() {
    let mut app = menu_app(catalogue_status(&["wrong-role"]), 80, 24);
    let (_, s) = screen(&mut app);
    assert!(s.contains("enter breaks it"), "{s}");
    assert!(!s.contains("break/repair"), "{s}");
    let wrong_role = (faults::CATALOGUE.iter())
        .position(|f| f.id == "wrong-role")
        .unwrap();
    for _ in 0..wrong_role {
        press(&mut app, KeyCode::Char('j'));
    }
    let (_, s) = screen(&mut app);
    assert!(s.contains("enter repairs it"), "{s}");
    assert!(!s.contains("enter breaks it"), "{s}");
}

/// README "Keys" `b`: a list taller than the screen says which faults show (`faults 1–11 of
/// 14`). At 80×24 the eleventh's description wrapped onto a row past the bottom edge: the
/// count named a fault whose text was cut. The faults it names are shown whole.
#[test]
fn the_break_menu_counts_only_faults_shown_whole() {
    let mut app = menu_app(catalogue_status(&[]), 80, 24);
    let (_, s) = screen(&mut app);
    let at = s.find("faults ").expect("a count") + "faults ".len();
    let (_, last) = s[at..].split_once('–').unwrap();
    let last: usize = last.split(' ').next().unwrap().parse().unwrap();
    let words: Vec<&str> = (s.split(|c: char| c.is_whitespace() || "\"│║┌┐└┘─".contains(c)))
        .filter(|w| !w.is_empty())
        .collect();
    let title: Vec<&str> = faults::CATALOGUE[last - 1]
        .title
        .split_whitespace()
        .collect();
    assert!(
        words.windows(title.len()).any(|w| w == title.as_slice()),
        "fault {last} ({:?}) is counted but not shown whole:\n{s}",
        faults::CATALOGUE[last - 1].id
    );
}

/// docs/scenarios.md "Lessons": the break menu toggles, so a step asking the class to break a
/// fault the trainer has broken already would repair it when followed literally. `breaks`
/// names that fault (checked against the catalogue, as `repairs`) and the step says so.
#[test]
fn a_break_it_step_says_when_its_fault_is_applied_already() {
    let spec = |yaml: &str| {
        serde_yaml::from_str::<lab::lesson::LessonSpec>(yaml)
            .unwrap()
            .build("l".into())
    };
    let err = spec("title: t\nsteps:\n  - text: break it\n    breaks: nope\n").unwrap_err();
    assert_eq!(err, "spec.steps[0].breaks: unknown fault \"nope\"");
    let lesson =
        spec("title: t\nsteps:\n  - text: break it\n    breaks: remove-role-assignment\n").unwrap();
    let run = LessonRun::new(lesson, ("shop".into(), "checkout".into()));
    assert_eq!(run.break_note(|_| false, "b", "n"), None);
    let note = run.break_note(|_| true, "b", "n").expect("applied already");
    assert!(
        note.contains("b, remove-role-assignment, enter would repair it"),
        "{note}"
    );
}

/// The built-in lessons: each step whose text asks the class to break a fault
/// (`break it: b, FAULT, enter`) names it in `breaks`, so the pane can warn.
#[test]
fn the_built_in_break_it_steps_name_their_fault() {
    let mut asked = 0;
    for name in ["six-hops", "rotation"] {
        let src = lab::open(lab::lesson_scenario(name).unwrap(), None).unwrap();
        let (lesson, _) = lab::find_lesson(&src, name).unwrap();
        for step in &lesson.steps {
            let text = step.text.split_whitespace().collect::<Vec<_>>().join(" ");
            let Some((_, after)) = text.split_once("break it: b, ") else {
                continue;
            };
            let fault = after.split(',').next().unwrap();
            asked += 1;
            assert_eq!(step.breaks.as_deref(), Some(fault), "{name}: {text}");
        }
    }
    assert!(asked > 0, "six-hops asks the class to break a hop");
}

/// README "Live clusters": a broken kubeconfig is named as the user gave it (`no context
/// named X in --kubeconfig /x`), and `check` exits 2 on an input it cannot read. A
/// `--kubeconfig` naming a missing file said `/x: cannot read /x: No such file…`: the path
/// twice, the flag not at all.
#[test]
fn a_missing_kubeconfig_file_is_named_once_with_its_flag() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("aks-prod.yaml");
    let path = path.to_str().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "--kubeconfig", path, "-o", "text"])
        .env_remove("KUBECONFIG")
        .env("HOME", dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("--kubeconfig {path}: cannot read it: ")),
        "{err}"
    );
    assert_eq!(err.matches(path).count(), 1, "{err}");
}

/// README "Lab": `kvchain demo NAME` opens a built-in scenario. A mistyped name was said as
/// `kvchain: --lab: unknown scenario …`, a flag the user never typed; `check --lab` keeps it.
#[test]
fn a_mistyped_demo_scenario_names_demo_not_a_flag() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["demo", "rotation"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("kvchain: demo: unknown scenario rotation (built-in: default"),
        "{err}"
    );
    assert!(!err.contains("--lab"), "{err}");
}
