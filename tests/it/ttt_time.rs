//! Audit TTT-time: evidence in time in the TUI's panes — the events pane's order, the rotation
//! timeline's wording and room — judged against FACTS §3, §4 and §11 and README (TUI). The
//! worlds are tests/fixtures/lab/sss_time/*.yaml and ttt_time/*.yaml; their vault values are
//! canaries that no screen may show.

use std::time::Duration;

use kvchain::action::timeline::{StepState, Timeline};

use super::actions_lab::{rotate, settled, snapshot, state};
use super::sss_time::{screen, tui_at};

/// FACTS §3, §11: in sss-time-rotation-halfway at 6m30s the 2m poll succeeded
/// (`SecretRotationComplete`, ≤v1.5 emits it after every successful patch step) and the 4m and
/// 6m polls failed (`MountRotationFailed`, db-password's version disabled): the failure is the
/// current evidence, the success history. The pane listed events oldest first, so at 80×24 the
/// old success filled its rows and the current failure sat below, out of view. Newest first
/// (by when each was last seen, as k9s sorts its events view by LAST SEEN), the failure is the
/// first row.
#[test]
fn the_events_pane_shows_the_newest_event_first() {
    let size = (80, 24);
    let mut app = tui_at(
        "sss-time-rotation-halfway.yaml",
        Duration::from_secs(390),
        "api",
        size,
    );
    let seen: Vec<_> = app.pod_events.iter().map(|e| e.last_seen).collect();
    assert!(seen.len() >= 2, "{:#?}", app.pod_events);
    assert!(
        seen.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {:#?}",
        app.pod_events
    );
    assert_eq!(app.pod_events[0].reason, "MountRotationFailed");
    let s = screen(&mut app, size);
    assert!(!s.contains("CANARY"), "{s}");
    let failure = s.find("MountRotationFailed");
    let success = s.find("SecretRotationComplete");
    assert!(failure.is_some(), "the current failure is in view:\n{s}");
    if let (Some(f), Some(ok)) = (failure, success) {
        assert!(f < ok, "{s}");
    }
}

/// The verdict line of hop `hop` (its label starts with it).
fn verdict_of<'a>(tl: &'a Timeline, hop: &str) -> &'a StepState {
    &(tl.verdict.iter())
        .find(|s| s.label.starts_with(hop))
        .unwrap_or_else(|| panic!("no verdict line {hop:?} in {tl:#?}"))
        .state
}

/// FACTS §4, §10: in lesson-six-hops (step 8) a marker reaches checkout's two pods at the
/// next rotation poll; the driver then writes the synced Secret from the file, and Reloader
/// rolls checkout out, whose new pods mount the marker at their creation. The verdict took the
/// mounted file hop's time from those new pods (the latest mount), so it read `mounted file ✓
/// at +58s` under `synced Secret ✓ at +56s`: the Secret before the file it is written from.
/// The hop is when rotation brought the version to the pods it followed.
#[test]
fn the_mounted_file_hop_is_when_rotation_reached_the_pods_it_followed() {
    let mut src = settled("lesson-six-hops");
    let tl = rotate(&mut src, "checkout-db-password", true);
    let StepState::Done(file) = verdict_of(&tl, "mounted file") else {
        panic!("{tl:#?}")
    };
    let StepState::Done(secret) = verdict_of(&tl, "synced Secret") else {
        panic!("{tl:#?}")
    };
    assert!(
        file <= secret,
        "the Secret is written from the file: {tl:#?}"
    );
}

/// FACTS §2, §11: a re-stamp writes the value the vault already held, so the synced Secret's
/// data does not change — the ≤v1.5 rotation reconciler skips a patch whose data is
/// unchanged, and nothing downstream (Reloader, FACTS §10) sees a change. The timeline said
/// `synced Secret ✓ at +…`, as if the driver had rewritten it; it is unaffected.
#[test]
fn a_restamp_leaves_the_synced_secret_unaffected_not_rewritten() {
    let mut src = settled("env-stale");
    let data = |s: &kvchain::snapshot::Snapshot| {
        (s.secrets.items.iter())
            .find(|x| x.name == "cart-redis")
            .map(|x| x.data.clone())
    };
    let before = data(&snapshot(&src));
    let tl = rotate(&mut src, "cart-redis-password", false);
    assert_eq!(before, data(&snapshot(&src)), "a re-stamp changes no data");
    assert!(
        matches!(
            state(&tl, "Secret cart-redis[password]"),
            StepState::Unaffected(_)
        ),
        "{tl:#?}"
    );
    let line = verdict_of(&tl, "synced Secret");
    assert!(
        line.describe().starts_with("✓ unaffected"),
        "{}",
        line.describe()
    );
    assert!(matches!(state(&tl, "mounted version"), StepState::Done(_)));
}

