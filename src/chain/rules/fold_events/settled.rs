//! A driver failure to build a synced Secret whose cause the SPC no longer holds: what is
//! left to wait for, said on the finding (moved from `fold_events` unchanged).

use crate::chain::context::Ctx;
use crate::chain::events;
use crate::chain::model::Finding;
use crate::chain::rules::{remedy, sync};

/// The Sync link's failure whose cause the SPC's `secretObjects` no longer hold ([`sync::settled`]):
/// the SPC was corrected after the attempt. The driver's SPC pod status controller builds the
/// Secret from the SPC as it is now when it next reconciles the pod's mount: a reconcile that
/// failed on a `secretObjects` entry returns `Requeue: true`, retried with controller-runtime's
/// default backoff (5 ms doubling at each failure, capped at 1000 s), not the 5-minute requeue
/// of a reconcile that succeeded ([D] `controllers/secretproviderclasspodstatus_controller.go`;
/// audit XA-left), or, when the mount lacks an item the entry now reads and rotation is on, once
/// the next poll has fetched it and written the SPCPS the controller watches (FACTS §1, §4):
/// one poll to wait, counted from the event, which the edit came after (audit EE1, FF1-a).
/// Nothing to edit again.
pub(super) fn sync_settled(
    cx: &Ctx,
    f: &mut Finding,
    e: &crate::snapshot::EventObs,
    s: &sync::Settled,
) {
    let secret = events::secret_name(&e.message).unwrap_or("the synced Secret");
    let poll = remedy::rotation_poll(cx).map(|p| p.as_secs());
    let (next, wait) = match poll {
        _ if s.unmounted.is_empty() => (
            format!(
                "the driver re-reads the SPC when it next retries the pod's failed reconcile (its controller's backoff: 5 ms doubling at each failure, at most 16m40s apart) and builds Secret {secret} then"
            ),
            "wait up to 16m40s for the driver's next attempt (its controller's retry backoff after a failed reconcile)".to_string(),
        ),
        Some(poll) => (
            format!(
                "the pod's mount lacks {} (the mount predates the edit): rotation's next poll (every {poll}s) fetches it, then the driver builds Secret {secret}",
                s.unmounted.join(", ")
            ),
            format!(
                "wait one rotation poll ({poll}s) for the mount to fetch {} and the driver to build Secret {secret}",
                s.unmounted.join(", ")
            ),
        ),
        // Rotation not known on (known off with no KVC703 to take the event, or unread): no
        // poll is promised, so no wait is timed (audit XB-left: it said "up to 5 minutes",
        // which no flag gives). What is known is said: off, or unread with the driver's
        // default interval (FACTS §4), which with the flags unread is not known to be the one
        // it runs with (the interval is read with the rotation flag, `driver_flags`).
        None => {
            let items = s.unmounted.join(", ");
            let (how, wait) = if remedy::rotation_off(cx) {
                (
                    "rotation is off, so only a new mount fetches it".to_string(),
                    format!(
                        "rotation is off, so no poll fetches {items}: only a new mount of the pod does"
                    ),
                )
            } else {
                let poll = "every 2m by default (--rotation-poll-interval); kvchain did not read the driver's flags, so neither whether rotation is on nor its interval is known";
                (
                    format!(
                        "rotation's next poll fetches it if rotation is on ({poll}), else only a new mount does"
                    ),
                    format!(
                        "if rotation is on, wait for its next poll to fetch {items} ({poll}); if it is off, only a new mount of the pod does"
                    ),
                )
            };
            (
                format!(
                    "the pod's mount lacks {items} (the mount predates the edit): {how}; then the driver builds Secret {secret}"
                ),
                wait,
            )
        }
    };
    // Waiting is all there is to do when the driver's next reconcile or rotation's next poll
    // builds the Secret: nothing is wrong now, as a Secret due to be recreated (KVC806) or
    // rewritten at the next poll (KVC805) is a warning, and `check`'s exit status counts
    // errors (audit FF1-c). Rotation off or not read with a file the mount lacks: a new mount
    // may be needed, and the event keeps its severity.
    if s.unmounted.is_empty() || poll.is_some() {
        f.severity = crate::chain::model::Severity::Warning;
    }
    f.message = format!(
        "a recent attempt to build synced Secret {secret} failed (see the event), but the SPC has changed since ({}): {next}",
        s.read
    )
    .into();
    f.fix = format!(
        "# nothing to change in the SPC again: {wait}; if it fails again: {}",
        f.confirm
    )
    .into();
}
