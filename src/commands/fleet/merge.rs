//! One report over several clusters, from each cluster's own `check` report.
//!
//! The per-cluster JSON is the single-cluster contract unchanged; the fleet report adds a
//! `cluster` field to every chain, finding and gap and a `clusters` list, and sums the
//! summary. Working on the JSON (not on the report's Rust types) keeps every field other
//! report work adds flowing through without a second copy here.

use serde_json::{Map, Value, json};

/// What became of one context.
pub struct ClusterReport {
    /// The kube context name.
    pub cluster: String,
    /// Its `check` JSON report, or why it could not be read at all.
    pub outcome: Result<Value, String>,
}

/// The key of a read cluster's entry in `clusters` saying chains may be missing from it
/// (pods or SecretProviderClasses unread somewhere): "read" alone would pass a cluster
/// narrowed to one namespace for a complete one.
pub const INCOMPLETE: &str = "incomplete";

/// The kind of the gap a context that could not be read at all becomes.
pub const CLUSTER_GAP: &str = "cluster";

/// The fleet JSON report: `{"source", "label", "clusters", "summary", "gaps", "chains",
/// "spcs", "findings", "unread"}` with `cluster` on every item of `gaps` to `findings`, and
/// each `unread` input led by its cluster's name.
pub fn merge(parts: &[ClusterReport]) -> Value {
    let mut gaps = Vec::new();
    let mut chains = Vec::new();
    let mut findings = Vec::new();
    let mut spcs = Vec::new();
    let mut unread = Vec::new();
    let mut clusters = Vec::new();
    let mut summary = Map::new();
    for key in ["chains", "errors", "warnings", "info"] {
        summary.insert(key.into(), json!(0));
    }
    for part in parts {
        let name = &part.cluster;
        match &part.outcome {
            Err(reason) => {
                clusters.push(json!({"cluster": name, "read": false}));
                gaps.push(json!({
                    "cluster": name, "kind": CLUSTER_GAP, "namespace": null, "reason": reason,
                }));
            }
            Ok(report) => {
                // What could not be read in it, as its own report lists it (`unread`, the
                // single check's field): `incomplete` alone named no input (audit NNN-out).
                let its_unread = report["unread"].as_array().cloned().unwrap_or_default();
                clusters.push(json!({
                    "cluster": name, "read": true,
                    INCOMPLETE: report[INCOMPLETE].as_bool().unwrap_or(false),
                    "label": report["label"], "summary": report["summary"],
                    "unread": its_unread,
                }));
                // The fleet's `unread` is the single report's list of strings, each led by
                // its cluster (a string has no field to carry it).
                unread.extend(
                    (its_unread.iter().filter_map(Value::as_str))
                        .map(|u| json!(format!("{name}: {u}"))),
                );
                if let Some(s) = report["summary"].as_object() {
                    for (k, v) in s {
                        // A flag (`incomplete`) is not a count: summed as numbers it became
                        // `0`, which reads as "complete" (audit MMM-out). Any cluster's
                        // flag is the fleet's.
                        let merged = match v {
                            Value::Bool(b) => json!(*b || summary.get(k) == Some(&json!(true))),
                            _ => json!(
                                summary.get(k).and_then(Value::as_u64).unwrap_or(0)
                                    + v.as_u64().unwrap_or(0)
                            ),
                        };
                        summary.insert(k.clone(), merged);
                    }
                }
                gaps.extend(tagged(&report["gaps"], name));
                chains.extend(tagged(&report["chains"], name));
                findings.extend(tagged(&report["findings"], name));
                // Counted in `summary.spcs`: the list goes with the count (audit MMM-out).
                spcs.extend(tagged(&report["spcs"], name));
            }
        }
    }
    // A cluster not read at all hides every chain of it: the fleet's chains may be missing,
    // as the text's `INCOMPLETE:` line says, so the JSON says it too.
    if parts.iter().any(|p| p.outcome.is_err()) {
        summary.insert(INCOMPLETE.into(), json!(true));
    }
    let label: Vec<&str> = parts.iter().map(|p| p.cluster.as_str()).collect();
    json!({
        "source": "live",
        "label": label.join(", "),
        "clusters": clusters,
        "summary": summary,
        "gaps": gaps,
        "chains": chains,
        "spcs": spcs,
        "findings": findings,
        "unread": unread,
    })
}

