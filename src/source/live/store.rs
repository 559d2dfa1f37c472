//! The live source's memory: converted observations only, keyed by (namespace, name).
//!
//! Watchers convert every object with [`crate::snapshot::convert`] *before* it reaches this
//! store, so neither full k8s-openapi objects nor secret bytes are ever kept here.
//!
//! One copy, not two: each observation is held behind an `Arc` that the snapshots assembled
//! from the store share ([`crate::snapshot::Items`]); the store, the snapshot the UI shows
//! and the incremental engine's objects are one copy of each object. (At 10,000 pods the
//! store and the UI's snapshot were once two full copies, the engine a third.)

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;

use super::connect::Scope;
use crate::snapshot::{
    AzureObs, ClusterFacts, Coll, EventObs, Gaps, IngressObs, Items, Name, PodObs, SecretObs,
    ServiceAccountObs, Snapshot, SourceInfo, SourceKind, SpcObs, SpcPodStatusObs, WorkloadObs,
};

pub type Key = (Name, Name);

/// One kind's objects and what could not be seen of it.
#[derive(Debug)]
pub struct Kind<T> {
    items: BTreeMap<Key, Arc<T>>,
    pub gaps: Gaps,
    /// The first complete list arrived (or failed for good): startup can stop waiting.
    pub synced: bool,
    /// The newest transient failure, for the reason when startup gives up waiting.
    pub last_error: Option<String>,
}

impl<T> Default for Kind<T> {
    fn default() -> Self {
        Kind {
            items: BTreeMap::new(),
            gaps: Gaps::default(),
            synced: false,
            last_error: None,
        }
    }
}

impl<T> Kind<T> {
    /// How many objects are stored.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The stored objects in key order.
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.items.values().map(|t| &**t)
    }

    /// The object stored under `key`.
    pub fn get(&self, key: &Key) -> Option<&T> {
        self.items.get(key).map(|t| &**t)
    }

    /// Replaces every stored object (by-name reads: the newest reads are the whole truth).
    pub fn set_items(&mut self, items: BTreeMap<Key, T>) {
        self.items = here(items);
    }

    /// A complete list for `scope` replaces what was there (objects deleted while the watch was
    /// down disappear) and clears the scope's gap.
    pub fn replace(&mut self, scope: &Scope, items: BTreeMap<Key, T>) {
        match scope {
            Scope::All => self.items = here(items),
            Scope::Namespace(ns) => {
                self.items.retain(|(n, _), _| n != ns);
                self.items.extend(here(items));
            }
        }
        self.clear_gap(scope);
        self.synced = true;
        self.last_error = None;
    }

    /// Startup stops waiting: an unlisted kind becomes a gap naming the last failure.
    fn give_up(&mut self, scope: &Scope, why: &str) {
        if !self.synced {
            let reason = match &self.last_error {
                Some(e) => format!("{why}: {e}"),
                None => why.to_string(),
            };
            self.set_gap(scope, reason);
        }
    }

    /// Returns whether anything changed (an object kvchain does not read changes nothing).
    pub fn apply(&mut self, key: Key, item: Option<T>) -> bool {
        match item {
            Some(t) => {
                self.items.insert(key, Arc::new(t));
                true
            }
            // The converter filtered it out (e.g. an event kvchain does not read).
            None => self.items.remove(&key).is_some(),
        }
    }

    pub fn delete(&mut self, key: &Key) -> bool {
        self.items.remove(key).is_some()
    }

    /// What is behind a gap cannot be trusted: drop it rather than show stale objects as known.
    pub fn set_gap(&mut self, scope: &Scope, reason: String) {
        match scope {
            Scope::All => {
                self.items.clear();
                self.gaps.all = Some(reason);
            }
            Scope::Namespace(ns) => {
                self.items.retain(|(n, _), _| n != ns);
                self.gaps.namespaces.insert(ns.clone(), reason);
            }
        }
        self.synced = true;
    }

    pub fn clear_gap(&mut self, scope: &Scope) {
        match scope {
            Scope::All => self.gaps.all = None,
            Scope::Namespace(ns) => {
                self.gaps.namespaces.remove(ns);
            }
        }
    }

    /// Shares every object with `out` in key order; with `take` (one-shot checks) keeps
    /// nothing. An object whose `key_of` is already in `seen` (merged kinds: the first wins)
    /// is left out.
    fn share_into(&mut self, out: &mut Items<T>, seen: &mut Option<Seen<T>>, take: bool) {
        let items = if take {
            std::mem::take(&mut self.items)
        } else {
            self.items.clone()
        };
        for item in items.into_values() {
            let repeated = match seen {
                Some((seen, key_of)) => !seen.insert(key_of(&item)),
                None => false,
            };
            if !repeated {
                out.push_shared(item);
            }
        }
    }

    /// The collection, every object shared with it.
    fn coll(&mut self, take: bool) -> Coll<T> {
        let mut items = Items::with_capacity(self.items.len());
        self.share_into(&mut items, &mut None, take);
        Coll {
            items,
            gaps: self.gaps.clone(),
        }
    }
}

