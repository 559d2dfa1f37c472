//! The lab's kubelet creates each app container on its own, as kuberuntime does: a container
//! whose config cannot be built (its env asks a Secret for a key it lacks) waits with
//! CreateContainerConfigError in the kubelet's words, and only that one; the pod's other app
//! containers start and run, and the pod stays Pending while one waits (the kubelet's pod
//! phase: a waiting container keeps it Pending). The held container is retried and starts
//! once its key exists; the running one keeps the start it had.

use std::time::Duration;

use kvchain::snapshot::{ContainerStateObs, Snapshot};
use kvchain::source::lab::world::World;
use kvchain::source::lab::{self, export};

use crate::lab_nodes::{CLUSTER, HEALTHY, SHOP};

/// The healthy checkout app with a second app container asking Secret checkout-db for `key`.
fn with_sidecar(key: &str) -> World {
    let app = HEALTHY.replace(
        "      volumes:\n",
        &format!(
            "        - name: sidecar\n          image: busybox\n          env:\n            - name: X\n              valueFrom:\n                secretKeyRef: {{name: checkout-db, key: {key}}}\n      volumes:\n"
        ),
    );
    assert!(app.contains("name: sidecar"));
    let docs = [CLUSTER, SHOP, &app].join("\n---\n");
    let sc = lab::scenario::parse("sidecar", std::path::Path::new("sidecar.yaml"), &docs)
        .expect("scenario loads");
    let mut w = World::new(sc);
    w.advance(Duration::from_secs(60));
    w
}

pub(crate) fn checkout_pods(s: &Snapshot) -> Vec<&kvchain::snapshot::PodObs> {
    let pods: Vec<_> = (s.pods.items.iter())
        .filter(|p| p.name.starts_with("checkout-"))
        .collect();
    assert_eq!(pods.len(), 2, "{:#?}", s.pods.items);
    pods
}

fn state(p: &kvchain::snapshot::PodObs, container: &str) -> ContainerStateObs {
    (p.containers.iter())
        .find(|c| c.name == container)
        .unwrap_or_else(|| panic!("{container}: {p:#?}"))
        .state
        .clone()
}

#[test]
fn only_the_container_whose_env_fails_waits_the_other_runs() {
    let w = with_sidecar("nope");
    let s = export::snapshot(&w);
    for p in checkout_pods(&s) {
        assert_eq!(p.phase, "Pending", "a container waits: {p:#?}");
        assert!(
            matches!(state(p, "app"), ContainerStateObs::Running { .. }),
            "{:?}",
            state(p, "app")
        );
        assert_eq!(
            state(p, "sidecar"),
            ContainerStateObs::Waiting {
                reason: "CreateContainerConfigError".into(),
                message: "couldn't find key nope in Secret shop/checkout-db".into(),
            }
        );
        // The in-container verify reaches the running container only.
        assert!(w.verify("shop", &p.name, "app").is_ok());
        let held = w.verify("shop", &p.name, "sidecar").unwrap_err();
        assert!(held.contains("not running"), "{held}");
    }
    assert!(
        s.events.items.iter().any(|e| e.reason == "Failed"
            && e.message == "Error: couldn't find key nope in Secret shop/checkout-db"),
        "{:#?}",
        s.events.items
    );
}

/// The diagnosis quotes only the held container's state: the app container runs.
#[test]
fn the_diagnosis_names_only_the_held_container() {
    let w = with_sidecar("nope");
    let s = export::snapshot(&w);
    let chains = kvchain::chain::diagnose(&s);
    let c = chains
        .iter()
        .find(|c| c.pod.starts_with("checkout-"))
        .expect("checkout chain");
    let evidence: Vec<String> = c
        .findings()
        .flat_map(|f| f.evidence.iter().map(|e| e.to_string()))
        .collect();
    assert!(
        evidence
            .iter()
            .any(|e| e.starts_with("container sidecar waiting: CreateContainerConfigError")),
        "{evidence:#?}"
    );
    assert!(
        !evidence
            .iter()
            .any(|e| e.starts_with("container app waiting")),
        "{evidence:#?}"
    );
}

#[test]
fn the_held_container_starts_once_its_key_exists_and_the_other_keeps_its_start() {
    let mut w = with_sidecar("token");
    let before = export::snapshot(&w);
    let started: Vec<(String, ContainerStateObs)> = checkout_pods(&before)
        .iter()
        .map(|p| (p.name.to_string(), state(p, "app")))
        .collect();
    // The key appears in the Secret (as an apply of it would write it); the kubelet's next
    // attempt, 10 s on, builds the sidecar's env.
    let secret = w
        .secrets
        .get_mut(&("shop".to_string(), "checkout-db".to_string()))
        .expect("synced Secret");
    secret
        .data
        .get_or_insert_with(Default::default)
        .insert("token".into(), k8s_openapi::ByteString(b"t".to_vec()));
    w.advance(Duration::from_secs(20));
    let after = export::snapshot(&w);
    for (name, app) in started {
        let p = after.pod("shop", &name).expect("same pod");
        assert_eq!(p.phase, "Running", "{p:#?}");
        assert!(matches!(
            state(p, "sidecar"),
            ContainerStateObs::Running { .. }
        ));
        assert_eq!(state(p, "app"), app, "not restarted");
    }
}
