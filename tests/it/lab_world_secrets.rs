//! The lab world's secrets over time, on their own: rotation of the mounted file, the SPC pod
//! status and the synced Secret (never env, never a subPath copy), rotation off, Reloader's
//! rollout, the synced Secret's owners and garbage collection, throttling, and which object
//! types can feed a TLS Secret. These assert what the simulated AKS does, independent of
//! diagnosis.

use std::time::Duration;

use kvchain::snapshot::ContainerStateObs;
use kvchain::source::lab::world::{Stage, World};
use kvchain::source::lab::{self, export};

use super::lab_world::{events, fp, minutes, pods, secret_fp, settled, world};

#[test]
fn rotation_updates_file_spcps_and_secret_within_one_poll_but_never_env() {
    let mut w = world("env-stale");
    w.advance(Duration::from_secs(59));
    let before = export::snapshot(&w);
    let old_version = before
        .spc_statuses
        .items
        .iter()
        .find(|x| x.spc_name == "cart-kv")
        .unwrap()
        .objects[0]
        .version
        .clone();
    // the timeline writes a new version at 1m; the next poll is at 2m
    w.advance(Duration::from_secs(62));
    let s = export::snapshot(&w);
    let vault_latest = s
        .azure
        .objects
        .iter()
        .find(|o| o.name == "cart-redis-password")
        .and_then(|o| o.state.known().cloned().flatten())
        .unwrap();
    let st = s
        .spc_statuses
        .items
        .iter()
        .find(|x| x.spc_name == "cart-kv")
        .unwrap();
    assert_ne!(st.objects[0].version, old_version);
    assert_eq!(st.objects[0].version, vault_latest.versions[0].version);
    assert_eq!(
        st.files.as_ref().unwrap().get("redis-password"),
        Some(&fp("cart-pass-2"))
    );
    assert_eq!(vault_latest.latest_fingerprint, Some(fp("cart-pass-2")));
    assert_eq!(
        secret_fp(&s, "cart-redis", "password"),
        Some(fp("cart-pass-2"))
    );
    let secret = s
        .secrets
        .items
        .iter()
        .find(|x| x.name == "cart-redis")
        .unwrap();
    let started = match &s
        .pods
        .items
        .iter()
        .find(|p| p.name.starts_with("cart-"))
        .unwrap()
        .containers[0]
        .state
    {
        ContainerStateObs::Running { started_at } => *started_at,
        other => panic!("{other:?}"),
    };
    assert!(
        secret.updated_at.unwrap() > started,
        "Secret written after the container started"
    );
    let cart = pods(&w, "cart")[0];
    assert_eq!(
        cart.env.get("app", "REDIS_PASSWORD").copied().unwrap(),
        fp("cart-pass-1"),
        "env is a start-time snapshot"
    );
    assert!(!events(&s, "cart", "MountRotationComplete").is_empty());
    let verify = w.verify("shop", cart.name(), "app").unwrap();
    assert!(verify.contains("env REDIS_PASSWORD: stale"), "{verify}");
    assert!(
        verify.contains("file redis-password: matches the vault's latest version"),
        "{verify}"
    );

    // restart: a new ReplicaSet, new pod, fresh env; the Secret now has both ReplicaSets as owners
    let name = cart.name().to_string();
    w.restart_pod("shop", &name).unwrap();
    w.run_until_stable(minutes(30));
    let now = pods(&w, "cart");
    assert_eq!(now.len(), 1);
    assert_ne!(now[0].name(), name);
    assert_eq!(
        now[0].env.get("app", "REDIS_PASSWORD").copied().unwrap(),
        fp("cart-pass-2")
    );
    let s = export::snapshot(&w);
    let secret = s
        .secrets
        .items
        .iter()
        .find(|x| x.name == "cart-redis")
        .unwrap();
    assert_eq!(secret.owners.len(), 2, "owners accumulate across rollouts");
    assert!(s.pods.items.iter().all(|p| p.name != name), "old pod gone");
}

#[test]
fn subpath_mount_never_sees_rotated_content() {
    let mut w = settled("subpath");
    w.rotate_secret("kv-shop-lab", "billing-api-key", Some(b"billing-key-2"))
        .unwrap();
    w.advance(minutes(3));
    let p = pods(&w, "billing")[0];
    let s = export::snapshot(&w);
    let st = s
        .spc_statuses
        .items
        .iter()
        .find(|x| x.pod_name == p.name())
        .unwrap();
    assert_eq!(
        st.files.as_ref().unwrap().get("billing-api-key"),
        Some(&fp("billing-key-2"))
    );
    assert_eq!(
        p.subpath_files
            .get("app", "/etc/billing/api-key")
            .copied()
            .unwrap(),
        fp("billing-key-1")
    );
    let v = w.verify("shop", p.name(), "app").unwrap();
    assert!(v.contains("subPath /etc/billing/api-key: stale"), "{v}");
}

#[test]
fn rotation_disabled_leaves_the_old_version_mounted() {
    let mut w = world("rotation-disabled");
    w.advance(minutes(10));
    let s = export::snapshot(&w);
    assert!(
        !s.cluster
            .csi_driver
            .known()
            .unwrap()
            .rotation_enabled
            .known()
            .unwrap()
    );
    let latest = s
        .azure
        .objects
        .iter()
        .find(|o| o.name == "checkout-db-password")
        .unwrap();
    let latest = latest.state.known().cloned().flatten().unwrap().versions[0]
        .version
        .clone();
    for st in s
        .spc_statuses
        .items
        .iter()
        .filter(|x| x.spc_name == "checkout-kv")
    {
        assert_ne!(st.objects[0].version, latest);
    }
    assert!(events(&s, "checkout", "MountRotationComplete").is_empty());
}

