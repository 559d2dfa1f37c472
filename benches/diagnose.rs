//! `chain::diagnose` on a generated world of 10,000 pods and 2,000 SecretProviderClasses
//! (mixed healthy and broken, Azure side known). Budget: under 20 ms per diagnosis (release).
//!
//! `cargo bench --bench diagnose -- --quick`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use kvchain::chain::{diagnose, testkit};

fn bench(c: &mut Criterion) {
    let snapshot = testkit::generated_snapshot(10_000, 2_000);
    let chains = diagnose(&snapshot);
    assert_eq!(chains.len(), 10_000);
    let findings: usize = chains.iter().map(|c| c.findings().count()).sum();
    eprintln!(
        "generated world: {} pods, {} SPCs, {} chains, {} findings",
        snapshot.pods.items.len(),
        snapshot.spcs.items.len(),
        chains.len(),
        findings
    );
    cpu_time_per_diagnosis(&snapshot);
    let mut g = c.benchmark_group("diagnose");
    g.sample_size(30);
    // Diagnosis including dropping its result: what a refresh pays end to end.
    g.bench_function("10k_pods_2k_spcs", |b| {
        b.iter(|| diagnose(black_box(&snapshot)))
    });
    // The diagnosis alone (the previous result is dropped outside the timing, as a UI can
    // do after swapping in the new one).
    g.bench_function("10k_pods_2k_spcs_no_drop", |b| {
        b.iter_with_large_drop(|| diagnose(black_box(&snapshot)))
    });
    // The joins alone (the part every rule reads from): a floor under the figures above.
    g.bench_function("10k_pods_2k_spcs_index_only", |b| {
        b.iter(|| kvchain::chain::index_only(black_box(&snapshot)))
    });
    // The JSON report on top (what `kvchain check -o json` pays).
    g.bench_function("10k_pods_2k_spcs+json", |b| {
        b.iter(|| kvchain::report::json(&snapshot, &diagnose(black_box(&snapshot))).len())
    });
    // Scaling reference: a tenth of the world (fits the caches far better).
    let small = testkit::generated_snapshot(1_000, 200);
    g.bench_function("1k_pods_200_spcs", |b| {
        b.iter(|| diagnose(black_box(&small)))
    });
    // One SPC mounted by a 2,000-replica Deployment whose pods also read its synced Secret,
    // and the same at 8,000: the consumer checks must stay linear in the replicas (four
    // times the time, not sixteen; they were quadratic twice).
    for (name, n) in [("2k_replicas_1_spc", 2_000), ("8k_replicas_1_spc", 8_000)] {
        let replicas = testkit::generated_snapshot(n, 1);
        g.bench_function(name, |b| b.iter(|| diagnose(black_box(&replicas))));
    }
    // Every SPC syncs a tls Secret from a cert object (KVC804 on each): the fix names the
    // cert file's readers, looked up per SPC (a scan of every pod per SPC was quadratic).
    let mut tls = testkit::generated_snapshot(10_000, 2_000);
    for spc in tls.spcs.items.iter_mut() {
        let app = spc.name.trim_end_matches("-kv").to_string();
        testkit::sync_tls_from(spc, &app, "cert");
    }
    g.bench_function("10k_pods_2k_tls_spcs_from_cert", |b| {
        b.iter(|| diagnose(black_box(&tls)))
    });
    // 2,000 SPCs no pod mounts beside the world (left behind by deleted apps): each is
    // checked on its own for the reports (`unmounted_spcs`), which once scanned every pod of
    // the snapshot per SPC.
    let mut lonely = snapshot.clone();
    for spc in snapshot.spcs.items.iter() {
        let mut left = spc.clone();
        left.name = format!("{}-old", spc.name).as_str().into();
        lonely.spcs.items.push(left);
    }
    let lonely_chains = diagnose(&lonely);
    // The usual case, which the TUI's diagnoser pays per snapshot (audit XC-tui): every SPC
    // mounted, so it returns before building any index.
    let chains = diagnose(&snapshot);
    g.bench_function("unmounted_spcs_none_of_2k", |b| {
        b.iter(|| kvchain::chain::unmounted_spcs(black_box(&snapshot), &chains).len())
    });
    g.bench_function("unmounted_spcs_2k_of_4k", |b| {
        b.iter(|| kvchain::chain::unmounted_spcs(black_box(&lonely), &lonely_chains).len())
    });
    // A CSIDriver that requests no token audience (KVC105 on every workload-identity
    // chain): each finding's fix names every audience the SPCs need, once read from all
    // 2,000 SPCs per finding.
    let mut no_audience = snapshot.clone();
    if let kvchain::snapshot::Observed::Known(driver) = &mut no_audience.cluster.csi_driver {
        driver.token_audiences = kvchain::snapshot::Observed::Known(Vec::new());
    }
    g.bench_function("10k_pods_2k_spcs_no_token_audience", |b| {
        b.iter(|| diagnose(black_box(&no_audience)))
    });
    // Reloader rolling every Deployment out after a rotation: each old pod holds the
    // previous value in env (KVC901) and its finding asks for the rollout replacing it, which
    // once searched every workload and pod of the snapshot per finding.
    let rolling = rolling_out_after_rotation(testkit::generated_snapshot(10_000, 2_000));
    g.bench_function("10k_pods_2k_rolling_out", |b| {
        b.iter(|| diagnose(black_box(&rolling)))
    });
    // One workload of 2,000 replicas in a built-in scenario's failure: every replica's finding
    // names what its siblings share (the remount restarting every pod of the SPC with rotation
    // off; the pods waiting on a synced Secret the driver never built; the service account's
    // client-id), which once made each case quadratic or worse in the replicas.
    for (name, part, cluster) in [
        (
            "2k_replicas_rotation_off_remount",
            "rotation-disabled",
            "cluster-rotation-off",
        ),
        (
            "2k_replicas_waiting_on_absent_secret",
            "alias-mismatch",
            "cluster",
        ),
        ("2k_replicas_wrong_client_id", "wrong-client-id", "cluster"),
    ] {
        let world = mass_failure(part, cluster, 2_000);
        g.bench_function(name, |b| b.iter(|| diagnose(black_box(&world))));
    }
    g.finish();
}

