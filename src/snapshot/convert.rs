//! k8s-openapi objects → slim observations. Shared by every source so the lab, manifests and
//! live clusters see Kubernetes objects exactly alike. Secret values are fingerprinted here and
//! dropped.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    CSIVolumeSource, ContainerState, EnvFromSource, EnvVar, Event, KeyToPath, Pod, PodSpec,
    PodStatus, PodTemplateSpec, ProjectedVolumeSource, Secret, SecretKeySelector,
    SecretVolumeSource, ServiceAccount, Volume, VolumeMount,
};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use super::crd::{SecretProviderClass, SecretProviderClassPodStatus};
use super::*;

// Names are built from the borrowed text: a short one is stored inline, with no copy of
// the whole string made first and freed.
fn ns(meta: &ObjectMeta) -> Name {
    Name::from(meta.namespace.as_deref().unwrap_or("default"))
}

fn name(meta: &ObjectMeta) -> Name {
    Name::from(meta.name.as_deref().unwrap_or_default())
}

/// The items of an optional list. Iterating the slice (not `Option::iter().flatten()`, whose
/// size hint starts at zero) lets `collect` allocate exactly: a collected one-element list
/// would otherwise reserve four, ~1.3 KB of spare capacity per pod (13 MB at 10,000 pods).
fn each<T>(list: &Option<Vec<T>>) -> &[T] {
    list.as_deref().unwrap_or_default()
}

/// `collect` without spare capacity, for filtered lists (their size is not known up front).
fn tight<T>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut v: Vec<T> = items.collect();
    v.shrink_to_fit();
    v
}

fn owners(refs: &Option<Vec<OwnerReference>>) -> Vec<OwnerRef> {
    each(refs)
        .iter()
        .map(|o| OwnerRef {
            kind: o.kind.as_str().into(),
            name: o.name.as_str().into(),
            uid: o.uid.as_str().into(),
            controller: o.controller.unwrap_or(false),
        })
        .collect()
}

pub fn pod(p: &Pod) -> PodObs {
    pod_of(&p.metadata, p.spec.as_ref(), p.status.as_ref())
}

/// [`pod`] from the parts, for a source that keeps them apart (the lab shares specs).
pub fn pod_of(meta: &ObjectMeta, spec: Option<&PodSpec>, status: Option<&PodStatus>) -> PodObs {
    let mut obs = pod_from_meta(meta);
    if let Some(spec) = spec {
        set_spec(&mut obs, spec);
    }
    set_identity(&mut obs, meta, spec.and_then(|s| s.node_name.as_deref()));
    if let Some(status) = status {
        let states = (status.container_statuses.iter().flatten())
            .chain(status.init_container_statuses.iter().flatten())
            .map(|cs| (cs.name.as_str(), cs.state.as_ref()));
        set_status(&mut obs, status.phase.as_deref(), states);
        obs.kubelet_since = status.start_time.as_ref().map(|t| t.0);
        let conditions = status.conditions.iter().flatten();
        obs.ready = ready_of(conditions.map(|c| (c.type_.as_str(), c.status.as_str())));
    }
    obs
}

/// A workload's pod template, seen as the pod it would create (manifests mode).
pub fn pod_from_template(owner: OwnerRef, namespace: Name, t: &PodTemplateSpec) -> PodObs {
    let empty = ObjectMeta::default();
    let meta = t.metadata.as_ref().unwrap_or(&empty);
    let mut obs = pod_meta(namespace, owner.name.clone(), meta);
    if let Some(spec) = &t.spec {
        set_spec(&mut obs, spec);
    }
    obs.template_of = Some(owner);
    obs
}

/// A pod with its names and labels, and nothing from its spec yet (see [`set_pod_spec`],
/// [`set_identity`] and [`set_status`] for the rest).
pub fn pod_from_meta(meta: &ObjectMeta) -> PodObs {
    pod_meta(ns(meta), name(meta), meta)
}

