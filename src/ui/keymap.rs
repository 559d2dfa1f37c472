//! Keys as configuration: every user intent is a [`UiAction`] (data, serde-named), bound to
//! keys by one table. The help overlay and the status-bar hints are generated from the same
//! table, so they cannot drift from what the keys really do. User bindings from the config
//! file replace the defaults of the actions they name (television / gitui style).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::{Deserialize, Serialize};

macro_rules! actions {
    ($( $variant:ident => $name:literal, $group:ident, $desc:literal, [$($key:literal),*]; )*) => {
        /// Everything a key can ask the UI to do.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum UiAction { $( $variant, )* }

        impl UiAction {
            pub const ALL: &'static [UiAction] = &[ $( UiAction::$variant, )* ];

            /// The name used in the config file (`keys: { quit: [q] }`).
            pub fn name(self) -> &'static str {
                match self { $( UiAction::$variant => $name, )* }
            }
            pub fn group(self) -> Group {
                match self { $( UiAction::$variant => Group::$group, )* }
            }
            /// One line for the help overlay.
            pub fn description(self) -> &'static str {
                match self { $( UiAction::$variant => $desc, )* }
            }
            fn default_keys(self) -> &'static [&'static str] {
                match self { $( UiAction::$variant => &[$($key),*], )* }
            }
            pub fn parse(s: &str) -> Option<UiAction> {
                match s { $( $name => Some(UiAction::$variant), )* _ => None }
            }
        }
    };
}

actions! {
    Up => "up", Navigate, "move up", ["k", "up"];
    Down => "down", Navigate, "move down", ["j", "down"];
    Top => "top", Navigate, "first row", ["g", "home"];
    Bottom => "bottom", Navigate, "last row", ["G", "end"];
    PageUp => "page_up", Navigate, "page up", ["pgup", "ctrl-u"];
    PageDown => "page_down", Navigate, "page down", ["pgdn", "ctrl-d"];
    Expand => "expand", Navigate, "expand / open", ["enter", "space", "l"];
    Collapse => "collapse", Navigate, "collapse / parent", ["h"];
    NextPane => "next_pane", Navigate, "next pane", ["tab"];
    PrevPane => "prev_pane", Navigate, "previous pane", ["backtab"];
    LinkLeft => "link_left", Navigate, "previous link", ["left"];
    LinkRight => "link_right", Navigate, "next link", ["right"];
    Filter => "filter", View, "filter name/ns/code", ["/"];
    Command => "command", View, ":ns :ctx :theme :q", [":"];
    Back => "back", View, "close / clear filter", ["esc"];
    Help => "help", View, "this help", ["?"];
    CopyFix => "copy_fix", View, "copy fix (OSC 52)", ["y"];
    FullText => "full_text", View, "full event text", ["e"];
    CycleTheme => "cycle_theme", View, "next theme", ["t"];
    Refresh => "refresh", View, "re-read everything", ["ctrl-r"];
    Quit => "quit", View, "quit", ["q", "ctrl-c"];
    LabMenu => "lab_menu", Lab, "break / repair menu", ["b"];
    LabPause => "lab_pause", Lab, "pause / resume clock", ["p"];
    LabFaster => "lab_faster", Lab, "clock twice as fast", ["+"];
    LabSlower => "lab_slower", Lab, "clock half as fast", ["-"];
    LabAdvance => "lab_advance", Lab, "clock +1 minute", [">"];
    LessonNext => "lesson_next", Lab, "lesson: next step", ["n"];
    Restart => "restart", Actions, "restart pod (owner)", ["R"];
    Rotate => "rotate", Actions, "rotation test", ["r"];
    RotateMarker => "rotate_marker", Actions, "marker (again: undo)", ["M"];
    Verify => "verify", Actions, "verify in container", ["x"];
    Reveal => "reveal", Actions, "reveal value (10 s)", ["v"];
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    Navigate,
    View,
    Lab,
    Actions,
}

impl Group {
    pub fn title(self) -> &'static str {
        match self {
            Group::Navigate => "Navigate",
            Group::View => "View",
            Group::Lab => "Lab",
            Group::Actions => "Actions",
        }
    }
}

impl UiAction {
    /// Writes to the cluster or the vault: disabled (greyed) by `--read-only`.
    pub fn writes(self) -> bool {
        matches!(
            self,
            UiAction::Restart | UiAction::Rotate | UiAction::RotateMarker
        )
    }
    /// Shows secret material: disabled by `--no-reveal` and `--read-only`.
    pub fn reveals(self) -> bool {
        matches!(self, UiAction::Reveal)
    }
    pub fn lab_only(self) -> bool {
        self.group() == Group::Lab
    }
}

