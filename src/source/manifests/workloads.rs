//! The built-in workloads of a manifest (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job,
//! CronJob): decoded, their pod template judged as the API server judges it
//! ([`super::strict::containers`]) and its selector ([`super::selector`]), then read as a
//! workload with its template's pod.

use super::*;

impl Builder {
    /// Reads the built-in workload `value` of `kind` (one of the six above); `selector` is why
    /// the apps or batch validation refuses its selector, said after its template.
    pub(super) fn built_in_workload(
        &mut self,
        doc: &Doc,
        what: &str,
        kind: &str,
        value: serde_yaml::Value,
        selector: Option<String>,
    ) -> Result<(), InputError> {
        match kind {
            "Deployment" => {
                let d: Deployment = known(doc, what, value)?;
                let t = d.spec.as_ref().map(|s| &s.template);
                let t =
                    strict::containers(doc, what, "spec.template", t, strict::Template::Validated)?;
                if let Some(why) = selector {
                    return Err(doc.err(what, why));
                }
                self.workload(convert::deployment(&d), t);
            }
            "StatefulSet" => {
                let d: StatefulSet = known(doc, what, value)?;
                let t = d.spec.as_ref().map(|s| &s.template);
                let claims = (d.spec.iter())
                    .flat_map(|s| s.volume_claim_templates.iter().flatten())
                    .filter_map(|c| c.metadata.name.as_deref())
                    .collect();
                let how = strict::Template::StatefulSet { claims };
                let t = strict::containers(doc, what, "spec.template", t, how)?;
                if let Some(why) = selector {
                    return Err(doc.err(what, why));
                }
                self.workload(convert::stateful_set(&d), t);
            }
            "DaemonSet" => {
                let d: DaemonSet = known(doc, what, value)?;
                let t = d.spec.as_ref().map(|s| &s.template);
                let t =
                    strict::containers(doc, what, "spec.template", t, strict::Template::Validated)?;
                if let Some(why) = selector {
                    return Err(doc.err(what, why));
                }
                self.workload(convert::daemon_set(&d), t);
            }
            "ReplicaSet" => {
                let d: ReplicaSet = known(doc, what, value)?;
                let t = d.spec.as_ref().and_then(|s| s.template.as_ref());
                let t =
                    strict::containers(doc, what, "spec.template", t, strict::Template::Validated)?;
                if let Some(why) = selector {
                    return Err(doc.err(what, why));
                }
                self.workload(convert::replica_set(&d), t);
            }
            "Job" => {
                let d: Job = known(doc, what, value)?;
                let t = d.spec.as_ref().map(|s| &s.template);
                let t =
                    strict::containers(doc, what, "spec.template", t, strict::Template::Validated)?;
                if let Some(why) = selector {
                    return Err(doc.err(what, why));
                }
                // A Job is re-created from its file: the fix names it (audit LL9).
                let mut w = convert::job(&d);
                w.file = Some(doc.file.display().to_string());
                self.workload(w, t);
            }
            "CronJob" => {
                let d: CronJob = known(doc, what, value)?;
                if let Some(why) = cron_schedule::cron_job(&d) {
                    return Err(doc.err(what, why));
                }
                let t = d
                    .spec
                    .as_ref()
                    .and_then(|s| s.job_template.spec.as_ref())
                    .map(|s| &s.template);
                let t = strict::containers(
                    doc,
                    what,
                    "spec.jobTemplate.spec.template",
                    t,
                    strict::Template::Validated,
                )?;
                if let Some(why) = selector {
                    return Err(doc.err(what, why));
                }
                self.workload(convert::cron_job(&d), t);
            }
            _ => unreachable!("not a built-in workload: {kind}"),
        }
        Ok(())
    }
}
