//! Lab throughput: building a generated world, running it until it settles (what
//! `kvchain check --lab generated:N` does before diagnosis), exporting a snapshot, and one
//! rotation poll over all pods.

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

criterion_group!(benches, settle);
criterion_main!(benches);
