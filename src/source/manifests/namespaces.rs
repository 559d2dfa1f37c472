//! Objects written without `metadata.namespace` are applied with `kubectl apply -n NS`: their
//! namespace is whatever the user passes, not `default`. A SecretProviderClass or
//! ServiceAccount without one is therefore taken to live in the namespace of the pods that
//! name it (when that namespace has no object of that name written explicitly), and a pod or
//! workload without one in the one namespace holding what it names (its ServiceAccount, the
//! SecretProviderClasses it mounts, the synced Secrets it reads) — unless some of what it
//! names is written without a namespace too: `kubectl apply -f DIR` puts all of those in the
//! same namespace, so it stays with them.

use std::collections::BTreeSet;

use crate::snapshot::{
    EnvSourceObs, PodObs, SecretObs, ServiceAccountObs, SpcObs, VolumeSourceObs, WorkloadObs,
};

/// Indexes of namespace-less objects, in read order.
#[derive(Default)]
pub(super) struct Floating {
    pub spcs: Vec<usize>,
    pub sas: Vec<usize>,
    /// Secrets written without a namespace: they stay where the pods reading them are.
    pub secrets: Vec<usize>,
    /// Pods (a workload's template included) and, for a template, its workload.
    pub pods: Vec<(usize, Option<usize>)>,
}

/// Something with a namespace that a pod can name.
trait Placed: Clone {
    fn namespace_mut(&mut self) -> &mut crate::snapshot::Name;
    fn namespace(&self) -> &str;
    fn name(&self) -> &str;
}

impl Placed for SpcObs {
    fn namespace_mut(&mut self) -> &mut crate::snapshot::Name {
        &mut self.namespace
    }
    fn namespace(&self) -> &str {
        &self.namespace
    }
    fn name(&self) -> &str {
        &self.name
    }
}

impl Placed for ServiceAccountObs {
    fn namespace_mut(&mut self) -> &mut crate::snapshot::Name {
        &mut self.namespace
    }
    fn namespace(&self) -> &str {
        &self.namespace
    }
    fn name(&self) -> &str {
        &self.name
    }
}

impl Floating {
    /// Put each namespace-less pod (and its workload) in the namespace of the objects it names,
    /// when the explicitly placed ones all live in one namespace: written beside them, it is
    /// applied with them (`kubectl apply -n NS`). Otherwise it stays in `default`.
    pub fn place_pods(
        &self,
        pods: &mut [PodObs],
        workloads: &mut [WorkloadObs],
        spcs: &[SpcObs],
        sas: &[ServiceAccountObs],
        secrets: &[SecretObs],
    ) {
        let placed_spcs: Vec<&SpcObs> = (0..spcs.len())
            .filter(|i| !self.spcs.contains(i))
            .map(|i| &spcs[i])
            .collect();
        let placed_sas: Vec<&ServiceAccountObs> = (0..sas.len())
            .filter(|i| !self.sas.contains(i))
            .map(|i| &sas[i])
            .collect();
        for &(p, w) in &self.pods {
            let pod = &pods[p];
            // What it names is also written without a namespace: `kubectl apply` puts both in
            // the same namespace, so that is where it stays, whatever other files hold.
            if self.names_floating(pod, spcs, sas, secrets) {
                continue;
            }
            let mut homes = BTreeSet::new();
            if pod.service_account != "default" {
                homes.extend(
                    placed_sas
                        .iter()
                        .filter(|sa| sa.name == pod.service_account)
                        .map(|sa| sa.namespace.clone()),
                );
            }
            let mounted = mounted_spcs(pod);
            let read = read_secrets(pod);
            homes.extend(
                placed_spcs
                    .iter()
                    .filter(|spc| {
                        mounted.contains(spc.name.as_str())
                            || spc
                                .secret_objects
                                .iter()
                                .any(|so| read.contains(so.secret_name.as_str()))
                    })
                    .map(|spc| spc.namespace.clone()),
            );
            // `${NS}` is any namespace once rendered: no evidence of a home.
            let mut homes = homes
                .into_iter()
                .filter(|ns| !crate::chain::rules::params::is_placeholder(ns));
            let (Some(home), None) = (homes.next(), homes.next()) else {
                continue;
            };
            pods[p].namespace = home.clone();
            if let Some(w) = w {
                workloads[w].namespace = home;
            }
        }
    }

