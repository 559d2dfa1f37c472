//! Audit OOO-time: how kvchain judges time — events older than the latest success signal,
//! tenants, nodes and the synced Secret's life — against FACTS §1, §3, §4, §11 and the
//! README's sections on events, rotation and the synced Secret. The lab scenarios live in
//! tests/fixtures/lab/ooo-time-*.yaml (written from docs/scenarios.md's format); their vault
//! values are canaries that no output may show.

use serde_json::{Value, json};

use super::live_history::{DENIED, access_link, rotation_event};
use super::mmm_lab::{link, report_after};
use crate::live_support::*;

/// A core/v1 Event as some writers leave it: `firstTimestamp` and no `lastTimestamp`, no
/// `eventTime`, no `series`, and `count` 1 (or unset). Kubernetes' Event API: `count` is "the
/// number of times this event has occurred" and `lastTimestamp` "the time at which the most
/// recent occurrence of this event was recorded" — one occurrence is its own most recent one,
/// so it happened at `firstTimestamp`. FACTS §11: a rotation failure older than a later
/// `SecretRotationComplete` describes a past state; it is history, not a finding.
#[tokio::test]
async fn a_once_seen_event_without_last_timestamp_ages_by_its_first_timestamp() {
    let api = world();
    let mut failed = rotation_event("MountRotationFailed", "Warning", DENIED, 600);
    let e = failed.as_object_mut().unwrap();
    e.remove("lastTimestamp");
    e.insert("count".into(), json!(1));
    api.add(EVENTS, failed);
    api.add(
        EVENTS,
        rotation_event(
            "SecretRotationComplete",
            "Normal",
            "successfully rotated K8s secret foosecret",
            5,
        ),
    );
    let access = access_link(&api).await;
    assert!(access.findings.is_empty(), "{access:#?}");
    assert!(
        access
            .facts
            .iter()
            .any(|f| f.label == "history (KVC501, KVC502 or KVC503)"),
        "{access:#?}"
    );
}

/// FACTS §11 "Nodes": presence is per node, not per cluster, and a node without the provider
/// fails every mount (README, KVC104: "driver not registered on the node / provider
/// unavailable"). The pod's node is one the DaemonSets admit (Linux, no taint), the driver's
/// pod there is ready and the Azure provider's is not: the pod mounted before, so what fails is
/// rotation and every new mount on the node — KVC104 as a warning naming the provider pod,
/// its mount error and how to see why, never silence. With both pods ready the link is
/// healthy.
#[tokio::test]
async fn a_provider_pod_not_ready_on_an_admitted_node_is_named() {
    use super::live_driver_pods::{api_with_driver, daemon_pod};
    use super::live_nodes::node;
    use kvchain::chain::{Code, Severity, diagnose};
    let node_name = "aks-nodepool1-12345678-vmss000000";
    let api = api_with_driver();
    api.add("/api/v1/nodes", node(node_name, "linux"));
    let snap = snapshot_of(&api).await;
    let chains = diagnose(&snap);
    let c = chains
        .iter()
        .find(|c| c.pod == POD)
        .expect("the pod's chain");
    let f = c
        .findings()
        .find(|f| f.code == Code::KVC104)
        .unwrap_or_else(|| panic!("no KVC104: {:#?}", c.links));
    assert_eq!(f.severity, Severity::Warning, "{f:#?}");
    assert_eq!(f.resource, format!("Node/{node_name}"), "{f:#?}");
    let pod = "kube-system/aks-secrets-store-provider-azure-m4q9z";
    assert!(
        f.message.contains(&format!("pod {pod} is not ready"))
            && f.message.contains("provider not found")
            && !f.message.contains("taint"),
        "{f:#?}"
    );
    assert!(f.message.contains("what fails is rotation"), "{f:#?}");
    assert!(!f.fix.contains("taint") && f.fix.contains(pod), "{f:#?}");
    // As pasted: kubectl takes the pod's name with -n, never `kube-system/<name>` after a type.
    assert_eq!(
        f.confirm, "kubectl describe pod -n kube-system aks-secrets-store-provider-azure-m4q9z",
        "{f:#?}"
    );

    // Ready again: nothing to say about the node.
    let api = api_with_driver();
    api.add("/api/v1/nodes", node(node_name, "linux"));
    api.replace_silently(
        "/api/v1/pods",
        vec![
            pod_json(),
            daemon_pod("aks-secrets-store-csi-driver", "x7k2p", "True"),
            daemon_pod("aks-secrets-store-provider-azure", "m4q9z", "True"),
        ],
    );
    let snap = snapshot_of(&api).await;
    let chains = diagnose(&snap);
    let c = chains
        .iter()
        .find(|c| c.pod == POD)
        .expect("the pod's chain");
    assert!(
        c.findings().all(|f| f.code != Code::KVC104),
        "{:#?}",
        c.links
    );
}