/// The items of a report array, each with `cluster` first.
fn tagged(items: &Value, cluster: &str) -> Vec<Value> {
    items
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| {
            let mut out = Map::new();
            out.insert("cluster".into(), json!(cluster));
            if let Some(fields) = item.as_object() {
                out.extend(fields.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            Value::Object(out)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(chains: u64, errors: u64) -> Value {
        json!({
            "source": "live", "label": "x",
            "summary": {"chains": chains, "errors": errors, "warnings": 1, "info": 0},
            "gaps": [{"kind": "events", "namespace": null, "reason": "forbidden"}],
            "chains": [{"id": "payments/api-1/kv", "status": "broken"}],
            "findings": [{"code": "KVC501", "severity": "error"}],
        })
    }

    #[test]
    fn every_chain_finding_and_gap_names_its_cluster_and_the_summary_sums() {
        let merged = merge(&[
            ClusterReport {
                cluster: "aks-a".into(),
                outcome: Ok(report(2, 1)),
            },
            ClusterReport {
                cluster: "aks-b".into(),
                outcome: Ok(report(3, 0)),
            },
        ]);
        assert_eq!(
            merged["summary"],
            json!({"chains": 5, "errors": 1, "warnings": 2, "info": 0})
        );
        for key in ["chains", "findings", "gaps"] {
            let clusters: Vec<&str> = merged[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["cluster"].as_str().unwrap())
                .collect();
            assert_eq!(clusters, ["aks-a", "aks-b"], "{key}");
        }
        assert_eq!(
            merged["chains"][1]["id"], "payments/api-1/kv",
            "fields kept"
        );
        assert_eq!(merged["label"], "aks-a, aks-b");
    }

    /// The single report's `unread` is kept per cluster and in the fleet's own list, as
    /// `summary.unread` counts it (audit NNN-out).
    #[test]
    fn what_a_cluster_could_not_read_is_listed_per_cluster_and_in_the_fleet() {
        let mut a = report(1, 0);
        a["unread"] = json!(["events of shop: refused"]);
        a["summary"]["unread"] = json!(1);
        let mut b = report(1, 0);
        b["unread"] = json!([]);
        let merged = merge(&[
            ClusterReport {
                cluster: "aks-a".into(),
                outcome: Ok(a),
            },
            ClusterReport {
                cluster: "aks-b".into(),
                outcome: Ok(b),
            },
        ]);
        assert_eq!(
            merged["clusters"][0]["unread"],
            json!(["events of shop: refused"])
        );
        assert_eq!(merged["clusters"][1]["unread"], json!([]));
        assert_eq!(merged["unread"], json!(["aks-a: events of shop: refused"]));
        assert_eq!(merged["summary"]["unread"], 1);
    }

    #[test]
    fn a_context_that_fails_is_a_gap_of_its_own_not_an_abort() {
        let merged = merge(&[
            ClusterReport {
                cluster: "aks-a".into(),
                outcome: Ok(report(2, 0)),
            },
            ClusterReport {
                cluster: "dead".into(),
                outcome: Err("cannot reach http://127.0.0.1:9 (context dead): refused".into()),
            },
        ]);
        let gaps = merged["gaps"].as_array().unwrap();
        assert_eq!(
            gaps.last().unwrap(),
            &json!({"cluster": "dead", "kind": "cluster", "namespace": null,
                    "reason": "cannot reach http://127.0.0.1:9 (context dead): refused"})
        );
        assert_eq!(
            merged["clusters"][1],
            json!({"cluster": "dead", "read": false})
        );
        assert_eq!(merged["summary"]["chains"], 2);
    }
}
