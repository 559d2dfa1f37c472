//! Cost of the Azure side per refresh, through the in-process Azure of the tests:
//! - `wanted/2000-pods`: deriving what to ask from a 2,000-pod snapshot (100 SPCs × 20 objects);
//! - `observe/cold`: first refresh (26 requests answered in-process: parsing + bookkeeping);
//! - `observe/warm`: a refresh within `--azure-refresh` (cache only, no request).

#[path = "../tests/azure_support/mod.rs"]
mod azure_support;

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Duration;

use azure_support::*;
use criterion::{Criterion, criterion_group, criterion_main};
use kvchain::snapshot::{PodObs, Snapshot, SpcObs};
use kvchain::source::azure::wanted;

fn snapshot() -> Snapshot {
    let objects: String = (0..20)
        .map(|i| format!("  - |\n    objectName: shared-{i}\n    objectType: secret\n"))
        .collect();
    let objects = format!("array:\n{objects}");
    let mut snap = Snapshot::default();
    for ns in 0..100 {
        let params = BTreeMap::from([
            ("keyvaultName".to_string(), "kv-rbac".to_string()),
            ("clientID".to_string(), CLIENT_ID.to_string()),
            ("tenantID".to_string(), TENANT.to_string()),
            ("objects".to_string(), objects.clone()),
        ]);
        snap.spcs.items.push(SpcObs {
            namespace: format!("team-{ns}"),
            name: "app-secrets".into(),
            provider: "azure".into(),
            parsed: kvchain::spc::parse(&params),
            parameters: params,
            secret_objects: Vec::new(),
        });
        for p in 0..20 {
            snap.pods.items.push(PodObs {
                namespace: format!("team-{ns}"),
                name: format!("app-{p}"),
                service_account: "app".into(),
                ..Default::default()
            });
        }
    }
    snap
}

fn world() -> std::sync::Arc<FakeAzure> {
    let fake = contoso();
    for i in 0..20 {
        fake.add(
            Route::get(
                "kv-rbac.vault.azure.net",
                &format!("/secrets/shared-{i}/versions"),
            )
            .reply(200, fixture("secret-versions-app-secret.json")),
        );
    }
    fake
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let snap = snapshot();
    let w = wanted(&snap);
    const REFRESH: Duration = Duration::from_secs(3600);

    c.bench_function("wanted/2000-pods", |b| b.iter(|| wanted(black_box(&snap))));

    c.bench_function("observe/cold", |b| {
        b.iter(|| {
            let fake = world();
            let o = observer(&fake, REFRESH);
            rt.block_on(o.observe(black_box(&w)))
        })
    });

    let fake = world();
    let o = observer(&fake, REFRESH);
    rt.block_on(o.observe(&w));
    c.bench_function("observe/warm", |b| {
        b.iter(|| rt.block_on(o.observe(black_box(&w))))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
