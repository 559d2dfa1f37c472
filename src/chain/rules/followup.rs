//! The kubelet's follow-on FailedMount, `Unable to attach or mount volumes: … timed out
//! waiting for the condition` (FACTS §3), names no cause: it only says the volume did not
//! mount in time. When no current event says why but a rule found a cause from the objects
//! on a link the mount depends on (up to the Mount link itself), that cause explains the
//! timeout: the event is its evidence, not a failure "no rule explains" (KVC701) beside it
//! (one symptom, one cause).

use crate::chain::context::event_evidence;
use crate::chain::model::{Link, LinkKind};
use crate::snapshot::EventObs;

/// The first link, in the order the mount meets them, whose objects show a cause that fails
/// the mount: the Pod link through the Mount link (Sync and Consumers come after a mount).
pub(super) fn structural_cause(links: &[Link]) -> Option<LinkKind> {
    links
        .iter()
        .filter(|l| l.link <= LinkKind::Mount)
        .find(|l| l.findings.iter().any(super::is_cause))
        .map(|l| l.link)
}

/// Adds follow-on event `e` to the evidence of the cause on `link` (found by
/// [`structural_cause`]).
pub(super) fn fold(link: &mut Link, e: &EventObs) {
    let evidence = event_evidence(e);
    if let Some(f) = link.findings.iter_mut().find(|f| super::is_cause(f))
        && !f.evidence.iter().any(|known| **known == *evidence)
    {
        f.evidence.push(evidence.into());
    }
}
