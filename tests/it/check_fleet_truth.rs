//! Audit MMM-out: the fleet report says what each cluster's own `check` says. README "Several
//! clusters": "The JSON is the single-cluster report with a `cluster` field on every chain,
//! finding and gap, `summary` summed over the clusters". So a cluster read in part, or not at
//! all, leaves the fleet's `summary.incomplete` true (as the text's `INCOMPLETE:` line says),
//! the SecretProviderClasses no pod mounts stay listed under `spcs`, and two clusters whose
//! namespaces and pods are spelled alike keep every finding of each.

use super::check_fleet::{check, fleet, fleet_of, fleet_read_in_part};
use crate::live_support::*;
use serde_json::Value;

fn json(out: &str, err: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"))
}

/// A cluster whose SecretProviderClasses could not be read has no verdict: the single check
/// says `summary.incomplete: true` and the fleet's text line leads with INCOMPLETE. A sum over
/// the clusters of "chains may be missing" is still that, not the number 0.
#[tokio::test]
async fn a_fleet_read_in_part_is_incomplete_in_its_json_summary() {
    let f = fleet_read_in_part().await;
    let (_, single, err) = check(&f, &["--context", "broken", "-o", "json"]).await;
    assert_eq!(
        json(&single, &err)["summary"]["incomplete"],
        true,
        "{single}"
    );
    let both = ["--context", "healthy", "--context", "broken", "-o", "json"];
    let (code, out, err) = check(&f, &both).await;
    assert_eq!(code, Some(3), "{out}\n{err}");
    let report = json(&out, &err);
    assert_eq!(
        report["summary"]["incomplete"], true,
        "{}",
        report["summary"]
    );
}

/// A context that could not be read at all hides every chain of its cluster: the fleet's
/// JSON summary says incomplete, as its text line does ("INCOMPLETE: 1 cluster could not be
/// read").
#[tokio::test]
async fn a_fleet_with_a_cluster_not_read_is_incomplete_in_its_json_summary() {
    let f = fleet().await;
    let args = ["--context", "healthy", "--context", "dead", "-o", "json"];
    let (code, out, err) = check(&f, &args).await;
    assert_eq!(code, Some(3), "{out}\n{err}");
    assert_eq!(json(&out, &err)["summary"]["incomplete"], true, "{out}");
    // Both read in full: nothing is missing, and no `incomplete` is said (as a single check).
    let args = ["--context", "healthy", "--context", "broken", "-o", "json"];
    let (_, out, err) = check(&f, &args).await;
    assert!(
        json(&out, &err)["summary"].get("incomplete").is_none(),
        "{out}"
    );
}

/// The world's `azure-legacy` SecretProviderClass is mounted by no pod: a single check lists
/// it under `spcs` and counts it in `summary.spcs`. The fleet keeps each cluster's list,
/// tagged with its cluster, so `summary.spcs` counts entries the report holds.
#[tokio::test]
async fn a_fleet_lists_the_spcs_no_pod_mounts_per_cluster() {
    let f = fleet().await;
    let (_, single, err) = check(&f, &["--context", "healthy", "-o", "json"]).await;
    let single = json(&single, &err);
    let lone = single["spcs"].as_array().unwrap().clone();
    assert!(
        !lone.is_empty(),
        "the world has an SPC no pod mounts: {single}"
    );
    let both = ["--context", "healthy", "--context", "broken", "-o", "json"];
    let (_, out, err) = check(&f, &both).await;
    let report = json(&out, &err);
    let spcs = report["spcs"]
        .as_array()
        .unwrap_or_else(|| panic!("no spcs list: {out}"));
    let of_healthy: Vec<Value> = spcs
        .iter()
        .filter(|s| s["cluster"] == "healthy")
        .map(|s| {
            let mut s = s.clone();
            s.as_object_mut().unwrap().remove("cluster");
            s
        })
        .collect();
    assert_eq!(of_healthy, lone, "{out}");
    assert_eq!(report["summary"]["spcs"], spcs.len(), "{out}");
}

/// Two clusters of the same shape (namespace `payments`, the same pod and SPC names, the same
/// broken chain): each keeps every chain and finding its own check has, none merged into the
/// other's, and the fleet's summary is the sum of theirs.
#[tokio::test]
async fn equal_names_in_two_clusters_keep_each_clusters_findings() {
    let f = fleet().await;
    // `broken` and a second context naming the same server: same names, two clusters.
    let text = std::fs::read_to_string(&f.kubeconfig).unwrap();
    let server = text
        .lines()
        .skip_while(|l| !l.contains("- name: two"))
        .find_map(|l| l.trim().strip_prefix("server: "))
        .unwrap()
        .to_string();
    let twin = text.replace(
        "current-context: healthy",
        "- name: twin\n  context: {cluster: three, user: alice}\ncurrent-context: healthy",
    );
    let twin = twin.replace(
        "contexts:",
        &format!("- name: three\n  cluster:\n    server: {server}\ncontexts:"),
    );
    std::fs::write(&f.kubeconfig, twin).unwrap();
    let (_, single, err) = check(&f, &["--context", "broken", "-o", "json"]).await;
    let single = json(&single, &err);
    assert!(
        !single["findings"].as_array().unwrap().is_empty(),
        "{single}"
    );
    let both = ["--context", "broken", "--context", "twin", "-o", "json"];
    let (code, out, err) = check(&f, &both).await;
    assert_eq!(code, Some(1), "{out}\n{err}");
    let report = json(&out, &err);
    for secret in [CANARY, CANARY_NAMED, CANARY_LAST_APPLIED, CANARY_UNRELATED] {
        assert!(
            !out.contains(secret) && !err.contains(secret),
            "a secret value"
        );
    }
    for cluster in ["broken", "twin"] {
        for key in ["chains", "findings"] {
            let own: Vec<Value> = (report[key].as_array().unwrap().iter())
                .filter(|v| v["cluster"] == cluster)
                .map(|v| {
                    let mut v = v.clone();
                    v.as_object_mut().unwrap().remove("cluster");
                    v
                })
                .collect();
            assert_eq!(&own, single[key].as_array().unwrap(), "{cluster} {key}");
        }
    }
    for key in ["chains", "errors", "warnings", "info", "spcs"] {
        let n = single["summary"][key].as_u64().unwrap();
        assert_eq!(
            report["summary"][key],
            2 * n,
            "{key}: {}",
            report["summary"]
        );
    }
}

