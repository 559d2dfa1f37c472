//! Who consumes each Secret: the pods that read it through env, envFrom, a secret or
//! projected volume or an image pull, and which of them do not mount the SecretProviderClass
//! that syncs it.

use std::sync::PoisonError;

use super::{HashMap, Index, Key, map, may_mount};
use crate::snapshot::*;

/// How a pod consumes a Secret.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Use<'a> {
    /// `env[].valueFrom.secretKeyRef`.
    Env {
        container: &'a ContainerObs,
        var: &'a str,
        key: &'a str,
    },
    /// `envFrom[].secretRef` (`optional`: the container starts without the Secret).
    EnvFrom {
        container: &'a ContainerObs,
        optional: bool,
    },
    /// A `secret` (or projected) volume.
    Volume { volume: &'a str },
    /// `spec.imagePullSecrets`: read by the kubelet for each image pull, not by the app.
    ImagePull,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Consumer<'a> {
    pub pod: &'a PodObs,
    pub how: Use<'a>,
}

/// A pod's identity within one diagnosis (the snapshot is borrowed for all of it).
pub(crate) fn pod_address(pod: &PodObs) -> usize {
    std::ptr::from_ref(pod) as usize
}

/// (namespace, secret) → pods consuming it, in pod order.
pub(super) type Consumers<'a> = HashMap<Key<'a>, Vec<Consumer<'a>>>;
/// Sorted [`pod_address`]es, shared by every chain that asks.
pub(crate) type PodAddresses = std::sync::Arc<[usize]>;

impl Index<'_> {
    /// Consumers in `list` (those of `spc.secret_objects[secret]`) whose pod does not mount
    /// `spc`, as sorted [`pod_address`]es.
    pub fn consumers_not_mounting(
        &self,
        spc: &SpcObs,
        secret: usize,
        list: &[Consumer<'_>],
    ) -> PodAddresses {
        let key = (std::ptr::from_ref(spc) as usize, secret);
        let lock = || {
            self.unmounted_consumers
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
        };
        if let Some(found) = lock().get(&key) {
            return found.clone();
        }
        let mut pods: Vec<usize> = list
            .iter()
            .filter(|c| {
                !may_mount(c.pod, &spc.name)
                    && !self.mounts_a_writer(c.pod, &spc.secret_objects[secret].secret_name)
            })
            .map(|c| pod_address(c.pod))
            .collect();
        pods.sort_unstable();
        pods.dedup();
        let pods: PodAddresses = pods.into();
        lock().insert(key, pods.clone());
        pods
    }
}

/// (namespace, secret) → pods consuming it, in pod name order.
pub(super) fn of(snap: &Snapshot) -> Consumers<'_> {
    let mut consumers: Consumers<'_> = map(snap.secrets.items.len());
    let mut add = |ns, secret, pod, how| {
        consumers
            .entry((ns, secret))
            .or_default()
            .push(Consumer { pod, how });
    };
    for pod in &snap.pods.items {
        let ns = pod.namespace.as_str();
        for v in &pod.volumes {
            match &v.source {
                VolumeSourceObs::Csi { .. } | VolumeSourceObs::Other => {}
                VolumeSourceObs::Secret { secret_name, .. } => {
                    add(ns, secret_name, pod, Use::Volume { volume: &v.name });
                }
                VolumeSourceObs::Projected { secrets, .. } => {
                    for s in secrets {
                        add(ns, s, pod, Use::Volume { volume: &v.name });
                    }
                }
            }
        }
        for c in &pod.containers {
            for e in &c.env {
                if let EnvSourceObs::SecretKey { secret, key, .. } = &e.source {
                    let how = Use::Env {
                        container: c,
                        var: &e.name,
                        key,
                    };
                    add(ns, secret, pod, how);
                }
            }
            for s in &c.env_from_secrets {
                let optional = c.env_from_optional.contains(s);
                add(
                    ns,
                    s,
                    pod,
                    Use::EnvFrom {
                        container: c,
                        optional,
                    },
                );
            }
        }
        for s in &pod.image_pull_secrets {
            add(ns, s, pod, Use::ImagePull);
        }
    }
    // In pod name order, whatever order the pods were listed in: the consumers link
    // reports them in this order, and the incremental engine, whose pods move when one
    // is removed, must tell what a full pass tells (a pod's uses keep their order).
    for list in consumers.values_mut() {
        list.sort_by(|a, b| a.pod.name.cmp(&b.pod.name));
    }
    consumers
}
