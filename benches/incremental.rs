//! Incremental diagnosis (`chain::engine::Engine::apply`): one object changes, the chains that
//! read it are re-diagnosed. Generated worlds of 10,000 pods / 2,000 SPCs and 100,000 pods /
//! 20,000 SPCs (50 namespaces, as `testkit::generated_snapshot` spreads them), plus the full
//! diagnosis of the 100k world for reference. Budget: ≤ 1 ms per change at both sizes.
//!
//! `cargo bench --bench incremental -- --quick`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use kvchain::chain::engine::{Change, Engine, Object};
use kvchain::chain::{diagnose, testkit};
use kvchain::snapshot::Snapshot;

/// The objects one change is made of, taken from the middle of the world.
struct Picks {
    pod: kvchain::snapshot::PodObs,
    secret: kvchain::snapshot::SecretObs,
    status: kvchain::snapshot::SpcPodStatusObs,
    event: kvchain::snapshot::EventObs,
}

fn picks(s: &Snapshot) -> Picks {
    let mid = |n: usize| n / 2;
    Picks {
        pod: s.pods.items[mid(s.pods.items.len())].clone(),
        secret: s.secrets.items[mid(s.secrets.items.len())].clone(),
        status: s.spc_statuses.items[mid(s.spc_statuses.items.len())].clone(),
        event: s.events.items[mid(s.events.items.len())].clone(),
    }
}

fn bench(c: &mut Criterion) {
    for (pods, spcs) in [(10_000usize, 2_000usize), (100_000, 20_000)] {
        let label = format!("{}k_pods_{}k_spcs", pods / 1000, spcs / 1000);
        let snapshot = testkit::generated_snapshot(pods, spcs);
        let mut g = c.benchmark_group("incremental");
        g.sample_size(10);
        if pods > 10_000 {
            // The full diagnosis at this size (the 10k figure is in the diagnose bench).
            g.bench_function(format!("full_diagnosis_{label}"), |b| {
                b.iter_with_large_drop(|| diagnose(black_box(&snapshot)))
            });
        }
        let p = picks(&snapshot);
        let start = std::time::Instant::now();
        let mut engine = Engine::new(snapshot);
        eprintln!("{label}: engine built in {:.1?}", start.elapsed());
        g.sample_size(50);

        let mut pod = p.pod.clone();
        let work = engine.apply([Change::Upsert(Object::Pod(pod.clone().into()))]);
        eprintln!("{label}: a pod change re-diagnoses {work:?}");
        g.bench_function(format!("pod_status_{label}"), |b| {
            b.iter(|| {
                pod.phase = if pod.phase == "Running" {
                    "Pending"
                } else {
                    "Running"
                }
                .into();
                engine.apply([Change::Upsert(Object::Pod(pod.clone().into()))])
            })
        });

        let mut secret = p.secret.clone();
        let work = engine.apply([Change::Upsert(Object::Secret(secret.clone().into()))]);
        eprintln!("{label}: a Secret change re-diagnoses {work:?}");
        g.bench_function(format!("secret_{label}"), |b| {
            b.iter(|| {
                secret.type_ = if secret.type_ == "Opaque" {
                    "kubernetes.io/tls"
                } else {
                    "Opaque"
                }
                .into();
                engine.apply([Change::Upsert(Object::Secret(secret.clone().into()))])
            })
        });

        let mut status = p.status.clone();
        let work = engine.apply([Change::Upsert(Object::SpcStatus(status.clone().into()))]);
        eprintln!("{label}: an SPC pod status change re-diagnoses {work:?}");
        g.bench_function(format!("spc_pod_status_{label}"), |b| {
            b.iter(|| {
                status.mounted = !status.mounted;
                engine.apply([Change::Upsert(Object::SpcStatus(status.clone().into()))])
            })
        });

        let mut event = p.event.clone();
        let work = engine.apply([Change::Upsert(Object::Event(event.clone().into()))]);
        eprintln!("{label}: an event re-diagnoses {work:?}");
        g.bench_function(format!("event_{label}"), |b| {
            b.iter(|| {
                event.count += 1;
                engine.apply([Change::Upsert(Object::Event(event.clone().into()))])
            })
        });
        g.finish();
        black_box(engine.chains().count());
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
