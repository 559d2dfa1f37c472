//! Hash-map joins over a snapshot, built once per [`super::diagnose`] call.
//!
//! Every rule looks things up here instead of scanning the snapshot, so a diagnosis is
//! O(pods + objects) rather than O(pods × objects).

use std::collections::HashMap;

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
    /// `envFrom[].secretRef`.
    EnvFrom { container: &'a ContainerObs },
    /// A `secret` (or projected) volume.
    Volume { volume: &'a str },
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Consumer<'a> {
    pub pod: &'a PodObs,
    pub how: Use<'a>,
}

type Key<'a> = (&'a str, &'a str);

pub(crate) struct Index<'a> {
    pub snap: &'a Snapshot,
    pub spcs: HashMap<Key<'a>, &'a SpcObs>,
    pub service_accounts: HashMap<Key<'a>, &'a ServiceAccountObs>,
    /// (namespace, pod, spc) → status.
    pub spcps: HashMap<(&'a str, &'a str, &'a str), &'a SpcPodStatusObs>,
    /// (namespace, spc) → number of pods with the SPC mounted right now.
    pub mounted_per_spc: HashMap<Key<'a>, usize>,
    /// (namespace, spc) → pods (and templates) whose volumes reference the SPC.
    pub spc_users: HashMap<Key<'a>, Vec<&'a PodObs>>,
    pub secrets: HashMap<Key<'a>, &'a SecretObs>,
    /// (namespace, secret) → pods consuming it.
    pub secret_consumers: HashMap<Key<'a>, Vec<Consumer<'a>>>,
    /// (namespace, secret) → ingresses using it for TLS.
    pub ingress_tls: HashMap<Key<'a>, Vec<&'a IngressObs>>,
    /// (namespace, pod) → mount/sync events about the pod.
    pub pod_events: HashMap<Key<'a>, Vec<&'a EventObs>>,
    /// (namespace, kind, name) → workload.
    pub workloads: HashMap<(&'a str, &'a str, &'a str), &'a WorkloadObs>,
    /// lower-case clientId → identity.
    pub identities: HashMap<String, &'a ManagedIdentityObs>,
    /// lower-case vault name → vault.
    pub vaults: HashMap<String, &'a VaultObs>,
    /// principalId → role assignments.
    pub assignments: HashMap<&'a str, Vec<&'a RoleAssignmentObs>>,
    /// (lower-case vault, type, lower-case name) → lookup result.
    pub objects: HashMap<(String, ObjectType, String), &'a VaultObjectObs>,
}

impl<'a> Index<'a> {
    pub fn build(snap: &'a Snapshot) -> Self {
        let mut ix = Index {
            snap,
            spcs: HashMap::with_capacity(snap.spcs.items.len()),
            service_accounts: HashMap::with_capacity(snap.service_accounts.items.len()),
            spcps: HashMap::with_capacity(snap.spc_statuses.items.len()),
            mounted_per_spc: HashMap::new(),
            spc_users: HashMap::new(),
            secrets: HashMap::with_capacity(snap.secrets.items.len()),
            secret_consumers: HashMap::new(),
            ingress_tls: HashMap::new(),
            pod_events: HashMap::new(),
            workloads: HashMap::with_capacity(snap.workloads.items.len()),
            identities: HashMap::new(),
            vaults: HashMap::new(),
            assignments: HashMap::new(),
            objects: HashMap::with_capacity(snap.azure.objects.len()),
        };
        for s in &snap.spcs.items {
            ix.spcs.insert((&s.namespace, &s.name), s);
        }
        for sa in &snap.service_accounts.items {
            ix.service_accounts.insert((&sa.namespace, &sa.name), sa);
        }
        for st in &snap.spc_statuses.items {
            ix.spcps
                .insert((&st.namespace, &st.pod_name, &st.spc_name), st);
            if st.mounted {
                *ix.mounted_per_spc
                    .entry((&st.namespace, &st.spc_name))
                    .or_default() += 1;
            }
        }
        for s in &snap.secrets.items {
            ix.secrets.insert((&s.namespace, &s.name), s);
        }
        for pod in &snap.pods.items {
            ix.add_pod(pod);
        }
        for ing in &snap.ingresses.items {
            for s in &ing.tls_secrets {
                ix.ingress_tls
                    .entry((&ing.namespace, s))
                    .or_default()
                    .push(ing);
            }
        }
        for e in &snap.events.items {
            if e.involved_kind == "Pod" && crate::chain::events::is_relevant_reason(&e.reason) {
                ix.pod_events
                    .entry((&e.namespace, &e.involved_name))
                    .or_default()
                    .push(e);
            }
        }
        for w in &snap.workloads.items {
            ix.workloads.insert((&w.namespace, &w.kind, &w.name), w);
        }
        let az = &snap.azure;
        for i in &az.identities.items {
            ix.identities.insert(i.client_id.to_ascii_lowercase(), i);
        }
        for v in &az.vaults.items {
            ix.vaults.insert(v.name.to_ascii_lowercase(), v);
        }
        for r in &az.role_assignments.items {
            ix.assignments.entry(&r.principal_id).or_default().push(r);
        }
        for o in &az.objects {
            ix.objects.insert(
                (
                    o.vault.to_ascii_lowercase(),
                    o.object_type,
                    o.name.to_ascii_lowercase(),
                ),
                o,
            );
        }
        ix
    }

    fn add_pod(&mut self, pod: &'a PodObs) {
        let ns = pod.namespace.as_str();
        for v in &pod.volumes {
            match &v.source {
                VolumeSourceObs::Csi { attributes, .. } => {
                    if let Some(spc) = attributes.get(SPC_ATTRIBUTE) {
                        self.spc_users.entry((ns, spc)).or_default().push(pod);
                    }
                }
                VolumeSourceObs::Secret { secret_name, .. } => {
                    self.consumer(ns, secret_name, pod, Use::Volume { volume: &v.name });
                }
                VolumeSourceObs::Projected { secrets, .. } => {
                    for s in secrets {
                        self.consumer(ns, s, pod, Use::Volume { volume: &v.name });
                    }
                }
                VolumeSourceObs::Other => {}
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
                    self.consumer(ns, secret, pod, how);
                }
            }
            for s in &c.env_from_secrets {
                self.consumer(ns, s, pod, Use::EnvFrom { container: c });
            }
        }
    }

    fn consumer(&mut self, ns: &'a str, secret: &'a str, pod: &'a PodObs, how: Use<'a>) {
        self.secret_consumers
            .entry((ns, secret))
            .or_default()
            .push(Consumer { pod, how });
    }

    pub fn identity(&self, client_id: &str) -> Option<&'a ManagedIdentityObs> {
        self.identities
            .get(&client_id.to_ascii_lowercase())
            .copied()
    }

    pub fn vault(&self, name: &str) -> Option<&'a VaultObs> {
        self.vaults.get(&name.to_ascii_lowercase()).copied()
    }

    pub fn object(&self, vault: &str, t: ObjectType, name: &str) -> Option<&'a VaultObjectObs> {
        self.objects
            .get(&(vault.to_ascii_lowercase(), t, name.to_ascii_lowercase()))
            .copied()
    }

    /// The top-level workload owning a pod: Pod → ReplicaSet → Deployment, Pod → Job → CronJob.
    pub fn workload_of(&self, pod: &PodObs) -> Option<(String, String)> {
        if let Some(t) = &pod.template_of {
            return Some((t.kind.clone(), t.name.clone()));
        }
        let owner = pod
            .owners
            .iter()
            .find(|o| o.controller)
            .or(pod.owners.first())?;
        let mut kind = owner.kind.as_str();
        let mut name = owner.name.as_str();
        // At most two hops (ReplicaSet → Deployment, Job → CronJob).
        for _ in 0..2 {
            let Some(w) = self.workloads.get(&(pod.namespace.as_str(), kind, name)) else {
                break;
            };
            let Some(up) = w.owners.iter().find(|o| o.controller).or(w.owners.first()) else {
                break;
            };
            kind = &up.kind;
            name = &up.name;
        }
        if kind == "ReplicaSet" && !self.snap.workloads.gaps.is_empty() {
            // ReplicaSets not visible: `<deployment>-<pod-template-hash>` is the convention.
            if let Some((dep, hash)) = name.rsplit_once('-')
                && hash.len() >= 5
                && hash.chars().all(|c| c.is_ascii_alphanumeric())
            {
                return Some(("Deployment".into(), dep.into()));
            }
        }
        Some((kind.to_string(), name.to_string()))
    }

    pub fn workload(&self, ns: &str, kind: &str, name: &str) -> Option<&'a WorkloadObs> {
        self.workloads.get(&(ns, kind, name)).copied()
    }
}

/// The pod volume attribute naming the SecretProviderClass.
pub(crate) const SPC_ATTRIBUTE: &str = "secretProviderClass";
/// The Secrets Store CSI driver's registered name.
pub(crate) const DRIVER: &str = "secrets-store.csi.k8s.io";
