//! Workloads (their pod templates), nodes and the driver DaemonSets' placement → observations.

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::*;

fn workload(
    kind: &str,
    meta: &ObjectMeta,
    template: Option<&PodTemplateSpec>,
    replicas: Option<i32>,
) -> WorkloadObs {
    let keep_template = matches!(kind, "Deployment" | "StatefulSet" | "DaemonSet")
        && template
            .and_then(|t| t.spec.as_ref())
            .is_some_and(|s| s.volumes.iter().flatten().any(|v| v.csi.is_some()));
    WorkloadObs {
        template: template.filter(|_| keep_template).map(|t| {
            let owner = OwnerRef {
                kind: kind.into(),
                name: name(meta),
                uid: meta.uid.as_deref().unwrap_or_default().into(),
                controller: true,
            };
            Box::new(pod_from_template(owner, ns(meta), t))
        }),
        kind: kind.into(),
        namespace: ns(meta),
        name: name(meta),
        uid: meta.uid.clone().unwrap_or_default(),
        owners: owners(&meta.owner_references),
        annotations: StrMap::shared_from(meta.annotations.as_ref()),
        template_annotations: StrMap::shared_from(
            template
                .and_then(|t| t.metadata.as_ref())
                .and_then(|m| m.annotations.as_ref()),
        ),
        replicas,
        update: None,
        rollout: None,
        paused: false,
        recreate: false,
        file: None,
        file_shared: false,
        job: None,
        reloader: None,
        claim_replaced: Vec::new(),
    }
}

pub fn deployment(d: &Deployment) -> WorkloadObs {
    let spec = d.spec.as_ref();
    let mut obs = workload(
        "Deployment",
        &d.metadata,
        spec.map(|s| &s.template),
        spec.and_then(|s| s.replicas),
    );
    obs.paused = spec.and_then(|s| s.paused).unwrap_or(false);
    obs.recreate = spec.and_then(|s| s.strategy.as_ref()?.type_.as_deref()) == Some("Recreate");
    obs.reloader = spec.and_then(|s| reloader(d, &s.template)).map(Box::new);
    obs
}

/// How the Deployment runs Stakater Reloader, when a container of its template runs its image
/// ([`crate::snapshot::ReloaderFacts`]). `availableReplicas` is omitted from a status at 0.
fn reloader(d: &Deployment, template: &PodTemplateSpec) -> Option<ReloaderObs> {
    let c = (template.spec.as_ref()?.containers.iter()).find(|c| {
        c.image
            .as_deref()
            .is_some_and(super::reloader::is_reloader_image)
    })?;
    let words = (c.command.iter().flatten()).chain(c.args.iter().flatten());
    let kubernetes_namespace = (c.env.iter().flatten())
        .find(|e| e.name == "KUBERNETES_NAMESPACE")
        .map(|e| e.value.as_deref().unwrap_or_default());
    Some(super::reloader::observe(
        words.map(String::as_str),
        kubernetes_namespace,
        d.metadata.namespace.as_deref().unwrap_or("default"),
        d.status
            .as_ref()
            .map(|st| st.available_replicas.unwrap_or(0)),
    ))
}

pub fn replica_set(r: &ReplicaSet) -> WorkloadObs {
    let spec = r.spec.as_ref();
    workload(
        "ReplicaSet",
        &r.metadata,
        spec.and_then(|s| s.template.as_ref()),
        spec.and_then(|s| s.replicas),
    )
}

pub fn stateful_set(s: &StatefulSet) -> WorkloadObs {
    let spec = s.spec.as_ref();
    let mut obs = workload(
        "StatefulSet",
        &s.metadata,
        spec.map(|s| &s.template),
        spec.and_then(|s| s.replicas),
    );
    let strategy = spec.and_then(|s| s.update_strategy.as_ref());
    obs.update = spec.map(|_| UpdateObs {
        on_delete: strategy.and_then(|u| u.type_.as_deref()) == Some("OnDelete"),
        // A partition applies to RollingUpdate only (the default type); 0 holds nothing back.
        partition: strategy
            .filter(|u| u.type_.as_deref() != Some("OnDelete"))
            .and_then(|u| u.rolling_update.as_ref()?.partition)
            .filter(|p| *p > 0),
        parallel: spec.and_then(|s| s.pod_management_policy.as_deref()) == Some("Parallel"),
        // The API server rejects a negative start (validation: start >= 0).
        start: spec
            .and_then(|s| s.ordinals.as_ref()?.start)
            .unwrap_or(0)
            .max(0),
    });
    let claims: Vec<&str> = (spec.iter())
        .flat_map(|s| s.volume_claim_templates.iter().flatten())
        .filter_map(|c| c.metadata.name.as_deref())
        .collect();
    obs.claim_replaced = (spec.and_then(|s| s.template.spec.as_ref()).iter())
        .flat_map(|s| s.volumes.iter().flatten())
        .filter(|v| v.csi.is_some() && claims.contains(&v.name.as_str()))
        .map(volume)
        .collect();
    if let Some(t) = obs.template.as_deref_mut() {
        without_claimed(t, &obs.claim_replaced);
    }
    obs
}

