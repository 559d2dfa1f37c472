//! Issue 14 §3: the built-in lessons run end to end on the lab. Every step with a check
//! advances by itself once the class did what it asks (the test plays the class: it repairs
//! the fault, restarts the pod); steps without a check wait for the trainer's `n`.

use std::time::Duration;

use kvchain::action::Action;
use kvchain::chain::diagnose;
use kvchain::source::LabControl;
use kvchain::source::lab::lesson::{LessonEffect, LessonRun};
use kvchain::source::lab::{self, LabSource, export};

/// Runs lesson `name`; `class` is called while a step waits (after the lab showed it at
/// least once), to do what its text asks.
/// Returns, per step, whether its check passed (true) or the trainer moved on (false).
fn run(name: &str, mut class: impl FnMut(usize, &mut LabSource)) -> Vec<bool> {
    let scenario = lab::lesson_scenario(name).expect("built-in lesson");
    let mut src = lab::open(scenario, None).expect("built-in scenario");
    src.world_mut().run_until_stable(Duration::from_secs(600));
    let (lesson, target) = lab::find_lesson(&src, name).expect("lesson");
    let steps = lesson.steps.len();
    let mut run = LessonRun::new(lesson, target);
    let mut passed = Vec::new();
    let apply = |src: &mut LabSource, fx: Vec<LessonEffect>| {
        for LessonEffect::ApplyFault(id) in fx {
            src.control(&LabControl::Fault {
                id,
                apply: true,
                target: None,
            })
            .expect("fault applies");
        }
    };
    let mut seq = 0;
    let fx = run.enter(seq);
    apply(&mut src, fx);
    let mut waited = Duration::ZERO;
    while !run.finished() {
        let step = run.step;
        if run.current().is_some_and(|s| s.check.is_none()) {
            // The trainer reads it out and presses n.
            let fx = run.advance(seq);
            apply(&mut src, fx);
            passed.push(false);
        } else {
            src.world_mut().advance(Duration::from_secs(10));
            waited += Duration::from_secs(10);
            assert!(
                waited < Duration::from_secs(900),
                "step {step} of {name} never passed: {:?}",
                run.current()
            );
            let s = export::snapshot(src.world());
            seq += 1;
            let fx = run.observe(seq, &diagnose(&s));
            apply(&mut src, fx);
            if run.step == step {
                class(step, &mut src);
                continue;
            }
            passed.push(true);
        }
        waited = Duration::ZERO;
    }
    assert_eq!(passed.len(), steps);
    passed
}

#[test]
fn six_hops_breaks_and_repairs_each_hop() {
    let passed = run("six-hops", |step, src| {
        let active = lab::faults::infos(src.world())
            .into_iter()
            .find(|f| f.active);
        match (step, active) {
            // Hop 3: the class breaks access itself (b, remove-role-assignment, enter).
            (3, None) => {
                src.control(&LabControl::Fault {
                    id: "remove-role-assignment".into(),
                    apply: true,
                    target: None,
                })
                .expect("break");
            }
            // Otherwise it repairs what is broken (b, enter).
            (_, Some(f)) if step != 3 => {
                src.control(&LabControl::Fault {
                    id: f.id,
                    apply: false,
                    target: None,
                })
                .expect("repair");
            }
            _ => {}
        }
    });
    // Intro and outro are read out; every break and every repair is checked.
    assert_eq!(passed, [false, true, true, true, true, true, true, false]);
}

#[test]
fn rotation_lesson_goes_stale_then_fresh_after_a_restart() {
    let mut restarted = false;
    let passed = run("rotation", |step, src| {
        if step == 2 && !restarted {
            restarted = true;
            // R on a cart pod, y.
            let s = export::snapshot(src.world());
            let pod = s
                .pods
                .items
                .iter()
                .find(|p| p.name.starts_with("cart-"))
                .expect("cart pod");
            let out = src.act(&Action::Restart {
                namespace: pod.namespace.to_string(),
                pod: pod.name.to_string(),
            });
            assert!(out.ok, "{out:?}");
        }
    });
    assert_eq!(passed, [true, false, true, false]);
}

#[test]
fn an_unknown_lesson_lists_the_lessons_there_are() {
    let src = lab::open("healthy", None).unwrap();
    let err = lab::find_lesson(&src, "nope").unwrap_err();
    assert!(
        err.contains("built-in lessons: six-hops, rotation"),
        "{err}"
    );
}

