//! The long-running modes diagnose each new snapshot through one `Feed` (issue 16: the
//! incremental engine fed by the sources). What they publish must be what a full diagnosis
//! (plus suppressions) of the same snapshot gives, every time; and a small change must cost
//! few chains, whatever the size of the world.

use std::sync::Arc;

use jiff::SignedDuration;
use kvchain::chain::engine::{Feed, Finish};
use kvchain::chain::{Chain, diagnose, testkit};
use kvchain::snapshot::Snapshot;
use kvchain::source::lab::world::World;
use kvchain::source::lab::{self, export, faults};
use kvchain::suppress::{self, IGNORE, IgnoreRule, Rules};

fn suppressing(rules: Rules) -> Arc<Finish> {
    Arc::new(move |kube: &Snapshot, chains: &mut [Chain]| {
        suppress::apply(kube, &Default::default(), &rules, chains);
    })
}

/// What the diagnoser published before the feed: a full diagnosis, then suppressions.
fn full(s: &Snapshot, rules: &Rules) -> Vec<Chain> {
    let mut chains = diagnose(s);
    suppress::apply(s, &Default::default(), rules, &mut chains);
    chains
}

fn assert_same(published: &[Arc<Chain>], expected: &[Chain], after: &str) {
    let published: Vec<&Chain> = published.iter().map(|c| &**c).collect();
    let ids = |c: &[&Chain]| c.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
    let expected: Vec<&Chain> = expected.iter().collect();
    assert_eq!(ids(&published), ids(&expected), "chain ids after {after}");
    for (a, b) in published.iter().zip(&expected) {
        assert_eq!(a, b, "chain {} after {after}", a.id);
    }
}

/// The workload to suppress by annotation: the first Deployment of the snapshot.
fn first_deployment(s: &Snapshot) -> (String, String) {
    let d = s
        .workloads
        .items
        .iter()
        .find(|w| w.kind == "Deployment")
        .expect("the default lab has Deployments");
    (d.namespace.to_string(), d.name.to_string())
}

const TICKS: usize = 60;

#[test]
fn lab_ticks_faults_and_repairs_publish_what_a_full_diagnosis_gives() {
    let mut w = World::new(lab::load("default").expect("built-in scenario"));
    let poll = w.poll_interval();
    let first = export::snapshot(&w);
    // Suppressions by rule and by annotation, so kept chains must keep their marks right.
    let (ns, deployment) = first_deployment(&first);
    let rules = Rules::new(&[IgnoreRule {
        code: "*".into(),
        namespace: Some(ns.clone()),
        resource: Some("SecretProviderClass/*".into()),
        reason: Some("test".into()),
    }])
    .expect("valid rule");
    let mut feed = Feed::new(Some(suppressing(rules.clone())));
    // (tick, fault to apply or repair): break links, let them show, repair them.
    let script: &[(usize, &str, bool)] = &[
        (4, "delete-object", true),
        (8, "remove-role-assignment", true),
        (12, "sa-client-id-mismatch", true),
        (16, "delete-object", false),
        (20, "disable-rotation", true),
        (24, "remove-role-assignment", false),
        (28, "sa-client-id-mismatch", false),
        (32, "delete-mounting-workload", true),
        (36, "disable-rotation", false),
        (40, "delete-mounting-workload", false),
        (44, "remove-pod-label", true),
        (52, "remove-pod-label", false),
    ];
    let (mut incremental, mut whole, mut all) = (0, 0, 0);
    for tick in 0..TICKS {
        for (at, id, apply) in script {
            if *at == tick {
                let done = if *apply {
                    faults::apply(&mut w, id)
                } else {
                    faults::repair(&mut w, id)
                };
                done.unwrap_or_else(|e| panic!("tick {tick}: {id}: {e}"));
            }
        }
        // About what the lab sends at its default speed: a snapshot every few lab seconds.
        w.advance(poll / 24);
        let mut s = export::snapshot(&w);
        // An ignore annotation comes and goes on a Deployment.
        if (10..30).contains(&tick)
            && let Some(d) = s
                .workloads
                .items
                .iter_mut()
                .find(|x| x.kind == "Deployment" && x.namespace == ns && x.name == deployment)
        {
            d.annotations.insert(IGNORE.into(), "*".into());
        }
        let s = Arc::new(s);
        let fed = feed.update(s.clone());
        let expected = full(&s, &rules);
        assert_same(&feed.chains(), &expected, &format!("tick {tick}"));
        if tick > 0 {
            assert!(!fed.whole, "tick {tick}: diagnosed whole");
            incremental += fed.work.chains;
        }
        whole += usize::from(fed.whole);
        all += expected.len();
    }
    assert_eq!(whole, 1, "only the first snapshot is diagnosed whole");
    assert!(
        incremental < all / 2,
        "{incremental} chains rebuilt over {TICKS} ticks, of {all} a full diagnosis builds"
    );
    eprintln!("lab default, {TICKS} ticks: {incremental} chains rebuilt (full diagnoses: {all})");
}

