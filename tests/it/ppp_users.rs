//! Audit PPP-users: what an operator, a trainer and a developer read in the TUI, checked
//! against README and FACTS.

use std::time::Duration;

use kvchain::chain::{LinkKind, diagnose};
use kvchain::source::Source as _;
use kvchain::source::lab::{self, export};
use kvchain::ui::theme::Theme;
use kvchain::ui::views::detail::{link_lines, link_lines_with};

/// The healthy lab after the trainer's six-hops walk up to hop 4: the role assignment removed
/// (a rotation poll fails 403), repaired (the next poll succeeds), then the SPC `objects`
/// YAML broken. Access is unknown then, and keeps the old 403 as history.
fn access_after_a_repaired_403_then_broken_objects() -> (kvchain::chain::Chain, String) {
    let snapshot = super::ui_event_tags::healthy_after(&[
        ("remove-role-assignment", true),
        ("remove-role-assignment", false),
        ("break-objects-yaml", true),
    ]);
    let chain = diagnose(&snapshot)
        .into_iter()
        .find(|c| {
            c.link(LinkKind::Access)
                .facts
                .iter()
                .any(|f| f.label.starts_with("history"))
        })
        .expect("a chain whose Access link keeps the 403 as history");
    let event = (snapshot.events.items.iter())
        .find(|e| e.involved_name == chain.pod.as_str() && e.message.contains("ForbiddenByRbac"))
        .expect("the 403 event")
        .message
        .clone();
    (chain, event)
}

use kvchain::ui::testing::lines_text as text;

/// README "TUI", Events: "A FailedMount carrying a whole HTTP dump is shown by its decisive
/// line — status, error code, message … `e` shows the full text here and in the detail
/// pane's evidence". A past event kept on a link as history ("history (KVC501, KVC502 or KVC503)") is such an
/// event too: the detail pane printed its whole dump (request line, dashes, the pretty JSON
/// body with its `\r\n`s), fifteen lines at 160 columns that pushed the reason it is history
/// out of view. It reads as the evidence does: the decisive line, then why it is history;
/// `e` shows it whole.
#[test]
fn a_history_fact_shows_its_events_decisive_line_until_e() {
    let (chain, event) = access_after_a_repaired_403_then_broken_objects();
    let access = chain.link(LinkKind::Access);
    let t = Theme::default_theme();
    let short = text(&link_lines(&t, &chain, access, 94));
    let history = (short.lines())
        .find(|l| l.starts_with("history"))
        .expect("a history line");
    assert!(
        history.contains("RESPONSE 403") && history.contains("Caller is not authorized"),
        "the decisive line: {short}"
    );
    for raw in ["-----", "DenyAssignmentId", "\\r\\n", "\"error\": {"] {
        assert!(!short.contains(raw), "{raw:?} of the dump shown: {short}");
    }
    let fact = (access.facts.iter())
        .find(|f| f.label.starts_with("history"))
        .expect("history fact");
    let why = fact
        .observed
        .rsplit_once(" — ")
        .expect("the fact says why it is history")
        .1;
    assert!(history.ends_with(why), "why it is history: {short}");
    // `e`: the whole event, as the evidence's full text.
    let full = text(&link_lines_with(&t, &chain, access, 94, true));
    assert!(full.contains("DenyAssignmentId"), "{full}");
    assert!(event.contains("DenyAssignmentId"));
}

/// `demo subpath`, as a developer checks rotation by eye: `M` writes a marker, `M` again
/// restores the old value. billing's subPath copy of the CSI file took that value at start,
/// so KVC901 is info ("holds the same value"). Its SecretProviderClass has no
/// `secretObjects` (Sync reads "no sync"): the copy is of a file the driver mounts, and no
/// synced Secret is in its path (FACTS §4: the driver writes the files; §2: a Secret only
/// from `secretObjects`). The finding and its fix asked whether "the Secret held another
/// value" — a Secret that does not exist.
#[test]
fn a_same_value_csi_sub_path_copy_names_no_secret() {
    use crate::lab_restamp_copies::{marker, restore};
    let mut src = crate::actions_lab::settled("subpath");
    let (_, old) = marker(&mut src, "billing-api-key");
    let _ = restore(&mut src, "billing-api-key", old);
    let chains = diagnose(&crate::actions_lab::snapshot(&src));
    let f = (chains.iter())
        .flat_map(|c| c.findings())
        .find(|f| f.code == kvchain::chain::Code::KVC901 && f.message.contains("subPath"))
        .expect("KVC901 on billing's subPath copy");
    assert_eq!(f.severity, kvchain::chain::Severity::Info, "{f:#?}");
    assert!(
        f.message
            .contains("unless the SecretProviderClass's objects were edited since"),
        "{f:#?}"
    );
    for text in [f.message.as_str(), f.fix.as_str()] {
        assert!(!text.contains("Secret held"), "{text}");
        assert!(!text.contains("KVC805"), "{text}");
    }
}

