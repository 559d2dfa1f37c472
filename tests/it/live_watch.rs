//! The running live source: progress, then snapshots that follow watch updates, and recovery
//! when a watch ends, expires (410) or fails (500).

use std::sync::Arc;
use std::time::Duration;

use crate::live_support::*;
use kvchain::snapshot::Snapshot;
use kvchain::source::live::{LiveSource, Scope};
use kvchain::source::{Source, SourceCommand, SourceEvent, request};
use tokio::sync::mpsc;

struct Running {
    events: mpsc::UnboundedReceiver<SourceEvent>,
    commands: Option<mpsc::UnboundedSender<SourceCommand>>,
    task: tokio::task::JoinHandle<()>,
    /// Every status line seen so far.
    statuses: Vec<String>,
    progress_seen: bool,
    _server: wiremock::MockServer,
}

async fn start(api: &FakeApi, scope: Scope) -> Running {
    start_with(api, scope, options()).await
}

async fn start_with(
    api: &FakeApi,
    scope: Scope,
    options: kvchain::source::live::LiveOptions,
) -> Running {
    let server = api.serve().await;
    let src = LiveSource::new(client(&server), "aks-test", scope, no_azure()).with_options(options);
    let (etx, erx) = mpsc::unbounded_channel();
    let (ctx, crx) = mpsc::unbounded_channel();
    let task = tokio::spawn(Box::new(src).run(etx, crx));
    Running {
        events: erx,
        commands: Some(ctx),
        task,
        statuses: Vec::new(),
        progress_seen: false,
        _server: server,
    }
}

impl Running {
    /// The first snapshot satisfying `pred`, within `secs`.
    async fn until(&mut self, secs: u64, pred: impl Fn(&Snapshot) -> bool) -> Arc<Snapshot> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let ev = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "no matching snapshot in {secs}s; statuses: {:?}",
                        self.statuses
                    )
                })
                .expect("source stopped");
            match ev {
                SourceEvent::Snapshot(s) if pred(&s) => return s,
                SourceEvent::Snapshot(_) => {}
                SourceEvent::Progress(_) => self.progress_seen = true,
                SourceEvent::Status(m) => self.statuses.push(m),
                SourceEvent::Failed(m) => panic!("source failed: {m}"),
                SourceEvent::Unreachable { why, .. } => panic!("source unreachable: {why}"),
                SourceEvent::Lab(_) => {}
            }
        }
    }
}

/// The debounce gathers changes into later snapshots; it does not hold back the first one
/// (there is nothing to gather before it, only progress to show).
#[tokio::test]
async fn the_first_snapshot_does_not_wait_for_the_debounce() {
    let api = world();
    let slow = kvchain::source::live::LiveOptions {
        debounce: Duration::from_secs(30),
        ..options()
    };
    let mut run = start_with(&api, Scope::All, slow).await;
    let first = run.until(20, |_| true).await;
    assert_eq!(first.pods.items.len(), 1);
}

/// A quiet cluster still moves the diagnosis's clock: the TUI and `serve` re-diagnose only
/// what a snapshot changes, at its time, and verdicts turn with time (KVC703's lag, an expiry
/// coming); without a snapshot they never would (audit D2, seen in the lab). The same objects
/// come again, at a later time, every `clock_tick`.
#[tokio::test]
async fn a_quiet_cluster_still_sends_snapshots_at_a_later_time() {
    let api = world();
    let ticking = kvchain::source::live::LiveOptions {
        clock_tick: Duration::from_millis(300),
        ..options()
    };
    let mut run = start_with(&api, Scope::All, ticking).await;
    let first = run.until(20, |_| true).await;
    let mut at = first.source.observed_at;
    // (A snapshot or two follow the first as the watches settle; then only the clock moves.)
    for _ in 0..4 {
        let later = run.until(10, |s| s.source.observed_at > at).await;
        assert_eq!(later.pods.items, first.pods.items);
        at = later.source.observed_at;
    }
}

fn mounted_version(s: &Snapshot) -> Option<&str> {
    s.spc_statuses
        .items
        .first()
        .map(|st| st.objects[0].version.as_str())
}

