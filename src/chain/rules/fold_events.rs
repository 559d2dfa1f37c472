//! Mount and sync events folded into the links they break: a rule that found the cause from
//! the objects owns the symptom (the event is its evidence), an event older than the chain's
//! latest success signal is history, and a failure over objects that now look right says so.

use super::{
    auth_params, federation, followup, history, identity_proof, placement, pod_now, remedy, sync,
    vault_object,
};
use crate::chain::catalog::Code;
use crate::chain::context::{AuthMode, Ctx, event_evidence};
use crate::chain::events;
use crate::chain::model::{Finding, Link, LinkKind, Status, Text};

mod settled;
mod stale;

use settled::sync_settled;
use stale::{retired_pod, superseded};

/// Fold classified mount/sync events into the links they break.
///
/// Only current evidence counts: an event older than the chain's latest success signal (or a
/// rotation failure that stopped recurring) is history, kept as a fact on the link it once
/// broke ([`history`]).
///
/// Returns whether a current FailedMount was folded in: the mount failed, so the pod is no
/// longer merely on its way to one.
pub(crate) fn apply_events(cx: &Ctx, links: &mut [Link]) -> bool {
    if cx.events.is_empty() {
        return false; // most chains: no success signals to gather
    }
    let signals = history::Signals::of(cx);
    // When the grants were made (or the credentials changed) that failures recorded before
    // them were refused for want of, and which of the two it was.
    let mut granted_at: Option<(jiff::Timestamp, &'static str)> = None;
    // Decided before any event adds findings: "clean" means the objects showed no problem.
    // Per event: whether it is current, and whether it only restates an earlier failure.
    let mut current: Vec<(bool, bool)> = cx
        .events
        .iter()
        .map(|(code, e)| {
            let link = code.map_or(LinkKind::Mount, |c| c.link());
            // Rotation off (KVC702) is no cause a rotation failure is the evidence of: it is
            // why nothing retries one (`history` reads it so), not a fault the event shows
            // (audit RR2). It leaves the link clean for the event.
            let clean = (links[link.index()].findings.iter()).all(|f| f.code == Code::KVC702);
            let now = match retired_pod(cx, e)
                .or_else(|| signals.past(e, clean))
                .or_else(|| superseded(cx, *code, e))
                .or_else(|| vault_object::back_now(cx, *code, e, clean))
                .or_else(|| history::firewall_open_now(cx, *code, e, clean))
                .or_else(|| {
                    let (why, at, what) = match history::granted_since(cx, *code, e) {
                        Some((why, at)) => (why, at, "the 403s before it, which predate the grant made"),
                        None => {
                            let (why, at) = history::fic_changed_since(cx, *code, e)?;
                            (why, at, "the refused token exchanges before it, which predate the credential's change")
                        }
                    };
                    granted_at = Some(granted_at.filter(|(t, _)| *t >= at).unwrap_or((at, what)));
                    Some(why)
                }) {
                Some(why) => {
                    history::record(&mut links[link.index()], *code, e, why);
                    false
                }
                None => e.type_ != "Normal",
            };
            (now, now && events::is_followup(&e.message))
        })
        .collect();
    let has_cause = current.iter().any(|&(now, followup)| now && !followup);
    if !has_cause && let Some((at, what)) = granted_at {
        restated_before_grant(cx, links, &mut current, at, what);
    }
    // Links whose objects were read and showed nothing wrong, before any event is folded in.
    let seen_fine = LinkKind::ALL.map(|l| objects_look_right(cx, &links[l.index()]));
    let spc_objects_fine = spc_objects_validate(cx, &links[LinkKind::Mount.index()]);
    let mut blocked_by: Option<LinkKind> = None;
    let unrendered = cx
        .params
        .as_deref()
        .map_or_else(Vec::new, |p| auth_params::unrendered_values(p, cx.spc));
    // The kubelet's generic timeout names no cause (FACTS §3): with none among the events,
    // a cause the objects show up to the Mount link is what it restates.
    let structural = followup::structural_cause(links);
    for ((code, e), &(now, followup)) in cx.events.iter().zip(&current) {
        if !now || (has_cause && followup) {
            continue;
        }
        if followup && let Some(l) = structural {
            followup::fold(&mut links[l.index()], e);
            blocked_by = Some(blocked_by.map_or(l, |b| b.min(l)));
            continue;
        }
        let code = match code {
            Some(c) => resolve(cx, *c, e),
            None if e.type_ == "Normal" => continue,
            None => Code::KVC701,
        };
        let evidence = event_evidence(e);
        // An event that proves what the Identity link read from the SPC (an unrendered value,
        // an invalid tenant) is that finding's evidence, not a second cause.
        if identity_proof::fold(
            cx,
            &mut links[LinkKind::Identity.index()],
            code,
            e,
            &evidence,
            &unrendered,
        ) {
            if e.reason == "FailedMount" {
                blocked_by =
                    Some(blocked_by.map_or(LinkKind::Identity, |b| b.min(LinkKind::Identity)));
            }
            continue;
        }
        // A 403 or 404 for an object under the objectType the SPC asks, which the vault holds
        // under another type: the wrong objectType (KVC601 on the Object link) is the cause,
        // and the refusal for the type asked is its proof, not a missing grant.
        if matches!(code, Code::KVC501 | Code::KVC601)
            && let Some(f) = wrong_type_of(cx, &mut links[LinkKind::VaultObject.index()], e)
        {
            if !f.evidence.iter().any(|known| **known == *evidence) {
                f.evidence.push(evidence.into());
            }
            if e.reason == "FailedMount" {
                blocked_by = Some(
                    blocked_by.map_or(LinkKind::VaultObject, |b| b.min(LinkKind::VaultObject)),
                );
            }
            continue;
        }
        let link = &mut links[code.link().index()];
        // The driver failing to build a synced Secret the SPC's secretObjects already say it
        // cannot build (KVC804's tls keys, KVC801's file, a type's required key): the event
        // is that cause's proof (one symptom, one cause), not a KVC806 of its own.
        if code.link() == LinkKind::Sync
            && let Some(f) = sync::event_cause(cx, e).and_then(|i| link.findings.get_mut(i))
        {
            if !f.evidence.iter().any(|known| **known == *evidence) {
                f.evidence.push(evidence.into());
            }
            continue;
        }
        // The rotation reconciler's failed patch of a Secret the driver does not manage (no
        // managed label): it finds none in its cache, and the Secret's own finding (made by
        // someone else) is the cause, the event its proof.
        if code.link() == LinkKind::Sync
            && let Some(f) =
                sync::unmanaged_patch_symptom(cx, e, link).and_then(|i| link.findings.get_mut(i))
        {
            if !f.evidence.iter().any(|known| **known == *evidence) {
                f.evidence.push(evidence.into());
            }
            continue;
        }
        // The API server refusing an unrendered data key: the SPC's template finding is the
        // cause (one symptom, one cause), the event its proof.
        if code.link() == LinkKind::Sync
            && sync::refused_unrendered_key(cx, e)
            && let Some(f) = (links[LinkKind::Identity.index()].findings.iter_mut())
                .find(|f| f.code == Code::KVC306)
        {
            if !f.evidence.iter().any(|known| **known == *evidence) {
                f.evidence.push(evidence.into());
            }
            continue;
        }
        // A driver failure over a secretObjects entry the SPC has since corrected, whose
        // files the pod's mount lacks (an item the edit added): the mount predating the edit
        // is what keeps the Secret from being built now (KVC703; FACTS §4). The event is its
        // evidence (audit DD1). With rotation on and its poll still due since the event, no
        // KVC703 is there and the Sync finding says to wait (audit EE1, FF1-a).
        let settled = (code.link() == LinkKind::Sync)
            .then(|| sync::settled(cx, e))
            .flatten();
        if let Some(s) = settled.as_ref().filter(|s| !s.unmounted.is_empty())
            && fold_into_remount(cx, links, &evidence, s)
        {
            continue;
        }
        let link = &mut links[code.link().index()];
        // A DaemonSet pod's selector or taint rejection, which the placement rule judged not
        // to be its story (`placement::daemon_pod`): no finding of its own.
        if code == Code::KVC107
            && placement::daemon_pod(cx)
            && !link.findings.iter().any(|f| f.code == code)
        {
            continue;
        }
        // A rule that found the cause from the objects owns the symptom: the event
        // corroborates it (the same code first, else the same failure seen from the rule's
        // side) and adds no second, contradictory cause.
        // A driver failure naming its Secret is that secretObjects entry's only: another
        // entry's own cause does not take it (audit EE5).
        let ours = |i: &usize| code.link() != LinkKind::Sync || !sync::foreign_cause(cx, e, *i);
        let known = (0..link.findings.len())
            .filter(ours)
            .find(|&i| link.findings[i].code == code)
            .or_else(|| {
                (0..link.findings.len())
                    .filter(ours)
                    .find(|&i| same_failure(link.findings[i].code, code))
            });
        if let Some(f) = known.map(|i| &mut link.findings[i]) {
            if !f.evidence.iter().any(|known| **known == *evidence) {
                f.evidence.push(evidence.into());
            }
            federation::quote_event_code(f, &e.message);
            // A missing or wrong role whose current 403 names a deny assignment: the deny
            // assignment is said first, as a grant changes nothing while it stands (EE2).
            if matches!(f.code, Code::KVC501 | Code::KVC502)
                && let Some(id) = events::deny_assignment(&e.message)
            {
                remedy::deny_before_grant(cx, f, id, &e.message);
            }
        } else {
            let mut f = remedy::from_event(cx, code, e, evidence);
            // A docker-config Secret's patch refused for its value: the stale values are
            // that cause's symptom (audit NNN5's follow-up).
            if code == Code::KVC806 {
                sync::absorb_stale_values(cx, e, link, &mut f);
            }
            // A tls.key from a certificate whose policy was not read: the open cause is named.
            if code == Code::KVC804 && settled.is_none() {
                sync::note_exportability_unknown(cx, &mut f, e);
            }
            // The Mount link's one code about what kvchain reads is KVC705 (the SPC's
            // objects); an unclassified FailedMount (KVC701) names nothing kvchain can check,
            // so it is never shown right and stays as it is.
            // The Pod link's causes are each one object kvchain reads (the SPC, the driver on
            // the node, the CSIDriver's tokens): checked one by one, not by the whole link.
            let pod_now = (code.link() == LinkKind::Pod)
                .then(|| pod_now::looks_right(cx, code, e))
                .flatten();
            // A 403 a deny assignment refused (FACTS §5's `DenyAssignmentId`): no grant
            // kvchain reads overrides it, so it is no "looks right now, wait" (audit CC6).
            let denied = (code.link() == LinkKind::Access)
                .then(|| events::deny_assignment(&e.message))
                .flatten();
            if let Some(id) = denied {
                remedy::deny_assigned(cx, &mut f, id, &e.message);
            }
            let fine = match code {
                _ if denied.is_some() => false,
                Code::KVC705 => spc_objects_fine,
                // The vault's tenant is half of what a refused issuer is about: unread (a
                // vault in another tenant is one kvchain cannot see), nothing "looks right"
                // (audit DDD6).
                Code::KVC406 => cx.vault.is_some() && seen_fine[code.link().index()],
                _ if code.link() == LinkKind::Sync => settled.is_some(),
                // No answer at all: the DNS zone and the route are not what kvchain reads.
                _ if remedy::network::is_unanswered(&e.message) => false,
                _ if code.link() == LinkKind::Pod => pod_now.is_some(),
                _ => seen_fine[code.link().index()],
            };
            if let Some(s) = settled.as_ref() {
                sync_settled(cx, &mut f, e, s);
                // Another entry's own cause, already on the link, keeps its summary: this
                // entry's settled failure says nothing of it (audit EE5).
                if link.findings.is_empty() {
                    link.status = f.severity.status();
                    link.summary = Text::const_new(CONTRADICTED);
                }
            } else if fine {
                contradicted(&mut f, code.link(), pod_now.as_deref());
                history::say_alike(&mut f, code, &e.message);
                // Settled now, so the link does not read as the code's cause ("no FIC
                // matches") over objects that show none: the attempt failed, the next tells.
                link.status = f.severity.status();
                link.summary = Text::const_new(CONTRADICTED);
            }
            // A pinned version the vault answered 404 for: the pin is this cause, not a
            // second finding (audit XC-left; the Azure-visible path folds it the same way).
            if code == Code::KVC601
                && !fine
                && settled.is_none()
                && let (Some(name), Some(v)) = (
                    events::object_name(&e.message),
                    events::object_version(&e.message),
                )
            {
                super::vault_object::drop_pin(link, name, v);
            }
            link.findings.push(f);
        }
        if e.reason == "FailedMount" {
            blocked_by = Some(blocked_by.map_or(code.link(), |b| b.min(code.link())));
        }
    }
    let Some(cause) = blocked_by else {
        return false;
    };
    let mount = &mut links[LinkKind::Mount.index()];
    if cause != LinkKind::Mount && mount.status < Status::Broken {
        mount.status = Status::Broken;
        mount.summary = compact_str::format_compact!("blocked: {}", cause.title());
    }
    // The kubelet starts no container before its volumes mount: nothing in this pod reads
    // the synced Secret yet, even one a running sibling had built.
    let consumers = &mut links[LinkKind::Consumers.index()];
    if consumers.status == Status::Ok && consumers.findings.is_empty() {
        consumers.status = Status::Pending;
        consumers.summary = compact_str::format_compact!("blocked: {}", cause.title());
    }
    true
}

/// The kubelet's timeout (`Unable to attach or mount volumes`, FACTS §3) names no cause: it
/// restates the attempts before it. With no current cause left, one last seen before the
/// grant (or the credential's change) made at `at` that the failures before it were refused
/// for restates them (`what`), and is history with them (FACTS §11), not a failure "no rule
/// explains" (KVC701).
fn restated_before_grant(
    cx: &Ctx,
    links: &mut [Link],
    current: &mut [(bool, bool)],
    at: jiff::Timestamp,
    what: &str,
) {
    for ((code, e), now) in cx.events.iter().zip(current.iter_mut()) {
        if now.0 && now.1 && e.last_seen.is_some_and(|seen| seen < at) {
            let why = format!("it restates {what} at {}", crate::glance::time(at));
            let link = code.map_or(LinkKind::Mount, |c| c.link());
            history::record(&mut links[link.index()], *code, e, why);
            *now = (false, false);
        }
    }
}

/// The Object link's KVC601 saying that the object an event failed on (`failed to get
/// objectType:<t>, objectName:<n>`) exists under another type than `<t>`.
fn wrong_type_of<'l>(
    cx: &Ctx,
    object: &'l mut Link,
    e: &crate::snapshot::EventObs,
) -> Option<&'l mut Finding> {
    let name = events::object_name(&e.message)?;
    let t = events::object_type(&e.message)?;
    let p = cx.params.as_deref()?;
    let index = p
        .objects
        .iter()
        .find(|o| o.object_name == name && o.object_type == Some(t))?
        .index;
    let marker = format!("objects[{index}] {}", vault_object::WRONG_TYPE);
    object
        .findings
        .iter_mut()
        .find(|f| f.code == Code::KVC601 && f.message.contains(&marker))
}

