//! Audit XC-tui: the SecretProviderClasses no pod mounts in the TUI. `check`, `serve` and the
//! pictures report each Azure SPC no chain mounts with what is wrong with it on its own (README
//! `check`: "SecretProviderClasses mounted by no pod here (checked on their own)"); the TUI
//! showed none of it — a tree of one green pod over an SPC whose tenantId fails every mount.
//! The world is tests/fixtures/lab/xc-tui-lone-spc.yaml (healthy shop/api; billing-kv, applied
//! before its workload, tenantId one digit short: KVC302, and KVC401); its vault values are
//! canaries that no drawn screen may show.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kvchain::chain::Status;
use kvchain::snapshot::{Coll, Snapshot};
use kvchain::source::{SourceEvent, lab};
use kvchain::suppress::{IgnoreRule, Rules};
use kvchain::ui::app::{App, AppEvent, Effect};
use kvchain::ui::config::UiConfig;
use kvchain::ui::tree::Row;
use kvchain::ui::views;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;

use super::mmm_lab::fixture;
use super::ui_no_data::type_keys;

const CANARY: &str = "CANARY-xctui";
const WORLD: &str = "xc-tui-lone-spc.yaml";

fn world() -> Snapshot {
    lab::run_check(fixture(WORLD).to_str().unwrap(), None).expect("scenario")
}

/// The TUI at `w`×`h` on `snap`, diagnosed as a raw snapshot is (chains and the SPCs no chain
/// mounts, as the runner's diagnoser makes them).
pub(crate) fn tui(snap: Snapshot, (w, h): (u16, u16)) -> App {
    let mut app = App::new(snap.source.clone(), UiConfig::default());
    app.update(AppEvent::Resize(w, h));
    app.update(AppEvent::Source(SourceEvent::Snapshot(Arc::new(snap))));
    app
}

fn screen(app: &mut App) -> String {
    screen_without(app, CANARY)
}

/// The screen `app` draws, asserted free of `canary` (a world's vault values).
pub(crate) fn screen_without(app: &mut App, canary: &str) -> String {
    let (w, h) = (app.size.width, app.size.height);
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| views::draw(f, app)).unwrap();
    let text = t.backend().to_string();
    assert!(!text.contains(canary), "a vault value was drawn:\n{text}");
    text
}

fn key(app: &mut App, c: char) -> Vec<Effect> {
    app.update(AppEvent::Key(KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::NONE,
    )))
}

/// The message of the selected SPC's finding `code`.
fn v_message(app: &App, code: &str) -> String {
    let v = app.selected_spc().expect("an SPC is selected");
    (v.findings.iter())
        .find(|f| f.code.as_str() == code)
        .map(|f| f.message.to_string())
        .unwrap_or_else(|| panic!("no {code}: {v:?}"))
}

fn message(app: &App) -> String {
    app.message
        .as_ref()
        .map(|(m, _)| m.clone())
        .unwrap_or_default()
}

/// The lone SPC is a row of its namespace with its code, the first snapshot lands on it (the
/// only broken thing), its detail has the cause, confirm and fix, `y` copies the fix, and the
/// pod keys say they do not apply.
#[test]
fn an_spc_no_pod_mounts_is_a_row_with_its_findings_and_fix() {
    let mut app = tui(world(), (160, 45));
    let v = app.selected_spc().expect("the broken SPC is selected");
    assert_eq!(
        (v.namespace.as_str(), v.name.as_str()),
        ("billing", "billing-kv")
    );
    assert!(matches!(app.tree.selected_row(), Row::Spc(..)));
    assert_eq!(
        app.tree.row_status(app.tree.selected_row(), &app.chains),
        Status::Broken
    );
    assert!(app.selected_chain().is_none() && app.selected_pod().is_none());

    let text = screen(&mut app);
    assert!(
        text.contains("✗ (SecretProviderClasses mounted by no pod)"),
        "{text}"
    );
    assert!(text.contains("✗ spc/billing-kv  KVC302"), "{text}");
    assert!(
        text.contains("SecretProviderClass · billing/billing-kv"),
        "{text}"
    );
    assert!(text.contains("KVC302 error"), "{text}");
    assert!(
        text.contains("confirm  $ kubectl get secretproviderclass billing-kv -n billing -o yaml"),
        "{text}"
    );
    assert!(
        text.contains("fix      $ kubectl edit secretproviderclass billing-kv -n billing"),
        "{text}"
    );
    assert!(text.contains("KVC401 warning"), "{text}");
    assert!(
        text.contains("SecretProviderClass/billing-kv (mounted by no pod): no pod events"),
        "{text}"
    );

    let fx = key(&mut app, 'y');
    assert!(
        fx.iter().any(|e| matches!(e, Effect::Copy(c)
            if c == "kubectl edit secretproviderclass billing-kv -n billing")),
        "{fx:?}"
    );
    assert!(
        message(&app).starts_with("copied the KVC302 fix of SecretProviderClass/billing-kv"),
        "{}",
        message(&app)
    );
    for k in ['R', 'r', 'x', 'M', 'v'] {
        let fx = key(&mut app, k);
        assert!(
            fx.iter()
                .all(|e| !matches!(e, Effect::Act(_) | Effect::Reveal(_))),
            "{k}: {fx:?}"
        );
        assert!(
            message(&app)
                .contains("does not apply: SecretProviderClass/billing-kv is mounted by no pod"),
            "{k}: {}",
            message(&app)
        );
    }
    // Events in full text: still no value.
    key(&mut app, 'e');
    screen(&mut app);
    // The help says which keys work on such a row, where the tree has one.
    key(&mut app, '?');
    let help = screen(&mut app);
    assert!(
        help.contains("spc/NAME rows of \"(SecretProviderClasses mounted by no"),
        "{help}"
    );
    assert!(
        help.contains("y copies a fix; R, r, x, ← → do not apply"),
        "{help}"
    );
}