/// README "kvchain check": when a failed read left links unknown, the headline "counts them
/// after the findings" (`1 chain not verified (6 links unknown: …)`), and blocked and
/// suppressed findings are counted apart there too. The fleet's first line, the one a CI log
/// shows, summed chains, errors, warnings and info only: a fleet whose every chain is
/// unverified read "0 errors" and nothing else. It counts what the JSON summary counts.
#[tokio::test]
async fn the_fleet_line_counts_unverified_chains_and_suppressed_findings() {
    let healthy = world();
    healthy.replace_silently(EVENTS, Vec::new());
    let unread = world();
    unread.deny(EVENTS, None);
    let f = fleet_of(&healthy, &unread).await;
    let config = dir_config();
    let both = [
        "--context",
        "healthy",
        "--context",
        "broken",
        "--config",
        config.1.as_str(),
    ];
    let (_, out, err) = check(&f, &[&both[..], &["-o", "json"]].concat()).await;
    let s = json(&out, &err)["summary"].clone();
    let n = |k: &str| s[k].as_u64().unwrap_or(0);
    assert!(n("unverified") > 0 && n("suppressed") > 0, "{s}");
    let (_, text, err) = check(&f, &both).await;
    for secret in [CANARY, CANARY_NAMED, CANARY_LAST_APPLIED, CANARY_UNRELATED] {
        assert!(
            !text.contains(secret) && !err.contains(secret),
            "a secret value"
        );
    }
    let line = text.lines().next().unwrap();
    let plural = |n: u64, what: &str| match n {
        1 => format!("1 {what}"),
        n => format!("{n} {what}s"),
    };
    let unverified = format!(
        "{} not verified ({} unknown",
        plural(n("unverified"), "chain"),
        plural(n("unknown_links"), "link")
    );
    let suppressed = format!("{} suppressed", n("suppressed"));
    assert!(
        line.contains(&unverified) && line.contains(&suppressed),
        "{line}\n{s}"
    );
}

/// A config suppressing KVC201 (the world's bare pod lacks the workload identity label).
fn dir_config() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, "ignore:\n  - code: KVC201\n").unwrap();
    let path = path.to_str().unwrap().to_string();
    (dir, path)
}

/// README "kvchain check": on a live cluster, `check -n NS` where not even NS's `default`
/// ServiceAccount could be listed is an input error, "the namespace does not exist (a typo
/// would otherwise read as a clean namespace)"; and a fleet reads each cluster "exactly as a
/// single `check` would (same `-n`/`-A` …)". A fleet over a misspelt namespace read every
/// cluster as clean: "0 chains, 0 errors", exit 0. Each cluster without the namespace is now
/// one that could not be read, saying why, and the fleet has no verdict (exit 3).
#[tokio::test]
async fn a_namespace_a_cluster_does_not_have_is_said_per_cluster_not_read_as_clean() {
    let f = fleet().await;
    let both = [
        "--context",
        "healthy",
        "--context",
        "broken",
        "-n",
        "paymnets",
    ];
    let (_, single, _) = check(&f, &["--context", "healthy", "-n", "paymnets"]).await;
    let (code, out, err) = check(&f, &both).await;
    assert_eq!(code, Some(3), "{out}\n{err}\nsingle: {single}");
    let first = out.lines().next().unwrap();
    assert!(
        first.starts_with("INCOMPLETE: 2 clusters could not be read"),
        "{first}"
    );
    for cluster in ["healthy", "broken"] {
        let line = format!("cluster {cluster}: -n paymnets: namespace paymnets does not exist");
        assert!(out.contains(&line), "{line}\n{out}");
    }
    // Spelt right, both clusters have it: read as they are.
    let both = [
        "--context",
        "healthy",
        "--context",
        "broken",
        "-n",
        NS,
        "-o",
        "json",
    ];
    let (code, out, err) = check(&f, &both).await;
    assert_eq!(code, Some(1), "{out}\n{err}");
    assert!(
        json(&out, &err)["summary"].get("incomplete").is_none(),
        "{out}"
    );
}
