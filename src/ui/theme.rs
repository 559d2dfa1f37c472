//! Themes are data: YAML files of semantic slots (ok, warn, error, muted, accent…). Views ask
//! for a slot, never for a colour. Built-in themes are embedded with `include_str!`; user
//! themes live in `<config dir>/kvchain/themes/*.yaml`, may set only some slots (the rest come
//! from the default theme) and override a built-in of the same name.

use std::path::Path;
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

use crate::chain::Status;
use crate::input::InputError;

pub const BUILTIN: &[(&str, &str)] = &[
    ("default", include_str!("../../themes/default.yaml")),
    ("light", include_str!("../../themes/light.yaml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.yaml"),
    ),
];

macro_rules! slots {
    ($( $slot:ident ),* $(,)?) => {
        /// A resolved theme: one colour per semantic slot.
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct Theme {
            pub name: String,
            /// NO_COLOR: every colour is `Reset`, emphasis comes from modifiers only.
            pub monochrome: bool,
            $( pub $slot: Color, )*
        }

        /// A theme file as written: every slot optional.
        #[derive(Clone, Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct ThemeFile {
            name: Option<String>,
            $( $slot: Option<String>, )*
        }

        impl ThemeFile {
            fn resolve(self, base: &Theme, origin: &str) -> Result<Theme, InputError> {
                let mut t = base.clone();
                if let Some(n) = self.name { t.name = n; }
                $(
                    if let Some(c) = self.$slot {
                        t.$slot = Color::from_str(&c).map_err(|_| InputError::new(
                            origin,
                            format!("{}: invalid colour {c:?} (use a name like \"red\", \"#rrggbb\" or 0-255)", stringify!($slot)),
                        ))?;
                    }
                )*
                Ok(t)
            }
            fn missing(&self) -> Vec<&'static str> {
                let mut m = Vec::new();
                $( if self.$slot.is_none() { m.push(stringify!($slot)); } )*
                m
            }
        }

        impl Theme {
            fn all_reset(name: &str) -> Theme {
                Theme { name: name.into(), monochrome: false, $( $slot: Color::Reset, )* }
            }
        }
    };
}

slots!(
    fg,
    bg,
    accent,
    muted,
    ok,
    warn,
    error,
    unknown,
    pending,
    title,
    border,
    border_focus,
    selection_fg,
    selection_bg,
    diff_observed,
    diff_expected,
    command,
);

impl Theme {
    /// Parse a theme file over `base` (slots it does not set are inherited).
    pub fn parse(text: &str, base: &Theme, origin: &str) -> Result<Theme, InputError> {
        // A file that is only `null` or `~` sets no slot, as an empty one.
        let file = crate::input::from_str::<Option<ThemeFile>>(text).map_err(|e| {
            let at = crate::input::located(&e, text);
            InputError::new(origin, format!("invalid theme: {at}"))
        })?;
        file.unwrap_or_default().resolve(base, origin)
    }

    /// A built-in theme by name.
    pub fn builtin(name: &str) -> Option<Theme> {
        let (_, text) = BUILTIN.iter().find(|(n, _)| *n == name)?;
        // Built-ins are complete (checked by a test); parse over an all-reset base.
        Theme::parse(text, &Theme::all_reset(name), name).ok()
    }

    pub fn default_theme() -> Theme {
        Theme::builtin("default").unwrap_or_else(|| Theme::all_reset("default"))
    }

    /// NO_COLOR: the same theme with every colour reset. Selection and status stay readable
    /// through modifiers (reverse, bold) and symbols.
    pub fn monochrome(&self) -> Theme {
        let mut t = Theme::all_reset(&self.name);
        t.monochrome = true;
        t
    }

    pub fn base(&self) -> Style {
        Style::default().fg(self.fg).bg(self.bg)
    }
    pub fn fg(&self, c: Color) -> Style {
        Style::default().fg(c)
    }
    pub fn muted(&self) -> Style {
        if self.monochrome {
            Style::default().add_modifier(Modifier::DIM)
        } else {
            Style::default().fg(self.muted)
        }
    }
    pub fn accent(&self) -> Style {
        Style::default().fg(self.accent)
    }
    pub fn title(&self) -> Style {
        Style::default().fg(self.title).add_modifier(Modifier::BOLD)
    }
    pub fn command(&self) -> Style {
        Style::default().fg(self.command)
    }
    pub fn border(&self, focused: bool) -> Style {
        if focused {
            Style::default()
                .fg(self.border_focus)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default().fg(self.border)
        }
    }
    pub fn selection(&self) -> Style {
        if self.monochrome {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default().fg(self.selection_fg).bg(self.selection_bg)
        }
    }
    /// Colour (and weight) of a link status.
    pub fn status(&self, s: Status) -> Style {
        let c = match s {
            Status::Ok => self.ok,
            // The TUI draws the engine's statuses; an accepted link shown as the check
            // outputs show it would read as one not reached.
            Status::Pending | Status::Suppressed => self.pending,
            Status::Unknown => self.unknown,
            Status::Warning => self.warn,
            Status::Broken => self.error,
        };
        let st = Style::default().fg(c);
        if s == Status::Broken {
            st.add_modifier(Modifier::BOLD)
        } else {
            st
        }
    }
    /// Characters of the observed value that differ from the expected one.
    pub fn diff_observed(&self) -> Style {
        let st = Style::default()
            .add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
            .bg(self.diff_observed);
        if self.monochrome {
            st.add_modifier(Modifier::REVERSED)
        } else {
            st
        }
    }
    /// Characters of the expected value missing from the observed one.
    pub fn diff_expected(&self) -> Style {
        let st = Style::default()
            .add_modifier(Modifier::BOLD)
            .bg(self.diff_expected);
        if self.monochrome {
            st.add_modifier(Modifier::REVERSED)
        } else {
            st
        }
    }
}

