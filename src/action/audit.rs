//! The audit log: one JSON line per action attempt (time, identity, action, target, result),
//! in the user's data directory. Values never reach it: an [`Action`] names objects only and
//! an outcome message is written by kvchain, not copied from a secret.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{Action, ActionOutcome};

#[derive(Debug, Serialize)]
struct Record<'a> {
    time: String,
    /// Who acted: OS user and the source (kube context or lab scenario).
    identity: &'a str,
    action: &'static str,
    target: String,
    result: &'static str,
    message: &'a str,
}

#[derive(Clone, Debug)]
pub struct AuditLog {
    path: PathBuf,
    identity: String,
}

impl AuditLog {
    /// `$KVCHAIN_AUDIT_LOG`, else `<data dir>/kvchain/audit.jsonl`.
    pub fn default_path() -> Option<PathBuf> {
        if let Some(p) = std::env::var_os("KVCHAIN_AUDIT_LOG") {
            return Some(PathBuf::from(p));
        }
        directories::ProjectDirs::from("dev", "kvchain", "kvchain")
            .map(|d| d.data_dir().join("audit.jsonl"))
    }

    pub fn new(path: PathBuf, source_label: &str) -> Self {
        AuditLog {
            path,
            identity: format!("{}@{source_label}", os_user()),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one record. Errors are returned, not swallowed: an action whose record cannot be
    /// written should say so on screen.
    pub fn record(&self, action: &Action, outcome: &ActionOutcome) -> std::io::Result<()> {
        let (kind, target) = action.describe();
        let result = if outcome.ok { "ok" } else { "failed" };
        let message = outcome.audit.as_deref().unwrap_or(&outcome.message);
        self.record_entry(kind, target, result, message)
    }

    /// Append one record of any kind (actions, lab faults).
    pub fn record_entry(
        &self,
        action: &'static str,
        target: String,
        result: &'static str,
        message: &str,
    ) -> std::io::Result<()> {
        let rec = Record {
            time: jiff::Timestamp::now().to_string(),
            identity: &self.identity,
            action,
            target,
            result,
            message,
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut line = serde_json::to_string(&rec).map_err(std::io::Error::other)?;
        line.push('\n');
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        f.write_all(line.as_bytes())
    }
}

/// The OS account running kvchain. Environment variables only where the OS cannot say.
pub fn os_user() -> String {
    #[cfg(unix)]
    {
        let uid = nix::unistd::getuid();
        if let Ok(Some(u)) = nix::unistd::User::from_uid(uid) {
            return u.name;
        }
    }
    for var in ["USER", "USERNAME", "LOGNAME"] {
        if let Ok(v) = std::env::var(var)
            && !v.is_empty()
        {
            return v;
        }
    }
    #[cfg(unix)]
    return format!("uid{}", nix::unistd::getuid());
    #[cfg(not(unix))]
    "unknown".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_json_lines_with_target_and_result() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path().join("sub/audit.jsonl"), "lab:default");
        let rotate = Action::Rotate {
            vault: "kv-pay".into(),
            object: "db-pass".into(),
            marker: false,
        };
        log.record(
            &rotate,
            &ActionOutcome {
                ok: true,
                message: "new version 3f2a".into(),
                audit: None,
            },
        )
        .unwrap();
        let restart = Action::Restart {
            namespace: "pay".into(),
            pod: "web-1".into(),
        };
        log.record(
            &restart,
            &ActionOutcome {
                ok: false,
                message: "forbidden".into(),
                audit: None,
            },
        )
        .unwrap();
        let text = std::fs::read_to_string(log.path()).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["action"], "rotate");
        assert_eq!(lines[0]["target"], "keyvault kv-pay/secrets/db-pass");
        assert_eq!(lines[0]["result"], "ok");
        assert_eq!(lines[1]["action"], "restart");
        assert_eq!(lines[1]["result"], "failed");
        assert!(
            lines[1]["identity"]
                .as_str()
                .unwrap()
                .ends_with("@lab:default")
        );
    }
}
