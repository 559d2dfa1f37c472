//! Each Job's pods summed up, for whether a retired pod's Job is complete
//! (`rules::finished_job`). After a cleanup every finished pod of a Helm hook or batch Job may
//! name something deleted since, and each of them searching the snapshot's pods for its Job's
//! others made a pass quadratic. Worked out once per pass, on first use.

use super::{HashMap, Index, map};
use jiff::Timestamp;

/// The pods whose top-level workload is one Job.
#[derive(Clone, Copy)]
pub(crate) struct JobRun {
    /// Every one of them is retired (finished, evicted or being deleted).
    pub all_retired: bool,
    /// One of them Succeeded.
    pub succeeded: bool,
    /// The newest creation time among them.
    pub newest: Option<Timestamp>,
    /// The newest creation time among those that Succeeded, and among those that Failed: a
    /// pod that failed after the last success is one the Job may still retry (audit KK2).
    pub newest_success: Option<Timestamp>,
    pub newest_failure: Option<Timestamp>,
}

impl Index<'_> {
    /// The pods of Job `job` of `ns` (their top-level workload), summed up; None when it has
    /// none.
    pub(crate) fn job_run(&self, ns: &str, job: &str) -> Option<JobRun> {
        let runs = self.job_runs.get_or_init(|| {
            // Keyed by borrowed (namespace, Job) while built: no name copied per pod.
            let mut runs: HashMap<(&str, &str), JobRun> = map(0);
            for p in &self.snap.pods.items {
                let Some(("Job", job)) = self.workload_of(p) else {
                    continue;
                };
                let run = runs.entry((&p.namespace, job)).or_insert(JobRun {
                    all_retired: true,
                    succeeded: false,
                    newest: None,
                    newest_success: None,
                    newest_failure: None,
                });
                run.all_retired &= p.retired();
                run.newest = run.newest.max(p.created_at);
                match p.phase.as_str() {
                    "Succeeded" => {
                        run.succeeded = true;
                        run.newest_success = run.newest_success.max(p.created_at);
                    }
                    "Failed" => run.newest_failure = run.newest_failure.max(p.created_at),
                    _ => {}
                }
            }
            let mut by_ns: HashMap<String, HashMap<String, JobRun>> = map(0);
            for ((ns, job), run) in runs {
                by_ns
                    .entry(ns.to_string())
                    .or_default()
                    .insert(job.to_string(), run);
            }
            by_ns
        });
        runs.get(ns)?.get(job).copied()
    }
}
