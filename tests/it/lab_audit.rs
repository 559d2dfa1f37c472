//! README "Actions": lab faults are recorded in the audit log when requested, `lab-break` /
//! `lab-repair` with target `fault ID on Deployment NS/NAME` — whoever asked (the trainer's
//! break menu, a lesson step) and for repairs too, so the log alone says where each acted.

use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kvchain::source::audited::Audited;
use kvchain::source::lab::{self, LabSource, export};
use kvchain::source::{LabControl, Source, SourceCommand, SourceEvent};
use kvchain::ui::app::{App, AppEvent, Effect};
use kvchain::ui::config::UiConfig;

fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
    app.update(AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn faults(fx: Vec<Effect>) -> Vec<LabControl> {
    fx.into_iter()
        .filter_map(|e| match e {
            Effect::Command(SourceCommand::Lab(c @ LabControl::Fault { .. })) => Some(c),
            _ => None,
        })
        .collect()
}

/// The app's lab commands go to the lab through the audit wrapper; returns the records.
async fn audited(src: LabSource, commands: Vec<LabControl>) -> Vec<serde_json::Value> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let source = Box::new(Audited::new(Box::new(src), Some(path.clone())));
    let (etx, mut erx) = tokio::sync::mpsc::unbounded_channel();
    let (ctx, crx) = tokio::sync::mpsc::unbounded_channel();
    let task = tokio::spawn(source.run(etx, crx));
    for c in commands {
        ctx.send(SourceCommand::Lab(c)).unwrap();
        // The lab answers each control on the status line.
        loop {
            match tokio::time::timeout(Duration::from_secs(10), erx.recv()).await {
                Ok(Some(SourceEvent::Status(m))) => {
                    assert!(!m.contains("not applied"), "{m}");
                    break;
                }
                Ok(Some(_)) => {}
                other => panic!("no answer from the lab: {other:?}"),
            }
        }
    }
    drop(ctx);
    let _ = task.await;
    std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A lesson step's break and the repair from the break menu both name checkout.
#[tokio::test]
async fn lesson_breaks_and_menu_repairs_name_the_workload() {
    let mut src = lab::open("lesson-six-hops", None).unwrap();
    src.world_mut().run_until_stable(Duration::from_secs(600));
    let (lesson, target) = lab::find_lesson(&src, "six-hops").unwrap();
    let snapshot = export::snapshot(src.world());
    let mut app = App::new(snapshot.source.clone(), UiConfig::default());
    app.update(AppEvent::Resize(160, 45));
    let mut sent = faults(app.start_lesson(lab::lesson::LessonRun::new(lesson, target)));
    app.update(AppEvent::Source(SourceEvent::Lab(src.status())));
    app.update(AppEvent::Source(SourceEvent::Snapshot(Arc::new(snapshot))));
    // Step 1 reads out; `n` opens step 2, which breaks the service account.
    sent.extend(faults(key(&mut app, KeyCode::Char('n'))));
    let [
        LabControl::Fault {
            id, apply: true, ..
        },
    ] = sent.as_slice()
    else {
        panic!("{sent:?}")
    };
    assert_eq!(id, "sa-client-id-mismatch");
    // The lab applies it; the app hears so and repairs it from the break menu.
    for c in &sent {
        src.control(c).expect("applies");
    }
    let status = src.status();
    let at = status
        .faults
        .iter()
        .position(|f| f.id == "sa-client-id-mismatch")
        .unwrap();
    app.update(AppEvent::Source(SourceEvent::Lab(status)));
    key(&mut app, KeyCode::Char('b'));
    for _ in 0..at {
        key(&mut app, KeyCode::Down);
    }
    let repair = faults(key(&mut app, KeyCode::Enter));
    assert!(
        matches!(repair.as_slice(), [LabControl::Fault { apply: false, .. }]),
        "{repair:?}"
    );

    // Replayed on a fresh lab through the audit wrapper: the records the log keeps.
    let mut fresh = lab::open("lesson-six-hops", None).unwrap();
    fresh.world_mut().run_until_stable(Duration::from_secs(600));
    let records = audited(fresh, sent.into_iter().chain(repair).collect()).await;
    let got: Vec<(&str, &str)> = records
        .iter()
        .map(|r| (r["action"].as_str().unwrap(), r["target"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "lab-break",
                "fault sa-client-id-mismatch on Deployment shop/checkout"
            ),
            (
                "lab-repair",
                "fault sa-client-id-mismatch on Deployment shop/checkout"
            ),
        ]
    );
}

/// A fault the scenario's timeline applied is repaired from the menu: the lab reports which
/// workload it broke, so the repair record names it as well.
#[test]
fn the_lab_reports_where_every_applied_fault_acted() {
    let mut src = lab::open("healthy", None).unwrap();
    src.world_mut().run_until_stable(Duration::from_secs(600));
    let target = lab::faults::default_target(src.world()).expect("a target");
    src.world_mut()
        .perform(&lab::scenario::LabAction::ApplyFault {
            id: "remove-role-assignment".into(),
        })
        .expect("applies");
    let status = src.status();
    let f = status
        .faults
        .iter()
        .find(|f| f.id == "remove-role-assignment")
        .unwrap();
    assert!(f.active);
    let t = f.target.as_ref().expect("the applied fault's workload");
    assert_eq!(
        (t.kind.as_str(), t.namespace.as_str(), t.name.as_str()),
        (target.0.as_str(), target.1.as_str(), target.2.as_str())
    );
}
