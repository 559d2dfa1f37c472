//! What a retired pod (finished, failed, being deleted) still needs: an object it named that
//! is gone since is history when nothing will run it again, not a finding whose fix recreates
//! it; and when a Job of its own is complete.

use super::set;
use crate::chain::context::Ctx;
use crate::chain::model::{Fact, Link, Status};

/// An object a retired pod (finished, failed, being deleted: [`PodObs::retired`]) names is
/// gone: it needed it when it ran, and it will not mount or start again, so this is history,
/// not a finding whose fix recreates the object (in a namespace being deleted, admission would
/// refuse it anyway; audit U1, U2). The link waits, saying why. False for a live pod.
///
/// [`PodObs::retired`]: crate::snapshot::PodObs::retired
///
/// Unless its owner lives on and will make pods that need it too: its template names it
/// (`uses`), or that template or the owner could not be read — the next run (a CronJob's) or
/// replacement fails the same way, so the finding stands (audit V2).
pub(crate) fn gone_for_retired(
    cx: &Ctx,
    link: &mut Link,
    what: &str,
    uses: impl Fn(&crate::snapshot::PodObs) -> bool,
) -> bool {
    if !cx.retired() {
        return false;
    }
    let done = finished_job(cx);
    let owner_needs = match (cx.workload, cx.workload_object) {
        (None, _) => false,
        _ if done.is_some() => false,
        (Some(_), Some(w)) => w.template.as_deref().is_none_or(&uses),
        (Some(_), None) => cx.snap().workloads.unknown_in(cx.ns()).is_some(),
    };
    if owner_needs {
        return false;
    }
    let (state, summary) = match done {
        _ if cx.pod.deleting => ("being deleted", "pod being deleted"),
        Some(job) => (job, "Job finished"),
        None => ("finished", "pod finished"),
    };
    set(link, Status::Pending, summary);
    link.facts.push(Fact::new(
        "history",
        format!(
            "{what} does not exist now; pod {} is {state} and will not mount or start again, so it needs it no more",
            cx.pod.name
        ),
    ));
    true
}

/// [`gone_for_retired`] for what the chain's SecretProviderClass is read with: the SPC itself,
/// the managed identity it authenticates as, that identity's grant on the vault, the vault's
/// objects. Gone since, each is history for a retired pod whose owner makes no pod that mounts
/// the SPC again, as its ServiceAccount or federated credential is (audit II3, JJ1): the pod
/// makes no NodePublishVolume again (FACTS §1), and the rotation reconciler skips it (§4).
pub(crate) fn read_gone_for_retired(cx: &Ctx, link: &mut Link, what: &str) -> bool {
    gone_for_retired(cx, link, what, |t| t.mounts_spc(cx.spc_name))
}

/// The chain's owner is a Job of its own (no CronJob runs it again) that makes no pod again,
/// said as what the pod is: all its pods are retired, one of them Succeeded and none failed
/// after it, and it reported no FailedCreate. A Job counts its successes and, once they reach its completions, is
/// complete and creates no further pods (kubernetes.io "Jobs"); one still short of them
/// would have a pod running or pending, or a FailedCreate saying why not. Its `completions`
/// and conditions are not read (Jobs are watched as metadata only): this is the evidence
/// kvchain has (audit II3). None for any other owner.
///
/// A FailedCreate counts only when last seen after the Job's newest pod was created: an older
/// one is a create that was refused, then retried and made that pod (a Helm hook Job created a
/// moment before its ServiceAccount). Events are history (FACTS §11, "Evidence ages"; audit
/// JJ2). Older than any pod of the Job is older than its newest. One without a time, or of a
/// Job none of whose pods shows its creation time, still counts.
pub(super) fn finished_job(cx: &Ctx) -> Option<&'static str> {
    // Read, and owned by nothing kvchain follows: a Job whose object was not read may be a
    // CronJob's (its owners unseen).
    let (("Job", job), Some(_)) = (cx.workload?, cx.workload_object) else {
        return None;
    };
    let ns = cx.ns();
    let run = cx.ix.job_run(ns, job)?;
    let newest = run.newest;
    let refused_since = |e: &&crate::snapshot::EventObs| match (e.last_seen, newest) {
        (Some(seen), Some(created)) => seen >= created,
        _ => true,
    };
    let refused = || (cx.ix.failed_creates_of(ns, "Job", job).iter()).any(refused_since);
    // A pod that failed after the newest success may be retried (a Job short of its
    // completions, in its backoff between pods): not complete (audit KK2).
    let failed_since = run.newest_failure > run.newest_success;
    (run.all_retired && run.succeeded && !failed_since && !refused())
        .then_some("finished, and its Job is complete (a pod Succeeded, none runs)")
}
