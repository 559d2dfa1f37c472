//! A workload's pod template diagnosed in place of the pods it cannot create (FailedCreate:
//! the webhook's denial, a missing ServiceAccount; README `check`). The index of readers is
//! built from the pods that exist, so the template's own reads of the synced Secret are in
//! none of it, and its Consumers link read "✓ none" for a container that reads the Secret
//! through env (audit WWW-scen). Nothing reads it until a pod exists: the link waits, as the
//! Mount and Sync links of such a template do.

use crate::snapshot::{EnvSourceObs, PodObs, VolumeSourceObs};

/// Whether pod (template) `pod` reads Secret `secret`: env, envFrom or a secret volume.
pub(super) fn reads(pod: &PodObs, secret: &str) -> bool {
    let env = pod.containers.iter().any(|c| {
        c.env_from_secrets.iter().any(|s| s == secret)
            || (c.env.iter()).any(
                |e| matches!(&e.source, EnvSourceObs::SecretKey { secret: s, .. } if s == secret),
            )
    });
    env || (pod.volumes.iter()).any(
        |v| matches!(&v.source, VolumeSourceObs::Secret { secret_name, .. } if secret_name == secret),
    )
}
