//! Audit XE-tui: the TUI's words and keys as a trainer and an operator see them. README §TUI:
//! the status bar shows "key hints for the selected row … only those that apply to it"; at 80
//! columns it held `? help  / filter  → link` and none of the keys acting on the row; `r`
//! rotated from a pod's row though only an object's row offered it; `j` on the link strip
//! answered "←/→ link", and `g` there moved the tree; a rotation's verdict said a pod that never
//! mounted keeps its version because "rotation is disabled" (FACTS §1, §4: no
//! SecretProviderClassPodStatus before a successful mount; its mount reads the latest version).
//! Worlds: the built-in `default`, tests/fixtures/lab/xd-tui-rows.yaml and
//! tests/fixtures/lab/xe-tui-rotation-unmounted.yaml; no screen may show their vault values.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kvchain::action::Action;
use kvchain::action::timeline::{RotationWatch, Timeline};
use kvchain::chain::LinkKind;
use kvchain::snapshot::Snapshot;
use kvchain::source::{SourceEvent, lab};
use kvchain::ui::app::{App, AppEvent, Mode, Pane};
use kvchain::ui::tree::Row;

use super::actions_lab::{follow, snapshot, state};
use super::mmm_lab::fixture;
use super::xa_users::reason;

/// The canaries of the worlds used here (the built-in lab's values are `lab-` fakes).
const CANARIES: [&str; 3] = ["CANARY-xetui", "CANARY-xdtui", "CANARY-lab"];

fn screen(app: &mut App) -> String {
    let mut text = String::new();
    for c in CANARIES {
        text = crate::xc_tui::screen_without(app, c);
    }
    text
}

/// The status bar's key hints (no message shown).
fn bar(app: &mut App) -> String {
    app.message = None;
    let text = screen(app);
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap()
        .to_string()
}

fn press(app: &mut App, code: KeyCode) {
    app.update(AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn message(app: &App) -> String {
    (app.message.as_ref()).map_or_else(String::new, |(m, _)| m.clone())
}

fn select(app: &mut App, row: impl Fn(&Row) -> bool) {
    let chains = app.chains.clone();
    let i = app.tree.rows.iter().position(row).expect("the row");
    app.tree.select(i, &chains);
}

fn default_lab(size: (u16, u16)) -> App {
    let snap = lab::run_check("default", None).expect("built-in scenario");
    let mut app = crate::xc_tui::tui(snap, size);
    app.update(AppEvent::Source(SourceEvent::Lab(
        kvchain::ui::testing::lab_status(),
    )));
    app
}

/// At 80×24 with the lab's clock the bar had room for `? help  / filter  → link`: on a broken
/// pod `y copy fix` (the fix the detail names) was left out, and on the cluster row the break
/// menu a trainer opens. The keys of the row come first now, `?` before them; the counts stay
/// whole.
#[test]
fn at_80_columns_the_bar_shows_the_keys_that_act_on_the_row() {
    let mut app = default_lab((80, 24));
    assert!(app.selected_chain().is_some() && app.fix_command().is_some());
    let counts = (screen(&mut app).lines())
        .find(|l| l.contains("lab: default"))
        .and_then(|l| l.split("lab: default ").nth(1))
        .map(|c| c.split('│').next().unwrap().trim().to_string())
        .expect("the cluster row's counts");
    let b = bar(&mut app);
    assert!(b.contains(&format!(" {counts}  ")), "{counts}: {b}");
    assert!(b.contains("? help") && b.contains("y copy fix"), "{b}");
    assert!(b.contains("→ link"), "{b}");
    // On the cluster row: what finds a chain and what breaks one.
    press(&mut app, KeyCode::Char('g'));
    assert_eq!(app.tree.selected_row(), Row::Cluster);
    let b = bar(&mut app);
    assert!(
        b.contains("/ filter") && b.contains("b break/repair"),
        "{b}"
    );
    assert!(!b.contains("→ link") && !b.contains("y copy fix"), "{b}");
    // At 120 columns the row's keys and the rest.
    let mut app = default_lab((120, 40));
    let b = bar(&mut app);
    for hint in ["? help", "/ filter", "→ link", "y copy fix", "R restart"] {
        assert!(b.contains(hint), "{hint}: {b}");
    }
}

/// README Keys: `r` is the rotation test "on the selected Key Vault object — or on a pod whose
/// SPC mounts one secret". The bar offered `r rotate` on object rows only; on such a pod's row
/// `r` opened the confirmation unannounced. Where `r` cannot act it says why, and the bar does
/// not offer it.
#[test]
fn r_is_offered_where_it_rotates_and_says_why_elsewhere() {
    let snap = lab::run_check(fixture("xd-tui-rows.yaml").to_str().unwrap(), None).unwrap();
    let mut app = crate::xc_tui::tui(snap, (200, 45));
    select(&mut app, |r| matches!(r, Row::Pod(..)));
    assert!(bar(&mut app).contains("r rotate"), "{}", bar(&mut app));
    press(&mut app, KeyCode::Char('r'));
    assert!(matches!(app.mode, Mode::Confirm { .. }), "{:?}", app.mode);
    screen(&mut app);
    press(&mut app, KeyCode::Esc);
    // The cluster row: no rotation, said.
    press(&mut app, KeyCode::Char('g'));
    assert!(!bar(&mut app).contains("r rotate"), "{}", bar(&mut app));
    press(&mut app, KeyCode::Char('r'));
    assert_eq!(app.mode, Mode::Normal);
    assert!(
        message(&app).starts_with("rotate: select a pod or one of its Key Vault objects"),
        "{}",
        message(&app)
    );
}

/// README Keys: `tab` gives the strip the focus; there the moving keys step its links. On a row
/// of no chain `j` said "←/→ link: select a pod" (another key than the one pressed, and no way
/// back); `g` selected the tree's first row under the strip's focus, emptying the strip.
#[test]
fn the_moving_keys_on_the_link_strip_say_and_do_what_they_do_there() {
    let mut app = default_lab((120, 40));
    press(&mut app, KeyCode::Char('g'));
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.focus, Pane::Strip);
    press(&mut app, KeyCode::Char('j'));
    let m = message(&app);
    assert!(m.starts_with("j/k on the link strip: select a pod"), "{m}");
    assert!(
        m.ends_with("h returns to the tree") && !m.contains("←/→"),
        "{m}"
    );
    press(&mut app, KeyCode::Char('h'));
    assert_eq!(app.focus, Pane::Tree);
    // On a pod: j steps the links, g and G go to the first and last link, the pod stays.
    select(&mut app, |r| matches!(r, Row::Pod(..)));
    let row = app.tree.selected_row();
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Char('G'));
    assert_eq!((app.link, app.tree.selected_row()), (LinkKind::ALL[8], row));
    press(&mut app, KeyCode::Char('g'));
    assert_eq!((app.link, app.tree.selected_row()), (LinkKind::ALL[0], row));
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(app.link, LinkKind::ALL[1]);
    screen(&mut app);
}

