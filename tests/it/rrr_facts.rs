//! Audit RRR-facts: lab worlds that combine facts of FACTS §1–§4 and §11 (tenants, nodes, the
//! synced Secret's life, evidence in time) in ways earlier scenarios did not, each judged
//! against the documented behaviour. The worlds are tests/fixtures/lab/rrr_facts/*.yaml; their
//! vault values are canaries (`CANARY-rrr`) that no output may show.

use serde_json::Value;

use super::mmm_lab::{link, report};

const CANARY: &str = "CANARY-rrr";

/// The JSON report of world `name` (tests/fixtures/lab/rrr_facts/), its text and JSON checked
/// for the canary.
fn world(name: &str) -> Value {
    report(&format!("rrr_facts/{name}"), CANARY)
}

fn findings<'a>(r: &'a Value, code: &str) -> Vec<&'a Value> {
    (r["findings"].as_array().unwrap().iter())
        .filter(|f| f["code"] == code)
        .collect()
}

/// FACTS §6: the webhook mutates pods at CREATE only, so after the ServiceAccount gets its
/// client-id annotation every running labelled pod must be replaced to get AZURE_CLIENT_ID. A
/// StatefulSet under `updateStrategy: OnDelete` replaces only the pods that are deleted
/// (Kubernetes docs, "StatefulSet update strategies"): KVC203's fix deletes each of its pods,
/// web-0 and web-1, not the first alone (which left web-1 without the variable).
#[test]
fn the_client_id_fix_deletes_every_pod_of_an_on_delete_set() {
    let r = world("rrr-sa-no-client-id-ondelete.yaml");
    let kvc203 = findings(&r, "KVC203");
    assert_eq!(kvc203.len(), 1, "{r}");
    let fix = kvc203[0]["fix"].as_str().unwrap();
    let command = fix.split("  #").next().unwrap();
    assert!(
        command.contains("kubectl annotate serviceaccount api -n demo")
            && command.contains("web-0")
            && command.contains("web-1"),
        "{fix}"
    );
    // Nothing broken: the mount never needed the annotation (FACTS §5).
    assert_eq!(r["summary"]["errors"], 0, "{r}");
    for c in r["chains"].as_array().unwrap() {
        assert_eq!(link(c, "mount")["status"], "ok", "{c}");
    }
}

/// FACTS §1: the SPC pod status is created only after a successful mount; §2: the synced
/// Secret is written from it ("No mount ⇒ no Secret"). legacy-kv's pods never mount (403, no
/// role on kv-legacy), so only api-kv writes api-db: docs/codes.yaml KVC807, "while the others
/// are mounted by no pod the Secret has one writer, and the clash is a warning on each SPC no
/// pod mounts …, nothing on the one in use". The working chain's Sync link is not broken by a
/// clash that has not started, and the warning's fix renames legacy-kv's Secret, not api-kv's.
#[test]
fn a_second_writer_whose_mount_fails_writes_nothing_yet() {
    let r = world("rrr-two-spcs-one-failing.yaml");
    let chains = r["chains"].as_array().unwrap();
    let of = |spc: &str| {
        (chains.iter())
            .find(|c| c["spc"] == spc)
            .unwrap_or_else(|| panic!("{spc}: {r}"))
    };
    let api = of("api-kv");
    assert_eq!(link(api, "sync")["status"], "ok", "{api}");
    let kvc807 = findings(&r, "KVC807");
    assert_eq!(kvc807.len(), 1, "{kvc807:#?}");
    assert_eq!(kvc807[0]["severity"], "warning", "{:#}", kvc807[0]);
    let fix = kvc807[0]["fix"].as_str().unwrap();
    assert!(
        fix.starts_with("kubectl edit secretproviderclass legacy-kv -n demo"),
        "{fix}"
    );
    // The one error is legacy's missing grant, its root cause.
    let legacy = of("legacy-kv");
    assert_eq!(link(legacy, "access")["status"], "broken", "{legacy}");
    assert_eq!(r["summary"]["errors"], 1, "{r}");
}

/// FACTS §11 "Nodes": presence is per node, and a DaemonSet runs one pod per node. A DaemonSet
/// tolerating a spot taint has a pod on the default Linux node (driver there: mounted, synced,
/// healthy) and one on the tainted node, where the add-on's DaemonSets run no pod (KVC104). The
/// finding speaks of that node's pod, not of "the pods" of the set, the healthy pod's chain
/// is all ok, and the one error makes `check` exit 1 (README, `check`).
#[test]
fn a_daemon_set_pod_on_a_node_without_the_driver_is_its_own_finding() {
    let r = world("rrr-tainted-node.yaml");
    let kvc104 = findings(&r, "KVC104");
    assert_eq!(kvc104.len(), 1, "{r}");
    let message = kvc104[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("the pod of DaemonSet/agent is on node aks-spot-00000000-vmss000000"),
        "{message}"
    );
    let chains = r["chains"].as_array().unwrap();
    assert_eq!(chains.len(), 2, "{r}");
    let healthy: Vec<&Value> = (chains.iter())
        .filter(|c| (c["links"].as_array().unwrap().iter()).all(|l| l["status"] == "ok"))
        .collect();
    assert_eq!(healthy.len(), 1, "the default node's pod is healthy: {r}");
    assert_eq!(r["summary"]["errors"], 1, "{r}");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "--lab"])
        .arg(super::mmm_lab::fixture("rrr_facts/rrr-tainted-node.yaml"))
        .output()
        .unwrap()
        .status;
    assert_eq!(status.code(), Some(1));
}

/// FACTS §2, §11: the synced Secret is kept by its owners (the Job, the finished pod's owner)
/// and updated only by rotation of a mount; the rotation reconciler skips a pod that has
/// succeeded (docs/scenarios.md: a completed Job pod's volumes are torn down and skipped by
/// rotation). With the Job's pod finished, no pod mounts api-kv now: the Secret is frozen at
/// what the Job's mount wrote, and the vault's new version (12m) never reaches report's env.
/// KVC903 says so, as it does for a workload scaled to zero (codes.yaml KVC903), rather than
/// the general "kept current only while some pod mounts the SPC".
#[test]
fn a_secret_whose_mounting_pods_finished_is_said_frozen() {
    let r = world("rrr-job-done-rotated.yaml");
    let kvc903 = findings(&r, "KVC903");
    assert_eq!(kvc903.len(), 1, "{r}");
    let message = kvc903[0]["message"].as_str().unwrap();
    assert!(
        message.contains("no pod mounts it now") && message.contains("Job/seed"),
        "{message}"
    );
    assert!(message.contains("frozen"), "{message}");
    // The finished pod's chain is no failure: nothing is an error.
    assert_eq!(r["summary"]["errors"], 0, "{r}");
}
