//! Who is stuck on a synced Secret the driver cannot build: the kubelet's own words for each
//! container or volume that needs it (`secret "<name>" not found`). The Secret's absence is
//! the Sync link's cause's effect, so the waiting readers are its evidence, not findings of
//! their own (one symptom, one cause), and a report shows the down app (README: a link drawn
//! `…` was kept from being tried; these were tried and fail).

use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::{Link, LinkKind};

/// The readers of Secret `secret` waiting on its absence now, as evidence lines, once each.
pub(super) fn on_absent(cx: &Ctx, secret: &str) -> std::sync::Arc<[String]> {
    cx.ix
        .absent_waiting(cx.ns(), secret, || waiting_lines(cx, secret))
}

/// At most this many pods' lines: the rest are counted (a Deployment of 600 replicas waiting
/// on one Secret is one cause, and 600 lines of evidence in each of 600 chains said nothing
/// more than the count).
const SHOWN: usize = 5;

fn waiting_lines(cx: &Ctx, secret: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let not_found = format!("secret \"{secret}\" not found");
    let consumers = cx.ix.secret_consumers.get(&(cx.ns(), secret));
    for c in consumers.into_iter().flatten() {
        let pod = c.pod;
        for k in &pod.containers {
            if let crate::snapshot::ContainerStateObs::Waiting { reason, message } = &k.state
                && message.contains(&not_found)
            {
                lines.push(format!(
                    "pod {} container {} waiting: {reason}: {message}",
                    pod.name, k.name
                ));
            }
        }
        // A volume's: the kubelet's FailedMount for it (the pod's own, not an earlier uid's).
        let events = cx
            .ix
            .pod_events
            .get(&(pod.namespace.as_str(), pod.name.as_str()));
        for e in events.into_iter().flatten().filter(|e| {
            e.reason == "FailedMount"
                && e.type_ != "Normal"
                && crate::chain::chain_events::about_pod(pod, e)
                && e.message.contains(&not_found)
        }) {
            lines.push(format!("pod {} FailedMount: {}", pod.name, e.message));
        }
    }
    // By pod name: the index lists consumers in the order their pods arrived, which the
    // incremental engine and a full pass do not share.
    lines.sort_unstable();
    lines.dedup();
    if lines.len() > SHOWN {
        let more = lines.len() - SHOWN;
        lines.truncate(SHOWN);
        lines.push(format!(
            "{more} more line{} like these (pods waiting on Secret {secret})",
            if more == 1 { "" } else { "s" }
        ));
    }
    lines
}

/// The chain's synced Secrets that exist now (what waits on a cause says whether the Secret
/// is missing or there but wrong: [`crate::chain::rules::mark_effects`]).
pub(crate) fn present<'a>(cx: &Ctx<'a>, links: &[Link]) -> Vec<&'a str> {
    // Only a KVC903 words its fix by it: most chains have none, and need no list.
    let consumers = &links[LinkKind::Consumers.index()];
    let Some(spc) = cx
        .spc
        .filter(|_| consumers.findings.iter().any(|f| f.code == Code::KVC903))
    else {
        return Vec::new();
    };
    spc.secret_objects
        .iter()
        .enumerate()
        .filter(|(i, _)| cx.synced_secret(*i).is_some())
        .map(|(_, so)| so.secret_name.as_str())
        .collect()
}
