//! README "Live clusters": "When you did not ask for `-A` and may not list pods cluster-wide,
//! kvchain watches the context's namespace instead and says so." Saying so is more than a
//! stderr line: every other namespace is a gap behind which chains may be missing, so every
//! report format calls the view incomplete and `check` exits 3 unless it found an error.

use crate::live_gaps::{Run, check_in_context};
use crate::live_support::*;
use serde_json::{Value, json};

/// `kvchain check --no-azure --context aks-payments` (no `-n`, no `-A`) plus `extra`.
async fn check(api: &FakeApi, extra: &[&str]) -> Run {
    check_in_context(api, extra).await
}

/// Pods forbidden at the cluster scope only; the context's namespace (payments) is readable
/// and its one chain is healthy, with no event: nothing but the narrowing can fail the run.
fn narrowed_world() -> FakeApi {
    let api = world();
    api.replace_silently(EVENTS, Vec::new());
    api.deny(PODS, None);
    api
}

#[tokio::test]
async fn the_text_headline_says_the_other_namespaces_were_not_read_and_exits_3() {
    let run = check(&narrowed_world(), &[]).await;
    assert_eq!(run.code, Some(3), "{}\n{}", run.stdout, run.stderr);
    let headline = run.stdout.lines().next().unwrap_or_default();
    assert!(
        headline.starts_with("INCOMPLETE: pods outside namespace payments could not be read"),
        "{headline}"
    );
    assert!(headline.contains("0 errors"), "{headline}");
    assert!(
        run.stdout
            .contains("cannot list pods at the cluster scope: forbidden"),
        "the reason is under Not visible: {}",
        run.stdout
    );
}

