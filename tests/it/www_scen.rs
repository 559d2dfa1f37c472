//! Audit WWW-scen: lab worlds written from the documents (FACTS, docs/scenarios.md,
//! codes.yaml) before kvchain was run on them, each with its expected verdict in the header
//! comment of its fixture (tests/fixtures/lab/www-*.yaml): healthy but unusual shapes that
//! must not be flagged, two faults at once (one symptom, one cause), fixes half applied
//! (events are history) and a rotation that renews the file and not the synced Secret. Their
//! vault values are canaries (`CANARY-www-scen`) that no output may show.

use serde_json::Value;

use super::mmm_lab::{link, report_after};
use super::sss_azure::causes;

const CANARY: &str = "CANARY-www-scen";

/// The JSON report of world `name` after `extra` (`--for …`), its text and JSON checked for
/// the canary.
fn world_after(name: &str, extra: &[&str]) -> Value {
    report_after(&format!("{name}.yaml"), extra, CANARY)
}

fn world(name: &str) -> Value {
    world_after(name, &[])
}

pub(crate) fn findings<'a>(r: &'a Value, code: &str) -> Vec<&'a Value> {
    (r["findings"].as_array().unwrap().iter())
        .filter(|f| f["code"] == code)
        .collect()
}

fn fix(f: &Value) -> &str {
    f["fix"].as_str().unwrap_or_default()
}

/// The exit status `check` gives world `name` (README, `check`: 0 nothing counted, 1 an error).
pub(crate) fn exit_code(name: &str, extra: &[&str]) -> Option<i32> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "--lab"])
        .arg(super::mmm_lab::fixture(&format!("{name}.yaml")))
        .args(extra)
        .output()
        .unwrap();
    out.status.code()
}

/// Every chain of `r` has every link ok and nothing is said at all; `check` exits 0.
fn healthy(name: &str, chains: usize) {
    let r = world(name);
    assert_eq!(r["chains"].as_array().unwrap().len(), chains, "{r}");
    assert!(r["findings"].as_array().unwrap().is_empty(), "{r}");
    for c in r["chains"].as_array().unwrap() {
        for l in c["links"].as_array().unwrap() {
            assert_eq!(l["status"], "ok", "{name}: {l}");
        }
    }
    assert_eq!(exit_code(name, &[]), Some(0), "{name}");
}

/// Kubernetes "Sidecar Containers"; docs/scenarios.md (the kubelet sets up a CSI volume an
/// init container names): a native sidecar that mounts the SPC and reads the synced Secret
/// through env, under a Reloader-annotated Deployment, is healthy — not KVC707, not KVC902.
#[test]
fn a_native_sidecar_reading_the_synced_secret_is_healthy() {
    healthy("www-sidecar-reloaded", 1);
}

/// The same sidecar after a rotation: Reloader rolls the Deployment out (FACTS §10), the new
/// pod's sidecar reads the new value at its start: no KVC901 left, healthy.
#[test]
fn a_reloaded_sidecar_after_a_rotation_is_healthy() {
    healthy("www-sidecar-rotated-reloaded", 1);
}

/// docs/scenarios.md: each CSI volume is its own mount, SPCPS and synced Secrets. Two SPC
/// volumes in one pod (two replicas) are two healthy chains per pod, no KVC108 or KVC807.
#[test]
fn two_spc_volumes_in_one_pod_are_two_healthy_chains() {
    healthy("www-two-spc-volumes", 4);
}

/// StatefulSet pods (OrderedReady), env and a secret volume of the synced Secret, Reloader
/// annotated under RollingUpdate (FACTS §10): healthy.
#[test]
fn a_statefulsets_pods_are_healthy() {
    healthy("www-statefulset", 2);
}

/// docs/scenarios.md: the webhook admits a token expiration within 3600–86400, the pod's
/// annotation else the service account's; the CSI mount's token is the driver's own. Both
/// bounds, on the account and on the template, are healthy.
#[test]
fn token_expirations_within_the_webhooks_range_are_healthy() {
    healthy("www-token-expiration", 2);
}

