//! One-key actions. They are data: the UI builds an [`Action`], the user confirms it, the
//! source carries it out, the outcome is written to the [`audit`] log, and a [`timeline`]
//! watches it propagate.

pub mod audit;
pub mod copy_verdict;
pub mod keyvault;
pub mod kube;
pub mod reveal;
pub mod timeline;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "camelCase")]
pub enum Action {
    /// Write a new version of a Key Vault secret: re-stamp the current value (no functional
    /// change), or write a marker value (`marker`, needs the object name typed to confirm).
    Rotate {
        vault: String,
        object: String,
        marker: bool,
    },
    /// Write the value of an earlier version again as a new version: the way back after a
    /// marker rotation (Key Vault keeps every version; nothing is deleted).
    Restore {
        vault: String,
        object: String,
        version: String,
    },
    /// Rollout-restart the pod's owner, or delete a bare pod.
    Restart { namespace: String, pod: String },
    /// Compare in-container file and env fingerprints with the vault and synced Secret.
    Verify {
        namespace: String,
        pod: String,
        container: String,
    },
}

impl Action {
    /// Whether the action changes anything (refused in `--read-only`).
    pub fn writes(&self) -> bool {
        !matches!(self, Action::Verify { .. })
    }

    /// `kind` and `target` for the audit log and confirmations.
    pub fn describe(&self) -> (&'static str, String) {
        match self {
            Action::Rotate {
                vault,
                object,
                marker,
            } => (
                if *marker { "rotate-marker" } else { "rotate" },
                format!("keyvault {vault}/secrets/{object}"),
            ),
            Action::Restore {
                vault,
                object,
                version,
            } => (
                "restore",
                format!("keyvault {vault}/secrets/{object} from version {version}"),
            ),
            Action::Restart { namespace, pod } => ("restart", format!("pod {namespace}/{pod}")),
            Action::Verify {
                namespace,
                pod,
                container,
            } => (
                "verify",
                format!("pod {namespace}/{pod} container {container}"),
            ),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionOutcome {
    pub ok: bool,
    /// What happened, for the status line and the audit log (never a secret value).
    pub message: String,
    /// What the audit log says instead, when the status line says it shorter: a rotation
    /// test's version ids whole there, cut to 8 characters on screen (audit VVV-time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit: Option<String>,
}
