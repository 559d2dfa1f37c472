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
    if !is_sync_failure(e) {
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

/// Whether driver failure `e` is the API server refusing an unrendered data key (`${KEY}`,
/// no config key) of the SPC's entries: the SPC's template finding (KVC306, on the Identity
/// link) is then its cause, and the event that finding's proof.
pub(crate) fn refused_unrendered_key(cx: &Ctx, e: &crate::snapshot::EventObs) -> bool {
    is_sync_failure(e)
        && cx
            .spc
            .is_some_and(|spc| spc.secret_objects.iter().any(super::unrendered_key))
}

/// Whether Sync finding `finding` is the static cause of a `secretObjects` entry other than
/// the one whose Secret driver failure `e` names. The message names the Secret it failed to
/// build (FACTS §3: `failed to get data in spc <ns>/<spc> for secret <name>, err: …`) and the
/// controller builds each entry on its own (FACTS §2), so such an event says nothing of another
/// entry: a corrected entry's old failure is no evidence of another still-wrong entry's KVC801
/// (audit EE5). False for an event that names no Secret.
pub(crate) fn foreign_cause(cx: &Ctx, e: &crate::snapshot::EventObs, finding: usize) -> bool {
    if !is_sync_failure(e) {
        return false;
    }
    let (Some(spc), Some(named)) = (cx.spc, crate::chain::events::secret_name(&e.message)) else {
        return false;
    };
    (spc.secret_objects.iter().enumerate())
        .any(|(i, so)| so.secret_name.trim() != named && cx.sync_cause(i) == Some(finding))
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
                "synced Secret {secret} is missing although SecretProviderClass {spc} is mounted, and no FailedToCreateSecret event says the driver failed to build it: deleted since it was written, it is recreated at the driver's next reconcile (every 5 minutes){}",
                // No poll runs with rotation off (FACTS §4): only the reconcile is said.
                match crate::chain::rules::remedy::rotation_off(cx) {
                    true => "",
                    false => " or rotation poll",
                }
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

/// A driver failure to build a synced Secret whose cause the SPC no longer holds: the event
/// is older than an edit of `secretObjects` (FACTS §3: driver events are recorded on the pod,
/// as history of the attempt they report).
pub(crate) struct Settled {
    /// What the SPC says now that the event's cause contradicts.
    pub read: String,
    /// Items of `objects` the entry now reads from that the pod's mount lacks: the mount
    /// predates the edit, so only a new mount (or rotation's next poll) makes their files
    /// (FACTS §4). Empty: the files are mounted, and the driver builds the Secret from the
    /// SPC as it is now at its next reconcile, every 5 minutes (FACTS §2).
    pub unmounted: Vec<String>,
}

/// Whether a current `FailedToCreateSecret` `e` names a cause that the SPC's `secretObjects`
/// entry for its Secret no longer has (audit DD1): a `file matching objectName <x>` that the
/// entry no longer names or that `objects` now mount, a kubernetes.io/tls file error where
/// KVC804's check now finds nothing, a `secret type is empty` or `data is empty` that the
/// entry now fills. None when the entry still has a static cause, when the event names no
/// Secret of this SPC, or when its cause is not one kvchain reads from the SPC (RBAC, the
/// mounted files unreadable).
pub(crate) fn settled(cx: &Ctx, e: &crate::snapshot::EventObs) -> Option<Settled> {
    if !is_sync_failure(e) {
        return None;
    }
    let spc = cx.spc?;
    let named = crate::chain::events::secret_name(&e.message)?;
    let (i, so) =
        (spc.secret_objects.iter().enumerate()).find(|(_, so)| so.secret_name.trim() == named)?;
    if cx.sync_cause(i).is_some() {
        return None;
    }
    let entry = format!("secretObjects[{named}]");
    let m = e.message.as_str();
    let read = if let Some(x) = m
        .split_once("file matching objectName ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
    {
        if so.data.iter().any(|d| d.object_name == x) {
            format!("{entry} reads {x}, a file the SPC's objects now mount")
        } else {
            format!("{entry} no longer names {x}")
        }
    } else if m.contains("failed to get cert data from file") {
        // A tls.key from a certificate's secret holds a key only if the certificate's key is
        // exportable: unread, the event's cause is not shown gone (audit GGG-A5).
        if super::tls::exportability_unknown(cx, so).is_some() {
            return None;
        }
        format!("{entry} now takes tls.key and tls.crt from files that hold them")
    } else if m.contains("secret type is empty") && !so.type_.trim().is_empty() {
        format!("{entry}.type is {} now", so.type_)
    } else if m.contains("data is empty") && !so.data.is_empty() {
        format!("{entry}.data is filled now")
    } else {
        return None;
    };
    let unmounted = match (cx.status, cx.params.as_deref()) {
        (Some(status), Some(params)) => (params.objects.iter())
            .filter(|o| so.data.iter().any(|d| d.object_name == o.file_name()))
            .filter(|o| super::lacks(status, o))
            .map(|o| o.object_name.clone())
            .collect(),
        _ => Vec::new(),
    };
    Some(Settled { read, unmounted })
}

/// The driver's warning that it could not create or rotate a synced Secret.
fn is_sync_failure(e: &crate::snapshot::EventObs) -> bool {
    matches!(
        e.reason.as_str(),
        "FailedToCreateSecret" | "SecretRotationFailed"
    ) && e.type_ != "Normal"
}

/// KVC804 from a driver failure to build a kubernetes.io/tls Secret whose tls.key reads a secret
/// backing a certificate whose policy was not read (`tls::exportability_unknown`): a key that is
/// not exportable leaves that secret without the private key, which is exactly this failure, and
/// no SPC edit ends it (audit GGG-A5). The finding names that open cause and the read that
/// settles it before the SPC edit the code's fix proposes.
pub(crate) fn note_exportability_unknown(cx: &Ctx, f: &mut Finding, e: &crate::snapshot::EventObs) {
    if !e.message.contains("failed to get cert data from file") {
        return;
    }
    let Some(spc) = cx.spc else { return };
    let Some(named) = crate::chain::events::secret_name(&e.message) else {
        return;
    };
    let Some((name, why)) = (spc.secret_objects.iter())
        .filter(|so| so.secret_name.trim() == named)
        .find_map(|so| super::tls::exportability_unknown(cx, so))
    else {
        return;
    };
    let kv = cx.keyvault_arg();
    f.message = format!(
        "{}; {why}: a certificate whose key is not exportable gives a secret without the private key (the certificate alone), and then no SPC edit builds the Secret",
        f.message
    )
    .into();
    f.evidence.push(why.into());
    f.confirm = format!(
        "az keyvault certificate show --vault-name {kv} -n {name} --query policy.keyProperties.exportable"
    )
    .into();
    f.fix = format!(
        "# if the confirm prints false, the certificate needs a new version whose key is exportable (az keyvault certificate create with keyProperties.exportable true; an HSM key never is); if true: {}",
        f.fix
    )
    .into();
}
