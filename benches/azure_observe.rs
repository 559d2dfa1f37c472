//! Cost of the Azure side per refresh, through the in-process Azure of the tests:
//! - `wanted/2000-pods`: deriving what to ask from a 2,000-pod snapshot (100 SPCs × 20 objects);
//! - `observe/cold`: first refresh (26 requests answered in-process: parsing + bookkeeping);
//! - `observe/warm`: a refresh within `--azure-refresh` (cache only, no request).

#[path = "../tests/azure_support/mod.rs"]
mod azure_support;

use std::hint::black_box;
use std::time::Duration;

use azure_support::*;
use criterion::{Criterion, criterion_group, criterion_main};
use kvchain::source::azure::wanted;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let snap = shared_objects_snapshot();
    let w = wanted(&snap);
    const REFRESH: Duration = Duration::from_secs(3600);

    c.bench_function("wanted/2000-pods", |b| b.iter(|| wanted(black_box(&snap))));

    c.bench_function("observe/cold", |b| {
        b.iter(|| {
            let fake = shared_objects_azure();
            let o = observer(&fake, REFRESH);
            rt.block_on(o.observe(black_box(&w)))
        })
    });

    let fake = shared_objects_azure();
    let o = observer(&fake, REFRESH);
    rt.block_on(o.observe(&w));
    c.bench_function("observe/warm", |b| {
        b.iter(|| rt.block_on(o.observe(black_box(&w))))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
