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
    // legacy's own pods read api-db through env: renamed in the SPC alone, they would go on
    // reading api-kv's Secret, so the fix points Deployment/legacy at the new name too and
    // does not say that no reader uses it.
    assert!(
        fix.contains("point Deployment/legacy at the new name: its pods read api-db now")
            && !fix.contains("no reader uses it"),
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
    assert_eq!(exit_code("rrr-tainted-node.yaml"), Some(1));
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

/// The exit status `check` gives world `name` (README, `check`: 0 nothing counted, 1 an error).
fn exit_code(name: &str) -> Option<i32> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "--lab"])
        .arg(super::mmm_lab::fixture(&format!("rrr_facts/{name}")))
        .output()
        .unwrap();
    out.status.code()
}

fn codes(r: &Value) -> Vec<&str> {
    (r["findings"].as_array().unwrap().iter())
        .map(|f| f["code"].as_str().unwrap())
        .collect()
}

/// FACTS §11 "Tenants", §6: the identity and the vault live in tenant B, the SPC asks the
/// cluster's tenant A (AADSTS700016): KVC404's fix sets the identity's tenant, never the
/// cluster's; the webhook, without a tenant-id annotation, injected A too (KVC206), whose fix
/// annotates the account with B.
#[test]
fn an_identity_in_another_tenant_than_the_cluster_is_asked_in_its_own() {
    let r = world("rrr-identity-home-tenant.yaml");
    let b = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
    let kvc404 = findings(&r, "KVC404");
    assert_eq!(kvc404.len(), 1, "{r}");
    assert!(
        kvc404[0]["fix"]
            .as_str()
            .unwrap()
            .ends_with(&format!("parameters.tenantId: {b}")),
        "{:#}",
        kvc404[0]
    );
    let kvc206 = findings(&r, "KVC206");
    assert_eq!(kvc206.len(), 1, "{r}");
    assert!(
        (kvc206[0]["fix"].as_str().unwrap())
            .contains(&format!("azure.workload.identity/tenant-id={b}")),
        "{:#}",
        kvc206[0]
    );
    assert_eq!(r["summary"]["errors"], 1, "one root cause: {r}");
    assert_eq!(exit_code("rrr-identity-home-tenant.yaml"), Some(1));
}

/// FACTS §2, §11 "Owners": the synced Secret's owners are the mounting pods' ReplicaSets and
/// it goes only with all of them. Deleting api leaves worker's, so report's Secret lives: no
/// KVC904, only the design warning KVC903, exit 0. Deleting the only mounting workload takes
/// the Secret: report's KVC904 is an error (its next start fails), exit 1.
#[test]
fn a_synced_secret_goes_only_with_its_last_owner() {
    let kept = world("rrr-owner-kept.yaml");
    assert_eq!(codes(&kept), ["KVC903"], "{kept}");
    assert_eq!(exit_code("rrr-owner-kept.yaml"), Some(0));
    let gone = world("rrr-owner-last-gone.yaml");
    let kvc904 = findings(&gone, "KVC904");
    assert_eq!(kvc904.len(), 1, "{gone}");
    assert_eq!(kvc904[0]["resource"], "Deployment/report", "{gone}");
    assert_eq!(exit_code("rrr-owner-last-gone.yaml"), Some(1));
}

/// FACTS §4: env is a start-time snapshot. The mounting workload reads only the file; the
/// stale env is report's, which does not mount: KVC901 names report's pod and restarts
/// report, never api.
#[test]
fn a_stale_env_copy_is_restarted_where_it_is_read() {
    let r = world("rrr-env-reader-elsewhere.yaml");
    let kvc901 = findings(&r, "KVC901");
    assert_eq!(kvc901.len(), 1, "{r}");
    let fix = kvc901[0]["fix"].as_str().unwrap();
    assert_eq!(fix, "kubectl rollout restart deployment/report -n demo");
}

/// FACTS §11 "Evidence ages": FailedMounts older than the mount are history. Here the role
/// came back at 4m (mounted), then became Crypto User at 10m: the current finding is the
/// rotation's 403 (KVC502), with a fix granting Secrets User (a role it does not hold), and
/// none of its evidence is a FailedMount from before the mount.
#[test]
fn a_rotation_failure_after_a_repaired_mount_is_the_current_cause() {
    let r = world("rrr-mount-then-rotation-403.yaml");
    assert_eq!(codes(&r), ["KVC502"], "{r}");
    let f = findings(&r, "KVC502")[0];
    assert!(
        (f["fix"].as_str().unwrap()).contains("--role \"Key Vault Secrets User\""),
        "{f:#}"
    );
    let evidence = f["evidence"].to_string();
    assert!(
        evidence.contains("MountRotationFailed") && !evidence.contains("FailedMount ("),
        "{evidence}"
    );
}