/// Whether the link's own objects were read and show nothing wrong: the identity's
/// credentials, the vault's grants, the object (not "proven by mount", which read none).
/// The Pod link's causes are checked one object each ([`pod_now::looks_right`]).
fn objects_look_right(cx: &Ctx, link: &Link) -> bool {
    let read = match link.link {
        LinkKind::Federation => cx.identity.is_some_and(|i| {
            matches!(i.federated_credentials, crate::snapshot::Observed::Known(_))
        }),
        LinkKind::Access => cx.vault.is_some() && cx.azure().role_assignments.gaps.all.is_none(),
        LinkKind::VaultObject => cx.vault.is_some(),
        _ => false,
    };
    read && link.status == Status::Ok
        && link.findings.is_empty()
        && link.summary != super::PROVEN_BY_MOUNT
}

/// Whether the SPC's `objects` parameter was read and parses and validates now (no static
/// KVC705 or KVC706 on the Mount link): what a KVC705 event (the provider rejecting them) is
/// about.
fn spc_objects_validate(cx: &Ctx, mount: &Link) -> bool {
    cx.params
        .as_deref()
        .is_some_and(|p| !p.problems.iter().any(|pr| pr.field.starts_with("objects")))
        && !mount
            .findings
            .iter()
            .any(|f| matches!(f.code, Code::KVC705 | Code::KVC706))
}

