//! The exposition of one diagnosis, from lab and testkit snapshots.

use super::*;
use crate::chain::testkit;

fn scrape(snapshot: &Snapshot) -> String {
    let chains: Vec<Arc<Chain>> = crate::chain::diagnose(snapshot)
        .into_iter()
        .map(Arc::new)
        .collect();
    let spcs = crate::chain::unmounted_spcs(snapshot, &chains);
    render(&Diagnosis {
        snapshot,
        chains: &chains,
        spcs: &spcs,
        finished_at: 1_700_000_000.5,
        duration_seconds: 0.25,
        diagnoses: 7,
    })
}

/// README "Scrape": `kvchain_unexplained` counts the chains `check` calls undetermined
/// (a pod stuck past its mount's two minutes, events unread), so an alert can fire.
#[test]
fn a_pod_stuck_with_its_events_unread_is_counted_unexplained() {
    let mut s = testkit::healthy();
    assert!(classic(&scrape(&s)).contains("\nkvchain_unexplained 0\n"));
    testkit::unmount(&mut s, testkit::APP);
    for p in s.pods.items.iter_mut() {
        p.created_at = Some(testkit::ago(jiff::SignedDuration::from_mins(6)));
    }
    s.events.gaps.all = Some("cannot list events at the cluster scope: forbidden".into());
    let text = classic(&scrape(&s));
    let n = text
        .lines()
        .find_map(|l| l.strip_prefix("kvchain_unexplained "))
        .unwrap_or_else(|| panic!("{text}"));
    assert_ne!(n, "0", "{text}");
    assert!(
        text.contains("kvchain_incomplete 0"),
        "events are no chain kind"
    );
}

#[test]
fn classic_names_counters_with_total_and_drops_openmetrics_only_lines() {
    let om = scrape(&Snapshot::default());
    assert!(om.ends_with("# EOF\n"));
    let text = classic(&om);
    assert!(
        text.contains("# TYPE kvchain_diagnoses_total counter\nkvchain_diagnoses_total 7\n"),
        "{text}"
    );
    assert!(text.contains("# HELP kvchain_diagnoses_total "), "{text}");
    assert!(
        !text.contains("# UNIT") && !text.contains("# EOF"),
        "{text}"
    );
    assert!(text.contains("kvchain_last_diagnosis_timestamp_seconds 1700000000.5"));
    assert!(text.contains("kvchain_diagnosis_duration_seconds 0.25"));
}

#[test]
fn every_chain_status_is_counted_even_when_zero() {
    let om = scrape(&Snapshot::default());
    for s in ["ok", "pending", "unknown", "warning", "broken"] {
        assert!(
            om.contains(&format!("kvchain_chains{{status=\"{s}\"}} 0")),
            "{om}"
        );
    }
}

#[test]
fn status_values_order_like_the_statuses() {
    let all = [
        Status::Ok,
        Status::Pending,
        Status::Unknown,
        Status::Warning,
        Status::Broken,
    ];
    let v: Vec<i64> = all.iter().map(|s| status_value(*s)).collect();
    assert_eq!(v, [0, 1, 2, 3, 4]);
}

#[test]
fn a_healthy_cluster_has_every_link_of_every_chain_at_zero_without_a_code() {
    let om = scrape(&testkit::healthy());
    let series: Vec<&str> = om
        .lines()
        .filter(|l| l.starts_with("kvchain_chain_status{"))
        .collect();
    assert!(
        !series.is_empty()
            && series
                .len()
                .is_multiple_of(crate::chain::LinkKind::ALL.len())
    );
    for l in series {
        assert!(l.ends_with("} 0") && l.contains("code=\"\""), "{l}");
    }
}

/// README: the one broken link is the cause. A mount that failed only because the object
/// is missing (the lab's default scenario has one) is pending in the metric, as the reports
/// draw it, and the object link beside it broken.
#[test]
fn a_link_only_blocked_by_an_earlier_break_is_pending_in_the_metric() {
    use crate::chain::LinkKind;
    let snapshot = crate::source::lab::run_check("default", None).expect("lab runs");
    let om = scrape(&snapshot);
    let chains = crate::chain::diagnose(&snapshot);
    let c = chains
        .iter()
        .find(|c| {
            c.link(LinkKind::Mount).status == Status::Broken
                && c.link(LinkKind::Mount).findings.is_empty()
                && c.drawn_status(LinkKind::Mount) == Status::Pending
        })
        .expect("a chain whose mount fails for an earlier break");
    let series = |link: &str| {
        let head = format!(
            "kvchain_chain_status{{namespace=\"{}\",workload=\"{}\",spc=\"{}\",link=\"{link}\"",
            c.namespace,
            workload(c),
            c.spc
        );
        om.lines()
            .find(|l| l.starts_with(&head))
            .unwrap_or_else(|| panic!("no series {head} in\n{om}"))
            .to_string()
    };
    assert!(series("mount").ends_with(" 1"), "{}", series("mount"));
    assert!(
        series("vaultObject").ends_with(" 4"),
        "{}",
        series("vaultObject")
    );
}

