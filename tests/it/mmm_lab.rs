//! Audit MMM-lab: scenario files written from docs/scenarios.md's format (not copied from the
//! built-ins), each a realistic failure from FACTS, run through `check --lab` and judged
//! against FACTS. The fixtures live in tests/fixtures/lab/mmm-*.yaml; their vault values are
//! canaries that no output may show.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

pub(crate) fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/lab/{name}"))
}

/// `check --lab FILE -o FORMAT` (plus `extra` arguments): stdout, after asserting that no
/// canary of the scenario appears in it or in stderr.
pub(crate) fn run(name: &str, format: &str, extra: &[&str], canary: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "--lab"])
        .arg(fixture(name))
        .args(["-o", format])
        .args(extra)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stdout.contains(canary) && !stderr.contains(canary),
        "a secret value reached the {format} output of {name}"
    );
    stdout
}

/// The JSON report of `name` (the text output is checked for the canary too).
pub(crate) fn report(name: &str, canary: &str) -> Value {
    report_after(name, &[], canary)
}

/// [`report`] with `extra` arguments (`--for …`).
pub(crate) fn report_after(name: &str, extra: &[&str], canary: &str) -> Value {
    run(name, "text", extra, canary);
    let json = run(name, "json", extra, canary);
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"))
}

pub(crate) fn link<'a>(chain: &'a Value, name: &str) -> &'a Value {
    (chain["links"].as_array().unwrap().iter())
        .find(|l| l["link"] == name)
        .unwrap_or_else(|| panic!("no {name} link: {chain}"))
}

/// FACTS §2 ("Missing RBAC"), §11 ("Sync needs RBAC"): with Helm's syncSecret.enabled off the
/// mount works but the driver never writes the synced Secret, so the container whose env
/// reads it is held (CreateContainerConfigError, docs/scenarios.md). Its Consumers link waits
/// on the Sync link's cause, as it does behind a failing mount: a design warning (no
/// Reloader, KVC902) about a Secret that does not exist does not make it "no reloader".
#[test]
fn env_readers_of_a_secret_sync_never_writes_wait_on_sync_not_on_reloader() {
    let r = report("mmm-sync-off-env.yaml", "CANARY-mmm-sync-7c41");
    let chains = r["chains"].as_array().unwrap();
    assert_eq!(chains.len(), 1, "{r}");
    let sync = link(&chains[0], "sync");
    assert_eq!(sync["status"], "broken", "{sync}");
    let consumers = link(&chains[0], "consumers");
    assert_eq!(consumers["status"], "pending", "{consumers}");
    assert_eq!(consumers["summary"], "blocked: Sync", "{consumers}");
}

/// FACTS §11 ("Evidence ages"), §3: a FailedMount older than the kubelet's later "Unable to
/// attach or mount volumes: unmounted volumes=[…]", which no longer lists the volume, tells of
/// a volume mounted since. The Windows pod's `secret` volume of api-db failed once, before the
/// Linux pod's mount made the Secret (which exists, and the volume asks no key of it): only
/// the CSI volume keeps that pod waiting (KVC104), its secret volume blocks nothing.
#[test]
fn a_secret_volume_mounted_since_its_failure_is_no_blocker() {
    let r = report("mmm-windows-secret-volume.yaml", "CANARY-mmm-node-2b9e");
    let findings = r["findings"].as_array().unwrap();
    assert!(
        (findings.iter()).any(|f| f["code"] == "KVC104"),
        "the Windows node's missing driver is the cause: {r}"
    );
    let stale: Vec<&Value> = (findings.iter())
        .filter(|f| f["code"] == "KVC108" && f["message"].as_str().unwrap().contains("synced"))
        .collect();
    assert!(
        stale.is_empty(),
        "volume synced mounted after its one failure: {stale:?}"
    );
}

/// FACTS §4: env is read once, at container start. A synced Secret deleted under a running
/// reader (the driver recreates it within 5 minutes, docs/scenarios.md deleteSecret) holds
/// no container: the Consumers link is not drawn "blocked: Sync" as for a reader never
/// started (the first test above).
#[test]
fn a_running_env_reader_is_not_held_by_a_secret_deleted_since() {
    let canary = "CANARY-mmm-deleted-5d0a";
    let name = "mmm-deleted-secret-running.yaml";
    run(name, "text", &["--for", "2m30s"], canary);
    let json = run(name, "json", &["--for", "2m30s"], canary);
    let r: Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    let chains = r["chains"].as_array().unwrap();
    assert_eq!(chains.len(), 1, "{r}");
    // The Secret is missing for now (KVC806), whatever the Sync link's severity.
    assert_ne!(link(&chains[0], "sync")["status"], "ok", "{r}");
    let consumers = link(&chains[0], "consumers");
    assert_ne!(consumers["summary"], "blocked: Sync", "{consumers}");
}