/// Merged kinds: the keys already in the collection, and how to key an object.
type Seen<T> = (std::collections::BTreeSet<String>, fn(&T) -> String);

fn here<T>(items: BTreeMap<Key, T>) -> BTreeMap<Key, Arc<T>> {
    items.into_iter().map(|(k, t)| (k, Arc::new(t))).collect()
}

/// Merges several kinds into one collection (workloads come from six watchers, secrets from
/// the label watch plus by-name reads). The first kind wins on duplicate keys.
fn merged<T>(parts: &mut [&mut Kind<T>], take: bool, key_of: fn(&T) -> String) -> Coll<T> {
    let mut seen = Some((std::collections::BTreeSet::new(), key_of));
    let mut items = Items::with_capacity(parts.iter().map(|p| p.items.len()).sum());
    let mut gaps = Gaps::default();
    for part in parts.iter_mut() {
        part.share_into(&mut items, &mut seen, take);
        if gaps.all.is_none() {
            gaps.all.clone_from(&part.gaps.all);
        }
        for (ns, why) in &part.gaps.namespaces {
            gaps.namespaces
                .entry(ns.clone())
                .or_insert_with(|| why.clone());
        }
    }
    Coll { items, gaps }
}

#[derive(Debug)]
pub struct LiveState {
    pub pods: Kind<PodObs>,
    pub service_accounts: Kind<ServiceAccountObs>,
    pub spcs: Kind<SpcObs>,
    pub spc_statuses: Kind<SpcPodStatusObs>,
    /// Secrets carrying the driver's `managed=true` label (watched).
    pub managed_secrets: Kind<SecretObs>,
    /// Secrets the chains name but the driver does not manage (read by name).
    pub named_secrets: Kind<SecretObs>,
    pub events: Kind<EventObs>,
    pub deployments: Kind<WorkloadObs>,
    pub replica_sets: Kind<WorkloadObs>,
    pub stateful_sets: Kind<WorkloadObs>,
    pub daemon_sets: Kind<WorkloadObs>,
    pub jobs: Kind<WorkloadObs>,
    pub cron_jobs: Kind<WorkloadObs>,
    pub ingresses: Kind<IngressObs>,
    pub cluster: ClusterFacts,
    pub cluster_synced: bool,
    pub azure: AzureObs,
}

impl Default for LiveState {
    fn default() -> Self {
        LiveState {
            pods: Kind::default(),
            service_accounts: Kind::default(),
            spcs: Kind::default(),
            spc_statuses: Kind::default(),
            managed_secrets: Kind::default(),
            named_secrets: Kind::default(),
            events: Kind::default(),
            deployments: Kind::default(),
            replica_sets: Kind::default(),
            stateful_sets: Kind::default(),
            daemon_sets: Kind::default(),
            jobs: Kind::default(),
            cron_jobs: Kind::default(),
            ingresses: Kind::default(),
            cluster: ClusterFacts::default(),
            cluster_synced: false,
            azure: AzureObs::unknown("Azure not observed yet"),
        }
    }
}

