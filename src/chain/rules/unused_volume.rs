//! Mount link: a CSI volume no container mounts is never mounted (KVC707). The kubelet sets up
//! only the volumes a container, init container or ephemeral container names in its
//! `volumeMounts` (or `volumeDevices`, which an inline CSI volume cannot be): kubernetes
//! `pkg/kubelet/volumemanager/populator/desired_state_of_world_populator.go` processPodVolumes,
//! "Volume is not used in the pod, ignore it". NodePublishVolume is never called for it, so
//! there are no files, no SecretProviderClassPodStatus (FACTS §1) and no synced Secret ("No
//! mount ⇒ no Secret", FACTS §2); a container reading that Secret waits for ever.

use super::remedy::{container_path, edit_owner, free_mount_path};
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::Link;
use crate::snapshot::{ContainerObs, EnvSourceObs};

/// Pushes KVC707 when no container of the chain's pod mounts its volume; true when it did
/// (nothing else of the Mount link can be judged: the mount never happens).
pub(crate) fn check(cx: &Ctx, link: &mut Link) -> bool {
    let volume = cx.volume.name.as_str();
    // No container observed says nothing about which volumes they use.
    if cx.pod.containers.is_empty() || mounted_by(cx.pod.containers.iter(), volume) {
        return false;
    }
    // The driver wrote a status for it: something kvchain does not see (an ephemeral
    // container added since) made the kubelet mount it.
    if cx.mounted() {
        return false;
    }
    let synced: Vec<&str> = cx
        .spc
        .iter()
        .flat_map(|s| s.secret_objects.iter())
        .map(|o| o.secret_name.as_str())
        .filter(|n| !n.is_empty())
        .collect();
    let reader = cx
        .pod
        .containers
        .iter()
        .find(|c| !reads(c, &synced).is_empty())
        .or_else(|| cx.pod.containers.iter().find(|c| !c.init))
        .or(cx.pod.containers.first());
    let owner = cx.owner_resource();
    let products = if synced.is_empty() {
        String::new()
    } else {
        format!(" and never syncs its Secrets ({})", synced.join(", "))
    };
    let message = format!(
        "volume {volume} (SecretProviderClass {}) is mounted by no container of {owner}: the kubelet sets up only the volumes a container mounts, so the driver never mounts it (no files, no SecretProviderClassPodStatus){products}",
        cx.spc_name
    );
    let mut evidence = vec![format!(
        "volumes[{volume}]: csi {{driver: {}, secretProviderClass: {}}}",
        cx.driver, cx.spc_name
    )];
    evidence.extend(cx.pod.containers.iter().map(|c| {
        let mounts: Vec<&str> = c.mounts.iter().map(|m| m.volume.as_str()).collect();
        format!(
            "{}[{}].volumeMounts: [{}]",
            if c.init {
                "initContainers"
            } else {
                "containers"
            },
            c.name,
            mounts.join(", ")
        )
    }));
    let what = match reader {
        Some(c) => {
            let read = reads(c, &synced);
            let why = if read.is_empty() {
                String::new()
            } else {
                format!(" (it reads {})", read.join(", "))
            };
            // A mountPath the container does not use already: the API refuses two mounts of
            // one container at one path (audit LL3).
            let path = free_mount_path(
                Some(c),
                &["/mnt/secrets-store".to_string(), format!("/mnt/{volume}")],
                &[],
            );
            format!(
                "add to {} {}{why} the volumeMounts entry {{name: {volume}, mountPath: {path}, readOnly: true}}",
                if c.init {
                    "init container"
                } else {
                    "container"
                },
                c.name
            )
        }
        None => format!(
            "add a volumeMounts entry {{name: {volume}, mountPath: /mnt/secrets-store, readOnly: true}} to the container that needs it"
        ),
    };
    let prefix = cx.pod_spec_path();
    let confirm = match reader {
        Some(c) => format!(
            "kubectl get {} -n {} -o jsonpath='{{{}}}'",
            cx.owner_kubectl(),
            cx.ns(),
            container_path(prefix, c, false, ".volumeMounts")
        ),
        None => format!(
            "kubectl get {} -n {} -o jsonpath='{{{prefix}.containers[*].volumeMounts}}'",
            cx.owner_kubectl(),
            cx.ns()
        ),
    };
    let fix = edit_owner(cx, &what);
    link.findings
        .push(cx.finding(Code::KVC707, owner, message, evidence, confirm, fix));
    true
}

/// Whether one of `containers` names `volume` in its volumeMounts.
pub(crate) fn mounted_by<'c>(
    mut containers: impl Iterator<Item = &'c ContainerObs>,
    volume: &str,
) -> bool {
    containers.any(|c| c.mounts.iter().any(|m| m.volume == volume))
}

/// Which of the `synced` Secrets container `c` reads through env or envFrom.
fn reads<'s>(c: &ContainerObs, synced: &[&'s str]) -> Vec<&'s str> {
    synced
        .iter()
        .copied()
        .filter(|s| {
            c.env_from_secrets.iter().any(|n| n == s)
                || c.env.iter().any(
                    |e| matches!(&e.source, EnvSourceObs::SecretKey { secret, .. } if secret == s),
                )
        })
        .collect()
}
