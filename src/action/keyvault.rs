//! The rotation test on a live Key Vault: write a new version of a secret.
//!
//! Default mode re-stamps the current value as a new version (nothing changes for the app,
//! but every hop must pick up a new version id). Marker mode writes a recognisable marker and
//! is confirmed by typing the object name. The write itself is the Azure source's
//! (`source::azure::rotate`): actions go back to the source that can carry them out.

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

/// What a rotation test writes as the new version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewValue<'a> {
    /// The current value again: nothing changes for the app, every hop gets a new version.
    Restamp,
    /// A recognisable marker (see [`marker_value`]).
    Marker,
    /// The value of an earlier version again (undoes a marker rotation).
    Restore(&'a str),
}

impl NewValue<'_> {
    /// What `r` (a re-stamp) or `M` (`marker`) writes.
    pub fn rotation(marker: bool) -> Self {
        match marker {
            true => NewValue::Marker,
            false => NewValue::Restamp,
        }
    }
}

/// The marker value written in marker mode: recognisable, carries no secret.
pub fn marker_value(at: jiff::Timestamp) -> String {
    format!("kvchain-rotation-test-{}", at.as_second())
}

/// What a rotation test wrote, as the status line and the audit log say it: the live source
/// and the lab say it alike (audit UUU-time2).
pub fn written(version: &str, vault: &str, object: &str, value: &NewValue) -> String {
    let what = match value {
        NewValue::Marker => "marker value".to_string(),
        NewValue::Restamp => "same value re-stamped".to_string(),
        NewValue::Restore(v) => format!("value of version {v} restored"),
    };
    format!("new version {version} of {vault}/{object} written ({what})")
}

/// What a rotation test wrote, as [`written`] says it: on the status line with the version
/// ids cut ([`short_version`]), whole, the line took three rows at 80 columns; whole in the
/// audit log, which is where they are looked up later (audit VVV-time).
pub fn written_outcome(
    version: &str,
    vault: &str,
    object: &str,
    value: &NewValue,
) -> ActionOutcome {
    let old = match value {
        NewValue::Restore(v) => short_version(v),
        _ => String::new(),
    };
    let shown = match value {
        NewValue::Restore(_) => NewValue::Restore(&old),
        other => *other,
    };
    ActionOutcome {
        ok: true,
        message: written(&short_version(version), vault, object, &shown),
        audit: Some(written(version, vault, object, value)),
    }
}

/// A version id cut to its first 8 characters, as the timeline's step and the restore offer
/// show it: a status message with whole 32-character ids takes three rows at 80 columns.
pub fn short_version(v: &str) -> String {
    match v.get(..8) {
        Some(head) if head.len() < v.len() => format!("{head}…"),
        _ => v.to_string(),
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
