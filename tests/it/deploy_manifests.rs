//! assets/deploy: the ClusterRole is least privilege for what the live source really asks the
//! API server (every request allowed, every rule used, no write verb), the Deployment runs
//! `serve` with probes on its endpoints and resource limits, and the alerts use the metrics
//! the exporter serves.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::live_support::*;
use kvchain::source::live::{LiveSource, Scope};
use kvchain::source::{Source, SourceEvent};
use serde::Deserialize;
use serde_yaml::Value;
use tokio::sync::mpsc;

fn docs(file: &str) -> Vec<Value> {
    let path = format!("{}/assets/deploy/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_yaml::Deserializer::from_str(&text)
        .map(|d| Value::deserialize(d).unwrap_or_else(|e| panic!("{path}: {e}")))
        .collect()
}

fn kind<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind}"))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_sequence()
        .map(|s| {
            s.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// (apiGroup, resource, verb, name) of one API request; `None` for discovery paths.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Asked {
    Resource {
        group: String,
        resource: String,
        verb: &'static str,
        name: Option<String>,
    },
    Url(String),
}

fn asked(request: &str) -> Option<Asked> {
    let (method, url) = request.split_once(' ')?;
    assert_eq!(method, "GET", "a write: {request}");
    let path_query = url.splitn(4, '/').nth(3).map(|p| format!("/{p}"))?;
    let (path, query) = path_query.split_once('?').unwrap_or((&path_query, ""));
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, rest) = match segs.as_slice() {
        ["api", _v, rest @ ..] if !rest.is_empty() => (String::new(), rest),
        ["apis", g, _v, rest @ ..] if !rest.is_empty() => (g.to_string(), rest),
        ["version"] | ["api"] | ["apis"] => return None,
        _ => return Some(Asked::Url(path.to_string())),
    };
    let rest = match rest {
        ["namespaces", _ns, tail @ ..] if !tail.is_empty() => tail,
        _ => rest,
    };
    let (resource, name) = match rest {
        [r] => (r.to_string(), None),
        [r, n] => (r.to_string(), Some(n.to_string())),
        _ => panic!("unexpected path {path}"),
    };
    let verb = if name.is_some() {
        "get"
    } else if query.split('&').any(|kv| kv == "watch=true") {
        "watch"
    } else {
        "list"
    };
    Some(Asked::Resource {
        group,
        resource,
        verb,
        name,
    })
}

fn allows(rule: &Value, a: &Asked) -> bool {
    match a {
        Asked::Url(u) => strings(&rule["nonResourceURLs"]).contains(u),
        Asked::Resource {
            group,
            resource,
            verb,
            name,
        } => {
            let names = strings(&rule["resourceNames"]);
            strings(&rule["apiGroups"]).contains(group)
                && strings(&rule["resources"]).contains(resource)
                && strings(&rule["verbs"]).iter().any(|v| v == verb)
                && (names.is_empty() || name.as_ref().is_some_and(|n| names.contains(n)))
        }
    }
}

#[tokio::test]
async fn the_cluster_role_allows_every_request_the_live_source_makes_and_nothing_unused() {
    let rbac = docs("rbac.yaml");
    let rules = kind(&rbac, "ClusterRole")["rules"]
        .as_sequence()
        .unwrap()
        .clone();
    for r in &rules {
        for v in strings(&r["verbs"]) {
            assert!(
                ["get", "list", "watch"].contains(&v.as_str()),
                "write verb {v}"
            );
        }
    }

    let api = world();
    let server = api.serve().await;
    let live = LiveSource::new(client(&server), "aks-test", Scope::All, no_azure())
        .with_options(options());
    let (etx, mut erx) = mpsc::unbounded_channel();
    let (_ctx, crx) = mpsc::unbounded_channel();
    let task = tokio::spawn(Box::new(live).run(etx, crx));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        match tokio::time::timeout_at(deadline, erx.recv()).await {
            Ok(Some(SourceEvent::Snapshot(_))) => break,
            Ok(Some(_)) => {}
            other => panic!("no snapshot: {other:?}"),
        }
    }
    // Let the by-name Secret reads and the watches' second round happen.
    tokio::time::sleep(Duration::from_millis(500)).await;
    task.abort();

    let asked: BTreeSet<Asked> = api.requests().iter().filter_map(|r| asked(r)).collect();
    for a in &asked {
        assert!(
            rules.iter().any(|r| allows(r, a)),
            "the ClusterRole does not allow {a:?}"
        );
    }
    // Least privilege: every (group, resource, verb) the role grants was needed.
    for r in &rules {
        for verb in strings(&r["verbs"]) {
            for resource in strings(&r["resources"]) {
                let used = asked.iter().any(|a| {
                    matches!(a, Asked::Resource { group, resource: res, verb: v, .. }
                        if strings(&r["apiGroups"]).contains(group) && *res == resource && *v == verb)
                });
                assert!(used, "granted but never asked: {verb} {resource}");
            }
            for url in strings(&r["nonResourceURLs"]) {
                assert!(
                    asked.contains(&Asked::Url(url.clone())),
                    "granted but never asked: {url}"
                );
            }
        }
    }
}

