//! Controllers: Deployments → ReplicaSets → pods (with rollouts), Jobs → pods; StatefulSets
//! (`stateful`) and DaemonSets (`daemon`) → pods.

use super::*;

fn pod_key(p: &LabPod) -> Key {
    (p.namespace().to_string(), p.name().to_string())
}

impl World {
    pub fn add_workload(&mut self, mut wl: Workload) {
        let meta = wl.meta_mut();
        let ns = meta
            .namespace
            .get_or_insert_with(|| "default".into())
            .clone();
        let name = meta.name.clone().unwrap_or_default();
        let uid = self.uid();
        let now = self.now();
        let meta = wl.meta_mut();
        meta.uid.get_or_insert(uid);
        meta.creation_timestamp.get_or_insert(Time(now));
        self.namespaces.insert(ns.clone());
        self.workloads.insert((wl.kind().to_string(), ns, name), wl);
        self.reconcile_needed = true;
        self.changed();
    }

    pub(super) fn template_hash(t: &PodTemplateSpec) -> String {
        let h = Sha256::digest(serde_json::to_vec(t).unwrap_or_default());
        h.iter()
            .take(10)
            .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
            .collect()
    }

    /// Controllers: Deployments → ReplicaSets → pods (with rollouts), StatefulSets,
    /// DaemonSets and Jobs → pods.
    pub(super) fn reconcile(&mut self) {
        self.reconcile_needed = false;
        let mut by_owner: HashMap<String, Vec<Key>> = HashMap::new();
        for (k, p) in &self.pods {
            if let Some(o) = p.controller() {
                by_owner.entry(o.uid.clone()).or_default().push(k.clone());
            }
        }
        let mut rs_by_owner: HashMap<String, Vec<Key>> = HashMap::new();
        for (k, r) in &self.replica_sets {
            for o in r.metadata.owner_references.iter().flatten() {
                rs_by_owner
                    .entry(o.uid.clone())
                    .or_default()
                    .push(k.clone());
            }
        }
        let keys: Vec<WorkloadKey> = self.workloads.keys().cloned().collect();
        for wk in keys {
            let Some(wl) = self.workloads.get(&wk).cloned() else {
                continue;
            };
            match &wl {
                Workload::Deployment(_) => {
                    let owned = rs_by_owner.get(&wl.uid()).cloned().unwrap_or_default();
                    self.reconcile_deployment(&wk, &wl, &owned, &by_owner)
                }
                _ => self.reconcile_direct(&wk, &wl, &by_owner),
            }
        }
    }

