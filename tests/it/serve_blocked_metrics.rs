//! Audit FF2, FF3, FF5: `/metrics` counts as `check` counts. README "Finding codes": a finding
//! that only follows an earlier link's cause (`blocked by <link>`) "is counted apart (…, JSON
//! `summary.blocked`), not as an error or warning of its own, and decides no exit status";
//! `kvchain_findings` is "de-duplicated as in the check report", whose findings include those
//! of a SecretProviderClass no pod mounts (FACTS §5: its first mount fails); and a chain broken
//! only by suppressed findings fires no alert, so `kvchain_chains` must not call it broken
//! while none of its `kvchain_chain_status` series is.

use std::sync::Arc;

use kvchain::chain::{Chain, testkit};
use kvchain::commands::serve::metrics::{Diagnosis, classic, render};
use kvchain::snapshot::Snapshot;
use kvchain::suppress::{IgnoreRule, Rules};
use serde_json::Value;

use crate::serve_alert_codes::{expr, firing};

/// The scrape (classic text) and `check`'s JSON report of one world, `ignore` applied to both
/// as `serve --config` and `check --config` apply it.
fn both(s: &Snapshot, ignore: &[IgnoreRule]) -> (String, Value) {
    let rules = Rules::new(ignore).unwrap();
    let mut chains = kvchain::chain::diagnose(s);
    kvchain::suppress::apply(s, &Default::default(), &rules, &mut chains);
    let mut spcs = kvchain::chain::unmounted_spcs(s, &chains);
    kvchain::suppress::apply_spcs(s, &Default::default(), &rules, &mut spcs);
    let json = kvchain::report::json_with(s, &chains, &spcs);
    let chains: Vec<Arc<Chain>> = chains.into_iter().map(Arc::new).collect();
    let om = render(&Diagnosis {
        snapshot: s,
        chains: &chains,
        spcs: &spcs,
        finished_at: 0.0,
        duration_seconds: 0.0,
        diagnoses: 1,
    });
    (classic(&om), serde_json::from_str(&json).unwrap())
}

fn ignore(code: &str) -> IgnoreRule {
    IgnoreRule {
        code: code.into(),
        ..Default::default()
    }
}

/// The sum of a family's series (labelled or not), those with `label` only when given.
pub(crate) fn sum(scrape: &str, family: &str, label: Option<&str>) -> u64 {
    scrape
        .lines()
        .filter(|l| l.starts_with(&format!("{family}{{")) || l.starts_with(&format!("{family} ")))
        .filter(|l| label.is_none_or(|m| l.contains(m)))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum()
}

/// The finding families read as the report's summary reads.
pub(crate) fn assert_counts_agree(scrape: &str, report: &Value) {
    let s = &report["summary"];
    let n = |k: &str| s.get(k).and_then(Value::as_u64).unwrap_or(0);
    for (severity, key) in [
        ("error", "errors"),
        ("warning", "warnings"),
        ("info", "info"),
    ] {
        let tag = format!("severity=\"{severity}\"");
        assert_eq!(
            sum(scrape, "kvchain_findings", Some(&tag)),
            n(key),
            "{key}: {s}\n{scrape}"
        );
    }
    assert_eq!(
        sum(scrape, "kvchain_blocked_findings", None),
        n("blocked"),
        "{s}\n{scrape}"
    );
    assert_eq!(
        sum(scrape, "kvchain_suppressed_findings", None),
        n("suppressed"),
        "{s}\n{scrape}"
    );
}

/// The check_blocked_counts typo: KVC601 on the Object link is the cause, KVC802 (no synced
/// Secret, since nothing mounted) is blocked by it.
fn typo() -> Snapshot {
    let dir = tempfile::tempdir().unwrap();
    let path = crate::check_blocked_counts::scenario(dir.path(), None);
    kvchain::source::lab::run_check(path.to_str().unwrap(), None).unwrap()
}

#[test]
fn a_blocked_finding_is_counted_apart_and_is_in_no_family_alerts_read() {
    let (scrape, report) = both(&typo(), &[]);
    assert_eq!(report["summary"]["blocked"], 1, "{report}");
    assert_counts_agree(&scrape, &report);
    let with = |family: &str, code: &str| {
        scrape.lines().any(|l| {
            l.starts_with(&format!("{family}{{")) && l.contains(&format!("code=\"{code}\""))
        })
    };
    assert!(
        with("kvchain_link_finding", "KVC601"),
        "the cause: {scrape}"
    );
    assert!(!with("kvchain_link_finding", "KVC802"), "{scrape}");
    assert!(
        with("kvchain_blocked_finding", "KVC802"),
        "still in view: {scrape}"
    );
}

