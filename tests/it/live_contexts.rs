//! The TUI's `:ctx`: the live source lists the kubeconfig's contexts and moves to another
//! one; its snapshots then come from the new cluster under the new context's name. A context
//! that cannot be reached is a status line and the current cluster stays.

use std::sync::Arc;
use std::time::Duration;

use crate::live_support::*;
use kvchain::snapshot::Snapshot;
use kvchain::source::args::KubeArgs;
use kvchain::source::live::{connect, switch::Switching};
use kvchain::source::{Source, SourceCommand, SourceEvent};
use serde_json::json;
use tokio::sync::mpsc;
use wiremock::MockServer;

fn kubeconfig2(one: &MockServer, two: &MockServer, dir: &std::path::Path) -> std::path::PathBuf {
    let text = format!(
        "apiVersion: v1
kind: Config
clusters:
- {{name: one, cluster: {{server: {}}}}}
- {{name: two, cluster: {{server: {}}}}}
contexts:
- {{name: aks-one, context: {{cluster: one, user: alice}}}}
- {{name: aks-two, context: {{cluster: two, user: alice}}}}
current-context: aks-one
users:
- {{name: alice, user: {{token: not-a-secret-test-token}}}}
",
        one.uri(),
        two.uri()
    );
    let path = dir.join("kubeconfig-two");
    std::fs::write(&path, text).unwrap();
    path
}

struct Events(mpsc::UnboundedReceiver<SourceEvent>);

impl Events {
    async fn snapshot(&mut self, pred: impl Fn(&Snapshot) -> bool) -> Arc<Snapshot> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            match tokio::time::timeout_at(deadline, self.0.recv()).await {
                Ok(Some(SourceEvent::Snapshot(s))) if pred(&s) => return s,
                Ok(Some(SourceEvent::Failed(m))) => panic!("source failed: {m}"),
                Ok(Some(_)) => {}
                other => panic!("no matching snapshot: {other:?}"),
            }
        }
    }

    async fn status(&mut self, pred: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            match tokio::time::timeout_at(deadline, self.0.recv()).await {
                Ok(Some(SourceEvent::Status(s))) if pred(&s) => return s,
                Ok(Some(_)) => {}
                other => panic!("no matching status: {other:?}"),
            }
        }
    }
}

#[tokio::test]
async fn ctx_lists_the_contexts_and_switches_to_another_cluster() {
    let one = world();
    let two = world();
    let mut other_pod = pod("azure-sync", "Running");
    other_pod["metadata"]["name"] = json!("only-on-two");
    two.replace_silently(PODS, vec![other_pod]);
    let (s1, s2) = (one.serve().await, two.serve().await);
    let dir = tempfile::tempdir().unwrap();
    let kube = KubeArgs {
        kubeconfig: Some(kubeconfig2(&s1, &s2, dir.path())),
        ..KubeArgs::default()
    };
    let live = connect(&kube, &no_azure()).await.unwrap();
    let source = Switching::new(live, kube, no_azure());
    let (etx, erx) = mpsc::unbounded_channel();
    let (ctx, crx) = mpsc::unbounded_channel();
    let task = tokio::spawn(Box::new(source).run(etx, crx));
    let mut events = Events(erx);

    let first = events.snapshot(|_| true).await;
    assert_eq!(first.source.label, "aks-one");

    ctx.send(SourceCommand::Context(None)).unwrap();
    let listing = events.status(|s| s.starts_with("contexts:")).await;
    assert!(listing.contains("*aks-one aks-two"), "{listing}");

    ctx.send(SourceCommand::Context(Some("aks-nowhere".into())))
        .unwrap();
    let refused = events.status(|s| s.contains("aks-nowhere")).await;
    assert!(refused.contains("still on aks-one"), "{refused}");

    ctx.send(SourceCommand::Context(Some("aks-two".into())))
        .unwrap();
    let moved = events.snapshot(|s| s.source.label == "aks-two").await;
    let pods: Vec<&str> = moved.pods.items.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(pods, ["only-on-two"], "the other cluster's pods");

    // Actions still reach the (new) inner source: a refresh gives a snapshot of aks-two.
    ctx.send(SourceCommand::Refresh).unwrap();
    drop(ctx);
    let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
}
