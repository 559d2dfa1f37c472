//! Keeps the Azure half of the live snapshot fresh without ever holding up Kubernetes updates:
//! it runs in its own task, reads the newest Kubernetes view, and writes `AzureObs` back.
//! It also tells actions whether Key Vault can be reached ([`VaultState`]).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use super::watch::Shared;
use crate::snapshot::{AzureObs, Snapshot};
use crate::source::args::AzureArgs;
use crate::source::azure::{self, AzureObserver, AzureWanted, VaultAccess};

/// How the Azure side is reached: connect with the user's credentials, or an observer built
/// beforehand (tests inject one on an in-process transport).
pub enum AzureSetup {
    Connect(AzureArgs),
    Ready(Arc<AzureObserver>),
}

impl AzureSetup {
    /// Connects if needed. `Err(reason)`: the Azure side is unknown with that reason.
    pub async fn observer(&self) -> Result<Arc<AzureObserver>, String> {
        match self {
            AzureSetup::Ready(o) => Ok(o.clone()),
            AzureSetup::Connect(args) => AzureObserver::new(args).await.map(Arc::new),
        }
    }
}

/// Whether actions can use Key Vault, as the Azure loop found out.
#[derive(Clone)]
pub enum VaultState {
    /// Credentials are still being checked.
    Starting,
    Ready(Arc<VaultAccess>),
    /// Why not: the same reason the Azure side of the snapshot is unknown.
    Unavailable(String),
}

/// Observes once per `--azure-refresh`, and at once when the chains start naming new
/// identities, vaults or objects (a new SecretProviderClass), or on a refresh request.
pub async fn run(
    setup: Arc<AzureSetup>,
    shared: Arc<Shared>,
    mut k8s: watch::Receiver<Option<Arc<Snapshot>>>,
    vault: watch::Sender<VaultState>,
) {
    let observer = match setup.observer().await {
        Ok(o) => o,
        Err(reason) => {
            vault.send_replace(VaultState::Unavailable(reason.clone()));
            shared.update(|s| s.azure = AzureObs::unknown(&reason));
            return;
        }
    };
    vault.send_replace(VaultState::Ready(Arc::new(observer.vault_access())));
    let every = observer.refresh_interval();
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
