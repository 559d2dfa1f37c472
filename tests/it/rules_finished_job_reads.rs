//! Audit JJ1, JJ2: what a finished pod read Key Vault with, gone since. A Job of its own (no
//! CronJob) whose pod Succeeded is complete and creates no further pods (kubernetes.io
//! "Jobs"); a bare pod that finished is never made again. Neither mounts again: the driver's
//! SecretProviderClassPodStatus is made only after a successful NodePublishVolume (FACTS §1)
//! and the rotation reconciler skips a completed pod (FACTS §4). So the managed identity it
//! authenticated as, the role that let it read, the vault object it mounted, deleted or
//! revoked since, are history like its ServiceAccount or federated credential (II3): the link
//! waits, saying why, and no fix grants or creates again. A CronJob's next run needs them.
//!
//! A FailedCreate is history too once a pod of the Job was created after it (FACTS §11,
//! "Evidence ages": events describe a past state): the create was retried and made that pod.

use kvchain::chain::testkit::{self as tk, APP};
use kvchain::chain::{Chain, Code, LinkKind, diagnose};
use kvchain::snapshot::*;

use crate::rules_retired_specs::{RETIRED, errors, finished_job, job_failed_create};

/// What goes, the code its absence gives a live pod, and the link that says it.
type Gone = (&'static str, fn(&mut Snapshot), Code, LinkKind);

const GONE: [Gone; 4] = [
    (
        "role assignment",
        |s| s.azure.role_assignments.items.clear(),
        Code::KVC501,
        LinkKind::Access,
    ),
    (
        "managed identity",
        |s| s.azure.identities.items.clear(),
        Code::KVC301,
        LinkKind::Identity,
    ),
    (
        "vault object",
        |s| tk::object_mut(s, APP).state = Observed::Known(None),
        Code::KVC601,
        LinkKind::VaultObject,
    ),
    (
        "vault object disabled",
        |s| {
            if let Observed::Known(Some(o)) = &mut tk::object_mut(s, APP).state {
                for v in &mut o.versions {
                    v.enabled = false;
                }
            }
        },
        Code::KVC602,
        LinkKind::VaultObject,
    ),
];

fn summary(chains: &[Chain], link: LinkKind) -> String {
    chains[0].link(link).summary.to_string()
}

/// JJ1: a complete Job's pod needs none of them again: no error, the link waits "Job
/// finished", and no fix re-grants, re-creates or re-enables.
#[test]
fn what_a_complete_jobs_pod_read_the_vault_with_and_is_gone_is_history() {
    for (what, gone, code, link) in GONE {
        let chains = diagnose(&finished_job(false, gone));
        assert!(
            !errors(&chains).contains(&code),
            "{what}: {:?}",
            errors(&chains)
        );
        assert_eq!(summary(&chains, link), "Job finished", "{what}");
        let fixes: Vec<_> = (chains.iter().flat_map(|c| c.findings()))
            .map(|f| f.fix.to_string())
            .collect();
        for word in [
            "role assignment create",
            "recover",
            "--enabled true",
            "identity create",
        ] {
            assert!(
                !fixes.iter().any(|f| f.contains(word)),
                "{what}: {fixes:#?}"
            );
        }
    }
}

/// JJ1: a bare pod that finished is made by nothing again: "pod finished".
#[test]
fn what_a_finished_bare_pod_read_the_vault_with_and_is_gone_is_history() {
    for (what, gone, code, link) in GONE {
        let mut s = tk::healthy();
        s.workloads.items.clear();
        let pod = tk::pod_mut(&mut s, APP);
        pod.owners.clear();
        (RETIRED[1].1)(pod);
        gone(&mut s);
        let chains = diagnose(&s);
        assert!(
            !errors(&chains).contains(&code),
            "{what}: {:?}",
            errors(&chains)
        );
        assert_eq!(summary(&chains, link), "pod finished", "{what}");
    }
}

/// Control: a CronJob's next run authenticates and reads again: the error stands.
#[test]
fn what_a_cronjobs_finished_run_read_the_vault_with_and_is_gone_is_still_an_error() {
    for (what, gone, code, _) in GONE {
        let chains = diagnose(&finished_job(true, gone));
        assert!(
            errors(&chains).contains(&code),
            "{what}: {:?}",
            errors(&chains)
        );
    }
}

/// Control: a Job whose pod still runs reads again (a rotation, a restart): the error stands.
#[test]
fn what_a_running_jobs_pod_reads_the_vault_with_and_is_gone_is_still_an_error() {
    for (what, gone, code, _) in GONE {
        let mut s = finished_job(false, gone);
        let pod = tk::pod_mut(&mut s, APP);
        pod.phase = "Running".into();
        pod.containers = tk::healthy().pods.items[0].containers.clone();
        let chains = diagnose(&s);
        assert!(
            errors(&chains).contains(&code),
            "{what}: {:?}",
            errors(&chains)
        );
    }
}

/// JJ2: a FailedCreate last seen before the Job's pod was created is a create refused, then
/// retried (a Helm hook Job made a moment before its ServiceAccount): the Job is complete.
#[test]
fn a_failed_create_older_than_the_jobs_pod_is_history() {
    let mut s = finished_job(false, |s| s.service_accounts.items.clear());
    let created = tk::pod_mut(&mut s, APP).created_at.expect("created_at");
    let before = created - jiff::SignedDuration::from_secs(5);
    s.events.items.push(job_failed_create(Some(before)));
    let chains = diagnose(&s);
    assert!(
        !errors(&chains).contains(&Code::KVC202),
        "{:?}",
        errors(&chains)
    );
    assert_eq!(summary(&chains, LinkKind::ServiceAccount), "Job finished");
}

/// Control: one last seen after the pod's creation, or at no time known, may be the Job
/// failing to make its next pod: not complete, the error stands.
#[test]
fn a_failed_create_since_the_jobs_pod_or_of_no_known_time_is_not_history() {
    for last_seen in [Some(tk::now()), None] {
        let mut s = finished_job(false, |s| s.service_accounts.items.clear());
        s.events.items.push(job_failed_create(last_seen));
        let chains = diagnose(&s);
        assert!(
            errors(&chains).contains(&Code::KVC202),
            "{last_seen:?}: {:?}",
            errors(&chains)
        );
    }
}

/// Audit KK2: a pod of the Job that failed after its newest success is one the Job may still
/// retry (short of its completions, in the backoff between pods, no pod running): the Job is
/// not known complete, so what its next pod reads with, gone, stays an error.
#[test]
fn a_job_whose_pod_failed_after_its_success_is_not_finished() {
    for (what, gone, code, _) in GONE {
        let mut s = finished_job(false, gone);
        let mut failed = tk::pod_mut(&mut s, APP).clone();
        failed.name = format!("{}-retry", failed.name).into();
        failed.uid = "uid-migrate-retry".into();
        failed.phase = "Failed".into();
        failed.created_at = failed
            .created_at
            .map(|t| t + jiff::SignedDuration::from_mins(5));
        s.pods.items.push(failed);
        let chains = diagnose(&s);
        assert!(
            errors(&chains).contains(&code),
            "{what}: {:?}",
            errors(&chains)
        );
    }
}