#[test]
fn a_blocked_finding_whose_cause_is_accepted_is_still_no_error() {
    let (scrape, report) = both(&typo(), &[ignore("KVC601")]);
    assert_counts_agree(&scrape, &report);
    assert_eq!(
        sum(&scrape, "kvchain_findings", Some("severity=\"error\"")),
        0,
        "{scrape}"
    );
}

/// KvchainMountedVersionBehindVault says "check the driver's --enable-secret-rotation": the
/// wrong cause for a stale mount that only follows an earlier link's break (FF1's objname-typo:
/// KVC703 blocked by Object). The rotation-disabled lab's KVC703, marked as following the
/// Object link, fires it no more.
#[test]
fn the_kvc703_alert_does_not_fire_on_a_blocked_kvc703() {
    let s = kvchain::source::lab::run_check("rotation-disabled", None).unwrap();
    let mut chains = kvchain::chain::diagnose(&s);
    let scrape = |chains: &[Chain]| {
        let chains: Vec<Arc<Chain>> = chains.iter().cloned().map(Arc::new).collect();
        classic(&render(&Diagnosis {
            snapshot: &s,
            chains: &chains,
            spcs: &[],
            finished_at: 0.0,
            duration_seconds: 0.0,
            diagnoses: 1,
        }))
    };
    let alert = expr("KvchainMountedVersionBehindVault");
    assert!(
        !firing(&alert, &scrape(&chains)).is_empty(),
        "fires on a cause"
    );
    for c in &mut chains {
        for l in &mut c.links {
            for f in l
                .findings
                .iter_mut()
                .filter(|f| f.code.as_str() == "KVC703")
            {
                f.follows = Some(kvchain::chain::LinkKind::VaultObject);
            }
        }
    }
    let body = scrape(&chains);
    assert!(firing(&alert, &body).is_empty(), "{body}");
}

/// The healthy lab plus a SecretProviderClass `lone` that no pod mounts, whose objectType
/// the provider refuses (FACTS §5: "Invalid vaultObjectTypes. Should be secret, key, or cert").
fn with_lone_spc() -> Snapshot {
    let mut s = kvchain::source::lab::run_check("healthy", None).unwrap();
    let mut lone = s.spcs.items[0].clone();
    lone.name = "lone".into();
    let objects = lone.parameters.get_mut("objects").unwrap();
    *objects = objects.replace("objectType: secret", "objectType: secrets");
    testkit::reparse(&mut lone);
    s.spcs.items.push(lone);
    s
}

#[test]
fn the_findings_of_an_spc_no_pod_mounts_are_in_the_finding_families() {
    let (scrape, report) = both(&with_lone_spc(), &[]);
    assert_eq!(report["summary"]["errors"], 1, "{report}");
    assert_counts_agree(&scrape, &report);
    assert!(
        scrape.contains("kvchain_findings{code=\"KVC705\",severity=\"error\"} 1"),
        "{scrape}"
    );
    // Accepted with an ignore rule: suppressed, as /report.json marks it.
    let (scrape, report) = both(&with_lone_spc(), &[ignore("KVC705")]);
    assert_counts_agree(&scrape, &report);
    assert!(
        scrape.contains("kvchain_suppressed_findings{code=\"KVC705\",severity=\"error\"} 1"),
        "{scrape}"
    );
}

/// A chain counted broken has a `kvchain_chain_status` series at 4 (its workload's, which
/// folds its replicas): the cause of the check_blocked_counts typo (KVC601) accepted, the
/// pods' failed mount only follows it.
#[test]
fn a_chain_whose_only_break_is_accepted_is_not_counted_broken() {
    let s = typo();
    let (before, _) = both(&s, &[]);
    assert!(
        sum(&before, "kvchain_chains", Some("status=\"broken\"")) > 0,
        "{before}"
    );
    let (scrape, report) = both(&s, &[ignore("KVC601")]);
    assert_counts_agree(&scrape, &report);
    let at_four = scrape
        .lines()
        .filter(|l| l.starts_with("kvchain_chain_status{") && l.ends_with(" 4"))
        .count();
    assert_eq!(at_four, 0, "{scrape}");
    assert_eq!(
        sum(&scrape, "kvchain_chains", Some("status=\"broken\"")),
        0,
        "{scrape}"
    );
}
