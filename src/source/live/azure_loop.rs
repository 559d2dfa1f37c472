//! Keeps the Azure half of the live snapshot fresh without ever holding up Kubernetes updates:
//! it runs in its own task, reads the newest Kubernetes view, and writes `AzureObs` back.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use super::watch::Shared;
use crate::cli::AzureArgs;
use crate::snapshot::{AzureObs, Snapshot};
use crate::source::azure::{self, AzureObserver, AzureWanted};

/// Observes once per `--azure-refresh`, and at once when the chains start naming new
/// identities, vaults or objects (a new SecretProviderClass), or on a refresh request.
pub async fn run(
    args: AzureArgs,
    shared: Arc<Shared>,
    mut k8s: watch::Receiver<Option<Arc<Snapshot>>>,
) {
    let observer = match AzureObserver::new(&args).await {
        Ok(o) => o,
        Err(reason) => {
            shared.update(|s| s.azure = AzureObs::unknown(&reason));
            return;
        }
    };
    let every = args.azure_refresh.max(Duration::from_secs(1));
    let mut last: Option<AzureWanted> = None;
    let mut due = Instant::now();
    loop {
        let wanted = k8s.borrow_and_update().as_deref().map(azure::wanted);
        if let Some(w) = wanted
            && (last.as_ref() != Some(&w) || Instant::now() >= due)
        {
            let obs = observer.observe(&w).await;
            shared.update(|s| s.azure = obs);
            last = Some(w);
            due = Instant::now() + every;
        }
        // Nothing to observe before the first Kubernetes view: wait for it, not the clock.
        let deadline = if last.is_some() {
            due
        } else {
            Instant::now() + Duration::from_secs(3600)
        };
        tokio::select! {
            changed = k8s.changed() => if changed.is_err() { return },
            _ = tokio::time::sleep_until(deadline) => {}
            _ = shared.refresh.notified() => due = Instant::now(),
        }
    }
}
