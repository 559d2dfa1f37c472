//! The synced Secret is absent: why (no running mount, every mounting pod terminating, the
//! driver failing or not allowed to write it, a static cause it follows from), and the pod
//! still on its way to a mount, for which the Sync link waits instead of finding KVC802.

use super::{failed_create, waiting};
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::{Fact, Link, LinkKind, Status};
use crate::chain::rules::{remedy, set, unknown_check, unstarted};
use crate::snapshot::{EventObs, SecretObjectSpec};

/// KVC802 says no running pod has the SPC mounted. While this chain's own pod is still on its
/// way to a mount (scheduling, ContainerCreating) and nothing upstream failed, that is no
/// finding: the driver writes the Secret after the first mount. The Sync link waits (`…`),
/// and so do consumers waiting on it. Runs after the effects of a cause were marked: a
/// KVC802 that follows a broken link stays, saying `blocked by` it.
///
/// `starting` is decided from the pod's own mount state (no SPCPS, no FailedMount, not
/// failed), not from the Mount link's overall status: a static warning there (rotation off)
/// says nothing about whether this pod has mounted yet.
pub(crate) fn awaiting_mount(links: &mut [Link], starting: bool) {
    if unstarted::unseen(&links[LinkKind::Mount.index()]) {
        mount_unseen(links);
        return;
    }
    if !starting {
        return;
    }
    // Nothing failed: what waits on the mount says so, not "blocked" (`unstarted`).
    let consumers = &mut links[LinkKind::Consumers.index()];
    if consumers.status == Status::Pending && consumers.summary == "blocked: Mount" {
        consumers.summary = WAITING.into();
    }
    let sync = &mut links[LinkKind::Sync.index()];
    let before = sync.findings.len();
    sync.findings
        .retain(|f| f.code != Code::KVC802 || f.follows.is_some());
    if sync.findings.len() == before {
        return;
    }
    set(sync, Status::Pending, WAITING);
    crate::chain::build::settle(sync);
    let consumers = &mut links[LinkKind::Consumers.index()];
    if consumers.status == Status::Pending && consumers.summary == "blocked: Sync" {
        consumers.summary = WAITING.into();
    }
}

const WAITING: &str = "waiting for mount";

/// Every pod that has the SPC mounted is terminating (its workload deleted, or a node lost):
/// the driver's SPC pod status reconciler skips a pod being deleted ("pod is being
/// terminated, skipping reconcile"), and the Secret, collected with its owners (FACTS §2, §11
/// "Owners"), is not written again: KVC802, no mount to come, not KVC806's "recreated within 5
/// minutes" (audit S1). True when it said so.
fn terminating_only(cx: &Ctx, link: &mut Link, so: &SecretObjectSpec) -> bool {
    if !cx.pod.deleting {
        return false;
    }
    let mut pods = cx.ix.pods_mounting(cx.ns(), cx.spc_name).peekable();
    if pods.peek().is_none() || !pods.all(|p| p.deleting) {
        return false;
    }
    link.findings.push(cx.remedied(
        Code::KVC802,
        format!("Secret/{}", so.secret_name),
        format!(
            "synced Secret {} does not exist and will not be created again: every pod that has SecretProviderClass {} mounted is terminating, and the driver does not reconcile a pod being deleted; no running mount, no Secret",
            so.secret_name, cx.spc_name
        ),
        vec![format!(
            "pods mounting {} in {}: all terminating (deletionTimestamp set)",
            cx.spc_name,
            cx.ns()
        )],
    ));
    true
}

/// The pod's mount is unknown (not started, and why cannot be told) with no cause found: a
/// Secret the driver writes only after a mount is unknown with it, for the Mount link's own
/// reason, not KVC802 "no running pod has it mounted", whose fix (keep a pod mounting it) this
/// pod already follows (audit Q2).
fn mount_unseen(links: &mut [Link]) {
    let reasons: Vec<Fact> = links[LinkKind::Mount.index()]
        .facts
        .iter()
        .filter(|f| f.label == "unknown")
        .cloned()
        .collect();
    let sync = &mut links[LinkKind::Sync.index()];
    let before = sync.findings.len();
    sync.findings
        .retain(|f| f.code != Code::KVC802 || f.follows.is_some());
    if sync.findings.len() == before || !sync.findings.is_empty() {
        return;
    }
    set(sync, Status::Unknown, "mount unknown");
    sync.facts.extend(reasons);
    sync.facts.push(Fact::new(
        "not checked",
        "the driver creates the synced Secret once a pod has mounted the SecretProviderClass: while this pod's mount is unknown, so is the Secret",
    ));
}

