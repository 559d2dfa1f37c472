//! README "Actions": permissions are asked ahead of time with a SelfSubjectAccessReview that
//! names the object written (the Deployment a rollout restart patches, the pod exec runs in).
//! RBAC may allow one object and not its neighbour (`resourceNames`), so an answer holds for
//! the object it was asked about, never for another workload.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kvchain::action::Action;
use kvchain::chain::testkit as tk;
use kvchain::snapshot::SourceKind;
use kvchain::source::PermissionQuestion;
use kvchain::ui::app::{App, AppEvent, Effect};
use kvchain::ui::config::UiConfig;
use kvchain::ui::keymap::UiAction;

/// A live cluster with Deployments `web` (two pods) and `billing` in `shop`.
fn live_app() -> App {
    let mut s = tk::empty();
    tk::add_app(&mut s, "shop", "web", 2);
    tk::add_app(&mut s, "shop", "billing", 1);
    s.source.kind = SourceKind::Live;
    let chains = kvchain::chain::diagnose(&s);
    let mut a = App::new(s.source.clone(), UiConfig::default());
    a.update(AppEvent::Resize(120, 35));
    a.apply(Arc::new(s), chains);
    a
}

/// Moves the selection to `pod` and returns the permission questions asked on the way there.
fn select(a: &mut App, pod: &str) -> Vec<(String, PermissionQuestion)> {
    let press = |a: &mut App, c: char| {
        questions(&a.update(AppEvent::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::NONE,
        ))))
    };
    let mut asked = press(a, 'g');
    for _ in 0..a.tree.rows.len() {
        asked.extend(questions(&a.update(AppEvent::Tick)));
        if a.selected_pod().is_some_and(|(_, p)| p == pod) {
            return asked;
        }
        asked.extend(press(a, 'j'));
    }
    panic!("{pod} is not in the tree")
}

fn questions(fx: &[Effect]) -> Vec<(String, PermissionQuestion)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::CheckPermission { key, question } => Some((key.clone(), question.clone())),
            _ => None,
        })
        .collect()
}

fn restart_key(asked: &[(String, PermissionQuestion)], pod: &str) -> String {
    asked
        .iter()
        .find(|(_, q)| matches!(q, PermissionQuestion::Act(Action::Restart { pod: p, .. }) if p == pod))
        .map(|(k, _)| k.clone())
        .unwrap_or_else(|| panic!("no restart question for {pod}: {asked:?}"))
}

#[test]
fn a_restart_refused_for_one_deployment_does_not_refuse_another() {
    let mut a = live_app();
    let billing_pod = tk::pod_name("billing", 0);
    let web_pod = tk::pod_name("web", 0);

    let asked = select(&mut a, &billing_pod);
    let billing = restart_key(&asked, &billing_pod);
    assert!(billing.contains("deployments shop/billing"), "{billing}");
    a.update(AppEvent::Permission {
        key: billing.clone(),
        result: Err("not allowed to patch deployments shop/billing".into()),
    });
    assert!(!a.available(UiAction::Restart));

    // Deployment/web is another object: asked about by name, not refused with billing's answer.
    let asked = select(&mut a, &web_pod);
    let web = restart_key(&asked, &web_pod);
    assert_ne!(web, billing);
    assert!(web.contains("deployments shop/web"), "{web}");
    assert!(a.available(UiAction::Restart), "pending is not denied");
    assert_eq!(a.denied(UiAction::Restart), None);

    // The web pods share the Deployment their restart patches: one question for both.
    a.update(AppEvent::Permission {
        key: web.clone(),
        result: Ok(()),
    });
    let asked = select(&mut a, &tk::pod_name("web", 1));
    assert!(
        asked.iter().all(|(k, _)| k != &web),
        "asked again for the same Deployment: {asked:?}"
    );
    assert!(a.available(UiAction::Restart));
}

#[test]
fn exec_is_asked_per_pod_as_its_review_names_the_pod() {
    let mut a = live_app();
    let exec_keys = |asked: &[(String, PermissionQuestion)]| -> Vec<String> {
        asked
            .iter()
            .filter(|(_, q)| matches!(q, PermissionQuestion::Act(Action::Verify { .. })))
            .map(|(k, _)| k.clone())
            .collect()
    };
    let mut asked = select(&mut a, &tk::pod_name("web", 0));
    asked.extend(select(&mut a, &tk::pod_name("billing", 0)));
    let mut keys = exec_keys(&asked);
    keys.sort();
    assert_eq!(
        keys,
        [
            format!("exec shop/{}", tk::pod_name("billing", 0)),
            format!("exec shop/{}", tk::pod_name("web", 0)),
        ]
    );
}
