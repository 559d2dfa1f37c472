//! Say what could not be seen: every gap the live source records reaches the text report
//! ("Not visible", first), the JSON (`gaps`) and the exit status (3: incomplete); links behind
//! an unreadable SecretProviderClass are unknown, not pending; a server that never answers
//! fails fast under `--request-timeout`, naming its URL and context.

use std::time::Duration;

use crate::live_support::*;
use kvchain::chain::{LinkKind, Status, diagnose};
use kvchain::source::args::KubeArgs;
use kvchain::source::live::{LiveSource, Scope, connect, prepare};
use serde_json::{Value, json};

pub(crate) struct Run {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    /// Its stdout, which must be one JSON document.
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", self.stdout, self.stderr))
    }
}

/// `kvchain check --no-azure -n payments -o FORMAT` against `api`, whose planted `canary`
/// value neither stream may hold.
pub(crate) async fn check_without(api: &FakeApi, format: &str, canary: &str) -> Run {
    let run = check_in_context(api, &["-n", NS, "-o", format]).await;
    for out in [&run.stdout, &run.stderr] {
        assert!(!out.contains(canary), "a secret value was printed: {out}");
    }
    run
}

/// What the text and SARIF reports of `api` (checked as [`check_without`]) say when a `kind`
/// gap in payments hides chains: exit 3 each, the text's headline INCOMPLETE naming the gap,
/// SARIF's execution not successful and its run marked incomplete.
pub(crate) async fn assert_text_and_sarif_incomplete(api: &FakeApi, kind: &str, canary: &str) {
    let text = check_without(api, "text", canary).await;
    assert_eq!(text.code, Some(3));
    let headline = text.stdout.lines().next().unwrap_or_default();
    assert!(
        headline.starts_with(&format!("INCOMPLETE: {kind} in {NS} could not be read — ")),
        "{headline}"
    );
    let sarif = check_without(api, "sarif", canary).await;
    assert_eq!(sarif.code, Some(3));
    let s = sarif.json();
    let invocation = &s["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false, "{invocation:#}");
    let run_props = &s["runs"][0]["properties"];
    assert_eq!(run_props["incomplete"], true, "{run_props:#}");
}

/// `kvchain check --no-azure -n payments` (plus `extra`) against `api`, as alice.
async fn check(api: &FakeApi, extra: &[&str]) -> Run {
    let mut args = vec!["-n", NS];
    args.extend_from_slice(extra);
    check_in_context(api, &args).await
}

/// `kvchain check --no-azure --context aks-payments` plus `args` against `api`.
pub(crate) async fn check_in_context(api: &FakeApi, args: &[&str]) -> Run {
    let server = api.serve().await;
    let dir = tempfile::tempdir().unwrap();
    let path = kubeconfig(&server, dir.path());
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "--no-azure", "--context", "aks-payments"])
        .args(args)
        .arg("--kubeconfig")
        .arg(&path)
        .env("NO_COLOR", "1")
        .output()
        .await
        .unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn report(run: &Run) -> Value {
    run.json()
}

fn has_gap(report: &Value, kind: &str, reason: &str) -> bool {
    gap(report, kind, reason).is_some()
}

/// The gap of `kind` in the namespace with that reason, whatever else it carries.
fn gap<'a>(report: &'a Value, kind: &str, reason: &str) -> Option<&'a Value> {
    report["gaps"]
        .as_array()
        .expect("a gaps array")
        .iter()
        .find(|g| g["kind"] == kind && g["namespace"] == NS && g["reason"] == reason)
}

/// The world without its FailedMount event, so nothing but the gaps can decide the status.
fn quiet_world() -> FakeApi {
    let api = world();
    api.replace_silently(EVENTS, Vec::new());
    api
}

#[tokio::test]
async fn no_rbac_at_all_says_what_could_not_be_seen_first_and_exits_3() {
    let api = world();
    api.deny_everything();
    let run = check(&api, &[]).await;
    assert_eq!(run.code, Some(3), "{}\n{}", run.stdout, run.stderr);
    let out = &run.stdout;
    let not_visible = out.find("Not visible").unwrap_or_else(|| panic!("{out}"));
    let first_chain_word = out.find("No pod").unwrap_or(out.len());
    assert!(not_visible < first_chain_word, "gaps come first: {out}");
    for line in [
        "  cannot list pods in payments: forbidden",
        "  cannot list secretproviderclasses in payments: forbidden",
        "  cannot list serviceaccounts in payments: forbidden",
    ] {
        assert!(out.contains(line), "missing {line:?} in\n{out}");
    }
    assert!(
        !out.contains("No pod mounts (or means to mount)"),
        "an unread namespace is not an empty one: {out}"
    );
}

#[tokio::test]
async fn no_rbac_at_all_json_carries_the_gaps() {
    let api = world();
    api.deny_everything();
    let run = check(&api, &["-o", "json"]).await;
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    let r = report(&run);
    assert_eq!(r["chains"], json!([]));
    assert!(
        has_gap(&r, "pods", "cannot list pods in payments: forbidden"),
        "{:#}",
        r["gaps"]
    );
    assert!(has_gap(
        &r,
        "secretproviderclasses",
        "cannot list secretproviderclasses in payments: forbidden"
    ));
    // The 403 is a permission to ask for: the gap says how to confirm it.
    assert_eq!(
        gap(&r, "pods", "cannot list pods in payments: forbidden").map(|g| &g["confirm"]),
        Some(&json!(["kubectl auth can-i list pods -n payments"]))
    );
}

