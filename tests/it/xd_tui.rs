//! Audit XD-tui: the TUI walked by an operator at 80×24 and 120×40. README §TUI: the status
//! bar shows "key hints for the selected row"; a tree row too wide for the pane is shortened
//! (a pod's "keeps the code and drops the link's name, then cuts the pod's name in its
//! middle"), never cut mid-word at the edge. The title cut `1 SPC mounte`, the rows of an SPC
//! no pod mounts, its group, and a pod's SPC and object rows were cut at the border, the bar
//! offered `→ link` and `y copy fix` on rows where they do nothing, and `←`/`→` there said
//! nothing. The world is tests/fixtures/lab/xd-tui-rows.yaml (healthy shop/orders; ledger-kv
//! mounted by no pod, tenantId one digit short: KVC302); its vault values are canaries that no
//! drawn screen may show.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kvchain::snapshot::Snapshot;
use kvchain::source::{SourceEvent, lab};
use kvchain::ui::app::{App, AppEvent, Effect};
use kvchain::ui::tree::Row;

use super::mmm_lab::fixture;
use super::ui_no_data::type_keys;

const CANARY: &str = "CANARY-xdtui";
const WORLD: &str = "xd-tui-rows.yaml";
const LONG_NAMES: &str = "xd-tui-a-cluster-named-as-long-as-an-aks-context.yaml";

fn world() -> Snapshot {
    world_of(WORLD)
}

fn world_of(name: &str) -> Snapshot {
    lab::run_check(fixture(name).to_str().unwrap(), None).expect("scenario")
}

fn tui(size: (u16, u16)) -> App {
    crate::xc_tui::tui(world(), size)
}

fn screen(app: &mut App) -> String {
    crate::xc_tui::screen_without(app, CANARY)
}

/// The status bar's key hints (no message shown).
fn hints(app: &mut App) -> String {
    app.message = None;
    let text = screen(app);
    let bar = text.lines().rev().find(|l| !l.trim().is_empty()).unwrap();
    bar.to_string()
}

fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
    app.update(AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn message(app: &App) -> String {
    app.message
        .as_ref()
        .map(|(m, _)| m.clone())
        .unwrap_or_default()
}

fn select_pod(app: &mut App) {
    let chains = app.chains.clone();
    let i = (app.tree.rows.iter())
        .position(|r| matches!(r, Row::Pod(..)))
        .expect("the pod's row");
    app.tree.select(i, &chains);
}

fn select_spc(app: &mut App) {
    let chains = app.chains.clone();
    let i = (app.tree.rows.iter())
        .position(|r| matches!(r, Row::Spc(..)))
        .expect("the SPC's row");
    app.tree.select(i, &chains);
}

/// The line of the tree pane holding `needle`, its left pane only (80 columns: 32 cells).
fn tree_line(text: &str, needle: &str) -> String {
    (text.lines())
        .map(|l| l.chars().take(32).collect::<String>())
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no {needle:?}:\n{text}"))
}

/// README: "the last message or key hints for the selected row". On the SPC no pod mounts the
/// bar offered `→ link` (no chain, no links); on the cluster row `→ link` and `y copy fix`
/// (nothing to copy); a pod's row offers the link keys and `R`.
#[test]
fn the_status_bar_offers_only_what_applies_to_the_selected_row() {
    let mut app = tui((200, 45));
    assert!(app.selected_spc().is_some(), "ledger-kv is selected first");
    let bar = hints(&mut app);
    assert!(bar.contains("? help") && bar.contains("/ filter"), "{bar}");
    assert!(bar.contains("y copy fix"), "{bar}");
    assert!(!bar.contains("→ link"), "{bar}");
    assert!(!bar.contains("R restart"), "{bar}");

    press(&mut app, KeyCode::Char('g'));
    assert_eq!(app.tree.selected_row(), Row::Cluster);
    let bar = hints(&mut app);
    assert!(bar.contains("? help"), "{bar}");
    assert!(!bar.contains("→ link"), "{bar}");
    assert!(!bar.contains("y copy fix"), "{bar}");

    select_pod(&mut app);
    let bar = hints(&mut app);
    assert!(bar.contains("→ link"), "{bar}");
    assert!(bar.contains("R restart"), "{bar}");
    // A healthy chain has no fix to copy.
    assert!(!bar.contains("y copy fix"), "{bar}");
}

/// README Keys: `←` `→` "previous / next link of the chain"; an SPC no pod mounts has none,
/// nor a namespace or the cluster: the key said nothing and changed nothing on screen. It
/// says why now, as `R`, `r`, `x` do there; `y` on a row of no chain no longer speaks of
/// "this link".
#[test]
fn the_link_keys_and_y_say_plainly_where_they_do_not_apply() {
    let mut app = tui((120, 40));
    let link = app.link;
    press(&mut app, KeyCode::Right);
    assert_eq!(app.link, link);
    assert!(
        message(&app).contains("does not apply: SecretProviderClass/ledger-kv has no pod"),
        "{}",
        message(&app)
    );
    press(&mut app, KeyCode::Char('g'));
    press(&mut app, KeyCode::Left);
    assert!(
        message(&app).contains("←/→ link: select a pod"),
        "{}",
        message(&app)
    );
    let fx = press(&mut app, KeyCode::Char('y'));
    assert!(fx.iter().all(|e| !matches!(e, Effect::Copy(_))), "{fx:?}");
    assert!(
        message(&app).contains("nothing to copy: select a pod"),
        "{}",
        message(&app)
    );
    // The help says so where the tree has such rows, as it does for R, r, x.
    select_spc(&mut app);
    press(&mut app, KeyCode::Char('?'));
    app.update(AppEvent::Resize(200, 60));
    let help = screen(&mut app);
    assert!(
        help.contains("y copies a fix; R, r, x, ← → do not apply"),
        "{help}"
    );
    press(&mut app, KeyCode::Esc);
    // On a pod the keys step the links as before.
    select_pod(&mut app);
    press(&mut app, KeyCode::Char('h'));
    select_pod(&mut app);
    let before = app.link;
    press(&mut app, KeyCode::Right);
    assert_ne!(app.link, before);
    screen(&mut app);
}

/// At 80×24 the tree's title drops `Chains` and says the SPC count in fewer words rather than
/// cut it (`1 SPC mounte`); the SPC's row drops `spc/` (its group says what it is) rather than
/// cut its name; the group's label has a short form; under the pod, the SPC's row drops the
/// vault and the object's row its file name, then cuts the name in its middle.
#[test]
fn at_80x24_the_title_and_rows_keep_words_and_numbers_whole() {
    let mut app = tui((80, 24));
    let text = screen(&mut app);
    assert!(text.contains("┌ 1 pod · 1 SPC no pod mounts ─┐"), "{text}");
    assert!(
        tree_line(&text, "ledger-kv").contains("✗ ledger-kv  KVC302"),
        "{text}"
    );
    assert!(
        tree_line(&text, "(SPCs").contains("✗ (SPCs no pod mounts)"),
        "{text}"
    );

    select_pod(&mut app);
    press(&mut app, KeyCode::Char('l'));
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('l'));
    press(&mut app, KeyCode::Char('j'));
    assert!(matches!(app.tree.selected_row(), Row::Object { .. }));
    let text = screen(&mut app);
    let spc = tree_line(&text, "spc/orders-kv");
    assert!(spc.contains("✓ spc/orders-kv "), "{spc}");
    assert!(!spc.contains('→'), "{spc}");
    let object = tree_line(&text, "secret/");
    assert!(object.contains("✓ secret/orde…word"), "{object}");
    insta::assert_snapshot!(text);

    // At 120 columns the object's file name still gives way, whole; at 200 all is whole.
    app.update(AppEvent::Resize(120, 40));
    let text = screen(&mut app);
    assert!(
        text.contains(" Chains · 1 pod · 1 SPC mounted by no pod "),
        "{text}"
    );
    assert!(text.contains("spc/orders-kv → kv-xdtui-orders"), "{text}");
    assert!(text.contains("✓ secret/orders-db-password  "), "{text}");
    assert!(text.contains("✗ (SPCs mounted by no pod)"), "{text}");
    assert!(text.contains("✗ spc/ledger-kv  KVC302"), "{text}");
    app.update(AppEvent::Resize(200, 60));
    let text = screen(&mut app);
    assert!(
        text.contains("secret/orders-db-password as db-password"),
        "{text}"
    );
    assert!(
        text.contains("(SecretProviderClasses mounted by no pod)"),
        "{text}"
    );
}

/// A filter kept at 80 columns: the counts stay whole, the filter (in the `/` prompt when
/// edited) gives way to `…`.
#[test]
fn a_filter_at_80_columns_leaves_the_counts_whole() {
    let mut app = tui((80, 24));
    type_keys(&mut app, "/orders");
    let text = screen(&mut app);
    assert!(text.contains("┌ 1 pod · 1 SPC unmounted · … ─┐"), "{text}");
    press(&mut app, KeyCode::Esc);
    type_keys(&mut app, "/KVC302");
    let text = screen(&mut app);
    assert!(text.contains("┌ 0 pods · 1 SPC unmounted · … ┐"), "{text}");
}