    /// Whether `pod` names a ServiceAccount, SecretProviderClass or Secret written without a
    /// namespace (the implicit `default` ServiceAccount is no evidence).
    fn names_floating(
        &self,
        pod: &PodObs,
        spcs: &[SpcObs],
        sas: &[ServiceAccountObs],
        secrets: &[SecretObs],
    ) -> bool {
        let mounted = mounted_spcs(pod);
        let read = read_secrets(pod);
        let sa = pod.service_account != "default"
            && self.sas.iter().any(|&i| sas[i].name == pod.service_account);
        let spc = self.spcs.iter().any(|&i| {
            mounted.contains(spcs[i].name.as_str())
                || spcs[i]
                    .secret_objects
                    .iter()
                    .any(|so| read.contains(so.secret_name.as_str()))
        });
        let secret = self
            .secrets
            .iter()
            .any(|&i| read.contains(secrets[i].name.as_str()));
        sa || spc || secret
    }

    /// Move (or copy, when pods of several namespaces name it) each floating object into the
    /// namespaces of the pods that reference it by name.
    pub fn adopt(&self, pods: &[PodObs], spcs: &mut Vec<SpcObs>, sas: &mut Vec<ServiceAccountObs>) {
        let spc_refs = pods.iter().flat_map(|p| {
            p.volumes.iter().filter_map(move |v| match &v.source {
                VolumeSourceObs::Csi { attributes, .. } => attributes
                    .get(crate::chain::index::SPC_ATTRIBUTE)
                    .map(|n| (p.namespace.as_str(), n.as_str())),
                _ => None,
            })
        });
        let refs: BTreeSet<(&str, &str)> = spc_refs.collect();
        place(&self.spcs, &refs, spcs);
        let refs: BTreeSet<(&str, &str)> = pods
            .iter()
            .map(|p| (p.namespace.as_str(), p.service_account.as_str()))
            .collect();
        place(&self.sas, &refs, sas);
    }

    /// For each namespace-less SecretProviderClass (and each copy `adopt` made), the
    /// namespaces of the pods written with a namespace that mount it where no explicit one of
    /// that name is: where it must be applied with `-n`. A pod itself written without one
    /// stays with it (`kubectl apply` puts both in the same namespace): it pins nothing.
    pub fn pinned_by(&self, pods: &[PodObs], spcs: &mut [SpcObs]) {
        let floating_pods: BTreeSet<usize> = self.pods.iter().map(|&(p, _)| p).collect();
        let explicit: BTreeSet<(String, String)> = spcs
            .iter()
            .filter(|s| s.namespace_less.is_none())
            .map(|s| (s.namespace.to_string(), s.name.to_string()))
            .collect();
        for spc in spcs.iter_mut() {
            let Some(nl) = spc.namespace_less.as_mut() else {
                continue;
            };
            let namespaces: BTreeSet<&str> = pods
                .iter()
                .enumerate()
                .filter(|(i, p)| {
                    !floating_pods.contains(i)
                        && mounted_spcs(p).contains(spc.name.as_str())
                        && !explicit.contains(&(p.namespace.to_string(), spc.name.to_string()))
                })
                .map(|(_, p)| p.namespace.as_str())
                .collect();
            nl.namespaces = namespaces.into_iter().map(Into::into).collect();
        }
    }
}