/// docs/scenarios.md: `target` is the `namespace/deployment` the checks look at. A target no
/// workload has could never pass a check: refused before the class starts, naming the field
/// and the workloads there are.
#[test]
fn a_target_no_workload_has_is_refused_naming_the_workloads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lesson.yaml");
    let scenario = [
        crate::lab_nodes::CLUSTER,
        crate::lab_nodes::SHOP,
        crate::lab_nodes::HEALTHY,
    ]
    .join("\n---\n");
    let lesson = "---
apiVersion: lab.kvchain.dev/v1
kind: Lesson
metadata:
  name: typo
spec:
  title: A target with a typo
  target: shop/chekout
  steps:
    - text: Look at the chain.
";
    std::fs::write(&path, format!("{scenario}\n{lesson}")).unwrap();
    let src = lab::open(path.to_str().unwrap(), None).unwrap();
    let err = lab::find_lesson(&src, "typo").unwrap_err();
    assert!(
        err.contains("spec.target shop/chekout: no workload of that name")
            && err.contains("Deployment shop/checkout"),
        "{err}"
    );
}

pub(crate) mod tui {
    use std::sync::Arc;
    use std::time::Duration;

    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use kvchain::chain::LinkKind;
    use kvchain::source::lab::{self, LabSource, export};
    use kvchain::source::{SourceCommand, SourceEvent};
    use kvchain::ui::app::{App, AppEvent, Effect};
    use kvchain::ui::config::UiConfig;
    use kvchain::ui::views;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    /// Carry out what the app asked of the lab (lesson faults, confirmed actions).
    fn run_effects(app: &mut App, src: &mut LabSource, fx: Vec<Effect>) {
        for e in fx {
            match e {
                Effect::Command(SourceCommand::Lab(c)) => {
                    src.control(&c).expect("lab control");
                }
                Effect::Act(a) => {
                    let out = src.act(&a);
                    let more = app.update(AppEvent::ActionDone(out));
                    run_effects(app, src, more);
                }
                _ => {}
            }
        }
    }

    /// The lab as its task runs it: clock every step, a snapshot when the world changed.
    pub(crate) fn tick(app: &mut App, src: &mut LabSource, revision: &mut u64) {
        src.world_mut().advance(Duration::from_secs(10));
        let fx = app.update(AppEvent::Source(SourceEvent::Lab(src.status())));
        run_effects(app, src, fx);
        if src.world().revision != *revision {
            *revision = src.world().revision;
            let s = Arc::new(export::snapshot(src.world()));
            let fx = app.update(AppEvent::Source(SourceEvent::Snapshot(s)));
            run_effects(app, src, fx);
        }
    }