impl LiveState {
    /// (name, synced, count) per watched kind: startup progress.
    pub fn progress(&self) -> Vec<(&'static str, bool, usize)> {
        vec![
            ("pods", self.pods.synced, self.pods.len()),
            (
                "service accounts",
                self.service_accounts.synced,
                self.service_accounts.len(),
            ),
            ("secret provider classes", self.spcs.synced, self.spcs.len()),
            (
                "provider class pod statuses",
                self.spc_statuses.synced,
                self.spc_statuses.len(),
            ),
            (
                "driver-managed secrets",
                self.managed_secrets.synced,
                self.managed_secrets.len(),
            ),
            ("events", self.events.synced, self.events.len()),
            (
                "deployments",
                self.deployments.synced,
                self.deployments.len(),
            ),
            (
                "replica sets",
                self.replica_sets.synced,
                self.replica_sets.len(),
            ),
            (
                "stateful sets",
                self.stateful_sets.synced,
                self.stateful_sets.len(),
            ),
            (
                "daemon sets",
                self.daemon_sets.synced,
                self.daemon_sets.len(),
            ),
            ("jobs", self.jobs.synced, self.jobs.len()),
            ("cron jobs", self.cron_jobs.synced, self.cron_jobs.len()),
            ("ingresses", self.ingresses.synced, self.ingresses.len()),
        ]
    }

    /// Every watch has listed once (or failed for a lasting reason) and the cluster facts are in.
    pub fn watches_synced(&self) -> bool {
        self.cluster_synced && self.progress().iter().all(|(_, synced, _)| *synced)
    }

    /// Watches synced and the Secrets named by chains have been read once.
    pub fn complete(&self) -> bool {
        self.watches_synced() && self.named_secrets.synced
    }

    /// Used by one-shot checks: whatever has not listed by now is unknown, with the reason.
    pub fn give_up(&mut self, scope: &Scope, why: &str) {
        self.pods.give_up(scope, why);
        self.service_accounts.give_up(scope, why);
        self.spcs.give_up(scope, why);
        self.spc_statuses.give_up(scope, why);
        self.managed_secrets.give_up(scope, why);
        self.named_secrets.give_up(scope, why);
        self.events.give_up(scope, why);
        self.deployments.give_up(scope, why);
        self.replica_sets.give_up(scope, why);
        self.stateful_sets.give_up(scope, why);
        self.daemon_sets.give_up(scope, why);
        self.jobs.give_up(scope, why);
        self.cron_jobs.give_up(scope, why);
        self.ingresses.give_up(scope, why);
        if !self.cluster_synced {
            let unknown = crate::snapshot::Observed::unknown(format!("cluster facts {why}"));
            self.cluster = ClusterFacts {
                oidc_issuer: unknown.clone(),
                tenant_id: unknown.clone().map(|_: String| String::new()),
                workload_identity_webhook: crate::snapshot::Observed::unknown(format!(
                    "cluster facts {why}"
                )),
                csi_driver: crate::snapshot::Observed::unknown(format!("cluster facts {why}")),
                nodes: crate::snapshot::Observed::unknown(format!("cluster facts {why}")),
                name: None,
                resource_group: None,
            };
            self.cluster_synced = true;
        }
    }

    /// Driver-managed Secrets (watched) plus the ones chains name (read by name).
    ///
    /// When the label watch cannot run cluster-wide (the common "no cluster-wide Secret
    /// access" RBAC), the by-name reads still cover every Secret a chain names — the
    /// `secretObjects` names and `nodePublishSecretRef`s — so the cluster-wide gap would hide
    /// what is in fact known: only the namespaces where those reads failed stay unknown.
    fn secrets(&mut self, take: bool) -> Coll<SecretObs> {
        let covered_by_names = self.managed_secrets.gaps.all.is_some() && self.named_secrets.synced;
        let mut coll = merged(
            &mut [&mut self.managed_secrets, &mut self.named_secrets],
            take,
            |s| format!("{}/{}", s.namespace, s.name),
        );
        if covered_by_names {
            coll.gaps = self.named_secrets.gaps.clone();
        }
        coll
    }

    /// A snapshot of what is stored, sharing its observations (the watches keep going).
    pub fn assemble(&mut self, label: &str, observed_at: Timestamp) -> Arc<Snapshot> {
        Arc::new(self.build(label, observed_at, false))
    }

    /// The final snapshot of a one-shot check: observations are moved out, nothing is kept.
    pub fn take_snapshot(&mut self, label: &str, observed_at: Timestamp) -> Snapshot {
        self.build(label, observed_at, true)
    }

