//! ConfigMaps in the lab, against the kubelet (pkg/kubelet/kubelet_pods.go
//! makeEnvironmentVariables, the ConfigMap manager's not-found, pkg/volume/configmap
//! MakePayload) and the API server (ValidateConfigMap). A pod mixing a ConfigMap with the
//! synced Secret: a ConfigMap (or a key of its `data`) its env names, missing, holds the
//! container with CreateContainerConfigError (`configmap "X" not found`, `couldn't find key K
//! in ConfigMap ns/X`); a configMap volume whose ConfigMap is missing, or lacks an
//! `items[].key`, fails its setup (FailedMount) and the pod stays in ContainerCreating; an
//! optional reference starts. The diagnosis says so: KVC109 quoting the kubelet for env,
//! KVC108 for the volume.

use std::time::Duration;

use kvchain::chain::{self, Code};
use kvchain::snapshot::{ContainerStateObs, PodObs, Snapshot};
use kvchain::source::lab::world::World;
use kvchain::source::lab::{self, export};

use crate::lab_nodes::{CLUSTER, HEALTHY, SHOP, mounted_by_app};

/// ConfigMap checkout-config: LOG_LEVEL in `data`, logo.png in `binaryData`.
const CONFIG: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: checkout-config\n  namespace: shop\ndata:\n  LOG_LEVEL: info-level-value\nbinaryData:\n  logo.png: iVBORw0K\n";

/// The healthy app with `env` entries added to its container.
fn with_env(env: &str) -> String {
    let app = HEALTHY.replacen(
        "                  key: password\n",
        &format!("                  key: password\n{env}"),
        1,
    );
    assert_ne!(app, HEALTHY);
    app
}

const LOG_LEVEL: &str = "            - name: LOG_LEVEL\n              valueFrom:\n                configMapKeyRef: {name: checkout-config, key: LOG_LEVEL}\n";

/// The healthy app with a second volume `config` of source `source` (flow YAML).
fn with_volume(source: &str) -> String {
    let app = HEALTHY.replacen(
        "      volumes:\n",
        &format!("      volumes:\n        - name: config\n          {source}\n"),
        1,
    );
    assert_ne!(app, HEALTHY);
    mounted_by_app(&app, "config")
}

fn world(docs: &[&str]) -> World {
    let mut all = vec![CLUSTER, SHOP];
    all.extend_from_slice(docs);
    let sc = lab::scenario::parse("cm", std::path::Path::new("cm.yaml"), &all.join("\n---\n"))
        .expect("scenario loads");
    let mut w = World::new(sc);
    w.advance(Duration::from_secs(60));
    w
}

fn run(docs: &[&str]) -> Snapshot {
    export::snapshot(&world(docs))
}

fn checkout(s: &Snapshot) -> Vec<&PodObs> {
    let pods: Vec<_> = (s.pods.items.iter())
        .filter(|p| p.name.starts_with("checkout-"))
        .collect();
    assert_eq!(pods.len(), 2, "{:#?}", s.pods.items);
    pods
}

fn app_state(p: &PodObs) -> &ContainerStateObs {
    &p.containers.iter().find(|c| c.name == "app").unwrap().state
}

fn assert_running(s: &Snapshot) {
    for p in checkout(s) {
        assert_eq!(p.phase, "Running", "{p:#?}");
    }
}

fn assert_config_error(s: &Snapshot, message: &str) {
    for p in checkout(s) {
        assert_eq!(p.phase, "Pending");
        assert_eq!(
            app_state(p),
            &ContainerStateObs::Waiting {
                reason: "CreateContainerConfigError".into(),
                message: message.into(),
            }
        );
    }
    assert!(
        (s.events.items.iter())
            .any(|e| e.reason == "Failed" && e.message == format!("Error: {message}")),
        "{:#?}",
        s.events.items
    );
}

fn checkout_chain(s: &Snapshot) -> chain::Chain {
    chain::diagnose(s)
        .into_iter()
        .find(|c| c.pod.starts_with("checkout-"))
        .expect("checkout chain")
}

#[test]
fn a_config_map_the_env_reads_lets_the_pod_start() {
    let s = run(&[&with_env(LOG_LEVEL), CONFIG]);
    assert_running(&s);
    let c = checkout_chain(&s);
    assert_eq!(c.findings().count(), 0, "{:#?}", c.links);
}

#[test]
fn a_missing_config_map_holds_the_container_and_the_diagnosis_quotes_the_kubelet() {
    let s = run(&[&with_env(LOG_LEVEL)]);
    let kubelet = "configmap \"checkout-config\" not found";
    assert_config_error(&s, kubelet);
    let c = checkout_chain(&s);
    let f: Vec<_> = c.findings().filter(|f| f.code == Code::KVC109).collect();
    assert_eq!(f.len(), 1, "{:#?}", c.links);
    assert!(
        f[0].message.contains("names ConfigMap checkout-config") && f[0].message.contains(kubelet),
        "{}",
        f[0].message
    );
    assert_eq!(
        &*f[0].confirm,
        "kubectl get configmap checkout-config -n shop"
    );
    assert!(
        f[0].fix
            .contains("create ConfigMap checkout-config in namespace shop"),
        "{}",
        f[0].fix
    );
    // The container reads the chain: nothing reads the secrets, the chain is not healthy.
    assert_ne!(
        c.link(chain::LinkKind::Consumers).status,
        chain::Status::Ok,
        "{:#?}",
        c.links
    );
}

