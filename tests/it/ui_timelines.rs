//! Issue 14 §1, as the TUI runs it on the lab: timelines advance on the lab's clock even when
//! no snapshot arrives, end with a verdict per hop, follow Reloader's rollouts, order a
//! restart causally; verify results land in the events pane one line per item; a marker
//! rotation offers its restore.

use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kvchain::action::Action;
use kvchain::action::timeline::{StepState, Timeline};
use kvchain::source::SourceEvent;
use kvchain::source::lab::{self, LabSource, export};
use kvchain::ui::app::{App, AppEvent, Effect, Mode};
use kvchain::ui::config::UiConfig;
use kvchain::ui::views;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const VAULT: &str = "kv-shop-lab";

fn settled(scenario: &str) -> LabSource {
    let mut src = lab::open(scenario, None).expect("built-in scenario");
    src.world_mut().run_until_stable(Duration::from_secs(3600));
    src
}

/// The app as the TUI runs it on `src`: the lab status, then a snapshot.
fn app_on(src: &LabSource) -> App {
    let snapshot = export::snapshot(src.world());
    let mut app = App::new(snapshot.source.clone(), UiConfig::default());
    app.update(AppEvent::Resize(120, 40));
    app.update(AppEvent::Source(SourceEvent::Lab(src.status())));
    app.update(AppEvent::Source(SourceEvent::Snapshot(Arc::new(snapshot))));
    app
}

/// What the lab sends when its world changed (a new snapshot) and every second (its clock).
fn send_lab(app: &mut App, src: &LabSource, snapshot: bool) {
    app.update(AppEvent::Source(SourceEvent::Lab(src.status())));
    if snapshot {
        let s = export::snapshot(src.world());
        app.update(AppEvent::Source(SourceEvent::Snapshot(Arc::new(s))));
    }
}

fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
    app.update(AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn chars(app: &mut App, s: &str) -> Vec<Effect> {
    s.chars().flat_map(|c| key(app, KeyCode::Char(c))).collect()
}

pub(crate) fn select_pod(app: &mut App, prefix: &str) {
    let chains = app.chains.clone();
    for i in 0..app.tree.rows.len() {
        app.tree.select(i, &chains);
        if app
            .selected_pod()
            .is_some_and(|(_, p)| p.starts_with(prefix))
            && matches!(app.tree.selected_row(), kvchain::ui::tree::Row::Pod(..))
        {
            // Let the app pick up the selection (events, link).
            key(app, KeyCode::Char('j'));
            key(app, KeyCode::Char('k'));
            return;
        }
    }
    panic!("no pod {prefix}");
}

/// Confirm the action the keys offered and carry it out on the lab, as the runner does.
fn act(app: &mut App, src: &mut LabSource, fx: Vec<Effect>) -> Action {
    let Some(Effect::Act(action)) = fx.into_iter().find(|e| matches!(e, Effect::Act(_))) else {
        panic!("no action confirmed: {:?}", app.message);
    };
    let outcome = src.act(&action);
    assert!(outcome.ok, "{outcome:?}");
    let event = if matches!(action, Action::Verify { .. }) {
        AppEvent::Verified(outcome)
    } else {
        AppEvent::ActionDone(outcome)
    };
    app.update(event);
    // The lab sends a snapshot as soon as the action changed its world.
    send_lab(app, src, true);
    action
}

/// Run the lab in 10-second steps, sending its clock each step and a snapshot when `snapshots`
/// is set and the world changed, until the timeline ends.
fn run_until_done(app: &mut App, src: &mut LabSource, snapshots: bool) -> Timeline {
    let mut revision = src.world().revision;
    for _ in 0..90 {
        src.world_mut().advance(Duration::from_secs(10));
        let changed = src.world().revision != revision;
        revision = src.world().revision;
        send_lab(app, src, snapshots && changed);
        let tl = app.timeline.clone().expect("a timeline runs");
        if tl.finished {
            return tl;
        }
    }
    panic!("the timeline never ended: {:#?}", app.timeline);
}

fn screen(app: &mut App) -> String {
    let mut t = Terminal::new(TestBackend::new(app.size.width, app.size.height)).unwrap();
    t.draw(|f| views::draw(f, app)).unwrap();
    t.backend().to_string()
}

fn verdict<'a>(tl: &'a Timeline, hop: &str) -> &'a StepState {
    &tl.verdict
        .iter()
        .find(|s| s.label.starts_with(hop))
        .unwrap_or_else(|| panic!("no verdict for {hop}: {tl:#?}"))
        .state
}

