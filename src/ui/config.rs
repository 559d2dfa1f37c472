//! The config file: `$XDG_CONFIG_HOME/kvchain/config.yaml` (via the directories crate), or
//! `--config PATH`. User themes live next to it in `themes/*.yaml`.
//!
//! ```yaml
//! theme: high-contrast      # default theme (the --theme flag wins)
//! read_only: true           # as if --read-only were always given
//! no_reveal: true           # as if --no-reveal were always given
//! lab:
//!   speed: 30               # lab seconds per real second (the --speed flag wins)
//! keys:                     # merged over the defaults, per action
//!   quit: [q, ctrl-q]
//!   restart: ctrl-r
//! ignore:                   # suppressions (see crate::suppress), all given fields must match
//!   - code: KVC902
//!     namespace: team-*
//!     resource: Deployment/legacy-*
//!     reason: restarted nightly by a CronJob
//! ```
//!
//! Unknown fields are errors, so a typo never silently does nothing; every error names the
//! file and the field.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::keymap::{KeyMap, KeyOverrides};
use super::theme::{Theme, ThemeSet};
use crate::cli::UiArgs;
use crate::input::InputError;

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub theme: Option<String>,
    #[serde(default)]
    pub read_only: bool,
    #[serde(default)]
    pub no_reveal: bool,
    #[serde(default)]
    pub lab: LabConfig,
    #[serde(default)]
    pub keys: KeyOverrides,
    #[serde(default)]
    pub ignore: Vec<crate::suppress::IgnoreRule>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabConfig {
    #[serde(default)]
    pub speed: Option<f64>,
}

/// Everything the UI takes from the config file, the flags and the environment.
#[derive(Clone, Debug)]
pub struct UiConfig {
    pub themes: ThemeSet,
    /// Index into `themes` of the theme in use.
    pub theme_index: usize,
    pub keymap: KeyMap,
    pub read_only: bool,
    pub no_reveal: bool,
    pub lab_speed: Option<f64>,
    /// NO_COLOR is set: every theme is drawn without colour.
    pub no_color: bool,
    /// The file that was read, if any (shown in the help overlay).
    pub file: Option<PathBuf>,
    /// The config's `ignore:` rules, validated.
    pub ignore: crate::suppress::Rules,
}

impl Default for UiConfig {
    fn default() -> Self {
        UiConfig {
            themes: ThemeSet::builtin(),
            theme_index: 0,
            keymap: KeyMap::default(),
            read_only: false,
            no_reveal: false,
            lab_speed: None,
            no_color: false,
            file: None,
            ignore: crate::suppress::Rules::default(),
        }
    }
}

impl UiConfig {
    /// The theme to draw with (monochrome under NO_COLOR).
    pub fn theme(&self) -> Theme {
        let t = self
            .themes
            .themes
            .get(self.theme_index)
            .cloned()
            .unwrap_or_else(Theme::default_theme);
        if self.no_color { t.monochrome() } else { t }
    }
}

/// `<config dir>/kvchain`, e.g. `$XDG_CONFIG_HOME/kvchain` on Linux.
pub fn config_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "kvchain").map(|d| d.config_dir().to_path_buf())
}

/// Load the config for this command line. An explicitly given `--config` must exist; the
/// default file may be absent.
pub fn load(ui: &UiArgs) -> Result<UiConfig, InputError> {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let (path, required) = match &ui.config {
        Some(p) => (Some(p.clone()), true),
        None => (config_dir().map(|d| d.join("config.yaml")), false),
    };
    load_from(
        path.as_deref(),
        required,
        ui.theme.as_deref(),
        ui.read_only,
        ui.no_reveal,
        ui.speed,
        no_color,
    )
}

/// The testable core of [`load`]: flags passed in, no environment read.
pub fn load_from(
    path: Option<&Path>,
    required: bool,
    theme_flag: Option<&str>,
    read_only_flag: bool,
    no_reveal_flag: bool,
    speed_flag: Option<f64>,
    no_color: bool,
) -> Result<UiConfig, InputError> {
    let mut file = ConfigFile::default();
    let mut read = None;
    if let Some(p) = path {
        match std::fs::metadata(p) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {}
            Err(e) => return Err(InputError::in_file(p, format!("cannot read config: {e}"))),
            // Only a regular file is opened: a FIFO would block the start-up forever.
            Ok(_) => {
                let text = crate::input::read_text(p)?;
                file = parse(&text, p)?;
                read = Some(p.to_path_buf());
            }
        }
    }
    let keymap = KeyMap::with_overrides(&file.keys).map_err(|m| {
        InputError::new(path.map(|p| p.display().to_string()).unwrap_or_default(), m)
    })?;
    if let Some(Err(why)) = file.lab.speed.map(crate::source::lab::clock::check_speed) {
        return Err(InputError::new(
            path.map(|p| p.display().to_string()).unwrap_or_default(),
            format!("lab.speed: {why}"),
        ));
    }
    let ignore = crate::suppress::Rules::new(&file.ignore).map_err(|m| {
        InputError::new(path.map(|p| p.display().to_string()).unwrap_or_default(), m)
    })?;
    // The config file's own errors come first; then the themes, of which only the selected
    // one must be valid (the others are skipped with a warning).
    let theme_dir = path.and_then(Path::parent).map(|d| d.join("themes"));
    let themes = ThemeSet::load(theme_dir.as_deref())?;
    let wanted = theme_flag.or(file.theme.as_deref()).unwrap_or("default");
    let origin = if theme_flag.is_some() {
        "--theme".to_string()
    } else {
        format!(
            "{}: theme",
            path.map(|p| p.display().to_string()).unwrap_or_default()
        )
    };
    let theme_index = themes.select(wanted, &origin)?;
    Ok(UiConfig {
        ignore,
        themes,
        theme_index,
        keymap,
        read_only: read_only_flag || file.read_only,
        no_reveal: no_reveal_flag || file.no_reveal,
        lab_speed: speed_flag.or(file.lab.speed),
        no_color,
        file: read,
    })
}

fn parse(text: &str, path: &Path) -> Result<ConfigFile, InputError> {
    if text.trim().is_empty() {
        return Ok(ConfigFile::default());
    }
    // serde_yaml names the field path ("keys.quit: …" / "unknown field `thme`"); we add the
    // file, the line and column (serde_yaml leaves out line 1, column 1: audit XX8). A
    // document that is only `null` or `~` sets nothing, as an empty or comment-only one.
    crate::input::from_str::<Option<ConfigFile>>(text)
        .map(Option::unwrap_or_default)
        .map_err(|e| InputError::in_file(path, crate::input::located(&e, text)))
}