/// The counts: the tree's title counts it apart from the pods as `check`'s headline does
/// ("1 SPC mounted by no pod"), the cluster row and the status bar count it by its status, so
/// neither reads all green; filters treat its row as they treat a chain's.
#[test]
fn the_counts_and_filters_include_the_spc_no_pod_mounts() {
    let mut app = tui(world(), (120, 40));
    assert_eq!(app.tree.pods(), 1);
    assert_eq!(app.tree.counts.get(Status::Broken), 1);
    assert_eq!(
        app.tree.row_status(Row::Cluster, &app.chains),
        Status::Broken
    );
    let text = screen(&mut app);
    assert!(
        text.contains("Chains · 1 pod · 1 SPC mounted by no pod "),
        "{text}"
    );
    assert!(text.contains("lab: xc-tui-lone-spc ✗1 ✓1"), "{text}");
    assert!(text.contains("billing ✗1"), "{text}");
    let status = text.lines().rev().find(|l| !l.trim().is_empty()).unwrap();
    assert!(status.contains("✗1 ✓1"), "{status}");

    // Its code, its status word and its name match it; a pod's name does not.
    for (filter, spc) in [
        ("KVC302", true),
        ("broken", true),
        ("billing-kv", true),
        ("api", false),
    ] {
        type_keys(&mut app, &format!("/{filter}"));
        let shown = app.tree.rows.iter().any(|r| matches!(r, Row::Spc(..)));
        assert_eq!(shown, spc, "/{filter}");
        if spc {
            assert!(app.selected_spc().is_some(), "/{filter} lands on it");
            assert_eq!(app.tree.spcs.shown, 1);
            assert!(
                message(&app).contains("1 SPC no pod mounts"),
                "{}",
                message(&app)
            );
        }
        app.update(AppEvent::Key(KeyEvent::new(
            KeyCode::Esc,
            KeyModifiers::NONE,
        )));
    }
    // A namespace chosen with `:ns` keeps only its rows.
    type_keys(&mut app, ":ns shop");
    assert_eq!(app.tree.spcs.shown, 0);
    assert!(!screen(&mut app).contains("spc/billing-kv"));
    type_keys(&mut app, ":ns billing");
    assert_eq!(app.tree.spcs.shown, 1);
    assert!(screen(&mut app).contains("spc/billing-kv  KVC302"));
}