/// `demo rotation-disabled`, `r` `y`, then a quiet lab: the timeline ends at once with the
/// verdict of every hop instead of "watching" forever.
#[test]
fn rotation_disabled_ends_with_a_verdict_per_hop_on_a_quiet_lab() {
    let mut src = settled("rotation-disabled");
    let mut app = app_on(&src);
    select_pod(&mut app, "checkout-");
    key(&mut app, KeyCode::Char('r'));
    let fx = key(&mut app, KeyCode::Char('y'));
    act(&mut app, &mut src, fx);
    let tl = run_until_done(&mut app, &mut src, true);
    assert!(
        matches!(verdict(&tl, "Key Vault"), StepState::Done(_)),
        "{tl:#?}"
    );
    for hop in ["mounted file", "synced Secret"] {
        assert!(
            matches!(verdict(&tl, hop), StepState::Never(w) if w.contains("--enable-secret-rotation=false")),
            "{hop}: {tl:#?}"
        );
    }
    assert!(
        matches!(verdict(&tl, "env / restart"), StepState::Unaffected(_)),
        "a re-stamp cannot make env stale: {tl:#?}"
    );
    let text = screen(&mut app);
    assert!(text.contains("· done"), "{text}");
    assert!(text.contains("verdict"), "{text}");
    assert!(text.contains("mounted file"), "{text}");
}

/// A rotation whose snapshots stop coming (a quiet source): the lab clock alone carries the
/// timeline to its deadline, where the hops that did not move are named.
#[test]
fn the_lab_clock_alone_ends_a_watch_that_sees_no_snapshot() {
    let mut src = settled("healthy");
    let mut app = app_on(&src);
    select_pod(&mut app, "checkout-");
    key(&mut app, KeyCode::Char('r'));
    let fx = key(&mut app, KeyCode::Char('y'));
    act(&mut app, &mut src, fx);
    // The write itself is seen; after that only the clock arrives.
    let tl = run_until_done(&mut app, &mut src, false);
    assert!(tl.elapsed >= tl.deadline, "{tl:#?}");
    assert!(
        matches!(verdict(&tl, "mounted file"), StepState::Stuck(_)),
        "{tl:#?}"
    );
    let text = screen(&mut app);
    assert!(text.contains("+5m"), "the clock moved on screen: {text}");
    assert!(text.contains("· done"), "{text}");
}