/// docs/scenarios.md: an expiration below 3600 is refused by the webhook (failurePolicy
/// Fail), no pod is made: KVC106 with the denial, its fix the account's annotation set within
/// range (the template carries none).
#[test]
fn a_token_expiration_below_the_range_is_the_webhooks_refusal() {
    let r = world("www-token-expiration-short");
    let (own, _) = causes(&r);
    assert_eq!(own, ["KVC106"], "{r}");
    let f = findings(&r, "KVC106")[0];
    assert!(
        fix(f).starts_with("kubectl annotate serviceaccount api -n demo azure.workload.identity/service-account-token-expiration=3600"),
        "{f:#}"
    );
    assert_eq!(exit_code("www-token-expiration-short", &[]), Some(1));
}

/// Kubernetes "Secrets": an optional envFrom reference of a Secret the driver builds is read
/// at start like any other; the volumes are set up first, so it is there. Healthy, the
/// Consumers link names env (not "unset").
#[test]
fn an_optional_envfrom_of_a_built_secret_is_healthy() {
    healthy("www-envfrom-optional", 1);
    let r = world("www-envfrom-optional");
    assert_eq!(link(&r["chains"][0], "consumers")["summary"], "env", "{r}");
}

/// docs/scenarios.md (a completed Job's pod: volumes torn down, skipped by rotation);
/// codes.yaml KVC702/KVC902 (a finished pod is not judged): after the Job's pod completed,
/// nothing is a warning or an error, and the finished pod's KVC902 note is gone.
#[test]
fn a_completed_jobs_pod_is_not_flagged() {
    let r = world_after("www-job-completed", &["--for", "15m"]);
    assert_eq!(r["summary"]["errors"], 0, "{r}");
    assert_eq!(r["summary"]["warnings"], 0, "{r}");
    assert!(findings(&r, "KVC902").is_empty(), "{r}");
    assert_eq!(
        link(&r["chains"][0], "mount")["summary"],
        "Job finished",
        "{r}"
    );
    assert_eq!(exit_code("www-job-completed", &["--for", "15m"]), Some(0));
}

/// A rotation after the Job's pod finished, nobody else reading the Secret: the frozen Secret
/// worries no reader (no KVC903), the finished mount is not behind (no KVC703).
#[test]
fn a_rotation_after_a_completed_job_flags_nothing() {
    let r = world_after("www-job-done-rotated-alone", &["--for", "16m"]);
    assert_eq!(r["summary"]["errors"], 0, "{r}");
    assert_eq!(r["summary"]["warnings"], 0, "{r}");
    for code in ["KVC703", "KVC903", "KVC805"] {
        assert!(findings(&r, code).is_empty(), "{code}: {r}");
    }
}

/// FACTS §11 "Tenants": a clientID nobody has fails at the token exchange (AADSTS700016),
/// before any request reaches the vault: KVC301 the one cause, the missing object kept with
/// its fix but blocked by it. The fix names id-api, whose credential trusts demo:api.
#[test]
fn a_wrong_client_id_comes_before_a_missing_object() {
    let r = world("www-client-id-and-404");
    let (own, blocked) = causes(&r);
    assert_eq!(own, ["KVC301"], "{r}");
    assert!(blocked.contains(&"KVC601"), "{r}");
    let f = findings(&r, "KVC301")[0];
    assert!(
        fix(f).contains("\"clientID\":\"0b9c5e1a-7d2f-4c3e-9a8b-1f2e3d4c5b6a\""),
        "{f:#}"
    );
    assert!(
        (f["evidence"].as_array().unwrap().iter())
            .any(|e| e.as_str().unwrap().contains("AADSTS700016")),
        "{f:#}"
    );
    assert_eq!(
        link(&r["chains"][0], "mount")["summary"],
        "blocked: Identity"
    );
    assert_eq!(r["summary"]["errors"], 1, "{r}");
}

/// The SPC's clientID alone mistyped, the account's annotation right: KVC301's fix points the
/// SPC at the annotation's identity and never annotates the account with the typo.
#[test]
fn a_mistyped_spc_client_id_is_fixed_in_the_spc_only() {
    let r = world("www-spc-client-id-typo");
    let (own, _) = causes(&r);
    assert_eq!(own, ["KVC301"], "{r}");
    let text = fix(findings(&r, "KVC301")[0]);
    assert!(
        text.starts_with("kubectl patch secretproviderclass api-kv"),
        "{text}"
    );
    assert!(!text.contains("annotate serviceaccount"), "{text}");
    assert!(
        !r.to_string()
            .contains("client-id=0b9c5e1a-7d2f-4c3e-9a8b-1f2e3d4c5b6b")
    );
}