/// FACTS §1 (a same-named pod's status is updated), §11 "Evidence ages": web-0 deleted while
/// the role was missing comes back under the same name, fails, and mounts once the role is
/// back. Its old failures are history: healthy, exit 0. So is a credential repaired with
/// rotation off (the kubelet retries the mount; only rotation off, KVC702, is left).
#[test]
fn failures_before_a_mount_are_history_whoever_retried() {
    let r = world("rrr-statefulset-same-name.yaml");
    assert!(codes(&r).is_empty(), "{r}");
    assert_eq!(exit_code("rrr-statefulset-same-name.yaml"), Some(0));
    let r = world("rrr-fic-repaired-rotation-off.yaml");
    assert_eq!(codes(&r), ["KVC702"], "{r}");
    assert_eq!(exit_code("rrr-fic-repaired-rotation-off.yaml"), Some(0));
}

/// FACTS §11 "Sync needs RBAC": the SPC must be in the pod's namespace. demo's pod names
/// api-kv, which only shared has (and mounts): KVC101's fix copies it into demo, never moves
/// it (shared's chain stays healthy).
#[test]
fn an_spc_of_another_namespace_is_copied_not_moved() {
    let r = world("rrr-spc-other-namespace.yaml");
    let kvc101 = findings(&r, "KVC101");
    assert_eq!(kvc101.len(), 1, "{r}");
    let fix = kvc101[0]["fix"].as_str().unwrap();
    assert!(
        fix.contains("namespace: demo/") && fix.contains("| kubectl apply -f -"),
        "{fix}"
    );
    assert!(!fix.contains("kubectl delete"), "{fix}");
    let shared = (r["chains"].as_array().unwrap().iter())
        .find(|c| c["namespace"] == "shared")
        .unwrap();
    assert_eq!(shared["status"], "ok", "{shared}");
}

/// FACTS §7: the subject is system:serviceaccount:<ns>:<sa>, matched exactly. batch's api runs
/// as the identity whose only credential is demo's: KVC401's fix creates batch's credential
/// (demo's pods use the existing one, which it must not change).
#[test]
fn a_second_namespace_gets_its_own_credential() {
    let r = world("rrr-fic-one-namespace.yaml");
    let kvc401 = findings(&r, "KVC401");
    assert_eq!(kvc401.len(), 1, "{r}");
    let fix = kvc401[0]["fix"].as_str().unwrap();
    assert!(
        fix.starts_with("az identity federated-credential create ")
            && fix.contains("--subject system:serviceaccount:batch:api"),
        "{fix}"
    );
    assert!(!fix.contains("update"), "{fix}");
}

/// FACTS §5: objectVersionHistory > 1 lists the versions, which an access policy must grant.
/// `az keyvault set-policy --secret-permissions` sets the principal's list whole: the fix
/// keeps get beside list.
#[test]
fn a_history_listing_refused_by_a_policy_keeps_get_in_the_fix() {
    let r = world("rrr-policy-history-list.yaml");
    let kvc502 = findings(&r, "KVC502");
    assert_eq!(kvc502.len(), 1, "{r}");
    let fix = kvc502[0]["fix"].as_str().unwrap();
    assert!(fix.ends_with("--secret-permissions get list"), "{fix}");
}

/// README (`check`, a workload scaled to zero) and FACTS §2: no pod, no Secret. The reader's
/// KVC904 names the workload and its scale, and says the template's own break (KVC401) must
/// be fixed first.
#[test]
fn a_reader_of_a_parked_broken_workload_is_told_both() {
    let r = world("rrr-scaled-zero-broken-template.yaml");
    let kvc904 = findings(&r, "KVC904");
    assert_eq!(kvc904.len(), 1, "{r}");
    let fix = kvc904[0]["fix"].as_str().unwrap();
    assert!(
        fix.starts_with("kubectl scale deployment/api -n demo --replicas=1")
            && fix.contains("KVC401"),
        "{fix}"
    );
    assert!(codes(&r).contains(&"KVC401"), "{r}");
}

