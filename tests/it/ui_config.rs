//! Config file, themes and key bindings: defaults, merging, and errors that name the file and
//! the field.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kvchain::ui::config::load_from;
use kvchain::ui::keymap::{KeyMap, KeyOverrides, UiAction};
use kvchain::ui::theme::{BUILTIN, Theme, ThemeSet, missing_slots};
use ratatui::style::Color;

fn write(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, text).unwrap();
    p
}

fn press(km: &KeyMap, code: KeyCode, mods: KeyModifiers) -> Option<UiAction> {
    km.action(&KeyEvent::new(code, mods))
}

#[test]
fn builtin_themes_are_complete_and_distinct() {
    for (name, text) in BUILTIN {
        assert_eq!(missing_slots(text).unwrap(), Vec::<&str>::new(), "{name}");
        assert!(Theme::builtin(name).is_some(), "{name}");
    }
    let d = Theme::builtin("default").unwrap();
    let l = Theme::builtin("light").unwrap();
    let h = Theme::builtin("high-contrast").unwrap();
    assert_ne!(d, l);
    assert_ne!(d, h);
    // Colour-blind safe: never plain red against plain green.
    assert_ne!(h.ok, Color::Green);
    assert_ne!(h.error, Color::Red);
}

#[test]
fn no_config_file_means_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = load_from(
        Some(&dir.path().join("config.yaml")),
        false,
        None,
        false,
        false,
        None,
        false,
    )
    .unwrap();
    assert_eq!(cfg.theme().name, "default");
    assert!(!cfg.read_only);
    assert!(cfg.file.is_none());
}

/// A config that sets nothing, however it is spelled (empty, comments, `---`, `null`, `~`),
/// means the defaults; `null` and `~` were refused as "invalid type: unit value".
#[test]
fn a_config_that_sets_nothing_means_defaults() {
    let dir = tempfile::tempdir().unwrap();
    for text in ["", "# theme: light\n", "---\n", "null\n", "~\n", "--- ~\n"] {
        let p = write(dir.path(), "config.yaml", text);
        let cfg = load_from(Some(&p), true, None, false, false, None, false)
            .unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(cfg.theme().name, "default", "{text:?}");
        assert!(!cfg.read_only, "{text:?}");
    }
    // A value of another type is still refused, naming the file.
    let p = write(dir.path(), "config.yaml", "[theme]\n");
    let e = load_from(Some(&p), true, None, false, false, None, false).unwrap_err();
    assert!(e.to_string().contains("config.yaml"), "{e}");
}

#[test]
fn explicit_missing_config_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("nope.yaml");
    let e = load_from(Some(&p), true, None, false, false, None, false).unwrap_err();
    assert!(e.to_string().contains("nope.yaml"), "{e}");
}

#[test]
fn config_sets_theme_read_only_speed_and_keys() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "config.yaml",
        "theme: light\nread_only: true\nlab:\n  speed: 30\nkeys:\n  quit: [ctrl-q]\n  restart: ctrl-x\n  help: q\n",
    );
    let cfg = load_from(Some(&p), true, None, false, false, None, false).unwrap();
    assert_eq!(cfg.theme().name, "light");
    assert!(cfg.read_only);
    assert_eq!(cfg.lab_speed, Some(30.0));
    let km = &cfg.keymap;
    assert_eq!(
        press(km, KeyCode::Char('q'), KeyModifiers::CONTROL),
        Some(UiAction::Quit)
    );
    // q was taken by help, so it no longer quits; R no longer restarts.
    assert_eq!(
        press(km, KeyCode::Char('q'), KeyModifiers::NONE),
        Some(UiAction::Help)
    );
    assert_eq!(press(km, KeyCode::Char('R'), KeyModifiers::SHIFT), None);
    assert_eq!(
        press(km, KeyCode::Char('x'), KeyModifiers::CONTROL),
        Some(UiAction::Restart)
    );
    // Defaults not named stay.
    assert_eq!(
        press(km, KeyCode::Char('j'), KeyModifiers::NONE),
        Some(UiAction::Down)
    );
    assert_eq!(km.keys(UiAction::Quit).len(), 1);
}

