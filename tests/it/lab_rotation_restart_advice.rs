//! The rotation timeline's "restart needed" says what `R` does on the stale pods, from the
//! very plan `R` carries out (audit VV2). README "Actions" `R`: OnDelete owners get the pod
//! deleted, and "a bare pod is deleted only after its name is typed, with a warning that
//! nothing recreates it". So for an OnDelete StatefulSet `R` replaces the one pod it is
//! pressed on (each other stale replica needs its own), and for a bare pod it replaces
//! nothing: the advice may not say "R restarts StatefulSet/…" or "R restarts Pod/…".

use std::path::Path;
use std::time::Duration;

use kvchain::action::timeline::{RotationWatch, StepState, Timeline};
use kvchain::chain::restart_plan::RestartPlan;
use kvchain::source::lab::world::World;
use kvchain::source::lab::{export, scenario};

use crate::lab_nodes::{CLUSTER, HEALTHY, SHOP};

const ENV_STALE: &str = include_str!("../../assets/scenarios/env-stale.yaml");
const DEPLOYMENT: &str =
    "kind: Deployment\nmetadata:\n  name: cart\n  namespace: shop\nspec:\n  replicas: 1\n";
const ON_DELETE: &str = "kind: StatefulSet\nmetadata:\n  name: cart\n  namespace: shop\nspec:\n  replicas: 2\n  serviceName: cart\n  updateStrategy:\n    type: OnDelete\n";

/// env-stale's cart as a bare pod: no owner.
const BARE: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: cart
  namespace: shop
  labels:
    app: cart
    azure.workload.identity/use: "true"
spec:
  serviceAccountName: cart
  containers:
    - name: app
      image: mcr.microsoft.com/azurelinux/busybox:1.36
      command: ["/bin/sh", "-c", "sleep infinity"]
      env:
        - name: REDIS_PASSWORD
          valueFrom:
            secretKeyRef:
              name: cart-redis
              key: password
      volumeMounts:
        - name: secrets-store
          mountPath: /mnt/secrets-store
          readOnly: true
  volumes:
    - name: secrets-store
      csi:
        driver: secrets-store.csi.k8s.io
        readOnly: true
        volumeAttributes:
          secretProviderClass: cart-kv
"#;

fn world(cart: &str) -> World {
    let docs = [CLUSTER, SHOP, HEALTHY, cart].join("\n---\n");
    let sc = scenario::parse("advice", Path::new("advice.yaml"), &docs).expect("parses");
    let mut w = World::new(sc);
    w.run_until_stable(Duration::from_secs(3600));
    w
}

/// A new value written, followed to the end: the env hop's reason.
fn env_verdict(w: &mut World) -> (String, Timeline) {
    let before = export::snapshot(w);
    let mut watch = RotationWatch::new(&before, "kv-shop-lab", "cart-redis-password")
        .starting_at(before.source.observed_at);
    w.rotate_secret("kv-shop-lab", "cart-redis-password", Some(b"cart-pass-9"))
        .unwrap();
    for _ in 0..90 {
        w.advance(Duration::from_secs(10));
        watch.observe(&export::snapshot(w));
        if watch.timeline().finished {
            break;
        }
    }
    let tl = watch.timeline();
    assert!(tl.finished, "{tl:#?}");
    let why = (tl.steps.iter())
        .filter(|s| s.label.contains("env REDIS_PASSWORD"))
        .find_map(|s| match &s.state {
            StepState::Never(why) => Some(why.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("the env is stale: {tl:#?}"));
    (why, tl)
}

#[test]
fn on_delete_the_advice_says_r_deletes_one_pod_and_each_stale_replica_needs_its_own() {
    let stateful = ENV_STALE.replacen(DEPLOYMENT, ON_DELETE, 1);
    assert!(stateful.contains("type: OnDelete"));
    let mut w = world(&stateful);
    let (why, _) = env_verdict(&mut w);
    // What R does on each of them: delete that pod (OnDelete replaces none at a rollout).
    let s = export::snapshot(&w);
    for pod in ["cart-0", "cart-1"] {
        let plan = RestartPlan::for_pod(&s, s.pod("shop", pod).expect("pod"));
        assert!(
            matches!(plan, RestartPlan::DeleteOwnedPod { .. }),
            "{plan:?}"
        );
    }
    assert!(!why.contains("R restarts StatefulSet"), "{why}");
    assert!(
        why.contains("R deletes only the pod it is pressed on")
            && why.contains("StatefulSet/cart makes a new one")
            && why.contains("cart-0, cart-1")
            && why.contains("each need their own R"),
        "{why}"
    );
}

#[test]
fn a_bare_pod_the_advice_says_r_deletes_it_and_nothing_recreates_it() {
    let start = ENV_STALE
        .find("apiVersion: apps/v1\nkind: Deployment")
        .unwrap();
    let end = ENV_STALE
        .find("---\napiVersion: lab.kvchain.dev/v1\nkind: Timeline")
        .unwrap();
    let bare = format!("{}{BARE}{}", &ENV_STALE[..start], &ENV_STALE[end..]);
    let mut w = world(&bare);
    let (why, _) = env_verdict(&mut w);
    let s = export::snapshot(&w);
    let plan = RestartPlan::for_pod(&s, s.pod("shop", "cart").expect("the bare pod"));
    assert!(
        matches!(plan, RestartPlan::DeleteBarePod { .. }),
        "{plan:?}"
    );
    assert!(!why.contains("R restarts Pod/"), "{why}");
    assert!(
        why.contains("R only deletes pod cart") && why.contains("nothing recreates it"),
        "{why}"
    );
    // The way that does restart it is the one the restart fix gives.
    let command = plan.command();
    let command = command.split("  #").next().unwrap();
    assert!(why.contains(command), "{why}");
}

/// A Deployment's rollout restart replaces every replica: the advice names it as before.
#[test]
fn a_deployment_the_advice_says_r_restarts_it() {
    let mut w = world(ENV_STALE);
    let (why, _) = env_verdict(&mut w);
    assert!(
        why.contains("restart needed (R restarts Deployment/cart)"),
        "{why}"
    );
}
