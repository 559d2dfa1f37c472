//! UI figures: one frame with 10,000 pods loaded (≤ 2 ms) and handling a snapshot update of
//! 10,000 pods (≤ 20 ms). Run: `cargo bench --bench ui`.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use kvchain::chain::Chain;
use kvchain::ui::app::{App, AppEvent};
use kvchain::ui::config::UiConfig;
use kvchain::ui::testing::{lab_snapshot, many_chains};
use kvchain::ui::tree::Row;
use kvchain::ui::views;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const PODS: usize = 10_000;

fn loaded_app(open_all: bool) -> App {
    let snapshot = lab_snapshot("bench");
    let mut app = App::new(snapshot.source.clone(), UiConfig::default());
    app.update(AppEvent::Resize(200, 50));
    app.apply(Arc::new(snapshot), many_chains(PODS));
    if open_all {
        // Open every namespace and workload: 10,000 pod rows, selection in the middle.
        let chains = app.chains.clone();
        let mut i = 0;
        while i < app.tree.rows.len() {
            let row = app.tree.rows[i];
            if matches!(row, Row::Namespace(..) | Row::Workload(..)) {
                app.tree.set_open(row, Some(true), &chains);
            }
            i += 1;
        }
        let mid = app.tree.rows.len() / 2;
        app.tree.select(mid, &chains);
    }
    app
}

fn draw(c: &mut Criterion) {
    for (name, open_all) in [
        ("draw_frame_10k_pods_collapsed", false),
        ("draw_frame_10k_pods_all_open", true),
    ] {
        let mut app = loaded_app(open_all);
        let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("test backend");
        c.bench_function(name, |b| {
            b.iter(|| {
                // Force a full redraw: the previous buffer no longer matches.
                terminal.clear().expect("clear");
                terminal
                    .draw(|f| views::draw(f, black_box(&mut app)))
                    .expect("draw");
            })
        });
    }
}

fn update(c: &mut Criterion) {
    for (name, open_all) in [
        ("snapshot_update_10k_pods_collapsed", false),
        ("snapshot_update_10k_pods_all_open", true),
    ] {
        let mut app = loaded_app(open_all);
        let chains: Vec<Arc<Chain>> = many_chains(PODS).into_iter().map(Arc::new).collect();
        let snapshot = Arc::new(lab_snapshot("bench"));
        c.bench_function(name, |b| {
            b.iter_batched(
                || chains.clone(),
                |chains| {
                    app.update(AppEvent::Diagnosed {
                        snapshot: Arc::clone(&snapshot),
                        chains,
                        spcs: Vec::new(),
                    })
                },
                BatchSize::LargeInput,
            )
        });
    }
}

/// The whole update as the UI sees it: diagnose a realistic 10,000-pod snapshot (engine
/// testkit: 50 namespaces × 20 apps × 10 pods), then apply the chains.
fn update_with_diagnose(c: &mut Criterion) {
    let mut snap = kvchain::chain::testkit::empty();
    for ns in 0..50 {
        for app in 0..20 {
            kvchain::chain::testkit::add_app(
                &mut snap,
                &format!("team-{ns:02}"),
                &format!("svc-{app:02}"),
                PODS / 1000,
            );
        }
    }
    let snap = Arc::new(snap);
    let mut app = App::new(snap.source.clone(), UiConfig::default());
    app.update(AppEvent::Resize(200, 50));
    app.apply(Arc::clone(&snap), kvchain::chain::diagnose(&snap));
    assert_eq!(app.tree.counts.total(), PODS);
    c.bench_function("diagnose_and_update_10k_pods", |b| {
        b.iter(|| {
            let chains = kvchain::chain::diagnose(black_box(&snap));
            let chains: Vec<Arc<_>> = chains.into_iter().map(Arc::new).collect();
            // As the runner's diagnoser does: none is unmounted here, so it returns early.
            let spcs = kvchain::chain::unmounted_spcs(&snap, &chains);
            app.update(AppEvent::Diagnosed {
                snapshot: Arc::clone(&snap),
                chains,
                spcs,
            })
        })
    });
}

/// The tree rebuild alone (the part of an update that is the UI's own work).
fn rebuild(c: &mut Criterion) {
    let chains: Vec<Arc<Chain>> = many_chains(PODS).into_iter().map(Arc::new).collect();
    let mut tree = kvchain::ui::tree::TreeView::default();
    let filter = kvchain::ui::tree::Filter::default();
    c.bench_function("tree_rebuild_10k_pods", |b| {
        b.iter(|| tree.rebuild(black_box(&chains), &filter, "bench"))
    });
}

/// Same, with chains already in tree order (what a source listing by namespace sends).
fn rebuild_presorted(c: &mut Criterion) {
    let mut chains = many_chains(PODS);
    chains.sort_by(|a, b| {
        (&a.namespace, &a.workload, &a.pod).cmp(&(&b.namespace, &b.workload, &b.pod))
    });
    let mut tree = kvchain::ui::tree::TreeView::default();
    let filter = kvchain::ui::tree::Filter::default();
    let chains: Vec<Arc<Chain>> = chains.into_iter().map(Arc::new).collect();
    c.bench_function("tree_rebuild_10k_pods_presorted", |b| {
        b.iter(|| tree.rebuild(black_box(&chains), &filter, "bench"))
    });
}

criterion_group!(
    benches,
    rebuild_presorted,
    draw,
    update,
    rebuild,
    update_with_diagnose
);
criterion_main!(benches);