/// The summary of a link whose current failure event its objects contradict.
pub const CONTRADICTED: &str = "failed, now looks right";

/// A current failure event on a link whose objects now look right: either they changed after
/// it (a repair the next attempt will prove) or the cause is something kvchain does not read.
/// The event's own explanation (a credential "not visible", a role "missing") would contradict
/// what is shown, and its fix would create what exists: say what is known instead.
/// `read`: what was read that looks right, where the link has several objects to tell apart.
fn contradicted(f: &mut Finding, link: LinkKind, read: Option<&str>) {
    // When and how (a pod's FailedMount, another's MountRotationFailed) is the evidence: the
    // message stays one for every pod failing the same way, so the report shows it once.
    let read = read.map_or_else(String::new, |r| format!(" ({r})"));
    f.message = format!(
        "a recent attempt failed (see the event), but what kvchain reads for the {} link looks right now{read}: it changed after that (the next rotation poll or mount retry will tell), or the cause is something kvchain does not read",
        link.title()
    )
    .into();
    f.fix = format!("{WAIT_FOR_NEXT}; if it fails again: {}", f.confirm).into();
    f.now_looks_right = true;
}

/// How the fix of a [`contradicted`] finding starts: nothing kvchain reads is wrong now.
const WAIT_FOR_NEXT: &str = "# nothing to change in what kvchain reads: wait for the next attempt";

