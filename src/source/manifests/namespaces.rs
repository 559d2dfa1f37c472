//! Objects written without `metadata.namespace` are applied with `kubectl apply -n NS`: their
//! namespace is whatever the user passes, not `default`. A SecretProviderClass or
//! ServiceAccount without one is therefore taken to live in the namespace of the pods that
//! name it (when that namespace has no object of that name written explicitly).

use std::collections::BTreeSet;

use crate::snapshot::{PodObs, ServiceAccountObs, SpcObs, VolumeSourceObs};

/// Indexes of namespace-less SecretProviderClasses and ServiceAccounts, in read order.
#[derive(Default)]
pub(super) struct Floating {
    pub spcs: Vec<usize>,
    pub sas: Vec<usize>,
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
