//! Rotation polls, Stakater Reloader and garbage collection of synced Secrets.

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
                }
            }
        }
    }

    /// Stakater Reloader (env-vars strategy): workloads annotated `reloader.stakater.com/auto`
    /// that use the Secret, or naming it in `secret.reloader.stakater.com/reload`, get a
    /// `STAKATER_<NAME>_SECRET` env var with the data's hash, hence a rollout.
    pub(super) fn reload_consumers(&mut self, ns: &str, secret: &str) {
        let Some(found) = self.secrets.get(&(ns.to_string(), secret.to_string())) else {
            return;
        };
        let Some(data) = found.data.clone() else {
            return;
        };
        // The Secret's `reloader.stakater.com/ignore` (FACTS §10) is read as Reloader reads it.
        let resource = found.metadata.annotations.clone().unwrap_or_default();
        let mut h = Sha256::new();
        for (k, v) in &data {
            h.update(k.as_bytes());
            h.update(&v.0);
        }
        let hash = hex::encode(h.finalize());
        let var = format!(
            "STAKATER_{}_SECRET",
            secret.to_uppercase().replace(['-', '.'], "_")
        );
        let keys: Vec<WorkloadKey> = self
            .workloads
            .iter()
            .filter(|(k, w)| k.1 == ns && reloader_watches(w, &resource, secret))
            .map(|(k, _)| k.clone())
            .collect();
        for k in keys {
            let Some(t) = self.workloads.get_mut(&k).and_then(|w| w.template_mut()) else {
                continue;
            };
            for c in t.spec.iter_mut().flat_map(|s| s.containers.iter_mut()) {
                let env = c.env.get_or_insert_with(Vec::new);
                env.retain(|e| e.name != var);
                env.push(k8s_openapi::api::core::v1::EnvVar {
                    name: var.clone(),
                    value: Some(hash.clone()),
                    value_from: None,
                });
            }
            self.reconcile_needed = true;
            self.changed();
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

/// Whether Reloader restarts `w` when `secret` changes: its ShouldReload (the workload's
/// annotations, else the pod template's; `reload` entries as anchored regexes: the chain's
/// own matcher, FACTS §10), and for `auto` a template that references the Secret.
pub(super) fn reloader_watches(
    w: &Workload,
    resource: &std::collections::BTreeMap<String, String>,
    secret: &str,
) -> bool {
    use crate::reloader::{Restart, restart};
    let none = std::collections::BTreeMap::new();
    let own = w.meta().annotations.as_ref().unwrap_or(&none);
    let template = w
        .template()
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.annotations.as_ref())
        .unwrap_or(&none);
    // The lab's Reloader runs with Reloader's defaults (its export says so).
    match restart(&crate::reloader::DEFAULT, own, template, resource, secret) {
        Some(Restart::Named) => true,
        // `search` restarts as `auto` does (Reloader's AutoReload): for a referenced Secret.
        Some(Restart::Auto | Restart::Searched) => {
            w.template().is_some_and(|t| uses_secret(t, secret))
        }
        None => false,
    }
}

pub(super) fn uses_secret(t: &PodTemplateSpec, secret: &str) -> bool {
    let Some(spec) = &t.spec else { return false };
    // A projected volume's secret source references the Secret too ([R] getVolumeMountName).
    let projects = |v: &k8s_openapi::api::core::v1::Volume| {
        let sources = v.projected.iter().flat_map(|p| p.sources.iter().flatten());
        sources
            .filter_map(|src| src.secret.as_ref())
            .any(|x| x.name == secret)
    };
    let in_volumes = spec.volumes.iter().flatten().any(|v| {
        v.secret.as_ref().and_then(|s| s.secret_name.as_deref()) == Some(secret) || projects(v)
    });
    let in_env = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .any(|c| {
            c.env.iter().flatten().any(|e| {
                e.value_from
                    .as_ref()
                    .and_then(|f| f.secret_key_ref.as_ref())
                    .is_some_and(|r| r.name == secret)
            }) || c
                .env_from
                .iter()
                .flatten()
                .any(|e| e.secret_ref.as_ref().is_some_and(|r| r.name == secret))
        });
    in_volumes || in_env
}
