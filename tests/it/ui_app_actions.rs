//! The app state machine's actions: restart, rotation tests and reveal offered, confirmed
//! and refused (read-only, lab-only keys, permissions the source denies), and the timelines
//! a confirmed action starts.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kvchain::action::Action;
use kvchain::action::reveal::RevealTarget;
use kvchain::snapshot::Coll;
use kvchain::source::{LabControl, PermissionQuestion, SourceCommand, SourceEvent};
use kvchain::ui::app::{App, AppEvent, Effect, Mode};
use kvchain::ui::config::UiConfig;
use kvchain::ui::testing::{self, lab_snapshot};
use kvchain::ui::tree::Row;

use super::ui_app::{app, chars, key};

fn with_worker_pod(a: &mut App) {
    let mut snapshot = (**a.snapshot.as_ref().unwrap()).clone();
    snapshot.pods = Coll::known(vec![kvchain::snapshot::PodObs {
        namespace: "payments".into(),
        name: "worker-5c6d-xk2p9".into(),
        owners: vec![kvchain::snapshot::OwnerRef {
            kind: "ReplicaSet".into(),
            name: "worker-5c6d".into(),
            uid: Default::default(),
            controller: true,
        }],
        labels: [("pod-template-hash".to_string(), "5c6d".to_string())].into(),
        ..Default::default()
    }]);
    a.apply(Arc::new(snapshot), testing::demo_chains());
}

#[test]
fn restart_is_offered_on_the_pod_row_and_needs_confirmation() {
    let mut a = app(testing::demo_chains(), UiConfig::default());
    with_worker_pod(&mut a);
    assert!(key(&mut a, KeyCode::Char('R')).is_empty());
    let Mode::Confirm { prompt, .. } = &a.mode else {
        panic!("{:?}", a.mode)
    };
    assert!(
        prompt.contains("Rollout restart Deployment payments/worker")
            && prompt.contains("`kubectl rollout restart deployment worker -n payments`"),
        "{prompt}"
    );
    let fx = key(&mut a, KeyCode::Char('y'));
    assert!(
        matches!(fx.as_slice(), [Effect::Act(Action::Restart { namespace, pod })] if namespace == "payments" && pod == "worker-5c6d-xk2p9")
    );
    // Anything but y cancels.
    key(&mut a, KeyCode::Char('R'));
    assert!(key(&mut a, KeyCode::Char('n')).is_empty());
    assert_eq!(a.mode, Mode::Normal);
}

#[test]
fn read_only_refuses_writes() {
    let cfg = UiConfig {
        read_only: true,
        ..UiConfig::default()
    };
    let mut a = app(testing::demo_chains(), cfg);
    assert!(key(&mut a, KeyCode::Char('R')).is_empty());
    assert_eq!(a.mode, Mode::Normal);
    let msg = &a.message.as_ref().unwrap().0;
    assert!(msg.contains("--read-only"), "{msg}");
}

#[test]
fn lab_keys_send_lab_controls() {
    let mut a = app(testing::demo_chains(), UiConfig::default());
    a.update(AppEvent::Source(SourceEvent::Lab(testing::lab_status())));
    let fx = key(&mut a, KeyCode::Char('p'));
    assert!(matches!(
        fx.as_slice(),
        [Effect::Command(SourceCommand::Lab(LabControl::Pause))]
    ));
    let fx = key(&mut a, KeyCode::Char('+'));
    assert!(matches!(
        fx.as_slice(),
        [Effect::Command(SourceCommand::Lab(LabControl::ScaleSpeed(s)))] if *s == 2.0
    ));
    key(&mut a, KeyCode::Char('b'));
    assert!(matches!(a.mode, Mode::LabMenu { selected: 0 }));
    key(&mut a, KeyCode::Char('j'));
    let fx = key(&mut a, KeyCode::Enter);
    assert!(matches!(
        fx.as_slice(),
        [Effect::Command(SourceCommand::Lab(LabControl::Fault { id, apply: true, .. }))] if id == "no-role"
    ));
    key(&mut a, KeyCode::Esc);
    assert_eq!(a.mode, Mode::Normal);
}

