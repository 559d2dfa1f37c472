//! kubelet and the CSI driver: volume mounts with back-off, SPCPS, synced Secrets, container start
//! with env resolved once.

use super::*;

impl World {
    pub(super) fn azure(&mut self) -> (AzureWorld<'_>, &BTreeMap<Key, SecretProviderClass>) {
        (
            AzureWorld {
                cluster: &self.cluster,
                identities: &self.identities,
                identity_index: &self.identity_index,
                vaults: &mut self.vaults,
                role_assignments: &self.role_assignments,
                ra_index: &self.ra_index,
                parse_cache: &mut self.parse_cache,
            },
            &self.spcs,
        )
    }

    pub(super) fn start_waiting_pods(&mut self) {
        let now = self.now();
        let pods = &self.pods;
        let due = self
            .waiting
            .take_due(now, |k| pods.get(k).map(|p| p.next_attempt));
        for k in due {
            self.try_start(&k);
        }
    }

    pub(super) fn publish(&mut self, key: &Key, vol: usize) -> Result<Mounted, String> {
        let now = self.now();
        let Some(p) = self.pods.get(key) else {
            return Err("pod gone".into());
        };
        let Some(v) = p.csi.get(vol) else {
            return Err("volume gone".into());
        };
        // The spec is shared (an Arc): hold it, not copies of the volume source.
        let spec = p.spec.clone();
        let source = spec
            .iter()
            .flat_map(|s| s.volumes.iter().flatten())
            .find(|x| x.name == v.name)
            .and_then(|x| x.csi.as_ref());
        let no_attrs = BTreeMap::new();
        let attrs = source
            .and_then(|c| c.volume_attributes.as_ref())
            .unwrap_or(&no_attrs);
        let sa = p.service_account();
        // Presence is per node: kubelet there finds no registered driver where the add-on's
        // DaemonSet does not run (FACTS §11 "Nodes").
        let node = spec.as_ref().and_then(|s| s.node_name.as_deref());
        if self.cluster.csi_driver.installed
            && let Some(n) = self.nodes.iter().find(|n| Some(n.name.as_str()) == node)
            && !crate::source::lab::nodes::driver_runs_on(n)
        {
            return Err(crate::source::lab::messages::driver_not_registered(&v.name));
        }
        if self.provider_not_ready(node) {
            return Err(crate::source::lab::messages::provider_not_found(
                &v.name, &key.0, &key.1,
            ));
        }
        let (ns, pod_name, volume, spc_name) =
            (key.0.clone(), key.1.clone(), v.name.clone(), v.spc.clone());
        let pod_uid = p.meta.uid.clone().unwrap_or_default();
        let nps = source
            .and_then(|c| c.node_publish_secret_ref.as_ref())
            .map(|r| self.node_publish_secret(&ns, &r.name));
        let (mut az, spcs) = self.azure();
        let spc = spcs.get(&(ns.clone(), spc_name));
        let req = VolumeRequest {
            namespace: &ns,
            pod: &pod_name,
            pod_uid: &pod_uid,
            service_account: &sa,
            volume: &volume,
            read_only: source.and_then(|c| c.read_only),
            attributes: attrs,
            node_publish_secret: nps,
        };
        mount::publish(&mut az, spc, &req, now).map_err(|e| e.0)
    }

    /// Whether the Azure provider's pod on `node` is not ready (the scenario's
    /// `csiDriver.providerNotReadyOn`): the driver finds no provider there.
    pub(super) fn provider_not_ready(&self, node: Option<&str>) -> bool {
        let down = &self.cluster.csi_driver.provider_not_ready_on;
        node.is_some_and(|n| down.iter().any(|d| d == n))
    }

    /// A `nodePublishSecretRef` as kubelet reads it: which keys the Secret holds (non-empty).
    fn node_publish_secret(&self, ns: &str, name: &str) -> mount::NodePublishSecret {
        let keys = self
            .secrets
            .get(&(ns.to_string(), name.to_string()))
            .map(|s| {
                s.data
                    .iter()
                    .flatten()
                    .filter(|(_, v)| !v.0.is_empty())
                    .map(|(k, _)| k.clone())
                    .collect()
            });
        mount::NodePublishSecret {
            name: name.to_string(),
            keys,
        }
    }

    /// The name of the `nodePublishSecretRef` Secret of a pod's CSI volume when it is missing.
    pub(super) fn missing_node_publish_secret(&self, key: &Key, vol: usize) -> Option<String> {
        let p = self.pods.get(key)?;
        let v = p.csi.get(vol)?;
        let name = p
            .volumes()
            .find(|x| x.name == v.name)
            .and_then(|x| x.csi.as_ref())
            .and_then(|c| c.node_publish_secret_ref.as_ref())
            .map(|r| r.name.clone())?;
        (!self.secrets.contains_key(&(key.0.clone(), name.clone()))).then_some(name)
    }

