//! Each container's own start in the lab's pod status: the kubelet reports
//! `state.running.startedAt` per container (Kubernetes API, ContainerStateRunning: "Time at
//! which the container was last (re-)started"), so an app container held by
//! CreateContainerConfigError that starts once its Secret or key exists shows that later
//! time, not the pod's first start, while the containers that started first keep theirs. The
//! diagnosis reads it: a container that started after a synced Secret was rewritten took the
//! new value (no KVC901 for it).

use std::time::Duration;

use jiff::Timestamp;
use kvchain::chain::{self, Code};
use kvchain::snapshot::{ContainerStateObs, PodObs, Snapshot};
use kvchain::source::lab::scenario::LabAction;
use kvchain::source::lab::world::World;
use kvchain::source::lab::{self, export};

use crate::lab_nodes::{CLUSTER, HEALTHY, SHOP};

/// The healthy checkout app without Reloader, with a second app container `sidecar` whose
/// `env` (YAML list items, indented for the container) is given.
fn with_sidecar(env: &str) -> World {
    let app = HEALTHY
        .replace("    reloader.stakater.com/auto: \"true\"\n", "")
        .replace(
            "      volumes:\n",
            &format!(
                "        - name: sidecar\n          image: busybox\n          env:\n{env}      volumes:\n"
            ),
        );
    assert!(app.contains("name: sidecar") && !app.contains("reloader"));
    let docs = [CLUSTER, SHOP, &app].join("\n---\n");
    let sc = lab::scenario::parse("starts", std::path::Path::new("starts.yaml"), &docs)
        .expect("scenario loads");
    let mut w = World::new(sc);
    w.advance(Duration::from_secs(60));
    w
}

fn secret_ref(var: &str, secret: &str, key: &str) -> String {
    format!(
        "            - name: {var}\n              valueFrom:\n                secretKeyRef: {{name: {secret}, key: {key}}}\n"
    )
}

fn checkout(s: &Snapshot) -> Vec<&PodObs> {
    let pods: Vec<_> = (s.pods.items.iter())
        .filter(|p| p.name.starts_with("checkout-"))
        .collect();
    assert_eq!(pods.len(), 2, "{:#?}", s.pods.items);
    pods
}

/// The container's `state.running.startedAt`; None while it waits.
fn started(p: &PodObs, container: &str) -> Option<Timestamp> {
    match &p.containers.iter().find(|c| c.name == container)?.state {
        ContainerStateObs::Running { started_at } => Some(*started_at),
        _ => None,
    }
}

fn add_secret(w: &mut World, name: &str) {
    let secret: k8s_openapi::api::core::v1::Secret = serde_json::from_value(serde_json::json!({
        "metadata": {"name": name, "namespace": "shop",
                     "creationTimestamp": w.clock.now().to_string()},
        "type": "Opaque",
        "data": {"k": "dg=="}
    }))
    .unwrap();
    w.secrets.insert(("shop".into(), name.into()), secret);
}

#[test]
fn a_container_held_by_its_config_shows_its_own_start() {
    let mut w = with_sidecar(&secret_ref("X", "extra", "k"));
    let before = export::snapshot(&w);
    let first: Vec<(String, Timestamp)> = checkout(&before)
        .iter()
        .map(|p| {
            assert_eq!(started(p, "sidecar"), None, "held: {p:#?}");
            (p.name.to_string(), started(p, "app").expect("app runs"))
        })
        .collect();
    // A while later its Secret appears; the kubelet's next attempt (10 s) starts it.
    w.advance(Duration::from_secs(120));
    add_secret(&mut w, "extra");
    let appeared = w.clock.now();
    w.advance(Duration::from_secs(15));
    let after = export::snapshot(&w);
    for (name, app) in first {
        let p = after.pod("shop", &name).expect("same pod");
        assert_eq!(p.phase, "Running");
        assert_eq!(started(p, "app"), Some(app), "the app keeps its start");
        let sidecar = started(p, "sidecar").expect("started");
        assert!(
            sidecar >= appeared && sidecar > app,
            "sidecar started {sidecar}, its Secret appeared {appeared}, the app started {app}"
        );
    }
}

/// The synced Secret is rewritten (a rotation) while the sidecar is held; the sidecar then
/// starts with the new value: KVC901 says the app holds an old copy, not the sidecar.
#[test]
fn a_container_started_after_a_rotation_holds_no_stale_copy() {
    let env = secret_ref("DB_PASSWORD", "checkout-db", "password") + &secret_ref("X", "extra", "k");
    let mut w = with_sidecar(&env);
    w.perform(&LabAction::RotateSecret {
        vault: "kv-shop-lab".into(),
        name: "checkout-db-password".into(),
        value: Some("checkout-pass-v3".into()),
    })
    .unwrap();
    // Past the driver's rotation poll (2m): the Secret is rewritten.
    w.advance(Duration::from_secs(180));
    add_secret(&mut w, "extra");
    w.advance(Duration::from_secs(15));
    let s = export::snapshot(&w);
    for p in checkout(&s) {
        assert!(started(p, "sidecar").is_some(), "{p:#?}");
    }
    let kvc901: Vec<String> = chain::diagnose(&s)
        .iter()
        .flat_map(|c| c.findings())
        .filter(|f| f.code == Code::KVC901)
        .map(|f| f.message.to_string())
        .collect();
    assert!(
        kvc901.iter().any(|m| m.contains("container app")),
        "the app took the old value: {kvc901:#?}"
    );
    assert!(
        !kvc901.iter().any(|m| m.contains("sidecar")),
        "the sidecar started after the rewrite: {kvc901:#?}"
    );
}
