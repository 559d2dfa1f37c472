//! A driver FailedToCreateSecret about an entry `secretObjects` already shows it cannot build
//! (KVC801, KVC804, a typed Secret's required key): the event is that static cause's proof,
//! not a KVC806 of its own (one symptom, one cause; audit A17-5).

use crate::chain::catalog::Code;
use crate::chain::context::Ctx;

/// The static cause (its index among the Sync link's findings) that a driver failure event
/// `e` about this SPC's synced Secrets proves. The controller builds the entries in order
/// (FACTS §3): one whose data it cannot read gives an event naming its Secret (`failed to get
/// data in spc <ns>/<spc> for secret <name>, err: …`) and it goes on; the first whose create
/// the API server refuses ends the pass with the backoff error, which names none. So a named
/// event is its entry's; an unnamed one the first entry with a static cause whose Secret is
/// absent — unless the mounted files were unreadable (a cause of every entry) or the driver
/// may not write Secrets at all (its own cause, KVC806).
pub(crate) fn event_cause(cx: &Ctx, e: &crate::snapshot::EventObs) -> Option<usize> {
    if !matches!(
        e.reason.as_str(),
        "FailedToCreateSecret" | "SecretRotationFailed"
    ) || e.type_ == "Normal"
    {
        return None;
    }
    let spc = cx.spc?;
    let entries = spc.secret_objects.iter().enumerate();
    match crate::chain::events::secret_name(&e.message) {
        Some(named) => entries
            .filter(|(_, so)| so.secret_name.trim() == named)
            .find_map(|(i, _)| cx.sync_cause(i)),
        None => {
            let sync_off = cx
                .cluster()
                .csi_driver
                .known()
                .and_then(|c| c.sync_secret_enabled.known())
                == Some(&false);
            if sync_off
                || e.message.contains("failed to get mounted files")
                || crate::chain::events::classify(&e.message) == Some(Code::KVC806)
            {
                return None;
            }
            entries
                .filter(|(_, so)| {
                    !cx.ix
                        .secrets
                        .contains_key(&(cx.ns(), so.secret_name.as_str()))
                })
                .find_map(|(i, _)| cx.sync_cause(i))
        }
    }
}
