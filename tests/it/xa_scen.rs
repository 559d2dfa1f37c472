//! Audit XA-scen: lab worlds written from FACTS §11 (tenants, nodes, the synced Secret's life,
//! evidence in time) and docs/scenarios.md before kvchain was run on them, each with its
//! expected verdict in the header comment of its fixture (tests/fixtures/lab/xa-scen-*.yaml).
//! Where the expectation was wrong the world stays as a regression test of the documented
//! behaviour. Their vault values are canaries (`CANARY-xas`) that no output may show.

use serde_json::Value;

use super::mmm_lab::{link, report_after};
use super::www_scen::findings;

const CANARY: &str = "CANARY-xas";

/// The tenant the identity id-api and (unless said) the vault live in.
const TENANT_A: &str = "5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b";

fn world_after(name: &str, extra: &[&str]) -> Value {
    report_after(&format!("xa-scen-{name}.yaml"), extra, CANARY)
}

fn world(name: &str) -> Value {
    world_after(name, &[])
}

/// FACTS §6: the webhook injects AZURE_TENANT_ID from the service account's
/// `azure.workload.identity/tenant-id`; FACTS §11 'Tenants': a managed identity exists only in
/// its home tenant (AADSTS700016 elsewhere). KVC205's fix takes the app's only container out of
/// `skip-containers`, so from then on it gets the annotation's tenant B: pasted alone the app's
/// token requests fail (KVC206 on the next run). The fix must set the annotation to the
/// identity's tenant as well.
#[test]
fn unskipping_the_app_also_corrects_the_tenant_it_will_be_given() {
    let r = world("skip-container-tenant");
    let kvc205 = findings(&r, "KVC205");
    assert_eq!(kvc205.len(), 1, "{r}");
    let fix = kvc205[0]["fix"].as_str().unwrap();
    let annotate = format!(
        "kubectl annotate serviceaccount api -n demo azure.workload.identity/tenant-id={TENANT_A} --overwrite"
    );
    let command = fix.split("  #").next().unwrap();
    assert!(command.contains(&annotate), "{fix}");
    assert!(
        command.contains("kubectl patch deployment/api -n demo"),
        "{fix}"
    );
    // The annotation comes first: the patched template's pods are admitted with it.
    assert!(
        command.find(&annotate).unwrap() < command.find("kubectl patch").unwrap(),
        "{fix}"
    );
    // The mount never needed the injection (FACTS §5): nothing broken.
    assert_eq!(r["summary"]["errors"], 0, "{r}");
    let chains = r["chains"].as_array().unwrap();
    assert_eq!(link(&chains[0], "mount")["status"], "ok", "{r}");
}

/// The same for the other fixes that have the webhook inject into the app's pods from now on:
/// KVC201 puts the label on the template (the webhook selects labelled pods at CREATE), KVC205
/// installs the webhook and recreates the pods (FACTS §6). Both would hand the new pods the
/// account's tenant B, so both set the identity's tenant A on the account first.
#[test]
fn labelling_or_recreating_for_the_webhook_corrects_the_tenant_first() {
    let annotate = format!(
        "kubectl annotate serviceaccount api -n demo azure.workload.identity/tenant-id={TENANT_A} --overwrite && "
    );
    for (name, code, then) in [
        (
            "label-missing-tenant",
            "KVC201",
            "kubectl patch deployment api -n demo",
        ),
        (
            "no-webhook-tenant",
            "KVC205",
            "az aks update -g rg-aks -n aks-xas",
        ),
    ] {
        let r = world(name);
        assert_eq!(codes(&r), [code], "{r}");
        let f = findings(&r, code)[0];
        let fix = f["fix"].as_str().unwrap();
        assert!(
            fix.starts_with(&format!("{annotate}{then}")),
            "{name}: {fix}"
        );
        assert!(
            f["message"].as_str().unwrap().contains(TENANT_A),
            "{name}: {f}"
        );
        assert_eq!(link(only_chain(&r), "mount")["status"], "ok", "{r}");
    }
}

