//! A synced Secret the driver never builds holds every pod that reads it through env in
//! CreateContainerConfigError. The cause's evidence names a few of those pods and counts the
//! rest: a workload of many replicas is one cause, and listing every waiting pod in every
//! replica's chain made such a failure cubic in the replicas (each line deduplicated against
//! all the others), while saying nothing the count does not.

use std::time::Duration;

use kvchain::chain::diagnose;
use kvchain::source::lab::{self, export, world::World};

use crate::lab_nodes::{CLUSTER, HEALTHY, SHOP};

const ALIAS: &str = include_str!("../../assets/scenarios/alias-mismatch.yaml");

#[test]
fn the_pods_waiting_on_an_absent_secret_are_named_a_few_and_counted() {
    let alias = ALIAS.replace("  replicas: 1\n", "  replicas: 8\n");
    assert_ne!(alias, ALIAS, "the scenario's workload has one replica");
    let docs = [CLUSTER, SHOP, HEALTHY, &alias].join("\n---\n");
    let sc = lab::scenario::parse("many", std::path::Path::new("many.yaml"), &docs)
        .expect("scenario loads");
    let mut w = World::new(sc);
    w.advance(Duration::from_secs(600));
    let chains = diagnose(&export::snapshot(&w));
    let with_waiting: Vec<_> = (chains.iter().flat_map(|c| c.findings()))
        .filter(|f| f.evidence.iter().any(|e| e.contains(" waiting: ")))
        .collect();
    assert!(
        with_waiting.len() >= 8,
        "every replica's cause: {with_waiting:#?}"
    );
    for f in &with_waiting {
        let waiting = (f.evidence.iter())
            .filter(|e| e.contains(" waiting: "))
            .count();
        assert_eq!(waiting, 5, "{:#?}", f.evidence);
        assert!(
            f.evidence
                .iter()
                .any(|e| e.starts_with("3 more lines like these (pods waiting on Secret ")),
            "{:#?}",
            f.evidence
        );
        // The same pods whichever replica's chain says it.
        let lines = |f: &kvchain::chain::Finding| -> Vec<String> {
            (f.evidence.iter())
                .filter(|e| e.contains(" waiting: ") || e.contains(" more lines like these"))
                .map(|e| e.to_string())
                .collect()
        };
        assert_eq!(lines(f), lines(with_waiting[0]));
    }
}
