//! A driver FailedToCreateSecret about an entry `secretObjects` already shows it cannot build
//! (KVC801, KVC804, a typed Secret's required key): the event is that static cause's proof,
//! not a KVC806 of its own (one symptom, one cause; audit A17-5).

use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::{Finding, Severity};
use crate::snapshot::SecretObjectSpec;

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
            let sync_off = super::missing::sync_turned_off(cx);
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

/// KVC806 for a synced Secret missing while mounted when no failure was seen (`evidence`: the
/// pods that have it mounted). Events read and none says the driver failed: it was deleted
/// since it was written, and the SPCPS controller, re-checking every 5 minutes that it exists,
/// recreates it (FACTS §2): nothing to delete. Events unread: that and a driver failing to
/// create it look alike, so the finding says which read is missing and how to tell, and is no
/// more certain or severe than with the events read (knowing less is no surer verdict).
pub(super) fn none_seen(cx: &Ctx, so: &SecretObjectSpec, evidence: Vec<String>) -> Finding {
    let (ns, secret, spc) = (cx.ns(), &so.secret_name, cx.spc_name);
    let events = format!("kubectl get events -n {ns} --field-selector reason=FailedToCreateSecret");
    let (message, fix) = match cx.snap().events.unknown_in(ns) {
        Some(reason) => (
            format!(
                "synced Secret {secret} is missing although SecretProviderClass {spc} is mounted; why cannot be told, as events could not be read ({reason}): either it was deleted since it was written and the driver recreates it at its next reconcile (every 5 minutes), or the driver fails to create it (FailedToCreateSecret events and the driver log say why)"
            ),
            format!(
                "# the cause is not known yet: if the Secret is still missing after 5 minutes, the confirm's FailedToCreateSecret events or driver log name what to change: {events}"
            ),
        ),
        None => (
            format!(
                "synced Secret {secret} is missing although SecretProviderClass {spc} is mounted, and no FailedToCreateSecret event says the driver failed to build it: deleted since it was written, it is recreated at the driver's next reconcile (every 5 minutes) or rotation poll"
            ),
            format!(
                "# nothing to delete: the driver recreates it within 5 minutes; if it stays missing, FailedToCreateSecret events and the driver log say why: {events}"
            ),
        ),
    };
    let mut f = cx.remedied(Code::KVC806, format!("Secret/{secret}"), message, evidence);
    f.severity = Severity::Warning;
    f.fix = fix.into();
    f
}