/// The operator on the lab types `:ns default` or `:ns kube-system`: the status line said
/// "namespace default does not exist (namespaces: shop)". Kubernetes starts every cluster with
/// four namespaces — default, kube-node-lease, kube-public, kube-system (Kubernetes docs,
/// "Namespaces", Initial namespaces) — and the simulated AKS runs its CSI driver in
/// kube-system (FACTS §4; KVC702's confirm looks there). They exist, without chains; a typo
/// still does not.
#[test]
fn ns_on_the_lab_knows_the_namespaces_every_cluster_starts_with() {
    use kvchain::ui::app::{App, AppEvent};
    use kvchain::ui::config::UiConfig;
    let snap = lab::run_check("default", None).expect("built-in scenario");
    let chains = diagnose(&snap);
    let mut app = App::new(snap.source.clone(), UiConfig::default());
    app.update(AppEvent::Resize(120, 30));
    app.apply(std::sync::Arc::new(snap), chains);
    let status = |app: &App| app.message.as_ref().map(|(t, _)| t.clone());
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        crate::ui_no_data::type_keys(&mut app, &format!(":ns {ns}"));
        assert_eq!(
            status(&app).as_deref(),
            Some(format!("no chains in namespace {ns}").as_str())
        );
    }
    crate::ui_no_data::type_keys(&mut app, ":ns kube-sytem");
    assert_eq!(
        status(&app).as_deref(),
        Some("namespace kube-sytem does not exist (namespaces: shop)")
    );
}

/// The detail pane's `object` line named every finding's object with the chain's namespace:
/// `ManagedIdentity/id-orders (shop)`, `KeyVault/kv-shop-lab (shop)`,
/// `CSIDriver/secrets-store.csi.k8s.io (shop)`. A managed identity and a vault live in an
/// Azure resource group (FACTS §7, §5), a CSIDriver is cluster-scoped (Kubernetes API: `kubectl
/// api-resources --namespaced=false`): none is in namespace shop. Objects a namespace holds
/// keep it.
#[test]
fn the_object_line_names_a_namespace_only_for_objects_in_one() {
    let t = Theme::default_theme();
    let mut seen = std::collections::BTreeSet::new();
    for scenario in ["default", "rotation-disabled"] {
        let snap = lab::run_check(scenario, None).expect("built-in scenario");
        for chain in diagnose(&snap) {
            for link in &chain.links {
                for f in &link.findings {
                    let shown = text(&link_lines(&t, &chain, link, 400));
                    let line = (shown.lines())
                        .find(|l| {
                            l.trim_start().starts_with("object ") && l.contains(f.resource.as_str())
                        })
                        .unwrap_or_else(|| panic!("an object line for {}: {shown}", f.resource));
                    let kind = f.resource.split('/').next().unwrap_or_default();
                    let namespaced = !["KeyVault", "ManagedIdentity", "CSIDriver"].contains(&kind);
                    assert_eq!(
                        line.ends_with(&format!("{} ({})", f.resource, f.namespace)),
                        namespaced,
                        "{line}"
                    );
                    seen.insert(kind.to_string());
                }
            }
        }
    }
    for kind in [
        "KeyVault",
        "ManagedIdentity",
        "CSIDriver",
        "Pod",
        "Deployment",
    ] {
        assert!(seen.contains(kind), "a {kind} finding among {seen:?}");
    }
}

