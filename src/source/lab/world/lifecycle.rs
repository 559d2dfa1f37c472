//! Pod admission and deletion, rollout restarts and workload deletion with their cascade.

use super::*;
use crate::snapshot::StrMap;
use crate::source::lab::nodes::Placement;

impl World {
    /// Admission (service account must exist, then the workload-identity webhook), then the
    /// scheduler places the pod on a lab node, where it waits for its volumes, or leaves it
    /// Pending (see [`super::super::nodes::schedule`]).
    pub fn create_pod(&mut self, mut pod: Pod) -> Result<Key, String> {
        let key = self.stamp(&mut pod.metadata);
        let sa_name = pod
            .spec
            .as_ref()
            .and_then(|s| s.service_account_name.clone())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "default".into());
        let no_sa = ServiceAccount::default();
        let sa = match self.service_accounts.get(&(key.0.clone(), sa_name.clone())) {
            Some(sa) => sa,
            None if sa_name == "default" => &no_sa,
            None => {
                return Err(format!(
                    "pods \"{}\" is forbidden: error looking up service account {}/{sa_name}: serviceaccount \"{sa_name}\" not found",
                    key.1, key.0
                ));
            }
        };
        // The ServiceAccount admission plugin: a pod that names no imagePullSecrets gets its
        // service account's.
        if let Some(spec) = pod.spec.as_mut()
            && spec.image_pull_secrets.as_ref().is_none_or(Vec::is_empty)
            && let Some(pulls) = sa.image_pull_secrets.as_ref().filter(|v| !v.is_empty())
        {
            spec.image_pull_secrets = Some(pulls.clone());
        }
        if self.cluster.workload_identity_webhook {
            webhook::admit(&mut pod, sa, &self.cluster.tenant_id)?;
        }
        let placement = pod
            .spec
            .as_ref()
            .map(|s| crate::source::lab::nodes::schedule(s, &self.nodes));
        if let Some(spec) = pod.spec.as_mut() {
            if let Some(Placement::Node(n)) = &placement {
                spec.node_name = Some(n.clone());
            }
            if spec
                .service_account_name
                .as_deref()
                .unwrap_or("")
                .is_empty()
            {
                spec.service_account_name = Some("default".into());
            }
        }
        // The kubelet sets up only the volumes a container uses: one no container, init or
        // ephemeral container mounts (volumeMounts) or attaches (volumeDevices) is skipped
        // ("Volume is not used in the pod, ignore it", desired_state_of_world_populator.go
        // processPodVolumes), so NodePublishVolume is never called for it: no files, no
        // SPCPS, no synced Secret (FACTS §1, §2).
        let csi = pod
            .spec
            .iter()
            .flat_map(|s| s.volumes.iter().flatten())
            .filter(|v| {
                pod.spec
                    .as_ref()
                    .is_some_and(|s| used::volume_used(s, &v.name))
            })
            .filter_map(|v| {
                let c = v.csi.as_ref()?;
                (c.driver == mount::DRIVER).then(|| CsiVolume {
                    name: v.name.clone(),
                    spc: c
                        .volume_attributes
                        .as_ref()
                        .and_then(|a| a.get("secretProviderClass").cloned())
                        .unwrap_or_default(),
                    mounted: None,
                })
            })
            .collect();
        let spec = pod.spec.map(|s| self.share_spec(&pod.metadata, s));
        let labels = StrMap::shared(pod.metadata.labels.take().unwrap_or_default());
        let now = self.now();
        let mut lp = LabPod {
            meta: pod.metadata,
            labels,
            spec,
            csi,
            stage: Stage::Mounting,
            next_attempt: now,
            backoff: Duration::from_secs(1),
            failing_since: None,
            unable_reported: None,
            delete_at: None,
            started_at: None,
            late_starts: Box::default(),
            waiting: None,
            waiting_init: None,
            config_errors: Box::default(),
            env: Held::default(),
            subpath_files: Held::default(),
        };
        let unscheduled = match placement {
            None | Some(Placement::Node(_)) => None,
            Some(other) => Some(other),
        };
        let Some(placement) = unscheduled else {
            set_status(&mut lp, Some(("ContainerCreating", "")));
            self.pods.insert(key.clone(), Box::new(lp));
            self.waiting.insert(key.clone(), now);
            self.changed();
            return Ok(key);
        };
        lp.stage = Stage::Unscheduled;
        match &placement {
            Placement::Unschedulable(why) => set_status(&mut lp, Some(("Unschedulable", why))),
            // PodGC: bound to a node that does not exist, deleted after the quarantine
            // (marked Failed and force-deleted at once: no grace period to observe).
            _ => {
                lp.delete_at = Some(now.checked_add(PODGC_QUARANTINE).unwrap_or(now));
                self.terminating.insert(key.clone());
            }
        }
        self.pods.insert(key.clone(), Box::new(lp));
        if let Placement::Unschedulable(why) = &placement {
            self.record_on(
                (
                    "v1",
                    "Pod",
                    self.pods
                        .get(&key)
                        .map(|p| p.uid().to_string())
                        .unwrap_or_default(),
                ),
                &key,
                "Warning",
                "FailedScheduling",
                why,
                "default-scheduler",
            );
        }
        self.changed();
        Ok(key)
    }

    /// The admitted spec, shared with the controller's previous pod when they are equal (the
    /// same template admitted alike); bare pods keep their own.
    fn share_spec(&mut self, meta: &ObjectMeta, spec: PodSpec) -> Arc<PodSpec> {
        let Some(owner) = meta
            .owner_references
            .iter()
            .flatten()
            .find(|o| o.controller == Some(true))
        else {
            return Arc::new(spec);
        };
        if let Some(shared) = self.pod_specs.get(&owner.uid)
            && **shared == spec
        {
            return Arc::clone(shared);
        }
        let shared = Arc::new(shrunk(spec));
        self.pod_specs
            .insert(owner.uid.clone(), Arc::clone(&shared));
        shared
    }

    /// `kubectl delete pod`: graceful termination, then gone (its controller replaces it).
    pub fn delete_pod(&mut self, ns: &str, name: &str) -> Result<String, String> {
        let key = (ns.to_string(), name.to_string());
        let Some(pod) = self.pods.get(&key) else {
            return Err(format!("pods \"{name}\" not found in namespace {ns}"));
        };
        // The Job controller counts a pod deleted before it succeeded as failed, against the
        // Job's backoffLimit (audit ZZ2); a pod that succeeded is counted already.
        if let Some(owner) = pod.controller().filter(|o| o.kind == "Job")
            && !matches!(pod.stage, Stage::Terminating | Stage::Succeeded)
        {
            let job = ("Job".to_string(), ns.to_string(), owner.name.clone());
            if let Some(Workload::Job(j)) = self.workloads.get_mut(&job) {
                let status = j.status.get_or_insert_with(Default::default);
                status.failed = Some(status.failed.unwrap_or(0).saturating_add(1));
            }
        }
        self.terminate(&key);
        Ok(format!("pod {ns}/{name} deleted"))
    }

    /// `kubectl delete secret`. A synced one is made again by a mount of its SPC, or within 5
    /// minutes by the driver's requeue of a mounted pod's status (FACTS §2, [`super::requeue`]).
    pub fn delete_secret(&mut self, ns: &str, name: &str) -> Result<String, String> {
        let Some(gone) = self.secrets.remove(&(ns.to_string(), name.to_string())) else {
            return Err(format!("secrets \"{name}\" not found in namespace {ns}"));
        };
        self.requeue_deleted(ns, name, &gone);
        self.changed();
        Ok(format!("secret {ns}/{name} deleted"))
    }

    pub(super) fn terminate(&mut self, key: &Key) {
        let now = self.now();
        let Some(p) = self.pods.get_mut(key) else {
            return;
        };
        if p.stage == Stage::Terminating {
            return;
        }
        // A pod that ran to completion has no container left to stop.
        let grace = match p.stage {
            Stage::Succeeded => 0,
            _ => (p.spec.as_ref())
                .and_then(|s| s.termination_grace_period_seconds)
                .unwrap_or(30)
                .clamp(0, 30),
        };
        p.stage = Stage::Terminating;
        p.delete_at = Some(
            now.checked_add(jiff::SignedDuration::from_secs(grace))
                .unwrap_or(now),
        );
        p.meta.deletion_timestamp = Some(Time(now));
        p.meta.deletion_grace_period_seconds = Some(grace);
        self.waiting.remove(key);
        self.terminating.insert(key.clone());
        self.reconcile_needed = true;
        self.changed();
    }

    pub(super) fn finish_terminations(&mut self) {
        let now = self.now();
        let done: Vec<Key> = self
            .terminating
            .iter()
            .filter(|k| {
                self.pods
                    .get(*k)
                    .and_then(|p| p.delete_at)
                    .is_none_or(|t| t <= now)
            })
            .cloned()
            .collect();
        for k in done {
            self.terminating.remove(&k);
            if let Some(p) = self.pods.remove(&k) {
                // The SPCPS is owned by the pod: it goes with it.
                for v in &p.csi {
                    self.spcps
                        .remove(&(k.0.clone(), sync::spcps_name(&k.1, &k.0, &v.spc)));
                }
            }
            self.reconcile_needed = true;
            self.gc_needed = true;
            self.changed();
        }
    }

    /// `kubectl rollout restart`: a new template annotation, so a new ReplicaSet/revision.
    /// Refused for a paused Deployment, as kubectl's object restarter refuses it before any
    /// patch is sent.
    pub fn rollout_restart(&mut self, kind: &str, ns: &str, name: &str) -> Result<String, String> {
        let key = (kind.to_string(), ns.to_string(), name.to_string());
        // kubectl's object restarter takes these three kinds and refuses every other (a Job's
        // template is immutable besides): the restart did not happen (audit ZZ5).
        if !["Deployment", "DaemonSet", "StatefulSet"].contains(&kind) {
            return Err(format!(
                "{kind} {ns}/{name}: restarting is not supported (kubectl rollout restart takes a Deployment, DaemonSet or StatefulSet)"
            ));
        }
        if let Some(Workload::Deployment(d)) = self.workloads.get(&key)
            && d.spec.as_ref().and_then(|s| s.paused) == Some(true)
        {
            return Err(format!(
                "deployments.apps \"{name}\" can't restart paused deployment (run rollout resume first)"
            ));
        }
        self.patch_restarted_at(kind, ns, name)
    }

    /// A workload's pod template edited in place (a trainer fault's label change): its
    /// controller rolls the new template out on its next pass, as after any template update.
    /// No restartedAt with it: the edit alone is the change, so undoing it gives back the
    /// template before, and its ReplicaSet (audit EEE15).
    pub(crate) fn template_edited(&mut self) {
        self.reconcile_needed = true;
        self.changed();
    }

    /// The template patch a rollout restart sends, as the API server takes it: a paused
    /// Deployment accepts it too (its controller rolls it out once resumed).
    pub(crate) fn patch_restarted_at(
        &mut self,
        kind: &str,
        ns: &str,
        name: &str,
    ) -> Result<String, String> {
        let now = self.now();
        let wl = self
            .workloads
            .get_mut(&(kind.to_string(), ns.to_string(), name.to_string()))
            .ok_or_else(|| format!("{kind} {ns}/{name} not found"))?;
        let t = wl
            .template_mut()
            .ok_or_else(|| format!("{kind} {ns}/{name} has no pod template"))?;
        t.metadata
            .get_or_insert_with(Default::default)
            .annotations
            .get_or_insert_with(Default::default)
            .insert("kubectl.kubernetes.io/restartedAt".into(), now.to_string());
        self.reconcile_needed = true;
        self.changed();
        Ok(format!("{kind} {ns}/{name} restarted"))
    }

    /// `kubectl rollout pause` (`paused`) or `resume` of Deployment `ns/name`: sets
    /// `spec.paused`. Refused as kubectl refuses it when the Deployment is already so.
    pub fn set_paused(&mut self, ns: &str, name: &str, paused: bool) -> Result<String, String> {
        let key = ("Deployment".to_string(), ns.to_string(), name.to_string());
        let Some(Workload::Deployment(d)) = self.workloads.get_mut(&key) else {
            return Err(format!(
                "deployments.apps \"{name}\" not found in namespace {ns}"
            ));
        };
        let spec = d.spec.get_or_insert_with(Default::default);
        if spec.paused.unwrap_or(false) == paused {
            return Err(format!(
                "deployments.apps \"{name}\" {}",
                if paused {
                    "is already paused"
                } else {
                    "is not paused"
                }
            ));
        }
        spec.paused = Some(paused);
        self.reconcile_needed = true;
        self.changed();
        Ok(format!(
            "deployment.apps/{name} {}",
            if paused { "paused" } else { "resumed" }
        ))
    }

    /// `kubectl delete <kind>`: cascades to ReplicaSets and pods (background propagation).
    pub fn delete_workload(&mut self, kind: &str, ns: &str, name: &str) -> Result<String, String> {
        let wl = self
            .workloads
            .remove(&(kind.to_string(), ns.to_string(), name.to_string()))
            .ok_or_else(|| format!("{kind} {ns}/{name} not found"))?;
        let mut owners: HashSet<String> = [wl.uid()].into();
        self.stateful_revisions.remove(&wl.uid());
        let rs: Vec<Key> = self
            .replica_sets
            .iter()
            .filter(|(_, r)| owned_by(&r.metadata, &wl.uid()))
            .map(|(k, _)| k.clone())
            .collect();
        for k in rs {
            if let Some(r) = self.replica_sets.remove(&k) {
                owners.insert(r.metadata.uid.unwrap_or_default());
            }
        }
        let doomed: Vec<Key> = self
            .pods
            .iter()
            .filter(|(_, p)| p.controller().is_some_and(|o| owners.contains(&o.uid)))
            .map(|(k, _)| k.clone())
            .collect();
        for k in doomed {
            self.terminate(&k);
        }
        self.gc_needed = true;
        self.changed();
        Ok(format!("{kind} {ns}/{name} deleted"))
    }
}

