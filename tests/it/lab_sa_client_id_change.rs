//! The service account's client-id annotation changed under running pods (audit X5; the
//! trainer fault `sa-client-id-mismatch`). FACTS §6: the webhook mutates on "CREATE only
//! (existing pods are never mutated)": the running pods keep the AZURE_CLIENT_ID they were
//! given, so once the annotation is set back only a pod created during the fault needs a
//! restart. One KVC204 per ServiceAccount, in the same words on every chain, naming the pods
//! that hold the wrong id; its fix restarts only when such pods exist.

use std::path::Path;
use std::time::Duration;

use kvchain::chain::{self, Code, Finding};
use kvchain::source::lab::scenario::LabAction;
use kvchain::source::lab::world::World;
use kvchain::source::lab::{export, scenario};

use crate::lab_nodes::{CLUSTER, HEALTHY, SHOP};

const FAULT: &str = "apiVersion: lab.kvchain.dev/v1
kind: Timeline
metadata: {name: sa-change}
spec:
  events:
    - at: 1m
      applyFault: {id: sa-client-id-mismatch}
";

fn world() -> World {
    let docs = [CLUSTER, SHOP, HEALTHY, FAULT].join("\n---\n");
    let sc = scenario::parse("sa-change", Path::new("sa.yaml"), &docs).expect("loads");
    World::new(sc)
}

/// The KVC204 findings on ServiceAccount/checkout, each distinct text once.
fn on_the_account(w: &World) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    for c in chain::diagnose(&export::snapshot(w)) {
        for f in c.findings() {
            if f.code == Code::KVC204
                && f.resource.as_str() == "ServiceAccount/checkout"
                && !out.iter().any(|o| o.message == f.message && o.fix == f.fix)
            {
                out.push(f.clone());
            }
        }
    }
    out
}

#[test]
fn running_pods_that_hold_the_right_id_need_no_restart() {
    let mut w = world();
    w.advance(Duration::from_secs(150));
    let found = on_the_account(&w);
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert!(
        f.message.contains("running pods still hold"),
        "{}",
        f.message
    );
    assert!(
        f.fix.contains("--overwrite")
            && !f.fix.contains("rollout restart")
            && f.fix.contains("no restart needed"),
        "{}",
        f.fix
    );
}

#[test]
fn a_pod_created_during_the_fault_is_named_and_restarted_in_one_finding() {
    let mut w = world();
    w.advance(Duration::from_secs(120));
    let old = w
        .pods
        .values()
        .map(|p| p.name().to_string())
        .filter(|n| n.starts_with("checkout-"))
        .min()
        .expect("a checkout pod");
    w.perform(&LabAction::DeletePod {
        namespace: "shop".into(),
        name: old.clone(),
    })
    .expect("deleted");
    w.advance(Duration::from_secs(30));
    let new: Vec<String> = w
        .pods
        .values()
        .map(|p| p.name().to_string())
        .filter(|n| n.starts_with("checkout-") && *n != old)
        .collect();
    let found = on_the_account(&w);
    assert_eq!(found.len(), 1, "one finding for the account: {found:#?}");
    let f = &found[0];
    assert!(
        !f.message.contains("running pods still hold"),
        "a pod holds the wrong id: {}",
        f.message
    );
    assert!(
        new.iter().any(|n| f.message.contains(n.as_str())),
        "{new:?}: {}",
        f.message
    );
    assert!(
        f.fix
            .contains("kubectl rollout restart deployment/checkout -n shop"),
        "{}",
        f.fix
    );
}
