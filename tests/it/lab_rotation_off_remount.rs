//! Rotation off, a new vault version, then a rollout restart (audit X3). FACTS §11: "When the
//! Secret already exists the driver does not rewrite it at mount; a pod restart does not
//! refresh it." FACTS §4: "Env vars from a synced Secret are a start-time snapshot" and
//! "without rotation: delete synced Secret and restart pod". The restarted pods mount the new
//! version while `checkout-db` keeps the old one, and both replicas read it through env: the
//! KVC805 fix deletes the Secret and restarts every pod that read it (the Deployment's rollout,
//! not one pod), and the Consumers link says the running env is stale.

use std::path::Path;
use std::time::Duration;

use kvchain::chain::{self, Chain, Code, LinkKind};
use kvchain::source::lab::world::World;
use kvchain::source::lab::{export, scenario};

use crate::lab_nodes::{HEALTHY, SHOP};

const CLUSTER_ROTATION_OFF: &str = include_str!("../../assets/scenarios/cluster-rotation-off.yaml");

fn timeline(extra: &str) -> String {
    format!(
        "apiVersion: lab.kvchain.dev/v1
kind: Timeline
metadata:
  name: rotation-off-restart
spec:
  events:
    - at: 1m
      rotateSecret: {{vault: kv-shop-lab, name: checkout-db-password, value: checkout-pass-v9}}
    - at: 3m
      rolloutRestart: {{namespace: shop, kind: Deployment, name: checkout}}
{extra}"
    )
}

fn checkout_chains(extra: &str, d: Duration) -> Vec<Chain> {
    let docs = [CLUSTER_ROTATION_OFF, SHOP, HEALTHY, &timeline(extra)].join("\n---\n");
    let sc = scenario::parse("rotoff", Path::new("rotoff.yaml"), &docs).expect("scenario loads");
    let mut w = World::new(sc);
    w.advance(d);
    let chains: Vec<Chain> = chain::diagnose(&export::snapshot(&w))
        .into_iter()
        .filter(|c| c.spc.as_str() == "checkout-kv")
        .collect();
    assert_eq!(chains.len(), 2, "{chains:#?}");
    chains
}

#[test]
fn the_stale_secret_fix_restarts_every_env_reader_and_consumers_says_env_is_stale() {
    let chains = checkout_chains("", Duration::from_secs(5 * 60));
    let kvc805: Vec<_> = (chains.iter())
        .flat_map(|c| c.findings())
        .filter(|f| f.code == Code::KVC805)
        .collect();
    assert!(!kvc805.is_empty(), "{chains:#?}");
    for f in &kvc805 {
        let command = f.fix.split("  # ").next().unwrap_or("");
        assert!(
            command.starts_with("kubectl delete secret checkout-db -n shop --ignore-not-found && ")
                && command.contains("kubectl rollout restart deployment/checkout -n shop")
                && !command.contains("kubectl delete pod"),
            "{}",
            f.fix
        );
    }
    for c in &chains {
        let consumers = &c.links[LinkKind::Consumers.index()];
        assert!(
            consumers.summary.contains("env stale")
                && consumers
                    .facts
                    .iter()
                    .any(|f| f.observed.contains("checkout-db")),
            "{}: {consumers:#?}",
            c.pod
        );
    }
}

/// The fix pasted (the Secret deleted, the Deployment rolled): every replica reads the new
/// value; nothing is left stale, or half-known.
#[test]
fn the_pasted_fix_leaves_no_replica_with_the_old_value() {
    let paste = "    - at: 6m
      deleteSecret: {namespace: shop, name: checkout-db}
    - at: 6m1s
      rolloutRestart: {namespace: shop, kind: Deployment, name: checkout}
";
    let chains = checkout_chains(paste, Duration::from_secs(10 * 60));
    for c in &chains {
        let left: Vec<_> = (c.findings())
            .filter(|f| matches!(f.code, Code::KVC805 | Code::KVC901))
            .map(|f| format!("{} {}", f.code, f.message))
            .collect();
        assert!(left.is_empty(), "{}: {left:#?}", c.pod);
    }
}