/// A key with its modifiers, normalised so that `G` and `shift-g` are the same binding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KeyBind {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl KeyBind {
    pub fn new(code: KeyCode, mods: KeyModifiers) -> Self {
        // Terminals report uppercase letters and symbols with SHIFT set (or not, depending on
        // the protocol); the character already carries the shift, so drop it. BackTab too.
        let mods = match code {
            KeyCode::Char(_) | KeyCode::BackTab => mods - KeyModifiers::SHIFT,
            _ => mods,
        };
        KeyBind {
            code,
            mods: mods & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT),
        }
    }
    pub fn from_event(ev: &KeyEvent) -> Self {
        KeyBind::new(ev.code, ev.modifiers)
    }
}

impl FromStr for KeyBind {
    type Err = String;

    /// `q`, `G`, `ctrl-c`, `alt-x`, `shift-up`, `enter`, `esc`, `space`, `tab`, `backtab`,
    /// `up`/`down`/`left`/`right`, `pgup`/`pgdn`, `home`/`end`, `f1`…`f12`, `-`, `+`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = s;
        // A lone "-" is the minus key, not a separator.
        while rest.len() > 1 {
            let lower = rest.to_ascii_lowercase();
            let (m, len) = if lower.starts_with("ctrl-") {
                (KeyModifiers::CONTROL, 5)
            } else if lower.starts_with("alt-") {
                (KeyModifiers::ALT, 4)
            } else if lower.starts_with("shift-") {
                (KeyModifiers::SHIFT, 6)
            } else {
                break;
            };
            mods |= m;
            rest = &rest[len..];
        }
        let code = match rest.to_ascii_lowercase().as_str() {
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "space" => KeyCode::Char(' '),
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "backspace" => KeyCode::Backspace,
            "delete" | "del" => KeyCode::Delete,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pgup" | "pageup" => KeyCode::PageUp,
            "pgdn" | "pagedown" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            f if f.len() >= 2
                && f.starts_with('f')
                && f[1..].parse::<u8>().is_ok_and(|n| (1..=12).contains(&n)) =>
            {
                KeyCode::F(f[1..].parse().unwrap_or(1))
            }
            _ => {
                let mut chars = rest.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => KeyCode::Char(c),
                    _ => {
                        return Err(format!(
                            "unknown key {s:?} (examples: q, G, ctrl-c, enter, pgdn, f1)"
                        ));
                    }
                }
            }
        };
        Ok(KeyBind::new(code, mods))
    }
}

