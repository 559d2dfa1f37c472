//! The lab's compound pods, against what Kubernetes documents: the API server validates a
//! typed Secret the driver writes (Kubernetes "Secrets": a `kubernetes.io/dockerconfigjson`
//! Secret needs `.dockerconfigjson` holding a serialized ~/.docker/config.json, so the
//! driver's create fails — FACTS §3 FailedToCreateSecret — and there is no Secret); init
//! containers run in order once every volume is mounted and each completes, a native sidecar
//! (an init container with `restartPolicy: Always`) keeps running beside the app (Kubernetes
//! "Init Containers", "Sidecar Containers"); until then every container waits in
//! PodInitializing.

use std::time::Duration;

use kvchain::chain::{self, Code};
use kvchain::snapshot::{ContainerStateObs, Snapshot};
use kvchain::source::lab::world::World;
use kvchain::source::lab::{self, export};

use crate::lab_nodes::{CLUSTER, HEALTHY, SHOP};

pub(crate) fn run(app: &str, d: Duration) -> Snapshot {
    let docs = [CLUSTER, SHOP, app].join("\n---\n");
    let sc = lab::scenario::parse("compound", std::path::Path::new("compound.yaml"), &docs)
        .expect("scenario loads");
    let mut w = World::new(sc);
    w.advance(d);
    export::snapshot(&w)
}

/// The healthy checkout app syncing checkout-db as `kubernetes.io/dockerconfigjson` with key
/// `key` from the db password file (a password, not JSON).
pub(crate) fn docker_config(key: &str) -> String {
    HEALTHY
        .replace(
            "      type: Opaque\n      data:\n        - objectName: db-password\n          key: password",
            &format!("      type: kubernetes.io/dockerconfigjson\n      data:\n        - objectName: db-password\n          key: {key}"),
        )
}

/// A17-6: `dockerconfigjson` without its dot is refused by the API server: no Secret, the
/// driver's backoff event, and the diagnosis says it once — the static KVC806 of the typed
/// entry with the event as its evidence.
#[test]
fn a_dockerconfigjson_secret_without_its_key_is_never_made() {
    let s = run(&docker_config("dockerconfigjson"), Duration::from_secs(60));
    assert!(
        !s.secrets.items.iter().any(|x| x.name == "checkout-db"),
        "{:#?}",
        s.secrets.items
    );
    assert!(
        s.events
            .items
            .iter()
            .any(|e| e.reason == "FailedToCreateSecret"
                && e.message == "timed out waiting for the condition"),
        "{:#?}",
        s.events.items
    );
    let chains = chain::diagnose(&s);
    let c = &chains[0];
    let f: Vec<_> = c.findings().filter(|f| f.code == Code::KVC806).collect();
    assert_eq!(f.len(), 1, "{:#?}", c.links);
    assert!(
        f[0].message.contains("did you mean .dockerconfigjson?"),
        "{}",
        f[0].message
    );
    assert!(
        f[0].evidence
            .iter()
            .any(|e| e.starts_with("FailedToCreateSecret")),
        "{:#?}",
        f[0].evidence
    );
}

/// With the right key, a value that is no JSON is refused too (ValidateSecret parses it):
/// no Secret is made from it.
#[test]
fn a_dockerconfigjson_secret_whose_file_is_not_json_is_never_made() {
    let s = run(&docker_config(".dockerconfigjson"), Duration::from_secs(60));
    assert!(!s.secrets.items.iter().any(|x| x.name == "checkout-db"));
    let chains = chain::diagnose(&s);
    assert!(
        chains[0].findings().any(|f| f.code == Code::KVC806
            && f.evidence
                .iter()
                .any(|e| e.contains("timed out waiting for the condition"))),
        "{:#?}",
        chains[0].links
    );
}

const INITS: &str = "      initContainers:\n        - name: migrate\n          image: busybox\n          env:\n            - name: PW\n              valueFrom: {secretKeyRef: {name: checkout-db, key: password}}\n        - name: proxy\n          image: busybox\n          restartPolicy: Always\n          env:\n            - name: PW\n              valueFrom: {secretKeyRef: {name: checkout-db, key: password}}\n      containers:\n        - name: app\n";

fn with_inits(app: &str) -> String {
    app.replace("      containers:\n        - name: app\n", INITS)
}

fn state(s: &Snapshot, container: &str) -> ContainerStateObs {
    s.pods.items[0]
        .containers
        .iter()
        .find(|c| c.name == container)
        .unwrap_or_else(|| panic!("{container}: {:#?}", s.pods.items[0]))
        .state
        .clone()
}

/// A17-7: started, the init container completed and the native sidecar runs beside the app.
#[test]
fn a_started_pod_shows_its_init_container_completed_and_its_sidecar_running() {
    let s = run(&with_inits(HEALTHY), Duration::from_secs(60));
    assert_eq!(s.pods.items[0].phase, "Running", "{:#?}", s.pods.items[0]);
    assert!(
        matches!(state(&s, "migrate"), ContainerStateObs::Terminated { ref reason, exit_code: 0 } if reason == "Completed"),
        "{:?}",
        state(&s, "migrate")
    );
    assert!(
        matches!(state(&s, "proxy"), ContainerStateObs::Running { .. }),
        "{:?}",
        state(&s, "proxy")
    );
    assert!(matches!(
        state(&s, "app"),
        ContainerStateObs::Running { .. }
    ));
}

/// A17-7: a pod with init containers whose CSI volume cannot mount (the vault object is
/// missing): nothing has started, every container waits in PodInitializing (the kubelet's
/// waiting reason when the pod has init containers), not ContainerCreating.
#[test]
fn a_pod_with_init_containers_waits_in_pod_initializing_until_its_volumes_mount() {
    let app = with_inits(HEALTHY).replace(
        "objectName: checkout-db-password",
        "objectName: checkout-db-pasword",
    );
    let s = run(&app, Duration::from_secs(60));
    assert_eq!(s.pods.items[0].phase, "Pending");
    for c in ["migrate", "proxy", "app"] {
        assert!(
            matches!(state(&s, c), ContainerStateObs::Waiting { ref reason, .. } if reason == "PodInitializing"),
            "{c}: {:?}",
            state(&s, c)
        );
    }
}
