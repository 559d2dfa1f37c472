//! Every workload that reads a synced Secret through env needs something that restarts it at
//! a rotation, whether or not it mounts the SecretProviderClass (audit X2). FACTS §4: "Env vars
//! from a synced Secret are a start-time snapshot; pod restart (e.g. Reloader) needed. The
//! driver never restarts pods." FACTS §10: Reloader restarts the workloads annotated for it.
//! So a reader of `cart-redis` that does not mount `cart-kv` (KVC903) gets its own KVC902
//! before the first rotation, once per workload, with a fix on its own Deployment.

use std::path::Path;
use std::time::Duration;

use kvchain::chain::{self, Code, Finding};
use kvchain::source::lab::world::World;
use kvchain::source::lab::{export, scenario};

use crate::lab_nodes::{CLUSTER, HEALTHY, SHOP};

const ENV_STALE: &str = include_str!("../../assets/scenarios/env-stale.yaml");

/// Two replicas of `cart-reader`, reading `cart-redis` through env, mounting nothing;
/// `annotations` are the Deployment's.
fn reader(annotations: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: cart-reader
  namespace: shop
  annotations: {annotations}
spec:
  replicas: 2
  selector:
    matchLabels:
      app: cart-reader
  template:
    metadata:
      labels:
        app: cart-reader
    spec:
      containers:
        - name: app
          image: mcr.microsoft.com/azurelinux/busybox:1.36
          command: [\"/bin/sh\", \"-c\", \"sleep infinity\"]
          env:
            - name: REDIS_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: cart-redis
                  key: password
"
    )
}

/// env-stale (cart, rotation at 1m, no Reloader) plus the reader, at 30 s: before any rotation.
fn findings(annotations: &str) -> Vec<Finding> {
    let docs = [CLUSTER, SHOP, HEALTHY, ENV_STALE, &reader(annotations)].join("\n---\n");
    let sc = scenario::parse("reader", Path::new("reader.yaml"), &docs).expect("scenario loads");
    let mut w = World::new(sc);
    w.advance(Duration::from_secs(30));
    let chains = chain::diagnose(&export::snapshot(&w));
    // Each chain says a workload's KVC902 at most once; chains that saw the same one say it
    // in the same words (the reports show it once).
    for c in &chains {
        let mut seen: Vec<&str> = (c.findings())
            .filter(|f| f.code == Code::KVC902)
            .map(|f| f.resource.as_str())
            .collect();
        let n = seen.len();
        seen.dedup();
        assert_eq!(seen.len(), n, "{}: {seen:?}", c.id);
    }
    let mut all: Vec<Finding> = chains.iter().flat_map(|c| c.findings().cloned()).collect();
    all.dedup_by(|a, b| a.code == b.code && a.resource == b.resource && a.message == b.message);
    all
}

#[test]
fn a_reader_that_does_not_mount_the_spc_is_told_nothing_restarts_it() {
    let all = findings("{}");
    let of = |who: &str| -> Vec<&Finding> {
        all.iter()
            .filter(|f| f.code == Code::KVC902 && f.resource.as_str() == who)
            .collect()
    };
    // The mounting owner keeps its own.
    assert_eq!(of("Deployment/cart").len(), 1, "{all:#?}");
    // The reader: one finding for its two pods, before the rotation makes its env stale.
    let r = of("Deployment/cart-reader");
    assert_eq!(r.len(), 1, "{all:#?}");
    assert!(r[0].message.contains("cart-redis"), "{}", r[0].message);
    assert!(
        r[0].fix
            .contains("kubectl annotate deployment/cart-reader -n shop")
            && !r[0].fix.contains("deployment/cart "),
        "{}",
        r[0].fix
    );
    assert!(
        !all.iter().any(|f| f.code == Code::KVC901),
        "no rotation yet: {all:#?}"
    );
}

/// FACTS §10: `reloader.stakater.com/auto: "true"` restarts the reader when a Secret it
/// references changes: no KVC902 for it.
#[test]
fn a_reader_annotated_for_reloader_needs_no_restart_advice() {
    let all = findings("{reloader.stakater.com/auto: \"true\"}");
    assert!(
        !all.iter()
            .any(|f| f.code == Code::KVC902 && f.resource.as_str() == "Deployment/cart-reader"),
        "{all:#?}"
    );
    assert!(
        all.iter()
            .any(|f| f.code == Code::KVC902 && f.resource.as_str() == "Deployment/cart"),
        "{all:#?}"
    );
}
