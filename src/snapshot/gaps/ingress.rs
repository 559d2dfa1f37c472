//! When unread Ingresses may hide whole chains. An Ingress starts a chain of its own when its
//! TLS names a synced Secret of a SecretProviderClass that no pod mounts (`chain::orphans`:
//! the driver makes and keeps that Secret only while a pod mounts the SPC, FACTS §2, §11).
//! With Ingresses unread such a chain is missing, not a link unknown, so the view is
//! incomplete (README `kvchain check`, exit status 3). Where every SPC that syncs a Secret is
//! mounted, an Ingress is only a reader on a pod's chain (its Sync and Consumers links say
//! what was not checked): the gap hides no chain there.

use std::collections::HashSet;

use super::Gap;
use crate::snapshot::mounts::SPC_ATTRIBUTE;
use crate::snapshot::{Snapshot, VolumeSourceObs};

/// Whether `gap` (an `ingresses` gap) covers a namespace holding an SPC with `secretObjects`
/// that no pod, and no pod template of a workload meant to run pods, mounts: an Ingress there
/// could start a chain kvchain cannot see. Namespaces whose pods are unread are left out (no
/// such chain is built there, and the pods' gap already hides chains).
pub(super) fn hides_chains(snap: &Snapshot, gap: &Gap) -> bool {
    // One pass over the pods and templates, only when Ingresses went unread (rare). A
    // workload scaled to zero mounts nothing (its synced Secret is not made, and a reader of
    // it is a chain of its own, `orphans::needed`).
    let templates = (snap.workloads.items.iter())
        .filter(|w| w.replicas != Some(0))
        .filter_map(|w| w.template.as_deref());
    let mut mounted: HashSet<(&str, &str)> = HashSet::new();
    for pod in snap.pods.items.iter().chain(templates) {
        for v in &pod.volumes {
            if let VolumeSourceObs::Csi { attributes, .. } = &v.source
                && let Some(spc) = attributes.get(SPC_ATTRIBUTE)
            {
                mounted.insert((pod.namespace.as_str(), spc.as_str()));
            }
        }
    }
    snap.spcs.items.iter().any(|spc| {
        !spc.secret_objects.is_empty()
            && gap.covers(&spc.namespace)
            && snap.pods.unknown_in(&spc.namespace).is_none()
            && !mounted.contains(&(spc.namespace.as_str(), spc.name.as_str()))
    })
}