/// The world's pod, as `world()` serves it.
fn pod_json() -> serde_json::Value {
    pod("azure-sync", "Running")
}

// ---------------------------------------------------------------- lab scenarios

/// Every value planted in the ooo-time scenarios starts so: no output may show one.
const CANARY: &str = "CANARY-ooo";

fn lab(name: &str, at: &str) -> Value {
    report_after(name, &["--for", at], CANARY)
}

fn findings<'a>(r: &'a Value, code: &'a str) -> impl Iterator<Item = &'a Value> {
    (r["findings"].as_array().unwrap().iter()).filter(move |f| f["code"] == code)
}

fn the_chain<'a>(r: &'a Value, pod_prefix: &str) -> &'a Value {
    (r["chains"].as_array().unwrap().iter())
        .find(|c| {
            c["id"]
                .as_str()
                .unwrap()
                .starts_with(&format!("demo/{pod_prefix}"))
        })
        .unwrap_or_else(|| panic!("no chain of {pod_prefix}: {r}"))
}

fn has_history(l: &Value, label: &str) -> bool {
    (l["facts"].as_array().into_iter().flatten()).any(|f| f["label"] == label)
}

/// FACTS §11 "Evidence ages", §3: while the role is missing the 403 is the cause (KVC501,
/// whose fix grants the role); half an hour after it was granted and the kubelet's retry mounted
/// the volume, the FailedMount still in the event list describes the past: a history fact
/// on the Access link, no finding, every link of the chain healthy but rotation's own.
#[test]
fn a_403_from_before_the_grant_is_history_once_the_volume_mounted() {
    let r = lab("ooo-time-403-repaired.yaml", "5m");
    let f = findings(&r, "KVC501")
        .next()
        .unwrap_or_else(|| panic!("{r}"));
    assert!(
        f["fix"]
            .as_str()
            .unwrap()
            .starts_with("az role assignment create")
            && f["fix"]
                .as_str()
                .unwrap()
                .contains("\"Key Vault Secrets User\""),
        "{f}"
    );
    let r = lab("ooo-time-403-repaired.yaml", "40m");
    assert_eq!(findings(&r, "KVC501").count(), 0, "{r}");
    let c = the_chain(&r, "api-");
    let access = link(c, "access");
    assert_eq!(access["status"], "ok", "{access}");
    assert!(
        has_history(access, "history (KVC501, KVC502 or KVC503)"),
        "{access}"
    );
    for l in c["links"].as_array().unwrap() {
        let healthy =
            l["status"] == "ok" || (l["link"] == "mount" && l["summary"] == "no rotation");
        assert!(healthy, "{l}");
    }
}

/// docs/scenarios.md's worked example (FACTS §11): rotation every 2m, the role removed at
/// 1m and given back at 3m, no secretObjects (no success event): failed at 2m, succeeds at
/// 4m. The role given back is a new assignment (ARM's `createdOn` 3m) that the 2m 403
/// predates: it was refused for want of a grant that exists now, so it is history from then
/// on, not "failed, now looks right" until two polls passed (audit WWW-rules). Before the
/// grant it is the current cause, and its fix creates the role.
#[test]
fn a_repaired_rotation_failure_is_history_two_polls_after_it() {
    let r = lab("ooo-time-rotation-repaired.yaml", "2m30s");
    let f = findings(&r, "KVC501")
        .next()
        .unwrap_or_else(|| panic!("{r}"));
    let fix = f["fix"].as_str().unwrap();
    assert!(fix.starts_with("az role assignment create"), "{fix}");
    for at in ["5m30s", "6m"] {
        let r = lab("ooo-time-rotation-repaired.yaml", at);
        assert!(r["findings"].as_array().unwrap().is_empty(), "{at}: {r}");
        let access = link(the_chain(&r, "api-"), "access");
        assert!(
            has_history(access, "history (KVC501, KVC502 or KVC503)"),
            "{at}: {access}"
        );
        // At 6m it is two polls old too, which is said first.
        assert!(
            at == "6m" || access.to_string().contains("predates the grant"),
            "{at}: {access}"
        );
    }
}