    pub(crate) fn key(app: &mut App, src: &mut LabSource, code: KeyCode) {
        let fx = app.update(AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)));
        run_effects(app, src, fx);
    }

    pub(crate) fn screen(app: &mut App) -> String {
        let mut t = Terminal::new(TestBackend::new(app.size.width, app.size.height)).unwrap();
        t.draw(|f| views::draw(f, app)).unwrap();
        t.backend().to_string()
    }

    fn until(app: &mut App, src: &mut LabSource, rev: &mut u64, step: usize) {
        for _ in 0..90 {
            if app.lesson.as_ref().is_some_and(|l| l.step >= step) {
                return;
            }
            tick(app, src, rev);
        }
        panic!("lesson stuck at {:?}", app.lesson.as_ref().map(|l| l.step));
    }

    #[test]
    fn the_rotation_lesson_runs_in_the_tui_its_checks_move_it_on() {
        let mut src = lab::open("lesson-rotation", None).unwrap();
        let (lesson, target) = lab::find_lesson(&src, "rotation").unwrap();
        let s = export::snapshot(src.world());
        let mut app = App::new(s.source.clone(), UiConfig::default());
        app.update(AppEvent::Resize(120, 40));
        app.update(AppEvent::Source(SourceEvent::Lab(src.status())));
        let fx = app.start_lesson(kvchain::source::lab::lesson::LessonRun::new(lesson, target));
        run_effects(&mut app, &mut src, fx);
        let mut rev = 0;
        tick(&mut app, &mut src, &mut rev);

        // Step 1 waits for KVC901, with the Consumers link of a cart pod on screen.
        let text = screen(&mut app);
        assert!(
            text.contains("Lesson · Rotation: why env vars go stale · step 1 of 4"),
            "{text}"
        );
        assert!(
            text.contains("waiting for: the Consumers link is broken with KVC901"),
            "{text}"
        );
        assert_eq!(app.link, LinkKind::Consumers);
        assert!(
            app.selected_pod()
                .is_some_and(|(_, p)| p.starts_with("cart-"))
        );

        // The 1m write and the 2m poll make env stale: the check passes by itself.
        until(&mut app, &mut src, &mut rev, 1);
        assert!(screen(&mut app).contains("step 2 of 4"));
        // No check: the trainer moves on.
        key(&mut app, &mut src, KeyCode::Char('n'));
        assert_eq!(app.lesson.as_ref().unwrap().step, 2);

        // The class restarts cart (R y on the selected cart pod): healthy again.
        key(&mut app, &mut src, KeyCode::Char('R'));
        key(&mut app, &mut src, KeyCode::Char('y'));
        until(&mut app, &mut src, &mut rev, 3);
        key(&mut app, &mut src, KeyCode::Char('n'));
        assert!(app.lesson.as_ref().unwrap().finished());
        assert!(screen(&mut app).contains("every step done"));
        key(&mut app, &mut src, KeyCode::Char('n'));
        assert!(app.lesson.is_none(), "n closes a finished lesson");
    }

    /// The lab task while its clock is paused: no lab time passes, but a change (a fault,
    /// a repair) still sends a snapshot, all taken at the same lab time.
    fn tick_paused(app: &mut App, src: &mut LabSource, revision: &mut u64) {
        src.world_mut().advance(Duration::ZERO);
        let fx = app.update(AppEvent::Source(SourceEvent::Lab(src.status())));
        run_effects(app, src, fx);
        if src.world().revision != *revision {
            *revision = src.world().revision;
            let s = Arc::new(export::snapshot(src.world()));
            let fx = app.update(AppEvent::Source(SourceEvent::Snapshot(s)));
            run_effects(app, src, fx);
        }
    }

    /// The six-hops lesson started in a 160×45 TUI, its first snapshot applied.
    pub(crate) fn six_hops_started() -> (App, LabSource, u64) {
        let mut src = lab::open("lesson-six-hops", None).unwrap();
        let (lesson, target) = lab::find_lesson(&src, "six-hops").unwrap();
        let s = export::snapshot(src.world());
        let mut app = App::new(s.source.clone(), UiConfig::default());
        app.update(AppEvent::Resize(160, 45));
        let fx = app.start_lesson(kvchain::source::lab::lesson::LessonRun::new(lesson, target));
        run_effects(&mut app, &mut src, fx);
        let mut rev = 0;
        tick(&mut app, &mut src, &mut rev);
        (app, src, rev)
    }

    /// Audit EEE3: a step whose fault lands and is repaired while the lab clock is paused
    /// still completes. Every snapshot then has the same lab time; the step counts the
    /// snapshots applied after it started, whatever the clock says.
    #[test]
    fn a_fault_applied_and_repaired_while_paused_completes_its_step() {
        let (mut app, mut src, mut rev) = six_hops_started();
        key(&mut app, &mut src, KeyCode::Char('p'));
        tick_paused(&mut app, &mut src, &mut rev);
        assert!(src.status().paused);
        // Step 2 breaks the SA hop; the snapshot after it shows KVC204.
        key(&mut app, &mut src, KeyCode::Char('n'));
        let fault = app
            .lesson
            .as_ref()
            .unwrap()
            .current()
            .unwrap()
            .fault
            .clone();
        assert_eq!(fault.as_deref(), Some("sa-client-id-mismatch"));
        tick_paused(&mut app, &mut src, &mut rev);
        assert!(screen(&mut app).contains("KVC204"), "{}", screen(&mut app));
        // The class repairs it, still paused.
        src.control(&kvchain::source::LabControl::Fault {
            id: "sa-client-id-mismatch".into(),
            apply: false,
            target: None,
        })
        .unwrap();
        tick_paused(&mut app, &mut src, &mut rev);
        let step = app.lesson.as_ref().unwrap().step;
        assert_eq!(step, 2, "{}", screen(&mut app));
        // And once the clock runs again it stays done.
        key(&mut app, &mut src, KeyCode::Char('p'));
        until(&mut app, &mut src, &mut rev, 2);
        assert!(
            screen(&mut app).contains("step 3 of 8"),
            "{}",
            screen(&mut app)
        );
    }

    /// docs/scenarios.md "Lesson": `n` moves on without the check and repairs nothing. The
    /// skip says which fault stays applied, later steps show it, and the end does not claim
    /// success over a broken chain.
    #[test]
    fn skipping_steps_says_which_faults_stay_applied_and_the_end_lists_them() {
        let (mut app, mut src, mut rev) = six_hops_started();
        // On to the first step that breaks a hop (the lab applies it), then skip it.
        let fault = |app: &App| app.lesson.as_ref()?.current()?.fault.clone();
        while fault(&app).is_none() {
            key(&mut app, &mut src, KeyCode::Char('n'));
            tick(&mut app, &mut src, &mut rev);
        }
        let first = fault(&app).unwrap();
        key(&mut app, &mut src, KeyCode::Char('n'));
        tick(&mut app, &mut src, &mut rev);
        let (msg, _) = app.message.clone().expect("the skip is said");
        assert!(
            msg.contains("skipped") && msg.contains(&first) && msg.contains("still applied"),
            "{msg}"
        );
        while !app.lesson.as_ref().unwrap().finished() {
            key(&mut app, &mut src, KeyCode::Char('n'));
            tick(&mut app, &mut src, &mut rev);
            if !app.lesson.as_ref().unwrap().finished() {
                let text = screen(&mut app);
                assert!(text.contains("still applied from skipped steps"), "{text}");
            }
        }
        assert!(app.lesson.as_ref().unwrap().finished());
        let text = screen(&mut app);
        assert!(!text.contains("every step done"), "{text}");
        assert!(text.contains("still applied"), "{text}");
        assert!(text.contains(&first), "{text}");
    }
    /// Carry out lab commands as the lab task does: each answered with a status line.
    fn run_effects_answered(app: &mut App, src: &mut LabSource, fx: Vec<Effect>) {
        for e in fx {
            if let Effect::Command(SourceCommand::Lab(c)) = e {
                let said = match src.control(&c) {
                    Ok(m) | Err(m) => m,
                };
                let more = app.update(AppEvent::Source(SourceEvent::Status(said)));
                run_effects_answered(app, src, more);
            }
        }
    }

    fn key_answered(app: &mut App, src: &mut LabSource, code: KeyCode) {
        let fx = app.update(AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)));
        run_effects_answered(app, src, fx);
    }

    /// docs/scenarios.md "Lesson" (audit D17): the skip's "fault … still applied" stays in
    /// the status line when the lab answers the next step's fault, and `n` on the last step,
    /// which has no check and says "n ends the lesson", ends it: no "skipped step 8".
    #[test]
    fn the_skip_warning_survives_the_labs_answer_and_n_on_the_last_step_ends_the_lesson() {
        let mut src = lab::open("lesson-six-hops", None).unwrap();
        let (lesson, target) = lab::find_lesson(&src, "six-hops").unwrap();
        let steps = lesson.steps.len();
        let s = export::snapshot(src.world());
        let mut app = App::new(s.source.clone(), UiConfig::default());
        app.update(AppEvent::Resize(160, 45));
        let fx = app.start_lesson(kvchain::source::lab::lesson::LessonRun::new(lesson, target));
        run_effects_answered(&mut app, &mut src, fx);
        let mut rev = 0;
        tick(&mut app, &mut src, &mut rev);
        // Step 1 has no check: n moves on, to step 2 and its fault.
        key_answered(&mut app, &mut src, KeyCode::Char('n'));
        tick(&mut app, &mut src, &mut rev);
        let (msg, _) = app.message.clone().unwrap();
        assert!(!msg.contains("skipped"), "step 1 ends with n: {msg}");
        let first = app
            .lesson
            .as_ref()
            .unwrap()
            .current()
            .unwrap()
            .fault
            .clone();
        let first = first.expect("step 2 breaks a hop");
        // Skip step 2: step 3 applies its own fault, and the lab says so.
        key_answered(&mut app, &mut src, KeyCode::Char('n'));
        let (msg, _) = app.message.clone().unwrap();
        assert!(
            msg.starts_with(&format!("skipped step 2 — fault {first} still applied")),
            "{msg}"
        );
        assert!(msg.contains("applied: "), "the lab's answer follows: {msg}");
        // On to the last step, then n as its text says.
        while app.lesson.as_ref().unwrap().step + 1 < steps {
            key_answered(&mut app, &mut src, KeyCode::Char('n'));
            tick(&mut app, &mut src, &mut rev);
        }
        assert!(
            app.lesson
                .as_ref()
                .unwrap()
                .current()
                .unwrap()
                .check
                .is_none()
        );
        key_answered(&mut app, &mut src, KeyCode::Char('n'));
        assert!(app.lesson.as_ref().unwrap().finished());
        let (msg, _) = app.message.clone().unwrap();
        assert!(msg.starts_with("lesson: done"), "{msg}");
        assert!(!msg.contains(&format!("skipped step {steps}")), "{msg}");
    }
}
