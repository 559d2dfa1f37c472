//! The namespace narrowing, asked again. When `-A` was not given and pods cannot be listed at
//! the cluster scope, the source watches the context's namespace (README "Live clusters").
//! That was decided once, at start, so a ClusterRoleBinding applied (or propagated) later
//! never lifted it: `serve` and the TUI kept the gap "only namespace X is watched" and
//! `kvchain_incomplete 1` until restarted (audit FFF4). The running source re-asks on the
//! cluster facts' cadence and, once the list is allowed, starts again over all namespaces.

use std::sync::Arc;
use std::time::Duration;

use kube::Client;
use tokio::sync::oneshot;

use super::LiveSource;
use super::connect::Scope;
use super::watch::Shared;

/// Whether pods can be listed at the cluster scope: one metadata item is enough to know.
pub(super) async fn pods_listable(client: &Client) -> Result<(), kube::Error> {
    let pods: kube::Api<k8s_openapi::api::core::v1::Pod> = kube::Api::all(client.clone());
    pods.list_metadata(&kube::api::ListParams::default().limit(1))
        .await
        .map(|_| ())
}

/// Asks every `every`, and at once on each refresh, until pods can be listed at the cluster
/// scope, then says so on `widen`. Ends when the source stops listening.
pub(super) async fn ask_until_listable(
    client: Client,
    shared: Arc<Shared>,
    every: Duration,
    mut widen: oneshot::Sender<()>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shared.refresh.notified() => {}
            _ = widen.closed() => return,
        }
        if pods_listable(&client).await.is_ok() {
            let _ = widen.send(());
            return;
        }
    }
}

/// `src`, narrowed, made to watch every namespace, saying so once it starts.
pub(super) fn widen(src: &mut LiveSource) {
    src.scope = Scope::All;
    src.narrowed = None;
    src.notice =
        Some("pods can be listed at the cluster scope now: watching all namespaces".to_string());
}
