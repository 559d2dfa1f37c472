//! Audit PPP-work: the workload shapes real clusters run (native sidecars, init containers,
//! StatefulSets, DaemonSets, Jobs, CronJobs, KEDA ScaledJobs, bare pods, optional references),
//! judged against the Kubernetes and KEDA documents, FACTS §1–§4 and §11. Manifest fixtures
//! are tests/fixtures/manifests/ppp-work-*.yaml, lab worlds tests/fixtures/lab/ppp-work-*.yaml
//! (vault values there are canaries no output may show).

use std::path::PathBuf;

use kvchain::chain::{Code, LinkKind, Severity, diagnose};
use kvchain::source::manifests;

fn manifest(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/manifests/{name}"))
}

/// KEDA docs, "Scaling Jobs": a ScaledJob schedules one Kubernetes Job per detected event,
/// which "will initialize, pull a single event …, process to completion and terminate". Each
/// run's pod reads the synced Secret at its start, as a CronJob's does (FACTS §4: env is a
/// start-time snapshot): the next run has the current value, there is nothing to restart and
/// no Reloader annotation to add. KVC902 (a warning: "nothing restarts its pods") is said of
/// neither, and the Consumers link is not a warning for it.
#[test]
fn a_scaled_job_run_reads_the_secret_at_its_start_like_a_cron_job() {
    let snap = manifests::load(&[manifest("ppp-work-run-per-event.yaml")]).expect("loads");
    let chains = diagnose(&snap);
    for workload in ["ScaledJob/drain", "CronJob/nightly"] {
        let chain = (chains.iter())
            .find(|c| {
                (c.workload.as_ref()).is_some_and(|w| format!("{}/{}", w.kind, w.name) == workload)
            })
            .unwrap_or_else(|| panic!("a chain for {workload}"));
        let consumers = chain.link(LinkKind::Consumers);
        assert!(
            !consumers
                .findings
                .iter()
                .any(|f| f.code == Code::KVC902 && f.severity >= Severity::Warning),
            "{workload}: {:#?}",
            consumers.findings
        );
        assert_ne!(
            consumers.status,
            kvchain::chain::Status::Warning,
            "{workload}: {consumers:#?}"
        );
    }
}

/// Kubernetes docs, "Secrets" (secret files permissions) write `defaultMode: 0400`, and so do
/// charts (`defaultMode: 0755` for scripts): kubectl reads manifests as YAML 1.1 (sigs.k8s.io/
/// yaml), where a plain `0400` is the octal integer 256. Such a document is one kubectl
/// applies, so `check -f` reads it (no "not read", the Deployment's chain is there) and takes
/// the mode as the API server stores it.
#[test]
fn octal_file_modes_as_the_kubernetes_docs_write_them_are_read() {
    let snap = manifests::load(&[manifest("ppp-work-octal-modes.yaml")]).expect("loads");
    assert!(
        snap.source.unread.is_empty(),
        "a document kubectl applies is not read: {:?}",
        snap.source.unread
    );
    let chains = diagnose(&snap);
    assert!(
        chains
            .iter()
            .any(|c| c.workload.as_ref().is_some_and(|w| w.name == "api")),
        "no chain for Deployment api: {chains:#?}"
    );
}