/// The built-in scenario made of `cluster`, shop, healthy and `part` (assets/scenarios), its
/// workloads scaled to `replicas`, run for 10 lab minutes.
fn mass_failure(part: &str, cluster: &str, replicas: usize) -> kvchain::snapshot::Snapshot {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/scenarios");
    let text: Vec<String> = [cluster, "shop", "healthy", part]
        .iter()
        .map(|f| std::fs::read_to_string(dir.join(format!("{f}.yaml"))).expect("a scenario part"))
        .map(|t| {
            (t.lines())
                .map(|l| match l.strip_prefix("  replicas: ") {
                    Some(_) => format!("  replicas: {replicas}"),
                    None => l.to_string(),
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect();
    let file = std::env::temp_dir().join(format!("kvchain-bench-{part}-{replicas}.yaml"));
    std::fs::write(&file, text.join("\n---\n")).expect("a scenario file");
    let snap = kvchain::source::lab::run_check(
        file.to_str().expect("a UTF-8 path"),
        Some(std::time::Duration::from_secs(600)),
    )
    .expect("the scenario runs");
    eprintln!("{part} ×{replicas}: {} pods", snap.pods.items.len());
    snap
}

/// [`testkit::rolling_out_after_rotation`] over every app, counting the stale pods.
fn rolling_out_after_rotation(mut s: kvchain::snapshot::Snapshot) -> kvchain::snapshot::Snapshot {
    testkit::rolling_out_after_rotation(&mut s, usize::MAX);
    let stale = diagnose(&s)
        .iter()
        .flat_map(|c| c.findings())
        .filter(|f| f.code == kvchain::chain::Code::KVC901)
        .count();
    eprintln!("rolling out: {stale} pods hold the old value (KVC901)");
    s
}

/// On a shared machine wall time mostly measures the neighbours: also report the CPU time this
/// process spent per diagnosis (all threads; Linux `/proc/self/stat`, 10 ms ticks over 20 runs).
fn cpu_time_per_diagnosis(snapshot: &kvchain::snapshot::Snapshot) {
    fn cpu_ticks() -> Option<u64> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        // Fields after the `(comm)`: utime and stime are the 12th and 13th.
        let rest = &stat[stat.rfind(')')? + 2..];
        let f: Vec<&str> = rest.split(' ').collect();
        Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
    }
    const RUNS: u32 = 20;
    let (Some(before), start) = (cpu_ticks(), std::time::Instant::now()) else {
        return;
    };
    for _ in 0..RUNS {
        black_box(diagnose(black_box(snapshot)));
    }
    let wall = start.elapsed() / RUNS;
    if let Some(after) = cpu_ticks() {
        // USER_HZ is 100 on Linux: one tick is 10 ms.
        let cpu_ms = (after - before) as f64 * 10.0 / f64::from(RUNS);
        eprintln!("per diagnosis: {cpu_ms:.1} ms CPU (all threads), {wall:.1?} wall");
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