/// Where the pods are mutated already (labelled, webhook installed), the wrong tenant is on
/// them now: KVC206 says so with its own annotation, beside KVC203's client-id annotation, and
/// the two fixes together leave the pods right (FACTS §6).
#[test]
fn a_missing_client_id_beside_a_wrong_tenant_is_two_causes_each_with_its_annotation() {
    let r = world("no-client-id-tenant");
    assert_eq!(codes(&r), ["KVC203", "KVC206"], "{r}");
    let kvc206 = findings(&r, "KVC206")[0]["fix"].as_str().unwrap();
    assert!(
        kvc206.starts_with(&format!(
            "kubectl annotate serviceaccount api -n demo azure.workload.identity/tenant-id={TENANT_A} --overwrite"
        )),
        "{kvc206}"
    );
    let kvc203 = findings(&r, "KVC203")[0]["fix"].as_str().unwrap();
    assert!(
        kvc203.starts_with("kubectl annotate serviceaccount api -n demo azure.workload.identity/client-id=0b9c5e1a-7d2f-4c3e-9a8b-1f2e3d4c5b6a"),
        "{kvc203}"
    );
    assert_eq!(r["summary"]["errors"], 0, "{r}");
}

/// The findings' codes, sorted, each once.
fn codes(r: &Value) -> Vec<String> {
    let mut c: Vec<String> = (r["findings"].as_array().unwrap().iter())
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect();
    c.sort();
    c.dedup();
    c
}

fn only_chain(r: &Value) -> &Value {
    let chains = r["chains"].as_array().unwrap();
    assert_eq!(chains.len(), 1, "{r}");
    &chains[0]
}

/// Every chain of `r` ok and nothing said.
fn healthy(r: &Value) {
    assert_eq!(codes(r), Vec::<String>::new(), "{r}");
    for c in r["chains"].as_array().unwrap() {
        assert_eq!(c["status"], "ok", "{c}");
    }
}

// ---- Tenants ----

/// FACTS §11 'Tenants': the SPC's tenantId names the vault's tenant B, the identity lives in
/// A. Setting A (KVC404's fix) would only move the failure to Key Vault's 401 AKV10032, as a
/// managed identity cannot reach a vault in another tenant: KVC406 is the one cause, the
/// expectation of a KVC404 beside it was wrong.
#[test]
fn the_vaults_tenant_in_the_spc_is_the_cross_tenant_vault_not_a_tenant_typo() {
    let r = world("spc-vault-tenant");
    assert_eq!(codes(&r), ["KVC406", "KVC802"], "{r}");
    let kvc406 = &findings(&r, "KVC406")[0];
    assert!(
        kvc406["message"].as_str().unwrap().contains("AKV10032"),
        "{kvc406}"
    );
    assert!(
        kvc406["fix"]
            .as_str()
            .unwrap()
            .contains("multi-tenant app registration")
    );
    assert_eq!(link(only_chain(&r), "federation")["status"], "broken");
}

/// FACTS §5, §6: the mount reads the SPC's tenantID; the account's tenant-id annotation is
/// what the webhook injects. A wrong annotation is the app's problem alone (KVC206, a warning),
/// fixed on the annotation with a restart; the SPC is not touched.
#[test]
fn a_wrong_tenant_annotation_warns_for_the_app_and_leaves_the_mount_alone() {
    let r = world("sa-tenant-annotation");
    assert_eq!(codes(&r), ["KVC206"], "{r}");
    let fix = findings(&r, "KVC206")[0]["fix"].as_str().unwrap();
    assert!(
        fix.starts_with(&format!(
            "kubectl annotate serviceaccount api -n demo azure.workload.identity/tenant-id={TENANT_A} --overwrite && kubectl rollout restart deployment/api -n demo"
        )),
        "{fix}"
    );
    assert_eq!(link(only_chain(&r), "mount")["status"], "ok");
    assert_eq!(r["summary"]["errors"], 0);
}

/// GUIDs compare in any case (tenant and client id); a container's own AZURE_TENANT_ID is never overwritten by the
/// webhook (FACTS §6); the provider trims every parameter (FACTS §5); an identity and vault in
/// another tenant than the cluster, named by the SPC and the annotation, work (FACTS §11).
#[test]
fn tenant_and_client_id_spellings_that_work_are_not_flagged() {
    for name in [
        "sa-tenant-capitals",
        "own-tenant-env",
        "spc-spaces",
        "identity-tenant-b-annotated",
        "sa-client-id-capitals",
    ] {
        healthy(&world(name));
    }
}