/// Whether `f` is a failure event's finding over objects that look right now ([`contradicted`]):
/// the last attempt failed, and what kvchain reads no longer says why (audit RRR-faults: it is
/// no cause that fails every new mount, [`super::mount_blocker`]). Decided on the flag
/// [`contradicted`] sets, not on the fix's words, which a later pass may reword.
pub(crate) fn is_contradicted(f: &Finding) -> bool {
    f.now_looks_right
}

/// Folds a settled Sync failure whose files the mount lacks into the Mount link's KVC703 (the
/// mount predates the SPC's edit): the synced Secret cannot be built until the mount holds the
/// item the edit added, so the Sync link waits on it (one symptom, one cause). With rotation
/// off KVC703 becomes an error: the driver never fetches an already-mounted volume again, only
/// a new mount does (FACTS §4). With rotation on, KVC703 is there only when a poll has passed
/// since both the SPCPS's last write and this event, which the edit came after
/// (`sync::mount_unapplied`, audit FF1-a); it stays the warning it was, as an edit made since
/// the event within the last poll cannot be told from a failing rotation (audit EE1). Within
/// that poll there is no KVC703: the Sync finding says to wait one poll. False when no KVC703
/// is there.
fn fold_into_remount(cx: &Ctx, links: &mut [Link], evidence: &str, s: &sync::Settled) -> bool {
    let mount = &mut links[LinkKind::Mount.index()];
    let Some(f) = mount.findings.iter_mut().find(|f| f.code == Code::KVC703) else {
        return false;
    };
    if !f.evidence.iter().any(|known| **known == *evidence) {
        f.evidence.push(evidence.into());
        f.evidence
            .push(format!("the event predates the SPC's edit: {}", s.read).into());
    }
    if remedy::rotation_off(cx) {
        f.severity = crate::chain::model::Severity::Error;
    }
    let sync = &mut links[LinkKind::Sync.index()];
    if sync.findings.is_empty() {
        sync.status = Status::Pending;
        sync.summary = compact_str::format_compact!("blocked: {}", LinkKind::Mount.title());
    }
    true
}

