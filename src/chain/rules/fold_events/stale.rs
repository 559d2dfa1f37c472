//! Why a mount or sync event is not a current finding: a retired pod's failure a live pod's
//! mount has answered since, and a failure a later event of the same chain got past (FACTS
//! §11: evidence older than a success signal is history).

use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::events;
use crate::chain::model::LinkKind;

/// A retired pod (finished, failed, being deleted) tries nothing again, so its failure is
/// a wait to be told out only while it explains how the pod ended. Once a live pod has mounted
/// the same SecretProviderClass after the event (its SPC pod status written since), the
/// failure is history (FACTS §11: evidence older than a success signal; audit U1: "wait for
/// the next attempt" on a Job's failed pod). With no success since, it stays: a Job that
/// failed on a mount that still fails is a current finding (audit V1).
pub(super) fn retired_pod(cx: &Ctx, e: &crate::snapshot::EventObs) -> Option<String> {
    if !cx.retired() {
        return None;
    }
    // A rotation failure is of a live mount's poll: a finished pod's volumes are torn down and
    // the rotation reconciler skips it ("for jobs that complete aren't gc yet", FACTS §4), so
    // nothing is rotated again and the failure was of a mount that is gone.
    if cx.pod.finished()
        && matches!(
            e.reason.as_str(),
            "MountRotationFailed" | "SecretRotationFailed"
        )
    {
        return Some(format!(
            "pod {} is {} and holds no mount: the driver's rotation skips it",
            cx.pod.name, cx.pod.phase
        ));
    }
    let at = e.last_seen?;
    let (ns, spc) = (cx.ns(), cx.spc_name);
    let later = cx.ix.pods_mounting(ns, spc).find(|p| {
        !p.retired()
            && cx
                .ix
                .spcps
                .get(&(ns, p.name.as_str(), spc))
                .is_some_and(|st| st.mounted && st.updated_at.is_some_and(|t| t > at))
    })?;
    Some(format!(
        "pod {} is {} and will not retry; pod {} has mounted SecretProviderClass {spc} since",
        cx.pod.name,
        if cx.pod.deleting {
            "being deleted"
        } else {
            "finished"
        },
        later.name
    ))
}

/// An object's failure that a newer failure of the same object contradicts: a 404 (not
/// found) followed by 403s for a disabled version proves the object exists again (FACTS §11:
/// events are history). Returns why the older one is history.
pub(super) fn superseded(
    cx: &Ctx,
    code: Option<Code>,
    e: &crate::snapshot::EventObs,
) -> Option<String> {
    let code = code?;
    let seen = e.last_seen?;
    // The provider parses `objects` before it asks for a token (docs/scenarios.md, "Provider
    // parameters"): a later failure that Entra ID or Key Vault answered got past them, so an
    // earlier objects failure is history (audit QQQ-faults: two SPC faults, the objects one
    // repaired, read as current beside the tenant that the next poll had failed on).
    if code == Code::KVC705 {
        let past_objects = |c: Code| {
            matches!(
                c.link(),
                LinkKind::Federation | LinkKind::Access | LinkKind::VaultObject
            )
        };
        // Entra's own answers (`AADSTS…`) are classified on the Identity link too (an unknown
        // application is KVC301 until the identity is read).
        let (_, later) = later_failure(cx, seen, |c, later| {
            c.is_some_and(|c| past_objects(c) || later.message.contains("AADSTS"))
        })?;
        return Some(format!(
            "a later {} got past the objects: the provider parses them before it asks for a token",
            when(later)
        ));
    }
    // A later answer from Key Vault (a 403 or a 404) means the token exchange got through:
    // an earlier sign-in or federation failure, or an earlier 403 before a 404, is history.
    // Key Vault applies its network rules before the caller's grants: a later refusal for
    // want of a grant got past the firewall, so an earlier firewall refusal (or a request
    // that got no answer) is history too.
    if code.link() < LinkKind::VaultObject {
        let past_network =
            |c: Code| code == Code::KVC505 && c.link() == LinkKind::Access && c != Code::KVC505;
        let (later_code, later) = later_failure(cx, seen, |c, _| {
            c.is_some_and(|c| {
                (c.link() > code.link()
                    && matches!(c.link(), LinkKind::Access | LinkKind::VaultObject))
                    || past_network(c)
            })
        })?;
        let past = if later_code.is_some_and(past_network) {
            "the vault's network rules: Key Vault refused it for want of a grant".to_string()
        } else {
            format!("the {} link: Key Vault answered", code.link().title())
        };
        return Some(format!("a later {} got past {past}", when(later)));
    }
    let code = Some(code).filter(|c| c.link() == LinkKind::VaultObject)?;
    let name = events::object_name(&e.message)?;
    let (_, later) = later_failure(cx, seen, |c, later| {
        c.is_some_and(|c| c != code && c.link() == LinkKind::VaultObject)
            && events::object_name(&later.message) == Some(name)
    })?;
    Some(format!(
        "a later {} for {name} ({}) says otherwise",
        later.reason,
        later
            .last_seen
            .map_or_else(String::new, crate::glance::time)
    ))
}

/// The chain's first failure event (not Normal) seen after `seen` that `fits` (its code and
/// itself), with its code.
fn later_failure<'e>(
    cx: &'e Ctx,
    seen: jiff::Timestamp,
    fits: impl Fn(Option<Code>, &crate::snapshot::EventObs) -> bool,
) -> Option<(Option<Code>, &'e crate::snapshot::EventObs)> {
    cx.events
        .iter()
        .find(|(c, later)| {
            later.type_ != "Normal" && later.last_seen.is_some_and(|t| t > seen) && fits(*c, later)
        })
        .map(|(c, later)| (*c, *later))
}

/// `<reason> (<when it was last seen>)`, as a superseding event is named.
fn when(later: &crate::snapshot::EventObs) -> String {
    format!(
        "{} ({})",
        later.reason,
        later
            .last_seen
            .map_or_else(String::new, crate::glance::time)
    )
}
