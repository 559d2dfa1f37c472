//! What a new snapshot costs the long-running modes (TUI diagnoser, `serve`): before, a full
//! diagnosis plus suppressions of every snapshot; now `Feed::update` (diff against the last
//! snapshot, re-diagnose what changed) and `Feed::chains` (the published copy). A generated
//! world of 10,000 pods / 2,000 SPCs; each new snapshot has one pod changed and the clock one
//! second on, as a live snapshot after one watch event does.
//!
//! `cargo bench --bench feed -- --quick`

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use jiff::SignedDuration;
use kvchain::chain::engine::{Feed, diff};
use kvchain::chain::{diagnose, testkit};
use kvchain::snapshot::Snapshot;
use kvchain::suppress;

/// The `n`th next snapshot: pod 5,000 toggles between Running and Pending, the clock moves.
fn next(base: &Snapshot, n: i64) -> Snapshot {
    let mut s = base.clone();
    s.source.observed_at += SignedDuration::from_secs(n);
    if n % 2 == 1 {
        s.pods.items[5_000].phase = "Pending".into();
    }
    s
}

fn bench(c: &mut Criterion) {
    let mut base = testkit::generated_snapshot(10_000, 2_000);
    // The live store's order: by namespace, then name (workloads and Secrets are merged from
    // several watches, and stay in the generator's order).
    base.pods
        .items
        .sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    base.spc_statuses
        .items
        .sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    base.service_accounts
        .items
        .sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    base.spcs
        .items
        .sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    let label = "10k_pods_2k_spcs";
    let mut g = c.benchmark_group("feed");
    g.sample_size(10);
    let rules = suppress::Rules::default();
    g.bench_function(format!("before_full_diagnosis_and_suppress_{label}"), |b| {
        b.iter_with_large_drop(|| {
            let mut chains = diagnose(black_box(&base));
            suppress::apply(&base, &Default::default(), &rules, &mut chains);
            chains
        })
    });
    let one = next(&base, 1);
    g.bench_function(format!("diff_{label}"), |b| {
        b.iter_with_large_drop(|| diff(black_box(&base), black_box(&one)))
    });
    // Resident memory (Linux): what the engine's own copy of the objects and its chains, and
    // then one published copy of the chains, cost beside the snapshot everyone shares.
    let empty = rss_mb();
    let shared = Arc::new(base.clone());
    let before = rss_mb();
    let mut feed = Feed::new(None);
    feed.update(shared.clone());
    let with_engine = rss_mb();
    let published = feed.chains();
    let with_published = rss_mb();
    eprintln!(
        "{label}: resident +{:.0} MB for a copy of the snapshot, +{:.0} MB for the feed (engine objects and chains), +{:.0} MB for one published copy of the chains",
        before - empty,
        with_engine - before,
        with_published - with_engine
    );
    drop((published, shared));
    let mut n = 0;
    let fed = feed.update(Arc::new(next(&base, 1)));
    eprintln!("{label}: one pod and the clock re-diagnose {fed:?}");
    g.bench_function(format!("update_one_pod_and_clock_{label}"), |b| {
        b.iter_batched(
            || {
                n += 1;
                Arc::new(next(&base, n))
            },
            // The replaced snapshot is returned: the UI frees it off its task.
            |s| {
                let old = feed.snapshot().cloned();
                (feed.update(s), old)
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function(format!("publish_chains_{label}"), |b| {
        b.iter_with_large_drop(|| feed.chains())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

/// Resident set size in MB (0 where /proc is missing).
fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}