/// FACTS §2, §3: the ≤v1.5 rotation reconciler patches synced Secrets that exist and creates
/// none ("failed to patch secret <name> with new data" when it is gone); the SPCPS controller's
/// 5-minute requeue recreates a deleted one. A Secret deleted by hand under rotation is
/// therefore recreated on its own: not the driver failing to create it (an error whose fix
/// deletes the running pod), but KVC806's warning that nothing needs doing.
#[test]
fn a_rotation_patch_of_a_deleted_secret_is_no_failure_to_create_it() {
    let canary = "CANARY-mmm-deleted-5d0a";
    let name = "mmm-deleted-secret-running.yaml";
    let json = run(name, "json", &["--for", "2m30s"], canary);
    let r: Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    let f = (r["findings"].as_array().unwrap().iter())
        .find(|f| f["code"] == "KVC806" && f["resource"] == "Secret/api-db")
        .unwrap_or_else(|| panic!("no KVC806 for the missing api-db: {r}"));
    assert_eq!(f["severity"], "warning", "{f}");
    let fix = f["fix"].as_str().unwrap();
    assert!(!fix.contains("kubectl delete pod"), "{f}");
    assert!(
        !f["message"]
            .as_str()
            .unwrap()
            .contains("failed to create it"),
        "{f}"
    );
}

/// docs/scenarios.md (kubelet: `fetching NodePublishSecretRef <ns>/<name> failed`), FACTS §5
/// (auth selection: with clientID the provider uses workload identity and reads no
/// nodePublishSecretRef): the mount fails on a missing Secret the SPC's mode never uses. The
/// cause is that Secret (named), and the fix is on the pod's volume, not "fix the SPC's
/// parameters", which are right.
#[test]
fn a_leftover_publish_secret_ref_is_named_not_the_spc_parameters() {
    let r = report("mmm-unread-publish-ref.yaml", "CANARY-mmm-ref-91c3");
    let findings = r["findings"].as_array().unwrap();
    let generic: Vec<&Value> = (findings.iter())
        .filter(|f| (f["fix"].as_str().unwrap()).contains("kubectl edit secretproviderclass"))
        .collect();
    assert!(
        generic.is_empty(),
        "the SPC's parameters are right: {generic:?}"
    );
    let f = (findings.iter())
        .find(|f| f["resource"] == "Secret/kv-sp-creds")
        .unwrap_or_else(|| panic!("no finding names the missing Secret kv-sp-creds: {r}"));
    assert_eq!(f["severity"], "error", "{f}");
    assert!(
        (f["fix"].as_str().unwrap()).contains("nodePublishSecretRef"),
        "{f}"
    );
}

/// FACTS §5 (the vault URL is `https://<keyvaultName>.<suffix>/`, a host name, which DNS reads
/// in any case), §7 (issuer, subject and audience are the case-sensitive comparisons; a
/// clientID or tenant GUID is not): `KV-MMM`, a capitalised clientID and tenantId name vault
/// kv-mmm, identity id-api and its tenant, and the mount works. The lab failed it with
/// `no such host` and AADSTS700016, which the diagnosis then had to explain away.
#[test]
fn capitals_in_vault_name_client_id_and_tenant_still_mount() {
    let r = report("mmm-capitals.yaml", "CANARY-mmm-case-44e0");
    let chains = r["chains"].as_array().unwrap();
    assert_eq!(chains.len(), 1, "{r}");
    for l in chains[0]["links"].as_array().unwrap() {
        assert_eq!(l["status"], "ok", "{l}: {r}");
    }
    assert!(r["findings"].as_array().unwrap().is_empty(), "{r}");
}

/// docs/scenarios.md (containers start only after all volumes are ready), FACTS §3, §7: the
/// new pod's mount fails on the federated credential, so its containers never start. Its
/// Consumers link waits behind that cause (`…`, "blocked: Federation", README: the one red
/// box is the cause), as it does with only a design warning there: another workload reading
/// the Secret without mounting (KVC903, itself blocked by the cause) does not make it
/// "! not mounted".
#[test]
fn an_unstarted_pods_consumers_wait_on_the_cause_beside_another_readers_warning() {
    let canary = "CANARY-mmm-recreate-6b17";
    let name = "mmm-recreate-broken-fic.yaml";
    run(name, "text", &["--for", "5m"], canary);
    let json = run(name, "json", &["--for", "5m"], canary);
    let r: Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    let chains = r["chains"].as_array().unwrap();
    assert_eq!(chains.len(), 1, "{r}");
    assert_eq!(link(&chains[0], "federation")["status"], "broken", "{r}");
    let consumers = link(&chains[0], "consumers");
    assert_eq!(consumers["status"], "pending", "{consumers}");
    assert_eq!(consumers["summary"], "blocked: Federation", "{consumers}");
}