/// `spec` without the spare room the webhook's pushes left in its lists (a 4-element
/// `volumeMounts` for 2, an 8-element `env` for 5): the spec is kept as long as its pods.
fn shrunk(mut spec: PodSpec) -> PodSpec {
    for c in spec
        .init_containers
        .iter_mut()
        .flatten()
        .chain(spec.containers.iter_mut())
    {
        c.env.as_mut().map(Vec::shrink_to_fit);
        c.volume_mounts.as_mut().map(Vec::shrink_to_fit);
    }
    spec.volumes.as_mut().map(Vec::shrink_to_fit);
    spec
}

pub(super) fn owned_by(meta: &ObjectMeta, uid: &str) -> bool {
    meta.owner_references.iter().flatten().any(|o| o.uid == uid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::lab::load;

    /// Replicas admitted from one template hold one spec; another workload's pods, or the pods
    /// of a new template after a rollout restart, hold their own.
    #[test]
    fn replicas_share_their_admitted_spec() {
        let mut w = World::new(load("generated:10").unwrap());
        w.run_until_stable(Duration::from_secs(60));
        let specs = |w: &World, app: &str| -> Vec<Arc<PodSpec>> {
            w.pods
                .values()
                .filter(|p| p.name().starts_with(app) && p.stage != Stage::Terminating)
                .filter_map(|p| p.spec.clone())
                .collect()
        };
        let a = specs(&w, "app-00000-");
        let b = specs(&w, "app-00001-");
        assert_eq!((a.len(), b.len()), (5, 5));
        assert!(a.iter().all(|s| Arc::ptr_eq(s, &a[0])));
        assert!(!Arc::ptr_eq(&a[0], &b[0]));
        // The webhook's work is in the shared spec, as in each pod's own.
        let env = &a[0].containers[0].env.as_ref().unwrap();
        assert!(env.iter().any(|e| e.name == "AZURE_CLIENT_ID"));

        w.rollout_restart("Deployment", "team-000", "app-00000")
            .unwrap();
        w.run_until_stable(Duration::from_secs(600));
        let c = specs(&w, "app-00000-");
        assert_eq!(c.len(), 5);
        assert!(c.iter().all(|s| Arc::ptr_eq(s, &c[0])));
        assert!(!Arc::ptr_eq(&a[0], &c[0]), "a new template is a new spec");
    }

    /// The replicas of one template hold one copy of their labels, which the snapshot's pods
    /// share too; another template's pods have their own.
    #[test]
    fn replicas_share_their_labels() {
        let mut w = World::new(load("generated:10").unwrap());
        w.run_until_stable(Duration::from_secs(60));
        let labels = |app: &str| -> Vec<&BTreeMap<String, String>> {
            w.pods
                .values()
                .filter(|p| p.name().starts_with(app))
                .map(|p| &*p.labels)
                .collect()
        };
        let (a, b) = (labels("app-00000-"), labels("app-00001-"));
        assert_eq!((a.len(), b.len()), (5, 5));
        assert!(a.iter().all(|l| std::ptr::eq(*l, a[0])));
        assert!(!std::ptr::eq(a[0], b[0]));
        assert_eq!(a[0].get("app").map(String::as_str), Some("app-00000"));
        assert!(a[0].contains_key("pod-template-hash"));
        assert!(w.pods.values().all(|p| p.meta.labels.is_none()));

        let snap = crate::source::lab::export::snapshot(&w);
        let pod = snap
            .pods
            .items
            .iter()
            .find(|p| p.name.starts_with("app-00000-"))
            .unwrap();
        assert!(
            std::ptr::eq(&*pod.labels, a[0]),
            "the snapshot shares the map"
        );
    }
}