    fn build(&mut self, label: &str, observed_at: Timestamp, take: bool) -> Snapshot {
        Snapshot {
            source: SourceInfo {
                kind: SourceKind::Live,
                label: label.to_string(),
                observed_at,
                unread: Vec::new(),
                unread_objects: Vec::new(),
                hidden: Default::default(),
            },
            cluster: self.cluster.clone(),
            pods: self.pods.coll(take),
            service_accounts: self.service_accounts.coll(take),
            spcs: self.spcs.coll(take),
            spc_statuses: self.spc_statuses.coll(take),
            secrets: self.secrets(take),
            events: self.events.coll(take),
            workloads: merged(
                &mut [
                    &mut self.deployments,
                    &mut self.replica_sets,
                    &mut self.stateful_sets,
                    &mut self.daemon_sets,
                    &mut self.jobs,
                    &mut self.cron_jobs,
                ],
                take,
                |w| format!("{}/{}/{}", w.kind, w.namespace, w.name),
            ),
            ingresses: self.ingresses.coll(take),
            azure: self.azure.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(ns: &str, name: &str) -> (Key, ServiceAccountObs) {
        (
            (ns.into(), name.into()),
            ServiceAccountObs {
                namespace: ns.into(),
                name: name.into(),
                ..Default::default()
            },
        )
    }

    #[test]
    fn namespace_gap_drops_only_that_namespace_and_relist_clears_it() {
        let mut k = Kind::default();
        k.replace(&Scope::All, [sa("a", "x"), sa("b", "y")].into());
        let payments = Scope::Namespace("b".into());
        k.set_gap(
            &payments,
            "cannot list serviceaccounts in b: forbidden".into(),
        );
        let c = k.coll(false);
        assert_eq!(c.items.len(), 1);
        assert_eq!(
            c.unknown_in("b"),
            Some("cannot list serviceaccounts in b: forbidden")
        );
        assert_eq!(c.unknown_in("a"), None);
        k.replace(&payments, [sa("b", "z")].into());
        assert!(k.gaps.is_empty());
        assert_eq!(k.len(), 2);
    }

    #[test]
    fn the_store_holds_fingerprints_never_secret_bytes() {
        use k8s_openapi::ByteString;
        use k8s_openapi::api::core::v1::Secret;
        let canary = "CANARY-store-41d7";
        let secret = Secret {
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                name: Some("foosecret".into()),
                namespace: Some("app".into()),
                ..Default::default()
            },
            data: Some(
                [(
                    "password".to_string(),
                    ByteString(canary.as_bytes().to_vec()),
                )]
                .into(),
            ),
            string_data: Some([("token".to_string(), canary.to_string())].into()),
            ..Default::default()
        };
        // Exactly what the Secret watcher stores: the converted observation.
        let mut state = LiveState::default();
        state.managed_secrets.apply(
            ("app".into(), "foosecret".into()),
            Some(crate::snapshot::convert::secret(&secret)),
        );
        drop(secret);
        let dump = format!("{state:?}");
        assert!(
            dump.contains("foosecret") && !dump.contains(canary),
            "{dump}"
        );
        let snap = state.assemble("t", Timestamp::UNIX_EPOCH);
        assert!(!serde_json::to_string(&*snap).unwrap().contains(canary));
    }

    fn names<'a>(it: impl Iterator<Item = &'a ServiceAccountObs>) -> Vec<String> {
        it.map(|s| format!("{}/{}", s.namespace, s.name)).collect()
    }

