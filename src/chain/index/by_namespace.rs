//! The objects of one namespace, for the few findings that look through them (the nearest
//! SecretProviderClass name of KVC101, a service account carrying a client id for KVC202's
//! fix): the positions of each namespace's objects, worked out once per pass on first use,
//! instead of a scan of the whole snapshot per finding.

use std::sync::OnceLock;

use super::{HashMap, Index, map};
use crate::snapshot::{Items, ServiceAccountObs, SpcObs};

/// namespace → positions of its objects in a snapshot list, in order.
pub(super) type ByNamespace = OnceLock<HashMap<String, Vec<u32>>>;

/// The objects of `items` in namespace `ns`, in order, `by_ns` built on the first call.
fn in_namespace<'m, 'a, T>(
    by_ns: &'m ByNamespace,
    items: &'a Items<T>,
    namespace: fn(&T) -> &str,
    ns: &str,
) -> impl Iterator<Item = &'a T> {
    let by_ns = by_ns.get_or_init(|| {
        let mut by_ns: HashMap<String, Vec<u32>> = map(0);
        for (i, o) in items.iter().enumerate() {
            by_ns
                .entry(namespace(o).to_string())
                .or_default()
                .push(i as u32);
        }
        by_ns
    });
    (by_ns.get(ns).into_iter().flatten()).filter_map(move |&i| items.get(i as usize))
}

impl<'a> Index<'a> {
    /// The SecretProviderClasses of namespace `ns`, in snapshot order.
    pub fn spcs_in(&self, ns: &str) -> impl Iterator<Item = &'a SpcObs> {
        let spcs: &'a Items<SpcObs> = &self.snap.spcs.items;
        in_namespace(&self.spcs_by_namespace, spcs, |s| &s.namespace, ns)
    }

    /// The service accounts of namespace `ns`, in snapshot order.
    pub fn service_accounts_in(&self, ns: &str) -> impl Iterator<Item = &'a ServiceAccountObs> {
        let sas: &'a Items<ServiceAccountObs> = &self.snap.service_accounts.items;
        in_namespace(&self.sas_by_namespace, sas, |s| &s.namespace, ns)
    }
}
