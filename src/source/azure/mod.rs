//! The Azure half of a live snapshot: ARM (identities, federated credentials, vaults, role
//! assignments) and the Key Vault data plane (object properties and versions, never values).
//! Placeholder until the Azure source lands; the live source already calls this interface.

use std::collections::BTreeSet;

use crate::cli::AzureArgs;
use crate::snapshot::{AzureObs, ObjectType, Snapshot};

/// What the Kubernetes side asks of Azure: derived from the SecretProviderClasses in use, so
/// requests scale with distinct identities/vaults/objects, never with pods.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AzureWanted {
    /// SPC `clientID`s (and SA client-id annotations).
    pub client_ids: BTreeSet<String>,
    /// (vault name, cloudName as written in the SPC, "" for default)
    pub vaults: BTreeSet<(String, String)>,
    /// (vault name, type, object name)
    pub objects: BTreeSet<(String, ObjectType, String)>,
}

/// Everything the chains of `snapshot` need from Azure.
pub fn wanted(snapshot: &Snapshot) -> AzureWanted {
    let mut w = AzureWanted::default();
    for spc in &snapshot.spcs.items {
        let p = &spc.parsed;
        if let Some(c) = &p.client_id {
            w.client_ids.insert(c.clone());
        }
        if let Some(v) = &p.keyvault_name {
            w.vaults
                .insert((v.clone(), p.cloud_name.clone().unwrap_or_default()));
            for o in &p.objects {
                if let Some(t) = o.object_type {
                    w.objects.insert((v.clone(), t, o.object_name.clone()));
                }
            }
        }
    }
    for sa in &snapshot.service_accounts.items {
        if let Some(c) = sa.annotations.get("azure.workload.identity/client-id") {
            w.client_ids.insert(c.clone());
        }
    }
    w
}

/// A connection to Azure with its caches. Cheap to clone is not required; the live source owns one.
pub struct AzureObserver {
    _args: AzureArgs,
}

impl AzureObserver {
    /// Sets up credentials. `Err(reason)` means the Azure side will be unknown with that reason.
    pub async fn new(args: &AzureArgs) -> Result<Self, String> {
        if args.no_azure {
            return Err("Azure disabled (--no-azure)".into());
        }
        Err("Azure source not built yet".into())
    }

    /// Observe what `wanted` names. Never fails as a whole: parts become unknown with a reason.
    pub async fn observe(&self, _wanted: &AzureWanted) -> AzureObs {
        AzureObs::unknown("Azure source not built yet")
    }
}
