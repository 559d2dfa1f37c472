//! Scenario loading (errors name file, document and field), the built-in list, the canary
//! secret value, and the lab as a `Source` (controls, actions, events).

use std::path::Path;
use std::time::Duration;

use kvchain::action::Action;
use kvchain::source::lab::{self, scenario};
use kvchain::source::{LabControl, Source, SourceCommand, SourceEvent, request};
use tokio::sync::mpsc;

const CLUSTER: &str = include_str!("../../assets/scenarios/cluster.yaml");

fn parse(text: &str) -> Result<scenario::Scenario, kvchain::input::InputError> {
    scenario::parse("t", Path::new("t.yaml"), text)
}

#[test]
fn every_builtin_scenario_loads_and_is_listed() {
    let names: Vec<&str> = lab::builtin_scenarios().iter().map(|b| b.0).collect();
    assert!(names.contains(&"default") && names.contains(&"generated:N"));
    for name in names.iter().filter(|n| !n.contains(':')) {
        let sc = lab::load(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!sc.deployments.is_empty(), "{name}");
    }
}

#[test]
fn unknown_field_names_file_document_and_field() {
    let text = format!(
        "{CLUSTER}---\napiVersion: lab.kvchain.dev/v1\nkind: ManagedIdentity\nmetadata: {{name: id}}\nspec:\n  clientID: c\n  principalID: p\n  tenantID: t\n  federatedCredentials:\n    - name: f\n      issuer: i\n      subjekt: s\n"
    );
    let e = parse(&text).unwrap_err().to_string();
    assert!(
        e.starts_with("t.yaml, document 2: ManagedIdentity: spec."),
        "{e}"
    );
    assert!(
        e.contains("federatedCredentials[0]") && e.contains("subjekt"),
        "{e}"
    );
}

#[test]
fn bad_inputs_are_errors_not_panics() {
    let cases = [
        ("kind: Pod\n", "`apiVersion` is missing"),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {namespace: x}\n",
            "metadata.name is required",
        ),
        (
            "apiVersion: v1\nkind: Service\nmetadata: {name: x}\n",
            "unsupported kind v1/Service",
        ),
        (
            "apiVersion: lab.kvchain.dev/v1\nkind: Vault\nspec: {}\n",
            "unknown lab kind \"Vault\"",
        ),
        (
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n",
            "no `kind: Cluster` document",
        ),
        ("a: [\n", "not valid YAML"),
    ];
    for (text, needle) in cases {
        let e = parse(text).unwrap_err().to_string();
        assert!(e.contains(needle), "{text:?}: {e}");
    }
    let role = format!(
        "{CLUSTER}---\napiVersion: lab.kvchain.dev/v1\nkind: RoleAssignment\nspec: {{principalID: p, role: Key Vault Secret User, scope: {{vault: kv}}}}\n"
    );
    let e = parse(&role).unwrap_err().to_string();
    assert!(
        e.contains("document 2") && e.contains("spec.role") && e.contains("Key Vault Secrets User"),
        "{e}"
    );
    let poll = CLUSTER.replace("rotationPollInterval: 2m", "rotationPollInterval: soon");
    let e = parse(&poll).unwrap_err().to_string();
    assert!(
        e.contains("document 1") && e.contains("spec.csiDriver") && e.contains("\"soon\""),
        "{e}"
    );
    let missing = lab::load("/nonexistent/scenario.yaml")
        .unwrap_err()
        .to_string();
    assert!(
        missing.contains("/nonexistent/scenario.yaml")
            && missing.contains("built-in scenarios: default"),
        "{missing}"
    );
    assert!(lab::load("generated:0").is_err());
}