/// With the pods unread, an SPC no chain was seen to mount is not known to be mounted by no
/// pod (audit SS2: unknown is not absent): the row, the title and the detail say so.
#[test]
fn with_the_pods_unread_the_spc_is_not_known_to_be_mounted() {
    let mut snap = world();
    snap.pods = Coll::unknown("cannot list pods at the cluster scope: forbidden");
    let mut app = tui(snap, (200, 45));
    type_keys(&mut app, "/billing-kv");
    assert_eq!(
        app.selected_spc().map(|v| v.name.as_str()),
        Some("billing-kv")
    );
    let text = screen(&mut app);
    assert!(
        text.contains("✗ (SecretProviderClasses not known to be mounted: pods unread)"),
        "{text}"
    );
    assert!(text.contains("✗ spc/billing-kv  KVC302"), "{text}");
    assert!(
        text.contains("SPCs not known to be mounted")
            || text.contains("SPC not known to be mounted"),
        "{text}"
    );
    let title = text.lines().find(|l| l.contains("Chains ·")).unwrap();
    assert!(!title.contains("mounted by no pod"), "{title}");
    // The detail says why, after the findings (they come first, to be in view at 80×24).
    let v = app.selected_spc().unwrap();
    let detail =
        kvchain::ui::testing::lines_text(&views::spc_detail::lines(&app.theme, v, 400, false));
    assert!(
        detail.contains(
            "Pods unread (cannot list pods at the cluster scope: forbidden): a pod may mount it."
        ),
        "{detail}"
    );
    key(&mut app, 'R');
    assert!(
        message(&app).contains("is not known to be mounted (pods unread)"),
        "{}",
        message(&app)
    );
    // Its KVC401 says the same: no pod was seen not to mount it (audit SS2), `check` alike.
    let kvc401 = v_message(&app, "KVC401");
    assert!(
        kvc401.contains(
            "is not known to be mounted (pods unread), and no service account of namespace billing"
        ),
        "{kvc401}"
    );
    assert!(!kvc401.contains("mounted by no pod"), "{kvc401}");
}

/// The runner's diagnoser hands the App the SPC verdicts with the chains, made off the UI task
/// with the config's `ignore:` rules applied as `check` applies them.
#[tokio::test]
async fn the_diagnoser_sends_the_spc_verdicts_with_the_chains() {
    let rules = Rules::new(&[IgnoreRule {
        code: "KVC401".into(),
        namespace: Some("billing".into()),
        resource: None,
        reason: Some("its workload comes next week".into()),
    }])
    .expect("valid rule");
    let (stx, srx) = mpsc::unbounded_channel();
    let (atx, mut arx) = mpsc::unbounded_channel();
    let task = tokio::spawn(kvchain::ui::diagnoser_with(srx, atx, rules));
    stx.send(SourceEvent::Snapshot(Arc::new(world()))).unwrap();
    let event = loop {
        match arx.recv().await.expect("the diagnoser runs") {
            e @ AppEvent::Diagnosed { .. } => break e,
            _ => continue,
        }
    };
    let AppEvent::Diagnosed { spcs, .. } = &event else {
        unreachable!()
    };
    assert_eq!(spcs.len(), 1, "{spcs:?}");
    let codes: Vec<(&str, bool)> = (spcs[0].findings.iter())
        .map(|f| (f.code.as_str(), f.suppressed.is_some()))
        .collect();
    assert_eq!(codes, [("KVC302", false), ("KVC401", true)]);
    let snap = world();
    let mut app = App::new(snap.source.clone(), UiConfig::default());
    app.update(AppEvent::Resize(80, 24));
    app.update(event);
    assert_eq!(
        app.selected_spc().map(|v| v.name.as_str()),
        Some("billing-kv")
    );
    drop(stx);
    task.await.unwrap();
}

/// At 80×24 the row keeps its name and code (its label goes first), the detail its fix: an
/// insta snapshot of the screen.
#[test]
fn the_spc_row_and_detail_at_80x24() {
    let mut app = tui(world(), (80, 24));
    let text = screen(&mut app);
    assert!(text.contains("KVC302"), "{text}");
    assert!(text.contains("1 SPC no pod mounts"), "{text}");
    insta::assert_snapshot!(text);
}

/// KVC710: a StatefulSet's claim template replaces its CSI volume, so no pod mounts the SPC
/// (tests/fixtures/lab/claim-replaces-csi.yaml). The TUI showed the set's pod waiting and
/// nothing of why; the SPC's row carries KVC710 and its detail the finding.
#[test]
fn a_claim_template_that_replaces_the_csi_volume_shows_kvc710() {
    let snap = lab::run_check(fixture("claim-replaces-csi.yaml").to_str().unwrap(), None)
        .expect("scenario");
    let mut app = tui(snap, (160, 45));
    type_keys(&mut app, "/KVC710");
    let v = app.selected_spc().expect("api-kv is selected");
    assert_eq!(v.name, "api-kv");
    let mut t = Terminal::new(TestBackend::new(160, 45)).unwrap();
    t.draw(|f| views::draw(f, &mut app)).unwrap();
    let text = t.backend().to_string();
    assert!(!text.contains("CANARY-claim-lab"), "{text}");
    assert!(text.contains("✗ spc/api-kv  KVC710"), "{text}");
    assert!(text.contains("KVC710 error"), "{text}");
}