    #[test]
    fn the_store_shares_with_the_snapshots_and_follows_changes() {
        let mut state = LiveState::default();
        let sas = |s: &LiveState| names(s.service_accounts.values());
        state
            .service_accounts
            .replace(&Scope::All, [sa("a", "x"), sa("b", "y")].into());
        let first = state.assemble("t", Timestamp::UNIX_EPOCH);
        assert_eq!(names(first.service_accounts.items.iter()), ["a/x", "b/y"]);
        assert!(
            state
                .service_accounts
                .items
                .values()
                .zip(first.service_accounts.items.shared())
                .all(|(here, there)| Arc::ptr_eq(here, there)),
            "one copy: the snapshot shares the store's observations"
        );
        assert_eq!(sas(&state), ["a/x", "b/y"]);
        let (key, mut changed) = sa("a", "x");
        changed.annotations.insert("k".into(), "v".into());
        state.service_accounts.apply(key, Some(changed));
        state.service_accounts.delete(&("b".into(), "y".into()));
        let (key, added) = sa("c", "z");
        state.service_accounts.apply(key, Some(added));
        assert_eq!(sas(&state), ["a/x", "c/z"]);
        drop(first);
        let second = state.assemble("t", Timestamp::UNIX_EPOCH);
        assert_eq!(names(second.service_accounts.items.iter()), ["a/x", "c/z"]);
        assert_eq!(second.service_accounts.items[0].annotations["k"], "v");
        // Nothing changed: the same objects again, shared with the snapshot before.
        let third = state.assemble("t", Timestamp::UNIX_EPOCH);
        assert_eq!(names(third.service_accounts.items.iter()), ["a/x", "c/z"]);
        assert_eq!(third.service_accounts.items[0].annotations["k"], "v");
        assert_eq!(third.service_accounts.items, second.service_accounts.items);
        assert!(Arc::ptr_eq(
            &third.service_accounts.items.shared()[1],
            &second.service_accounts.items.shared()[1]
        ));
        // A one-shot check takes them all and keeps nothing.
        let taken = state.take_snapshot("t", Timestamp::UNIX_EPOCH);
        assert_eq!(names(taken.service_accounts.items.iter()), ["a/x", "c/z"]);
        assert!(state.service_accounts.is_empty());
    }

    #[test]
    fn a_merged_duplicate_stays_in_the_store_across_snapshots() {
        let mut s = LiveState::default();
        let secret = |name: &str, t: &str| SecretObs {
            namespace: "app".into(),
            name: name.into(),
            type_: t.into(),
            ..Default::default()
        };
        s.managed_secrets
            .apply(("app".into(), "a".into()), Some(secret("a", "managed")));
        s.named_secrets.set_items(
            [
                (("app".into(), "a".into()), secret("a", "named")),
                (("app".into(), "b".into()), secret("b", "named")),
            ]
            .into(),
        );
        for _ in 0..3 {
            let snap = s.assemble("t", Timestamp::UNIX_EPOCH);
            let got: Vec<(&str, &str)> = snap
                .secrets
                .items
                .iter()
                .map(|x| (x.name.as_str(), x.type_.as_str()))
                .collect();
            assert_eq!(got, [("a", "managed"), ("b", "named")]);
        }
        let named = s.named_secrets.get(&("app".into(), "a".into()));
        assert_eq!(named.map(|x| x.type_.as_str()), Some("named"));
    }

    #[test]
    fn filtered_objects_change_nothing() {
        let mut k: Kind<ServiceAccountObs> = Kind::default();
        assert!(!k.apply(("a".into(), "noise".into()), None));
        let (key, v) = sa("a", "x");
        assert!(k.apply(key.clone(), Some(v)));
        assert!(k.apply(key.clone(), None), "filtered now: the old one goes");
        assert!(!k.delete(&key));
    }

    #[test]
    fn snapshot_waits_for_every_kind_and_merges_secrets() {
        let mut s = LiveState::default();
        assert!(!s.watches_synced());
        s.cluster_synced = true;
        s.pods.synced = true;
        s.service_accounts.synced = true;
        s.spcs.synced = true;
        s.spc_statuses.synced = true;
        s.managed_secrets.synced = true;
        s.events.synced = true;
        s.deployments.synced = true;
        s.replica_sets.synced = true;
        s.stateful_sets.synced = true;
        s.daemon_sets.synced = true;
        s.jobs.synced = true;
        s.cron_jobs.synced = true;
        s.ingresses.synced = true;
        assert!(s.watches_synced());
        assert!(!s.complete());
        let secret = |name: &str| SecretObs {
            namespace: "app".into(),
            name: name.into(),
            ..Default::default()
        };
        s.managed_secrets
            .apply(("app".into(), "a".into()), Some(secret("a")));
        s.named_secrets
            .apply(("app".into(), "a".into()), Some(secret("a")));
        s.named_secrets
            .apply(("app".into(), "b".into()), Some(secret("b")));
        s.named_secrets.synced = true;
        assert!(s.complete());
        let snap = s.assemble("ctx", Timestamp::UNIX_EPOCH);
        assert_eq!(snap.secrets.items.len(), 2);
        assert_eq!(snap.source.kind, SourceKind::Live);
    }
}