// ---- Federation: one field wrong (FACTS §7, §11 AADSTS70021) ----

#[test]
fn a_trailing_slash_on_the_audience_is_kvc403_updated_in_place() {
    let r = world("fic-audience-slash");
    assert_eq!(codes(&r), ["KVC403", "KVC802"], "{r}");
    let fix = findings(&r, "KVC403")[0]["fix"].as_str().unwrap();
    assert_eq!(
        fix,
        "az identity federated-credential update --name fic-api --identity-name id-api -g rg-id --audiences api://AzureADTokenExchange"
    );
}

#[test]
fn an_issuer_slash_missing_or_extra_is_kvc402_updated_to_the_clusters_exactly() {
    let r = world("fic-issuer-no-slash");
    assert_eq!(codes(&r), ["KVC402", "KVC802"], "{r}");
    let fix = findings(&r, "KVC402")[0]["fix"].as_str().unwrap();
    assert!(
        fix.starts_with("az identity federated-credential update --name fic-api ")
            && fix.ends_with("6d8f2a3b-4c5e-4f70-9b1c-2d3e4f5a6b7c/")
            && !fix.contains("fic-worker"),
        "{fix}"
    );
    let r = world("fic-issuer-extra-slash");
    assert_eq!(codes(&r), ["KVC402", "KVC802"], "{r}");
    let fix = findings(&r, "KVC402")[0]["fix"].as_str().unwrap();
    assert!(
        fix.ends_with("--issuer https://oidc.xas.example.com/issuer-7"),
        "{fix}"
    );
}

/// Two credentials, each one field off: one finding whose fix makes one credential match all
/// three, never a second credential of the same issuer and subject.
#[test]
fn two_half_right_credentials_get_one_fix() {
    let r = world("two-fics-half-right");
    assert_eq!(codes(&r), ["KVC402", "KVC802"], "{r}");
    let kvc402 = findings(&r, "KVC402");
    assert_eq!(kvc402.len(), 1, "{r}");
    let fix = kvc402[0]["fix"].as_str().unwrap();
    assert!(
        fix.starts_with("az identity federated-credential update "),
        "{fix}"
    );
    assert!(!fix.contains("federated-credential create"), "{fix}");
}

// ---- Nodes (FACTS §11 'Nodes': presence is per node) ----

#[test]
fn the_provider_missing_on_one_node_breaks_that_nodes_pod_alone() {
    let r = world("ds-provider-one-node");
    assert_eq!(codes(&r), ["KVC104"], "{r}");
    let chains = r["chains"].as_array().unwrap();
    assert_eq!(chains.len(), 2, "{r}");
    let ok = chains.iter().filter(|c| c["status"] == "ok").count();
    assert_eq!(ok, 1, "{r}");
    let kvc104 = findings(&r, "KVC104");
    assert_eq!(kvc104.len(), 1, "{r}");
    assert_eq!(
        kvc104[0]["resource"],
        "Node/aks-nodepool1-12345678-vmss000001"
    );
    let fix = kvc104[0]["fix"].as_str().unwrap();
    assert!(fix.contains("aks-secrets-store-provider-azure"), "{fix}");
    assert!(!fix.contains("enable-addons"), "{fix}");
    // The driver is there; its Azure provider is what is not ready: the strip says so.
    let broken = chains.iter().find(|c| c["status"] != "ok").unwrap();
    assert_eq!(broken["links"][0]["link"], "pod", "{broken}");
    assert_eq!(broken["links"][0]["summary"], "no provider", "{broken}");
}

/// A PreferNoSchedule taint is a preference, and the DaemonSet controller tolerates
/// node.kubernetes.io/unschedulable itself (Kubernetes docs): the driver runs on both nodes.
#[test]
fn soft_taints_and_cordons_keep_the_driver() {
    for name in ["soft-taint-node", "cordoned-node"] {
        let r = world(name);
        assert_eq!(r["chains"].as_array().unwrap().len(), 2, "{r}");
        healthy(&r);
    }
}

// ---- The synced Secret's life (FACTS §2, §4, §11) ----