#[tokio::test]
async fn progress_first_then_snapshots_follow_watch_updates() {
    let api = world();
    let mut run = start(&api, Scope::All).await;
    let first = run.until(20, |_| true).await;
    assert!(run.progress_seen, "progress before the first snapshot");
    assert_eq!(
        mounted_version(&first),
        Some("b82206cb5ac249918008b0b97fd1fd66")
    );

    // The driver rotates: SPCPS now carries the new version.
    api.push_watch(
        SPCPS,
        &[("MODIFIED", spcps("0d5cbc8a1b1e4a0f8f2f0e1d2c3b4a59"))],
    );
    let rotated = run
        .until(10, |s| {
            mounted_version(s) == Some("0d5cbc8a1b1e4a0f8f2f0e1d2c3b4a59")
        })
        .await;
    assert_eq!(rotated.pods.items.len(), 1);

    // The pod goes away.
    api.push_watch(PODS, &[("DELETED", pod("azure-sync", "Running"))]);
    run.until(10, |s| s.pods.items.is_empty()).await;

    // A synced Secret's value changes: a new fingerprint, never the value.
    api.push_watch(
        SECRETS,
        &[(
            "MODIFIED",
            synced_secret("foosecret", "CANARY-rotated-value", true),
        )],
    );
    let s = run
        .until(10, |s| {
            s.secrets.items.iter().any(|x| {
                x.name == "foosecret"
                    && x.data["username"]
                        == kvchain::fingerprint::Fingerprint::of(b"CANARY-rotated-value")
            })
        })
        .await;
    let dump = serde_json::to_string(&*s).unwrap();
    assert!(!dump.contains("CANARY-rotated-value") && !dump.contains(CANARY));

    // Closing the command channel stops the source.
    run.commands.take();
    tokio::time::timeout(Duration::from_secs(5), run.task)
        .await
        .expect("source stops when the UI quits")
        .unwrap();
}

#[tokio::test]
async fn expired_watch_relists_and_failed_list_recovers_with_status() {
    let api = world();
    let mut run = start(&api, Scope::All).await;
    run.until(20, |_| true).await;

    // Behind the watcher's back the pod is replaced; the watch then expires (410), the
    // re-list fails once with a 500, and the next re-list brings the new pod.
    let mut moved = pod("azure-sync", "Running");
    moved["metadata"]["name"] = serde_json::json!("busybox-after-relist");
    api.replace_silently(PODS, vec![moved]);
    api.fail_next_lists(PODS, &[500]);
    api.push_watch_raw(PODS, gone());
    let s = run
        .until(20, |s| {
            s.pods
                .items
                .iter()
                .any(|p| p.name == "busybox-after-relist")
        })
        .await;
    assert_eq!(
        s.pods.items.len(),
        1,
        "the old pod is gone after the re-list"
    );
    assert!(
        run.statuses
            .iter()
            .any(|m| m.contains("pods") && m.contains("reconnecting")),
        "a reconnecting status was shown: {:?}",
        run.statuses
    );
    assert!(
        run.statuses.iter().any(|m| m == "watch pods: reconnected"),
        "{:?}",
        run.statuses
    );
    // Other kinds were untouched throughout.
    assert_eq!(s.spc_statuses.items.len(), 1);
}

