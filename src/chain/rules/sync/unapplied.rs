//! The pod's mount predates an edit of the SPC's `objects` (KVC703, audit O3): an item added
//! that the pod's SecretProviderClassPodStatus lacks, or a pinned objectVersion the mount does
//! not hold. FACTS §4: SPC edits after pod start are picked up only by rotation — with it off
//! an already-mounted volume is never re-fetched (only a new mount applies the edit), with it
//! on by the next poll. §1: the SPCPS lists what the mount holds. A synced Secret lacking keys
//! of the same edit is KVC805's, which names this gap as its evidence: one symptom, one cause.

use super::edited::{Rotation, rotation_since};
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::{Fact, Finding, Link, LinkKind, Status};
use crate::snapshot::SpcPodStatusObs;
use crate::spc::AzureSpc;

/// The pins of `params` that the mount `status` does not hold: `pin <name> to version <v>
/// (the mount holds <w>)`. An object with version history is fetched by index, and a
/// placeholder is an unrendered template (KVC306): neither is compared.
pub(super) fn repinned(params: &AzureSpc, status: &SpcPodStatusObs) -> Vec<String> {
    params
        .objects
        .iter()
        .filter(|o| o.object_version_history.is_none_or(|n| n <= 1))
        .filter_map(|o| {
            let pin = o
                .object_version
                .as_deref()
                .filter(|v| !crate::chain::rules::params::is_placeholder(v))?;
            let held = status.objects.iter().find(|so| o.is_status_id(&so.id))?;
            (!held.version.eq_ignore_ascii_case(pin)).then(|| {
                format!(
                    "pin {} to version {pin} (the mount holds {})",
                    o.object_name, held.version
                )
            })
        })
        .collect()
}

/// KVC703 on the Mount link when the pod's mount predates an edit of the SPC's `objects`
/// that rotation has not applied: off (never will), or on and past a poll (+ slack) since the
/// SPCPS was last written. Within that poll the link is pending. Runs after the version lag
/// check, and a stale mount of an SPC the provider refuses follows the refusal
/// ([`follow_refusal`]).
pub(crate) fn mount_unapplied(cx: &Ctx, link: &mut Link) {
    unapplied(cx, link);
    follow_refusal(cx, link);
}

/// An SPC whose `objects` the provider refuses (KVC705 on this link: an invalid objectType, a
/// pfx key, FACTS §5) fails every new mount and every rotation poll of it (§3 `failed to
/// mount objects`, §4): the running pods keep what they mounted before the edit. Their stale
/// mount (KVC703, an added item or a version lag) is the refusal's effect, and its own fix,
/// deleting the synced Secret and the pod to remount, would lose a working replica to the same
/// error (audit FF1). It follows the refusal, as it follows an earlier link's cause.
fn follow_refusal(cx: &Ctx, link: &mut Link) {
    let refused = |f: &Finding| f.code == Code::KVC705 && f.follows.is_none();
    if !link.findings.iter().any(refused) {
        return;
    }
    for f in (link.findings.iter_mut()).filter(|f| f.code == Code::KVC703 && f.follows.is_none()) {
        crate::chain::rules::follow(cx, f, LinkKind::Mount, Code::KVC705, true, &[]);
    }
}

fn unapplied(cx: &Ctx, link: &mut Link) {
    let Some(st) = cx.status.filter(|st| st.mounted) else {
        return;
    };
    if cx.template {
        return;
    }
    let Some(gap) = super::unmounted_objects(cx) else {
        return;
    };
    // A Secret lacking keys of the same edit: KVC805 tells it, with this gap as evidence.
    let secret_lacks = cx.spc.is_some_and(|spc| {
        spc.secret_objects.iter().enumerate().any(|(i, so)| {
            cx.synced_secret(i)
                .is_some_and(|secret| !super::keys_lacking(cx, so, secret).is_empty())
        })
    });
    if secret_lacks {
        return;
    }
    let off = crate::chain::rules::remedy::rotation_off(cx);
    // The SPC's edit time is not read, but a driver failure over an entry the edit has since
    // corrected bounds it: the edit came after that attempt (audit FF1-a). Rotation re-fetches
    // a poll after the later of the two (FACTS §4).
    let edited_after = edited_after(cx);
    let written = match (st.updated_at, edited_after) {
        (Some(w), Some(e)) => Some(w.max(e)),
        (w, e) => w.or(e),
    };
    let by_edit = edited_after.is_some_and(|e| st.updated_at.is_none_or(|w| e > w));
    let why = match rotation_since(cx, written) {
        Rotation::NotOn if off => {
            "rotation is disabled, so the driver never fetches an already-mounted volume again: only a new mount applies the edit".to_string()
        }
        // Whether rotation runs is not known (the Mount link says so): when it applies the
        // edit cannot be told.
        Rotation::NotOn => {
            link.facts.push(Fact::new("SPC edit", gap));
            return;
        }
        Rotation::Due { ago, poll } => {
            if link.status == Status::Ok {
                crate::chain::rules::set(link, Status::Pending, "rotation pending");
            }
            let since = if by_edit {
                "the driver's last attempt to build the synced Secret, which the SPC's edit corrected since, was"
            } else {
                "the SPCPS was last written"
            };
            link.facts.push(Fact::new(
                "SPC edit",
                format!(
                    "{gap}; rotation is on (poll interval {poll}s) and {since} {ago}s ago: its next poll should apply it"
                ),
            ));
            return;
        }
        // The SPC's edit time is not observed: the SPCPS's last write bounds the poll that
        // should have applied it, and a fresh edit still has a poll to go.
        Rotation::Stuck { ago, poll } => format!(
            "rotation is on (poll interval {poll}s) but has not applied it: {} {}; unless the SPC was edited less than a poll ago, rotation fails silently (drivers from v1.6.0 log its errors only, no event)",
            if by_edit {
                "the driver's last attempt to build the synced Secret, which the SPC's edit corrected since, was"
            } else {
                "the SPCPS was last written"
            },
            match ago {
                Some(a) => format!("{a}s ago, more than a poll"),
                None => "at a time the snapshot does not show".to_string(),
            }
        ),
    };
    link.findings.push(cx.remedied(
        Code::KVC703,
        format!("Pod/{}", cx.pod.name),
        format!("{gap}; {why}"),
        vec![format!(
            "SPCPS {}: {}",
            st.name,
            st.objects
                .iter()
                .map(|o| format!("{} version {}", o.id, o.version))
                .collect::<Vec<_>>()
                .join(", ")
        )],
    ));
}

/// The latest time a driver failure to build a synced Secret (FACTS §3: recorded on the pod)
/// was seen whose cause the SPC has since lost and whose entry reads an item the mount lacks
/// ([`super::settled`]): the SPC was edited after it.
fn edited_after(cx: &Ctx) -> Option<jiff::Timestamp> {
    (cx.events.iter())
        .filter_map(|(_, e)| {
            let at = e.last_seen?;
            super::settled(cx, e)
                .is_some_and(|s| !s.unmounted.is_empty())
                .then_some(at)
        })
        .max()
}
