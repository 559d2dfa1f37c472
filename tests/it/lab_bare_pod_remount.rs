//! Audit NN4: rotation off, a Deployment (`checkout`, two replicas) and a bare Pod (`tool`)
//! mount one SecretProviderClass and read its synced Secret through env, and the vault gets a
//! new version. FACTS §2: the driver builds the synced Secret from whichever mounted pod it
//! reconciles; FACTS §11: "The synced Secret is created, then only rotation updates it". So
//! the remount after the Secret is deleted must restart every pod that mounts the SPC or reads
//! the Secret in one fix, whichever pod's finding prints it: the bare pod's KVC703 fix restarted
//! only `tool`, leaving the Deployment's pods on the old file beside a Secret of the new value
//! (KVC805).

use std::path::Path;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kvchain::chain::{self, Chain, Code};
use kvchain::source::lab::scenario::LabAction;
use kvchain::source::lab::world::World;
use kvchain::source::lab::{self, export, scenario};

use crate::lab_nodes::{HEALTHY, SHOP};

pub(crate) const CLUSTER_ROTATION_OFF: &str =
    include_str!("../../assets/scenarios/cluster-rotation-off.yaml");

/// A pod nothing owns, mounting checkout-kv and reading checkout-db through env.
const TOOL: &str = "apiVersion: v1
kind: Pod
metadata:
  name: tool
  namespace: shop
  labels:
    azure.workload.identity/use: \"true\"
spec:
  serviceAccountName: checkout
  containers:
    - name: app
      image: mcr.microsoft.com/azurelinux/busybox:1.36
      command: [\"/bin/sh\", \"-c\", \"sleep infinity\"]
      env:
        - name: DB_PASSWORD
          valueFrom:
            secretKeyRef:
              name: checkout-db
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
          secretProviderClass: checkout-kv
";

pub(crate) const ROTATE: &str = "apiVersion: lab.kvchain.dev/v1
kind: Timeline
metadata:
  name: rotate
spec:
  events:
    - at: 1m
      rotateSecret: {vault: kv-shop-lab, name: checkout-db-password, value: checkout-pass-v9}
";

pub(crate) fn checkout_chains(w: &World) -> Vec<Chain> {
    chain::diagnose(&export::snapshot(w))
        .into_iter()
        .filter(|c| c.spc.as_str() == "checkout-kv")
        .collect()
}

pub(crate) fn fixes(chains: &[Chain], code: Code) -> Vec<(String, String)> {
    (chains.iter())
        .flat_map(|c| c.findings())
        .filter(|f| f.code == code)
        .map(|f| (f.resource.to_string(), f.fix.to_string()))
        .collect()
}

/// Carries out the fix as pasted: the commands the remount uses. A bare pod's `kubectl get pod
/// X -o yaml | kubectl replace --force -f -` deletes it and creates it again from its own spec
/// (replace --force waits for the delete).
pub(crate) fn paste(w: &mut World, fix: &str) {
    let shell = fix.split("  #").next().unwrap_or_default();
    for command in shell.split(" && ") {
        let words: Vec<&str> = command.split_whitespace().collect();
        match words.as_slice() {
            [
                "kubectl",
                "delete",
                "secret",
                names @ ..,
                "-n",
                ns,
                "--ignore-not-found",
            ] => {
                for name in names {
                    let _ = w.delete_secret(ns, name);
                }
            }
            ["kubectl", "delete", "pod", names @ .., "-n", ns] => {
                for name in names {
                    w.delete_pod(ns, name).expect("the pod named exists");
                }
            }
            ["kubectl", "rollout", "restart", target, "-n", ns] => {
                let (kind, name) = target.split_once('/').expect("kind/name");
                let kind = match kind {
                    "deployment" => "Deployment",
                    "statefulset" => "StatefulSet",
                    _ => panic!("{command}"),
                };
                w.perform(&LabAction::RolloutRestart {
                    namespace: ns.to_string(),
                    kind: kind.into(),
                    name: name.to_string(),
                })
                .expect("the workload named exists");
            }
            [
                "kubectl",
                "get",
                "pod",
                name,
                "-n",
                ns,
                "-o",
                "yaml",
                "|",
                "kubectl",
                "replace",
                "--force",
                "-f",
                "-",
            ] => {
                let key = (ns.to_string(), name.to_string());
                let old = w.pods.get(&key).expect("the pod named exists");
                let pod = Pod {
                    metadata: ObjectMeta {
                        name: Some(name.to_string()),
                        namespace: Some(ns.to_string()),
                        labels: Some(
                            (old.labels.iter())
                                .map(|(k, v)| (k.to_string(), v.to_string()))
                                .collect(),
                        ),
                        ..Default::default()
                    },
                    spec: old.spec.as_deref().cloned(),
                    ..Default::default()
                };
                w.delete_pod(ns, name).expect("the pod named exists");
                for _ in 0..60 {
                    if !w.pods.contains_key(&key) {
                        break;
                    }
                    w.advance(Duration::from_secs(1));
                }
                w.create_pod(pod).expect("the pod is created again");
            }
            _ => panic!("a command this test cannot carry out: {command:?}"),
        }
    }
}

#[test]
fn the_bare_pods_remount_restarts_every_pod_of_the_spc_and_clears_the_stale_mounts() {
    let docs = [CLUSTER_ROTATION_OFF, SHOP, HEALTHY, TOOL, ROTATE].join("\n---\n");
    let sc = scenario::parse("nn4", Path::new("nn4.yaml"), &docs).expect("scenario loads");
    let mut w = World::new(sc);
    w.advance(Duration::from_secs(4 * 60));
    let chains = checkout_chains(&w);
    let stale = fixes(&chains, Code::KVC703);
    assert_eq!(stale.len(), 3, "{stale:#?}");
    // With rotation off KVC703 names the SecretProviderClass, whose pods' chains share it
    // (audit QQQ-rules): tool's is the one on its own chain.
    let tool = (chains.iter()).find(|c| c.pod.as_str() == "tool");
    let tool_fix = (tool.into_iter().flat_map(|c| c.findings()))
        .find(|f| f.code == Code::KVC703)
        .map(|f| f.fix.to_string())
        .expect("tool's KVC703");
    assert!(
        tool_fix.contains("kubectl rollout restart deployment/checkout -n shop")
            && tool_fix
                .contains("kubectl get pod tool -n shop -o yaml | kubectl replace --force -f -"),
        "{tool_fix}"
    );
    paste(&mut w, &tool_fix);
    w.run_until_stable(lab::MAX_SETTLE);
    let after = checkout_chains(&w);
    for code in [Code::KVC703, Code::KVC805, Code::KVC901] {
        assert!(fixes(&after, code).is_empty(), "{code}: {after:#?}");
    }
}
