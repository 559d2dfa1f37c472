//! The rotation test's write on a live Key Vault: a new version of a secret (the action is
//! described in `action::keyvault`). The value read for a re-stamp lives only inside
//! [`rotate`]; it is never logged, returned or put into an error.

use azure_security_keyvault_secrets::SecretClient;
use azure_security_keyvault_secrets::models::SetSecretParameters;

use super::http::FetchError;
use crate::action::ActionOutcome;
use crate::action::keyvault::{self, NewValue, marker_value};

/// Write a new version of `object`. Returns the outcome with the new version id.
pub async fn rotate(
    client: &SecretClient,
    vault: &str,
    object: &str,
    value: NewValue<'_>,
    at: jiff::Timestamp,
) -> ActionOutcome {
    let fail = |step: Step, e: azure_core::Error| ActionOutcome {
        ok: false,
        message: failure(step, vault, object, &e),
        audit: None,
    };
    let version = match value {
        NewValue::Restore(v) => Some(
            azure_security_keyvault_secrets::models::SecretClientGetSecretOptions {
                secret_version: Some(v.to_string()),
                ..Default::default()
            },
        ),
        _ => None,
    };
    let current = match client
        .get_secret(object, version)
        .await
        .and_then(|r| r.into_model())
    {
        Ok(s) => s,
        Err(e) => return fail(Step::Read, e),
    };
    let params = SetSecretParameters {
        value: if value == NewValue::Marker {
            Some(marker_value(at))
        } else {
            current.value
        },
        content_type: current.content_type,
        tags: current.tags,
        secret_attributes: None,
    };
    let body = match params.try_into() {
        Ok(b) => b,
        Err(e) => return fail(Step::Encode, e),
    };
    match client
        .set_secret(object, body, None)
        .await
        .and_then(|r| r.into_model())
    {
        Ok(written) => {
            let version = written
                .id
                .as_deref()
                .and_then(|id| id.rsplit('/').next())
                .unwrap_or("?")
                .to_string();
            keyvault::written_outcome(&version, vault, object, &value)
        }
        Err(e) => fail(Step::Write, e),
    }
}

/// The step of a rotation that failed: a 403 names the permission that step needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// `get_secret`: the current value and its content type and tags.
    Read,
    Encode,
    /// `set_secret`: the new version.
    Write,
}

/// What to tell the user when a rotation step fails: status and Key Vault error code (never
/// a body, which could echo the value), and for a 403 the role or access-policy permission
/// kvchain's Azure identity lacks.
fn failure(step: Step, vault: &str, object: &str, e: &azure_core::Error) -> String {
    let why = FetchError::from_core(e).reason;
    let status = e.http_status().map(u16::from);
    match (step, status) {
        (_, Some(403)) if why.contains("SecretDisabled") => format!(
            "refused: the latest version of secret {object} in vault {vault} is disabled ({why}); enable it before a rotation test"
        ),
        (Step::Read, Some(403)) => format!(
            "refused: kvchain's Azure identity may not read secret {object} in vault {vault} ({why}); the rotation test reads the current version first and needs the Key Vault Secrets Officer role (RBAC vault) or secrets/get and secrets/set in an access policy"
        ),
        (_, Some(403)) => format!(
            "refused: kvchain's Azure identity may not write secret {object} in vault {vault} ({why}); a new version needs the Key Vault Secrets Officer role (RBAC vault) or secrets/set in an access policy"
        ),
        (_, Some(404)) => format!("secret {object} not found in vault {vault} ({why})"),
        (Step::Read, _) => format!("reading secret {object} in vault {vault} failed: {why}"),
        (Step::Encode, _) => format!("encoding the new version of {object} failed: {why}"),
        (Step::Write, _) => format!("writing secret {object} in vault {vault} failed: {why}"),
    }
}
