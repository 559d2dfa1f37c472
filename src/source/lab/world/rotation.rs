//! Rotation polls and garbage collection of synced Secrets.

use super::*;

impl World {
    /// One rotation poll (≤v1.5 rotation reconciler): every mounted volume is re-published
    /// with the current SPC; new versions rewrite files, update SPCPS and synced Secrets.
    pub(super) fn rotate_all(&mut self) {
        let keys: Vec<(Key, usize)> = self
            .pods
            .iter()
            .filter(|(_, p)| p.stage != Stage::Terminating)
            .flat_map(|(k, p)| {
                p.csi
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| v.mounted.is_some())
                    .map(move |(i, _)| (k.clone(), i))
            })
            .collect();
        let now = self.now();
        for (key, i) in keys {
            let Some(p) = self.pods.get(&key) else {
                continue;
            };
            let spc_name = p.csi[i].spc.clone();
            // The reconciler asks the provider of its own node, which is not serving.
            let node = p.spec.as_ref().and_then(|s| s.node_name.as_deref());
            if self.provider_not_ready(node) {
                self.record(
                    &key,
                    "Warning",
                    "MountRotationFailed",
                    crate::source::lab::messages::ROTATION_NO_PROVIDER,
                    "csi-secrets-store-rotation",
                );
                continue;
            }
            // The reconciler reads the nodePublishSecretRef Secret itself, before the provider.
            if let Some(secret) = self.missing_node_publish_secret(&key, i) {
                let msg = crate::source::lab::messages::rotation_node_publish_secret_not_found(
                    &key.0, &secret,
                );
                self.record(
                    &key,
                    "Warning",
                    "MountRotationFailed",
                    &msg,
                    "csi-secrets-store-rotation",
                );
                continue;
            }
            match self.publish(&key, i) {
                Err(e) => {
                    // kubelet's wrapper is not part of the rotation path: strip it.
                    let inner = e
                        .split_once(" : rpc error: ")
                        .map(|(_, r)| format!("rpc error: {r}"))
                        .unwrap_or(e);
                    self.record(
                        &key,
                        "Warning",
                        "MountRotationFailed",
                        &format!("provider mount err: {inner}"),
                        "csi-secrets-store-rotation",
                    );
                }
                Ok(m) => {
                    let unchanged = self
                        .pods
                        .get(&key)
                        .is_some_and(|p| p.csi[i].mounted.as_ref() == Some(&m));
                    if unchanged {
                        // Secret patch step still runs (and reports) even when nothing changed.
                        let owners = self.owners_for_key(&key, &spc_name);
                        self.sync_secrets(&key, &spc_name, &m, &owners, true);
                        continue;
                    }
                    let Some(p) = self.pods.get_mut(&key) else {
                        continue;
                    };
                    p.csi[i].mounted = Some(m.clone());
                    let spcps_key = (key.0.clone(), sync::spcps_name(&key.1, &key.0, &spc_name));
                    if let Some(s) = self.spcps.get_mut(&spcps_key) {
                        s.objects = m.objects.clone();
                        s.written = now;
                    }
                    self.changed();
                    let msg = format!(
                        "successfully rotated mounted contents for spc {}/{spc_name}",
                        key.0
                    );
                    self.record(
                        &key,
                        "Normal",
                        "MountRotationComplete",
                        &msg,
                        "csi-secrets-store-rotation",
                    );
                    let owners = self.owners_for_key(&key, &spc_name);
                    self.sync_secrets(&key, &spc_name, &m, &owners, true);
                    self.reload_for_pod_status(&key.0, &spc_name, &m.objects);
                }
            }
        }
    }

    pub(super) fn owners_for_key(&self, key: &Key, spc: &str) -> Vec<OwnerReference> {
        let spcps = self
            .spcps
            .get(&(key.0.clone(), sync::spcps_name(&key.1, &key.0, spc)));
        match (self.pods.get(key), spcps) {
            (Some(p), Some(s)) => sync::owners_for(&p.meta, s),
            _ => Vec::new(),
        }
    }

    /// Garbage collection: objects whose every owner is gone are deleted (background).
    pub(super) fn collect_garbage(&mut self) {
        self.gc_needed = false;
        let mut live: HashSet<String> = HashSet::new();
        live.extend(self.workloads.values().map(|w| w.uid()));
        live.extend(
            self.replica_sets
                .values()
                .filter_map(|r| r.metadata.uid.clone()),
        );
        live.extend(self.pods.values().map(|p| p.uid().to_string()));
        live.extend(self.spcps.values().map(|s| s.uid.clone()));
        let doomed: Vec<Key> = self
            .secrets
            .iter()
            .filter(|(_, s)| {
                let owners = s.metadata.owner_references.as_deref().unwrap_or(&[]);
                !owners.is_empty() && owners.iter().all(|o| !live.contains(&o.uid))
            })
            .map(|(k, _)| k.clone())
            .collect();
        for k in doomed {
            self.secrets.remove(&k);
            self.changed();
        }
    }
}