/// FACTS §5: `tenantID` wins over the deprecated `tenantId`; §11: a token asked of a tenant
/// the identity does not live in is AADSTS700016, and the SPC's tenant is what is wrong. The
/// fix edits the key the provider reads (tenantID), to the identity's home tenant.
#[test]
fn with_both_tenant_spellings_the_fix_edits_the_one_the_provider_reads() {
    let r = lab("ooo-time-tenant-spelling.yaml", "3m");
    let f = findings(&r, "KVC404")
        .next()
        .unwrap_or_else(|| panic!("{r}"));
    assert!(
        f["message"].as_str().unwrap().contains("AADSTS700016"),
        "{f}"
    );
    assert_eq!(
        f["fix"],
        "kubectl edit secretproviderclass api-kv -n demo  # parameters.tenantID: 5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b",
        "{f}"
    );
}

/// FACTS §11 "Nodes": the add-on's DaemonSets select Linux nodes and tolerate no taint, and
/// presence is per node. The Windows pod and the tainted node's pod are KVC104 each (the
/// Windows one pointed at the charts' Windows DaemonSets), the pod bound to a node that is
/// gone is KVC107, and the pod on the default Linux node stays healthy.
#[test]
fn pods_are_judged_on_their_own_node() {
    let r = lab("ooo-time-nodes.yaml", "30s");
    let on = |node: &str| {
        findings(&r, "KVC104")
            .find(|f| f["resource"] == format!("Node/{node}"))
            .unwrap_or_else(|| panic!("no KVC104 on {node}: {r}"))
    };
    assert!(
        on("akswin000000")["fix"]
            .as_str()
            .unwrap()
            .contains("windows.enabled=true")
    );
    assert!(
        on("aks-gpu-000000")["message"]
            .as_str()
            .unwrap()
            .contains("sku=gpu:NoSchedule")
    );
    let ghost = findings(&r, "KVC107")
        .next()
        .unwrap_or_else(|| panic!("{r}"));
    assert_eq!(ghost["resource"], "Pod/ghost", "{ghost}");
    assert_eq!(the_chain(&r, "api-")["status"], "ok", "{r}");
}

/// FACTS §2, §11 "Owners": a bare pod's synced Secret is owned by its
/// SecretProviderClassPodStatus, which goes with the pod: deleting the only mounting pod
/// garbage-collects the Secret, and its env reader names a Secret no pod makes (KVC904).
#[test]
fn the_only_mounting_pod_gone_takes_its_synced_secret_with_it() {
    let r = lab("ooo-time-owner-gone.yaml", "2m");
    assert_eq!(findings(&r, "KVC904").count(), 0, "{r}");
    let r = lab("ooo-time-owner-gone.yaml", "4m");
    let f = findings(&r, "KVC904")
        .next()
        .unwrap_or_else(|| panic!("{r}"));
    assert_eq!(f["resource"], "Deployment/reader", "{f}");
}

/// FACTS §2 (requeued every 5 min), §3, §11: the synced Secret deleted under a running env
/// reader is a warning with nothing to delete while the driver has not made it again; once
/// it has, the rotation poll's failed patch between is history and nothing is left to say
/// about the Sync link.
#[test]
fn a_deleted_synced_secret_is_waited_for_then_its_failed_patch_is_history() {
    let r = lab("ooo-time-secret-deleted.yaml", "4m30s");
    let f = findings(&r, "KVC806")
        .next()
        .unwrap_or_else(|| panic!("{r}"));
    assert_eq!(f["severity"], "warning", "{f}");
    assert!(
        f["fix"]
            .as_str()
            .unwrap()
            .starts_with("# nothing to delete"),
        "{f}"
    );
    let r = lab("ooo-time-secret-deleted.yaml", "9m");
    assert_eq!(findings(&r, "KVC806").count(), 0, "{r}");
    let sync = link(the_chain(&r, "api-"), "sync");
    assert_eq!(sync["status"], "ok", "{sync}");
    assert!(has_history(sync, "history (KVC806)"), "{sync}");
}