/// The code an event's classification stands for in this chain. A vault request with no
/// answer is a name no vault has when its host does not resolve and none of the vaults read
/// has it (KVC506), else the network (KVC505). AADSTS700016 ("application
/// not found in the directory") means a wrong clientID only while no identity with that
/// clientID is known and the tenant asked is the cluster's; a known identity, or a tenant
/// asked that is not the cluster's, says the SPC's tenantID is wrong (KVC404, FACTS §11).
fn resolve(cx: &Ctx, code: Code, e: &crate::snapshot::EventObs) -> Code {
    match code {
        // Service-principal mode (FACTS §5): the application AADSTS700016 names is the
        // nodePublishSecretRef Secret's clientid, the Secret's finding (`sp_entra`).
        Code::KVC301 if matches!(cx.mode, AuthMode::ServicePrincipal { .. }) => Code::KVC302,
        // Node identity mode: the node's metadata endpoint (not Entra's tenant) answered; the
        // identity it lacks is userAssignedIdentityID's (`identity::node_identity_missing`).
        Code::KVC301 if matches!(cx.mode, AuthMode::VmIdentity { .. }) => Code::KVC301,
        Code::KVC301
            if cx.identity.is_some() || remedy::foreign_tenant(cx, &e.message).is_some() =>
        {
            Code::KVC404
        }
        // A vault host that does not resolve, named by no vault read: the name (FACTS §11).
        // A timeout is not: the public name resolved, so the vault exists somewhere.
        // The kubelet's deadline names no host: the SPC's vault, when no vault read has that
        // name (FACTS §11: a mistyped name shows as `context deadline exceeded` too).
        Code::KVC505
            if events::unreached_vault(&e.message).is_some_and(|u| {
                u.how == events::Unreached::Dns && remedy::network::names_no_vault(cx, u.vault)
            }) || (events::mount_deadline(&e.message)
                && remedy::network::spc_vault_host(cx)
                    .is_some_and(|(v, _)| remedy::network::names_no_vault(cx, &v))) =>
        {
            Code::KVC506
        }
        c => c,
    }
}