/// Every action docs/scenarios.md lists for `Timeline` events parses into a timed event.
#[test]
fn every_documented_timeline_action_parses() {
    let docs = include_str!("../../docs/scenarios.md");
    let section = docs
        .split("### ")
        .find(|s| s.starts_with("`Timeline`"))
        .expect("docs/scenarios.md has a Timeline section");
    let bodies = [
        ("rotateSecret", "{vault: kv-shop-lab, name: s}"),
        ("deletePod", "{namespace: shop, name: p}"),
        ("deleteSecret", "{namespace: shop, name: s}"),
        (
            "rolloutRestart",
            "{namespace: shop, kind: Deployment, name: d}",
        ),
        (
            "deleteWorkload",
            "{namespace: shop, kind: Deployment, name: d}",
        ),
        ("applyFault", "{id: disable-rotation}"),
        ("repairFault", "{id: disable-rotation}"),
    ];
    for (action, body) in bodies {
        assert!(
            section.contains(&format!("`{action}:")),
            "{action} in: {section}"
        );
        let tl = format!(
            "apiVersion: lab.kvchain.dev/v1\nkind: Timeline\nmetadata: {{name: t}}\nspec:\n  events:\n    - at: 1m\n      {action}: {body}\n"
        );
        let shop = include_str!("../../assets/scenarios/shop.yaml");
        let sc = parse(&format!("{CLUSTER}---\n{shop}\n---\n{tl}"))
            .unwrap_or_else(|e| panic!("{action}: {e}"));
        assert_eq!(sc.timeline.len(), 1, "{action}");
    }
}

#[test]
fn timed_events_parse_and_unknown_fault_is_rejected() {
    let tl = "apiVersion: lab.kvchain.dev/v1\nkind: Timeline\nmetadata: {name: t}\nspec:\n  events:\n    - at: 5m\n      deletePod: {namespace: shop, name: p}\n    - at: 90s\n      applyFault: {id: disable-rotation}\n";
    let sc = parse(&format!("{CLUSTER}---\n{tl}")).unwrap();
    assert_eq!(sc.timeline.len(), 2);
    assert_eq!(sc.timeline[0].at, Duration::from_secs(90), "sorted by time");
    let bad = tl.replace("disable-rotation", "make-it-worse");
    let e = parse(&format!("{CLUSTER}---\n{bad}"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown fault \"make-it-worse\""), "{e}");
}

const CANARY: &str = "CANARY-7f1d9a3e-lab-value";

/// A scenario whose secret value is the canary, consumed by file, synced Secret and env.
fn canary_scenario() -> String {
    let shop = include_str!("../../assets/scenarios/shop.yaml").replace("checkout-pass-v2", CANARY);
    [
        CLUSTER,
        &shop,
        include_str!("../../assets/scenarios/healthy.yaml"),
    ]
    .join("\n---\n")
}

#[test]
fn canary_value_appears_in_no_snapshot_event_or_action_output() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("canary.yaml");
    std::fs::write(&path, canary_scenario()).unwrap();
    let snap = lab::run_check(path.to_str().unwrap(), None).unwrap();
    let json = serde_json::to_string(&snap).unwrap();
    let debug = format!("{snap:?}");
    assert!(json.contains("checkout-db"), "the chain is there");
    assert!(!json.contains(CANARY) && !debug.contains(CANARY));
    // the fingerprint is there instead
    let fp = kvchain::fingerprint::Fingerprint::of(CANARY.as_bytes());
    assert!(
        snap.secrets
            .items
            .iter()
            .any(|s| s.data.values().any(|v| *v == fp))
    );

    let mut src = lab::open(path.to_str().unwrap(), None).unwrap();
    src.world_mut().run_until_stable(Duration::from_secs(600));
    let pod = src.world().pods.keys().next().unwrap().clone();
    for a in [
        Action::Verify {
            namespace: pod.0.clone(),
            pod: pod.1.clone(),
            container: "app".into(),
        },
        Action::Rotate {
            vault: "kv-shop-lab".into(),
            object: "checkout-db-password".into(),
            marker: false,
        },
        Action::Restart {
            namespace: pod.0.clone(),
            pod: pod.1.clone(),
        },
    ] {
        let out = src.act(&a);
        assert!(out.ok, "{out:?}");
        assert!(!out.message.contains(CANARY));
    }
    src.world_mut().run_until_stable(Duration::from_secs(600));
    let after = serde_json::to_string(&lab::export::snapshot(src.world())).unwrap();
    assert!(!after.contains(CANARY));
    assert!(!format!("{:?}", src.world().events).contains(CANARY));
}

