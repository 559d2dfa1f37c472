//! Audit RRR-jobs: a finished pod (phase Succeeded or Failed: a complete Job's pod, a bare pod
//! that exited) holds no mount. The kubelet tears a finished pod's volumes down, and the
//! driver's rotation skips pods that succeeded or failed ("for jobs that complete aren't gc
//! yet", FACTS §4 [D5] pkg/rotation/reconciler.go); its SPC pod status stays until the pod
//! object goes (FACTS §1), history. So its Mount link is neither "mounted" nor broken, and what
//! only a live mount can have (rotation off KVC702, rotation failures) is not raised on it.

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Chain, Code, LinkKind, Status, diagnose};
use kvchain::snapshot::*;

use super::mmm_lab::{link, report};
use crate::rules_events::{self, FORBIDDEN};
use crate::rules_retired_specs::{RETIRED, finished_job};
use jiff::SignedDuration;

fn rotation_off(s: &mut Snapshot) {
    if let Observed::Known(csi) = &mut s.cluster.csi_driver {
        csi.rotation_enabled = Observed::Known(false);
    }
}

fn codes(c: &Chain) -> Vec<Code> {
    c.findings().map(|f| f.code).collect()
}

/// The findings of the links up to the synced Secret: what a Job reads it with (KVC902, env
/// at start) is the Consumers link's, and stays.
fn upstream(c: &Chain) -> Vec<Code> {
    (c.links.iter())
        .filter(|l| l.link != LinkKind::Consumers)
        .flat_map(|l| l.findings.iter().map(|f| f.code))
        .collect()
}

/// The app's one pod, bare (no owner), retired by `retire`.
fn bare(retire: fn(&mut PodObs)) -> Snapshot {
    let mut s = tk::healthy();
    s.workloads.items.clear();
    let pod = tk::pod_mut(&mut s, APP);
    pod.owners.clear();
    retire(pod);
    s
}

/// The finished pod's Mount link waits on nothing and says what its mount was: "Job finished"
/// for a complete Job's pod, "pod finished" for a bare one that succeeded or was evicted, with
/// its last SPC pod status given as history. Neither ok (nothing is mounted) nor broken.
#[test]
fn a_finished_pods_mount_says_it_finished_and_what_it_mounted() {
    let worlds = [
        ("complete Job", finished_job(false, |_| {}), "Job finished"),
        ("bare, evicted", bare(RETIRED[0].1), "pod finished"),
        ("bare, succeeded", bare(RETIRED[1].1), "pod finished"),
    ];
    for (what, s, summary) in worlds {
        let chains = diagnose(&s);
        let mount = chains[0].link(LinkKind::Mount);
        assert_eq!(mount.status, Status::Pending, "{what}: {mount:#?}");
        assert_eq!(mount.summary, summary, "{what}: {mount:#?}");
        let history = (mount.facts.iter())
            .find(|f| f.label == "history")
            .unwrap_or_else(|| panic!("{what}: {mount:#?}"));
        assert!(
            history.observed.contains("tore its volumes down")
                && history.observed.contains("mounted: true"),
            "{what}: {history:?}"
        );
        assert!(
            upstream(&chains[0]).is_empty(),
            "{what}: {:?}",
            codes(&chains[0])
        );
    }
}

/// A finished pod whose SPC pod status is not seen, with its containers terminated: they ran,
/// so it was mounted once, but it is not mounted now.
#[test]
fn a_finished_pod_without_its_spc_pod_status_is_not_said_mounted() {
    let mut s = finished_job(false, |_| {});
    s.spc_statuses.items.clear();
    let chains = diagnose(&s);
    let mount = chains[0].link(LinkKind::Mount);
    assert_eq!(
        (mount.status, mount.summary.as_str()),
        (Status::Pending, "Job finished"),
        "{mount:#?}"
    );
}

/// Rotation off (KVC702) is said on the live pod's chain, not on the finished one's: the
/// reconciler skips it either way.
#[test]
fn rotation_off_is_raised_on_the_live_pod_not_the_finished_one() {
    let mut s = tk::empty();
    tk::add_app(&mut s, NS, APP, 2);
    rotation_off(&mut s);
    let done = tk::pod_name(APP, 0);
    let pod = (s.pods.items.iter_mut()).find(|p| p.name == done).unwrap();
    (RETIRED[1].1)(pod);
    let chains = diagnose(&s);
    for c in &chains {
        let finished = c.id.contains(&done);
        assert_eq!(
            codes(c).contains(&Code::KVC702),
            !finished,
            "{}: {:?}",
            c.id,
            codes(c)
        );
    }
    // A complete Job alone: nothing mounts the SPC, nothing would be rotated.
    let mut s = finished_job(false, |_| {});
    rotation_off(&mut s);
    let chains = diagnose(&s);
    assert!(
        !codes(&chains[0]).contains(&Code::KVC702),
        "{:?}",
        codes(&chains[0])
    );
}

/// A rotation poll that failed while the pod ran (403, half a minute ago) says nothing now
/// that the pod finished: its mount is gone and no poll comes again.
#[test]
fn a_rotation_failure_of_a_finished_pod_is_history() {
    let mut s = finished_job(false, |_| {});
    s.events.items.push(rules_events::rotation_failed(
        FORBIDDEN,
        SignedDuration::from_secs(30),
    ));
    let chains = diagnose(&s);
    assert!(upstream(&chains[0]).is_empty(), "{:#?}", chains[0].links);
}