/// Two codes that name one failure seen from two sides: the event's message (`event`) and a
/// rule reading the objects (`rule`), which knows which field or grant is wrong.
fn same_failure(rule: Code, event: Code) -> bool {
    use Code::*;
    let family = |c: Code| match c {
        // AADSTS70021 and its successors: one of issuer / subject / audience differs.
        KVC401 | KVC402 | KVC403 | KVC405 => 1,
        // The tenant asked does not know the client, or the vault refuses the tenant.
        KVC404 | KVC406 => 2,
        // Key Vault 403 for want of a grant.
        KVC501 | KVC502 | KVC503 => 3,
        // The driver cannot build the synced Secret from the mounted files.
        KVC801 | KVC804 => 4,
        _ => 0,
    };
    rule == event || (family(rule) != 0 && family(rule) == family(event))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::model::{Finding, Severity};

    fn failed(code: Code, fix: &str) -> Finding {
        Finding {
            code,
            severity: Severity::Error,
            link: code.link(),
            namespace: "shop".into(),
            resource: "ManagedIdentity/id".into(),
            message: "no role".into(),
            evidence: Vec::new(),
            confirm: "az role assignment list".into(),
            fix: fix.into(),
            follows: None,
            chain: "".into(),
            suppressed: None,
            now_looks_right: false,
        }
    }

    /// Whether an event's failure is contradicted by objects that look right now is a fact of
    /// the finding, not of how its fix is worded (audit VVV-honest): a later pass rewording
    /// the fix (a prefix naming a cause to fix first) keeps the verdict, and a fix that merely
    /// starts with the same words does not make one.
    #[test]
    fn a_reworded_fix_does_not_change_whether_the_failure_is_contradicted() {
        let mut f = failed(Code::KVC501, "az role assignment create …");
        contradicted(&mut f, LinkKind::Access, None);
        assert!(is_contradicted(&f), "{f:?}");
        f.fix = format!("# fix KVC301 (Identity) first; then: {}", f.fix).into();
        assert!(is_contradicted(&f), "reworded: {f:?}");
        let plain = failed(
            Code::KVC501,
            &format!("{WAIT_FOR_NEXT}; then grant the role"),
        );
        assert!(!is_contradicted(&plain), "{plain:?}");
    }
}
