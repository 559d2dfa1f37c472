//! The confirmed user actions (rotate, restore, restart, verify) carried out on the lab.

use super::LabSource;
use super::azure;
use super::world::World;
use crate::action::keyvault::{self, NewValue};
use crate::action::{Action, ActionOutcome};

impl LabSource {
    /// Carries out a confirmed user action against the lab.
    pub fn act(&mut self, action: &Action) -> ActionOutcome {
        let w = &mut self.world;
        let r = match action {
            Action::Rotate {
                vault,
                object,
                marker,
            } => {
                let value = marker.then(|| keyvault::marker_value(w.now()));
                let how = NewValue::rotation(*marker);
                w.write_test_version(vault, object, value.as_deref().map(str::as_bytes), &how)
            }
            Action::Restore {
                vault,
                object,
                version,
            } => restore(w, vault, object, version),
            Action::Restart { namespace, pod } => w.restart_pod(namespace, pod).map(done),
            Action::Verify {
                namespace,
                pod,
                container,
            } => w.verify(namespace, pod, container).map(done),
        };
        match r {
            Ok(outcome) => outcome,
            Err(message) => ActionOutcome {
                ok: false,
                message,
                audit: None,
            },
        }
    }
}

/// An action done, said by `message`.
fn done(message: String) -> ActionOutcome {
    ActionOutcome {
        ok: true,
        message,
        audit: None,
    }
}

/// A new version holding what `version` held: the way back after a marker rotation.
fn restore(
    w: &mut World,
    vault: &str,
    object: &str,
    version: &str,
) -> Result<ActionOutcome, String> {
    let content = w
        .vaults
        .get(vault)
        .ok_or_else(|| format!("vault {vault} not found"))?
        .objects
        .get(&(crate::snapshot::ObjectType::Secret, object.to_string()))
        .ok_or_else(|| format!("secret {object} not found in vault {vault}"))?
        .versions
        .iter()
        .find(|v| v.id == version)
        .ok_or_else(|| format!("secret {object} has no version {version} in vault {vault}"))?;
    // Reading it is a GET of that version, which Key Vault refuses while it is disabled
    // (FACTS §5, 403 SecretDisabled; audit S3).
    if !content.enabled {
        return Err(azure::refused_disabled(
            &format!("version {version} of secret {object} in vault {vault}"),
            "enable it to restore its value",
        ));
    }
    let content = content.content.clone();
    w.write_test_version(vault, object, Some(&content), &NewValue::Restore(version))
}
