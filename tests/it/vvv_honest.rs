//! Audit VVV-honest: what kvchain says it knows. The founding complaint was "a user without
//! RBAC gets 0 errors, exit 0". README `kvchain check`: exit 3 is "undetermined", so that "0
//! errors" does not pass for "all healthy"; a chain a failed read left unverified (its Secrets
//! or the Azure side refused) is such a chain, and what is left out by choice (`--no-azure`) is
//! not.

use std::process::{Command, Output};

use crate::live_gaps::check_without;
use crate::live_support::*;
use kvchain::chain::testkit as tk;
use kvchain::snapshot::Snapshot;
use serde_json::Value;

const VVV_CANARY: &str = "CANARY-vvv-honest-synced";

/// The live world with its synced Secret holding this audit's canary and no FailedMount: a
/// healthy chain, so only what could not be read may decide the exit status.
fn quiet_world() -> FakeApi {
    let api = world();
    api.replace_silently(EVENTS, Vec::new());
    api.replace_silently(SECRETS, vec![synced_secret("foosecret", VVV_CANARY, true)]);
    api
}

#[tokio::test]
async fn a_user_who_may_not_list_secrets_is_not_told_exit_0() {
    let api = quiet_world();
    // With --no-azure (as `check_without` runs): the Azure links are unknown by choice, no
    // read failed, and the healthy world exits 0 (README: not counted).
    let seen = check_without(&api, "text", VVV_CANARY).await;
    assert_eq!(seen.code, Some(0), "the world is healthy: {}", seen.stdout);
    api.deny(SECRETS, Some(NS));
    let run = check_without(&api, "text", VVV_CANARY).await;
    let headline = run.stdout.lines().next().unwrap_or_default();
    assert!(headline.contains("0 errors"), "{headline}");
    assert!(headline.contains("not verified"), "{headline}");
    // The exit 3 is said first, as INCOMPLETE and UNDETERMINED are: a reader (or a CI log's
    // first line) may stop before the counts.
    assert!(
        headline.starts_with("UNVERIFIED: a read failed — kvchain check"),
        "{headline}"
    );
    assert_eq!(
        run.code,
        Some(3),
        "0 errors over a chain that could not be verified is no pass: {}",
        run.stdout
    );
    let sarif = check_without(&api, "sarif", VVV_CANARY).await.json();
    assert_eq!(
        sarif["runs"][0]["properties"]["incomplete"], true,
        "{sarif:#}"
    );
}

/// `tk::healthy()` (mounted, synced) with every Azure list refused: identities, vaults and role
/// assignments unread, no object's versions known.
fn azure_refused() -> Snapshot {
    const REFUSED: &str = "403 AuthorizationFailed: the client does not have authorization";
    let mut s = tk::healthy();
    s.azure.identities.items.clear();
    s.azure.identities.gaps.all = Some(REFUSED.into());
    s.azure.vaults.items.clear();
    s.azure.vaults.gaps.all = Some(REFUSED.into());
    s.azure.role_assignments.items.clear();
    s.azure.role_assignments.gaps.all = Some(REFUSED.into());
    s.azure.objects.clear();
    s
}

pub(crate) fn check_snapshot(s: &Snapshot, format: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snap.json");
    std::fs::write(&path, kvchain::snapshot::file::to_string(s, false).unwrap()).unwrap();
    Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "--snapshot", path.to_str().unwrap(), "-o", format])
        .env("NO_COLOR", "1")
        .env("XDG_CONFIG_HOME", dir.path())
        .env("HOME", dir.path())
        .output()
        .expect("run kvchain")
}

#[test]
fn a_chain_whose_azure_side_could_not_be_read_is_not_healthy_and_exits_3() {
    let healthy = check_snapshot(&tk::healthy(), "json");
    assert_eq!(healthy.status.code(), Some(0));
    let out = check_snapshot(&azure_refused(), "json");
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["summary"]["errors"], 0, "{r:#}");
    assert!(
        r["summary"]["unverified"].as_u64().unwrap_or(0) >= 1,
        "{:#}",
        r["summary"]
    );
    for c in r["chains"].as_array().unwrap() {
        assert_ne!(c["status"], "ok", "not healthy: {c:#}");
    }
    assert_eq!(out.status.code(), Some(3), "{:#}", r["summary"]);
}

/// `kvchain check -f assets/examples/broken -o FORMAT`: its StatefulSet/ledger reads Key Vault
/// as a node identity (`useVMManagedIdentity: "true"`).
fn broken_examples(format: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "-f", "assets/examples/broken", "-o", format])
        .env("NO_COLOR", "1")
        .output()
        .expect("run kvchain");
    String::from_utf8(out.stdout).unwrap()
}

