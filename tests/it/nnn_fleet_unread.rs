//! Audit NNN-out 3: README "Several clusters": "The JSON is the single-cluster report with a
//! `cluster` field on every chain, finding, gap and SecretProviderClass no pod mounts". The
//! single report lists what could not be read in `unread` (and counts it in
//! `summary.unread`, which the fleet sums); the fleet report had no `unread` at all, and a
//! cluster's entry only said `incomplete`. Each read cluster's entry now carries its own
//! `unread`, and the fleet's `unread` lists them all, each led by its cluster: every field of
//! the single report is in the fleet's.

use serde_json::Value;

use super::check_fleet::{check, fleet_read_in_part};

#[tokio::test]
async fn the_fleet_report_has_every_field_of_the_single_one_and_unread_per_cluster() {
    let f = fleet_read_in_part().await;
    let (_, one, err) = check(&f, &["--context", "healthy", "-o", "json"]).await;
    let one: Value = serde_json::from_str(&one).unwrap_or_else(|e| panic!("{e}: {one}\n{err}"));
    let (_, out, err) = check(
        &f,
        &["--context", "healthy", "--context", "broken", "-o", "json"],
    )
    .await;
    let fleet: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    for key in one.as_object().unwrap().keys() {
        assert!(
            fleet.get(key).is_some(),
            "fleet report without {key}: {out}"
        );
    }
    assert!(fleet["unread"].is_array(), "{out}");
    let clusters = fleet["clusters"].as_array().unwrap();
    assert_eq!(clusters.len(), 2, "{out}");
    for c in clusters {
        assert!(c["unread"].is_array(), "{c}");
    }
    // `summary.unread` counts the fleet's list.
    assert_eq!(
        fleet["summary"]["unread"].as_u64().unwrap_or(0) as usize,
        fleet["unread"].as_array().unwrap().len(),
        "{out}"
    );
    // The cluster read in part is named incomplete, and its gap is in `gaps` under its name.
    assert_eq!(clusters[1]["incomplete"], true, "{out}");
    assert!(
        (fleet["gaps"].as_array().unwrap().iter())
            .any(|g| g["cluster"] == "broken" && g["kind"] == "secretproviderclasses"),
        "{out}"
    );
}
