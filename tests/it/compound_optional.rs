//! Optional Secret references beside a secrets-store chain (audit 17, A17-10). Kubernetes
//! docs ("Secrets": "Optional Secrets"): an `optional` secretKeyRef or envFrom secretRef to a
//! Secret or key that does not exist starts the container with the variable unset. That is at
//! most an info ("optional, unset"), never an error, and a copy is stale (KVC901) only when
//! the container really took a value from the Secret.

use std::process::Command;
use std::time::Duration;

use jiff::SignedDuration;
use kvchain::chain::testkit::{self as tk, APP};
use kvchain::chain::{Chain, Code, Finding, Severity, diagnose};
use kvchain::snapshot::{EnvSourceObs, Snapshot};
use kvchain::source::lab::{self, export, world::World};
use serde_json::Value;

use crate::lab_nodes::{CLUSTER, HEALTHY, SHOP};

/// healthy.yaml with `env` entries (indented as items of the app container's `env:`) added
/// before DB_PASSWORD, and `env_from` (items of `envFrom:`) when not empty.
pub(crate) fn app(env: &str, env_from: &str) -> String {
    let mut head = String::from("          env:\n");
    head.push_str(env);
    let mut app = HEALTHY.replacen("          env:\n", &head, 1);
    if !env_from.is_empty() {
        app = app.replacen(
            "          env:\n",
            &format!("          envFrom:\n{env_from}          env:\n"),
            1,
        );
    }
    assert_ne!(app, HEALTHY);
    app
}

pub(crate) fn check(docs: &[&str]) -> (Option<i32>, Value) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("env.yaml");
    let mut all = vec![CLUSTER, SHOP];
    all.extend(docs);
    std::fs::write(&path, all.join("\n---\n")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "--lab"])
        .arg(&path)
        .args(["-o", "json"])
        .output()
        .unwrap();
    let json = String::from_utf8_lossy(&out.stdout).into_owned();
    let report: Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    (out.status.code(), report)
}

pub(crate) fn findings<'a>(report: &'a Value, code: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == code)
        .collect()
}

pub(crate) fn all(chains: &[Chain]) -> Vec<(Code, Severity, String)> {
    chains
        .iter()
        .flat_map(|c| c.findings())
        .map(|f| (f.code, f.severity, f.message.to_string()))
        .collect()
}

pub(crate) fn with(chains: &[Chain], code: Code) -> Vec<Finding> {
    chains
        .iter()
        .flat_map(|c| c.findings())
        .filter(|f| f.code == code)
        .cloned()
        .collect()
}

/// A17-10, KVC901: an optional env var whose key the synced Secret does not have was never
/// set, so no rewrite of the Secret makes it stale; the info KVC905 already says it is unset.
/// Run through a rotation (the Secret rewritten after the containers started).
#[test]
fn an_optional_env_key_the_secret_lacks_is_never_stale() {
    let opt = "            - name: OPT\n              valueFrom:\n                secretKeyRef: {name: checkout-db, key: nokey, optional: true}\n";
    let app = app(opt, "").replace("reloader.stakater.com/auto", "x-not-reloaded");
    let rotation = "apiVersion: lab.kvchain.dev/v1\nkind: Timeline\nmetadata: {name: rot}\nspec:\n  events:\n    - at: 1m\n      rotateSecret: {vault: kv-shop-lab, name: checkout-db-password, value: checkout-pass-3}\n";
    let docs = [CLUSTER, SHOP, app.as_str(), rotation].join("\n---\n");
    let sc = lab::scenario::parse("opt", std::path::Path::new("opt.yaml"), &docs).unwrap();
    let mut w = World::new(sc);
    w.advance(Duration::from_secs(600));
    let chains = diagnose(&export::snapshot(&w));
    // DB_PASSWORD took a value and the Secret changed since: that one is stale.
    let stale = with(&chains, Code::KVC901);
    assert!(
        !stale.is_empty(),
        "the rotation reached the Secret: {:#?}",
        all(&chains)
    );
    for f in &stale {
        assert!(f.message.contains("env DB_PASSWORD"), "{}", f.message);
        assert!(!f.message.contains("OPT"), "{}", f.message);
    }
    let unset = with(&chains, Code::KVC905);
    assert!(!unset.is_empty(), "{:#?}", all(&chains));
    assert!(
        unset.iter().all(|f| f.severity == Severity::Info),
        "{unset:#?}"
    );
}

