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

/// The chains of lab world `name` (tests/fixtures/lab/), settled as `check --lab` runs it,
/// after asserting that `canary` is in none of `check --lab`'s outputs.
fn lab_chains(name: &str, canary: &str) -> Vec<kvchain::chain::Chain> {
    super::mmm_lab::run(name, "text", &[], canary);
    super::mmm_lab::run(name, "json", &[], canary);
    let path = super::mmm_lab::fixture(name);
    let snap = kvchain::source::lab::run_check(path.to_str().unwrap(), None).expect("runs");
    diagnose(&snap)
}

/// Kubernetes docs, "Optional Secrets": a container whose `secretKeyRef` / `envFrom` names a
/// missing Secret with `optional: true` starts, with the variables unset; env is read only at
/// container start (FACTS §4). Here the driver never writes the synced Secret (Helm without
/// syncSecret.enabled, FACTS §2): Sync is the cause, and the readers are not "no reloader"
/// (a design warning about a Secret that does not exist) but behind it, saying that they run
/// with the variables unset and that only a restart after the Secret is made gives them its
/// values. The optional secret volume mounts empty and is filled by the kubelet once the
/// Secret exists (Secrets: "mounted Secrets are updated automatically"): it needs no restart.
#[test]
fn optional_readers_of_a_secret_never_synced_run_unset_behind_sync() {
    let chains = lab_chains(
        "ppp-work-optional-unsynced.yaml",
        "CANARY-ppp-work-opt-5e21",
    );
    assert_eq!(chains.len(), 1, "{chains:#?}");
    let chain = &chains[0];
    assert_eq!(
        chain.link(LinkKind::Sync).status,
        kvchain::chain::Status::Broken
    );
    let consumers = chain.link(LinkKind::Consumers);
    assert_eq!(
        consumers.status,
        kvchain::chain::Status::Pending,
        "{consumers:#?}"
    );
    assert_eq!(&*consumers.summary, "unset: Sync", "{consumers:#?}");
    let fact = (consumers.facts.iter())
        .find(|f| &*f.label == "unset")
        .unwrap_or_else(|| panic!("no 'unset' fact: {consumers:#?}"));
    let said: &str = &fact.observed;
    assert!(
        said.contains("container app env DB_PASSWORD")
            && said.contains("container app envFrom")
            && said.contains("restart")
            && !said.contains("volume db"),
        "{said}"
    );
}

/// Kubernetes docs, "Sidecar Containers": an init container with `restartPolicy: Always`
/// starts before the app containers and keeps running beside them. Here it is the one reader
/// of the synced Secret (env, a start-time copy: FACTS §4), stale after the rotation (KVC901
/// on container proxy, its fix the Deployment's rollout restart). The restart's timeline
/// (README, `R`: "each new pod created → secrets mounted → running → env fresh") follows what
/// the restart was for: the new pod's sidecar running with its env fresh, not only the app
/// container.
#[test]
fn a_restart_for_a_stale_native_sidecar_follows_the_sidecars_env() {
    use kvchain::action::Action;
    use kvchain::action::timeline::{RestartWatch, StepState};
    use kvchain::chain::restart_plan::RestartPlan;
    let name = "ppp-work-sidecar.yaml";
    let chains = lab_chains(name, "CANARY-ppp-work-side-3c7a");
    let stale = (chains.iter().flat_map(|c| c.findings()))
        .find(|f| f.code == Code::KVC901 && f.message.contains("env"))
        .expect("the sidecar's env is stale");
    assert!(
        stale.message.contains("container proxy env DB_PASSWORD"),
        "{}",
        stale.message
    );
    assert!(
        stale
            .fix
            .starts_with("kubectl rollout restart deployment/api -n demo"),
        "{}",
        stale.fix
    );

    let path = super::mmm_lab::fixture(name);
    let mut src = kvchain::source::lab::open(path.to_str().unwrap(), None).expect("loads");
    src.world_mut()
        .run_until_stable(kvchain::source::lab::MAX_SETTLE);
    let before = super::actions_lab::snapshot(&src);
    let pod = (before.pods.items.iter())
        .find(|p| p.name.starts_with("api-") && p.template_of.is_none())
        .expect("the api pod")
        .clone();
    let plan = RestartPlan::for_pod(&before, &pod);
    let mut watch = RestartWatch::for_plan(&before, "demo", &pod.name, &plan);
    let out = src.act(&Action::Restart {
        namespace: "demo".into(),
        pod: pod.name.to_string(),
    });
    assert!(out.ok, "{out:?}");
    super::actions_lab::follow(&mut src, |s| {
        watch.observe(s);
        watch.timeline().finished
    });
    let tl = watch.timeline();
    let env = (tl.steps.iter())
        .find(|s| s.label.contains("/ proxy: env DB_PASSWORD fresh"))
        .unwrap_or_else(|| panic!("the sidecar's env is not followed: {tl:#?}"));
    assert!(matches!(env.state, StepState::Done(_)), "{tl:#?}");
}

