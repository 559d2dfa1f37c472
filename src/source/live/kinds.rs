//! The watchers kvchain starts, one per kind, each with the slimmest request that still
//! carries what diagnosis reads.

use std::sync::Arc;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Event, Secret, ServiceAccount};
use k8s_openapi::api::networking::v1::Ingress;
use kube::core::PartialObjectMeta;
use kube::runtime::watcher;
use kube::{Api, Client, Resource};
use tokio::task::JoinSet;

use super::connect::Scope;
use super::errors::Target;
use super::listed::ListedPod;
use super::watch::{Shared, Watch, run};
use crate::snapshot::convert;
use crate::snapshot::crd::{SecretProviderClass, SecretProviderClassPodStatus};
use crate::snapshot::{EventObs, PodObs, ServiceAccountObs, WorkloadObs};

/// The label the driver puts on every Secret it syncs (and the only Secrets it watches).
pub const MANAGED_LABEL: &str = "secrets-store.csi.k8s.io/managed=true";

const fn core(plural: &'static str) -> Target {
    Target {
        plural,
        group: "",
        crd: false,
    }
}

const fn group(plural: &'static str, group: &'static str) -> Target {
    Target {
        plural,
        group,
        crd: false,
    }
}

pub const SECRETS: Target = core("secrets");
pub const SPCS: Target = Target {
    plural: "secretproviderclasses",
    group: "secrets-store.csi.x-k8s.io",
    crd: true,
};
pub const SPCPS: Target = Target {
    plural: "secretproviderclasspodstatuses",
    group: "secrets-store.csi.x-k8s.io",
    crd: true,
};

fn api<K>(client: &Client, scope: &Scope) -> Api<K>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    <K as Resource>::DynamicType: Default,
{
    match scope {
        Scope::All => Api::all(client.clone()),
        Scope::Namespace(ns) => Api::namespaced(client.clone(), ns),
    }
}

/// Event reasons diagnosis reads: kubelet's FailedMount, the driver's own (see FACTS §3) and
/// kube-scheduler's FailedScheduling (a pod no node runs mounts nothing).
/// Everything else is dropped on arrival, so a noisy cluster's events cost no memory.
const EVENT_REASONS: &[&str] = &[
    "FailedMount",
    "FailedScheduling",
    "FailedToCreateSecret",
    "MountRotationComplete",
    "MountRotationFailed",
    "SecretRotationComplete",
    "SecretRotationFailed",
];

pub fn relevant_event(e: &Event) -> Option<EventObs> {
    let reason = e.reason.as_deref().unwrap_or_default();
    // Pods that cannot be created (webhook denial, missing service account) leave FailedCreate
    // on their ReplicaSet / StatefulSet / DaemonSet: the only evidence a template chain has.
    let not_created = reason == "FailedCreate" && e.involved_object.kind.as_deref() != Some("Pod");
    (EVENT_REASONS.contains(&reason) || not_created).then(|| convert::event(e))
}

/// Dropped from every stored annotation map: it repeats the whole object as last applied —
/// kilobytes per object, and literal env values that may be secrets.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

fn slim_pod(mut p: PodObs) -> Option<PodObs> {
    p.annotations.remove(LAST_APPLIED);
    Some(p)
}

fn slim_workload(mut w: WorkloadObs) -> Option<WorkloadObs> {
    w.annotations.remove(LAST_APPLIED);
    w.template_annotations.remove(LAST_APPLIED);
    Some(w)
}

fn slim_sa(mut sa: ServiceAccountObs) -> Option<ServiceAccountObs> {
    sa.annotations.remove(LAST_APPLIED);
    Some(sa)
}

fn spawn<K, T>(set: &mut JoinSet<()>, shared: &Arc<Shared>, w: Watch<K, T>)
where
    K: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
    T: Clone + Send + 'static,
{
    set.spawn(run(w, shared.clone()));
}