/// The lab's complete Job (tests/fixtures/lab/rrr_facts/rrr-job-done-rotated.yaml): its Mount
/// reads "Job finished", pending, not "✓ mounted"; `check` exits 0 (nothing is an error).
#[test]
fn the_labs_complete_job_reads_finished_not_mounted() {
    let r = report("rrr_facts/rrr-job-done-rotated.yaml", "CANARY-rrr");
    let chain = &r["chains"][0];
    let mount = link(chain, "mount");
    assert_eq!(mount["status"], "pending", "{mount:#}");
    assert_eq!(mount["summary"], "Job finished", "{mount:#}");
    assert_eq!(r["summary"]["errors"], 0, "{r}");
}

/// The incremental engine gives what a full pass gives when a Job's pod goes from Running to
/// Succeeded: its own chain turns "Job finished", and the chain of a pod that reads the
/// Secret without mounting the SPC learns that no pod mounts it now (KVC903, frozen).
#[test]
fn the_engine_agrees_with_a_full_pass_when_a_jobs_pod_finishes() {
    use kvchain::chain::engine::{Change, Engine, Object};
    let mut s = finished_job(false, |_| {});
    let done = s.pods.items[0].clone();
    let mut running = tk::healthy().pods.items[0].clone();
    running.owners = done.owners.clone();
    s.pods.items[0] = running;
    let mut reader = done.clone();
    reader.name = "reader".into();
    reader.uid = "uid-reader".into();
    reader.owners.clear();
    reader.volumes.clear();
    reader.phase = "Running".into();
    reader.containers = s.pods.items[0].containers.clone();
    s.pods.items.push(reader);
    let mut engine = Engine::new(s);
    engine.apply(vec![Change::Upsert(Object::Pod(done.into()))]);
    crate::engine_props::assert_agrees(&engine, "the Job's pod finished");
    let chains: Vec<&Chain> = engine.chains().collect();
    let job = chains
        .iter()
        .find(|c| c.id.contains(&tk::pod_name(APP, 0)))
        .unwrap();
    assert_eq!(job.link(LinkKind::Mount).summary, "Job finished");
    assert!(
        (job.findings())
            .any(|f| f.code == Code::KVC903 && f.message.contains("no pod mounts it now")),
        "{:?}",
        codes(job)
    );
}

/// The TUI tree's pod row of a complete Job's pod says why its worst link waits: "Mount Job
/// finished", not a bare "… Mount" that reads as a mount on its way.
#[test]
fn the_tree_row_of_a_finished_pod_says_it_finished() {
    use kvchain::ui::app::{App, AppEvent};
    use kvchain::ui::config::UiConfig;
    let s = finished_job(false, |_| {});
    let chains = diagnose(&s);
    let mut app = App::new(s.source.clone(), UiConfig::default());
    app.update(AppEvent::Resize(200, 30));
    app.apply(std::sync::Arc::new(s), chains);
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(200, 30)).unwrap();
    t.draw(|f| kvchain::ui::views::draw(f, &mut app)).unwrap();
    let screen = t.backend().to_string();
    let pod = tk::pod_name(APP, 0);
    let row = (screen.lines())
        .find(|l| l.contains(&pod))
        .unwrap_or_else(|| panic!("{screen}"));
    assert!(row.contains("Mount Job finished"), "{row}\n{screen}");
}

/// A finished pod's containers have exited, so no process holds what they read through env:
/// nothing needs restarting when the Secret rotates (a terminating pod's case, audit S1), and
/// KVC902 is not raised on it, a bare pod's warning nor a Job's note. The same pod alive gets
/// its bare-pod KVC902, as documented (docs/codes.yaml KVC902).
#[test]
fn a_finished_pod_that_read_env_needs_no_restart() {
    let kvc902 = |s: &Snapshot| {
        (diagnose(s).iter())
            .flat_map(|c| c.findings().map(|f| f.code).collect::<Vec<_>>())
            .filter(|&c| c == Code::KVC902)
            .count()
    };
    assert_eq!(kvc902(&bare(|_| {})), 1, "a live bare pod reading env");
    for (what, retire) in &RETIRED[..2] {
        assert_eq!(kvc902(&bare(*retire)), 0, "bare, {what}");
    }
    assert_eq!(kvc902(&finished_job(false, |_| {})), 0, "complete Job");
}

/// The driver's rotation skips a pod being deleted as it skips a finished one (FACTS §4 [D5]
/// pkg/rotation/reconciler.go: "skip rotation if the pod is being terminated"): rotation off
/// changes nothing for it, so KVC702 is its live sibling's alone.
#[test]
fn rotation_off_is_not_raised_on_a_terminating_pod() {
    let mut s = tk::empty();
    tk::add_app(&mut s, NS, APP, 2);
    rotation_off(&mut s);
    let leaving = tk::pod_name(APP, 0);
    let pod = (s.pods.items.iter_mut())
        .find(|p| p.name == leaving)
        .unwrap();
    (RETIRED[2].1)(pod);
    for c in &diagnose(&s) {
        let terminating = c.id.contains(&leaving);
        let got = codes(c);
        assert_eq!(
            got.contains(&Code::KVC702),
            !terminating,
            "{}: {got:?}",
            c.id
        );
    }
}

/// With the SPC pod statuses unread, a finished pod's Mount link still says it finished:
/// what the statuses would add is its last mount's history, and the pod holds none now. The
/// unread statuses are said on the link (unknown is not absent).
#[test]
fn a_finished_pod_reads_finished_with_its_statuses_unread() {
    let mut s = finished_job(false, |_| {});
    s.spc_statuses = Coll::unknown("forbidden: cannot list secretproviderclasspodstatuses");
    let chains = diagnose(&s);
    let mount = chains[0].link(LinkKind::Mount);
    assert_eq!(mount.status, Status::Pending, "{mount:#?}");
    assert_eq!(mount.summary, "Job finished", "{mount:#?}");
    assert!(
        (mount.facts.iter()).any(|f| f.observed.contains("forbidden: cannot list")),
        "{mount:#?}"
    );
}
