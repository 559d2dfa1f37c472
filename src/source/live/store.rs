//! The live source's memory: converted observations only, keyed by (namespace, name).
//!
//! Watchers convert every object with [`crate::snapshot::convert`] *before* it reaches this
//! store, so neither full k8s-openapi objects nor secret bytes are ever kept here.
//!
//! One copy, not two: each observation is held behind an `Arc` that the snapshots assembled
//! from the store share ([`crate::snapshot::Items`]); the store, the snapshot the UI shows
//! and the incremental engine's objects are one copy of each object. (At 10,000 pods the
//! store and the UI's snapshot were once two full copies, the engine a third.)

use std::collections::BTreeSet;
use std::sync::Arc;

use jiff::Timestamp;

use super::cluster_arrival::{Fact, FactId, Pending};
use super::connect::Scope;
use crate::snapshot::{
    AzureObs, ClusterFacts, Coll, EventObs, IngressObs, PodObs, ReloaderFacts, SecretObs,
    ServiceAccountObs, Snapshot, SourceInfo, SourceKind, SpcObs, SpcPodStatusObs, WorkloadObs,
};

mod kind;
pub use kind::{Key, Kind};
use kind::{Watched, add_reason, merged};

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
    /// Every cluster fact answered at least once, or startup gave up on those that did not.
    pub cluster_synced: bool,
    /// The cluster facts answered so far, and the requests still waiting (audit FFF6).
    cluster_arrived: BTreeSet<FactId>,
    pub cluster_pending: Arc<Pending>,
    pub azure: AzureObs,
    /// The Secrets the last by-name round answered (found, absent or refused): whether those
    /// reads cover what the chains name *now*, not an earlier, smaller set.
    pub named_read: BTreeSet<Key>,
    /// Startup stopped waiting ([`LiveState::give_up`]): what is not in by now stays unknown.
    gave_up: bool,
    /// The one namespace watched (`-n`, or narrowed): [`SourceInfo::only_namespace`].
    pub only_namespace: Option<String>,
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
            cluster_arrived: BTreeSet::new(),
            cluster_pending: Arc::default(),
            azure: AzureObs::unknown("Azure not observed yet"),
            named_read: BTreeSet::new(),
            gave_up: false,
            only_namespace: None,
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

    /// Watches synced and the Secrets named by chains have been read once — every one of
    /// them when the by-name reads stand in for a label watch in a gap, so that the same
    /// permissions give the same snapshot (audit Q3), unless startup gave up waiting.
    pub fn complete(&self) -> bool {
        self.watches_synced()
            && self.named_secrets.synced
            && (self.gave_up || self.managed_secrets.gaps.is_empty() || self.named_current())
    }

    /// The by-name reads have answered every Secret the chains name now: those the label
    /// watch had delivered before a gap took them included (they are wanted by name since).
    fn named_current(&self) -> bool {
        self.named_secrets.synced
            && super::secrets::wanted_now(self)
                .is_some_and(|w| w.complete && w.keys.is_subset(&self.named_read))
    }

    /// Used by one-shot checks: whatever has not listed by now is unknown, with the reason.
    pub fn give_up(&mut self, scope: &Scope, why: &str) {
        self.gave_up = true;
        // The by-name Secret reads wait for the lists that name the Secrets (SPCs, pods):
        // asked before those give up below, whether every name was known to read.
        let names_known = super::secrets::wanted_now(self).is_some_and(|w| w.complete);
        self.pods.give_up(scope, why);
        self.service_accounts.give_up(scope, why);
        self.spcs.give_up(scope, why);
        self.spc_statuses.give_up(scope, why);
        self.managed_secrets.give_up(scope, why);
        // Reads that did not run because their names were never listed are no Secrets gap:
        // the SPCs' or pods' own gap is the cause, and the chains that would name a Secret
        // are unknown through it. "secrets: not listed" would blame a list that answered
        // (audit SS3). A by-name read asked and still unanswered stays a gap.
        if names_known {
            self.named_secrets.give_up(scope, why);
        }
        self.events.give_up(scope, why);
        self.deployments.give_up(scope, why);
        self.replica_sets.give_up(scope, why);
        self.stateful_sets.give_up(scope, why);
        self.daemon_sets.give_up(scope, why);
        self.jobs.give_up(scope, why);
        self.cron_jobs.give_up(scope, why);
        self.ingresses.give_up(scope, why);
        // The facts that answered stay; each still waiting says which request it waits for.
        if !self.cluster_synced {
            for id in FactId::ALL {
                if !self.cluster_arrived.contains(&id) {
                    let reason = self.cluster_pending.reason(id, why);
                    Fact::unknown(id, reason).apply(&mut self.cluster);
                }
            }
            self.cluster_synced = true;
        }
    }

    /// A cluster fact answered: stored at once, the others left as they are.
    pub fn cluster_arrive(&mut self, fact: Fact) {
        let id = fact.apply(&mut self.cluster);
        self.cluster_arrived.insert(id);
        if self.cluster_arrived.len() == FactId::ALL.len() {
            self.cluster_synced = true;
        }
    }

    /// Driver-managed Secrets (watched) plus the ones chains name (read by name).
    ///
    /// When the label watch cannot run, cluster-wide (the common "no cluster-wide Secret
    /// access" RBAC) or in the namespace `-n` watches (audit Q6), the by-name reads still
    /// cover every Secret a chain names — the `secretObjects` names and
    /// `nodePublishSecretRef`s — so the watch's gap would hide what is in fact known: only the
    /// namespaces where those reads failed stay unknown. They cover it once they have answered
    /// every name wanted now; until then the watch's gap stands (unknown, never "absent").
    fn secrets(&mut self, take: bool) -> Coll<SecretObs> {
        let covered_by_names = !self.managed_secrets.gaps.is_empty() && self.named_current();
        let mut coll = merged(
            &mut [&mut self.managed_secrets, &mut self.named_secrets],
            take,
            |s| format!("{}/{}", s.namespace, s.name),
        );
        if covered_by_names {
            let mut gaps = self.named_secrets.gaps.clone();
            // Where the by-name read is refused too, both refusals are said: either grant
            // makes the namespace known.
            for (ns, why) in &mut gaps.namespaces {
                if let Some(listed) = self.managed_secrets.gaps.namespaces.get(ns) {
                    let mut reasons = listed.clone();
                    add_reason(&mut reasons, why);
                    *why = reasons;
                }
            }
            // The names come from the SPCs and pods: where those are unread no name was
            // wanted, so nothing read by name stands for the refused list (audit FFF9).
            let managed = &self.managed_secrets.gaps;
            let unnamed = [&self.spcs.gaps, &self.pods.gaps];
            if unnamed
                .iter()
                .any(|g| g.all.is_some() || g.outside.is_some())
            {
                if let Some(all) = &managed.all {
                    add_reason(gaps.all.get_or_insert_with(String::new), all);
                }
                for (ns, why) in &managed.namespaces {
                    add_reason(gaps.namespaces.entry(ns.clone()).or_default(), why);
                }
            } else {
                let namespaces = unnamed.iter().flat_map(|g| g.namespaces.keys());
                for ns in namespaces {
                    let why = managed.namespaces.get(ns).or(managed.all.as_ref());
                    if let Some(why) = why {
                        add_reason(gaps.namespaces.entry(ns.clone()).or_default(), why);
                    }
                }
            }
            coll.gaps = gaps;
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

    /// How each watched kind stands, by its API plural: the one list [`Self::not_live`] and
    /// [`Self::stale`] read.
    fn watches(&self) -> [Watched<'_>; 13] {
        [
            self.pods.watched("pods"),
            self.service_accounts.watched("serviceaccounts"),
            self.spcs.watched("secretproviderclasses"),
            self.spc_statuses.watched("secretproviderclasspodstatuses"),
            self.managed_secrets.watched("secrets"),
            self.events.watched("events"),
            self.deployments.watched("deployments"),
            self.replica_sets.watched("replicasets"),
            self.stateful_sets.watched("statefulsets"),
            self.daemon_sets.watched("daemonsets"),
            self.jobs.watched("jobs"),
            self.cron_jobs.watched("cronjobs"),
            self.ingresses.watched("ingresses"),
        ]
    }

    /// Why each kind listed but not watched is not kept current.
    fn not_live(&self) -> Vec<String> {
        self.watches()
            .into_iter()
            .filter_map(|w| Some(w.not_live.as_ref()?.1.clone()))
            .collect()
    }

    /// `serve`'s gaps for the kinds listed but not kept current (audit FFF2): a server that
    /// keeps serving the first list must not present it as current. By the snapshot's kind
    /// (`workloads` for the six workload kinds; the reason names the refused one).
    pub fn not_live_gaps(&self) -> Vec<(&'static str, String)> {
        self.watches()
            .into_iter()
            .filter_map(|w| {
                let (since, why) = w.not_live.as_ref()?;
                let kind = match w.plural {
                    "deployments" | "replicasets" | "statefulsets" | "daemonsets" | "jobs"
                    | "cronjobs" => "workloads",
                    other => other,
                };
                Some((
                    kind,
                    format!("not live-updated since {}: {why}", at(*since)),
                ))
            })
            .collect()
    }

    /// The kinds whose watch has failed for longer than `after` without recovering: their
    /// data is as old as the failure, whatever the other kinds say (audit W3). `None` when
    /// every kind is current.
    pub fn stale(&self, now: Timestamp, after: std::time::Duration) -> Option<String> {
        let stale: Vec<(Watched, Timestamp)> = self
            .watches()
            .into_iter()
            .filter_map(|w| {
                let since = w.failing_since?;
                (now.duration_since(since).unsigned_abs() > after).then_some((w, since))
            })
            .collect();
        let oldest = stale.iter().map(|(_, since)| *since).min()?;
        let names: Vec<&str> = stale.iter().map(|(w, _)| w.plural).collect();
        let why = stale
            .iter()
            .find_map(|(w, _)| w.last_error.as_deref())
            .map(|w| format!(" ({})", crate::shown::shown(w)))
            .unwrap_or_default();
        Some(format!(
            "{} not updated since {}{why}; reconnecting",
            names.join(", "),
            at(oldest)
        ))
    }

    fn build(&mut self, label: &str, observed_at: Timestamp, take: bool) -> Snapshot {
        let mut snapshot = Snapshot {
            source: SourceInfo {
                kind: SourceKind::Live,
                label: label.to_string(),
                observed_at,
                not_live: self.not_live(),
                only_namespace: self.only_namespace.clone(),
                ..SourceInfo::default()
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
        };
        let mut reloader = ReloaderFacts::of(&snapshot.workloads, &snapshot.source);
        // A snapshot shown while the Deployments are still being listed has not seen them.
        if let Some(r) = reloader.as_mut().filter(|_| !self.deployments.synced) {
            r.unseen
                .get_or_insert_with(|| "Deployments not listed yet".to_string());
        }
        snapshot.cluster.reloader = reloader;
        snapshot
    }
}

/// A time as the live source's sentences say it: `22:12:33 UTC`.
fn at(t: Timestamp) -> String {
    t.round(jiff::Unit::Second)
        .unwrap_or(t)
        .strftime("%H:%M:%S UTC")
        .to_string()
}

#[cfg(test)]
mod tests;