/// `healthy` has Reloader on checkout: a new value rolls the Deployment, and the verdict
/// follows the new pods to fresh env rather than calling the old ones stale.
#[test]
fn reloader_rollout_ends_with_fresh_env_and_no_stale_pod() {
    let mut src = settled("healthy");
    let mut app = app_on(&src);
    let old_pods: Vec<String> = app
        .snapshot
        .as_ref()
        .unwrap()
        .pods
        .items
        .iter()
        .filter(|p| p.name.starts_with("checkout-"))
        .map(|p| p.name.to_string())
        .collect();
    select_pod(&mut app, "checkout-");
    key(&mut app, KeyCode::Char('M'));
    chars(&mut app, "checkout-db-password");
    let fx = key(&mut app, KeyCode::Enter);
    act(&mut app, &mut src, fx);
    let tl = run_until_done(&mut app, &mut src, true);
    assert!(
        matches!(verdict(&tl, "env / restart"), StepState::Done(_)),
        "{tl:#?}"
    );
    assert!(
        !tl.steps
            .iter()
            .any(|s| matches!(s.state, StepState::Never(_) | StepState::Stuck(_))),
        "{tl:#?}"
    );
    assert!(
        !tl.steps
            .iter()
            .any(|s| s.label.contains("env")
                && old_pods.iter().any(|p| s.label.contains(p.as_str()))),
        "env is judged on the workload's current pods: {tl:#?}"
    );
    let now = app.snapshot.clone().unwrap();
    for s in &tl.steps {
        if let Some(p) = old_pods.iter().find(|p| s.label.contains(p.as_str())) {
            assert!(
                now.pods.items.iter().any(|x| x.name == *p),
                "a step for {p}, which no longer exists: {tl:#?}"
            );
        }
    }

    // The marker stays until restored: the timeline offers it, M y writes the old value.
    assert!(
        tl.follow_up
            .as_deref()
            .is_some_and(|f| f.starts_with("M restores")),
        "{tl:#?}"
    );
    assert!(screen(&mut app).contains("M restores the value of version"));
    let before = lab_value(&src, 1);
    select_pod(&mut app, "checkout-");
    key(&mut app, KeyCode::Char('M'));
    assert!(matches!(app.mode, Mode::Confirm { .. }));
    let fx = key(&mut app, KeyCode::Char('y'));
    let action = act(&mut app, &mut src, fx);
    assert!(matches!(action, Action::Restore { .. }), "{action:?}");
    assert_eq!(
        lab_value(&src, 0),
        before,
        "the value before the marker is back"
    );
    assert!(app.restore.is_none(), "offered once");
}

/// Fingerprint of the `n`-th newest version of checkout's secret.
fn lab_value(src: &LabSource, n: usize) -> kvchain::fingerprint::Fingerprint {
    let o = &src.world().vaults[VAULT].objects[&(
        kvchain::snapshot::ObjectType::Secret,
        "checkout-db-password".to_string(),
    )];
    kvchain::fingerprint::Fingerprint::of(&o.versions[n].content)
}

