//! Joins over the Azure side of a snapshot: identities by clientId, vaults by name, role
//! assignments by principal, vault objects by (vault, type, name).
//!
//! Keys are owned and values are positions, not references, so the joins can be kept beside
//! the observations they index and reused across diagnoses: the incremental engine
//! ([`super::engine`]) builds them once per Azure observation, not once per change.

use super::index::{HashMap, lower};
use crate::snapshot::{
    AzureObs, ManagedIdentityObs, ObjectType, RoleAssignmentObs, VaultObjectObs, VaultObs,
};

#[derive(Clone, Debug, Default)]
pub(crate) struct AzureIndex {
    /// lower-case clientId → position in `identities.items`.
    identities: HashMap<String, u32>,
    /// lower-case vault name → position in `vaults.items`.
    vaults: HashMap<String, u32>,
    /// principalId → positions in `role_assignments.items`.
    assignments: HashMap<String, Vec<u32>>,
    /// lower-case vault → type → lower-case name → position in `objects`.
    objects: HashMap<String, HashMap<ObjectType, HashMap<String, u32>>>,
}

fn pos(i: usize) -> u32 {
    u32::try_from(i).expect("fewer than 2^32 Azure objects")
}

fn owned(s: &str) -> String {
    lower(s).into_owned()
}

impl AzureIndex {
    pub fn build(az: &AzureObs) -> Self {
        let mut ix = AzureIndex::default();
        ix.identities.reserve(az.identities.items.len());
        for (i, id) in az.identities.items.iter().enumerate() {
            ix.identities.insert(owned(&id.client_id), pos(i));
        }
        ix.vaults.reserve(az.vaults.items.len());
        for (i, v) in az.vaults.items.iter().enumerate() {
            ix.vaults.insert(owned(&v.name), pos(i));
        }
        for (i, r) in az.role_assignments.items.iter().enumerate() {
            ix.assignments
                .entry(r.principal_id.clone())
                .or_default()
                .push(pos(i));
        }
        for (i, o) in az.objects.iter().enumerate() {
            ix.objects
                .entry(owned(&o.vault))
                .or_default()
                .entry(o.object_type)
                .or_default()
                .insert(owned(&o.name), pos(i));
        }
        ix
    }

    pub fn identity<'a>(
        &self,
        az: &'a AzureObs,
        client_id: &str,
    ) -> Option<&'a ManagedIdentityObs> {
        let i = *self.identities.get(lower(client_id).as_ref())?;
        az.identities.items.get(i as usize)
    }

    pub fn vault<'a>(&self, az: &'a AzureObs, name: &str) -> Option<&'a VaultObs> {
        let i = *self.vaults.get(lower(name).as_ref())?;
        az.vaults.items.get(i as usize)
    }

    pub fn assignments<'a>(
        &self,
        az: &'a AzureObs,
        principal: &str,
    ) -> impl Iterator<Item = &'a RoleAssignmentObs> + use<'a, '_> {
        let items = &az.role_assignments.items;
        self.assignments
            .get(principal)
            .into_iter()
            .flatten()
            .filter_map(|i| items.get(*i as usize))
    }

    pub fn object<'a>(
        &self,
        az: &'a AzureObs,
        vault: &str,
        t: ObjectType,
        name: &str,
    ) -> Option<&'a VaultObjectObs> {
        let i = *self
            .objects
            .get(lower(vault).as_ref())?
            .get(&t)?
            .get(lower(name).as_ref())?;
        az.objects.get(i as usize)
    }
}