#[test]
fn lab_keys_on_a_live_source_only_explain() {
    let mut snapshot = lab_snapshot("aks-prod");
    snapshot.source.kind = kvchain::snapshot::SourceKind::Live;
    let mut a = App::new(snapshot.source.clone(), UiConfig::default());
    a.apply(Arc::new(snapshot), testing::demo_chains());
    // No lab command is sent (permission questions for the selected pod may be).
    let fx = key(&mut a, KeyCode::Char('p'));
    assert!(
        !fx.iter()
            .any(|e| matches!(e, Effect::Command(SourceCommand::Lab(_)))),
        "{fx:?}"
    );
    assert!(a.message.as_ref().unwrap().0.contains("lab"));
}

#[test]
fn a_successful_restart_starts_a_timeline_and_esc_closes_it() {
    let mut a = app(testing::demo_chains(), UiConfig::default());
    with_worker_pod(&mut a);
    key(&mut a, KeyCode::Char('R'));
    let fx = key(&mut a, KeyCode::Char('y'));
    assert!(matches!(
        fx.as_slice(),
        [Effect::Act(Action::Restart { .. })]
    ));
    assert!(
        a.timeline.is_none(),
        "no timeline before the source confirms"
    );
    a.update(AppEvent::ActionDone(kvchain::action::ActionOutcome {
        ok: true,
        message: "rollout restart of Deployment/worker".into(),
        audit: None,
    }));
    let tl = a.timeline.clone().expect("timeline");
    assert!(!tl.title.is_empty());
    // Each new snapshot feeds the watch.
    a.apply(Arc::new(lab_snapshot("default")), testing::demo_chains());
    assert!(a.timeline.is_some());
    key(&mut a, KeyCode::Esc);
    assert!(a.timeline.is_none());
}

#[test]
fn a_failed_action_starts_no_timeline() {
    let mut a = app(testing::demo_chains(), UiConfig::default());
    key(&mut a, KeyCode::Char('R'));
    key(&mut a, KeyCode::Char('y'));
    a.update(AppEvent::ActionDone(kvchain::action::ActionOutcome {
        ok: false,
        message: "forbidden: cannot patch deployments".into(),
        audit: None,
    }));
    assert!(a.timeline.is_none());
    assert!(a.message.as_ref().unwrap().0.contains("forbidden"));
}

fn ctrl(app: &mut App, c: char) -> Vec<Effect> {
    app.update(AppEvent::Key(KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::CONTROL,
    )))
}

#[test]
fn rotate_on_the_pod_row_picks_its_only_secret_and_needs_y() {
    let mut a = app(testing::demo_chains(), UiConfig::default());
    assert!(matches!(a.tree.selected_row(), Row::Pod(..)));
    assert!(key(&mut a, KeyCode::Char('r')).is_empty());
    let Mode::Confirm { prompt, typed, .. } = &a.mode else {
        panic!("{:?}", a.mode)
    };
    assert!(typed.is_none());
    assert!(
        prompt.contains("secret db-password in vault kv-prod") && prompt.contains("re-stamped"),
        "{prompt}"
    );
    let fx = key(&mut a, KeyCode::Char('y'));
    assert!(
        matches!(fx.as_slice(), [Effect::Act(Action::Rotate { vault, object, marker: false })] if vault == "kv-prod" && object == "db-password"),
        "{fx:?}"
    );
}

#[test]
fn marker_rotation_is_confirmed_only_by_typing_the_object_name() {
    let mut a = app(testing::demo_chains(), UiConfig::default());
    key(&mut a, KeyCode::Char('M'));
    assert!(matches!(&a.mode, Mode::Confirm { typed: Some(t), .. } if t.is_empty()));
    // `y` is just a letter here, and a wrong name cancels.
    assert!(chars(&mut a, "y").is_empty());
    assert!(key(&mut a, KeyCode::Enter).is_empty());
    assert_eq!(a.mode, Mode::Normal);
    assert!(a.message.as_ref().unwrap().0.contains("does not match"));

    key(&mut a, KeyCode::Char('M'));
    chars(&mut a, "db-passwordx");
    key(&mut a, KeyCode::Backspace);
    let fx = key(&mut a, KeyCode::Enter);
    assert!(
        matches!(fx.as_slice(), [Effect::Act(Action::Rotate { object, marker: true, .. })] if object == "db-password"),
        "{fx:?}"
    );
}

