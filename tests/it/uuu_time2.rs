//! Audit UUU-time2: the lab's `r` / `M` status message says what the live one says (README `r`:
//! "by default the current value re-stamped (no functional change); `M` writes a marker value
//! instead"; the live source's outcome: `new version … of <vault>/<object> written (same value
//! re-stamped)` / `(marker value)`), in no more than two status rows at 80 columns.

use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kvchain::action::Action;
use kvchain::source::SourceEvent;
use kvchain::source::lab::{self, LabSource, export};
use kvchain::ui::app::{App, AppEvent, Effect};
use kvchain::ui::config::UiConfig;

fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
    app.update(AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

/// `demo healthy` at 80×24, the lab run for `settle`, a checkout pod selected.
pub(crate) fn on_a_checkout_pod(settle: Duration) -> (LabSource, App) {
    let mut src: LabSource = lab::open("healthy", None).expect("built-in scenario");
    src.world_mut().run_until_stable(settle);
    let snapshot = export::snapshot(src.world());
    let mut app = App::new(snapshot.source.clone(), UiConfig::default());
    app.update(AppEvent::Resize(80, 24));
    app.update(AppEvent::Source(SourceEvent::Lab(src.status())));
    app.update(AppEvent::Source(SourceEvent::Snapshot(Arc::new(snapshot))));
    super::ui_timelines::select_pod(&mut app, "checkout-");
    (src, app)
}

/// The action `keys` confirm, pressed one after another.
pub(crate) fn confirmed(app: &mut App, keys: &[KeyCode]) -> Action {
    let mut fx = Vec::new();
    for k in keys {
        fx = key(app, *k);
    }
    let Some(Effect::Act(action)) = fx.into_iter().find(|e| matches!(e, Effect::Act(_))) else {
        panic!("no action confirmed: {:?}", app.message);
    };
    action
}

/// `demo healthy` at 80×24 on a checkout pod, the keys pressed, the confirmed action carried
/// out by the lab as the runner does: the status bar's message and its rows.
fn said_after(keys: &[KeyCode]) -> (String, u16) {
    let (mut src, mut app) = on_a_checkout_pod(Duration::from_secs(3600));
    let action = confirmed(&mut app, keys);
    assert!(matches!(action, Action::Rotate { .. }), "{action:?}");
    let outcome = src.act(&action);
    assert!(outcome.ok, "{outcome:?}");
    app.update(AppEvent::ActionDone(outcome));
    let said = app.message.clone().expect("a message").0;
    (said, app.areas().status.height)
}

#[test]
fn the_labs_rotation_message_says_what_was_written_in_two_rows_at_80_columns() {
    let (said, rows) = said_after(&[KeyCode::Char('r'), KeyCode::Char('y')]);
    assert!(
        said.contains("kv-shop-lab/checkout-db-password written (same value re-stamped)"),
        "{said}"
    );
    assert!(rows <= 2, "{rows} rows: {said}");

    let mut marker = vec![KeyCode::Char('M')];
    marker.extend("checkout-db-password".chars().map(KeyCode::Char));
    marker.push(KeyCode::Enter);
    let (said, rows) = said_after(&marker);
    assert!(
        said.contains("kv-shop-lab/checkout-db-password written (marker value)"),
        "{said}"
    );
    assert!(rows <= 2, "{rows} rows: {said}");
}

/// The restore after a marker (README `M`: "the value of the version before the marker is
/// written as a new version") is said as the live one says it too (`… written (value of
/// version … restored)`), its two version ids cut so it fits the bar.
#[test]
fn the_labs_restore_message_says_what_was_written() {
    let mut src: LabSource = lab::open("healthy", None).expect("built-in scenario");
    src.world_mut().run_until_stable(Duration::from_secs(3600));
    let object = "checkout-db-password";
    let before = export::snapshot(src.world());
    let old = (before.azure.objects.iter())
        .filter(|o| o.name == object)
        .find_map(|o| o.state.known().cloned().flatten())
        .and_then(|o| o.latest().map(|v| v.version.to_string()))
        .expect("the secret's latest version");
    let vault = "kv-shop-lab".to_string();
    let marker = Action::Rotate {
        vault: vault.clone(),
        object: object.into(),
        marker: true,
    };
    assert!(src.act(&marker).ok);
    let restore = Action::Restore {
        vault,
        object: object.into(),
        version: old.clone(),
    };
    let out = src.act(&restore);
    assert!(out.ok, "{out:?}");
    let said = format!("written (value of version {}… restored)", &old[..8]);
    let m = &out.message;
    assert!(m.contains(&said), "{m}");
    assert!(
        m.starts_with("new version ")
            && m.contains(" of kv-shop-lab/checkout-db-password ")
            && !m.contains(&old),
        "{m}"
    );
}
