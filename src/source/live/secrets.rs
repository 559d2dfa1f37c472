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
use super::store::{Key, LiveState};
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
                out.insert((
                    spc.namespace.as_str().into(),
                    so.secret_name.as_str().into(),
                ));
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
                out.insert((pod.namespace.clone(), name.clone()));
            }
        }
    }
    for s in secrets {
        if s.driver_managed() {
            out.remove(&(s.namespace.as_str().into(), s.name.as_str().into()));
        }
    }
    out
}

/// The Secrets to read by name so far.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Wanted {
    pub keys: BTreeSet<Key>,
    /// Every list that names Secrets is in: once these are read, the named Secrets are complete.
    pub complete: bool,
}

/// What the chains name so far, or `None` before the SecretProviderClasses and the driver's
/// Secrets have listed. Reads start then, while pods (the longest list on a big cluster) are
/// still listing; the few names only pods give (`nodePublishSecretRef`) follow once they are
/// in. Waiting for the driver's Secrets keeps their names out: the label watch has them.
pub fn wanted_now(state: &LiveState) -> Option<Wanted> {
    if !(state.spcs.synced && state.managed_secrets.synced) {
        return None;
    }
    let pods_in = state.pods.synced;
    let keys = wanted_in(
        state.spcs.values(),
        state.pods.values().filter(|_| pods_in),
        state.managed_secrets.values(),
    );
    Some(Wanted {
        keys,
        complete: pods_in,
    })
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
        Err(e) => match classify(&e, "get", SECRETS, &Scope::Namespace(ns.to_string())) {
            Failure::Gap(r) => Read::Gap(r),
            Failure::Transient(m) => Read::Transient(m),
        },
    }
}

/// Keys read in this round, each with the gap its read met (`None`: found or absent).
pub type Done = BTreeMap<Key, Option<String>>;

/// Reads the keys of `wanted` not read yet and stores the results in the
/// `named_secrets` collection, dropping what is no longer wanted. A grown wanted set (pods
/// listed after the SecretProviderClasses, a new SPC) costs only the new reads.
pub async fn read_new(client: &Client, shared: &Shared, wanted: &Wanted, done: &mut Done) {
    done.retain(|k, _| wanted.keys.contains(k));
    // A read that met a gap is tried again on every change: a permission granted later (the
    // label watch relists and the wanted set changes) shows without waiting for the round.
    let new: Vec<Key> = (wanted.keys.iter())
        .filter(|k| !matches!(done.get(*k), Some(None)))
        .cloned()
        .collect();
    let results: Vec<(Key, Read)> = futures::stream::iter(new)
        .map(|key| async move {
            let r = read(client, &key).await;
            (key, r)
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let mut transient = None;
    shared.update(|s| {
        let stale: Vec<Key> = s
            .named_secrets
            .values()
            .map(|x| (x.namespace.as_str().into(), x.name.as_str().into()))
            .filter(|k| !wanted.keys.contains(k))
            .collect();
        let named = &mut s.named_secrets;
        for key in &stale {
            named.delete(key);
        }
        for (key, r) in results {
            match r {
                Read::Found(obs) => {
                    named.apply(key.clone(), Some(*obs));
                    done.insert(key, None);
                }
                Read::Absent => {
                    named.apply(key.clone(), None);
                    done.insert(key, None);
                }
                Read::Gap(reason) => {
                    named.apply(key.clone(), None);
                    done.insert(key, Some(reason));
                }
                // A read that failed for a passing reason keeps what was seen before and is
                // tried again on the next change or round.
                Read::Transient(m) => {
                    transient.get_or_insert(m);
                }
            }
        }
        let mut gaps = Gaps::default();
        for ((ns, _), why) in done.iter() {
            if let Some(why) = why {
                gaps.namespaces
                    .entry(ns.to_string())
                    .or_insert_with(|| why.clone());
            }
        }
        named.gaps = gaps;
        named.synced |= wanted.complete;
        s.named_read = done.keys().cloned().collect();
    });
    if let Some(m) = transient {
        shared.status(format!("{m}; retrying"));
    }
}

/// Reads what is newly wanted whenever the wanted set changes, and everything again on
/// `every` and on a refresh request.
pub async fn run(
    client: Client,
    shared: Arc<Shared>,
    mut wanted_rx: watch::Receiver<Option<Wanted>>,
    every: Duration,
) {
    let mut done = Done::new();
    loop {
        let wanted = wanted_rx.borrow_and_update().clone();
        if let Some(wanted) = wanted {
            read_new(&client, &shared, &wanted, &mut done).await;
        }
        tokio::select! {
            changed = wanted_rx.changed() => if changed.is_err() { return },
            _ = tokio::time::sleep(every) => done.clear(),
            _ = shared.refresh.notified() => done.clear(),
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
            file: None,
            annotations: Default::default(),
            provider: "azure".into(),
            parameters: Default::default(),
            secret_objects: vec![SecretObjectSpec {
                secret_name: secret.into(),
                ..Default::default()
            }],
            parsed: crate::spc::parse(&Default::default()),
            namespace_less: None,
            controller: None,
        }
    }

    /// Audit Q3: the label watch delivered `synced-a`, then fell into a gap (its re-list
    /// refused), which drops what it had delivered. The by-name reads stand in for it only once
    /// they have read `synced-a` too: before, the Secret is unknown (the watch's gap), never
    /// absent — it exists.
    #[test]
    fn reads_by_name_cover_a_label_watch_gap_only_once_they_read_what_it_had_delivered() {
        use jiff::Timestamp;
        let managed = SecretObs {
            namespace: "app".into(),
            name: "synced-a".into(),
            labels: [("secrets-store.csi.k8s.io/managed".into(), "true".into())].into(),
            ..Default::default()
        };
        let key = |name: &str| -> Key { ("app".into(), name.into()) };
        let mut s = LiveState::default();
        s.spcs
            .replace(&Scope::All, [(key("spc"), spc("app", "synced-a"))].into());
        s.pods.replace(&Scope::All, BTreeMap::new());
        s.managed_secrets
            .replace(&Scope::All, [(key("synced-a"), managed.clone())].into());
        assert_eq!(wanted_now(&s).map(|w| w.keys), Some(BTreeSet::new()));
        // A round over the wanted set of then: nothing to read.
        s.named_secrets.synced = true;
        let why = "cannot list secrets at the cluster scope: forbidden";
        s.managed_secrets.set_gap(&Scope::All, why.into());
        assert_eq!(
            wanted_now(&s).map(|w| w.keys),
            Some([key("synced-a")].into()),
            "wanted by name since the watch lost it"
        );
        let snap = s.assemble("t", Timestamp::UNIX_EPOCH);
        assert_eq!(snap.secrets.unknown_in("app"), Some(why));
        // The next round reads it: covered, known, no gap.
        s.named_secrets
            .set_items([(key("synced-a"), managed)].into());
        s.named_read = [key("synced-a")].into();
        let snap = s.assemble("t", Timestamp::UNIX_EPOCH);
        assert!(snap.secrets.gaps.is_empty(), "{:?}", snap.secrets.gaps);
        assert_eq!(snap.secrets.items.len(), 1);
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
                ("app".into(), "sp-creds".into()),
                ("app".into(), "synced-b".into())
            ]
        );
    }
}