/// FACTS §7, §11: AADSTS70021 stops the exchange before Key Vault is asked, so the missing
/// role is not met yet: KVC401 the one cause (its fix the credential for demo:api), KVC501
/// kept with its grant but blocked by it.
#[test]
fn a_wrong_subject_comes_before_a_missing_role() {
    let r = world("www-subject-and-role");
    let (own, blocked) = causes(&r);
    assert_eq!(own, ["KVC401"], "{r}");
    assert!(blocked.contains(&"KVC501"), "{r}");
    assert!(
        fix(findings(&r, "KVC401")[0]).contains("--subject system:serviceaccount:demo:api "),
        "{r}"
    );
    assert!(
        fix(findings(&r, "KVC501")[0]).contains("--role \"Key Vault Secrets User\""),
        "{r}"
    );
    assert_eq!(exit_code("www-subject-and-role", &[]), Some(1));
}

/// docs/scenarios.md: the mount uses the SPC clientID, not the account's annotation. A 404
/// object is the mount's one cause; the annotation naming another identity (KVC204) waits
/// for it (a new pod would not start).
#[test]
fn a_missing_object_is_the_mounts_cause_beside_an_annotation_mismatch() {
    let r = world("www-sa-client-id-and-404");
    let (own, blocked) = causes(&r);
    assert_eq!(own, ["KVC601"], "{r}");
    assert!(blocked.contains(&"KVC204"), "{r}");
    let f = findings(&r, "KVC601")[0];
    assert!(
        (f["evidence"].as_array().unwrap().iter())
            .any(|e| e.as_str().unwrap().contains("SecretNotFound")),
        "{f:#}"
    );
}

/// docs/scenarios.md RoleAssignment: a grant at another resource group does not reach the
/// vault (Azure RBAC applies an assignment at its scope and below it only). KVC501 is current
/// (not "failed, now looks right"), its grant at the vault, and its evidence names the grant
/// at rg-other and why it does not count, instead of "0 role assignments" alone, which reads
/// as the grant missing (audit WWW-left).
#[test]
fn a_grant_at_another_resource_group_is_no_grant() {
    let r = world("www-role-other-scope");
    let (own, _) = causes(&r);
    assert_eq!(own, ["KVC501"], "{r}");
    let f = findings(&r, "KVC501")[0];
    assert!(
        !f["message"].as_str().unwrap().contains("looks right now"),
        "{f:#}"
    );
    let seen: Vec<&str> = (f["evidence"].as_array().unwrap().iter())
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(
        seen.iter().any(|e| e.contains("Key Vault Secrets User")
            && e.contains("/resourceGroups/rg-other")
            && e.contains("does not reach vault kv-www")
            && e.contains("resource group rg-kvchain-lab")),
        "{seen:#?}"
    );
    assert!(
        fix(f).contains("--role \"Key Vault Secrets User\" --scope /subscriptions/00000000-0000-0000-0000-00000000ab01/resourceGroups/rg-kvchain-lab/providers/Microsoft.KeyVault/vaults/kv-www"),
        "{f:#}"
    );
    assert!(
        fix(f).contains("--scope /subscriptions/00000000-0000-0000-0000-00000000ab01/resourceGroups/rg-kvchain-lab/providers/Microsoft.KeyVault/vaults/kv-www"),
        "{f:#}"
    );
}

/// FACTS §11 (evidence in time) and README (a 403 recorded before the grant that lets the read
/// through now is history, audit WWW-rules): the role granted at 9m, the kubelet's retry not
/// made yet. The 403s predate the grant, so no finding stands: the Access link is ok, the mount
/// waits for the retry (pending), and no fix asks for the role the identity holds now, nor for
/// a restart (the kubelet retries). Settled, the retry mounted and every link is ok.
#[test]
fn a_role_granted_before_the_retry_asks_for_nothing_more() {
    let r = world_after("www-role-granted-not-restarted", &["--for", "9m20s"]);
    assert!(findings(&r, "KVC501").is_empty(), "{r}");
    let chain = &r["chains"][0];
    assert_eq!(link(chain, "access")["status"], "ok", "{chain}");
    assert_eq!(link(chain, "mount")["status"], "pending", "{chain}");
    assert!(r.to_string().contains("it predates the grant"), "{r}");
    assert!(!r.to_string().contains("az role assignment create"), "{r}");
    assert!(!r.to_string().contains("rollout restart"), "{r}");
    healthy("www-role-granted-not-restarted", 1);
}