#[tokio::test]
async fn json_lists_the_narrowing_as_a_gap_and_keeps_the_namespace_read() {
    let run = check(&narrowed_world(), &["-o", "json"]).await;
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    let r: Value = serde_json::from_str(&run.stdout).unwrap();
    let gap = r["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["kind"] == "pods")
        .unwrap_or_else(|| panic!("no pods gap: {:#}", r["gaps"]));
    assert_eq!(gap["namespace"], Value::Null);
    assert_eq!(gap["outside"], "payments");
    // Said in the document itself, as SARIF says it (audit FFF11).
    assert_eq!(gap["hides_chains"], true, "{gap}");
    assert_eq!(r["summary"]["incomplete"], true, "{:#}", r["summary"]);
    assert!(
        gap["reason"]
            .as_str()
            .unwrap()
            .starts_with("cannot list pods at the cluster scope: forbidden"),
        "{gap}"
    );
    // The namespace that was read is diagnosed as usual.
    let chains = r["chains"].as_array().unwrap();
    assert!(!chains.is_empty());
    assert!(
        chains
            .iter()
            .all(|c| c["id"].as_str().unwrap().starts_with("payments/")),
        "{chains:#?}"
    );
    assert_eq!(r["summary"]["errors"], 0);
}

#[tokio::test]
async fn sarif_and_junit_call_the_run_incomplete() {
    let api = narrowed_world();
    let sarif = check(&api, &["-o", "sarif"]).await;
    assert_eq!(sarif.code, Some(3), "{}", sarif.stderr);
    let doc: Value = serde_json::from_str(&sarif.stdout).unwrap();
    let run = &doc["runs"][0];
    assert_eq!(run["properties"]["incomplete"], json!(true));
    assert_eq!(
        run["invocations"][0]["executionSuccessful"],
        json!(false),
        "{run:#}"
    );
    let junit = check(&api, &["-o", "junit"]).await;
    assert_eq!(junit.code, Some(3), "{}", junit.stderr);
    assert!(
        junit.stdout.contains("pods outside namespace payments"),
        "{}",
        junit.stdout
    );
    assert!(
        junit.stdout.contains("type=\"incomplete\""),
        "{}",
        junit.stdout
    );
}

#[tokio::test]
async fn asking_for_the_namespace_with_n_is_a_complete_view_of_it() {
    // -n names the namespace: nothing outside it was asked for, so nothing is missing.
    let run = check(&narrowed_world(), &["-n", NS, "-o", "json"]).await;
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    let r: Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(
        !r["gaps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["kind"] == "pods"),
        "{:#}",
        r["gaps"]
    );
}

#[tokio::test]
async fn a_fleet_cluster_narrowed_to_one_namespace_is_read_but_incomplete() {
    let api = narrowed_world();
    let server = api.serve().await;
    let dir = tempfile::tempdir().unwrap();
    let path = kubeconfig(&server, dir.path());
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_kvchain"))
        .args(["check", "--no-azure", "-o", "json"])
        // `elsewhere` is a dead server: a second context makes this a fleet check.
        .args(["--context", "aks-payments", "--context", "elsewhere"])
        .arg("--kubeconfig")
        .arg(&path)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    let r: Value = serde_json::from_str(&stdout).unwrap();
    let c = &r["clusters"][0];
    assert_eq!(c["read"], json!(true), "{c}");
    assert_eq!(c["incomplete"], json!(true), "{c}");
    assert_eq!(r["clusters"][1]["read"], json!(false));
    assert!(
        r["gaps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["kind"] == "pods" && g["outside"] == NS),
        "{:#}",
        r["gaps"]
    );
}

/// A narrowed source running on `api` (context aks-payments, no `-A`) with the cluster facts'
/// cadence `every` and clock tick `tick`: its events, the commands sender that keeps it
/// running, and the fake server and its kubeconfig's directory, which live as long as these.
async fn narrowed_source(
    api: &FakeApi,
    every: std::time::Duration,
    tick: std::time::Duration,
) -> (
    tokio::sync::mpsc::UnboundedReceiver<kvchain::source::SourceEvent>,
    tokio::sync::mpsc::UnboundedSender<kvchain::source::SourceCommand>,
    (wiremock::MockServer, tempfile::TempDir),
) {
    use kvchain::source::Source;
    let server = api.serve().await;
    let dir = tempfile::tempdir().unwrap();
    let kube = kvchain::source::args::KubeArgs {
        kubeconfig: Some(kubeconfig(&server, dir.path())),
        context: vec!["aks-payments".into()],
        ..Default::default()
    };
    let c = kvchain::source::live::prepare(&kube)
        .await
        .expect("kubeconfig");
    let mut opts = options();
    opts.cluster_refresh = every;
    opts.clock_tick = tick;
    let live = kvchain::source::live::open(c, &kube, &no_azure())
        .await
        .expect("open")
        .with_options(opts);
    let (etx, events) = tokio::sync::mpsc::unbounded_channel();
    let (commands, crx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(Box::new(live).run(etx, crx));
    (events, commands, (server, dir))
}

/// The next snapshot `events` bring that `pred` accepts, within `within`.
async fn next_snapshot(
    events: &mut tokio::sync::mpsc::UnboundedReceiver<kvchain::source::SourceEvent>,
    within: std::time::Duration,
    pred: impl Fn(&kvchain::snapshot::Snapshot) -> bool,
) -> Option<std::sync::Arc<kvchain::snapshot::Snapshot>> {
    use kvchain::source::SourceEvent;
    let wait = async {
        loop {
            match events.recv().await {
                Some(SourceEvent::Snapshot(s)) if pred(&s) => break s,
                Some(_) => continue,
                None => panic!("the source stopped"),
            }
        }
    };
    tokio::time::timeout(within, wait).await.ok()
}

/// README "Degrading, not failing": "The watch keeps retrying with backoff, so a permission
/// granted later shows up without a restart." The narrowing too (audit FFF4): a running
/// source that could not list pods cluster-wide at start asks again on the cluster facts'
/// cadence and, once it may, watches every namespace, its "only namespace payments is
/// watched" gap gone.
#[tokio::test]
async fn a_cluster_wide_pod_list_granted_later_widens_the_running_source() {
    use std::time::Duration;
    let api = narrowed_world();
    let (mut events, _commands, _server) =
        narrowed_source(&api, Duration::from_millis(500), Duration::from_secs(10)).await;
    // Narrowed first: the gap says so.
    let first = next_snapshot(&mut events, Duration::from_secs(20), |_| true)
        .await
        .expect("a first snapshot");
    assert!(first.pods.gaps.outside.is_some(), "{:?}", first.pods.gaps);
    // Granted: the next snapshots read every namespace.
    api.allow(PODS);
    let wide = next_snapshot(&mut events, Duration::from_secs(20), |s| {
        s.pods.gaps.is_empty()
    })
    .await
    .expect("the narrowing lifts without a restart");
    assert!(wide.pods.gaps.outside.is_none());
    assert!(!wide.pods.items.is_empty());
}

/// The question asked again must not stop the answers already given: a cluster-wide pod list
/// that never answers (no `--request-timeout`) would otherwise hold back every snapshot, and
/// with them the "no answer from the API server since …" they carry during an outage.
#[tokio::test]
async fn a_probe_for_the_wider_scope_that_hangs_holds_back_no_snapshot() {
    use std::time::Duration;
    let api = narrowed_world();
    let (mut events, _commands, _server) =
        narrowed_source(&api, Duration::from_millis(200), Duration::from_millis(200)).await;
    next_snapshot(&mut events, Duration::from_secs(20), |_| true)
        .await
        .expect("a first snapshot");
    api.hang_path(PODS);
    // Past a few probes, each hung: the clock's snapshots still come, one after another.
    tokio::time::sleep(Duration::from_secs(1)).await;
    while events.try_recv().is_ok() {}
    for _ in 0..3 {
        let s = next_snapshot(&mut events, Duration::from_secs(5), |_| true).await;
        assert!(s.is_some(), "snapshots stopped while a probe hung");
    }
}