/// `r` on the world of two pods, rotation off, one pod never mounted (KVC104), followed as the
/// TUI follows it: each snapshot with its diagnosis.
fn rotation_over_an_unmounted_pod() -> Timeline {
    const WORLD: &str = "xe-tui-rotation-unmounted.yaml";
    let mut src = lab::open(fixture(WORLD).to_str().unwrap(), None).expect("scenario");
    src.world_mut()
        .run_until_stable(std::time::Duration::from_secs(3600));
    let mut watch = RotationWatch::new(&snapshot(&src), "kv-xetui", "db-password");
    let out = src.act(&Action::Rotate {
        vault: "kv-xetui".into(),
        object: "db-password".into(),
        marker: true,
    });
    assert!(out.ok, "{out:?}");
    follow(&mut src, |s: &Snapshot| {
        watch.observe_diagnosed(s, &kvchain::chain::diagnose(s));
        watch.timeline().finished
    });
    let tl = watch.timeline();
    assert!(!format!("{tl:?}").contains("CANARY-xetui"), "{tl:#?}");
    tl
}

/// `why` says `who`'s volume never mounted and its failing mount's KVC104, and nothing of
/// rotation being off or of "no change observed".
fn says_unmounted(why: &str, who: &str) {
    assert!(
        why.contains(&format!(
            "{who}its volume has not mounted since before the write"
        )),
        "{why}"
    );
    assert!(why.contains("KVC104"), "{why}");
    // In the tree's words: its node has the driver and no ready provider (FACTS §11 'Nodes'),
    // which the strip calls "no provider" (`catalog::label`), not "no driver".
    assert!(
        why.contains("(Pod link: no provider)") && !why.contains("no driver"),
        "{why}"
    );
    for wrong in [
        "rotation is disabled",
        "no change observed",
        "driver and provider logs",
    ] {
        assert!(
            !why.starts_with(wrong) && !why.contains(&format!(": {wrong}")),
            "{why}"
        );
    }
}

/// FACTS §1: the SPCPS is made only after a successful mount; §4: with rotation off an
/// already-mounted path is never re-fetched. `pinned` never mounted: rotation off is not why it
/// lacks the new version (its mount, when it succeeds, reads the latest), its failing mount
/// (KVC104) is. The verdict said "never — rotation is disabled … 1 more of the 2 not reached,
/// for the same reason" and named no pod; its volume "did not move — no change observed".
#[test]
fn a_pod_that_never_mounted_lacks_the_new_version_for_its_mount_not_rotation() {
    let tl = rotation_over_an_unmounted_pod();
    says_unmounted(reason(state(&tl, "pod pinned: mounted version")), "");
    let api = reason(state(&tl, "pod api-"));
    assert!(api.contains("--enable-secret-rotation=false"), "{api}");

    let hop = |name: &str| {
        (tl.verdict.iter())
            .find(|s| s.label.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} in {tl:#?}"))
    };
    let mounted = hop("mounted file");
    assert_eq!(mounted.label, "mounted file (0 of 2)");
    let why = reason(&mounted.state);
    says_unmounted(why, "pod pinned: ");
    assert!(
        why.ends_with("; 1 more of the 2 not reached, each with its own reason in the steps"),
        "{why}"
    );
    says_unmounted(reason(&hop("volumes").state), "pod pinned / pinned: ");
}