/// README (TUI, Lesson): a step that does not fit above the detail spans the tree's width too;
/// the six-hops lesson's last step asks to press `M` and "watch it travel all six hops" in the
/// rotation timeline, which replaces the events pane. At 80×24 the spanning lesson left that
/// pane one row: the verdict was out of view. While a result is shown, the lesson keeps three
/// lines (its border says which, and how to scroll) and the timeline gets the room; the tree
/// stays.
#[test]
fn the_rotation_timeline_is_readable_under_the_six_hops_lesson_at_80x24() {
    use crossterm::event::KeyCode;

    use super::lessons::tui::{screen, six_hops_started, tick};
    use crossterm::event::{KeyEvent, KeyModifiers};
    use kvchain::source::SourceCommand;
    use kvchain::source::lab::LabSource;
    use kvchain::ui::app::{App, AppEvent, Effect};

    // What the TUI's runner does with the app's effects: permission asked of the lab (it
    // grants everything), actions carried out, lab commands sent.
    fn carry(app: &mut App, src: &mut LabSource, fx: Vec<Effect>) {
        for e in fx {
            let more = match e {
                Effect::Act(a) => {
                    let out = src.act(&a);
                    app.update(AppEvent::ActionDone(out))
                }
                Effect::CheckPermission { key, .. } => app.update(AppEvent::Permission {
                    key,
                    result: Ok(()),
                }),
                Effect::Command(SourceCommand::Lab(c)) => {
                    src.control(&c).expect("lab control");
                    Vec::new()
                }
                _ => Vec::new(),
            };
            carry(app, src, more);
        }
    }
    fn key(app: &mut App, src: &mut LabSource, code: KeyCode) {
        let fx = app.update(AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)));
        carry(app, src, fx);
    }

    let (mut app, mut src, mut rev) = six_hops_started();
    app.update(AppEvent::Resize(80, 24));
    for _ in 0..7 {
        key(&mut app, &mut src, KeyCode::Char('n'));
    }
    assert_eq!(app.lesson.as_ref().map(|l| l.step), Some(7));
    // The steps skipped leave their faults applied: repaired, as the class would have.
    for id in [
        "sa-client-id-mismatch",
        "fic-subject-typo",
        "delete-object",
        "break-objects-yaml",
    ] {
        let repair = kvchain::source::LabControl::Fault {
            id: id.into(),
            apply: false,
            target: None,
        };
        src.control(&repair).expect("repaired");
    }
    for _ in 0..30 {
        tick(&mut app, &mut src, &mut rev);
    }
    let (_, pod) = app.selected_pod().expect("a checkout pod is selected");
    assert!(pod.starts_with("checkout-"), "{pod}");
    key(&mut app, &mut src, KeyCode::Char('M'));
    for c in "checkout-db-password".chars() {
        key(&mut app, &mut src, KeyCode::Char(c));
    }
    key(&mut app, &mut src, KeyCode::Enter);
    for _ in 0..3 {
        tick(&mut app, &mut src, &mut rev);
    }
    assert!(
        app.timeline.is_some(),
        "the marker's timeline runs: {:?}",
        app.message
    );
    let s = screen(&mut app);
    assert!(!s.contains("CANARY"), "{s}");
    let rows: Vec<&str> = s.lines().collect();
    let top = (rows.iter())
        .position(|l| l.contains("rotation of kv-shop-lab/checkout-db-password"))
        .unwrap_or_else(|| panic!("the timeline is on screen:\n{s}"));
    let bottom = (rows.iter().skip(top))
        .position(|l| l.contains("esc closes"))
        .unwrap_or_else(|| panic!("{s}"));
    assert!(
        bottom > 5,
        "the timeline shows at least five lines, not {}:\n{s}",
        bottom.saturating_sub(1)
    );
    assert!(
        s.contains("Key Vault kv-shop-lab/checkout-db-password"),
        "{s}"
    );
    assert!(s.contains("Chains ·"), "the tree stays:\n{s}");
    assert!(s.contains("Lesson ·"), "{s}");
}