/// `pod` (a StatefulSet's template as a pod) as the controller makes it: each volume of
/// `replaced` is a PersistentVolumeClaim of the same name there, no CSI volume.
pub fn without_claimed(pod: &mut PodObs, replaced: &[VolumeObs]) {
    for v in &mut pod.volumes {
        if replaced.iter().any(|r| r.name == v.name) {
            v.source = VolumeSourceObs::Other;
        }
    }
}

pub fn daemon_set(d: &DaemonSet) -> WorkloadObs {
    let mut obs = workload(
        "DaemonSet",
        &d.metadata,
        d.spec.as_ref().map(|s| &s.template),
        None,
    );
    obs.update = d.spec.as_ref().map(|s| UpdateObs {
        on_delete: s.update_strategy.as_ref().and_then(|u| u.type_.as_deref()) == Some("OnDelete"),
        partition: None,
        parallel: false,
        start: 0,
    });
    obs.rollout = d.status.as_ref().map(|st| RolloutObs {
        generation: d.metadata.generation,
        observed_generation: st.observed_generation,
        desired: st.desired_number_scheduled,
        updated: st.updated_number_scheduled.unwrap_or(0),
        available: st.number_available.unwrap_or(0),
    });
    obs
}

pub fn job(j: &Job) -> WorkloadObs {
    let mut obs = workload(
        "Job",
        &j.metadata,
        j.spec.as_ref().map(|s| &s.template),
        None,
    );
    obs.job = job_budget(j);
    obs
}

/// A Job's retry budget (`spec.backoffLimit`, 6 when unset, and `status.failed`), when its
/// spec was read: what the diagnosis and the lab's Job controller both go by.
pub fn job_budget(j: &Job) -> Option<JobObs> {
    j.spec.as_ref().map(|spec| JobObs {
        backoff_limit: spec.backoff_limit.unwrap_or(6),
        failed: (j.status.as_ref()).and_then(|st| st.failed).unwrap_or(0),
    })
}

pub fn cron_job(c: &CronJob) -> WorkloadObs {
    let template = c
        .spec
        .as_ref()
        .and_then(|s| s.job_template.spec.as_ref())
        .map(|s| &s.template);
    workload("CronJob", &c.metadata, template, None)
}

/// A custom resource that makes pods from a template (an Argo Rollout, a KEDA ScaledJob).
pub fn custom_workload(
    kind: &str,
    meta: &ObjectMeta,
    template: Option<&PodTemplateSpec>,
    replicas: Option<i32>,
) -> WorkloadObs {
    workload(kind, meta, template, replicas)
}

pub fn node(n: &k8s_openapi::api::core::v1::Node) -> NodeObs {
    NodeObs {
        name: name(&n.metadata).to_string(),
        labels: n.metadata.labels.clone().unwrap_or_default(),
        taints: n
            .spec
            .iter()
            .flat_map(|s| s.taints.iter().flatten())
            .map(|t| TaintObs {
                key: t.key.clone(),
                value: t.value.clone().unwrap_or_default(),
                effect: t.effect.clone(),
            })
            .collect(),
        provider_id: (n.spec.as_ref())
            .and_then(|s| s.provider_id.clone())
            .unwrap_or_default(),
    }
}

/// Where a DaemonSet's pods may be scheduled (its pod template's node constraints).
pub fn placement(d: &DaemonSet, provider: bool) -> PlacementObs {
    let spec = d.spec.as_ref().and_then(|s| s.template.spec.as_ref());
    PlacementObs {
        daemonset: format!("{}/{}", ns(&d.metadata), name(&d.metadata)),
        provider,
        node_selector: spec
            .and_then(|s| s.node_selector.clone())
            .unwrap_or_default(),
        affinity: spec.map(required_affinity).unwrap_or_default(),
        tolerations: spec.map(tolerations).unwrap_or_default(),
    }
}

/// The `matchExpressions` of each term of a pod spec's required node affinity.
pub(crate) fn required_affinity(spec: &PodSpec) -> Vec<Vec<NodeRequirementObs>> {
    spec.affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_ref()
        })
        .map(|r| {
            r.node_selector_terms
                .iter()
                .map(|t| {
                    t.match_expressions
                        .iter()
                        .flatten()
                        .map(|e| NodeRequirementObs {
                            key: e.key.clone(),
                            operator: e.operator.clone(),
                            values: e.values.clone().unwrap_or_default(),
                        })
                        .collect()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A pod spec's tolerations.
pub(crate) fn tolerations(spec: &PodSpec) -> Vec<TolerationObs> {
    (spec.tolerations.iter().flatten())
        .map(|t| TolerationObs {
            key: t.key.clone().unwrap_or_default(),
            operator: t.operator.clone().unwrap_or_default(),
            value: t.value.clone().unwrap_or_default(),
            effect: t.effect.clone().unwrap_or_default(),
        })
        .collect()
}