#[test]
fn flags_win_over_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "config.yaml",
        "theme: light\nlab:\n  speed: 30\n",
    );
    let cfg = load_from(
        Some(&p),
        true,
        Some("high-contrast"),
        false,
        false,
        Some(5.0),
        false,
    )
    .unwrap();
    assert_eq!(cfg.theme().name, "high-contrast");
    assert_eq!(cfg.lab_speed, Some(5.0));
}

#[test]
fn unknown_field_is_an_error_naming_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "config.yaml", "thme: light\n");
    let e = load_from(Some(&p), true, None, false, false, None, false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("config.yaml") && e.contains("thme"), "{e}");
}

#[test]
fn bad_key_and_unknown_action_name_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "config.yaml", "keys:\n  quit: ctrl-nonsense\n");
    let e = load_from(Some(&p), true, None, false, false, None, false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("config.yaml") && e.contains("keys.quit"), "{e}");
    let p = write(dir.path(), "config.yaml", "keys:\n  explode: x\n");
    let e = load_from(Some(&p), true, None, false, false, None, false)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("keys.explode") && e.contains("unknown action"),
        "{e}"
    );
}

#[test]
fn bad_speed_and_wrong_type_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "config.yaml", "lab:\n  speed: -2\n");
    let e = load_from(Some(&p), true, None, false, false, None, false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("lab.speed"), "{e}");
    // Audit EEE14: out of the lab clock's bounds is refused too, not clamped silently.
    let p = write(dir.path(), "config.yaml", "lab:\n  speed: 5000\n");
    let e = load_from(Some(&p), true, None, false, false, None, false)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("lab.speed") && e.contains("above the maximum ×3600"),
        "{e}"
    );
    let p = write(dir.path(), "config.yaml", "read_only: maybe\n");
    let e = load_from(Some(&p), true, None, false, false, None, false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("config.yaml") && e.contains("read_only"), "{e}");
}

#[test]
fn unknown_theme_lists_the_available_ones() {
    let e = load_from(None, false, Some("neon"), false, false, None, false)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("--theme") && e.contains("neon") && e.contains("high-contrast"),
        "{e}"
    );
}

#[test]
fn user_themes_inherit_unset_slots_and_can_replace_builtins() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "themes/solar.yaml",
        "accent: \"#b58900\"\nerror: \"#dc322f\"\n",
    );
    write(dir.path(), "themes/light.yaml", "name: light\nok: blue\n");
    let set = ThemeSet::load(Some(&dir.path().join("themes"))).unwrap();
    assert_eq!(
        set.names(),
        vec!["default", "light", "high-contrast", "solar"]
    );
    let solar = &set.themes[3];
    assert_eq!(solar.accent, Color::Rgb(0xb5, 0x89, 0x00));
    assert_eq!(
        solar.ok,
        Theme::default_theme().ok,
        "inherited from default"
    );
    assert_eq!(set.themes[1].ok, Color::Blue);

    // A config next to the themes dir can select the user theme.
    let p = write(dir.path(), "config.yaml", "theme: solar\n");
    let cfg = load_from(Some(&p), true, None, false, false, None, false).unwrap();
    assert_eq!(cfg.theme().name, "solar");
}

/// A theme file that sets no slot (empty, comments, `null`, `~`) is its base theme under its
/// own name; `null` and `~` were refused as "invalid type: unit value".
#[test]
fn a_theme_file_that_sets_nothing_inherits_every_slot() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        ("blank", ""),
        ("notes", "# to do\n"),
        ("null", "null\n"),
        ("tilde", "~\n"),
    ] {
        write(dir.path(), &format!("themes/{name}.yaml"), text);
    }
    let set = ThemeSet::load(Some(&dir.path().join("themes"))).unwrap();
    for name in ["blank", "notes", "null", "tilde"] {
        let theme = (set.themes.iter()).find(|t| t.name == name);
        let theme = theme.unwrap_or_else(|| panic!("{name} among {:?}", set.names()));
        assert_eq!(theme.ok, Theme::default_theme().ok, "{name}");
        assert_eq!(theme.error, Theme::default_theme().error, "{name}");
    }
}

/// README §Themes: a broken theme file is an error only when it is the theme selected; the
/// others are left out with a warning naming the file and the slot, and the config file's own
/// errors come first.
#[test]
fn a_broken_theme_file_is_an_error_only_when_selected() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "themes/bad.yaml",
        "error: notacolour
