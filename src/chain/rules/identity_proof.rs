//! Mount and sync events that prove a finding the Identity link already made from the
//! SecretProviderClass: one symptom, one cause. The event becomes that finding's evidence
//! (and makes it an error: it is seen failing) instead of a second cause on another link.

use super::auth_params::{self, ALIAS_TENANT, INVALID_TENANT};
use super::cloud::WRONG_CLOUD;
use super::params;
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::events;
use crate::chain::model::{Finding, Link, Severity};
use crate::snapshot::EventObs;

/// Fold event `e` (classified as `code`) into the Identity link's finding it proves.
/// `unrendered`: the chain's unrendered values ([`auth_params::unrendered_values`]). Returns
/// whether it was folded (the caller then adds no finding of its own).
pub(super) fn fold(
    cx: &Ctx,
    identity: &mut Link,
    code: Code,
    e: &EventObs,
    evidence: &str,
    unrendered: &[&str],
) -> bool {
    // An event quoting a value KVC306 names as unrendered (an AADSTS700016 for clientID
    // `${CLIENT_ID}`, a file "matching objectName ${OBJ}"): the template is the cause, now
    // seen failing at run time (KVC306 becomes an error, codes.yaml), not a cause it was
    // never validated for (README: placeholders are reported once and not validated).
    // Each test below asks first whether the Identity link holds the finding to fold into:
    // most chains hold none, and an SPC's sync failure is read by every chain mounting it
    // (chain_events' shared failures), so reading the message first was n² parses for n
    // replicas.
    let quotes_unrendered = || {
        unrendered.iter().any(|v| e.message.contains(v))
            || (code == Code::KVC801 && params::unrendered_sync_object(&e.message))
    };
    if let Some(f) = identity
        .findings
        .iter_mut()
        .find(|f| f.code == Code::KVC306)
        && quotes_unrendered()
    {
        if f.severity != Severity::Error && e.reason == "FailedMount" {
            f.message = format!(
                "{}; the mount of pod {} fails on it (see the driver's words)",
                f.message, cx.pod.name
            )
            .into();
        }
        prove(f, evidence);
        return true;
    }
    // The provider failing in the cloud the SPC's cloudName wrongly picks (its vault host
    // not resolving, a token asked at its login endpoint): the mismatch KVC302 names from the
    // parameters and the cluster's cloud is the cause, not the network or the identity.
    if let Some(f) = identity
        .findings
        .iter_mut()
        .find(|f| f.code == Code::KVC302 && f.evidence.iter().any(|e| e.contains(WRONG_CLOUD)))
        && super::cloud::failed_there(cx, &e.message)
    {
        prove(f, evidence);
        return true;
    }
    // AADSTS900023 (or AADSTS90002) for a tenant the SPC names but no tenant can have (or an AADSTS700016
    // "not found in the directory '<that tenant>'"): the invalid tenant KVC302 names from
    // the parameters is the cause, not a tenant to compare on the Federation link (KVC404).
    // "AADSTS90002" is a prefix of "AADSTS900023": both are matched.
    let invalid_tenant_asked = || {
        e.message.contains("AADSTS90002")
            || e.message.contains("AADSTS90010")
            || e.message.contains("AADSTS9001023")
            || events::directory(&e.message).is_some_and(auth_params::tenant_unusable)
    };
    if matches!(code, Code::KVC404 | Code::KVC301)
        && let Some(f) = identity.findings.iter_mut().find(|f| {
            f.code == Code::KVC302
                && (f.evidence.iter())
                    .any(|e| e.contains(INVALID_TENANT) || e.contains(ALIAS_TENANT))
        })
        && invalid_tenant_asked()
    {
        prove(f, evidence);
        return true;
    }
    false
}

/// The event is `f`'s evidence (once) and `f` is an error: it is seen failing.
fn prove(f: &mut Finding, evidence: &str) {
    if !f.evidence.iter().any(|known| **known == *evidence) {
        f.evidence.push(evidence.into());
    }
    f.severity = Severity::Error;
}
