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
/// Ascending positions in a consumer list, shared by every chain that asks.
pub(crate) type Positions = std::sync::Arc<[usize]>;

/// The consumers of the Secret one `secretObjects` entry syncs, in pod name order.
#[derive(Clone)]
pub(crate) struct Readers<'a> {
    pub list: &'a [Consumer<'a>],
    /// The positions in `list` of the uses whose pod does not mount the SecretProviderClass
    /// ([`Index::consumers_not_mounting`]).
    pub unmounted: Positions,
}

impl<'a> Readers<'a> {
    /// The positions of the uses by pods named as `pod`, and maybe others (the list is in pod
    /// name order, so a binary search finds them): a chain looks up its own pod's uses this
    /// way, as each of a workload's n replicas walking all n readers made its pass quadratic
    /// in n.
    /// A short list is taken whole: walking a few uses costs less than the search's name
    /// compares (~300 instructions a chain where each Secret has five readers).
    fn named_as(&self, pod: &PodObs) -> std::ops::Range<usize> {
        if self.list.len() <= 16 {
            return 0..self.list.len();
        }
        let name = pod.name.as_str();
        let start = self.list.partition_point(|c| c.pod.name.as_str() < name);
        let len = self.list[start..]
            .iter()
            .take_while(|c| c.pod.name.as_str() == name)
            .count();
        start..start + len
    }

    /// Whether `pod` reads the Secret.
    pub fn read_by(&self, pod: &PodObs) -> bool {
        self.list[self.named_as(pod)]
            .iter()
            .any(|c| std::ptr::eq(c.pod, pod))
    }

    /// In list order, the uses a chain of `pod` judges: its pod's own and those of pods that
    /// do not mount the SecretProviderClass (each other use is its own pod's chain's).
    pub fn seen_from<'p>(&'p self, pod: &'p PodObs) -> impl Iterator<Item = &'a Consumer<'a>> + 'p {
        let named = self.named_as(pod);
        let (start, end) = (named.start, named.end);
        let before = self
            .unmounted
            .iter()
            .copied()
            .take_while(move |&i| i < start);
        let after = self.unmounted.iter().copied().skip_while(move |&i| i < end);
        // Another pod of the same name (a manifest's two documents) is judged here only when
        // it does not mount the SPC, as every other pod.
        let own = named.filter(move |&i| {
            std::ptr::eq(self.list[i].pod, pod) || self.unmounted.binary_search(&i).is_ok()
        });
        let list = self.list;
        before.chain(own).chain(after).map(move |i| &list[i])
    }
}

impl Index<'_> {
    /// The positions in `list` (the consumers of `spc.secret_objects[secret]`) of uses whose
    /// pod does not mount `spc`.
    pub fn consumers_not_mounting(
        &self,
        spc: &SpcObs,
        secret: usize,
        list: &[Consumer<'_>],
    ) -> Positions {
        let key = (std::ptr::from_ref(spc) as usize, secret);
        let lock = || {
            self.unmounted_consumers
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
        };
        if let Some(found) = lock().get(&key) {
            return found.clone();
        }
        let at: Positions = (list.iter().enumerate())
            .filter(|(_, c)| {
                !may_mount(c.pod, &spc.name)
                    && !self.mounts_a_writer(c.pod, &spc.secret_objects[secret].secret_name)
            })
            .map(|(i, _)| i)
            .collect();
        lock().insert(key, at.clone());
        at
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

#[cfg(test)]
mod tests {
    use super::*;

    /// What a chain of `pod` judges, by definition: in list order, each use by `pod` itself
    /// and each use at an unmounted position.
    fn walked<'a>(readers: &Readers<'a>, pod: &PodObs) -> Vec<usize> {
        (readers.list.iter().enumerate())
            .filter(|(i, c)| std::ptr::eq(c.pod, pod) || readers.unmounted.contains(i))
            .map(|(i, _)| i)
            .collect()
    }

    proptest::proptest! {
        /// The binary search finds exactly the uses the whole walk would: several uses per
        /// pod, pods sharing a name (two manifest documents), any set not mounting.
        #[test]
        fn seen_from_is_the_walk_of_every_reader(
            names in proptest::collection::vec(0u8..6, 0..24),
            unmounted_mask in proptest::num::u32::ANY,
        ) {
            let pods: Vec<PodObs> = (names.iter())
                .map(|n| PodObs { name: format!("pod-{n}").into(), ..Default::default() })
                .collect();
            let mut list: Vec<Consumer> = (pods.iter())
                .flat_map(|pod| {
                    [Use::ImagePull, Use::Volume { volume: "v" }]
                        .into_iter()
                        .map(move |how| Consumer { pod, how })
                })
                .collect();
            list.sort_by(|a, b| a.pod.name.cmp(&b.pod.name));
            let unmounted: Positions = (0..list.len())
                .filter(|i| unmounted_mask & (1 << (i % 32)) != 0)
                .collect();
            let readers = Readers { list: &list, unmounted };
            for pod in &pods {
                let seen: Vec<usize> = readers
                    .seen_from(pod)
                    .map(|c| list.iter().position(|l| std::ptr::eq(l, c)).unwrap())
                    .collect();
                proptest::prop_assert_eq!(seen, walked(&readers, pod));
                proptest::prop_assert!(readers.read_by(pod));
            }
            let stranger = PodObs { name: "pod-3".into(), ..Default::default() };
            proptest::prop_assert!(!readers.read_by(&stranger));
        }
    }
}