/// Names as long as a real cluster's (tests/fixtures/lab/xd-tui-a-cluster-named-as-long-as-an-
/// aks-context.yaml): at 80×24 the counts of the cluster and namespace rows fell off the edge
/// and the names were cut there. README §TUI: the title "never cuts a number", a row cuts a
/// name in its middle; the counts stay whole, the names give way.
#[test]
fn long_names_give_way_to_the_counts_at_80_columns() {
    let mut app = crate::xc_tui::tui(world_of(LONG_NAMES), (80, 24));
    let text = screen(&mut app);
    let cluster = tree_line(&text, "lab: ");
    assert!(
        cluster.contains("✗ lab: xd-tui…-context ✗1 ✓1"),
        "{cluster}"
    );
    let ns = tree_line(&text, "storefront");
    assert!(ns.contains("✓ storefront…westeurope ✓1"), "{ns}");
    let workload = tree_line(&text, "Deployment/");
    assert!(workload.contains("✓ Deployment/order…orker"), "{workload}");
    // At 200 columns all is whole.
    app.update(AppEvent::Resize(200, 60));
    let text = screen(&mut app);
    assert!(
        text.contains("lab: xd-tui-a-cluster-named-as-long-as-an-aks-context ✗1 ✓1"),
        "{text}"
    );
    assert!(text.contains("storefront-payments-westeurope ✓1"), "{text}");
    assert!(
        text.contains("Deployment/orders-reconciliation-worker"),
        "{text}"
    );
}

/// The status bar at 80 columns under a long cluster name: `lab
/// xd-tui-a-cluster-named-as-long-as-an-aks-context 09:01:09 ×30  data 0s ✗1 ✓` — the count
/// `✓1` lost its number at the edge (a live context's name, `ctx aks-…-admin`, does the
/// same). The name gives way in its middle; the clock, the data age and the counts stay whole.
#[test]
fn the_status_bar_keeps_its_counts_under_a_long_cluster_name() {
    let mut app = crate::xc_tui::tui(world_of(LONG_NAMES), (80, 24));
    // The lab's clock and speed, as the running lab sends them.
    app.update(AppEvent::Source(SourceEvent::Lab(
        kvchain::ui::testing::lab_status(),
    )));
    let bar = hints(&mut app);
    assert!(bar.contains(" ×60 "), "{bar}");
    assert!(bar.contains("data 0s ✗1 ✓1"), "{bar}");
    assert!(bar.contains(" lab xd-tui"), "{bar}");
    assert!(bar.contains('…'), "{bar}");
    app.update(AppEvent::Resize(200, 60));
    let bar = hints(&mut app);
    assert!(
        bar.contains(" lab xd-tui-a-cluster-named-as-long-as-an-aks-context "),
        "{bar}"
    );
    assert!(bar.contains("data 0s ✗1 ✓1"), "{bar}");
}

/// While an overlay takes the keys — a confirmation, the help, the break menu — the bar's
/// hints were still the tree row's: `y copy fix` under a restart's confirmation, where `y`
/// confirms the restart, and `/ filter`, `→ link` under the help and the menu, where they do
/// nothing. The overlay's border says its keys; the bar offers none of the row's.
#[test]
fn an_overlay_takes_the_bar_hints_away() {
    let mut app = tui((200, 45));
    app.update(AppEvent::Source(SourceEvent::Lab(
        kvchain::ui::testing::lab_status(),
    )));
    select_pod(&mut app);
    let bar = hints(&mut app);
    assert!(
        bar.contains("R restart") && bar.contains("/ filter"),
        "{bar}"
    );
    press(&mut app, KeyCode::Char('R'));
    assert!(
        matches!(app.mode, kvchain::ui::app::Mode::Confirm { .. }),
        "{:?}",
        app.mode
    );
    let bar = hints(&mut app);
    assert!(
        !bar.contains("copy fix") && !bar.contains("filter"),
        "{bar}"
    );
    press(&mut app, KeyCode::Esc);
    for k in ['?', 'b'] {
        press(&mut app, KeyCode::Char(k));
        assert!(
            !matches!(app.mode, kvchain::ui::app::Mode::Normal),
            "{k}: {:?}",
            app.mode
        );
        let bar = hints(&mut app);
        assert!(
            !bar.contains("→ link") && !bar.contains("filter"),
            "{k}: {bar}"
        );
        press(&mut app, KeyCode::Esc);
    }
}
