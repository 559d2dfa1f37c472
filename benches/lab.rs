//! Lab throughput: building a generated world, running it until it settles and exporting it
//! (what `kvchain check --lab generated:N` does before diagnosis), exporting a snapshot of a
//! running world, and one rotation poll over all pods.
//!
//! The 100,000-pod case is its own group, so it can be left out or run alone:
//! `cargo bench --bench lab -- --quick 'lab/'` or `cargo bench --bench lab -- --quick lab_100k`.
//!
//! Criterion measures time only. Peak memory of the whole command (world, snapshot, diagnosis,
//! report), as measured for issue 16 (goals: 150 MB at 10,000 pods, 1.5 GB at 100,000):
//!
//! ```sh
//! cargo build --release
//! /usr/bin/time -v target/release/kvchain check --lab generated:10000 -o text >/dev/null
//! # "Maximum resident set size" and "Elapsed (wall clock) time"; likewise generated:100000
//! ```

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use kvchain::source::lab::{self, export, world::World};

fn settle(c: &mut Criterion) {
    let mut g = c.benchmark_group("lab");
    g.sample_size(10);
    for n in [1_000usize, 10_000] {
        let spec = format!("generated:{n}");
        g.bench_function(format!("run_check {spec}"), |b| {
            b.iter(|| black_box(lab::run_check(&spec, None).expect("generated world runs")))
        });
        let mut w = World::new(lab::load(&spec).expect("generated world loads"));
        w.run_until_stable(lab::MAX_SETTLE);
        g.bench_function(format!("snapshot {spec}"), |b| {
            b.iter(|| black_box(export::snapshot(&w)))
        });
        let poll = w.poll_interval();
        g.bench_function(format!("one rotation poll {spec}"), |b| {
            b.iter(|| w.advance(black_box(poll)))
        });
    }
    g.bench_function("run_check default", |b| {
        b.iter(|| {
            black_box(
                lab::run_check("default", Some(Duration::from_secs(600))).expect("default runs"),
            )
        })
    });
    g.finish();
}

/// Seconds per iteration: the fewest samples criterion allows, and no warm-up to speak of.
fn settle_100k(c: &mut Criterion) {
    let mut g = c.benchmark_group("lab_100k");
    g.sample_size(10);
    g.warm_up_time(Duration::from_millis(1));
    g.bench_function("run_check generated:100000", |b| {
        b.iter(|| {
            black_box(lab::run_check("generated:100000", None).expect("generated world runs"))
        })
    });
    g.finish();
}

criterion_group!(benches, settle, settle_100k);
criterion_main!(benches);