#[test]
fn rotate_refuses_a_certificate_object_with_the_reason() {
    let mut a = app(testing::demo_chains(), UiConfig::default());
    key(&mut a, KeyCode::Enter); // open the pod
    key(&mut a, KeyCode::Char('j')); // its SPC
    key(&mut a, KeyCode::Char('l')); // open it
    key(&mut a, KeyCode::Char('j'));
    key(&mut a, KeyCode::Char('j'));
    assert!(matches!(
        a.tree.selected_row(),
        Row::Object { object: 1, .. }
    ));
    assert!(key(&mut a, KeyCode::Char('r')).is_empty());
    assert_eq!(a.mode, Mode::Normal);
    let msg = &a.message.as_ref().unwrap().0;
    assert!(
        msg.contains("tls-cert") && msg.contains("cannot be rotated"),
        "{msg}"
    );
}

#[test]
fn ctrl_u_and_ctrl_w_edit_the_filter() {
    let mut a = app(testing::demo_chains(), UiConfig::default());
    key(&mut a, KeyCode::Char('/'));
    chars(&mut a, "payments worker");
    ctrl(&mut a, 'w');
    assert_eq!(a.filter.text, "payments ");
    ctrl(&mut a, 'u');
    assert_eq!(a.filter.text, "");
    chars(&mut a, "web");
    assert_eq!(a.filter.text, "web");
}

fn live_app() -> App {
    let mut snapshot = lab_snapshot("aks-prod");
    snapshot.source.kind = kvchain::snapshot::SourceKind::Live;
    let mut a = App::new(snapshot.source.clone(), UiConfig::default());
    a.update(AppEvent::Resize(100, 30));
    a.apply(Arc::new(snapshot), testing::demo_chains());
    a
}

fn permission_questions(fx: &[Effect]) -> Vec<(String, PermissionQuestion)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::CheckPermission { key, question } => Some((key.clone(), question.clone())),
            _ => None,
        })
        .collect()
}

/// On a live cluster the app asks, once per object the review names, whether restart and
/// verify are permitted for the selected pod (this snapshot holds no pod objects: keyed by
/// the pod); a denial greys the key and pressing it says why instead of asking
/// for confirmation.
#[test]
fn denied_actions_are_disabled_with_the_reason() {
    let mut a = live_app();
    let asked = permission_questions(&a.update(AppEvent::Tick));
    let keys: Vec<&str> = asked.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "restart: pod payments/worker-5c6d-xk2p9",
            "exec payments/worker-5c6d-xk2p9",
            "rotate kv-prod"
        ],
        "{asked:?}"
    );
    assert!(
        matches!(&asked[0].1, PermissionQuestion::Act(Action::Restart { pod, .. }) if pod == "worker-5c6d-xk2p9")
    );
    // Asked once: the next event asks nothing while the answer is pending.
    assert!(permission_questions(&a.update(AppEvent::Tick)).is_empty());
    assert!(a.available(kvchain::ui::keymap::UiAction::Restart));

    a.update(AppEvent::Permission {
        key: "restart: pod payments/worker-5c6d-xk2p9".into(),
        result: Err(
            "not allowed to patch deployments payments/worker: no RBAC policy matched".into(),
        ),
    });
    a.update(AppEvent::Permission {
        key: "exec payments/worker-5c6d-xk2p9".into(),
        result: Ok(()),
    });
    assert!(!a.available(kvchain::ui::keymap::UiAction::Restart));
    assert!(a.available(kvchain::ui::keymap::UiAction::Verify));
    key(&mut a, KeyCode::Char('R'));
    assert_eq!(a.mode, Mode::Normal, "no confirmation for a denied action");
    let msg = &a.message.as_ref().unwrap().0;
    assert!(
        msg.contains("not permitted") && msg.contains("no RBAC policy matched"),
        "{msg}"
    );

    // ctrl-r asks again: a role binding may have been added meanwhile.
    let fx = ctrl(&mut a, 'r');
    assert_eq!(permission_questions(&fx).len(), 3);
}