",
    );
    let set = ThemeSet::load(Some(&dir.path().join("themes"))).unwrap();
    assert!(!set.names().contains(&"bad"), "left out: {:?}", set.names());
    let w = set.warnings().join("\n");
    assert!(
        w.contains("warning")
            && w.contains("bad.yaml")
            && w.contains("error")
            && w.contains("notacolour"),
        "{w}"
    );

    // Not selected: kvchain starts, with the warning.
    let p = write(dir.path(), "config.yaml", "read_only: true\n");
    let cfg = load_from(Some(&p), true, None, false, false, None, false).unwrap();
    assert_eq!(cfg.theme().name, "default");
    assert_eq!(cfg.themes.warnings().len(), 1);

    // Selected (flag or config): its own error, naming the file and the slot.
    for (flag, text) in [(Some("bad"), "read_only: true\n"), (None, "theme: bad\n")] {
        let p = write(dir.path(), "config.yaml", text);
        let e = load_from(Some(&p), true, flag, false, false, None, false)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("bad.yaml") && e.contains("error") && e.contains("notacolour"),
            "{e}"
        );
    }

    // The config file's own error is reported first.
    let p = write(
        dir.path(),
        "config.yaml",
        "theme: bad\nkeys:\n  quit: ctrl-nonsense\n",
    );
    let e = load_from(Some(&p), true, None, false, false, None, false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("keys.quit"), "{e}");
}

/// README §Config file: every error names the file and the field. One key given to two
/// actions is the user's own contradiction (quit: q, restart: q), never resolved silently.
#[test]
fn a_key_given_to_two_actions_is_an_error_naming_both() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "c11.yaml",
        "keys:\n  quit: [q, ctrl-q]\n  restart: q\n",
    );
    let e = load_from(Some(&p), true, None, false, false, None, false)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("c11.yaml")
            && e.contains("keys.restart")
            && e.contains("keys.quit")
            && e.contains("\"q\""),
        "{e}"
    );
    // Taking a default key away from its action is still fine.
    let p = write(dir.path(), "c12.yaml", "keys:\n  restart: q\n");
    let cfg = load_from(Some(&p), true, None, false, false, None, false).unwrap();
    assert_eq!(
        press(&cfg.keymap, KeyCode::Char('q'), KeyModifiers::NONE),
        Some(UiAction::Restart)
    );
}

#[test]
fn no_color_makes_every_theme_monochrome() {
    let cfg = load_from(None, false, Some("light"), false, false, None, true).unwrap();
    let t = cfg.theme();
    assert!(t.monochrome);
    assert_eq!(t.error, Color::Reset);
    assert_eq!(t.name, "light");
}

#[test]
fn key_overrides_parse_one_or_many() {
    let o: KeyOverrides = serde_yaml::from_str("down: [n, ctrl-n]\nup: p\n").unwrap();
    let km = KeyMap::with_overrides(&o).unwrap();
    assert_eq!(
        press(&km, KeyCode::Char('n'), KeyModifiers::CONTROL),
        Some(UiAction::Down)
    );
    assert_eq!(
        press(&km, KeyCode::Char('p'), KeyModifiers::NONE),
        Some(UiAction::Up)
    );
    // p was the lab pause key: it now means up only.
    assert!(km.keys(UiAction::LabPause).is_empty());
}

/// README §Config file lists the action names `keys:` takes: every one the key table has.
#[test]
fn readme_lists_every_action_name() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme.find("Action names for `keys:`").expect("the list");
    let list = &readme[start..start + readme[start..].find("Key syntax").unwrap()];
    for a in UiAction::ALL {
        assert!(
            list.contains(&format!("`{}`", a.name())),
            "README misses `{}`",
            a.name()
        );
    }
}

/// README §Keys: help is generated from the key table, and `:` takes `:ns`, `:theme`, `:ctx`
/// and `:q`; the help's line for `:` names each.
#[test]
fn the_help_line_for_colon_names_every_command() {
    let d = UiAction::Command.description();
    for c in [":ns", ":theme", ":ctx", ":q"] {
        assert!(d.contains(c), "{d:?} misses {c}");
    }
}