fn pod_meta(namespace: Name, name: Name, meta: &ObjectMeta) -> PodObs {
    PodObs {
        namespace,
        name,
        labels: StrMap::shared_from(meta.labels.as_ref()),
        annotations: StrMap::shared_from(meta.annotations.as_ref()),
        service_account: "default".into(),
        ..PodObs::default()
    }
}

fn set_spec(obs: &mut PodObs, spec: &PodSpec) {
    let containers = (each(&spec.init_containers).iter().map(|c| (c, true)))
        .chain(spec.containers.iter().map(|c| (c, false)))
        .map(|(c, init)| {
            let env: Vec<EnvObs> = each(&c.env).iter().map(env_var).collect();
            container_of(
                &c.name,
                env,
                each(&c.env_from),
                each(&c.volume_mounts),
                init,
                c.restart_policy.as_deref(),
            )
        });
    set_pod_spec(
        obs,
        spec.service_account_name.as_deref(),
        each(&spec.volumes).iter().map(volume),
        containers,
    );
    obs.image_pull_secrets = pull_secrets(
        each(&spec.image_pull_secrets)
            .iter()
            .map(|r| r.name.as_str()),
    );
    obs.host_network = spec.host_network == Some(true);
    obs.node_os = pinned_os(spec);
    obs.node_selector = spec.node_selector.clone().unwrap_or_default();
    obs.tolerations = workloads::tolerations(spec);
    obs.node_affinity = workloads::required_affinity(spec);
}

/// `imagePullSecrets` names, empty ones left out (the API allows them; they name nothing).
pub fn pull_secrets<'a>(names: impl Iterator<Item = &'a str>) -> Vec<Name> {
    names.filter(|n| !n.is_empty()).map(Name::from).collect()
}

/// Node-OS label keys (the beta one is still set by kubelets and honoured by selectors).
const OS_LABELS: [&str; 2] = ["kubernetes.io/os", "beta.kubernetes.io/os"];

/// The OS a pod can only be scheduled to: its nodeSelector's, else the one every required
/// node-affinity term demands (`In` a single OS). Preferred affinity pins nothing.
fn pinned_os(spec: &PodSpec) -> Option<Name> {
    if let Some(os) = spec
        .node_selector
        .iter()
        .flatten()
        .find(|(k, _)| OS_LABELS.contains(&k.as_str()))
        .map(|(_, v)| v)
    {
        return Some(os.as_str().into());
    }
    let terms = &spec
        .affinity
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required_during_scheduling_ignored_during_execution
        .as_ref()?
        .node_selector_terms;
    // Terms are ORed: the pod is pinned only when each of them pins the same OS.
    let mut pinned: Option<&str> = None;
    for term in terms {
        let os = term.match_expressions.iter().flatten().find_map(|e| {
            let values = e.values.as_deref().unwrap_or_default();
            (OS_LABELS.contains(&e.key.as_str()) && e.operator == "In" && values.len() == 1)
                .then(|| values[0].as_str())
        })?;
        if pinned.is_some_and(|p| p != os) {
            return None;
        }
        pinned = Some(os);
    }
    pinned.map(Name::from)
}

/// The spec's part of a pod: its service account ("default" when unset or empty), volumes
/// and containers (init containers first).
pub fn set_pod_spec(
    obs: &mut PodObs,
    service_account: Option<&str>,
    volumes: impl Iterator<Item = VolumeObs>,
    containers: impl Iterator<Item = ContainerObs>,
) {
    if let Some(sa) = service_account.filter(|s| !s.is_empty()) {
        obs.service_account = sa.into();
    }
    obs.volumes = volumes.collect();
    obs.containers = containers.collect();
}