/// FACTS §4: env from a synced Secret is a start-time snapshot, a Secret volume follows the
/// Secret. After the poll that rotated the Secret, the envFrom reader holds the old value
/// (KVC901, its restart the fix) and the volume reader has no KVC901.
#[test]
fn after_rotation_envfrom_is_stale_and_a_secret_volume_is_not() {
    let r = lab("ooo-time-env-volume.yaml", "6m");
    let stale: Vec<&Value> = findings(&r, "KVC901").collect();
    assert_eq!(stale.len(), 1, "{r}");
    assert!(
        stale[0]["resource"]
            .as_str()
            .unwrap()
            .starts_with("Pod/reader-"),
        "{r}"
    );
    assert_eq!(stale[0]["severity"], "error", "{r}");
    assert_eq!(
        stale[0]["fix"],
        "kubectl rollout restart deployment/reader -n demo"
    );
}

/// FACTS §11 "Nodes": presence is per node. The lab's second node runs the add-on's
/// DaemonSets but its Azure provider pod is not ready: the pod bound there never mounts, and
/// its KVC104 names that pod (with the FailedMount as its evidence, one finding), while the
/// Deployment's pod on the first node stays healthy.
#[test]
fn a_pod_on_a_node_whose_provider_is_not_ready_never_mounts_and_is_told_why() {
    let r = lab("ooo-time-provider-not-ready.yaml", "5m");
    let node = "aks-nodepool1-12345678-vmss000001";
    let on: Vec<&Value> = findings(&r, "KVC104").collect();
    assert_eq!(on.len(), 1, "{r}");
    let f = on[0];
    assert_eq!(f["resource"], format!("Node/{node}"), "{f}");
    assert_eq!(f["severity"], "error", "{f}");
    assert!(
        f["message"].as_str().unwrap().contains(
            "provider pod kube-system/aks-secrets-store-provider-azure-n0001 is not ready"
        ),
        "{f}"
    );
    let evidence = f["evidence"].to_string();
    assert!(evidence.contains("error connecting to provider"), "{f}");
    assert_eq!(
        f["confirm"],
        "kubectl describe pod -n kube-system aks-secrets-store-provider-azure-n0001"
    );
    assert_eq!(the_chain(&r, "api-")["status"], "ok", "{r}");
}

/// docs/scenarios.md: every error names the file, the document and the field path. A
/// provider pod not ready is one its DaemonSet placed, so the node must be one of the lab's
/// where the add-on runs.
#[test]
fn provider_not_ready_on_a_node_the_lab_does_not_have_is_refused() {
    let text = std::fs::read_to_string(super::mmm_lab::fixture("ooo-time-provider-not-ready.yaml"))
        .unwrap()
        .replace(
            "providerNotReadyOn: [aks-nodepool1-12345678-vmss000001]",
            "providerNotReadyOn: [aks-nodepool9-gone]",
        );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scenario.yaml");
    std::fs::write(&path, text).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "--lab"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "document 1: Cluster: spec.csiDriver.providerNotReadyOn: \"aks-nodepool9-gone\""
        ),
        "{stderr}"
    );
    assert!(!stderr.contains(CANARY), "{stderr}");
}

/// FACTS §2: the driver's SecretProviderClassPodStatus controller creates a missing synced
/// Secret at every reconcile, requeued every 5 minutes; KVC806's own fix for a value the API
/// server refuses is to fix it in the vault, after which "the next rotation poll mounts it and
/// the driver creates the Secret at its next reconcile". Done so (at 3m, rotation every 2m),
/// the Secret exists by the 10-minute requeue at the latest, and the FailedToCreateSecret and
/// the rotation's failed patches before it are history (FACTS §11).
#[test]
fn a_synced_secret_refused_until_its_vault_value_was_fixed_is_created_at_the_requeue() {
    let r = lab("ooo-time-docker-fixed.yaml", "2m");
    let f = findings(&r, "KVC806")
        .next()
        .unwrap_or_else(|| panic!("{r}"));
    assert!(
        crate::xd_paste::after_guards(f["fix"].as_str().unwrap())
            .starts_with("az keyvault secret set"),
        "{f}"
    );
    let r = lab("ooo-time-docker-fixed.yaml", "11m");
    assert_eq!(findings(&r, "KVC806").count(), 0, "{r}");
    let sync = link(the_chain(&r, "api-"), "sync");
    assert_eq!(sync["status"], "ok", "{sync}");
    assert!(has_history(sync, "history (KVC806)"), "{sync}");
}