    pub(super) fn try_start(&mut self, key: &Key) {
        let now = self.now();
        let Some(p) = self.pods.get(key) else {
            self.waiting.remove(key);
            return;
        };
        if matches!(p.stage, Stage::Terminating | Stage::Succeeded) {
            self.waiting.remove(key);
            return;
        }
        // 1. CSI volumes.
        let pending: Vec<usize> = p
            .csi
            .iter()
            .enumerate()
            .filter(|(_, v)| v.mounted.is_none())
            .map(|(i, _)| i)
            .collect();
        let mut failures: Vec<(String, String)> = Vec::new();
        for i in pending {
            match self.publish(key, i) {
                Ok(m) => self.mounted(key, i, m),
                Err(e) => {
                    let vol = self
                        .pods
                        .get(key)
                        .map(|p| p.csi[i].name.clone())
                        .unwrap_or_default();
                    failures.push((vol, e));
                }
            }
        }
        // 2. Secret and ConfigMap volumes, projected sources: a missing object, or an
        // `items[].key` it lacks, fails the volume's setup unless optional.
        failures.extend(self.plain_volume_failures(key));
        if !failures.is_empty() {
            for (_, msg) in &failures {
                self.record(key, "Warning", "FailedMount", msg, "kubelet");
            }
            let all_volumes: Vec<String> = self
                .pods
                .get(key)
                .into_iter()
                .flat_map(|p| p.volumes())
                .map(|v| v.name.clone())
                .collect();
            let Some(p) = self.pods.get_mut(key) else {
                return;
            };
            let since = *p.failing_since.get_or_insert(now);
            let due_unable = now.duration_since(since) >= jiff::SignedDuration::from_secs(120)
                && p.unable_reported
                    .is_none_or(|t| now.duration_since(t) >= jiff::SignedDuration::from_secs(120));
            p.next_attempt = now.checked_add(p.backoff).unwrap_or(now);
            p.backoff = (p.backoff * 2).min(BACKOFF_MAX);
            self.waiting.retry_at(key, p.next_attempt);
            if due_unable {
                p.unable_reported = Some(now);
                let unmounted: Vec<String> = failures.iter().map(|(v, _)| v.clone()).collect();
                let msg = crate::source::lab::messages::unable_to_mount(&unmounted, &all_volumes);
                self.record(key, "Warning", "FailedMount", &msg, "kubelet");
            }
            return;
        }
        // 3. Containers.
        self.start_containers(key);
    }

    /// A successful NodePublishVolume: files written, SPCPS created/updated, Secrets synced.
    pub(super) fn mounted(&mut self, key: &Key, vol: usize, m: Mounted) {
        let now = self.now();
        let Some(p) = self.pods.get_mut(key) else {
            return;
        };
        p.csi[vol].mounted = Some(m.clone());
        let (spc_name, vol_name, pod) = (
            p.csi[vol].spc.clone(),
            p.csi[vol].name.clone(),
            p.meta.clone(),
        );
        let node = p
            .spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .unwrap_or_else(|| self.cluster.node.clone());
        let spcps_key = (key.0.clone(), sync::spcps_name(&key.1, &key.0, &spc_name));
        let existing = self.spcps.remove(&spcps_key);
        let uid = self.uid();
        let s = sync::write_spcps(existing, &pod, &spc_name, &vol_name, &node, &m, uid, now);
        let owners = sync::owners_for(&pod, &s);
        self.spcps.insert(spcps_key, s);
        self.changed();
        self.sync_secrets(key, &spc_name, &m, &owners, false);
    }

    pub(super) fn sync_secrets(
        &mut self,
        key: &Key,
        spc_name: &str,
        m: &Mounted,
        owners: &[OwnerReference],
        update: bool,
    ) {
        if !self.cluster.csi_driver.sync_secret {
            return;
        }
        let Some(spc) = self.spcs.get(&(key.0.clone(), spc_name.to_string())) else {
            return;
        };
        let now = self.now();
        let mut counter = self.uid_counter;
        let name = self.name.clone();
        let outcomes = sync::sync_spc(
            &mut self.secrets,
            &key.0,
            spc,
            &m.files,
            owners,
            update,
            || {
                counter += 1;
                let h = Sha256::digest(format!("{name}/secret/{counter}").as_bytes());
                hex::encode(&h[..16])
            },
            now,
        );
        self.uid_counter = counter;
        // A create refused leaves its Secret (and, as the driver stops there, later entries')
        // to the controller's next reconcile (FACTS §2): queued for the 5-minute requeue.
        let refused = !update && outcomes.iter().any(|o| matches!(o, SyncOutcome::Failed(_)));
        if refused {
            let missing: Vec<String> = (spc.spec.secret_objects.iter().flatten())
                .filter_map(|o| o.secret_name.clone())
                .filter(|n| !self.secrets.contains_key(&(key.0.clone(), n.clone())))
                .collect();
            for name in missing {
                self.requeue_missing(&key.0, &name);
            }
        }
        for o in outcomes {
            match o {
                SyncOutcome::Created(_) => self.changed(),
                SyncOutcome::Updated(n) => {
                    self.changed();
                    self.record(
                        key,
                        "Normal",
                        "SecretRotationComplete",
                        &format!("successfully rotated K8s secret {n}"),
                        "csi-secrets-store-rotation",
                    );
                    // A Reloader scaled to 0 runs no pod: nothing restarts (`stop-reloader`).
                    if self.cluster.reloader && !self.cluster.reloader_stopped {
                        self.reload_consumers(&key.0, &n);
                    }
                }
                SyncOutcome::Unchanged(n) => {
                    if update {
                        self.record(
                            key,
                            "Normal",
                            "SecretRotationComplete",
                            &format!("successfully rotated K8s secret {n}"),
                            "csi-secrets-store-rotation",
                        );
                    }
                }
                SyncOutcome::Failed(msg) if update => self.record(
                    key,
                    "Warning",
                    "SecretRotationFailed",
                    &msg,
                    "csi-secrets-store-rotation",
                ),
                SyncOutcome::Failed(msg) => self.record(
                    key,
                    "Warning",
                    "FailedToCreateSecret",
                    &msg,
                    "csi-secrets-store-controller",
                ),
            }
        }
    }
}