/// The synced Secret does not exist. `cause`: a static finding that already explains why the
/// driver cannot build it (the absence is its effect, not a second cause with its own fix).
pub(super) fn missing(cx: &Ctx, link: &mut Link, so: &SecretObjectSpec, cause: Option<usize>) {
    // Never built whatever mounts it: the cause says so (no KVC802 beside it).
    if cause.is_some() && !cx.mounted() {
        return;
    }
    // An unrendered data key (`${KEY}`) is refused by the API server like any key that is no
    // config key: the SPC's template finding (KVC306) is the cause, and this link reads
    // blocked by it (`mark_effects`), not a driver failure of its own.
    if super::unrendered_key(so) {
        return;
    }
    // Which pods have it mounted is read from the SPC pod statuses: unread, "none" is unknown,
    // not observed (audit Q2: KVC802 "no running pod has it mounted" beside a running pod).
    if let Some(reason) = cx.snap().spc_statuses.unread_in(cx.ns()) {
        unknown_check(
            link,
            "mount unknown",
            format!(
                "whether a pod has SecretProviderClass {} mounted, without which the driver does not create Secret {} (KVC802), or has and did not (KVC806)",
                cx.spc_name, so.secret_name
            ),
            reason,
        );
        return;
    }
    let mounted_anywhere = cx
        .ix
        .mounted_per_spc
        .get(&(cx.ns(), cx.spc_name))
        .copied()
        .unwrap_or(0);
    if mounted_anywhere == 0 {
        link.findings.push(cx.remedied(
            Code::KVC802,
            format!("Secret/{}", so.secret_name),
            format!(
                "synced Secret {} does not exist because no running pod has SecretProviderClass {} mounted: no mount, no Secret",
                so.secret_name, cx.spc_name
            ),
            vec![format!("no SecretProviderClassPodStatus with mounted: true for {} in {}", cx.spc_name, cx.ns())],
        ));
        return;
    }
    if !cx.mounted() {
        set(link, Status::Pending, "not mounted");
        return;
    }
    if terminating_only(cx, link, so) {
        return;
    }
    if let Some(f) = cause.and_then(|i| link.findings.get_mut(i)) {
        f.evidence.push(
            format!(
                "pod {} has {} mounted; Secret {} not found: the driver cannot build it",
                cx.pod.name, cx.spc_name, so.secret_name
            )
            .into(),
        );
        for line in waiting::on_absent(cx, &so.secret_name).iter() {
            if !f.evidence.iter().any(|e| **e == **line) {
                f.evidence.push(line.as_str().into());
            }
        }
        return;
    }
    // A FailedToCreateSecret whose message names a cause of its own (a secretObjects file not
    // mounted, a TLS Secret without its key) becomes that cause's finding when the events are
    // folded in (`apply_events`): the absence is its effect, and "no event says why" (below)
    // would be false. Those events are classified as that cause, not as KVC806. An event
    // explains only the Secret it names (another Secret of the SPC missing is a symptom of its
    // own); one that names none (mounted files unreadable) concerns them all.
    let explained = cx.events.iter().any(|(code, e)| {
        e.reason == "FailedToCreateSecret"
            && e.type_ != "Normal"
            && code.is_some_and(|c| c != Code::KVC806 && c.link() == LinkKind::Sync)
            && crate::chain::events::secret_name(&e.message)
                .is_none_or(|named| named == so.secret_name)
    });
    // A failure whose cause the SPC has since lost (a type now set, a file now named): the
    // event, folded in, says the driver builds the Secret at its next attempt (audit DD1).
    let settled = || {
        cx.events.iter().any(|(_, e)| {
            failed_create::settled(cx, e).is_some_and(|_| {
                crate::chain::events::secret_name(&e.message) == Some(&so.secret_name)
            })
        })
    };
    if explained || settled() {
        return;
    }
    let sync_off = sync_turned_off(cx);
    let why = if sync_off {
        sync_off_why(remedy::install(cx))
    } else {
        "the driver failed to create it (see FailedToCreateSecret events and the driver log)"
    };
    let mut evidence = vec![format!(
        "pod {} has {} mounted; Secret {} not found",
        cx.pod.name, cx.spc_name, so.secret_name
    )];
    let before = evidence.len();
    // The rotation reconciler patches only Secrets that exist and never creates one (FACTS §2,
    // §3; [D5] patchSecret leaves a deleted Secret to the controller's requeue): its "failed to
    // patch secret" for a Secret that is missing is that absence, not a failure to create it.
    let (patches, creates): (Vec<&EventObs>, Vec<&EventObs>) = (cx.events_for(Code::KVC806))
        .filter(|e| {
            crate::chain::events::secret_name(&e.message)
                .is_none_or(|named| named == so.secret_name)
        })
        .partition(|e| failed_patch(e));
    evidence.extend(
        creates
            .into_iter()
            .map(crate::chain::context::event_evidence),
    );
    // The driver's failure for this Secret recorded on another pod that mounts the SPC is
    // this Secret's too: one finding per Secret, alike on every chain (audit RR3).
    let others = crate::chain::chain_events::driver_failures_of(
        cx.ix,
        cx.ns(),
        cx.spc_name,
        so.secret_name.as_str(),
        cx.pod,
    );
    for e in others.into_iter().filter(|e| !failed_patch(e)) {
        let e = crate::chain::context::event_evidence(e);
        if !evidence.contains(&e) {
            evidence.push(e);
        }
    }
    let failed = evidence.len() > before;
    if !sync_off && !failed {
        evidence.extend(
            patches
                .into_iter()
                .map(crate::chain::context::event_evidence),
        );
        link.findings
            .push(failed_create::none_seen(cx, so, evidence));
        return;
    }
    // A docker-config entry whose key is right: the value is what is refused.
    if !sync_off && let Some(f) = super::typed::json_value(cx, so, evidence.clone()) {
        link.findings.push(f);
        return;
    }
    link.findings.push(cx.remedied(
        Code::KVC806,
        format!("Secret/{}", so.secret_name),
        format!(
            "synced Secret {} is missing although SecretProviderClass {} is mounted: {why}",
            so.secret_name, cx.spc_name
        ),
        evidence,
    ));
}