/// Rotation off: an existing synced Secret is never rewritten, so after secretObjects changed
/// it lacks the new key; the fix deletes it and restarts (FACTS §4 known limitations).
#[test]
fn changed_secret_objects_with_rotation_off_need_the_secret_deleted() {
    let r = world("secretobjects-changed-off");
    assert_eq!(codes(&r), ["KVC702", "KVC805", "KVC905"], "{r}");
    let fix = findings(&r, "KVC805")[0]["fix"].as_str().unwrap();
    assert!(
        fix.starts_with(
            "kubectl delete secret api-db -n demo --ignore-not-found && kubectl rollout restart deployment/api -n demo"
        ),
        "{fix}"
    );
    let chain = only_chain(&r);
    assert_eq!(link(chain, "sync")["status"], "broken");
    assert_eq!(link(chain, "consumers")["summary"], "blocked: Sync");
}

/// Rotation on: the rotation reconciler patches the existing Secret with the new key.
#[test]
fn changed_secret_objects_with_rotation_on_heal_at_the_poll() {
    healthy(&world("secretobjects-changed-on"));
}

/// The driver's patch replaces the Secret's data (controller-runtime's merge patch is computed
/// from the whole old and new data, so a key no entry makes is removed): a reader of the old
/// key is held at its next start. The expectation that the old key stays was wrong.
#[test]
fn a_key_secret_objects_no_longer_make_is_gone_after_the_patch() {
    let r = world("leftover-key-reader");
    let kvc905 = findings(&r, "KVC905");
    assert_eq!(kvc905.len(), 1, "{r}");
    assert_eq!(kvc905[0]["severity"], "error");
    assert!(
        (kvc905[0]["fix"].as_str().unwrap())
            .contains("ask for a key Secret api-db has (password) instead of db-password")
    );
}

/// A Secret deleted by hand comes back: from the next mount, or the controller's requeue.
#[test]
fn a_deleted_synced_secret_is_made_again() {
    let r = world("deleted-secret-new-pod");
    assert_eq!(codes(&r), ["KVC702"], "{r}");
    let r = world("deleted-secret-volume-reader");
    assert_eq!(codes(&r), ["KVC702", "KVC903"], "{r}");
    assert_eq!(r["summary"]["errors"], 0, "{r}");
    // Made again with the same values: Reloader's reader holds them (an info at most).
    let r = world("deleted-secret-reloader");
    assert_eq!(r["summary"]["errors"], 0, "{r}");
    assert_eq!(r["summary"]["warnings"], 0, "{r}");
}

/// Rotation off: a Secret deleted after a new version is made again from the pod's mounted
/// (old) files; the mount lags the vault, and its fix is the restart with the Secret deleted.
#[test]
fn a_secret_deleted_after_a_new_version_comes_back_old() {
    let r = world("rotation-off-deleted-after-version");
    assert!(findings(&r, "KVC805").is_empty(), "{r}");
    let fix = findings(&r, "KVC703")[0]["fix"].as_str().unwrap();
    assert!(
        fix.starts_with(
            "kubectl delete secret api-db -n demo --ignore-not-found && kubectl rollout restart deployment/api -n demo"
        ),
        "{fix}"
    );
    assert_eq!(r["summary"]["errors"], 0, "{r}");
}

/// A Deployment at zero keeps its ReplicaSet and so its Secret (FACTS §11 'Owners').
#[test]
fn a_workload_at_zero_keeps_its_secret() {
    let r = world("scaled-zero-secret-kept");
    assert_eq!(codes(&r), ["KVC903"], "{r}");
    assert_eq!(findings(&r, "KVC903")[0]["severity"], "warning");
}

/// A namesake SPC in another namespace is not the pod's (the SPC must be in its namespace).
#[test]
fn a_namesake_spc_elsewhere_leaves_the_chain_healthy() {
    let r = world("spc-namesake-other-ns");
    let chain = only_chain(&r);
    assert_eq!(chain["status"], "ok", "{chain}");
    assert_eq!(chain["codes"].as_array().unwrap().len(), 0, "{chain}");
    assert_eq!(r["summary"]["errors"], 0, "{r}");
}

// ---- Network (FACTS §11 'Network') ----