/// What only a running pod has: its uid, owners, times and node.
pub fn set_identity(obs: &mut PodObs, meta: &ObjectMeta, node: Option<&str>) {
    obs.uid = meta.uid.as_deref().unwrap_or_default().into();
    obs.owners = owners(&meta.owner_references);
    obs.created_at = meta.creation_timestamp.as_ref().map(|t| t.0);
    obs.deleting = meta.deletion_timestamp.is_some();
    obs.node = node.map(Name::from);
}

/// The pod's phase and each container's state, matched by container name.
pub fn set_status<'a>(
    obs: &mut PodObs,
    phase: Option<&str>,
    states: impl Iterator<Item = (&'a str, Option<&'a ContainerState>)>,
) {
    obs.phase = phase.unwrap_or_default().into();
    for (name, state) in states {
        if let Some(c) = obs.containers.iter_mut().find(|c| c.name == name) {
            c.state = container_state(state);
        }
    }
}

/// Readiness from the pod's `status.conditions` as (type, status): its `Ready` condition is
/// ready when `True`, and not when `False` or `Unknown` (what `podutil.IsPodReady`, which the
/// StatefulSet and DaemonSet controllers ask, counts as ready is `True` only). None without a
/// Ready condition: not observed, which is not "not ready" (see [`PodObs::ready`]).
/// The first Ready condition counts, as `GetPodCondition` reads it.
pub fn ready_of<'a>(mut conditions: impl Iterator<Item = (&'a str, &'a str)>) -> Option<bool> {
    (conditions.find(|(kind, _)| *kind == "Ready")).map(|(_, status)| status == "True")
}

fn volume(v: &Volume) -> VolumeObs {
    volume_of(
        &v.name,
        v.csi.as_ref(),
        v.secret.as_ref(),
        v.projected.as_ref(),
    )
}

/// A volume from the sources diagnosis reads; any other kind of volume is `Other`.
pub fn volume_of(
    name: &str,
    csi: Option<&CSIVolumeSource>,
    secret: Option<&SecretVolumeSource>,
    projected: Option<&ProjectedVolumeSource>,
) -> VolumeObs {
    let source = if let Some(csi) = csi {
        VolumeSourceObs::Csi {
            driver: csi.driver.as_str().into(),
            read_only: csi.read_only,
            attributes: StrMap::shared_from(csi.volume_attributes.as_ref()),
            node_publish_secret: csi
                .node_publish_secret_ref
                .as_ref()
                .map(|r| r.name.as_str().into()),
        }
    } else if let Some(s) = secret {
        VolumeSourceObs::Secret {
            secret_name: s.secret_name.as_deref().unwrap_or_default().into(),
            optional: s.optional.unwrap_or(false),
            keys: s
                .items
                .iter()
                .flatten()
                .map(|i| i.key.as_str().into())
                .collect(),
            paths: item_paths(s.items.as_deref()),
        }
    } else if let Some(p) = projected {
        let sources = each(&p.sources);
        VolumeSourceObs::Projected {
            token_audiences: tight(
                sources
                    .iter()
                    .filter_map(|s| s.service_account_token.as_ref())
                    .map(|t| t.audience.as_deref().unwrap_or_default().into()),
            ),
            secrets: tight(
                sources
                    .iter()
                    .filter_map(|s| s.secret.as_ref())
                    .map(|s| s.name.as_str().into()),
            ),
            secret_items: sources
                .iter()
                .filter_map(|s| s.secret.as_ref())
                .filter(|s| s.items.as_ref().is_some_and(|i| !i.is_empty()))
                .map(|s| ProjectedSecretItems {
                    secret: s.name.as_str().into(),
                    optional: s.optional.unwrap_or(false),
                    keys: s
                        .items
                        .iter()
                        .flatten()
                        .map(|i| i.key.as_str().into())
                        .collect(),
                    paths: item_paths(s.items.as_deref()),
                })
                .collect(),
        }
    } else {
        VolumeSourceObs::Other
    };
    VolumeObs {
        name: name.into(),
        source,
    }
}

