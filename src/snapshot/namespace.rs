//! `-n NS` over a whole snapshot. A live source watches only that namespace; the lab and a
//! snapshot file hold every namespace, so `-n` narrows them here. A namespace the snapshot
//! holds nothing in is a mistake worth saying (a typo would otherwise read as "all healthy",
//! or a shared `snapshot save -n team-a` file would still hold every team's objects).

use std::collections::BTreeSet;

use super::{Coll, Snapshot};

/// The namespaces Kubernetes starts every cluster with (Kubernetes docs, "Namespaces": initial
/// namespaces); the simulated AKS runs its CSI driver in kube-system too.
const INITIAL_NAMESPACES: [&str; 4] = ["default", "kube-node-lease", "kube-public", "kube-system"];

/// Whether a namespace exists, as a snapshot tells it ([`Snapshot::namespace_presence`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Presence {
    /// The snapshot holds an object in it.
    Present,
    /// Read, and not there.
    Absent,
    /// Not read: why.
    Unknown(String),
}

impl Snapshot {
    /// Every namespace the snapshot holds an object in, sorted.
    pub fn namespaces(&self) -> BTreeSet<&str> {
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        seen.extend(self.pods.items.iter().map(|p| p.namespace.as_str()));
        seen.extend(self.spcs.items.iter().map(|s| s.namespace.as_str()));
        seen.extend(self.workloads.items.iter().map(|w| w.namespace.as_str()));
        seen.extend(self.secrets.items.iter().map(|s| s.namespace.as_str()));
        seen.extend(
            self.service_accounts
                .items
                .iter()
                .map(|s| s.namespace.as_str()),
        );
        seen
    }

    /// Why `-n ns` names nothing here, naming the namespaces there are; `None` when the
    /// snapshot holds an object in `ns`.
    pub fn missing_namespace(&self, ns: &str) -> Option<String> {
        let known = self.namespaces();
        if known.contains(ns) {
            return None;
        }
        Some(format!(
            "the {} {} has no object in namespace {ns} (its namespaces: {})",
            self.source.kind.as_str(),
            self.source.label,
            if known.is_empty() {
                "none".to_string()
            } else {
                known.into_iter().collect::<Vec<_>>().join(", ")
            }
        ))
    }

    /// Whether namespace `ns` exists, as far as the snapshot can tell. Kubernetes'
    /// ServiceAccount controller makes a `default` ServiceAccount in every namespace (the lab
    /// too), so where ServiceAccounts were read a namespace with no object at all, not even
    /// that one, does not exist. Where they were not (forbidden, or outside the one namespace
    /// the source reads) nothing can be said: unknown is not absent.
    pub fn namespace_presence(&self, ns: &str) -> Presence {
        if self.namespaces().contains(ns) {
            return Presence::Present;
        }
        if let Some(only) = self.source.only_namespace.as_deref().filter(|o| *o != ns) {
            return Presence::Unknown(format!("only namespace {only} is read"));
        }
        if let Some(why) = self.service_accounts.unknown_in(ns) {
            return Presence::Unknown(format!("its ServiceAccounts could not be read: {why}"));
        }
        if self.source.kind == super::SourceKind::Manifests {
            return Presence::Unknown("the manifests hold no object in it".into());
        }
        // A cluster has these whatever was read in them (the lab lists only its scenario's).
        if INITIAL_NAMESPACES.contains(&ns) {
            return Presence::Present;
        }
        Presence::Absent
    }

    /// Why a live read of `-n ns` shows a namespace that does not exist: not even its
    /// `default` ServiceAccount, which Kubernetes' ServiceAccount controller makes in every
    /// namespace, and nothing else. An API server answers a list in a missing namespace with an
    /// empty list, so a typo would read as a clean namespace (audit FFF3). `None` when the
    /// ServiceAccounts there could not be read (nothing can be said) or anything was found.
    pub fn absent_live_namespace(&self, ns: &str) -> Option<String> {
        if self.namespace_presence(ns) != Presence::Absent {
            return None;
        }
        Some(format!(
            "namespace {ns} does not exist in {}: not even its default ServiceAccount, which Kubernetes makes in every namespace, could be listed (kubectl get namespace {ns})",
            self.source.label
        ))
    }

    /// Keeps only the Kubernetes objects (and the read failures) of namespace `ns`, as a live
    /// source watching `-n ns` would have seen them. The Azure side stays whole, as a live
    /// `snapshot save -n` records it: vaults and identities belong to no namespace.
    pub fn keep_namespace(&mut self, ns: &str) -> Result<(), String> {
        if let Some(why) = self.missing_namespace(ns) {
            return Err(why);
        }
        fn keep<T>(c: &mut Coll<T>, ns: &str, of: impl Fn(&T) -> &str) {
            c.items.retain(|o| of(o) == ns);
            c.gaps.namespaces.retain(|n, _| n == ns);
        }
        keep(&mut self.pods, ns, |o| &o.namespace);
        keep(&mut self.service_accounts, ns, |o| &o.namespace);
        keep(&mut self.spcs, ns, |o| &o.namespace);
        keep(&mut self.spc_statuses, ns, |o| &o.namespace);
        keep(&mut self.secrets, ns, |o| &o.namespace);
        keep(&mut self.events, ns, |o| &o.namespace);
        keep(&mut self.workloads, ns, |o| &o.namespace);
        keep(&mut self.ingresses, ns, |o| &o.namespace);
        self.source
            .unread_objects
            .retain(|o| o.namespace.as_deref().is_none_or(|n| n == ns));
        self.source.only_namespace = Some(ns.to_string());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeping_a_namespace_drops_every_other_and_a_missing_one_is_named() {
        let mut snap = crate::source::lab::run_check("default", None).unwrap();
        // A second namespace: a pod and an event of one moved there.
        let mut pod = snap.pods.items.first().unwrap().clone();
        pod.namespace = "other".into();
        snap.pods.items.push(pod);
        let mut event = snap.events.items.first().unwrap().clone();
        event.namespace = "other".into();
        snap.events.items.push(event);
        assert_eq!(snap.namespaces().len(), 2);
        let why = snap.clone().keep_namespace("nope").unwrap_err();
        assert!(
            why.contains("namespace nope") && why.contains("shop"),
            "{why}"
        );
        snap.keep_namespace("shop").unwrap();
        assert_eq!(snap.namespaces().into_iter().collect::<Vec<_>>(), ["shop"]);
        assert!(snap.events.items.iter().all(|e| e.namespace == "shop"));
    }
}