/// Key Vault is asked too: the rotation test (`r` and `M`, one question per vault) for the
/// pod's only secret, reveal (`v`) on a vault secret row. A denial greys the keys and pressing
/// one says why instead of asking for confirmation or the value.
#[test]
fn denied_key_vault_actions_are_disabled_with_the_reason() {
    use kvchain::ui::keymap::UiAction;
    let mut a = live_app();
    let asked = permission_questions(&a.update(AppEvent::Tick));
    let rotate: Vec<_> = asked
        .iter()
        .filter(|(k, _)| k.starts_with("rotate"))
        .collect();
    assert_eq!(rotate.len(), 1, "r and M share one question: {asked:?}");
    assert_eq!(rotate[0].0, "rotate kv-prod");
    assert_eq!(
        rotate[0].1,
        PermissionQuestion::Act(Action::Rotate {
            vault: "kv-prod".into(),
            object: "db-password".into(),
            marker: false,
        })
    );
    assert!(a.available(UiAction::Rotate), "pending is not denied");
    let why = "kvchain's Azure identity lacks Microsoft.KeyVault/vaults/secrets/setSecret/action on vault kv-prod (Key Vault Secrets Officer)";
    a.update(AppEvent::Permission {
        key: "rotate kv-prod".into(),
        result: Err(why.into()),
    });
    assert!(!a.available(UiAction::Rotate));
    assert!(!a.available(UiAction::RotateMarker));
    assert_eq!(a.denied(UiAction::Rotate), Some(why));
    assert!(key(&mut a, KeyCode::Char('r')).is_empty());
    assert_eq!(
        a.mode,
        Mode::Normal,
        "no confirmation for a denied rotation"
    );
    let msg = &a.message.as_ref().unwrap().0;
    assert!(
        msg.contains("not permitted") && msg.contains("setSecret/action on vault kv-prod"),
        "{msg}"
    );
    key(&mut a, KeyCode::Char('M'));
    assert_eq!(a.mode, Mode::Normal);

    // Down to the secret's row: reveal is asked for its vault.
    let mut fx = key(&mut a, KeyCode::Enter);
    for c in ['j', 'l', 'j'] {
        fx.extend(key(&mut a, KeyCode::Char(c)));
    }
    assert!(matches!(a.tree.selected_row(), Row::Object { .. }));
    let reveal: Vec<_> = permission_questions(&fx)
        .into_iter()
        .filter(|(k, _)| k.starts_with("reveal"))
        .collect();
    assert_eq!(
        reveal,
        [(
            "reveal kv-prod".to_string(),
            PermissionQuestion::Reveal(RevealTarget::VaultSecret {
                vault: "kv-prod".into(),
                object: "db-password".into(),
                version: None,
            })
        )]
    );
    a.update(AppEvent::Permission {
        key: "reveal kv-prod".into(),
        result: Err("kvchain's Azure identity lacks Microsoft.KeyVault/vaults/secrets/getSecret/action on vault kv-prod (Key Vault Secrets User)".into()),
    });
    let fx = key(&mut a, KeyCode::Char('v'));
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::Reveal(_))),
        "no value asked for: {fx:?}"
    );
    let msg = &a.message.as_ref().unwrap().0;
    assert!(msg.contains("getSecret/action"), "{msg}");
}

#[test]
fn the_lab_asks_no_permission_questions() {
    let mut a = app(testing::demo_chains(), UiConfig::default());
    assert!(permission_questions(&a.update(AppEvent::Tick)).is_empty());
    assert!(a.available(kvchain::ui::keymap::UiAction::Restart));
}