/// `items[].path` of a Secret volume or source: the file each listed key is written to.
fn item_paths(items: Option<&[KeyToPath]>) -> Vec<Name> {
    items
        .into_iter()
        .flatten()
        .map(|i| i.path.as_str().into())
        .collect()
}

/// An env var: which Secret key it reads, or its literal value. `value_from` is the var's
/// `valueFrom` as the Secret key it names (`Some(None)`: another source, e.g. a fieldRef).
/// Literal values may be secrets: only the workload-identity ones (`AZURE_*`) are kept.
pub fn env_of(
    name: &str,
    value: Option<&str>,
    value_from: Option<Option<&SecretKeySelector>>,
) -> EnvObs {
    EnvObs {
        name: name.into(),
        source: match value_from {
            Some(Some(r)) => EnvSourceObs::SecretKey {
                secret: r.name.as_str().into(),
                key: r.key.as_str().into(),
                optional: r.optional.unwrap_or(false),
            },
            Some(None) => EnvSourceObs::Other,
            None => EnvSourceObs::Literal {
                value: value
                    .filter(|_| name.starts_with("AZURE_"))
                    .map(String::from),
            },
        },
    }
}

fn env_var(e: &EnvVar) -> EnvObs {
    let from = e.value_from.as_ref().map(|f| f.secret_key_ref.as_ref());
    env_of(&e.name, e.value.as_deref(), from)
}

/// A container from its name, env vars (already read), `envFrom`, volume mounts and
/// `restartPolicy` (`Always` on an init container: a native sidecar).
pub fn container_of(
    name: &str,
    env: Vec<EnvObs>,
    env_from: &[EnvFromSource],
    mounts: &[VolumeMount],
    init: bool,
    restart_policy: Option<&str>,
) -> ContainerObs {
    ContainerObs {
        name: name.into(),
        init,
        sidecar: init.then_some(restart_policy == Some("Always")),
        mounts: mounts
            .iter()
            .map(|m| MountObs {
                volume: m.name.as_str().into(),
                path: m.mount_path.as_str().into(),
                sub_path: m
                    .sub_path
                    .as_deref()
                    .filter(|s| !s.is_empty())
                    .map(Name::from),
                read_only: m.read_only.unwrap_or(false),
            })
            .collect(),
        env,
        env_from_secrets: tight(
            env_from
                .iter()
                .filter_map(|e| e.secret_ref.as_ref().map(|s| s.name.as_str().into())),
        ),
        env_from_optional: tight(env_from.iter().filter_map(|e| {
            let s = e.secret_ref.as_ref()?;
            s.optional.unwrap_or(false).then(|| s.name.as_str().into())
        })),
        state: ContainerStateObs::Unknown,
    }
}

fn container_state(s: Option<&ContainerState>) -> ContainerStateObs {
    let Some(s) = s else {
        return ContainerStateObs::Unknown;
    };
    if let Some(t) = s.running.as_ref().and_then(|r| r.started_at.as_ref()) {
        return ContainerStateObs::Running { started_at: t.0 };
    }
    if let Some(w) = &s.waiting {
        return ContainerStateObs::Waiting {
            reason: w.reason.clone().unwrap_or_default(),
            message: w.message.clone().unwrap_or_default(),
        };
    }
    if let Some(t) = &s.terminated {
        return ContainerStateObs::Terminated {
            reason: t.reason.clone().unwrap_or_default(),
            exit_code: t.exit_code,
        };
    }
    ContainerStateObs::Unknown
}

mod objects;
mod reloader;
pub use objects::{event, ingress, secret, service_account, spc, spc_parsed_by, spcps};
/// Reloader's flags from its container's words: the lab reads its `reloaderArgs` with it.
pub(crate) use reloader::observe as reloader_flags;

mod workloads;
pub use workloads::{
    cron_job, custom_workload, daemon_set, deployment, job, job_budget, node, placement,
    replica_set, stateful_set, without_claimed,
};

#[cfg(test)]
mod tests;
