//! Opt-in diagnostics: `KVCHAIN_LOG=debug` (any tracing filter) appends to a log file, never to
//! the terminal the TUI draws on. `kvchain serve` draws no terminal: it logs to stderr (what
//! `kubectl logs` shows), at `info` unless `KVCHAIN_LOG` says otherwise (audit FFF10).
//! Nothing kvchain logs carries a secret value: values are fingerprinted on arrival and only
//! names, versions and fingerprints reach a log line.

use std::fs::OpenOptions;
use std::path::PathBuf;
use std::sync::Mutex;

use tracing_subscriber::EnvFilter;

/// `$KVCHAIN_LOG_FILE`, else `<data dir>/kvchain.log`.
pub fn path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("KVCHAIN_LOG_FILE") {
        return Some(PathBuf::from(p));
    }
    directories::ProjectDirs::from("dev", "kvchain", "kvchain")
        .map(|d| d.data_dir().join("kvchain.log"))
}

/// `kvchain serve`'s filter when `KVCHAIN_LOG` is unset: refused reads, reconnects and
/// outages are logged.
pub const SERVE_DEFAULT: &str = "info";

/// `kvchain serve`: logs to stderr with `KVCHAIN_LOG`'s filter, else [`SERVE_DEFAULT`].
pub fn init_serve_from_env() -> Result<(), String> {
    let filter = std::env::var("KVCHAIN_LOG").unwrap_or_else(|_| SERVE_DEFAULT.into());
    let filter = EnvFilter::try_new(&filter).map_err(|e| format!("KVCHAIN_LOG={filter:?}: {e}"))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::io::stderr)
        .try_init()
        .map_err(|e| e.to_string())
}

/// Starts logging when `KVCHAIN_LOG` is set. Returns where to, or why not.
pub fn init_from_env() -> Result<Option<PathBuf>, String> {
    let Ok(filter) = std::env::var("KVCHAIN_LOG") else {
        return Ok(None);
    };
    let filter = EnvFilter::try_new(&filter).map_err(|e| format!("KVCHAIN_LOG={filter:?}: {e}"))?;
    let path = path().ok_or("no data directory for the log file; set KVCHAIN_LOG_FILE")?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(Mutex::new(file))
        .try_init()
        .map_err(|e| e.to_string())?;
    Ok(Some(path))
}