/// FACTS §5: with `useVMManagedIdentity` the provider takes the token of an identity on the
/// node; no federated credential takes part (DESIGN: the Federation link is "workload
/// identity only"). The link is no check made, so no ✓: it says it does not apply, in the
/// JSON's facts and in every strip.
#[test]
fn a_node_identitys_federation_link_does_not_apply_and_is_not_drawn_verified() {
    let r: Value = serde_json::from_str(&broken_examples("json")).unwrap();
    let ledger = (r["chains"].as_array().unwrap().iter())
        .find(|c| c["spc"] == "ledger-kv")
        .unwrap_or_else(|| panic!("{:#}", r["chains"]));
    let fed = (ledger["links"].as_array().unwrap().iter())
        .find(|l| l["link"] == "federation")
        .unwrap();
    assert_eq!(fed["summary"], "does not apply", "{fed:#}");
    let facts = fed["facts"].to_string();
    assert!(
        facts.contains("not applicable") && facts.contains("useVMManagedIdentity"),
        "{fed:#}"
    );
    let text = broken_examples("text");
    let strip = (text.lines())
        .skip_while(|l| !l.contains("StatefulSet/ledger"))
        .nth(1)
        .unwrap_or_else(|| panic!("{text}"));
    assert!(strip.contains("– Federation"), "{strip}");
    assert!(!strip.contains("✓ Federation"), "{strip}");
    assert!(
        text.contains("– does not apply"),
        "the legend says what – is"
    );
    let junit = broken_examples("junit");
    assert!(junit.contains("– Federation"), "{junit}");
}

/// FACTS §2 "Update": v1.6.0's controller creates or updates the synced Secret at every
/// reconcile (`createOrUpdateK8sSecret`, an Update on AlreadyExists); only drivers before
/// v1.6 leave an existing Secret to rotation (FACTS §11). kvchain reads no driver version, so
/// what it says of a restart or a mount holds for both (as KVC805's unmanaged Secret does).
#[test]
fn what_a_restart_does_to_a_synced_secret_is_said_of_both_driver_versions() {
    let out = Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "--lab", "rotation-disabled", "-o", "json"])
        .output()
        .expect("run kvchain");
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let kvc702 = (r["findings"].as_array().unwrap().iter())
        .find(|f| f["code"] == "KVC702")
        .unwrap_or_else(|| panic!("{r:#}"));
    let message = kvc702["message"].as_str().unwrap();
    assert!(
        !message.contains("(a pod restart does not rewrite them)"),
        "not true of v1.6: {message}"
    );
    assert!(
        message.contains("before v1.6") && message.contains("v1.6 driver rewrites them"),
        "{message}"
    );
    let explain = Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["explain", "KVC805"])
        .output()
        .expect("run kvchain");
    let page = String::from_utf8(explain.stdout).unwrap();
    assert!(
        !page.contains("The driver does not rewrite an existing Secret at mount"),
        "{page}"
    );
    assert!(
        page.contains("A v1.6 driver's controller creates or updates"),
        "{page}"
    );
}

/// FACTS §2: the driver syncs a Kubernetes Secret only from `secretObjects`. Without them the
/// Sync link has nothing to check, so it does not apply, as a node identity's Federation
/// link: the fic-issuer-mismatch lab's payments chain, whose mount never happened, drew
/// "✓ Sync" beside "… Mount".
#[test]
fn a_chain_without_secret_objects_draws_no_verified_sync_link() {
    let out = Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "--lab", "fic-issuer-mismatch", "-o", "text"])
        .env("NO_COLOR", "1")
        .output()
        .expect("run kvchain");
    let text = String::from_utf8(out.stdout).unwrap();
    let strip = (text.lines())
        .skip_while(|l| !l.contains("Deployment/payments"))
        .nth(1)
        .unwrap_or_else(|| panic!("{text}"));
    assert!(strip.contains("✗ Federation"), "{strip}");
    assert!(
        strip.contains("– Sync") && !strip.contains("✓ Sync"),
        "{strip}"
    );
}

/// The vault read, its role assignments refused, the pod mounted: the mount proves the read,
/// but not that the identity reads only. KVC504 (a role that may also write or delete) is
/// known only from the assignments, so the Access link is not ok: unknown, saying which check
/// was not made, and the chain not verified (README: a failed read's undone check counts).
#[test]
fn a_mounted_chain_whose_role_assignments_could_not_be_read_is_not_verified() {
    let mut s = tk::healthy();
    s.azure.role_assignments.items.clear();
    s.azure.role_assignments.gaps.all =
        Some("cannot list role assignments on the vault: 403 AuthorizationFailed".into());
    let out = check_snapshot(&s, "json");
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let access = (r["chains"][0]["links"].as_array().unwrap().iter())
        .find(|l| l["link"] == "access")
        .unwrap();
    assert_eq!(access["status"], "unknown", "{access:#}");
    let facts = access["facts"].to_string();
    assert!(
        facts.contains("not checked") && facts.contains("KVC504"),
        "{access:#}"
    );
    assert!(
        r["summary"]["unverified"].as_u64() >= Some(1),
        "{:#}",
        r["summary"]
    );
    assert_eq!(out.status.code(), Some(3), "{:#}", r["summary"]);
}
