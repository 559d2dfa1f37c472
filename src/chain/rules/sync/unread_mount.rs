//! The synced Secret when the pod's SecretProviderClassPodStatus could not be read: what the
//! pod has mounted is unknown, so whether the Secret holds it cannot be told from the mount
//! (unknown is not absent, and not healthy). The vault's versions can still prove it stale:
//! a pod created after the vault's latest version was made mounted that version (its first
//! mount fetches the latest, FACTS §5), while the Secret, created once and then rewritten only
//! by rotation (FACTS §2, §11), holds the value of an older one (compared by fingerprints).

use super::TLS;
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::{Fact, Link, Status};
use crate::fingerprint::Fingerprint;
use crate::snapshot::{ContainerStateObs, ObjectType, ObjectVersion, SecretObjectSpec, SecretObs};

/// The vault version a key of the Secret holds (by fingerprint), and the latest.
struct Behind<'a> {
    key: &'a str,
    object: &'a str,
    held: &'a ObjectVersion,
    latest: &'a ObjectVersion,
    /// The fingerprints of the two (the Secret's value is the first).
    held_fp: Fingerprint,
    latest_fp: Fingerprint,
}

impl Behind<'_> {
    fn is_latest(&self) -> bool {
        self.held.version == self.latest.version
    }
}

/// Sync for `secret` (of entry `so`) while SPCPS is a gap (`reason`): KVC805 when the vault
/// proves the pod mounted a newer version than the Secret holds, else the link is unknown.
pub(super) fn check(
    cx: &Ctx,
    link: &mut Link,
    so: &SecretObjectSpec,
    secret: &SecretObs,
    reason: &str,
) {
    let compared: Vec<Option<Behind>> = so
        .data
        .iter()
        .filter(|d| secret.data.contains_key(&d.key))
        .map(|d| held_version(cx, so, &d.object_name, &d.key, secret))
        .collect();
    // The pod mounted (its containers run only after its volumes are set up) and was created
    // after the vault's latest version was made: its first mount fetched that one.
    let running = cx
        .pod
        .containers
        .iter()
        .any(|c| matches!(c.state, ContainerStateObs::Running { .. }));
    let created = cx.pod.created_at;
    let mounted_latest =
        |b: &Behind| running && matches!((created, b.latest.created), (Some(c), Some(l)) if c > l);
    // Every key holds the latest version, which the pod mounted: the Secret holds the mount.
    if !compared.is_empty()
        && compared.iter().all(|b| {
            b.as_ref()
                .is_some_and(|b| b.is_latest() && mounted_latest(b))
        })
    {
        return;
    }
    let behind: Vec<&Behind> = compared
        .iter()
        .flatten()
        .filter(|b| !b.is_latest())
        .collect();
    let proven = !behind.is_empty() && behind.iter().all(|b| mounted_latest(b));
    let held = |b: &Behind| {
        format!(
            "key {} holds version {} ({}, created {})",
            b.key,
            short(&b.held.version),
            b.held_fp,
            when(b.held)
        )
    };
    let latest = |b: &Behind| {
        format!(
            "the vault's latest version of {} is {} ({}, created {})",
            b.object,
            short(&b.latest.version),
            b.latest_fp,
            when(b.latest)
        )
    };
    if proven {
        let mut evidence: Vec<String> = behind.iter().flat_map(|b| [held(b), latest(b)]).collect();
        evidence.push(format!(
            "pod {} was created {} and runs: its mount fetched the latest versions",
            cx.pod.name,
            created.map(|c| c.to_string()).unwrap_or_default()
        ));
        evidence.push(format!("SecretProviderClassPodStatus not read: {reason}"));
        let keys: Vec<&str> = behind.iter().map(|b| b.key).collect();
        link.findings.push(cx.remedied(
            Code::KVC805,
            format!("Secret/{}", secret.name),
            format!(
                "synced Secret {} holds an older vault version than {} mounted: {} (created after the vault's latest version was made; told from the vault's versions, as SecretProviderClassPodStatus could not be read)",
                secret.name,
                super::mounted_by(cx),
                keys.join(", ")
            ),
            evidence,
        ));
        return;
    }
    if link.status != Status::Ok {
        return;
    }
    link.status = Status::Unknown;
    link.summary = "mount unknown".into();
    let mut why = format!(
        "what pod {} has mounted is not known, so whether Secret {} holds it cannot be told",
        cx.pod.name, secret.name
    );
    // Behind the vault, but the mount may be as old (a pod older than the version, rotation
    // not yet or never there): not proven stale against the mount.
    for b in behind {
        why.push_str("; ");
        why.push_str(&held(b));
        why.push_str(", ");
        why.push_str(&latest(b));
    }
    // The read's reason as it stands, so the reports tie the link to that gap (audit Q1).
    link.facts.push(Fact::new("unknown", reason));
    link.facts.push(Fact::new("not checked", why));
}

/// The version of its vault object whose value key `key` (built from mounted file `file`)
/// holds, by fingerprint. Only where a file's content is the version's value (a plain secret
/// object, no encoding, not backing a certificate, not pinned, no history, not a TLS Secret's
/// split parts) and the source fingerprints versions.
fn held_version<'a>(
    cx: &'a Ctx,
    so: &SecretObjectSpec,
    file: &str,
    key: &'a str,
    secret: &SecretObs,
) -> Option<Behind<'a>> {
    if so.type_ == TLS {
        return None;
    }
    let value = secret.data.get(key)?;
    let p = cx.params.as_deref()?;
    let (j, o) = p
        .objects
        .iter()
        .enumerate()
        .find(|(_, o)| o.file_name() == file)?;
    let plain = o.object_type == Some(ObjectType::Secret)
        && o.object_version.is_none()
        && o.object_version_history.is_none_or(|h| h <= 1)
        && o.object_encoding
            .as_deref()
            .is_none_or(|e| e.eq_ignore_ascii_case("utf-8"))
        && o.object_format
            .as_deref()
            .is_none_or(|f| f.eq_ignore_ascii_case("pem"));
    if !plain {
        return None;
    }
    let vault = p.keyvault_name.as_deref().unwrap_or_default();
    let obj = cx
        .vault_object(j, vault, ObjectType::Secret, &o.object_name)?
        .state
        .known()?
        .as_ref()?;
    if obj.backs_certificate {
        return None;
    }
    let latest = obj.latest().filter(|l| l.enabled)?;
    // A source may fingerprint the latest version on the object only.
    let latest_fp = latest.fingerprint.or(obj.latest_fingerprint)?;
    let held = if latest_fp == *value {
        latest
    } else {
        obj.versions
            .iter()
            .skip(1)
            .find(|v| v.fingerprint.as_ref() == Some(value))?
    };
    Some(Behind {
        key,
        object: &o.object_name,
        held,
        latest,
        held_fp: *value,
        latest_fp,
    })
}

fn short(version: &str) -> String {
    format!("{}…", version.get(..8).unwrap_or(version))
}

fn when(v: &ObjectVersion) -> String {
    v.created
        .map(|c| c.to_string())
        .unwrap_or_else(|| "at a time not observed".to_string())
}