/// The themes `t` cycles through: built-ins first, then user themes (a user file named like a
/// built-in replaces it in place).
#[derive(Clone, Debug)]
pub struct ThemeSet {
    pub themes: Vec<Theme>,
    /// User theme files that could not be read, with why: left out of the set, so a
    /// half-edited theme nobody selected does not stop kvchain from starting.
    pub skipped: Vec<SkippedTheme>,
}

/// A theme file left out of the [`ThemeSet`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedTheme {
    /// The name it would have had (its `name:`, else its file name).
    pub name: String,
    /// Why, naming the file and the slot.
    pub error: InputError,
}

impl ThemeSet {
    pub fn builtin() -> ThemeSet {
        ThemeSet {
            themes: BUILTIN
                .iter()
                .filter_map(|(n, _)| Theme::builtin(n))
                .collect(),
            skipped: Vec::new(),
        }
    }

    /// Built-ins plus every `*.yaml` in `dir` (sorted by file name). A missing directory is
    /// fine; a broken file is left out with the reason in [`ThemeSet::skipped`] (an error only
    /// when that theme is selected: [`ThemeSet::select`]).
    pub fn load(dir: Option<&Path>) -> Result<ThemeSet, InputError> {
        let mut set = ThemeSet::builtin();
        let Some(dir) = dir else { return Ok(set) };
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(set),
            Err(e) => return Err(InputError::in_file(dir, format!("cannot list themes: {e}"))),
        };
        let mut paths: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .collect();
        paths.sort();
        let base = Theme::default_theme();
        for p in paths {
            // A FIFO in the directory would block start-up forever in open(): skip it.
            if let Some(kind) = std::fs::metadata(&p)
                .ok()
                .as_ref()
                .and_then(crate::input::special_kind)
            {
                crate::input::warn_skipped(&p, kind);
                continue;
            }
            let stem = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let parsed = crate::input::read_text(&p).and_then(|text| {
                let theme = Theme::parse(&text, &base, &p.display().to_string())?;
                Ok((text, theme))
            });
            let (text, mut theme) = match parsed {
                Ok(ok) => ok,
                Err(error) => {
                    let text = std::fs::read_to_string(&p).unwrap_or_default();
                    let named = text.lines().find_map(|l| {
                        let v = l.strip_prefix("name:")?.trim().trim_matches(['"', '\'']);
                        (!v.is_empty()).then(|| v.to_string())
                    });
                    skip(&mut set, named.unwrap_or(stem), error);
                    continue;
                }
            };
            // An unnamed theme is named after its file.
            if !text.lines().any(|l| l.trim_start().starts_with("name:")) {
                theme.name = p
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
            }
            set.insert(theme);
        }
        Ok(set)
    }

    /// The index of theme `name`, or why it cannot be had: the error of its broken file, or
    /// the themes there are. `origin` is where the name came from (`--theme`, `FILE: theme`).
    pub fn select(&self, name: &str, origin: &str) -> Result<usize, InputError> {
        if let Some(i) = self.position(name) {
            return Ok(i);
        }
        if let Some(s) = self.skipped.iter().find(|s| s.name == name) {
            return Err(s.error.clone());
        }
        Err(InputError::new(
            origin,
            format!(
                "unknown theme {name:?} (available: {})",
                self.names().join(", ")
            ),
        ))
    }

    /// "kvchain: warning: skipping FILE: why" for each theme file left out.
    pub fn warnings(&self) -> Vec<String> {
        self.skipped
            .iter()
            .map(|s| format!("kvchain: warning: skipping theme {}", s.error))
            .collect()
    }

    fn insert(&mut self, theme: Theme) {
        match self.themes.iter_mut().find(|t| t.name == theme.name) {
            Some(t) => *t = theme,
            None => self.themes.push(theme),
        }
    }

    pub fn position(&self, name: &str) -> Option<usize> {
        self.themes.iter().position(|t| t.name == name)
    }

    pub fn names(&self) -> Vec<&str> {
        self.themes.iter().map(|t| t.name.as_str()).collect()
    }
}

fn skip(set: &mut ThemeSet, name: String, error: InputError) {
    set.skipped.push(SkippedTheme { name, error });
}

/// Slots a built-in theme file leaves unset (must be none; used by tests).
pub fn missing_slots(text: &str) -> Result<Vec<&'static str>, String> {
    let file: ThemeFile = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
    Ok(file.missing())
}