/// FACTS §11 "Network", §3: a firewall that starts denying after the mount fails every
/// rotation poll with 403 ForbiddenByFirewall; the mount keeps its files. The cause is the
/// vault's network (KVC505, current), not the mount.
#[test]
fn a_firewall_after_the_mount_is_a_current_access_cause() {
    let r = world("rrr-firewall-after-mount.yaml");
    assert_eq!(codes(&r), ["KVC505"], "{r}");
    let chain = &r["chains"][0];
    assert_eq!(link(chain, "mount")["status"], "ok", "{chain}");
    assert_eq!(link(chain, "access")["status"], "broken", "{chain}");
}

/// FACTS §7 (issuer matched exactly; issuer+subject unique per identity): a credential for
/// another cluster's issuer (another tenant's) is not edited — that cluster may use it — a
/// credential for this cluster's issuer is created.
#[test]
fn another_clusters_credential_is_left_and_one_created() {
    let r = world("rrr-fic-other-tenant-issuer.yaml");
    let kvc402 = findings(&r, "KVC402");
    assert_eq!(kvc402.len(), 1, "{r}");
    let fix = kvc402[0]["fix"].as_str().unwrap();
    let command = fix.split("  #").next().unwrap();
    assert!(
        command.starts_with("az identity federated-credential create ")
            && command.contains("--issuer https://westeurope.oic.prod-aks.azure.com/5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b/6d8f2a3b-4c5e-4f70-9b1c-2d3e4f5a6b7c/"),
        "{fix}"
    );
}

/// FACTS §5, §6: the CSI mount needs neither the pod label nor the annotation; a template
/// that lost the label rolls out pods that mount but get no AZURE_* variables: KVC201, a
/// warning (exit 0), whose fix puts the label back on the template (new pods are mutated).
/// And identity binding without its credential is KVC405, whose fix is the binding, not a
/// credential per service account (FACTS §5).
#[test]
fn label_and_binding_causes_name_what_the_mount_needs() {
    let r = world("rrr-label-removed-rollout.yaml");
    assert_eq!(codes(&r), ["KVC201"], "{r}");
    assert_eq!(exit_code("rrr-label-removed-rollout.yaml"), Some(0));
    let r = world("rrr-binding-without-credential.yaml");
    let kvc405 = findings(&r, "KVC405");
    assert_eq!(kvc405.len(), 1, "{r}");
    let fix = kvc405[0]["fix"].as_str().unwrap();
    assert!(fix.starts_with("az aks identity-binding create "), "{fix}");
}

/// FACTS §4: with rotation off an SPC edit reaches no running pod; a broken `objects` fails
/// every new mount (KVC705, an error: the next restart loses the pod). And rotation
/// failures followed by rotation turned off and the role restored are history (README:
/// nothing retries them, the link's checks pass): KVC702 alone, exit 0.
#[test]
fn rotation_off_keeps_running_mounts_and_ends_old_failures() {
    let r = world("rrr-spc-broken-rotation-off.yaml");
    assert!(codes(&r).contains(&"KVC705"), "{r}");
    assert_eq!(exit_code("rrr-spc-broken-rotation-off.yaml"), Some(1));
    let r = world("rrr-rotation-off-after-failures.yaml");
    assert_eq!(codes(&r), ["KVC702"], "{r}");
    assert_eq!(exit_code("rrr-rotation-off-after-failures.yaml"), Some(0));
}

/// FACTS §10 (Reloader's env-vars strategy changes the pod template) and the Kubernetes docs
/// (OnDelete replaces only deleted pods): an annotated StatefulSet under OnDelete is not
/// restarted by Reloader. After a rotation each pod's env is stale (KVC901, each pod deleted
/// in its fix) and KVC902 says why the annotation does nothing, deleting both pods.
#[test]
fn reloader_restarts_no_pod_of_an_on_delete_set() {
    let r = world("rrr-reloader-ondelete.yaml");
    assert_eq!(findings(&r, "KVC901").len(), 2, "{r}");
    let kvc902 = findings(&r, "KVC902");
    assert_eq!(kvc902.len(), 1, "{r}");
    let fix = kvc902[0]["fix"].as_str().unwrap();
    assert!(
        fix.starts_with("kubectl delete pod web-0 web-1 -n demo"),
        "{fix}"
    );
}