/// Env reads a ConfigMap's `data` only: a key it lacks, or one in `binaryData`, is not found.
#[test]
fn a_key_the_config_maps_data_lacks_holds_the_container() {
    for key in ["LOG_LEVL", "logo.png"] {
        let env = LOG_LEVEL.replace("key: LOG_LEVEL", &format!("key: {key}"));
        let s = run(&[&with_env(&env), CONFIG]);
        let kubelet = format!("couldn't find key {key} in ConfigMap shop/checkout-config");
        assert_config_error(&s, &kubelet);
        let c = checkout_chain(&s);
        assert!(
            c.findings().any(|f| f.code == Code::KVC109
                && f.message.contains(&format!("for key {key}"))
                && f.message.contains(&kubelet)),
            "{:#?}",
            c.links
        );
    }
}

#[test]
fn an_env_from_config_map_that_is_missing_holds_the_container_unless_optional() {
    let env_from = |optional: &str| {
        HEALTHY.replacen(
            "          env:\n",
            &format!("          envFrom:\n            - configMapRef: {{name: checkout-config{optional}}}\n          env:\n"),
            1,
        )
    };
    let s = run(&[&env_from("")]);
    assert_config_error(&s, "configmap \"checkout-config\" not found");
    assert_running(&run(&[&env_from(", optional: true")]));
    assert_running(&run(&[&env_from(""), CONFIG]));
}

#[test]
fn an_optional_config_map_key_ref_starts_without_it() {
    let env = LOG_LEVEL.replace("key: LOG_LEVEL}", "key: LOG_LEVEL, optional: true}");
    assert_running(&run(&[&with_env(&env)]));
}

#[test]
fn a_config_map_volume_whose_config_map_is_missing_fails_to_mount() {
    let s = run(&[&with_volume("configMap: {name: checkout-config}")]);
    let message =
        "MountVolume.SetUp failed for volume \"config\" : configmap \"checkout-config\" not found";
    for p in checkout(&s) {
        assert_eq!(p.phase, "Pending");
        assert!(
            matches!(app_state(p), ContainerStateObs::Waiting { reason, .. } if reason == "ContainerCreating"),
            "{:?}",
            app_state(p)
        );
    }
    assert!(
        (s.events.items.iter()).any(|e| e.reason == "FailedMount" && e.message == message),
        "{:#?}",
        s.events.items
    );
    let c = checkout_chain(&s);
    assert!(
        c.findings().any(|f| f.code == Code::KVC108
            && f.message.starts_with("volume config fails to mount")
            && f.evidence.iter().any(|e| e.contains(message))),
        "{:#?}",
        c.links
    );
    assert_running(&run(&[&with_volume(
        "configMap: {name: checkout-config, optional: true}",
    )]));
}

/// A volume's `items[].key` is found in `data` or `binaryData`; one in neither fails it, as
/// does a projected configMap source whose ConfigMap is missing.
#[test]
fn config_map_volume_items_and_projected_sources_are_checked() {
    let items = |key: &str| {
        format!("configMap: {{name: checkout-config, items: [{{key: {key}, path: f}}]}}")
    };
    assert_running(&run(&[&with_volume(&items("logo.png")), CONFIG]));
    let s = run(&[&with_volume(&items("missing.conf")), CONFIG]);
    assert!(
        (s.events.items.iter()).any(|e| e.reason == "FailedMount"
            && e.message
                == "MountVolume.SetUp failed for volume \"config\" : configmap references non-existent config key: missing.conf"),
        "{:#?}",
        s.events.items
    );
    let s = run(&[&with_volume(
        "projected: {sources: [{configMap: {name: checkout-config}}]}",
    )]);
    assert!(
        (s.events.items.iter()).any(|e| e.reason == "FailedMount"
            && e.message
                == "MountVolume.SetUp failed for volume \"config\" : configmap \"checkout-config\" not found"),
        "{:#?}",
        s.events.items
    );
    assert_running(&run(&[
        &with_volume("projected: {sources: [{configMap: {name: checkout-config}}]}"),
        CONFIG,
    ]));
}

/// The API server refuses a key in both maps and a key that is no config key: so does the
/// scenario loader, naming the document. A ConfigMap's values are never kept nor shown.
#[test]
fn config_maps_are_admitted_as_the_api_server_validates_them_and_values_are_not_kept() {
    let load = |cm: &str| {
        lab::scenario::parse(
            "cm",
            std::path::Path::new("cm.yaml"),
            &[CLUSTER, SHOP, cm].join("\n---\n"),
        )
    };
    let dup = CONFIG.replace("logo.png: iVBORw0K", "LOG_LEVEL: iVBORw0K");
    let e = load(&dup).unwrap_err().to_string();
    assert!(
        e.contains("document") && e.contains("duplicate of key present"),
        "{e}"
    );
    let bad = CONFIG.replace("LOG_LEVEL: info-level-value", "log/level: x");
    let e = load(&bad).unwrap_err().to_string();
    assert!(e.contains("a valid config key"), "{e}");
    let sc = load(CONFIG).expect("loads");
    assert_eq!(sc.config_maps.len(), 1);
    assert!(!format!("{sc:?}").contains("info-level-value"));
    let w = world(&[&with_env(LOG_LEVEL), CONFIG]);
    let json = serde_json::to_string(&export::snapshot(&w)).unwrap();
    assert!(!json.contains("info-level-value"));
}