/// `R` on env-stale's cart: created → mounted → running → env fresh → old pod gone, in
/// that order, with times that agree, and no "did not move" once the new pod exists.
#[test]
fn restart_timeline_is_causal_and_ends_with_fresh_env() {
    let mut src = settled("env-stale");
    let mut app = app_on(&src);
    select_pod(&mut app, "cart-");
    key(&mut app, KeyCode::Char('R'));
    let fx = key(&mut app, KeyCode::Char('y'));
    act(&mut app, &mut src, fx);
    let tl = run_until_done(&mut app, &mut src, true);
    assert!(
        tl.steps
            .iter()
            .all(|s| matches!(s.state, StepState::Done(_))),
        "{tl:#?}"
    );
    let times: Vec<Duration> = tl
        .steps
        .iter()
        .map(|s| match s.state {
            StepState::Done(d) => d,
            _ => Duration::MAX,
        })
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{tl:#?}");
    let first_of = |what: &str| {
        tl.steps
            .iter()
            .position(|s| s.label.ends_with(what))
            .unwrap_or_else(|| panic!("no {what}: {tl:#?}"))
    };
    assert!(first_of(": created") < first_of(": secrets mounted"));
    assert!(first_of(": secrets mounted") < first_of(": running"));
    assert!(first_of(": running") < first_of("REDIS_PASSWORD fresh"));
    assert!(
        tl.elapsed < Duration::from_secs(120),
        "ends when the new pods run with fresh env: {tl:#?}"
    );
}

/// `x`: the results go to the events pane, one line per item, whole; the status bar only
/// sums them up.
#[test]
fn verify_results_are_listed_one_per_line_in_the_events_pane() {
    let mut src = settled("env-stale");
    let mut app = app_on(&src);
    select_pod(&mut app, "cart-");
    // The rotation at 1m left cart's env stale.
    let fx = key(&mut app, KeyCode::Char('x'));
    act(&mut app, &mut src, fx);
    let v = app.verified.clone().expect("verify results kept");
    assert!(v.items.len() >= 2, "{v:?}");
    let text = screen(&mut app);
    for (_, item) in &v.items {
        let head: String = item.chars().take(40).collect();
        assert!(
            text.lines().any(|l| l.contains(&head)),
            "{head:?} starts its own line: {text}"
        );
    }
    assert!(
        text.lines()
            .any(|l| l.contains("env REDIS_PASSWORD: stale: Secret cart-redis changed after")),
        "{text}"
    );
    let (status, _) = app.message.clone().unwrap();
    assert!(
        status.ends_with(": 2 items checked, 1 not matching — see the events pane"),
        "{status}"
    );
    key(&mut app, KeyCode::Esc);
    assert!(app.verified.is_none(), "esc closes the results");
}

/// The lab's snapshot after the write is diagnosed on another task and may reach the app
/// before the action's outcome; on a quiet lab no other snapshot follows. The watch must
/// still see it (this is how `r` `y` stayed at "+2s · watching" in rotation-disabled).
#[test]
fn the_snapshot_that_beat_the_outcome_still_feeds_the_watch() {
    let mut src = settled("rotation-disabled");
    let mut app = app_on(&src);
    select_pod(&mut app, "checkout-");
    key(&mut app, KeyCode::Char('r'));
    let fx = key(&mut app, KeyCode::Char('y'));
    let Some(Effect::Act(action)) = fx.into_iter().next() else {
        panic!("no action")
    };
    let outcome = src.act(&action);
    send_lab(&mut app, &src, true);
    app.update(AppEvent::ActionDone(outcome));
    // From here on the lab is quiet: only its clock arrives.
    src.world_mut().advance(Duration::from_secs(10));
    send_lab(&mut app, &src, false);
    let tl = app.timeline.clone().expect("timeline");
    assert!(
        tl.finished,
        "every hop resolved from that snapshot: {tl:#?}"
    );
    assert!(
        matches!(verdict(&tl, "Key Vault"), StepState::Done(_)),
        "{tl:#?}"
    );
    assert!(tl.elapsed < Duration::from_secs(60), "{tl:#?}");
}

/// README Keys, `esc`: the first that applies — an open timeline or verify results close
/// before the filter is cleared (audit D9: `esc` cleared the filter and left the pane open).
#[test]
fn esc_closes_the_timeline_and_the_verify_results_before_clearing_the_filter() {
    let mut src = settled("healthy");
    let mut app = app_on(&src);
    chars(&mut app, "/checkout");
    key(&mut app, KeyCode::Enter);
    select_pod(&mut app, "checkout-");
    key(&mut app, KeyCode::Char('r'));
    let fx = key(&mut app, KeyCode::Char('y'));
    act(&mut app, &mut src, fx);
    assert!(app.timeline.is_some(), "r y opens a timeline");
    key(&mut app, KeyCode::Esc);
    assert!(app.timeline.is_none(), "esc closes the timeline first");
    assert_eq!(app.filter.text, "checkout", "the filter stays");

    let fx = key(&mut app, KeyCode::Char('x'));
    act(&mut app, &mut src, fx);
    assert!(app.verified.is_some(), "x lists its results");
    // From another pane too: the results close before focus goes back to the tree.
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Esc);
    assert!(
        app.verified.is_none(),
        "esc closes the verify results first"
    );
    assert_eq!(app.filter.text, "checkout", "the filter stays");
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.filter.text, "checkout", "esc leaves the pane next");
    key(&mut app, KeyCode::Esc);
    assert!(app.filter.text.is_empty(), "then clears the filter");
}

