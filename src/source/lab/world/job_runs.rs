//! A Job's pod runs to completion, as Kubernetes' does: its containers exit 0 after a short
//! run and the pod's phase is Succeeded (the Job controller counts it in `status.succeeded`
//! and, its one completion reached, makes no pod again, even once that pod is deleted). The
//! kubelet then tears its volumes down (a terminated pod keeps no mount) and the driver's
//! rotation reconciler skips it, so nothing of it is mounted, rotated or started again.
//! Lab pods run no program: the run is [`JOB_RUN`] of lab time from the last container start.

use super::*;

/// How long a lab Job's pod runs once its containers started.
pub const JOB_RUN: Duration = Duration::from_secs(10 * 60);

impl LabPod {
    /// A pod of a Job (its controller is one).
    pub(super) fn of_job(&self) -> bool {
        self.controller().is_some_and(|o| o.kind == "Job")
    }

    /// When its app containers last started: the pod's first start, or a later one's.
    pub(super) fn last_start(&self) -> Option<Timestamp> {
        let late = self.late_starts.iter().map(|(_, t)| *t);
        self.started_at.into_iter().chain(late).max()
    }

    /// When a Job's pod that started completes (its containers' `finishedAt`).
    pub fn finished_at(&self) -> Option<Timestamp> {
        let run = jiff::SignedDuration::try_from(JOB_RUN).ok()?;
        self.last_start()?.checked_add(run).ok()
    }
}

impl World {
    /// Schedules the completion of a Job's pod whose containers all started (see the module).
    pub(super) fn job_pod_started(&mut self, key: &Key) {
        if let Some(at) = (self.pods.get(key))
            .filter(|p| p.of_job())
            .and_then(|p| p.finished_at())
        {
            self.job_runs.insert(key.clone(), at);
        }
    }

    /// Completes the Job pods whose run ended by now: phase Succeeded, volumes torn down,
    /// counted by their Job.
    pub(super) fn finish_job_runs(&mut self) {
        let now = self.now();
        let due: Vec<Key> = (self.job_runs.iter())
            .filter(|(_, at)| **at <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for key in due {
            self.job_runs.remove(&key);
            let Some(p) = self
                .pods
                .get_mut(&key)
                .filter(|p| p.stage == Stage::Running)
            else {
                continue;
            };
            p.stage = Stage::Succeeded;
            for v in p.csi.iter_mut() {
                v.mounted = None;
            }
            let job = p.controller().map(|o| o.name.clone());
            if let Some(Workload::Job(j)) =
                job.and_then(|n| self.workloads.get_mut(&("Job".into(), key.0.clone(), n)))
            {
                let status = j.status.get_or_insert_with(Default::default);
                status.succeeded = Some(status.succeeded.unwrap_or(0).saturating_add(1));
            }
            self.changed();
        }
    }
}

/// A Job that reached its one completion (the lab's Jobs run one pod): it makes no pod again.
pub(super) fn job_complete(j: &k8s_openapi::api::batch::v1::Job) -> bool {
    (j.status.as_ref()).is_some_and(|s| s.succeeded.unwrap_or(0) >= 1)
}