/// README "Suppressing findings": only the exit status stops counting a suppressed finding;
/// for the exporter, the alerts are that status. The lab's default scenario has a broken
/// vault object; an `ignore:` rule for its code leaves the link ok in `chain_status`, out
/// of `link_finding` and `findings`, and names it in the suppressed families.
#[test]
fn a_suppressed_break_fires_no_alert_and_stays_visible() {
    use crate::chain::Severity;
    let snapshot = crate::source::lab::run_check("default", None).expect("lab runs");
    let mut chains = crate::chain::diagnose(&snapshot);
    // A chain broken by one code alone (its other findings, if any, are notes).
    let (code, ns) = chains
        .iter()
        .find_map(|c| {
            let mut loud = c.findings().filter(|f| f.severity >= Severity::Warning);
            let first = loud.next()?;
            (first.severity == Severity::Error && loud.all(|f| f.code == first.code))
                .then(|| (first.code, c.namespace.to_string()))
        })
        .expect("the default scenario breaks a chain on one code");
    let before = render(&Diagnosis {
        snapshot: &snapshot,
        chains: &chains.iter().cloned().map(Arc::new).collect::<Vec<_>>(),
        spcs: &[],
        finished_at: 1.0,
        duration_seconds: 0.1,
        diagnoses: 1,
    });
    let tag = format!("code=\"{}\"", code.as_str());
    assert!(
        before
            .lines()
            .any(|l| l.starts_with("kvchain_link_finding{") && l.contains(&tag)),
        "{before}"
    );
    let rules = crate::suppress::Rules::new(&[crate::suppress::IgnoreRule {
        code: code.as_str().into(),
        namespace: Some(ns),
        ..Default::default()
    }])
    .expect("a valid rule");
    assert!(crate::suppress::apply(&snapshot, &Default::default(), &rules, &mut chains) > 0);
    let chains: Vec<Arc<Chain>> = chains.into_iter().map(Arc::new).collect();
    let after = render(&Diagnosis {
        snapshot: &snapshot,
        chains: &chains,
        spcs: &[],
        finished_at: 1.0,
        duration_seconds: 0.1,
        diagnoses: 1,
    });
    let with_code = |family: &str| -> Vec<String> {
        after
            .lines()
            .filter(|l| l.starts_with(family) && l.contains(&tag))
            .map(str::to_string)
            .collect()
    };
    assert!(with_code("kvchain_link_finding{").is_empty(), "{after}");
    assert!(with_code("kvchain_chain_status{").is_empty(), "{after}");
    assert!(with_code("kvchain_findings{").is_empty(), "{after}");
    assert!(
        !with_code("kvchain_suppressed_finding{").is_empty(),
        "{after}"
    );
    assert!(
        !with_code("kvchain_suppressed_findings{").is_empty(),
        "{after}"
    );
    // A chain (namespace, workload, SPC) whose every pod broke only on that code reads ok
    // where alerts look; and no series of any chain is broken or warned by it.
    let head = |c: &Chain| {
        format!(
            "kvchain_chain_status{{namespace=\"{}\",workload=\"{}\",spc=\"{}\"",
            c.namespace,
            workload(c),
            c.spc
        )
    };
    let open = |c: &Chain| {
        c.findings()
            .any(|f| f.suppressed.is_none() && f.severity >= Severity::Warning)
    };
    let quiet: std::collections::BTreeSet<String> = chains
        .iter()
        .filter(|c| c.findings().any(|f| f.suppressed.is_some()) && !open(c))
        .map(|c| head(c))
        .collect();
    let loud: std::collections::BTreeSet<String> =
        chains.iter().filter(|c| open(c)).map(|c| head(c)).collect();
    let quiet: Vec<&String> = quiet.difference(&loud).collect();
    assert!(!quiet.is_empty(), "a chain broken only by {tag}");
    for h in quiet {
        for l in after.lines().filter(|l| l.starts_with(h.as_str())) {
            assert!(
                l.ends_with(" 0") || l.ends_with(" 1") || l.ends_with(" 2"),
                "{l}"
            );
        }
    }
}
