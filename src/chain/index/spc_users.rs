//! Which pods reference each SecretProviderClass, and the token audiences the SPCs read:
//! asked by a few findings (KVC704's load estimate, KVC804's readers, KVC105's fix) and by
//! the check of SPCs no pod mounts. Each was a scan of the snapshot per finding or per SPC;
//! these are worked out once per pass, on first use.

use super::{HashMap, Index, SPC_ATTRIBUTE, map};
use crate::snapshot::{Items, PodObs, Snapshot, SpcObs, VolumeSourceObs};

/// The volumes referencing one SecretProviderClass and the positions of their pods in
/// `snap.pods`, each once, in pod order.
#[derive(Default)]
pub(super) struct SpcUsers {
    volumes: usize,
    pods: Vec<u32>,
}

impl<'a> Index<'a> {
    /// Pod (and template) volumes referencing SecretProviderClass `spc` in `ns`, if any.
    pub fn spc_users(&self, ns: &str, spc: &str) -> Option<usize> {
        self.users_of(ns, spc).map(|u| u.volumes)
    }

    /// The pods (and templates) with a volume referencing SecretProviderClass `spc` in `ns`
    /// ([`PodObs::mounts_spc`]), in pod order.
    pub fn pods_mounting(&self, ns: &str, spc: &str) -> impl Iterator<Item = &'a PodObs> {
        let pods: &'a Items<PodObs> = &self.snap.pods.items;
        // Positions read here were taken from these very pods: the lookup never misses.
        (self.mounting_positions(ns, spc).iter()).filter_map(move |&i| pods.get(i as usize))
    }

    /// The positions in `snap.pods` of [`Index::pods_mounting`], in order.
    pub fn mounting_positions(&self, ns: &str, spc: &str) -> &[u32] {
        self.users_of(ns, spc).map_or(&[][..], |u| &u.pods[..])
    }

    /// The SecretProviderClass names that pod (and template) volumes of `ns` reference,
    /// whether or not such an SPC exists, in no particular order.
    pub fn referenced_spcs(&self, ns: &str) -> impl Iterator<Item = &str> {
        self.all_spc_users()
            .get(ns)
            .into_iter()
            .flat_map(|m| m.keys().map(String::as_str))
    }

    fn users_of(&self, ns: &str, spc: &str) -> Option<&SpcUsers> {
        self.all_spc_users().get(ns)?.get(spc)
    }

    fn all_spc_users(&self) -> &SpcUsersMap {
        self.spc_users.get_or_init(|| of(self.snap))
    }

    /// The token audiences the cluster's SPCs read, as `of` works them out from the SPCs
    /// (the rule that knows how keeps that knowledge; the index only remembers): the
    /// globals' when the index sees one namespace, else its snapshot's, once per pass.
    pub fn spc_audiences(
        &self,
        of: impl FnOnce(&'a [std::sync::Arc<SpcObs>]) -> Vec<&'static str>,
    ) -> &[&'static str] {
        if let Some(all) = self.globals.audiences {
            return all;
        }
        self.spc_audiences
            .get_or_init(|| of(self.snap.spcs.items.shared()))
    }
}

/// namespace → SecretProviderClass → its users. Owned names: a borrowed key would make
/// `Index` invariant.
pub(super) type SpcUsersMap = HashMap<String, HashMap<String, SpcUsers>>;

/// The users of every SecretProviderClass the pods of `snap` reference.
pub(super) fn of(snap: &Snapshot) -> SpcUsersMap {
    let mut users: SpcUsersMap = map(0);
    for (i, pod) in snap.pods.items.iter().enumerate() {
        let spcs = (pod.volumes.iter()).filter_map(|v| match &v.source {
            VolumeSourceObs::Csi { attributes, .. } => attributes.get(SPC_ATTRIBUTE),
            _ => None,
        });
        for spc in spcs {
            // Names are copied once per namespace and SPC, not per volume: the owned keys
            // cost a pass an allocation for each pod otherwise.
            let ns = pod.namespace.as_str();
            if !users.contains_key(ns) {
                users.insert(ns.to_string(), map(0));
            }
            let per_spc = users.get_mut(ns).expect("inserted above");
            let u = match per_spc.get_mut(spc.as_str()) {
                Some(u) => u,
                None => per_spc.entry(spc.clone()).or_default(),
            };
            u.volumes += 1;
            if u.pods.last() != Some(&(i as u32)) {
                u.pods.push(i as u32);
            }
        }
    }
    users
}