#[test]
fn the_readme_permission_table_names_every_granted_resource() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let table: String = readme
        .split("Permissions (read-only")
        .nth(1)
        .expect("the README's permission table")
        .lines()
        .take_while(|l| !l.starts_with("Degrading"))
        .collect::<Vec<_>>()
        .join("\n");
    let rbac = docs("rbac.yaml");
    for r in kind(&rbac, "ClusterRole")["rules"].as_sequence().unwrap() {
        for name in strings(&r["resources"])
            .into_iter()
            .chain(strings(&r["resourceNames"]))
            .chain(strings(&r["nonResourceURLs"]))
        {
            assert!(
                table.contains(&format!("`{name}`")),
                "README table lacks {name}:\n{table}"
            );
        }
    }
}

#[test]
fn the_deployment_serves_with_probes_limits_and_no_write_path() {
    let d = docs("deployment.yaml");
    let pod = &kind(&d, "Deployment")["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "kvchain");
    let c = &pod["containers"][0];
    assert_eq!(strings(&c["args"])[0], "serve");
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert!(c["resources"]["limits"]["memory"].is_string());
    assert!(c["resources"]["limits"]["cpu"].is_string());
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    // kvchain reads KVCHAIN_LOG (and `serve` logs to stderr), never RUST_LOG (audit FFF10).
    let env: Vec<&str> = (c["env"].as_sequence().into_iter().flatten())
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert!(
        env.contains(&"KVCHAIN_LOG") && !env.contains(&"RUST_LOG"),
        "{env:?}"
    );
    let sa = kind(&docs("rbac.yaml"), "ServiceAccount").clone();
    assert_eq!(
        sa["metadata"]["namespace"],
        kind(&d, "Deployment")["metadata"]["namespace"]
    );
    let binding = kind(&docs("rbac.yaml"), "ClusterRoleBinding").clone();
    assert_eq!(binding["subjects"][0]["name"], sa["metadata"]["name"]);
}

#[test]
fn the_alerts_use_the_exporters_metric_names_and_codes_it_can_emit() {
    let rule = &docs("prometheusrule.yaml")[0];
    let rules = rule["spec"]["groups"][0]["rules"].as_sequence().unwrap();
    let alerts: Vec<&str> = rules.iter().filter_map(|r| r["alert"].as_str()).collect();
    for want in [
        "KvchainChainBroken",
        "KvchainMountedVersionBehindVault",
        "KvchainEnvStaleAfterRotation",
        "KvchainCannotSee",
        // A pod stuck before its mount with events unread (README "Scrape").
        "KvchainCannotTellWhy",
        // An API server that stopped answering (audit W4): on the data time, not the
        // diagnosis time, which keeps advancing through an outage.
        "KvchainApiServerSilent",
    ] {
        assert!(alerts.contains(&want), "{alerts:?}");
    }
    let broken = rules
        .iter()
        .find(|r| r["alert"] == "KvchainChainBroken")
        .unwrap();
    assert_eq!(broken["for"], "10m");
    for r in rules {
        let expr = r["expr"].as_str().unwrap();
        assert!(expr.contains("kvchain_"), "{expr}");
        for code in expr
            .split("code=\"")
            .skip(1)
            .filter_map(|s| s.split('"').next())
        {
            assert!(
                kvchain::chain::Code::ALL.iter().any(|c| c.as_str() == code),
                "{code} is not a kvchain code"
            );
        }
    }
}