/// The same for the federated credential corrected at 5m with AADSTS70021 events from
/// before: no credential created or updated in a fix, then healthy once the retry mounted.
/// The events predate the credential's last change (ARM's `systemData.lastModifiedAt`), so
/// they are history as the 403s before a grant are (audit XB-left; before, KVC405 said
/// "failed, now looks right").
#[test]
fn a_credential_corrected_before_the_retry_asks_for_nothing_more() {
    let r = world_after("www-fic-fixed-old-events", &["--for", "5m20s"]);
    assert!(findings(&r, "KVC405").is_empty(), "{r}");
    assert_eq!(link(&r["chains"][0], "federation")["status"], "ok", "{r}");
    assert!(
        r.to_string().contains("predates the credential's change"),
        "{r}"
    );
    let all = r.to_string();
    assert!(!all.contains("federated-credential create"), "{r}");
    assert!(!all.contains("federated-credential update"), "{r}");
    healthy("www-fic-fixed-old-events", 1);
}

/// FACTS §11: "The synced Secret is created, then only rotation updates it … a pod restart does
/// not refresh it". With rotation off, a replacement pod mounts the new version while the
/// Secret keeps the old: KVC805 whose fix deletes the Secret before the restart, KVC702, the
/// surviving replica's old mount said once (KVC703), and no KVC901 that a restart would mend.
#[test]
fn a_new_mount_beside_an_old_synced_secret_is_the_secrets_staleness() {
    let r = world("www-file-new-secret-old");
    let kvc805 = findings(&r, "KVC805");
    assert_eq!(kvc805.len(), 1, "{r}");
    assert!(
        fix(kvc805[0]).starts_with("kubectl delete secret api-db -n demo"),
        "{:#}",
        kvc805[0]
    );
    assert_eq!(findings(&r, "KVC702").len(), 1, "{r}");
    assert_eq!(findings(&r, "KVC703").len(), 1, "{r}");
    assert!(findings(&r, "KVC901").is_empty(), "{r}");
}

/// FACTS §2: the driver makes a Kubernetes Secret only for a `secretObjects` entry. The pod
/// mounts api-kv, whose object db-password is the key its env asks Secret api-db for, and
/// api-kv has no secretObjects: KVC109 (the container held, the mount fine) is right, but its
/// fix is the missing entry on the SPC the pod mounts — not a Secret made by hand, which
/// would hold a copy of the vault's value the driver never updates (and, unlabelled, never
/// takes over: FACTS §11), then a new mount, which is when the driver writes it. Before, the
/// fix said "create Secret api-db".
#[test]
fn an_env_reader_of_a_secret_its_own_spc_does_not_sync_gets_the_entry() {
    let r = world("www-no-secret-objects-env");
    let (own, _) = causes(&r);
    assert_eq!(own, ["KVC109"], "{r}");
    let c = &r["chains"][0];
    assert_eq!(link(c, "mount")["status"], "ok", "{c}");
    let f = findings(&r, "KVC109")[0];
    let text = fix(f);
    assert!(
        text.starts_with("kubectl patch secretproviderclass api-kv -n demo --type json -p '[{\"op\":\"add\",\"path\":\"/spec/secretObjects\",\"value\":[{\"data\":[{\"key\":\"db-password\",\"objectName\":\"db-password\"}],\"secretName\":\"api-db\",\"type\":\"Opaque\"}]}]'"),
        "{f:#}"
    );
    // The driver writes a synced Secret when it reconciles a mount and never comes back to
    // one made while the SPC had no entry (its pod-status controller does not requeue it):
    // a new mount is what writes it.
    assert!(
        text.contains("' && kubectl rollout restart deployment/api -n demo  # "),
        "{text}"
    );
    assert!(!text.contains("create Secret api-db"), "{text}");
    let message = f["message"].as_str().unwrap();
    assert!(
        message.contains(
            "SecretProviderClass api-kv, mounted by this pod, has no secretObjects entry for it"
        ),
        "{message}"
    );
    assert_eq!(exit_code("www-no-secret-objects-env", &[]), Some(1));
}