    pub(super) fn live<'a>(
        &'a self,
        keys: Option<&'a Vec<Key>>,
    ) -> impl Iterator<Item = &'a LabPod> + 'a {
        keys.into_iter()
            .flatten()
            .filter_map(|k| self.pods.get(k).map(|p| &**p))
            .filter(|p| p.stage != Stage::Terminating)
    }

    pub(super) fn reconcile_deployment(
        &mut self,
        wk: &WorkloadKey,
        wl: &Workload,
        replica_sets: &[Key],
        by_owner: &HashMap<String, Vec<Key>>,
    ) {
        let Some(template) = wl.template().cloned() else {
            return;
        };
        let ns = wk.1.clone();
        let hash = Self::template_hash(&template);
        let rs_name = format!("{}-{hash}", wk.2);
        let rs_key = (ns.clone(), rs_name.clone());
        let replicas = wl.replicas();
        // The pods' template: the Deployment's, labelled with its hash.
        let mut rs_template = template;
        rs_template
            .metadata
            .get_or_insert_with(Default::default)
            .labels
            .get_or_insert_with(Default::default)
            .insert("pod-template-hash".into(), hash.clone());
        // Paused: the deployment controller makes no ReplicaSet for a changed template and
        // moves no pod; each ReplicaSet keeps its replicas on its own.
        if let Workload::Deployment(d) = wl
            && d.spec.as_ref().and_then(|s| s.paused) == Some(true)
        {
            return self.reconcile_paused(&ns, replica_sets, by_owner);
        }
        if !self.replica_sets.contains_key(&rs_key) {
            let revision = replica_sets.len() + 1;
            let rs = LabReplicaSet {
                metadata: ObjectMeta {
                    name: Some(rs_name.clone()),
                    namespace: Some(ns.clone()),
                    uid: Some(self.uid()),
                    creation_timestamp: Some(Time(self.now())),
                    labels: rs_template.metadata.as_ref().and_then(|m| m.labels.clone()),
                    annotations: Some(
                        [(
                            "deployment.kubernetes.io/revision".to_string(),
                            revision.to_string(),
                        )]
                        .into(),
                    ),
                    owner_references: Some(vec![wl.owner_ref("apps/v1")]),
                    ..Default::default()
                },
                replicas: replicas as i32,
                template: rs_template.metadata.clone(),
                spec_json: rs_template
                    .spec
                    .as_ref()
                    .and_then(LabReplicaSet::spec_to_json),
            };
            self.replica_sets.insert(rs_key.clone(), rs);
            self.changed();
        }
        let Some(rs_uid) = self
            .replica_sets
            .get(&rs_key)
            .map(|rs| rs.metadata.uid.clone().unwrap_or_default())
        else {
            return;
        };
        let owner = OwnerReference {
            api_version: "apps/v1".into(),
            kind: "ReplicaSet".into(),
            name: rs_name.clone(),
            uid: rs_uid.clone(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        };
        let strategy = match wl {
            Workload::Deployment(d) => rollout::Strategy::of(d, replicas),
            _ => return,
        };
        // The old ReplicaSets, oldest first (the controller scales those down first).
        let mut old_sets: Vec<(Key, String, Option<Time>)> = replica_sets
            .iter()
            .filter(|k| **k != rs_key)
            .filter_map(|k| {
                let r = self.replica_sets.get(k)?;
                let uid = r.metadata.uid.clone().unwrap_or_default();
                Some((k.clone(), uid, r.metadata.creation_timestamp.clone()))
            })
            .collect();
        old_sets.sort_by_key(|(_, _, created)| created.as_ref().map(|t| t.0));
        let new_pods: Vec<&LabPod> = self.live(by_owner.get(&rs_uid)).collect();
        // Old pods in the order they go: unavailable ones, then the most recently started.
        let mut old_pods: Vec<(Key, bool, Option<Timestamp>)> = old_sets
            .iter()
            .flat_map(|(_, uid, _)| self.live(by_owner.get(uid)))
            .map(|p| (pod_key(p), p.stage == Stage::Running, p.started_at))
            .collect();
        old_pods.sort_by_key(|(_, available, started)| (*available, std::cmp::Reverse(*started)));
        let counts = rollout::Counts {
            new: new_pods.len(),
            new_available: new_pods
                .iter()
                .filter(|p| p.stage == Stage::Running)
                .count(),
            old: old_pods.len(),
            old_available: old_pods.iter().filter(|(_, a, _)| *a).count(),
            old_present: old_sets
                .iter()
                .flat_map(|(_, uid, _)| by_owner.get(uid).into_iter().flatten())
                .filter(|k| self.pods.contains_key(*k))
                .count(),
        };
        let step = rollout::step(strategy, replicas, counts);
        let doomed: Vec<Key> = old_pods
            .iter()
            .filter(|(_, a, _)| !*a)
            .take(step.remove_unavailable)
            .chain(
                old_pods
                    .iter()
                    .filter(|(_, a, _)| *a)
                    .take(step.remove_available),
            )
            .map(|(k, _, _)| k.clone())
            .collect();
        for k in &doomed {
            self.terminate(k);
        }
        for _ in 0..step.create {
            let name = format!("{rs_name}-{}", self.suffix(5));
            self.create_from_template(&ns, &name, &rs_template, owner.clone());
        }
        // Each ReplicaSet's replicas: what the rollout left it.
        let mut sizes: Vec<(Key, i32)> = vec![(rs_key, (counts.new + step.create) as i32)];
        for (k, uid, _) in &old_sets {
            let left = self
                .live(by_owner.get(uid))
                .filter(|p| !doomed.contains(&pod_key(p)))
                .count();
            sizes.push((k.clone(), left as i32));
        }
        for (k, n) in sizes {
            if let Some(r) = self.replica_sets.get_mut(&k)
                && r.replicas != n
            {
                r.replicas = n;
                self.changed();
            }
        }
    }

    /// A paused Deployment's ReplicaSets, each as the ReplicaSet controller keeps it: a pod
    /// deleted (or terminating) is made again from the ReplicaSet's own template, up to its
    /// replicas. (The controller would still scale a paused Deployment whose replicas change;
    /// the lab changes no Deployment's replicas.)
    fn reconcile_paused(
        &mut self,
        ns: &str,
        replica_sets: &[Key],
        by_owner: &HashMap<String, Vec<Key>>,
    ) {
        for k in replica_sets {
            let Some(r) = self.replica_sets.get(k) else {
                continue;
            };
            let uid = r.metadata.uid.clone().unwrap_or_default();
            let missing =
                (r.replicas.max(0) as usize).saturating_sub(self.live(by_owner.get(&uid)).count());
            if missing == 0 {
                continue;
            }
            let template = PodTemplateSpec {
                metadata: r.template.clone(),
                spec: r.spec(),
            };
            let owner = OwnerReference {
                api_version: "apps/v1".into(),
                kind: "ReplicaSet".into(),
                name: k.1.clone(),
                uid,
                controller: Some(true),
                block_owner_deletion: Some(true),
            };
            for _ in 0..missing {
                let name = format!("{}-{}", k.1, self.suffix(5));
                self.create_from_template(ns, &name, &template, owner.clone());
            }
        }
    }

    pub(super) fn reconcile_direct(
        &mut self,
        wk: &WorkloadKey,
        wl: &Workload,
        by_owner: &HashMap<String, Vec<Key>>,
    ) {
        let Some(template) = wl.template().cloned() else {
            return;
        };
        let ns = wk.1.clone();
        let revision = Self::template_hash(&template);
        let owned: Vec<Key> = by_owner.get(&wl.uid()).cloned().unwrap_or_default();
        let mut t = template.clone();
        let labels = (t.metadata.get_or_insert_with(Default::default).labels)
            .get_or_insert_with(Default::default);
        if let Workload::Job(_) = wl {
            // The Job controller's labels on its pods (what `kubectl delete pod -l job-name=`
            // selects); a revision hash is a StatefulSet's and a DaemonSet's (audit ZZ6).
            for (key, value) in [
                ("batch.kubernetes.io/job-name", &wk.2),
                ("job-name", &wk.2),
                ("batch.kubernetes.io/controller-uid", &wl.uid()),
                ("controller-uid", &wl.uid()),
            ] {
                labels.insert(key.into(), value.clone());
            }
        } else {
            labels.insert("controller-revision-hash".into(), revision.clone());
        }
        match wl {
            // Each replaces its pods its own way (see their modules).
            Workload::StatefulSet(set) => {
                self.reconcile_stateful(wk, wl, set, &owned, &t, &revision)
            }
            Workload::DaemonSet(ds) => self.reconcile_daemon(wk, wl, ds, &owned, &t, &revision),
            // Past its backoffLimit the Job has failed: no new pod.
            Workload::Job(job) => {
                // Past its backoffLimit it failed; with its completion reached it is done.
                let ended = crate::snapshot::convert::job_budget(job)
                    .is_some_and(|b| b.failed_for_good())
                    || super::job_runs::job_complete(job);
                if owned.is_empty() && !ended {
                    let name = format!("{}-{}", wk.2, self.suffix(5));
                    self.create_from_template(&ns, &name, &t, wl.owner_ref("batch/v1"));
                }
            }
            // Its ReplicaSets make its pods (`reconcile_deployment`).
            Workload::Deployment(_) => {}
        }
    }

    pub(super) fn create_from_template(
        &mut self,
        ns: &str,
        name: &str,
        t: &PodTemplateSpec,
        owner: OwnerReference,
    ) {
        let mut meta = t.metadata.clone().unwrap_or_default();
        meta.name = Some(name.into());
        meta.namespace = Some(ns.into());
        meta.owner_references = Some(vec![owner.clone()]);
        let pod = Pod {
            metadata: meta,
            spec: t.spec.clone(),
            status: None,
        };
        if let Err(e) = self.create_pod(pod) {
            // The owning controller records FailedCreate on itself (the ReplicaSet for a
            // Deployment's pods), as kube-controller-manager does.
            let involved = (
                owner.api_version.as_str(),
                owner.kind.as_str(),
                owner.uid.clone(),
            );
            let at = (ns.to_string(), owner.name.clone());
            let component = match owner.kind.as_str() {
                "ReplicaSet" => "replicaset-controller",
                "StatefulSet" => "statefulset-controller",
                "DaemonSet" => "daemonset-controller",
                _ => "job-controller",
            };
            let message = format!("Error creating: {e}");
            self.record_on(
                involved,
                &at,
                "Warning",
                "FailedCreate",
                &message,
                component,
            );
        }
    }
}

/// A StatefulSet's or DaemonSet's `updateStrategy`: (OnDelete, the partition below which a
/// StatefulSet keeps its pods; 0 for none).
pub(crate) fn replaced_by_update(wl: &Workload) -> (bool, i32) {
    let (kind, partition) = match wl {
        Workload::StatefulSet(s) => {
            let u = s.spec.as_ref().and_then(|s| s.update_strategy.as_ref());
            let partition = u
                .and_then(|u| u.rolling_update.as_ref()?.partition)
                .unwrap_or(0);
            (u.and_then(|u| u.type_.clone()), partition)
        }
        Workload::DaemonSet(d) => (
            d.spec
                .as_ref()
                .and_then(|s| s.update_strategy.as_ref()?.type_.clone()),
            0,
        ),
        _ => (None, 0),
    };
    (kind.as_deref() == Some("OnDelete"), partition)
}
