//! Objects written without `metadata.namespace` are applied with `kubectl apply -n NS`: their
//! namespace is whatever the user passes, not `default`. A SecretProviderClass or
//! ServiceAccount without one is therefore taken to live in the namespace of the pods that
//! name it (when that namespace has no object of that name written explicitly), and a pod or
//! workload without one in the one namespace holding what it names (its ServiceAccount, the
//! SecretProviderClasses it mounts, the synced Secrets it reads) — unless some of what it
//! names is written without a namespace too: `kubectl apply -f DIR` puts all of those in the
//! same namespace, so it stays with them.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::snapshot::{
    EnvSourceObs, PodObs, SecretObs, ServiceAccountObs, SpcObs, VolumeSourceObs, WorkloadObs,
};

/// Indexes of namespace-less objects, in read order.
#[derive(Default)]
pub(super) struct Floating {
    pub spcs: Vec<usize>,
    /// The namespaces a namespace-less SPC is kept to, when another of its name was written
    /// for pods of other namespaces (`apply_set`): it is placed and pinned there only.
    pub spc_homes: HashMap<usize, BTreeSet<String>>,
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
        // Indexed by name once: looked up per pod, a scan of every object would make a file
        // of many objects quadratic (audit F4).
        let floating = FloatingNames::new(self, spcs, sas, secrets);
        let floating_sas: HashSet<usize> = self.sas.iter().copied().collect();
        let floating_spcs: HashSet<usize> = self.spcs.iter().copied().collect();
        let mut sa_homes: HashMap<&str, BTreeSet<&str>> = HashMap::new();
        for (_, sa) in sas
            .iter()
            .enumerate()
            .filter(|(i, _)| !floating_sas.contains(i))
        {
            sa_homes.entry(&sa.name).or_default().insert(&sa.namespace);
        }
        // SPC name → namespaces, and synced Secret name → namespaces of the SPCs writing it.
        let mut spc_homes: HashMap<&str, BTreeSet<&str>> = HashMap::new();
        let mut synced_homes: HashMap<&str, BTreeSet<&str>> = HashMap::new();
        for (_, spc) in spcs
            .iter()
            .enumerate()
            .filter(|(i, _)| !floating_spcs.contains(i))
        {
            spc_homes
                .entry(&spc.name)
                .or_default()
                .insert(&spc.namespace);
            for so in &spc.secret_objects {
                synced_homes
                    .entry(&so.secret_name)
                    .or_default()
                    .insert(&spc.namespace);
            }
        }
        for &(p, w) in &self.pods {
            let pod = &pods[p];
            // What it names is also written without a namespace: `kubectl apply` puts both in
            // the same namespace, so that is where it stays, whatever other files hold.
            if floating.named_by(pod) {
                continue;
            }
            let mut homes: BTreeSet<&str> = BTreeSet::new();
            if pod.service_account != "default"
                && let Some(h) = sa_homes.get(pod.service_account.as_str())
            {
                homes.extend(h);
            }
            for spc in mounted_spcs(pod) {
                homes.extend(spc_homes.get(spc).into_iter().flatten());
            }
            for secret in read_secrets(pod) {
                homes.extend(synced_homes.get(secret).into_iter().flatten());
            }
            // `${NS}` is any namespace once rendered: no evidence of a home.
            let mut homes = homes
                .into_iter()
                .filter(|ns| !crate::chain::rules::params::is_placeholder(ns));
            let (Some(home), None) = (homes.next(), homes.next()) else {
                continue;
            };
            let home: crate::snapshot::Name = home.into();
            pods[p].namespace = home.clone();
            if let Some(w) = w {
                workloads[w].namespace = home;
            }
        }
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
        place(&self.spcs, &refs, spcs, &|i| self.spc_homes.get(&i));
        let refs: BTreeSet<(&str, &str)> = pods
            .iter()
            .map(|p| (p.namespace.as_str(), p.service_account.as_str()))
            .collect();
        place(&self.sas, &refs, sas, &|_| None);
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
        // SPC name → namespaces of the pods (written with a namespace) that mount it.
        let mut mounting: HashMap<&str, BTreeSet<&str>> = HashMap::new();
        for (_, p) in pods
            .iter()
            .enumerate()
            .filter(|(i, _)| !floating_pods.contains(i))
        {
            for spc in mounted_spcs(p) {
                mounting
                    .entry(spc)
                    .or_default()
                    .insert(p.namespace.as_str());
            }
        }
        for (i, spc) in spcs.iter_mut().enumerate() {
            let Some(nl) = spc.namespace_less.as_mut() else {
                continue;
            };
            let name = spc.name.to_string();
            let home = self.spc_homes.get(&i);
            nl.namespaces = mounting
                .get(name.as_str())
                .into_iter()
                .flatten()
                .filter(|ns| !explicit.contains(&(ns.to_string(), name.clone())))
                .filter(|ns| home.is_none_or(|h| h.contains(**ns)))
                .map(|ns| (*ns).into())
                .collect();
        }
    }
}

