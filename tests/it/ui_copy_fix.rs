//! What `y` copies and what the status line says about it (README §TUI, Detail): the selected
//! link's cause, or — on a link that is ok or only blocked by an earlier one — the chain's root
//! cause; the status line always names the link and code whose fix was copied (audit OO4: on
//! a ✓ Identity link upstream of the break, `y` copied the Federation fix without saying so).

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kvchain::chain::{Chain, LinkKind, Status};
use kvchain::ui::app::{App, AppEvent, Effect};
use kvchain::ui::config::UiConfig;
use kvchain::ui::testing::{self, healthy_chain, lab_snapshot};

fn app(chains: Vec<Chain>) -> App {
    let snapshot = lab_snapshot("default");
    let mut app = App::new(snapshot.source.clone(), UiConfig::default());
    app.update(AppEvent::Resize(160, 45));
    app.apply(Arc::new(snapshot), chains);
    app
}

fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
    app.update(AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

/// `y` on the selected link: what was copied and what the status line said.
fn copy(a: &mut App, link: LinkKind) -> (String, String) {
    while a.link != link {
        let towards = if a.link.index() < link.index() {
            KeyCode::Right
        } else {
            KeyCode::Left
        };
        key(a, towards);
    }
    let fx = key(a, KeyCode::Char('y'));
    let [Effect::Copy(copied)] = fx.as_slice() else {
        panic!("y on {link:?} copies one command: {fx:?}")
    };
    let (msg, _) = a.message.clone().expect("y says what it copied");
    (copied.clone(), msg)
}

#[test]
fn y_names_the_link_and_code_whose_fix_it_copied() {
    let mut c = healthy_chain("shop", Some("orders"), "orders-1");
    testing::break_link(&mut c, LinkKind::Federation);
    let root = c.link(LinkKind::Federation).findings[0].clone();
    let code = root.code.as_str();
    let fix = root.fix.to_string();
    assert_eq!(c.link(LinkKind::Identity).status, Status::Ok);
    assert_eq!(c.link(LinkKind::Mount).status, Status::Pending);
    let mut a = app(vec![c]);

    // On the broken link: its own cause.
    let (copied, msg) = copy(&mut a, LinkKind::Federation);
    assert_eq!(copied, fix);
    assert_eq!(msg, format!("copied the Federation {code} fix: {fix}"));

    // On the ✓ Identity link upstream of the break: the root cause, and the status line says
    // whose fix it is and that the selected link is ok.
    let (copied, msg) = copy(&mut a, LinkKind::Identity);
    assert_eq!(copied, fix);
    assert_eq!(
        msg,
        format!("copied the Federation {code} fix, the chain's root cause (Identity is ok): {fix}")
    );

    // On a link only blocked by the break: the root cause, named.
    let (copied, msg) = copy(&mut a, LinkKind::Mount);
    assert_eq!(copied, fix);
    assert_eq!(
        msg,
        format!(
            "copied the Federation {code} fix, the chain's root cause (Mount is blocked by it): {fix}"
        )
    );
}