#[tokio::test]
async fn watch_start_failure_keeps_data_and_recovers() {
    let api = world();
    let mut run = start(&api, Scope::All).await;
    run.until(20, |_| true).await;
    api.fail_next_watches(SPCPS, &[500, 500]);
    api.push_watch(
        SPCPS,
        &[("MODIFIED", spcps("11111111111111111111111111111111"))],
    );
    let s = run
        .until(20, |s| {
            mounted_version(s) == Some("11111111111111111111111111111111")
        })
        .await;
    assert_eq!(s.pods.items.len(), 1);
    let statuses = run.statuses.clone();
    assert!(
        statuses
            .iter()
            .any(|m| m.contains("secretproviderclasspodstatuses") && m.ends_with("reconnecting")),
        "{statuses:?}"
    );
    // The event right after the failures announces the recovery.
    assert!(
        statuses
            .iter()
            .any(|m| m == "watch secretproviderclasspodstatuses: reconnected"),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn restart_checks_permission_and_deletes_the_bare_pod_through_the_audit_wrapper() {
    let api = world();
    api.raw(
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        serde_json::json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                           "spec": {}, "status": {"allowed": true}}),
    );
    let server = api.serve().await;
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let live = LiveSource::new(client(&server), "aks-test", Scope::All, no_azure())
        .with_options(options());
    let src = kvchain::source::audited::Audited::new(Box::new(live), Some(audit.clone()));
    let (etx, mut erx) = mpsc::unbounded_channel();
    let (ctx, crx) = mpsc::unbounded_channel();
    tokio::spawn(Box::new(src).run(etx, crx));
    loop {
        match tokio::time::timeout(Duration::from_secs(20), erx.recv())
            .await
            .unwrap()
            .unwrap()
        {
            SourceEvent::Snapshot(_) => break,
            _ => continue,
        }
    }
    let ask = |action| {
        request(&ctx, |reply| SourceCommand::Act { action, reply })
            .expect("source running")
            .within(Duration::from_secs(20))
    };
    let outcome = ask(kvchain::action::Action::Restart {
        namespace: NS.into(),
        pod: POD.into(),
    })
    .await
    .unwrap();
    assert!(outcome.ok, "{}", outcome.message);
    assert!(outcome.message.contains("deleted"), "{}", outcome.message);
    assert!(
        api.requests()
            .iter()
            .any(|r| r.starts_with("DELETE") && r.contains(POD)),
        "{:?}",
        api.requests()
    );
    let log = std::fs::read_to_string(&audit).expect("audit log written");
    assert_eq!(log.lines().count(), 1);
    let rec: serde_json::Value = serde_json::from_str(log.trim()).unwrap();
    assert_eq!(rec["action"], "restart");
    assert_eq!(rec["result"], "ok");
    assert!(
        rec["identity"].as_str().unwrap().ends_with("@aks-test"),
        "{rec}"
    );

    // Verify writes nothing, so nothing is audited; the fake server cannot exec, which the
    // answer says (the exec paths themselves are in tests/it/live_actions.rs).
    let outcome = ask(kvchain::action::Action::Verify {
        namespace: NS.into(),
        pod: POD.into(),
        container: "busybox".into(),
    })
    .await
    .unwrap();
    assert!(!outcome.ok);
    assert!(
        outcome.message.contains("cannot verify"),
        "{}",
        outcome.message
    );
    assert_eq!(std::fs::read_to_string(&audit).unwrap().lines().count(), 1);
}

#[tokio::test]
async fn a_kind_that_keeps_failing_does_not_hold_the_ui_and_fills_in_later() {
    let api = world();
    api.fail_next_lists(EVENTS, &[500, 500, 500]);
    let server = api.serve().await;
    let mut opts = options();
    opts.startup_deadline = Duration::from_secs(1);
    let src =
        LiveSource::new(client(&server), "aks-test", Scope::All, no_azure()).with_options(opts);
    let (etx, erx) = mpsc::unbounded_channel();
    let (ctx, crx) = mpsc::unbounded_channel();
    let task = tokio::spawn(Box::new(src).run(etx, crx));
    let mut run = Running {
        events: erx,
        commands: Some(ctx),
        task,
        statuses: Vec::new(),
        progress_seen: false,
        _server: server,
    };
    let first = run.until(10, |_| true).await;
    let why = first
        .events
        .gaps
        .all
        .as_deref()
        .expect("events unknown at first");
    assert!(
        why.starts_with("not listed within 1s: list events: 500"),
        "{why}"
    );
    assert_eq!(first.pods.items.len(), 1, "the rest is shown meanwhile");
    let later = run.until(30, |s| s.events.gaps.is_empty()).await;
    assert_eq!(later.events.items.len(), 1);
}
