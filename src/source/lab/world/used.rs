//! Which of a pod's volumes the kubelet sets up.

use k8s_openapi::api::core::v1::{PodSpec, VolumeDevice, VolumeMount};

/// Whether a container of `spec` (init, regular or ephemeral) mounts or attaches volume `name`,
/// as the kubelet's `GetPodVolumeNames` collects them.
pub(super) fn volume_used(spec: &PodSpec, name: &str) -> bool {
    let uses = |mounts: &Option<Vec<VolumeMount>>, devices: &Option<Vec<VolumeDevice>>| {
        mounts.iter().flatten().any(|m| m.name == name)
            || devices.iter().flatten().any(|d| d.name == name)
    };
    spec.containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .any(|c| uses(&c.volume_mounts, &c.volume_devices))
        || spec
            .ephemeral_containers
            .iter()
            .flatten()
            .any(|c| uses(&c.volume_mounts, &c.volume_devices))
}