#[test]
fn one_pod_in_a_big_world_rebuilds_a_handful_of_chains() {
    let world = testkit::generated_snapshot(2_000, 400);
    let mut feed = Feed::new(None);
    let first = feed.update(Arc::new(world.clone()));
    assert!(first.whole);
    assert_eq!(first.work.chains, 2_000);
    // The live store's order (by namespace, then name) and the generator's differ: both work.
    let mut next = world.clone();
    let pod = &mut next.pods.items[1_234];
    pod.phase = "Pending".into();
    let name = pod.name.clone();
    let next = Arc::new(next);
    let fed = feed.update(next.clone());
    assert!(!fed.whole);
    assert_eq!(fed.work.namespaces, 1, "{fed:?}");
    // The pod's chain and those of the pods sharing its SPC (they count who mounts it).
    assert!(
        (1..=5).contains(&fed.work.chains),
        "{name}: {:?} of 2000 chains",
        fed.work
    );
    assert_same(&feed.chains(), &diagnose(&next), "one pod Pending");
    // Nothing changed: nothing is rebuilt.
    let fed = feed.update(next.clone());
    assert_eq!(fed.work.chains, 0, "{fed:?}");
}

#[test]
fn a_moving_clock_rebuilds_only_the_chains_whose_verdict_reads_it() {
    // Every 19th app has a vault version its pods have not picked up (KVC703: how long ago
    // the vault moved is in the message); nothing else in this world ages.
    let world = testkit::generated_snapshot(1_000, 200);
    let mut feed = Feed::new(None);
    feed.update(Arc::new(world.clone()));
    let mut later = world;
    later.source.observed_at += SignedDuration::from_mins(7);
    let later = Arc::new(later);
    let fed = feed.update(later.clone());
    let published = feed.chains();
    assert_same(&published, &diagnose(&later), "seven minutes later");
    let lagging = published
        .iter()
        .filter(|c| c.findings().any(|f| f.code == kvchain::chain::Code::KVC703))
        .count();
    assert!(lagging > 0, "the world has lagging chains");
    assert!(
        fed.work.chains >= lagging && fed.work.chains < published.len() / 4,
        "{fed:?}: {lagging} lagging chains of {}",
        published.len()
    );
}

#[test]
fn changed_gaps_are_diagnosed_whole_and_still_agree() {
    let world = testkit::generated_snapshot(200, 40);
    let mut feed = Feed::new(None);
    feed.update(Arc::new(world.clone()));
    let mut next = world;
    next.secrets.gaps.namespaces.insert(
        "ns-03".into(),
        "cannot list secrets in ns-03: forbidden".into(),
    );
    let next = Arc::new(next);
    let fed = feed.update(next.clone());
    assert!(fed.whole, "{fed:?}");
    assert_same(&feed.chains(), &diagnose(&next), "a new gap");
}