/// FACTS §11 "Sync needs RBAC": Helm's driver without syncSecret.enabled never writes the
/// synced Secret (KVC806, the one cause; the mounting Deployment runs). Deployment reader
/// reads it through env without mounting the SPC and is held: its KVC903, whose fix mounts the
/// SPC there, waits on that cause — a mount of its own would meet the same refusal — as README
/// says of KVC903 behind a Sync cause about the Secret it reads. Its design warning (no
/// Reloader, KVC902) stays listed (README), and names the Consumers link, not the KVC903 that
/// waits. Before, KVC903 was a warning of its own (KVC806 was never a root: only an effect of
/// an earlier link) and the link read "not mounted".
#[test]
fn a_non_mounting_reader_of_a_secret_sync_never_writes_waits_on_sync() {
    let r = world("www-helm-sync-off-reader");
    let (own, blocked) = causes(&r);
    assert_eq!(own, ["KVC806", "KVC902"], "{r}");
    assert_eq!(blocked, ["KVC903"], "{r}");
    let f = findings(&r, "KVC903")[0];
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .starts_with("blocked by Sync: "),
        "{f:#}"
    );
    assert!(
        fix(f).starts_with("# fix KVC806 (Sync) first: no pod has the Secret until the driver writes it; then: kubectl edit deployment/reader"),
        "{f:#}"
    );
    let consumers = link(&r["chains"][0], "consumers");
    assert_eq!(consumers["status"], "warning", "{consumers}");
    assert_eq!(consumers["summary"], "no reloader", "{consumers}");
    assert_eq!(r["summary"]["errors"], 1, "{r}");
    assert_eq!(exit_code("www-helm-sync-off-reader", &[]), Some(1));
}

/// docs/scenarios.md: a pod template's token expiration above 86400 is refused by the webhook,
/// whatever its ServiceAccount says: KVC106's fix edits the StatefulSet's template. No pod
/// exists, so nothing reads the synced Secret yet: the Consumers link, whose template reads
/// api-db through env, waits like Mount and Sync ("template") and does not read "✓ none"
/// ("absent is not healthy"; before, its readers were looked up among running pods only).
#[test]
fn a_template_the_webhook_refuses_is_fixed_in_the_template_and_reads_nothing_yet() {
    let r = world("www-token-expiration-template");
    let (own, _) = causes(&r);
    assert_eq!(own, ["KVC106"], "{r}");
    let f = findings(&r, "KVC106")[0];
    assert!(
        fix(f).starts_with("kubectl edit statefulset/web -n demo"),
        "{f:#}"
    );
    let c = &r["chains"][0];
    for name in ["mount", "sync", "consumers"] {
        let l = link(c, name);
        assert_eq!(l["status"], "pending", "{l}");
        assert_eq!(l["summary"], "template", "{l}");
    }
    assert_eq!(exit_code("www-token-expiration-template", &[]), Some(1));
}

/// Kubernetes "Secrets" / docs/scenarios.md: an optional secretKeyRef to a key the Secret
/// lacks starts the container with the variable unset; codes.yaml KVC905: an info only, its
/// fix the key the Secret has. Nothing held, exit 0.
#[test]
fn an_optional_key_the_entry_does_not_make_is_an_info() {
    let r = world("www-optional-key-missing");
    let f = findings(&r, "KVC905");
    assert_eq!(f.len(), 1, "{r}");
    assert_eq!(f[0]["severity"], "info", "{:#}", f[0]);
    assert!(
        fix(f[0]).contains("ask for a key Secret api-db has (db-password)"),
        "{:#}",
        f[0]
    );
    assert_eq!(r["summary"]["errors"], 0, "{r}");
    assert_eq!(r["summary"]["warnings"], 0, "{r}");
    assert_eq!(exit_code("www-optional-key-missing", &[]), Some(0));
}