/// README "Actions": "A write (`r`, `M`, `R`) is always confirmed first with the exact
/// operation spelled out"; README "TUI": below 80×24 only "terminal too small" is drawn. Keys
/// still acted behind that notice: `R` then `y` restarted a Deployment whose confirmation was
/// never on screen, `b` then `enter` broke the lab through a menu never drawn, and a
/// confirmation opened before the terminal shrank was accepted unseen. While the terminal is
/// too small only quitting works; a confirmation open before stays open for when it fits.
#[test]
fn keys_behind_the_too_small_notice_do_nothing_but_quit() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use kvchain::action::Action;
    use kvchain::source::{LabControl, SourceCommand};
    use kvchain::ui::app::{App, AppEvent, Effect, Mode};
    use kvchain::ui::config::UiConfig;

    let app_at = |w: u16, h: u16| {
        let snap = lab::run_check("default", None).expect("built-in scenario");
        let chains = diagnose(&snap);
        let mut app = App::new(snap.source.clone(), UiConfig::default());
        app.update(AppEvent::Resize(w, h));
        app.apply(std::sync::Arc::new(snap), chains);
        app
    };
    let key = |app: &mut App, code: KeyCode| {
        app.update(AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)))
    };
    let restarts = |fx: &[Effect]| {
        fx.iter()
            .any(|e| matches!(e, Effect::Act(Action::Restart { .. })))
    };
    let breaks = |fx: &[Effect]| {
        fx.iter().any(|e| {
            matches!(
                e,
                Effect::Command(SourceCommand::Lab(LabControl::Fault { .. }))
            )
        })
    };

    // Seen: the keys act.
    let mut app = app_at(120, 30);
    key(&mut app, KeyCode::Char('R'));
    assert!(restarts(&key(&mut app, KeyCode::Char('y'))));

    // Unseen: nothing happens, quitting still works.
    let mut app = app_at(60, 20);
    key(&mut app, KeyCode::Char('R'));
    assert!(!restarts(&key(&mut app, KeyCode::Char('y'))));
    key(&mut app, KeyCode::Char('b'));
    assert!(!breaks(&key(&mut app, KeyCode::Enter)));
    assert_eq!(app.mode, Mode::Normal);
    assert!(matches!(
        key(&mut app, KeyCode::Char('q')).as_slice(),
        [Effect::Quit]
    ));

    // A confirmation shown, then hidden by a resize: kept, accepted only once seen again.
    let mut app = app_at(120, 30);
    key(&mut app, KeyCode::Char('R'));
    app.update(AppEvent::Resize(70, 20));
    assert!(!restarts(&key(&mut app, KeyCode::Char('y'))));
    app.update(AppEvent::Resize(120, 30));
    assert!(matches!(app.mode, Mode::Confirm { .. }), "{:?}", app.mode);
    assert!(restarts(&key(&mut app, KeyCode::Char('y'))));
}

/// The lab source sends its world (a snapshot) whenever it changes but its clock (the lab
/// status) once a second: at ×30 the status bar's clock was up to 30 lab seconds behind the
/// world shown under it. `demo default` read "09:01:39" beside `✗10 !9 ✓5` and a KVC901 saying
/// "Secret cart-redis … changed at 09:02:00Z", where `check --lab default --for 1m39s` says
/// 9 errors and 5 warnings. README "Lab": the TUI and `check --lab … --for` see the same world
/// at the same lab time; the status bar names the lab clock. The clock shown is the time of
/// the world shown, in the status bar and the break menu's title.
#[test]
fn the_lab_clock_shown_is_the_time_of_the_world_shown() {
    use kvchain::source::SourceEvent;
    use kvchain::ui::app::{App, AppEvent, Mode};
    use kvchain::ui::config::UiConfig;
    use kvchain::ui::views::status::source_label;

    let mut src = lab::open("default", None).expect("built-in scenario");
    let info = src.info();
    let mut app = App::new(info, UiConfig::default());
    app.update(AppEvent::Resize(160, 50));
    src.world_mut().advance(Duration::from_secs(99));
    app.update(AppEvent::Source(SourceEvent::Lab(src.status())));
    // Then the world moves on, and its snapshot arrives before the next status.
    src.world_mut().advance(Duration::from_secs(21));
    let snap = export::snapshot(src.world());
    let chains = diagnose(&snap);
    app.apply(std::sync::Arc::new(snap), chains);
    let label = source_label(&app);
    assert!(label.contains("09:02:00"), "{label}");
    // The break menu's title too.
    app.mode = Mode::LabMenu { selected: 0 };
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(160, 50)).unwrap();
    t.draw(|f| kvchain::ui::views::draw(f, &mut app)).unwrap();
    let screen: String = (t.backend().buffer().content().iter())
        .map(|c| c.symbol())
        .collect();
    assert!(screen.contains("clock 09:02:00"), "{screen}");
}