/// Starts every watcher on `set` (aborted together when the set is dropped).
pub fn spawn_all(set: &mut JoinSet<()>, client: &Client, scope: &Scope, shared: &Arc<Shared>) {
    let cfg = watcher::Config::default;
    let s = scope;
    spawn(
        set,
        shared,
        Watch::new(
            core("pods"),
            s,
            api::<ListedPod>(client, s),
            cfg(),
            |p| slim_pod(p.observe()),
            |st| &mut st.pods,
        ),
    );
    spawn(
        set,
        shared,
        Watch::new(
            core("serviceaccounts"),
            s,
            api::<ServiceAccount>(client, s),
            cfg(),
            |x| slim_sa(convert::service_account(x)),
            |st| &mut st.service_accounts,
        ),
    );
    spawn(
        set,
        shared,
        Watch::new(
            SPCS,
            s,
            api::<SecretProviderClass>(client, s),
            cfg(),
            |x| Some(convert::spc(x)),
            |st| &mut st.spcs,
        ),
    );
    spawn(
        set,
        shared,
        Watch::new(
            SPCPS,
            s,
            api::<SecretProviderClassPodStatus>(client, s),
            cfg(),
            |x| Some(convert::spcps(x)),
            |st| &mut st.spc_statuses,
        ),
    );
    // Only the driver's Secrets are watched; values become fingerprints inside convert::secret
    // before anything is stored. Secrets the chains name otherwise are read by name (secrets.rs).
    spawn(
        set,
        shared,
        Watch::new(
            SECRETS,
            s,
            api::<Secret>(client, s),
            cfg().labels(MANAGED_LABEL),
            |x| Some(convert::secret(x)),
            |st| &mut st.managed_secrets,
        ),
    );
    spawn(
        set,
        shared,
        Watch::new(
            core("events"),
            s,
            api::<Event>(client, s),
            cfg(),
            relevant_event,
            |st| &mut st.events,
        ),
    );
    // Deployments, StatefulSets, DaemonSets and CronJobs are few and their pod-template
    // annotations matter (Reloader); ReplicaSets and Jobs are many and only their owners
    // matter, so they are watched as metadata only.
    spawn(
        set,
        shared,
        Watch::new(
            group("deployments", "apps"),
            s,
            api::<Deployment>(client, s),
            cfg(),
            |x| slim_workload(convert::deployment(x)),
            |st| &mut st.deployments,
        ),
    );
    spawn(
        set,
        shared,
        Watch::new(
            group("statefulsets", "apps"),
            s,
            api::<StatefulSet>(client, s),
            cfg(),
            |x| slim_workload(convert::stateful_set(x)),
            |st| &mut st.stateful_sets,
        ),
    );
    spawn(
        set,
        shared,
        Watch::new(
            group("daemonsets", "apps"),
            s,
            api::<DaemonSet>(client, s),
            cfg(),
            |x| slim_workload(convert::daemon_set(x)),
            |st| &mut st.daemon_sets,
        ),
    );
    spawn(
        set,
        shared,
        Watch::new(
            group("cronjobs", "batch"),
            s,
            api::<CronJob>(client, s),
            cfg(),
            |x| slim_workload(convert::cron_job(x)),
            |st| &mut st.cron_jobs,
        ),
    );
    spawn(
        set,
        shared,
        Watch::new(
            group("replicasets", "apps"),
            s,
            api::<PartialObjectMeta<ReplicaSet>>(client, s),
            cfg(),
            |m| {
                slim_workload(convert::replica_set(&ReplicaSet {
                    metadata: m.metadata.clone(),
                    ..Default::default()
                }))
            },
            |st| &mut st.replica_sets,
        ),
    );
    spawn(
        set,
        shared,
        Watch::new(
            group("jobs", "batch"),
            s,
            api::<PartialObjectMeta<Job>>(client, s),
            cfg(),
            |m| {
                slim_workload(convert::job(&Job {
                    metadata: m.metadata.clone(),
                    ..Default::default()
                }))
            },
            |st| &mut st.jobs,
        ),
    );
    spawn(
        set,
        shared,
        Watch::new(
            group("ingresses", "networking.k8s.io"),
            s,
            api::<Ingress>(client, s),
            cfg(),
            |x| Some(convert::ingress(x)),
            |st| &mut st.ingresses,
        ),
    );
}
