//! One-key actions. They are data: the UI builds an [`Action`], the user confirms it, the
//! source carries it out and the outcome is written to the audit log.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "camelCase")]
pub enum Action {
    /// Write a new version of a Key Vault secret (re-stamp the value, or a marker value).
    Rotate {
        vault: String,
        object: String,
        marker: bool,
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

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionOutcome {
    pub ok: bool,
    /// What happened, for the status line and the audit log (never a secret value).
    pub message: String,
}
