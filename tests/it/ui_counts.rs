//! The pod counts a person reads: the tree title says "1 pod", "2 pods", and a count is shown
//! only when it is not zero, the same on the cluster row and in the status bar, filtered or
//! not (audit OO3: "Chains · 1 pods"; the filtered status bar read `✗1 ✓0` and `✗0 ✓2` while
//! a zero `!` and the tree's zero counts were left out).

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kvchain::chain::{LinkKind, Status};
use kvchain::ui::app::{App, AppEvent};
use kvchain::ui::config::UiConfig;
use kvchain::ui::testing::{self, healthy_chain, lab_snapshot};
use kvchain::ui::views;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn demo() -> App {
    let mut chains = testing::demo_chains();
    let mut c = healthy_chain("vault", Some("ops"), "ops-1");
    testing::unknown_azure(&mut c);
    chains.push(c);
    let snapshot = lab_snapshot("default");
    let mut app = App::new(snapshot.source.clone(), UiConfig::default());
    app.update(AppEvent::Resize(160, 45));
    app.apply(Arc::new(snapshot), chains);
    app
}

/// `/`, ctrl-u (clears what an earlier filter left), the text, enter.
fn filter(app: &mut App, text: &str) {
    let key = |code, mods| AppEvent::Key(KeyEvent::new(code, mods));
    app.update(key(KeyCode::Char('/'), KeyModifiers::NONE));
    app.update(key(KeyCode::Char('u'), KeyModifiers::CONTROL));
    for c in text.chars() {
        app.update(AppEvent::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::NONE,
        )));
    }
    app.update(AppEvent::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
}

fn screen(app: &mut App) -> Vec<String> {
    let mut t = Terminal::new(TestBackend::new(160, 45)).unwrap();
    t.draw(|f| views::draw(f, app)).unwrap();
    t.backend()
        .to_string()
        .lines()
        .map(|l| l.trim_matches('"').to_string())
        .collect()
}

/// The status counts on a line: words like `✗3`, `?1`.
fn counts(line: &str) -> Vec<String> {
    let symbols: Vec<&str> = Status::WORST_FIRST.iter().map(|s| s.symbol()).collect();
    line.split(|c: char| c.is_whitespace() || c == '│')
        .filter(|w| {
            symbols.iter().any(|s| {
                w.strip_prefix(s)
                    .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
            })
        })
        .map(String::from)
        .collect()
}

/// The tree title, the cluster row's counts and the status bar's.
fn read(app: &mut App) -> (String, Vec<String>, Vec<String>) {
    let lines = screen(app);
    let title = lines
        .iter()
        .find_map(|l| {
            let at = l.find(" Chains · ")?;
            Some(l[at..].split('─').next().unwrap_or("").to_string())
        })
        .expect("the tree has its title");
    let cluster = lines
        .iter()
        .find(|l| l.contains(" lab: default"))
        .expect("the cluster row");
    let tree_side = cluster.split("││").next().unwrap_or(cluster);
    let status = lines.last().expect("the status bar");
    (title, counts(tree_side), counts(status))
}

#[test]
fn one_pod_is_one_pod_and_zero_counts_show_nowhere() {
    let mut a = demo();
    let (title, tree, status) = read(&mut a);
    assert!(title.starts_with(" Chains · 6 pods "), "{title}");
    assert_eq!(tree, ["✗2", "!1", "?1", "✓2"]);
    assert_eq!(status, tree, "status bar and cluster row count alike");

    // One broken pod: "1 pod", and no `✓0` beside its `✗1`.
    filter(&mut a, "worker");
    let chain = a.selected_chain().expect("the worker is selected");
    assert_eq!(chain.link(LinkKind::Federation).status, Status::Broken);
    let (title, tree, status) = read(&mut a);
    assert!(title.starts_with(" Chains · 1 pod · /worker "), "{title}");
    assert_eq!(tree, ["✗1"]);
    assert_eq!(status, tree, "status bar and cluster row count alike");

    // Two healthy pods: no `✗0`.
    filter(&mut a, "api");
    let (title, tree, status) = read(&mut a);
    assert!(title.starts_with(" Chains · 2 pods · /api "), "{title}");
    assert_eq!(tree, ["✓2"]);
    assert_eq!(status, tree, "status bar and cluster row count alike");

    // An unknown one: `?1` alone, as `!` and `…` always were.
    filter(&mut a, "ops");
    let (_, tree, status) = read(&mut a);
    assert_eq!(tree, ["?1"]);
    assert_eq!(status, tree, "status bar and cluster row count alike");
}

/// A pod only suppressed findings break reads `⊘` in the tree, its counts and its link box, as
/// `check`'s JSON, strips and pictures show it (README "Suppressing findings"): the finding was
/// accepted, not fixed, so neither `✗` nor `✓`. One open error beside it keeps it `✗`.
#[test]
fn a_pod_broken_only_by_a_suppressed_finding_reads_suppressed() {
    let accepted = || {
        Some(kvchain::chain::Suppressed {
            by: "annotation kvchain.dev/ignore on Deployment/worker".into(),
            reason: Some("migrating".into()),
        })
    };
    let mut chains = testing::demo_chains();
    let worker = chains
        .iter_mut()
        .find(|c| c.pod.starts_with("worker-"))
        .expect("the demo has the worker");
    let federation = &mut worker.links[LinkKind::Federation.index()];
    assert_eq!(federation.status, Status::Broken);
    federation.findings[0].suppressed = accepted();
    let snapshot = lab_snapshot("default");
    let mut a = App::new(snapshot.source.clone(), UiConfig::default());
    a.update(AppEvent::Resize(160, 45));
    a.apply(Arc::new(snapshot), chains.clone());

    filter(&mut a, "worker");
    let (_, tree, status) = read(&mut a);
    assert_eq!(tree, ["⊘1"]);
    assert_eq!(status, tree, "status bar and cluster row count alike");
    let lines = screen(&mut a);
    let row = (lines.iter())
        .map(|l| l.split("││").next().unwrap_or(l))
        .find(|l| l.contains("▸ ") && l.contains("worker-5c6d-xk2p9"))
        .expect("the worker's row");
    assert!(row.contains("⊘ worker-5c6d-xk2p9"), "{row}");
    let strip = lines.iter().take(4).cloned().collect::<Vec<_>>().join("\n");
    assert!(
        strip.contains("⊘"),
        "the Federation box reads suppressed:\n{strip}"
    );
    assert!(!strip.contains("✗"), "no box reads broken:\n{strip}");
    // `/suppressed` finds it, as `/broken` finds a broken pod.
    filter(&mut a, "suppressed");
    let (title, ..) = read(&mut a);
    assert!(
        title.starts_with(" Chains · 1 pod · /suppressed "),
        "{title}"
    );

    // An open error on another link of the same pod: broken, as the exit status counts it.
    let mut chains = chains;
    let worker = (chains.iter_mut())
        .find(|c| c.pod.starts_with("worker-"))
        .expect("the demo has the worker");
    testing::break_link(worker, LinkKind::Access);
    let mut a = App::new(a.source.clone(), UiConfig::default());
    a.update(AppEvent::Resize(160, 45));
    a.apply(Arc::new(lab_snapshot("default")), chains);
    filter(&mut a, "worker");
    let (_, tree, _) = read(&mut a);
    assert_eq!(tree, ["✗1"]);
}