fn mounted_spcs(pod: &PodObs) -> BTreeSet<&str> {
    pod.volumes
        .iter()
        .filter_map(|v| match &v.source {
            VolumeSourceObs::Csi { attributes, .. } => attributes
                .get(crate::chain::index::SPC_ATTRIBUTE)
                .map(|n| n.as_str()),
            _ => None,
        })
        .collect()
}

/// The Secrets a pod reads: env keys, envFrom, secret and projected volumes, image pulls.
fn read_secrets(pod: &PodObs) -> BTreeSet<&str> {
    let env = pod.containers.iter().flat_map(|c| {
        let keys = c.env.iter().filter_map(|e| match &e.source {
            EnvSourceObs::SecretKey { secret, .. } => Some(secret.as_str()),
            _ => None,
        });
        keys.chain(c.env_from_secrets.iter().map(|s| s.as_str()))
    });
    let volumes = pod.volumes.iter().flat_map(|v| match &v.source {
        VolumeSourceObs::Secret { secret_name, .. } => vec![secret_name.as_str()],
        VolumeSourceObs::Projected { secrets, .. } => secrets.iter().map(|s| s.as_str()).collect(),
        _ => Vec::new(),
    });
    env.chain(volumes)
        .chain(pod.image_pull_secrets.iter().map(|s| s.as_str()))
        .collect()
}

fn place<T: Placed>(floating: &[usize], refs: &BTreeSet<(&str, &str)>, items: &mut Vec<T>) {
    let mut added = Vec::new();
    for &i in floating {
        let name = items[i].name().to_string();
        let explicit = |ns: &str, items: &[T]| {
            items
                .iter()
                .enumerate()
                .any(|(j, o)| j != i && o.namespace() == ns && o.name() == name)
        };
        let wanted: Vec<&str> = refs
            .iter()
            .filter(|(ns, n)| *n == name && !explicit(ns, items))
            .map(|(ns, _)| *ns)
            .collect();
        let Some((first, rest)) = wanted.split_first() else {
            continue; // nobody names it: it stays where `kubectl apply` without -n puts it
        };
        for ns in rest {
            let mut copy = items[i].clone();
            *copy.namespace_mut() = (*ns).into();
            added.push(copy);
        }
        *items[i].namespace_mut() = (*first).into();
    }
    items.extend(added);
}

#[cfg(test)]
mod tests {
    use crate::source::manifests::load_str;