/// Why the driver may not write Secrets, by install method (FACTS §11): Helm grants the
/// syncing RBAC only with `syncSecret.enabled=true`; the AKS add-on always grants it, so
/// there it was removed, or the driver log names another cause.
fn sync_off_why(install: Option<crate::snapshot::DriverInstall>) -> &'static str {
    use crate::snapshot::DriverInstall;
    match install {
        Some(DriverInstall::Helm) => {
            "secret sync is disabled in the driver (helm syncSecret.enabled=false: no RBAC to write Secrets)"
        }
        Some(DriverInstall::AksAddon) => {
            "the driver does not write it, though the AKS add-on grants it the RBAC to write Secrets: the driver log names why"
        }
        None => "the driver has no RBAC to write Secrets (with Helm: syncSecret.enabled=false)",
    }
}

/// The driver is known to have Secret sync off (Helm's `syncSecret.enabled=false`, without the
/// RBAC to write Secrets, FACTS §11 "Sync needs RBAC"): no synced Secret is written.
pub(super) fn sync_turned_off(cx: &Ctx) -> bool {
    cx.cluster()
        .csi_driver
        .known()
        .and_then(|c| c.sync_secret_enabled.known())
        == Some(&false)
}

/// A rotation reconciler's failure to patch a synced Secret's data (`failed to patch secret
/// <name> with new data, err: …`, FACTS §3): said of a Secret that is missing, it is what the
/// absence does to the patch, not why the Secret is absent; of one that exists, see
/// [`super::typed::refused_patch`].
pub(super) fn failed_patch(e: &EventObs) -> bool {
    e.reason == "SecretRotationFailed" && e.message.starts_with("failed to patch secret ")
}