/// The rotation test (`r`, README: "… → synced Secret → each consumer", "env / restart ✗
/// never — stale … restart needed") follows every env reader of the Secret: a native sidecar
/// (Kubernetes docs, "Sidecar Containers": it keeps running beside the app) holds a
/// start-time copy (FACTS §4) like an app container, so its verdict is the stale env and the
/// restart, not silence.
#[test]
fn a_rotation_test_judges_a_native_sidecars_env() {
    use kvchain::action::timeline::StepState;
    let tl = sidecar_rotation_timeline();
    let env = (tl.steps.iter())
        .find(|s| s.label.contains("env DB_PASSWORD"))
        .unwrap_or_else(|| panic!("the sidecar's env is not judged: {tl:#?}"));
    assert!(
        matches!(&env.state, StepState::Never(w) if w.contains("restart needed")),
        "{env:#?}"
    );
}

/// FACTS §4: a file mounted with subPath never sees rotated content. The rotation test follows
/// each container's CSI mount: a native sidecar's subPath copy is as old as an app
/// container's would be, and its step says so rather than nothing. Its volume of the synced
/// Secret is updated by the kubelet (Kubernetes docs, "Secrets"), and followed too.
#[test]
fn a_rotation_test_follows_a_native_sidecars_mounts() {
    use kvchain::action::timeline::StepState;
    let tl = sidecar_rotation_timeline();
    let copy = (tl.steps.iter())
        .find(|s| {
            s.label
                .contains("/ proxy: CSI volume at /etc/proxy/password")
        })
        .unwrap_or_else(|| panic!("the sidecar's subPath copy is not judged: {tl:#?}"));
    assert!(!matches!(copy.state, StepState::Done(_)), "{copy:#?}");
    // Its volume of the synced Secret follows the Secret, as an app container's would.
    let volume = (tl.steps.iter())
        .find(|s| s.label.contains("/ proxy: Secret volume at /etc/proxy/db"))
        .unwrap_or_else(|| panic!("the sidecar's Secret volume is not followed: {tl:#?}"));
    // The test is a re-stamp: the Secret's data is left as it was, and so is its volume
    // (audit TTT-time: unaffected, not rewritten).
    assert!(
        matches!(volume.state, StepState::Unaffected(_)),
        "{volume:#?}"
    );
}

/// Kubernetes docs, StatefulSet: under OrderedReady the controller replaces no pod while one
/// is not Running and Ready, and it makes a deleted pod again once it is gone. Pod db-0 is
/// terminating (deleted at 7m, its grace period running): the rollout restart of db-1's
/// stale env (KVC901) waits for it, and its fix says db-0 is being deleted already and comes
/// back once gone — not "deleting db-0 is what replaces it", a delete already under way.
#[test]
fn an_ordered_ready_rollout_waiting_on_a_terminating_pod_does_not_ask_to_delete_it() {
    let name = "ppp-work-ordered-terminating.yaml";
    let canary = "CANARY-ppp-work-term-6b1d";
    super::mmm_lab::run(name, "text", &["--for", "7m10s"], canary);
    let path = super::mmm_lab::fixture(name);
    let snap = kvchain::source::lab::run_check(
        path.to_str().unwrap(),
        Some(std::time::Duration::from_secs(430)),
    )
    .expect("runs");
    assert!(
        snap.pods
            .items
            .iter()
            .any(|p| p.name == "db-0" && p.deleting),
        "db-0 is terminating at 7m10s"
    );
    let chains = diagnose(&snap);
    let f = (chains.iter().flat_map(|c| c.findings()))
        .find(|f| f.code == Code::KVC901 && &*f.resource == "Pod/db-1")
        .expect("db-1's env is stale");
    let fix: &str = &f.fix;
    assert!(
        fix.starts_with("kubectl rollout restart statefulset/db -n demo"),
        "{fix}"
    );
    assert!(!fix.contains("deleting db-0 is what replaces it"), "{fix}");
    assert!(fix.contains("db-0 is being deleted"), "{fix}");
    // `R` on db-0 itself: the delete it would carry out is under way already, and the
    // StatefulSet makes the pod again once it is gone: nothing is done, and it says why.
    let db0 = (snap.pods.items.iter()).find(|p| p.name == "db-0").unwrap();
    let plan = kvchain::chain::restart_plan::RestartPlan::for_pod(&snap, db0);
    assert!(
        matches!(&plan, kvchain::chain::restart_plan::RestartPlan::Refused { why, .. }
            if why.contains("being deleted already")),
        "{plan:?}"
    );
}

/// The rotation test (`r`) of `db-password` in the sidecar fixture, followed to its end.
fn sidecar_rotation_timeline() -> kvchain::action::timeline::Timeline {
    use kvchain::action::Action;
    use kvchain::action::timeline::RotationWatch;
    let path = super::mmm_lab::fixture("ppp-work-sidecar.yaml");
    let mut src = kvchain::source::lab::open(path.to_str().unwrap(), None).expect("loads");
    src.world_mut()
        .run_until_stable(kvchain::source::lab::MAX_SETTLE);
    let mut watch =
        RotationWatch::new(&super::actions_lab::snapshot(&src), "kv-ppp", "db-password");
    let out = src.act(&Action::Rotate {
        vault: "kv-ppp".into(),
        object: "db-password".into(),
        marker: false,
    });
    assert!(out.ok, "{out:?}");
    super::actions_lab::follow(&mut src, |s| {
        watch.observe(s);
        watch.timeline().finished
    });
    watch.timeline()
}
