//! What the running pods hold of the service account's client-id, for KVC204: the webhook
//! injects AZURE_CLIENT_ID at pod creation only (FACTS §6), so the pods that hold another id
//! are named (audit X5); and a pod volume's clientID override that the service account and the
//! SPC agree against, which is the Identity link's finding alone (FACTS §5; audit X4).

use super::remedy;
use super::sa_template::CLIENT_ID;
use crate::chain::context::Ctx;
use crate::chain::model::{Fact, Link};
use crate::snapshot::EnvSourceObs;

/// KVC204's message when the annotation `a` differs from the mount's `spc_client` (`uses`
/// says where that comes from): said of the account's running pods, not of one chain's pod,
/// so every chain of the account says the same.
pub(super) fn held(cx: &Ctx, sa_name: &str, a: &str, uses: &str, spc_client: &str) -> String {
    let wrong = remedy::sa_pods_not_holding(cx, spc_client);
    if wrong.is_empty() {
        return format!(
            "service account {sa_name} says client-id {a} but {uses}: running pods still hold {spc_client} (injected when they were created); pods created from now on get {a}, and their app and the mount will authenticate as different identities"
        );
    }
    let mut named: Vec<String> = (wrong.iter().take(5))
        .map(|p| {
            format!(
                "{} ({})",
                p.name,
                injected_client_id(p).unwrap_or("no AZURE_CLIENT_ID seen")
            )
        })
        .collect();
    if wrong.len() > 5 {
        named.push(format!("{} more", wrong.len() - 5));
    }
    format!(
        "service account {sa_name} says client-id {a} but {uses}: the mount and the app authenticate as different identities in pods that do not hold {spc_client} as AZURE_CLIENT_ID: {}; pods created from now on get {a}",
        named.join(", ")
    )
}

/// One symptom, one cause (audit X4): the service account's client-id equals the
/// SecretProviderClass's own clientID and only the pod volume's `volumeAttributes.clientID`
/// differs. The driver merges the volume's attributes over the SPC's parameters (FACTS §5), so
/// the mount authenticates as the override; the annotation feeds only the webhook's
/// AZURE_CLIENT_ID (FACTS §6) and is right. When that override is known to lack something,
/// the Identity, Federation or Access link's finding (KVC301, KVC4xx, KVC5xx) names it and
/// removes the override: nothing on this link is wrong, and it is not marked. Returns whether
/// it handled the case.
pub(super) fn stray_override_judged(
    cx: &Ctx,
    link: &mut Link,
    annotated: &str,
    own: Option<&str>,
    spc_client: &str,
    principal_of: &Option<&crate::snapshot::ManagedIdentityObs>,
) -> bool {
    if principal_of.is_some() || !own.is_some_and(|o| same(o, annotated)) {
        return false;
    }
    if !super::identity_side::readiness(cx, spc_client).lacking() {
        return false;
    }
    // The comparison pushed above read as a mismatch on this link: the annotation agrees
    // with the SPC it belongs with.
    link.facts.retain(|f| f.label != CLIENT_ID);
    link.facts.push(Fact::new(
        CLIENT_ID,
        format!(
            "{annotated}, as SecretProviderClass {}'s clientID; pod volume {} overrides the mount's with volumeAttributes.clientID {spc_client} (the Identity link's finding)",
            cx.spc_name, cx.volume.name
        ),
    ));
    true
}

pub(crate) fn same(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// The AZURE_CLIENT_ID a pod's containers hold (injected by the webhook, or set in the spec).
pub(crate) fn injected_client_id(pod: &crate::snapshot::PodObs) -> Option<&str> {
    injected_env(pod, "AZURE_CLIENT_ID")
}

/// A literal env var of the pod's containers (what the webhook injects, or the spec sets).
pub(crate) fn injected_env<'p>(pod: &'p crate::snapshot::PodObs, name: &str) -> Option<&'p str> {
    pod.containers.iter().find_map(|c| {
        c.env.iter().find_map(|e| match &e.source {
            EnvSourceObs::Literal { value: Some(v) } if e.name == name => Some(v.as_str()),
            _ => None,
        })
    })
}