#[test]
fn a_mistyped_vault_name_is_kvc506_not_a_grant() {
    let r = world("vault-name-typo");
    assert_eq!(codes(&r), ["KVC506", "KVC802"], "{r}");
    let fix = findings(&r, "KVC506")[0]["fix"].as_str().unwrap();
    assert!(
        fix.ends_with("parameters.keyvaultName: kv-xas-prod"),
        "{fix}"
    );
}

/// With public access disabled the firewall's rules are ignored: the fix is a private
/// endpoint, a network rule only once public access is back on.
#[test]
fn public_access_off_is_fixed_by_a_private_endpoint() {
    let r = world("public-access-off");
    assert_eq!(codes(&r), ["KVC505", "KVC802"], "{r}");
    let fix = findings(&r, "KVC505")[0]["fix"].as_str().unwrap();
    // A network rule is offered only after the comment, with public access turned back on.
    let (command, alternative) = fix.split_once("  #").unwrap();
    assert!(
        command.contains("az network private-endpoint create"),
        "{fix}"
    );
    assert!(!command.contains("network-rule add"), "{fix}");
    let on = alternative.find("--public-network-access Enabled").unwrap();
    assert!(alternative.find("network-rule add").unwrap() > on, "{fix}");
}

// ---- Evidence in time (FACTS §11 'Evidence ages', docs/scenarios.md) ----

fn access(r: &Value) -> String {
    link(only_chain(r), "access")["summary"]
        .as_str()
        .unwrap()
        .to_string()
}

/// No secretObjects, so no success event: the failure is history two polls after it.
#[test]
fn a_repaired_firewall_reads_healthy_two_polls_after_the_failure() {
    let name = "firewall-repaired-nosync";
    assert_eq!(
        access(&world_after(name, &["--for", "2m30s"])),
        "unreachable"
    );
    let r = world_after(name, &["--for", "4m30s"]);
    assert_eq!(access(&r), "failed, now looks right", "{r}");
    healthy(&world_after(name, &["--for", "6m30s"]));
    healthy(&world(name));
}

/// The two intervals are the cluster's poll interval (5m here), not a fixed 2m.
#[test]
fn the_history_window_follows_the_poll_interval() {
    let name = "long-poll-firewall";
    let r = world_after(name, &["--for", "14m"]);
    assert_eq!(access(&r), "failed, now looks right", "{r}");
    healthy(&world_after(name, &["--for", "16m"]));
}

/// With secretObjects the next successful poll leaves SecretRotationComplete: healthy within
/// one poll of the repair.
#[test]
fn a_repaired_disabled_object_reads_healthy_after_the_next_poll() {
    let name = "disabled-repaired";
    let r = world_after(name, &["--for", "2m30s"]);
    assert_eq!(codes(&r), ["KVC602"], "{r}");
    healthy(&world_after(name, &["--for", "4m30s"]));
}

/// A FailedMount before the kubelet's retry mounted is history; before it, the fault stood.
#[test]
fn a_repaired_tenant_fault_leaves_no_finding_once_mounted() {
    let name = "tenant-fault-repaired";
    assert_eq!(codes(&world_after(name, &["--for", "3m"])), ["KVC404"]);
    healthy(&world(name));
}

/// Rotation failures that keep coming are current: KVC404 with the SPC's fix, the mount's
/// files kept.
#[test]
fn a_tenant_broken_after_the_mount_is_current() {
    let r = world("tenant-after-mount");
    assert_eq!(codes(&r), ["KVC404"], "{r}");
    let fix = findings(&r, "KVC404")[0]["fix"].as_str().unwrap();
    assert_eq!(
        fix,
        format!(
            "kubectl edit secretproviderclass api-kv -n demo  # parameters.tenantId: {TENANT_A}"
        )
    );
    assert_eq!(link(only_chain(&r), "mount")["status"], "ok");
}

/// An old 403 (history) then a real rotation: only the stale env reader is said.
#[test]
fn an_old_failure_then_a_rotation_says_the_stale_reader_alone() {
    let r = world("old-failure-then-rotated");
    assert_eq!(codes(&r), ["KVC901", "KVC902"], "{r}");
    assert_eq!(link(only_chain(&r), "access")["status"], "ok");
}