    /// A Deployment written without a namespace beside the ServiceAccount and the
    /// SecretProviderClass (whose synced Secret it reads) of one namespace is applied with them
    /// (`kubectl apply -n NS`); one naming objects of two namespaces stays in `default`.
    #[test]
    fn a_namespace_less_workload_joins_the_one_namespace_of_what_it_names() {
        let deployment = |name: &str, sa: &str, secret: &str| {
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}}}\nspec:\n  selector: {{matchLabels: {{app: x}}}}\n  template:\n    metadata: {{labels: {{app: x}}}}\n    spec:\n      serviceAccountName: {sa}\n      containers:\n      - name: c\n        image: i\n        env:\n        - name: V\n          valueFrom: {{secretKeyRef: {{name: {secret}, key: k}}}}\n---\n"
            )
        };
        let text = deployment("web", "app-sa", "synced")
            + &deployment("split", "other-sa", "synced")
            + "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app-sa, namespace: apps}\n---\n"
            + "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: other-sa, namespace: ops}\n---\n"
            + "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {name: kv, namespace: apps}\nspec:\n  provider: azure\n  secretObjects: [{secretName: synced, type: Opaque, data: [{objectName: o, key: k}]}]\n";
        let s = load_str("m.yaml", &text).expect("loads");
        let ns = |name: &str| {
            let w = s
                .workloads
                .items
                .iter()
                .find(|w| w.name == name)
                .expect("workload");
            let p = s
                .pods
                .items
                .iter()
                .find(|p| p.template_of.as_ref().is_some_and(|o| o.name == name))
                .expect("template");
            assert_eq!(
                w.namespace, p.namespace,
                "{name}: workload and template together"
            );
            p.namespace.to_string()
        };
        assert_eq!(ns("web"), "apps");
        assert_eq!(ns("split"), "default");
    }

    /// `kubectl apply -f DIR` puts the namespace-less objects of every file into one namespace:
    /// a pod mounting a namespace-less SPC `kv` stays with it, even though another file defines
    /// an SPC `kv` in namespace `other` (a pod naming only that one still joins it).
    #[test]
    fn a_namespace_less_pod_stays_with_the_namespace_less_objects_it_names() {
        let pod = |name: &str, spc: &str| {
            format!(
                "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n  containers: [{{name: c, image: i}}]\n  volumes:\n  - name: v\n    csi: {{driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {{secretProviderClass: {spc}}}}}\n---\n"
            )
        };
        let spc = |name: &str, ns: &str| {
            format!(
                "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {{name: {name}{ns}}}\nspec: {{provider: azure}}\n---\n"
            )
        };
        let mut b = super::super::Builder::default();
        b.file(
            std::path::Path::new("one.yaml"),
            &(pod("p", "kv") + &spc("kv", "")),
        );
        b.file(
            std::path::Path::new("two.yaml"),
            &(spc("kv", ", namespace: other")
                + &spc("solo", ", namespace: other")
                + &pod("q", "solo")),
        );
        let s = b.finish_or_error("dir".into()).expect("loads");
        let ns_of = |name: &str| {
            s.pods
                .items
                .iter()
                .find(|p| p.name == name)
                .map(|p| p.namespace.to_string())
        };
        assert_eq!(ns_of("p").as_deref(), Some("default"));
        assert_eq!(ns_of("q").as_deref(), Some("other"));
        let mut spcs: Vec<String> = s
            .spcs
            .items
            .iter()
            .map(|x| format!("{}/{}", x.namespace, x.name))
            .collect();
        spcs.sort();
        assert_eq!(spcs, ["default/kv", "other/kv", "other/solo"]);
        let chains = crate::chain::diagnose(&s);
        let p = chains
            .iter()
            .find(|c| c.id.to_string() == "default/p/kv")
            .expect("a chain for p in default");
        let codes: Vec<_> = p
            .links
            .iter()
            .flat_map(|l| &l.findings)
            .map(|f| f.code)
            .collect();
        assert!(!codes.contains(&crate::chain::Code::KVC101), "{codes:?}");
    }

    #[test]
    fn a_namespace_less_spc_and_sa_follow_every_namespace_whose_pods_name_them() {
        let pod = |ns: &str| {
            format!(
                "apiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: {ns}}}\nspec:\n  serviceAccountName: app-sa\n  containers: [{{name: c, image: i}}]\n  volumes:\n  - name: v\n    csi: {{driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {{secretProviderClass: kv}}}}\n---\n"
            )
        };
        let text = pod("a")
            + &pod("b")
            + "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {name: kv}\nspec: {provider: azure}\n---\n"
            + "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata: {name: kv, namespace: b}\nspec: {provider: azure, parameters: {keyvaultName: explicit}}\n---\n"
            + "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app-sa}\n";
        let s = load_str("m.yaml", &text).expect("loads");
        let mut spcs: Vec<(&str, Option<&str>)> = s
            .spcs
            .items
            .iter()
            .map(|x| {
                (
                    x.namespace.as_str(),
                    x.parameters.get("keyvaultName").map(String::as_str),
                )
            })
            .collect();
        spcs.sort();
        // b keeps its explicit SPC; a gets the namespace-less one; none is left in default.
        assert_eq!(spcs, [("a", None), ("b", Some("explicit"))]);
        let mut sas: Vec<&str> = s
            .service_accounts
            .items
            .iter()
            .filter(|x| x.name == "app-sa")
            .map(|x| x.namespace.as_str())
            .collect();
        sas.sort();
        assert_eq!(sas, ["a", "b"]);
    }
}