/// The TUI's diagnoser task itself: snapshot after snapshot (a fault, its repair, the clock
/// moving), each published diagnosis is the full one with suppressions.
#[tokio::test]
async fn the_tui_diagnoser_publishes_full_diagnoses_with_suppressions() {
    use kvchain::source::SourceEvent;
    use kvchain::ui::app::AppEvent;
    use tokio::sync::mpsc;
    let mut w = World::new(lab::load("default").expect("built-in scenario"));
    let poll = w.poll_interval();
    let first = export::snapshot(&w);
    let (ns, _) = first_deployment(&first);
    let rules = Rules::new(&[IgnoreRule {
        code: "*".into(),
        namespace: Some(ns),
        resource: Some("Pod/*".into()),
        reason: None,
    }])
    .expect("valid rule");
    let (stx, srx) = mpsc::unbounded_channel();
    let (atx, mut arx) = mpsc::unbounded_channel();
    let task = tokio::spawn(kvchain::ui::diagnoser_with(srx, atx, rules.clone()));
    for step in 0..8 {
        match step {
            2 => {
                faults::apply(&mut w, "remove-role-assignment").unwrap();
            }
            5 => {
                faults::repair(&mut w, "remove-role-assignment").unwrap();
            }
            _ => {}
        }
        w.advance(poll / 4);
        let s = Arc::new(export::snapshot(&w));
        stx.send(SourceEvent::Snapshot(s.clone())).unwrap();
        // One at a time: the diagnoser skips to the newest of several pending snapshots.
        let (snapshot, chains) = loop {
            match arx.recv().await.expect("the diagnoser runs") {
                AppEvent::Diagnosed {
                    snapshot, chains, ..
                } => break (snapshot, chains),
                _ => continue,
            }
        };
        assert!(
            Arc::ptr_eq(&snapshot, &s),
            "the snapshot itself, not a copy"
        );
        let expected = full(&s, &rules);
        assert!(
            expected
                .iter()
                .flat_map(|c| c.findings())
                .any(|f| f.suppressed.is_some()),
            "the rule suppresses something"
        );
        assert_same(&chains, &expected, &format!("step {step}"));
    }
    drop(stx);
    task.await.unwrap();
}

#[test]
fn another_context_or_a_relist_of_everything_is_diagnosed_whole() {
    let world = testkit::generated_snapshot(200, 40);
    let mut feed = Feed::new(None);
    feed.update(Arc::new(world.clone()));
    let mut other = world.clone();
    other.source.label = "another-context".into();
    let other = Arc::new(other);
    assert!(feed.update(other.clone()).whole, "a kube context switch");
    assert_same(&feed.chains(), &diagnose(&other), "a context switch");
    let mut relisted = (*other).clone();
    for p in &mut relisted.pods.items {
        p.uid.push('x');
    }
    for st in &mut relisted.spc_statuses.items {
        st.target_path.push('x');
    }
    let relisted = Arc::new(relisted);
    assert!(
        feed.update(relisted.clone()).whole,
        "every pod and status changed"
    );
    assert_same(&feed.chains(), &diagnose(&relisted), "every pod changed");
}

/// An expiry compares the clock with an instant: the chain is diagnosed again when the clock
/// passes it (the warning starts seven days before), not on every move before that.
#[test]
fn an_expiry_weeks_away_is_diagnosed_again_only_when_its_warning_starts() {
    use kvchain::chain::Code;
    use kvchain::snapshot::Observed;
    let mut world = testkit::generated_snapshot(200, 40);
    let at = world.source.observed_at;
    for o in &mut world.azure.objects {
        if let Observed::Known(Some(v)) = &mut o.state {
            for version in &mut v.versions {
                version.expires = Some(at + SignedDuration::from_hours(10 * 24));
            }
        }
    }
    let mut feed = Feed::new(None);
    feed.update(Arc::new(world.clone()));
    let count = |chains: &[Arc<Chain>], code: Code| {
        chains
            .iter()
            .filter(|c| c.findings().any(|f| f.code == code))
            .count()
    };
    let mut later = world.clone();
    later.source.observed_at = at + SignedDuration::from_hours(24);
    let later = Arc::new(later);
    let fed = feed.update(later.clone());
    let chains = feed.chains();
    assert_same(&chains, &diagnose(&later), "a day later");
    assert_eq!(count(&chains, Code::KVC604), 0);
    // Only the lagging chains (their message gives the lag) moved with the clock.
    assert_eq!(fed.work.chains, count(&chains, Code::KVC703), "{fed:?}");
    let mut warned = world;
    warned.source.observed_at = at + SignedDuration::from_hours(3 * 24 + 1);
    let warned = Arc::new(warned);
    let fed = feed.update(warned.clone());
    let chains = feed.chains();
    assert_same(
        &chains,
        &diagnose(&warned),
        "within seven days of the expiry",
    );
    assert!(count(&chains, Code::KVC604) > 0);
    assert!(fed.work.chains >= count(&chains, Code::KVC604), "{fed:?}");
}