/// The names of what is written without a namespace, to tell whether a pod names any of it.
struct FloatingNames<'a> {
    sas: HashSet<&'a str>,
    /// Floating SecretProviderClasses, and the Secrets they sync.
    spcs: HashSet<&'a str>,
    synced: HashSet<&'a str>,
    secrets: HashSet<&'a str>,
}

impl<'a> FloatingNames<'a> {
    fn new(
        f: &Floating,
        spcs: &'a [SpcObs],
        sas: &'a [ServiceAccountObs],
        secrets: &'a [SecretObs],
    ) -> Self {
        let floating_spcs = || f.spcs.iter().map(|&i| &spcs[i]);
        FloatingNames {
            sas: f.sas.iter().map(|&i| sas[i].name.as_str()).collect(),
            spcs: floating_spcs().map(|s| s.name.as_str()).collect(),
            synced: floating_spcs()
                .flat_map(|s| s.secret_objects.iter().map(|so| so.secret_name.as_str()))
                .collect(),
            secrets: f
                .secrets
                .iter()
                .map(|&i| secrets[i].name.as_str())
                .collect(),
        }
    }

    /// Whether `pod` names a ServiceAccount, SecretProviderClass or Secret written without a
    /// namespace (the implicit `default` ServiceAccount is no evidence).
    fn named_by(&self, pod: &PodObs) -> bool {
        let read = read_secrets(pod);
        (pod.service_account != "default" && self.sas.contains(pod.service_account.as_str()))
            || mounted_spcs(pod).iter().any(|s| self.spcs.contains(s))
            || read
                .iter()
                .any(|s| self.synced.contains(s) || self.secrets.contains(s))
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

/// `home`: the namespaces floating item `i` is kept to, if any (a namespace-less SPC written
/// beside another of its name for other namespaces' pods).
fn place<'h, T: Placed>(
    floating: &[usize],
    refs: &BTreeSet<(&str, &str)>,
    items: &mut Vec<T>,
    home: &dyn Fn(usize) -> Option<&'h BTreeSet<String>>,
) {
    // Indexed once (a scan per object would be quadratic, audit F4): the namespaces naming
    // each name, in order, and how many items sit at each (namespace, name) as placing goes.
    let mut wanted_by: HashMap<&str, Vec<&str>> = HashMap::new();
    for &(ns, n) in refs {
        wanted_by.entry(n).or_default().push(ns);
    }
    let mut at: HashMap<(String, String), usize> = HashMap::new();
    for o in items.iter() {
        *at.entry((o.namespace().to_string(), o.name().to_string()))
            .or_default() += 1;
    }
    let mut added = Vec::new();
    for &i in floating {
        let name = items[i].name().to_string();
        let own = items[i].namespace().to_string();
        // Another item (not `i` itself) of that name already in `ns`.
        let explicit = |ns: &str, at: &HashMap<(String, String), usize>| {
            let n = at
                .get(&(ns.to_string(), name.clone()))
                .copied()
                .unwrap_or(0);
            n > usize::from(ns == own)
        };
        let wanted: Vec<&str> = wanted_by
            .get(name.as_str())
            .into_iter()
            .flatten()
            .filter(|ns| !explicit(ns, &at))
            .filter(|ns| home(i).is_none_or(|h| h.contains(**ns)))
            .copied()
            .collect();
        let Some((first, rest)) = wanted.split_first() else {
            continue; // nobody names it: it stays where `kubectl apply` without -n puts it
        };
        for ns in rest {
            let mut copy = items[i].clone();
            *copy.namespace_mut() = (*ns).into();
            added.push(copy);
        }
        if let Some(n) = at.get_mut(&(own, name.clone())) {
            *n -= 1;
        }
        *at.entry(((*first).to_string(), name)).or_default() += 1;
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
            true,
            None,
        );
        b.file(
            std::path::Path::new("two.yaml"),
            &(spc("kv", ", namespace: other")
                + &spc("solo", ", namespace: other")
                + &pod("q", "solo")),
            true,
            None,
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