/// FACTS §11: AADSTS70021 is one message for issuer, subject and audience together; §7:
/// each is matched exactly. fic-api differs from the cluster's in two (issuer without its
/// trailing '/', audience with one): KVC402's in-place update sets both, as KVC401's says every
/// field that differs — mending the issuer alone left the exchange failing on the audience.
#[test]
fn an_issuer_slip_fix_mends_the_audience_too() {
    let r = world("rrr-fic-two-slips.yaml");
    let kvc402 = findings(&r, "KVC402");
    assert_eq!(kvc402.len(), 1, "{r}");
    let fix = kvc402[0]["fix"].as_str().unwrap();
    assert!(
        fix.starts_with("az identity federated-credential update --name fic-api ")
            && fix.contains("--issuer https://westeurope.oic.prod-aks.azure.com/5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b/6d8f2a3b-4c5e-4f70-9b1c-2d3e4f5a6b7c/")
            && fix.contains("--audiences api://AzureADTokenExchange")
            && !fix.contains("--audiences api://AzureADTokenExchange/"),
        "{fix}"
    );
    let message = kvc402[0]["message"].as_str().unwrap();
    assert!(message.contains("api://AzureADTokenExchange/"), "{message}");
}

/// FACTS §11 ("the synced Secret is created, then only rotation updates it … a pod restart
/// does not refresh it"): rotation off, a new value, a rollout restart. The restarted pod's
/// mount holds the new version, its Secret the old: KVC805, whose fix deletes the Secret
/// before the restart.
#[test]
fn a_restart_without_rotation_leaves_the_secret_old() {
    let r = world("rrr-restart-keeps-old-secret.yaml");
    let kvc805 = findings(&r, "KVC805");
    assert_eq!(kvc805.len(), 1, "{r}");
    let fix = kvc805[0]["fix"].as_str().unwrap();
    assert!(
        fix.starts_with("kubectl delete secret api-db -n demo --ignore-not-found && kubectl rollout restart deployment/api -n demo"),
        "{fix}"
    );
}

/// FACTS §6: AZURE_CLIENT_ID comes from the ServiceAccount's annotation through the webhook,
/// at pod CREATE. With the webhook not installed, annotating and restarting (KVC203's fix)
/// injects nothing: the fix installs the webhook first, then annotates and restarts, so it
/// works when pasted whatever KVC205's fix did before; the message says the webhook is
/// missing too.
#[test]
fn the_client_id_fix_installs_a_missing_webhook_first() {
    let r = world("rrr-no-webhook-no-annotation.yaml");
    let kvc203 = findings(&r, "KVC203");
    assert_eq!(kvc203.len(), 1, "{r}");
    let fix = kvc203[0]["fix"].as_str().unwrap();
    let install = fix.find("--enable-workload-identity");
    let annotate = fix.find("kubectl annotate serviceaccount api");
    let restart = fix.find("kubectl delete pod web-0 web-1");
    assert!(
        install.is_some() && install < annotate && annotate < restart,
        "{fix}"
    );
    let message = kvc203[0]["message"].as_str().unwrap();
    assert!(message.contains("not installed"), "{message}");
}

/// FACTS §11 "Nodes"; Kubernetes docs ("Assigning Pods to Nodes", nodeName): a bare pod on a
/// node without the driver is recreated from its live YAML, which names the node it was
/// bound to; kept, the new pod skips the scheduler and lands there again. KVC104's fix says
/// to delete spec.nodeName, not only "schedule onto nodes without" the taint.
#[test]
fn a_bare_pods_move_drops_its_node_name() {
    let r = world("rrr-bare-pod-tainted-node.yaml");
    let kvc104 = findings(&r, "KVC104");
    assert_eq!(kvc104.len(), 1, "{r}");
    let fix = kvc104[0]["fix"].as_str().unwrap();
    assert!(
        fix.contains("kubectl replace --force")
            && fix.contains("delete spec.nodeName: aks-spot-00000000-vmss000000"),
        "{fix}"
    );
}

/// FACTS §2: each secretObjects entry is built from the mounted files; docs/scenarios.md: only
/// a Secret the API server refuses stops the driver's loop, a data error ("file matching
/// objectName … not found") skips that entry. The first entry's KVC801 is the one error; the
/// second entry's Secret exists, so its env reader that does not mount is no KVC904, only the
/// design warning KVC903.
#[test]
fn a_skipped_entry_leaves_the_next_secret_made() {
    let r = world("rrr-first-entry-skipped.yaml");
    assert_eq!(codes(&r), ["KVC801", "KVC903"], "{r}");
    let kvc801 = findings(&r, "KVC801");
    assert!(
        (kvc801[0]["message"].as_str().unwrap()).starts_with("Secret api-db is never created"),
        "{:#}",
        kvc801[0]
    );
}