impl fmt::Display for KeyBind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("alt-")?;
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            f.write_str("shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("enter"),
            KeyCode::Esc => f.write_str("esc"),
            KeyCode::Tab => f.write_str("tab"),
            KeyCode::BackTab => f.write_str("shift-tab"),
            KeyCode::Backspace => f.write_str("backspace"),
            KeyCode::Delete => f.write_str("del"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::PageUp => f.write_str("pgup"),
            KeyCode::PageDown => f.write_str("pgdn"),
            KeyCode::Home => f.write_str("home"),
            KeyCode::End => f.write_str("end"),
            KeyCode::F(n) => write!(f, "f{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// `ctrl-` and a letter.
fn ctrl(c: char) -> KeyBind {
    KeyBind {
        code: KeyCode::Char(c),
        mods: KeyModifiers::CONTROL,
    }
}

/// What a key does whatever the mode and the table (README Keys): ctrl-c quits (`quit` may
/// list it), ctrl-z suspends.
fn fixed_meaning(key: KeyBind) -> Option<&'static str> {
    if key == ctrl('c') {
        Some("always quits kvchain")
    } else if key == ctrl('z') {
        Some("always suspends kvchain (fg resumes it)")
    } else {
        None
    }
}

/// User bindings as written in the config file: action name → one key or a list of keys.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(transparent)]
pub struct KeyOverrides(pub BTreeMap<String, OneOrMany>);

#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn keys(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(s) => vec![s.as_str()],
            OneOrMany::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// The key table: action → keys (in help order) and the reverse index used on every key press.
#[derive(Clone, Debug)]
pub struct KeyMap {
    bindings: Vec<(UiAction, Vec<KeyBind>)>,
    index: HashMap<KeyBind, UiAction>,
}

impl Default for KeyMap {
    fn default() -> Self {
        let bindings = UiAction::ALL
            .iter()
            .map(|a| {
                let keys = a
                    .default_keys()
                    .iter()
                    .filter_map(|k| k.parse().ok())
                    .collect();
                (*a, keys)
            })
            .collect();
        KeyMap::from_bindings(bindings)
    }
}

impl KeyMap {
    fn from_bindings(bindings: Vec<(UiAction, Vec<KeyBind>)>) -> Self {
        let mut index = HashMap::new();
        for (action, keys) in &bindings {
            for k in keys {
                index.insert(*k, *action);
            }
        }
        KeyMap { bindings, index }
    }

    /// Defaults with the user's bindings merged over them. An action the user names gets
    /// exactly the user's keys; a key the user takes is removed from the action that had it by
    /// default, so one key never means two things. Errors name the offending field
    /// (`keys.<action>`).
    pub fn with_overrides(overrides: &KeyOverrides) -> Result<Self, String> {
        let mut bindings = KeyMap::default().bindings;
        let mut taken: Vec<(UiAction, Vec<KeyBind>)> = Vec::new();
        let mut given: Vec<(&str, KeyBind)> = Vec::new();
        for (name, keys) in &overrides.0 {
            let action = UiAction::parse(name).ok_or_else(|| {
                let known: Vec<&str> = UiAction::ALL.iter().map(|a| a.name()).collect();
                format!("keys.{name}: unknown action (known: {})", known.join(", "))
            })?;
            let parsed = keys
                .keys()
                .into_iter()
                .map(|k| {
                    k.parse::<KeyBind>()
                        .map_err(|e| format!("keys.{name}: {e}"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            // One key for two actions in the user's own file is a contradiction, not a merge
            // (`quit: q` and `restart: q` must not quietly make q restart a workload).
            for (key, spelled) in parsed.iter().zip(keys.keys()) {
                // Taken before the table in every mode (app::keys): a binding would never fire.
                if let Some(why) =
                    fixed_meaning(*key).filter(|_| action != UiAction::Quit || *key != ctrl('c'))
                {
                    return Err(format!(
                        "keys.{name}: {spelled:?} {why}: it cannot be bound"
                    ));
                }
                if let Some((other, _)) = given.iter().find(|(n, k)| k == key && n != name) {
                    return Err(format!(
                        "keys.{name}: {spelled:?} is also given to keys.{other}"
                    ));
                }
                given.push((name, *key));
            }
            taken.push((action, parsed));
        }
        for (action, keys) in &taken {
            for (a, ks) in bindings.iter_mut() {
                if a == action {
                    ks.clone_from(keys);
                } else {
                    ks.retain(|k| !keys.contains(k));
                }
            }
        }
        Ok(KeyMap::from_bindings(bindings))
    }

    pub fn action(&self, key: &KeyEvent) -> Option<UiAction> {
        self.index.get(&KeyBind::from_event(key)).copied()
    }

    pub fn keys(&self, action: UiAction) -> &[KeyBind] {
        self.bindings
            .iter()
            .find(|(a, _)| *a == action)
            .map(|(_, k)| k.as_slice())
            .unwrap_or(&[])
    }

    /// The first key of an action, for hints ("? help").
    pub fn hint(&self, action: UiAction) -> String {
        self.keys(action)
            .first()
            .map(ToString::to_string)
            .unwrap_or_else(|| "—".into())
    }

    /// The table in help order.
    pub fn bindings(&self) -> &[(UiAction, Vec<KeyBind>)] {
        &self.bindings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_and_print_round_trip() {
        for s in [
            "q", "G", "ctrl-c", "enter", "space", "pgdn", "f5", "-", "+", "alt-x",
        ] {
            let k: KeyBind = s.parse().unwrap();
            let back: KeyBind = k.to_string().parse().unwrap_or(k);
            assert_eq!(k, back, "{s}");
        }
        assert!("nonsense".parse::<KeyBind>().is_err());
    }

    /// ctrl-z and ctrl-c act before the table in every mode: a binding of either elsewhere
    /// would never fire, so the config is refused naming the field (ctrl-c may stay quit's).
    #[test]
    fn the_fixed_keys_cannot_be_bound() {
        let over = |action: &str, key: &str| {
            let mut m = BTreeMap::new();
            m.insert(action.to_string(), OneOrMany::One(key.to_string()));
            KeyMap::with_overrides(&KeyOverrides(m))
        };
        let err = over("restart", "ctrl-z").unwrap_err();
        assert!(
            err.starts_with("keys.restart: \"ctrl-z\" always suspends"),
            "{err}"
        );
        let err = over("help", "ctrl-c").unwrap_err();
        assert!(
            err.starts_with("keys.help: \"ctrl-c\" always quits"),
            "{err}"
        );
        assert!(over("quit", "ctrl-z").is_err());
        let quit = over("quit", "ctrl-c").expect("quit may list ctrl-c");
        assert_eq!(quit.keys(UiAction::Quit), [ctrl('c')]);
    }

    #[test]
    fn uppercase_with_shift_is_the_same_key() {
        let a = KeyBind::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        let b: KeyBind = "G".parse().unwrap();
        assert_eq!(a, b);
    }
}