#[tokio::test]
async fn unreadable_spcs_alone_make_the_check_incomplete() {
    let api = quiet_world();
    api.deny(SPCS, Some(NS));
    let run = check(&api, &["-o", "json"]).await;
    let r = report(&run);
    assert_eq!(run.code, Some(3), "{:#}", r["findings"]);
    assert!(has_gap(
        &r,
        "secretproviderclasses",
        "cannot list secretproviderclasses in payments: forbidden"
    ));
    assert_eq!(r["summary"]["errors"], 0);
}

#[tokio::test]
async fn an_error_found_in_what_was_seen_still_exits_1_and_lists_the_gap() {
    // The pod's service account does not exist (KVC202): an error, whatever else is unknown.
    let api = quiet_world();
    api.replace_silently(SERVICE_ACCOUNTS, Vec::new());
    api.deny(SPCS, Some(NS));
    let run = check(&api, &["-o", "json"]).await;
    let r = report(&run);
    assert_eq!(run.code, Some(1), "{:#}", r["findings"]);
    assert_eq!(r["findings"][0]["code"], "KVC202");
    assert!(has_gap(
        &r,
        "secretproviderclasses",
        "cannot list secretproviderclasses in payments: forbidden"
    ));
}

#[tokio::test]
async fn unreadable_secrets_are_listed_but_hide_no_chain() {
    let api = quiet_world();
    api.deny(SECRETS, Some(NS));
    let run = check(&api, &[]).await;
    assert!(
        run.stdout
            .contains("  cannot list secrets in payments: forbidden"),
        "{}",
        run.stdout
    );
    // A link is unknown, no chain is missing: no INCOMPLETE headline; but the chain is not
    // verified, and "0 errors" over it exits 3, not 0 (audit VVV-honest).
    assert!(!run.stdout.starts_with("INCOMPLETE"), "{}", run.stdout);
    assert_eq!(run.code, Some(3), "{}", run.stdout);
}

#[tokio::test]
async fn partial_rights_make_the_links_behind_an_unread_spc_unknown_not_pending() {
    let api = quiet_world();
    api.deny(SPCS, Some(NS));
    let server = api.serve().await;
    let live = LiveSource::new(
        client(&server),
        "aks-test",
        Scope::Namespace(NS.into()),
        no_azure(),
    )
    .with_options(options());
    let snap = tokio::time::timeout(Duration::from_secs(15), live.snapshot())
        .await
        .expect("snapshot");
    assert_eq!(snap.pods.items.len(), 1, "pods are readable");
    let chains = diagnose(&snap);
    let chain = chains
        .iter()
        .find(|c| c.pod == POD)
        .expect("the pod's chain");
    let reason = "cannot list secretproviderclasses in payments: forbidden";
    for kind in [
        LinkKind::Pod,
        LinkKind::Identity,
        LinkKind::Federation,
        LinkKind::Access,
        LinkKind::VaultObject,
        LinkKind::Mount,
        LinkKind::Sync,
        LinkKind::Consumers,
    ] {
        let link = chain.link(kind);
        assert_eq!(link.status, Status::Unknown, "{kind:?}: {link:?}");
        assert!(
            link.facts.iter().any(|f| format!("{f:?}").contains(reason)),
            "{kind:?} says why: {link:?}"
        );
    }
}

#[tokio::test]
async fn a_server_that_never_answers_fails_fast_naming_its_url_and_context() {
    let url = hanging_server();
    let dir = tempfile::tempdir().unwrap();
    let path = kubeconfig_for(&url, dir.path());
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args([
            "check",
            "--no-azure",
            "--request-timeout",
            "1s",
            "--kubeconfig",
        ])
        .arg(&path)
        .kill_on_drop(true)
        .output();
    // Without the limit this would wait for ever: the guard only keeps a broken build from
    // hanging the suite.
    let out = tokio::time::timeout(Duration::from_secs(60), child)
        .await
        .expect("check gave up on its own")
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&url), "names the server: {stderr}");
    assert!(
        stderr.contains("context hung"),
        "names the context: {stderr}"
    );
    assert!(stderr.contains("--request-timeout"), "{stderr}");
}

#[tokio::test]
async fn the_tui_can_say_where_it_connects_before_the_server_answers() {
    let url = hanging_server();
    let dir = tempfile::tempdir().unwrap();
    let args = KubeArgs {
        kubeconfig: Some(kubeconfig_for(&url, dir.path())),
        request_timeout: Some(Duration::from_secs(1)),
        ..KubeArgs::default()
    };
    // Reading the kubeconfig asks the server nothing: the endpoint is known at once.
    let c = tokio::time::timeout(Duration::from_secs(30), prepare(&args))
        .await
        .expect("prepare sends no request")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.endpoint.server, url);
    assert_eq!(c.endpoint.context.as_deref(), Some("hung"));
    assert_eq!(c.endpoint.to_string(), format!("{url} (context hung)"));
    // Connecting then fails with the same words.
    let err = match tokio::time::timeout(Duration::from_secs(60), connect(&args, &no_azure()))
        .await
        .expect("connect gave up on its own")
    {
        Ok(_) => panic!("a server that never answers connected"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains(&format!("cannot reach {url} (context hung)")),
        "{err}"
    );
}

/// FFF9. The driver's Secrets are listed by label and the rest read by the names the SPCs and
/// pods give. With the SPCs unread no name is wanted, so nothing read by name stands for the
/// refused list: it is a gap like every other refused kind, not silently dropped.
#[tokio::test]
async fn a_refused_secrets_list_is_said_when_no_name_could_stand_for_it() {
    let api = quiet_world();
    api.deny(SPCS, Some(NS));
    api.deny(SECRETS, Some(NS));
    let run = check(&api, &["-o", "json"]).await;
    let r = report(&run);
    assert!(
        r["gaps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["kind"] == "secrets" && g["namespace"] == NS),
        "{:#}",
        r["gaps"]
    );
}
