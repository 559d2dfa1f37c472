//! Key Vault throttling in the lab, and KVC704's fix against it. Key Vault counts requests per
//! vault in 10-second windows (the lab's `requestLimit`); each rotation poll reads every
//! mounted object of every pod at once (FACTS §4, §5). So a longer poll interval leaves the
//! 429s, and fewer reads per poll ends them: the fix must propose the second, not the first.

use std::path::Path;
use std::time::Duration;

use kvchain::chain::{self, Code, Finding};
use kvchain::source::lab::world::World;
use kvchain::source::lab::{export, scenario};

/// The built-in `throttling` scenario (eight replicas, one object, a vault limited to 3
/// requests per 10 s) with `edit` applied to its text, run for an hour of lab time.
fn throttling_with(edit: impl Fn(String) -> String) -> Vec<Finding> {
    let d = |f: &str| std::fs::read_to_string(format!("assets/scenarios/{f}")).unwrap();
    let text = edit(
        [
            d("cluster.yaml"),
            d("shop.yaml"),
            d("healthy.yaml"),
            d("throttling.yaml"),
        ]
        .join("\n---\n"),
    );
    let sc = scenario::parse("throttling-edited", Path::new("test"), &text).unwrap();
    let mut w = World::new(sc);
    w.advance(Duration::from_secs(3600));
    chain::diagnose(&export::snapshot(&w))
        .iter()
        .flat_map(|c| c.findings().cloned().collect::<Vec<_>>())
        .filter(|f| f.code == Code::KVC704)
        .collect()
}

#[test]
fn a_longer_poll_interval_leaves_the_429s_and_the_fix_does_not_propose_it() {
    for interval in ["2m", "10m", "60m"] {
        let found = throttling_with(|t| {
            t.replace(
                "rotationPollInterval: 2m",
                &format!("rotationPollInterval: {interval}"),
            )
        });
        let f = found.first().unwrap_or_else(|| {
            panic!("{interval}: the vault still throttles the 8 reads of a poll")
        });
        assert!(
            !f.fix.contains("rotation-poll-interval"),
            "{interval}: {}",
            f.fix
        );
        assert!(
            !f.fix.contains("rotationPollInterval"),
            "{interval}: {}",
            f.fix
        );
        assert!(
            f.fix.contains("8 pods x 1 object = 8 objects")
                && f.fix
                    .contains("fewer pods mounting SecretProviderClass reports-kv"),
            "{interval}: {}",
            f.fix
        );
    }
}

#[test]
fn fewer_reads_per_poll_than_the_vault_allows_end_the_throttling() {
    // Three pods mount the SPC: three reads per poll, within the 3 per 10 s.
    let found = throttling_with(|t| t.replace("replicas: 8", "replicas: 3"));
    assert!(found.is_empty(), "{found:?}");
    // Four are one too many.
    let found = throttling_with(|t| t.replace("replicas: 8", "replicas: 4"));
    assert!(!found.is_empty());
}
