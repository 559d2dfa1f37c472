//! Secrets the chains name that the driver does not manage, read one by one.
//!
//! Why per-name reads and not a second watch: watching every Secret would stream every value in
//! the cluster (Helm release Secrets alone are megabytes) through the process, and a metadata
//! watch cannot tell an empty Secret from a filled one nor compare values. The names that
//! matter are few and derive from SecretProviderClasses (`secretObjects[].secretName`) and CSI
//! volumes (`nodePublishSecretRef`), so they scale with SPCs, not pods. Each read is
//! fingerprinted by `convert::secret` and the bytes dropped right there.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use kube::{Api, Client};
use tokio::sync::watch;

use super::connect::Scope;
use super::errors::{Failure, classify};
use super::kinds::SECRETS;
use super::store::Key;
use super::watch::Shared;
use crate::snapshot::{Gaps, PodObs, SecretObs, Snapshot, SpcObs, VolumeSourceObs, convert};

const CSI_DRIVER: &str = "secrets-store.csi.k8s.io";
/// Reads in flight at once: polite to the API server, still quick for hundreds of names.
const CONCURRENCY: usize = 8;

/// The (namespace, name) of every Secret the chains of `snapshot` name, minus those the
/// driver's label watch already delivers.
pub fn wanted(snapshot: &Snapshot) -> BTreeSet<Key> {
    wanted_in(
        &snapshot.spcs.items,
        &snapshot.pods.items,
        &snapshot.secrets.items,
    )
}

/// [`wanted`] over the live store's collections directly (no snapshot copy needed).
pub fn wanted_in<'a>(
    spcs: impl IntoIterator<Item = &'a SpcObs>,
    pods: impl IntoIterator<Item = &'a PodObs>,
    secrets: impl IntoIterator<Item = &'a SecretObs>,
) -> BTreeSet<Key> {
    let mut out = BTreeSet::new();
    for spc in spcs {
        for so in &spc.secret_objects {
            if !so.secret_name.is_empty() {
                out.insert((spc.namespace.clone(), so.secret_name.clone()));
            }
        }
    }
    for pod in pods {
        for v in &pod.volumes {
            if let VolumeSourceObs::Csi {
                driver,
                node_publish_secret: Some(name),
                ..
            } = &v.source
                && driver == CSI_DRIVER
            {
                out.insert((pod.namespace.to_string(), name.to_string()));
            }
        }
    }
    for s in secrets {
        if s.driver_managed() {
            out.remove(&(s.namespace.clone(), s.name.clone()));
        }
    }
    out
}

enum Read {
    Found(Box<SecretObs>),
    Absent,
    Gap(String),
    Transient(String),
}

async fn read(client: &Client, (ns, name): &Key) -> Read {
    let api: Api<Secret> = Api::namespaced(client.clone(), ns);
    match api.get_opt(name).await {
        // The Secret (with its bytes) lives only for the duration of this conversion.
        Ok(Some(s)) => Read::Found(Box::new(convert::secret(&s))),
        Ok(None) => Read::Absent,
        Err(e) => match classify(&e, "get", SECRETS, &Scope::Namespace(ns.clone())) {
            Failure::Gap(r) => Read::Gap(r),
            Failure::Transient(m) => Read::Transient(m),
        },
    }
}

/// Reads `wanted` once and stores the result as the `named_secrets` collection.
pub async fn read_all(client: &Client, shared: &Shared, wanted: &BTreeSet<Key>) {
    let results: Vec<(Key, Read)> = futures::stream::iter(wanted.iter().cloned())
        .map(|key| async move {
            let r = read(client, &key).await;
            (key, r)
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let mut items = BTreeMap::new();
    let mut gaps = Gaps::default();
    let mut transient = Vec::new();
    for (key, r) in results {
        match r {
            Read::Found(s) => {
                items.insert(key, *s);
            }
            Read::Absent => {}
            Read::Gap(reason) => {
                gaps.namespaces.entry(key.0).or_insert(reason);
            }
            Read::Transient(m) => transient.push((key, m)),
        }
    }
    if let Some((_, m)) = transient.first() {
        shared.status(format!("{m}; retrying"));
    }
    shared.update(|s| {
        // A read that failed for a passing reason keeps what was seen before.
        let lent = s.lent(super::store::at::secrets);
        for (key, _) in &transient {
            if let Some(old) = s.named_secrets.get(key, lent) {
                items.insert(key.clone(), old.clone());
            }
        }
        s.named_secrets.set_items(items);
        s.named_secrets.gaps = gaps;
        s.named_secrets.synced = true;
    });
}

/// Re-reads whenever the wanted set changes, on `every`, and on a refresh request.
pub async fn run(
    client: Client,
    shared: Arc<Shared>,
    mut wanted_rx: watch::Receiver<Option<BTreeSet<Key>>>,
    every: Duration,
) {
    loop {
        let wanted = wanted_rx.borrow_and_update().clone();
        if let Some(wanted) = wanted {
            read_all(&client, &shared, &wanted).await;
        }
        tokio::select! {
            changed = wanted_rx.changed() => if changed.is_err() { return },
            _ = tokio::time::sleep(every) => {}
            _ = shared.refresh.notified() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{Coll, PodObs, SecretObjectSpec, SpcObs, VolumeObs};

    fn spc(ns: &str, secret: &str) -> SpcObs {
        SpcObs {
            namespace: ns.into(),
            name: "spc".into(),
            annotations: Default::default(),
            provider: "azure".into(),
            parameters: Default::default(),
            secret_objects: vec![SecretObjectSpec {
                secret_name: secret.into(),
                ..Default::default()
            }],
            parsed: crate::spc::parse(&Default::default()),
        }
    }

    #[test]
    fn wanted_names_synced_and_node_publish_secrets_not_already_watched() {
        let pod = PodObs {
            namespace: "app".into(),
            name: "p".into(),
            volumes: vec![VolumeObs {
                name: "kv".into(),
                source: VolumeSourceObs::Csi {
                    driver: CSI_DRIVER.into(),
                    read_only: Some(true),
                    attributes: Default::default(),
                    node_publish_secret: Some("sp-creds".into()),
                },
            }],
            ..Default::default()
        };
        let managed = SecretObs {
            namespace: "app".into(),
            name: "synced-a".into(),
            labels: [("secrets-store.csi.k8s.io/managed".into(), "true".into())].into(),
            ..Default::default()
        };
        let snap = Snapshot {
            pods: Coll::known(vec![pod]),
            spcs: Coll::known(vec![spc("app", "synced-a"), spc("app", "synced-b")]),
            secrets: Coll::known(vec![managed]),
            ..Default::default()
        };
        let w: Vec<_> = wanted(&snap).into_iter().collect();
        assert_eq!(
            w,
            vec![
                ("app".to_string(), "sp-creds".to_string()),
                ("app".to_string(), "synced-b".to_string())
            ]
        );
    }
}
