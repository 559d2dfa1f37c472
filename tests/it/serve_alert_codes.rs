//! Audit Y2: the example alerts keyed on one finding code fire when that code is on the link,
//! whatever else sits beside it. With rotation off (the driver's default, FACTS §4:
//! `--enable-secret-rotation` default false, "an already-mounted path is never re-fetched")
//! the mount link carries KVC702 beside KVC703, both warnings; README promises
//! `KvchainMountedVersionBehindVault` on KVC703 on the mount link.
//!
//! Each alert's expression (`metric{label="value", …} OP number`, as the rule file writes
//! them) is evaluated here on the exporter's scrape of a lab scenario.

use std::sync::Arc;

use kvchain::chain::Chain;
use kvchain::commands::serve::metrics::{Diagnosis, classic, render};
use serde::Deserialize;
use serde_yaml::Value;

/// The scrape of `scenario` after the lab ran it (classic text format).
fn scrape(scenario: &str) -> String {
    let snapshot = kvchain::source::lab::run_check(scenario, None).unwrap();
    let chains: Vec<Arc<Chain>> = kvchain::chain::diagnose(&snapshot)
        .into_iter()
        .map(Arc::new)
        .collect();
    classic(&render(&Diagnosis {
        snapshot: &snapshot,
        chains: &chains,
        spcs: &kvchain::chain::unmounted_spcs(&snapshot, &chains),
        finished_at: 0.0,
        duration_seconds: 0.0,
        diagnoses: 1,
    }))
}

/// The `expr` of `alert` in assets/deploy/prometheusrule.yaml.
pub(crate) fn expr(alert: &str) -> String {
    let path = format!(
        "{}/assets/deploy/prometheusrule.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    let doc = Value::deserialize(serde_yaml::Deserializer::from_str(&text)).unwrap();
    let rules = doc["spec"]["groups"][0]["rules"].as_sequence().unwrap();
    let rule = rules.iter().find(|r| r["alert"] == alert).unwrap();
    rule["expr"].as_str().unwrap().to_string()
}

/// The series of `scrape` that `expr` (`name{k="v", …} OP number`) selects and keeps.
pub(crate) fn firing<'a>(expr: &str, scrape: &'a str) -> Vec<&'a str> {
    let (selector, rest) = expr.split_once('}').expect("a selector");
    let (name, matchers) = selector.split_once('{').unwrap();
    let matchers: Vec<String> = matchers
        .split(',')
        .map(|m| m.trim().to_string())
        .filter(|m| !m.is_empty())
        .collect();
    let mut words = rest.split_whitespace();
    let op = words.next().unwrap();
    let bound: f64 = words.next().unwrap().parse().unwrap();
    scrape
        .lines()
        .filter(|l| l.starts_with(&format!("{}{{", name.trim())))
        .filter(|l| matchers.iter().all(|m| l.contains(m.as_str())))
        .filter(|l| {
            let v: f64 = l.rsplit(' ').next().unwrap().parse().unwrap();
            match op {
                ">=" => v >= bound,
                ">" => v > bound,
                "==" => v == bound,
                other => panic!("operator {other} not understood here"),
            }
        })
        .collect()
}

#[test]
fn mounted_version_behind_the_vault_fires_with_rotation_off() {
    let body = scrape("rotation-disabled");
    let fired = firing(&expr("KvchainMountedVersionBehindVault"), &body);
    assert!(
        fired
            .iter()
            .any(|l| l.contains("workload=\"Deployment/checkout\"")),
        "{fired:?}\n{body}"
    );
}

#[test]
fn env_stale_after_rotation_fires_on_the_env_stale_lab() {
    let body = scrape("env-stale");
    let fired = firing(&expr("KvchainEnvStaleAfterRotation"), &body);
    assert!(!fired.is_empty(), "{body}");
}

/// A healthy lab fires neither: the per-code series exist only for codes found.
#[test]
fn the_code_alerts_stay_quiet_on_a_healthy_lab() {
    let body = scrape("healthy");
    for alert in [
        "KvchainMountedVersionBehindVault",
        "KvchainEnvStaleAfterRotation",
    ] {
        assert!(firing(&expr(alert), &body).is_empty(), "{alert}");
    }
}