#[test]
fn reloader_rolls_out_the_annotated_consumer_when_its_secret_changes() {
    let mut w = settled("healthy");
    let before: Vec<String> = pods(&w, "checkout")
        .iter()
        .map(|p| p.name().to_string())
        .collect();
    w.rotate_secret(
        "kv-shop-lab",
        "checkout-db-password",
        Some(b"checkout-pass-v3"),
    )
    .unwrap();
    w.run_until_stable(minutes(30));
    let after = pods(&w, "checkout");
    assert_eq!(after.len(), 2);
    for p in after {
        assert!(!before.contains(&p.name().to_string()));
        assert_eq!(
            p.env.get("app", "DB_PASSWORD").copied().unwrap(),
            fp("checkout-pass-v3")
        );
    }
}

#[test]
fn synced_secret_is_collected_when_all_owners_are_gone_not_before() {
    let mut w = settled("healthy");
    // scaling pods away is not enough: the ReplicaSet still owns the Secret
    let names: Vec<String> = pods(&w, "checkout")
        .iter()
        .map(|p| p.name().to_string())
        .collect();
    for n in &names {
        w.delete_pod("shop", n).unwrap();
    }
    w.advance(minutes(1));
    assert!(
        w.secrets
            .contains_key(&("shop".into(), "checkout-db".into()))
    );
    w.delete_workload("Deployment", "shop", "checkout").unwrap();
    w.advance(minutes(1));
    assert!(
        !w.secrets
            .contains_key(&("shop".into(), "checkout-db".into()))
    );
    assert!(w.spcps.is_empty(), "SPCPS go with their pods");
    assert!(w.replica_sets.is_empty());
}

#[test]
fn bare_pod_secret_is_owned_by_the_spcps_and_goes_with_the_pod() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/scenarios/healthy.yaml"
    ))
    .unwrap();
    // turn the Deployment into a bare pod
    let pod_yaml = bare_pod_from(&text);
    let full = [
        include_str!("../../assets/scenarios/cluster.yaml"),
        include_str!("../../assets/scenarios/shop.yaml"),
        &pod_yaml,
    ]
    .join("\n---\n");
    let sc = lab::scenario::parse("bare", std::path::Path::new("bare.yaml"), &full).unwrap();
    let mut w = World::new(sc);
    w.run_until_stable(minutes(10));
    let s = export::snapshot(&w);
    let secret = s
        .secrets
        .items
        .iter()
        .find(|x| x.name == "checkout-db")
        .unwrap();
    assert_eq!(secret.owners[0].kind, "SecretProviderClassPodStatus");
    assert_eq!(secret.owners[0].name, "checkout-shop-checkout-kv");
    let out = w.restart_pod("shop", "checkout").unwrap();
    assert!(out.contains("bare pod"), "{out}");
    w.advance(minutes(1));
    assert!(w.pods.is_empty());
    assert!(w.secrets.is_empty(), "GC'd with the SPCPS");
}

/// The healthy fragment with its Deployment replaced by an equivalent bare Pod.
fn bare_pod_from(healthy: &str) -> String {
    let docs: Vec<&str> = healthy.split("\n---\n").collect();
    let mut out: Vec<String> = docs[..docs.len() - 1]
        .iter()
        .map(|d| d.to_string())
        .collect();
    out.push(
        r#"apiVersion: v1
kind: Pod
metadata:
  name: checkout
  namespace: shop
  labels:
    azure.workload.identity/use: "true"
spec:
  serviceAccountName: checkout
  containers:
    - name: app
      image: busybox
      env:
        - name: DB_PASSWORD
          valueFrom:
            secretKeyRef: {name: checkout-db, key: password}
      volumeMounts:
        - {name: secrets-store, mountPath: /mnt/secrets-store, readOnly: true}
  volumes:
    - name: secrets-store
      csi:
        driver: secrets-store.csi.k8s.io
        readOnly: true
        volumeAttributes: {secretProviderClass: checkout-kv}
"#
        .into(),
    );
    out.join("\n---\n")
}

#[test]
fn throttled_vault_answers_429_at_mount_and_on_rotation() {
    let w = settled("throttling");
    let s = export::snapshot(&w);
    let mount_429 = events(&s, "reports", "FailedMount").iter().any(|e| {
        e.message.contains("RESPONSE 429: 429 Too Many Requests")
            && e.message.contains("ERROR CODE: Throttled")
    });
    let rotation_429 = events(&s, "reports", "MountRotationFailed")
        .iter()
        .any(|e| {
            e.message.starts_with("provider mount err: rpc error:")
                && e.message.contains("RESPONSE 429")
        });
    assert!(mount_429 && rotation_429);
    // all replicas got through eventually
    assert!(
        pods(&w, "reports")
            .iter()
            .all(|p| p.stage == Stage::Running)
    );
}

#[test]
fn cert_object_cannot_feed_a_tls_secret_but_secret_object_can() {
    let w = settled("default");
    let s = export::snapshot(&w);
    assert!(s.secrets.items.iter().all(|x| x.name != "gateway-tls"));
    assert!(
        events(&s, "gateway", "FailedToCreateSecret")[0]
            .message
            .contains("failed to get cert data from file gateway-tls, err: pkcs12: ")
    );
    let edge = s
        .secrets
        .items
        .iter()
        .find(|x| x.name == "edge-tls")
        .unwrap();
    assert_eq!(edge.type_, "kubernetes.io/tls");
    assert_eq!(edge.data.keys().collect::<Vec<_>>(), ["tls.crt", "tls.key"]);
}