/// The healthy app with its env optional and the synced Secret created (and written) `ago`.
fn optional_reader(ago: SignedDuration, env_from: bool) -> Snapshot {
    let mut s = tk::healthy();
    let secret = tk::secret_name(APP);
    for x in s.secrets.items.iter_mut().filter(|x| x.name == secret) {
        x.created_at = Some(tk::ago(ago));
        x.updated_at = Some(tk::ago(ago));
    }
    let c = &mut tk::pod_mut(&mut s, APP).containers[0];
    for e in &mut c.env {
        if let EnvSourceObs::SecretKey { optional, .. } = &mut e.source {
            *optional = true;
        }
    }
    if env_from {
        c.env
            .retain(|e| !matches!(e.source, EnvSourceObs::SecretKey { .. }));
        c.env_from_secrets.push(secret.as_str().into());
        c.env_from_optional.push(secret.as_str().into());
    }
    s
}

/// A17-10, KVC901: the container started (an hour ago) before the Secret existed (ten minutes
/// ago), so the kubelet left the optional variable unset: the process holds no value at all.
/// At most an info ("optional, unset"), never "holds the old value".
#[test]
fn an_optional_env_secret_created_after_the_start_is_unset_not_stale() {
    for env_from in [false, true] {
        let chains = diagnose(&optional_reader(SignedDuration::from_mins(10), env_from));
        let f = with(&chains, Code::KVC901);
        assert_eq!(f.len(), 1, "{env_from}: {:#?}", all(&chains));
        assert_eq!(f[0].severity, Severity::Info, "{env_from}: {:#?}", f[0]);
        assert!(
            f[0].message.contains("optional, unset") && !f[0].message.contains("old value"),
            "{}",
            f[0].message
        );
        assert!(
            all(&chains)
                .iter()
                .all(|(_, sev, _)| *sev == Severity::Info),
            "{env_from}: {:#?}",
            all(&chains)
        );
        // The Secret existed at the start (two hours ago): the value was taken, nothing unset.
        let chains = diagnose(&optional_reader(SignedDuration::from_hours(2), env_from));
        assert!(
            with(&chains, Code::KVC901).is_empty(),
            "{:#?}",
            all(&chains)
        );
    }
}

/// A17-10, KVC904: a workload whose every use of the never-made Secret is optional starts
/// with it unset: an info. A required use stops it: the error stands.
#[test]
fn kvc904_for_optional_uses_only_is_info() {
    let docs: Vec<&str> = HEALTHY
        .split("\n---\n")
        .filter(|d| !d.contains("kind: Deployment"))
        .collect();
    let reader = |optional: bool| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: reader, namespace: shop}}\nspec:\n  replicas: 1\n  selector: {{matchLabels: {{app: reader}}}}\n  template:\n    metadata: {{labels: {{app: reader}}}}\n    spec:\n      containers:\n        - name: reader\n          image: busybox\n          env:\n            - name: DB\n              valueFrom: {{secretKeyRef: {{name: checkout-db, key: password, optional: {optional}}}}}\n          envFrom:\n            - secretRef: {{name: checkout-db, optional: {optional}}}\n"
        )
    };
    let optional = reader(true);
    let mut all_docs = docs.clone();
    all_docs.push(&optional);
    let (code, report) = check(&all_docs);
    assert_eq!(code, Some(0), "{report:#}");
    let f = findings(&report, "KVC904");
    assert_eq!(f.len(), 1, "{report:#}");
    assert_eq!(f[0]["severity"], "info", "{:#}", f[0]);
    assert!(
        f[0]["message"]
            .as_str()
            .unwrap()
            .contains("optional, unset"),
        "{:#}",
        f[0]
    );
    let required = reader(false);
    let mut all_docs = docs;
    all_docs.push(&required);
    let (code, report) = check(&all_docs);
    assert_eq!(code, Some(1), "{report:#}");
    let f = findings(&report, "KVC904");
    assert_eq!(f.len(), 1, "{report:#}");
    assert_eq!(f[0]["severity"], "error", "{:#}", f[0]);
}
