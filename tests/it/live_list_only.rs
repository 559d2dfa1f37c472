//! A role that may `list` but not `watch` (audit Q3). README "Permissions": list gives the
//! objects, watch only keeps them current; a one-shot `check` (or `snapshot save`) reads each
//! kind once and needs no watch, so its report is the one a full role gets — every run, the
//! same. The running TUI shows what was listed and says which kind is not live-updated,
//! naming the refused `watch`.

use std::sync::Arc;
use std::time::Duration;

use crate::live_gaps::check_in_context;
use crate::live_support::*;
use kvchain::chain::{LinkKind, Status, diagnose};
use kvchain::snapshot::Snapshot;
use kvchain::source::live::{LiveSource, Scope};
use kvchain::source::{Source, SourceEvent};
use kvchain::ui::app::{App, AppEvent};
use kvchain::ui::config::UiConfig;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::Value;
use tokio::sync::mpsc;

/// What a `check -o json` report says about the cluster: its counts, its gaps and its
/// findings (code and subject).
fn verdict(stdout: &str) -> (Value, Value, Vec<(String, String)>) {
    let r: Value = serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let findings = r["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| (f["code"].to_string(), f["subject"].to_string()))
        .collect();
    (r["summary"].clone(), r["gaps"].clone(), findings)
}

#[tokio::test]
async fn a_list_only_role_gets_the_report_of_a_full_one_every_run() {
    let full = check_in_context(&world(), &["-A", "-o", "json"]).await;
    let want = verdict(&full.stdout);
    // The refusal races the check's own reads: several runs, one answer.
    for run in 0..4 {
        let api = world();
        api.deny_every_watch();
        let got = check_in_context(&api, &["-A", "-o", "json"]).await;
        assert_eq!(got.code, full.code, "run {run}: {}", got.stdout);
        assert_eq!(verdict(&got.stdout), want, "run {run}");
    }
}

fn secret_names(s: &Snapshot) -> Vec<String> {
    let mut names: Vec<String> = s.secrets.items.iter().map(|x| x.name.to_string()).collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_refused_secret_watch_keeps_the_secrets_it_listed() {
    // list and get on Secrets, no watch: the driver's `foosecret` was listed by the label
    // watch, so it exists; a report that it is missing (KVC806) would be false.
    for run in 0..4 {
        let api = world();
        api.deny_verb(SECRETS, "watch");
        let snap = snapshot_of(&api).await;
        assert!(
            snap.secrets.gaps.is_empty(),
            "run {run}: {:?}",
            snap.secrets.gaps
        );
        assert_eq!(
            secret_names(&snap),
            ["foosecret", "legacy-synced"],
            "run {run}"
        );
        let chains = diagnose(&snap);
        let chain = chains
            .iter()
            .find(|c| c.pod == POD && c.spc == "azure-sync")
            .expect("the pod's chain");
        let sync = chain.link(LinkKind::Sync);
        assert_eq!(sync.status, Status::Ok, "run {run}: {sync:?}");
    }
}

#[tokio::test]
async fn the_tui_shows_what_was_listed_and_says_it_is_not_live_updated() {
    let api = world();
    api.deny_verb(PODS, "watch");
    let server = api.serve().await;
    let src = LiveSource::new(client(&server), "aks-test", Scope::All, no_azure())
        .with_options(options());
    let (etx, mut erx) = mpsc::unbounded_channel();
    let (_ctx, crx) = mpsc::unbounded_channel();
    let task = tokio::spawn(Box::new(src).run(etx, crx));
    let refused = "cannot watch pods at the cluster scope: forbidden";
    let mut statuses = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let snap = loop {
        let ev = tokio::time::timeout_at(deadline, erx.recv())
            .await
            .unwrap_or_else(|_| panic!("no snapshot naming the refused watch; {statuses:?}"))
            .expect("source stopped");
        match ev {
            SourceEvent::Snapshot(s) if !s.source.not_live.is_empty() => break s,
            SourceEvent::Status(m) => statuses.push(m),
            _ => {}
        }
    };
    task.abort();
    // Listed, so known: no gap, the pod is there.
    assert!(snap.pods.gaps.is_empty(), "{:?}", snap.pods.gaps);
    assert_eq!(snap.pods.items.len(), 1);
    assert_eq!(snap.source.not_live, [refused]);
    assert!(
        statuses.contains(&format!("pods: listed, not live-updated ({refused})")),
        "{statuses:?}"
    );

    // The test server serves no nodes: a gap of its own the banner now names (audit W1),
    // which would crowd out the line this test is about.
    let mut shown = (*snap).clone();
    shown.cluster.nodes = kvchain::snapshot::Observed::Known(vec![]);
    let snap = Arc::new(shown);
    let mut app = App::new(snap.source.clone(), UiConfig::default());
    app.update(AppEvent::Resize(160, 35));
    app.apply(Arc::clone(&snap), diagnose(&snap));
    let mut t = Terminal::new(TestBackend::new(160, 35)).unwrap();
    t.draw(|f| kvchain::ui::views::draw(f, &mut app)).unwrap();
    let screen = t.backend().to_string();
    assert!(
        screen.contains(&format!("not live-updated (listed once): {refused}")),
        "{screen}"
    );
    assert!(
        !screen.contains("not seen"),
        "listed is not unseen: {screen}"
    );
}