/// Event ages run on the source's clock, not from the last snapshot: a lab that sent no new
/// snapshot for minutes still ages its events (audit D15: "30s ago" at 09:05:30 for an event
/// last seen at 09:04:00).
#[test]
fn event_ages_are_measured_against_the_source_clock_now() {
    let mut src = settled("fic-subject-typo");
    let mut app = app_on(&src);
    let seen = app
        .pod_events
        .iter()
        .find_map(|e| e.last_seen)
        .expect("the broken pod has events");
    src.world_mut().advance(Duration::from_secs(300));
    // The clock only: the world's next snapshot is not sent.
    send_lab(&mut app, &src, false);
    let now = app.source_clock().expect("the lab's clock");
    let then = app.snapshot.as_ref().unwrap().source.observed_at;
    let (fresh, stale) = (
        kvchain::glance::ago(seen, now),
        kvchain::glance::ago(seen, then),
    );
    assert_ne!(fresh, stale);
    let text = screen(&mut app);
    assert!(text.contains(&format!(" {fresh} ")), "{fresh}: {text}");
}

/// The timeline pane's rows at `w` columns (inside its borders), from its title to its bottom
/// border, that row included.
fn timeline_rows(app: &mut App, w: u16) -> Vec<String> {
    app.update(AppEvent::Resize(w, 100));
    // Plain rows (the backend's own string quotes each one).
    let s = crate::sss_time::screen(app, (w, 100));
    let rows: Vec<&str> = s.lines().collect();
    let top = (rows.iter())
        .position(|l| l.contains("rotation of kv-shop-lab/"))
        .unwrap_or_else(|| panic!("the timeline is on screen:\n{s}"));
    let pane = |l: &&str| l.chars().skip(usize::from(w) * 2 / 5).collect::<String>();
    let mut out: Vec<String> = Vec::new();
    for l in rows.iter().skip(top + 1) {
        out.push(pane(l));
        if pane(l).starts_with('└') {
            break;
        }
    }
    out
}

/// Audit UUU-time: at 80 columns the timeline padded each label to 28 cells, so a pod's step
/// (`pod checkout-…: mounted version`) put its state on a second row, cut as `✓ at` / `+1m41s`
/// where it fell, continued at the pane's edge like a step of its own, and the title cut
/// `· done` off. README (TUI): the pane says each hop's state and whether the watch is done.
/// Now a pod's steps go under a line naming it, each on one row with its state; what does not
/// fit continues indented; the progress is in the bottom border.
#[test]
fn timeline_steps_fit_their_rows_at_80_columns() {
    let mut src = settled("healthy");
    let mut app = app_on(&src);
    select_pod(&mut app, "checkout-");
    key(&mut app, KeyCode::Char('r'));
    let fx = key(&mut app, KeyCode::Char('y'));
    act(&mut app, &mut src, fx);
    run_until_done(&mut app, &mut src, true);
    let rows = timeline_rows(&mut app, 80);
    let text = rows.join("\n");
    let bottom = rows.last().expect("the pane's rows");
    assert!(bottom.starts_with('└'), "{text}");
    assert!(bottom.contains("· done"), "{text}");
    let mounted: Vec<&String> = (rows.iter())
        .filter(|l| l.contains("mounted version"))
        .collect();
    assert_eq!(mounted.len(), 2, "one row per pod:\n{text}");
    for row in mounted {
        assert!(
            row.contains("✓ at +"),
            "state on the step's row: {row}\n{text}"
        );
    }
    for row in &rows {
        let inner = row.trim_start_matches('│');
        // A continuation is indented under its step; a state's head is never cut.
        assert!(
            !inner.starts_with("+") && !inner.starts_with("at +"),
            "{text}"
        );
        assert!(
            !row.trim_end_matches('│').trim_end().ends_with("✓ at"),
            "{text}"
        );
    }
    let verdict = (rows.iter())
        .find(|l| l.contains("Key Vault: new version"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(verdict.contains("✓ at +"), "{text}");
}
