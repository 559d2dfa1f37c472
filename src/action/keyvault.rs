//! The rotation test on a live Key Vault: write a new version of a secret.
//!
//! Default mode re-stamps the current value as a new version (nothing changes for the app,
//! but every hop must pick up a new version id). Marker mode writes a recognisable marker and
//! is confirmed by typing the object name. The value read for a re-stamp lives only inside
//! [`rotate`]; it is never logged, returned or put into an error.

use azure_security_keyvault_secrets::SecretClient;
use azure_security_keyvault_secrets::models::SetSecretParameters;

use super::ActionOutcome;
use crate::snapshot::ObjectType;

/// Why a rotation test cannot be offered for this object, if it cannot.
pub fn refusal(
    object_type: Option<ObjectType>,
    pinned_version: Option<&str>,
    backs_certificate: bool,
    read_only: bool,
) -> Option<String> {
    if read_only {
        return Some("read-only mode: writes are disabled (--read-only)".into());
    }
    match object_type {
        Some(ObjectType::Secret) => {}
        Some(t) => {
            return Some(format!(
                "objectType {} cannot be rotated from here: keys and certificates get new versions through their own rotation policy",
                t.as_str()
            ));
        }
        None => return Some("unknown objectType".into()),
    }
    if backs_certificate {
        return Some("this secret backs a certificate: rotate the certificate instead".into());
    }
    if let Some(v) = pinned_version {
        return Some(format!(
            "objectVersion is pinned to {v}: the driver would keep mounting that version, so a new version proves nothing"
        ));
    }
    None
}

/// The marker value written in marker mode: recognisable, carries no secret.
pub fn marker_value(at: jiff::Timestamp) -> String {
    format!("kvchain-rotation-test-{}", at.as_second())
}

/// Write a new version of `object`. Returns the outcome with the new version id.
pub async fn rotate(
    client: &SecretClient,
    vault: &str,
    object: &str,
    marker: bool,
    at: jiff::Timestamp,
) -> ActionOutcome {
    let fail = |what: &str, e: azure_core::Error| ActionOutcome {
        ok: false,
        message: format!("{what} {vault}/{object} failed: {}", describe_error(&e)),
    };
    let current = match client
        .get_secret(object, None)
        .await
        .and_then(|r| r.into_model())
    {
        Ok(s) => s,
        Err(e) => return fail("reading", e),
    };
    let params = SetSecretParameters {
        value: if marker {
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
        Err(e) => return fail("encoding", e),
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
            ActionOutcome {
                ok: true,
                message: format!(
                    "new version {version} of {vault}/{object} written ({})",
                    if marker {
                        "marker value"
                    } else {
                        "same value re-stamped"
                    }
                ),
            }
        }
        Err(e) => fail("writing", e),
    }
}

/// Status code and Key Vault error code, without echoing request bodies.
fn describe_error(e: &azure_core::Error) -> String {
    match e.http_status() {
        Some(status) => {
            let text = e.to_string();
            let code = text
                .lines()
                .find_map(|l| l.strip_prefix("ERROR CODE: "))
                .map(|c| format!(" {c}"))
                .unwrap_or_default();
            format!("HTTP {}{code}", u16::from(status))
        }
        None => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_explain_why() {
        assert!(refusal(Some(ObjectType::Secret), None, false, false).is_none());
        assert!(
            refusal(Some(ObjectType::Secret), None, false, true)
                .unwrap()
                .contains("--read-only")
        );
        assert!(
            refusal(Some(ObjectType::Cert), None, false, false)
                .unwrap()
                .contains("objectType cert")
        );
        assert!(
            refusal(Some(ObjectType::Key), None, false, false)
                .unwrap()
                .contains("objectType key")
        );
        assert!(
            refusal(Some(ObjectType::Secret), Some("abc"), false, false)
                .unwrap()
                .contains("pinned to abc")
        );
        assert!(
            refusal(Some(ObjectType::Secret), None, true, false)
                .unwrap()
                .contains("backs a certificate")
        );
    }
}