#[test]
fn rotate_action_refuses_certificates_and_unknown_objects() {
    let mut src = lab::open("default", None).unwrap();
    let out = src.act(&Action::Rotate {
        vault: "kv-shop-lab".into(),
        object: "edge-tls-cert".into(),
        marker: false,
    });
    assert!(!out.ok);
    let out = src.act(&Action::Rotate {
        vault: "kv-shop-lab".into(),
        object: "nope".into(),
        marker: false,
    });
    assert!(!out.ok && out.message.contains("not found"), "{out:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn source_sends_snapshots_on_change_and_obeys_controls() {
    let src = lab::open("healthy", Some(30.0)).unwrap();
    assert_eq!(src.info().label, "healthy");
    let (etx, mut erx) = mpsc::unbounded_channel();
    let (ctx, crx) = mpsc::unbounded_channel();
    let task = tokio::spawn(Box::new(src).run(etx, crx));

    let mut snapshots = 0;
    let mut lab_status = None;
    for _ in 0..40 {
        match erx.recv().await.unwrap() {
            SourceEvent::Snapshot(_) => snapshots += 1,
            SourceEvent::Lab(s) => lab_status = Some(s),
            _ => {}
        }
        if snapshots >= 1 && lab_status.is_some() {
            break;
        }
    }
    let status = lab_status.unwrap();
    assert_eq!(status.speed, 30.0);
    assert!(!status.paused);
    assert!(
        status
            .faults
            .iter()
            .any(|f| f.id == "fic-subject-typo" && !f.active)
    );

    ctx.send(SourceCommand::Lab(LabControl::Pause)).unwrap();
    ctx.send(SourceCommand::Lab(LabControl::Fault {
        id: "disable-rotation".into(),
        apply: true,
        target: None,
    }))
    .unwrap();
    let mut saw_fault = false;
    for _ in 0..40 {
        if let SourceEvent::Lab(s) = erx.recv().await.unwrap()
            && s.paused
            && s.faults
                .iter()
                .any(|f| f.id == "disable-rotation" && f.active)
        {
            saw_fault = true;
            break;
        }
    }
    assert!(saw_fault);

    // paused and settled: no snapshot flood while nothing changes (the clock's move reaches
    // the diagnosis once, within a second or so, and then nothing moves)
    ctx.send(SourceCommand::Lab(LabControl::Advance(
        Duration::from_secs(600),
    )))
    .unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    while erx.try_recv().is_ok() {}
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut quiet = 0;
    while let Ok(e) = erx.try_recv() {
        if matches!(e, SourceEvent::Snapshot(_)) {
            quiet += 1;
        }
    }
    assert_eq!(quiet, 0, "no snapshots when the world does not change");

    let action = Action::Rotate {
        vault: "kv-shop-lab".into(),
        object: "checkout-db-password".into(),
        marker: true,
    };
    let out = request(&ctx, |reply| SourceCommand::Act { action, reply })
        .expect("source running")
        .within(Duration::from_secs(20))
        .await
        .expect("answered");
    assert!(out.ok && out.message.contains("new version"), "{out:?}");
    drop(ctx);
    task.await.unwrap();
}

#[test]
fn the_documented_example_runs_as_described() {
    let doc = include_str!("../../docs/scenarios.md");
    let start = doc.rfind("```yaml\n").unwrap() + "```yaml\n".len();
    let end = start + doc[start..].find("```").unwrap();
    let sc = scenario::parse("example", Path::new("docs/scenarios.md"), &doc[start..end]).unwrap();
    let mut w = lab::world::World::new(sc);
    w.run_until_stable(Duration::from_secs(3600));
    let secret = &w.secrets[&("demo".to_string(), "api-db".to_string())];
    let fp = kvchain::fingerprint::Fingerprint::of;
    let data = &secret.data.as_ref().unwrap()["password"];
    assert_eq!(fp(&data.0), fp(b"still-not-real"), "rotated by the 4m poll");
    for p in w.pods.values() {
        assert_eq!(
            p.env.get("api", "DB_PASSWORD").copied().unwrap(),
            fp(b"not-a-real-password"),
            "env frozen at start"
        );
    }
}

/// Actions through the audit wrapper, as the TUI sends them: writes are recorded (one line
/// each, with target and result, never a value), reads (verify) are not, and the outcome still
/// reaches the UI.
#[tokio::test(flavor = "current_thread")]
async fn audited_lab_records_writes_without_values() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("canary.yaml");
    std::fs::write(&scenario, canary_scenario()).unwrap();
    let audit = dir.path().join("audit").join("audit.jsonl");
    let mut lab = lab::open(scenario.to_str().unwrap(), None).unwrap();
    lab.world_mut().run_until_stable(Duration::from_secs(600));
    let pod = lab.world().pods.keys().next().unwrap().clone();
    let src = kvchain::source::audited::Audited::new(Box::new(lab), Some(audit.clone()));
    let (etx, _erx) = mpsc::unbounded_channel();
    let (ctx, crx) = mpsc::unbounded_channel();
    let task = tokio::spawn(Box::new(src).run(etx, crx));
    let ask = |action| {
        request(&ctx, |reply| SourceCommand::Act { action, reply })
            .expect("source running")
            .within(Duration::from_secs(20))
    };
    let rotated = ask(Action::Rotate {
        vault: "kv-shop-lab".into(),
        object: "checkout-db-password".into(),
        marker: true,
    })
    .await
    .unwrap();
    assert!(rotated.ok, "{rotated:?}");
    let verified = ask(Action::Verify {
        namespace: pod.0.clone(),
        pod: pod.1.clone(),
        container: "app".into(),
    })
    .await
    .unwrap();
    assert!(verified.ok, "{verified:?}");
    let refused = ask(Action::Rotate {
        vault: "kv-shop-lab".into(),
        object: "edge-tls-cert".into(),
        marker: false,
    })
    .await
    .unwrap();
    assert!(!refused.ok);

    let log = std::fs::read_to_string(&audit).unwrap();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "verify reads only, not recorded: {log}");
    assert_eq!(lines[0]["action"], "rotate-marker");
    assert_eq!(
        lines[0]["target"],
        "keyvault kv-shop-lab/secrets/checkout-db-password"
    );
    assert_eq!(lines[0]["result"], "ok");
    assert_eq!(lines[1]["result"], "failed");
    assert!(lines[0]["identity"].as_str().unwrap().contains('@'));
    assert!(!log.contains(CANARY));

    drop(ctx);
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("the wrapped source stops when the UI quits")
        .unwrap();
}

/// `demo --list` and docs/scenarios.md ("Built-in scenarios") describe `default` alike: one
/// workload (a Deployment each, as the tree shows) per failure class.
#[test]
fn the_default_scenario_is_described_alike_in_the_list_and_the_docs() {
    let title = lab::builtin_scenarios()
        .into_iter()
        .find(|(n, _)| *n == "default")
        .map(|(_, t)| t)
        .unwrap();
    let docs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/scenarios.md")).unwrap();
    let docs = docs.split_whitespace().collect::<Vec<_>>().join(" ");
    let phrase = "one workload per failure class";
    assert!(title.contains(phrase), "{title}");
    assert!(
        docs.contains(&format!("side by side, {phrase}")),
        "docs/scenarios.md"
    );
}