/// `demo default`, catalog's pod: the strip has one red box, Object (KVC601, the secret is not
/// in the vault), and draws Mount "… not reached" (README "TUI": a link a break upstream kept
/// from being tried, "so the one red box is the cause"). The events pane tagged the kubelet's
/// "Unable to attach or mount volumes … timed out waiting for the condition" (FACTS §3: emitted
/// after repeated mount failures) [Mount], a second cause beside it: it is the 404's symptom
/// and takes the cause's tag, as an event a finding cites does.
#[test]
fn an_event_of_a_link_not_reached_is_tagged_with_the_cause() {
    use kvchain::ui::app::{App, AppEvent};
    use kvchain::ui::config::UiConfig;

    let snap = lab::run_check("default", Some(Duration::from_secs(300))).expect("scenario");
    let chains = diagnose(&snap);
    let mut app = App::new(snap.source.clone(), UiConfig::default());
    app.update(AppEvent::Resize(160, 50));
    app.apply(std::sync::Arc::new(snap), chains);
    crate::ui_no_data::type_keys(&mut app, "/catalog");
    let (_, pod) = app.selected_pod().expect("a pod is selected");
    assert!(pod.starts_with("catalog-"), "{pod}");
    let timeout = (app.pod_events.iter())
        .find(|e| e.message.starts_with("Unable to attach or mount volumes"))
        .expect("the kubelet's timeout event");
    assert_eq!(timeout.link, Some(LinkKind::VaultObject));
    // The 404 itself stays the Object's; nothing is tagged with a link not reached.
    assert!(
        app.pod_events
            .iter()
            .all(|e| e.link != Some(LinkKind::Mount)),
        "{:#?}",
        app.pod_events
    );
}

/// The trainer at 80×24 opens the break menu of the six-hops lesson: thirteen faults, ten
/// shown, `break-objects-yaml` (hop 4, "b, break-objects-yaml, enter") and
/// `delete-mounting-workload` below the edge, and nothing said that the list goes on (README
/// `b`: the menu "lists each fault with its id"; a confirmation taller than the screen says
/// `lines 1–20 of 26`). The border says which faults show, and the list follows `G`.
#[test]
fn a_break_menu_taller_than_the_screen_says_which_faults_show() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use kvchain::source::SourceEvent;
    use kvchain::ui::app::{App, AppEvent};
    use kvchain::ui::config::UiConfig;

    let mut src = lab::open("lesson-six-hops", None).expect("built-in scenario");
    let info = src.info();
    let status = src.status();
    let n = status.faults.len();
    let snap = export::snapshot(src.world_mut());
    let chains = diagnose(&snap);
    let mut app = App::new(info, UiConfig::default());
    app.update(AppEvent::Resize(80, 24));
    app.update(AppEvent::Source(SourceEvent::Lab(status.clone())));
    app.apply(std::sync::Arc::new(snap), chains);
    let screen = |app: &mut App, key: char| {
        app.update(AppEvent::Key(KeyEvent::new(
            KeyCode::Char(key),
            KeyModifiers::NONE,
        )));
        let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).unwrap();
        t.draw(|f| kvchain::ui::views::draw(f, app)).unwrap();
        t.backend().to_string()
    };
    let top = screen(&mut app, 'b');
    let hidden: Vec<_> = (status.faults.iter())
        .filter(|f| !top.contains(&f.id))
        .map(|f| f.id.clone())
        .collect();
    assert!(!hidden.is_empty(), "the menu fits at 80x24 now: {top}");
    // Counted whole (audit XB-users): a fault whose description runs past the edge is not.
    let words: Vec<&str> = (top.split(|c: char| c.is_whitespace() || "\"│║┌┐└┘─".contains(c)))
        .filter(|w| !w.is_empty())
        .collect();
    let shown = (status.faults.iter())
        .filter(|f| {
            let title: Vec<&str> = f.title.split_whitespace().collect();
            words.windows(title.len()).any(|w| w == title.as_slice())
        })
        .count();
    assert!(
        top.contains(&format!("faults 1–{shown} of {n}")),
        "{shown} shown whole: {top}"
    );
    let bottom = screen(&mut app, 'G');
    assert!(
        bottom.contains(&format!(" of {n}")) && bottom.contains(&format!("–{n} of {n}")),
        "{bottom}"
    );
    for id in &hidden {
        assert!(bottom.contains(id.as_str()), "{id}: {bottom}");
    }
}
