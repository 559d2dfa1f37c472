//! What the running pods hold of the service account's client-id, for KVC204: the webhook
//! injects AZURE_CLIENT_ID at pod creation only (FACTS §6), so the pods that hold another id
//! are named (audit X5); and a mount clientID (the SPC's, or a pod volume's override) that
//! is the one thing wrong, which is the Identity, Federation or Access link's finding alone
//! (FACTS §5; audits X4, DD7).

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
    if wrong.is_empty() && remedy::sa_only_finished(cx) {
        return format!(
            "service account {sa_name} says client-id {a} but {uses}: no pod of it runs now (those seen have finished); the next one is created with {a}, and its app and the mount will authenticate as different identities"
        );
    }
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

/// One symptom, one cause: the mount's clientID is the one thing wrong, and the Identity,
/// Federation or Access link's finding (KVC301, KVC4xx, KVC5xx) says so with the fix that
/// changes it; the service account's client-id is right, so nothing on this link is marked and
/// no KVC204 repeats that fix. The mount reads only its own clientID (FACTS §5); the
/// annotation feeds only the webhook's AZURE_CLIENT_ID (FACTS §6). Two shapes:
/// - audit X4: the annotation equals the SecretProviderClass's own clientID and only the pod
///   volume's `volumeAttributes.clientID` (merged over the SPC's parameters, FACTS §5)
///   differs, with an identity known to lack something;
/// - audit DD7/DD2: the service account's identity is the one to keep (complete, or the only
///   managed identity of the two: the SPC's names none) and the mount's is known to lack
///   something, which its own link reports and `identity_side::point_at_working` turns into
///   the SPC edit to the annotation's id.
///
/// Returns whether it handled the case.
pub(super) fn mount_side_judged(
    cx: &Ctx,
    link: &mut Link,
    annotated: &str,
    own: Option<&str>,
    spc_client: &str,
    principal_of: &Option<&crate::snapshot::ManagedIdentityObs>,
) -> bool {
    use super::identity_side::{Side, pick, readiness};
    if principal_of.is_some() {
        return false;
    }
    let overridden =
        cx.attributes.contains_key("clientID") && own.is_none_or(|o| !same(o, spc_client));
    let fact = if overridden
        && own.is_some_and(|o| same(o, annotated))
        && readiness(cx, spc_client).lacking()
    {
        format!(
            "{annotated}, as SecretProviderClass {}'s clientID; pod volume {} overrides the mount's with volumeAttributes.clientID {spc_client} (the Identity link's finding)",
            cx.spc_name, cx.volume.name
        )
    } else if let Side::ServiceAccount { sa, .. } | Side::OnlyServiceAccount { sa, .. } =
        pick(cx, annotated, spc_client)
    {
        format!(
            "{annotated}, the service account's {}: the one to keep; the mount's clientID {spc_client} is what this chain's Identity, Federation or Access finding changes",
            sa.named()
        )
    } else {
        return false;
    };
    // The comparison pushed above read as a mismatch on this link: the annotation is right.
    link.facts.retain(|f| f.label != CLIENT_ID);
    link.facts.push(Fact::new(CLIENT_ID, fact));
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
