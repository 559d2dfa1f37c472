//! Joins over the Azure side of a snapshot: identities by clientId, vaults by name, role
//! assignments by principal, vault objects by (vault, type, name).
//!
//! Keys are owned and values are positions, not references, so the joins can be kept beside
//! the observations they index and reused across diagnoses: the incremental engine
//! ([`super::engine`]) builds them once per Azure observation, not once per change.

use std::borrow::Cow;

use super::index::{HashMap, HashSet, lower};
use crate::snapshot::{
    AzureObs, ManagedIdentityObs, ObjectType, RoleAssignmentObs, VaultObjectObs, VaultObs,
};

/// Keys borrow from the observations (`'a`) for a one-off diagnosis, or are owned
/// ([`AzureIndex::into_owned`]) when the joins outlive the call, as the engine's do.
#[derive(Clone, Debug, Default)]
pub(crate) struct AzureIndex<'a> {
    /// lower-case clientId → position in `identities.items`.
    identities: HashMap<Cow<'a, str>, u32>,
    /// lower-case vault name → position in `vaults.items`.
    vaults: HashMap<Cow<'a, str>, u32>,
    /// lower-case principalId → positions in `role_assignments.items` (ARM may spell a GUID
    /// in either case).
    assignments: HashMap<Cow<'a, str>, Vec<u32>>,
    /// (lower-case vault, type, lower-case name) → position in `objects`.
    objects: HashMap<(Cow<'a, str>, ObjectType, Cow<'a, str>), u32>,
    /// Positions in `role_assignments.items` of the assignments to groups: a rule asking
    /// whether a group may hold a grant walked every assignment of the tenant for each chain
    /// without one (quadratic at 100,000 pods).
    groups: Vec<u32>,
    /// Positions in `role_assignments.items` of the assignments whose principal is known to
    /// be deleted ("Identity not found"), kept apart for the same reason as `groups`.
    deleted: Vec<u32>,
    /// Lower-case principalIds of the managed identities seen (with `identities`' clientIds,
    /// what an access policy's objectId is known not to be a group by).
    principals: HashSet<Cow<'a, str>>,
}

fn pos(i: usize) -> u32 {
    u32::try_from(i).expect("fewer than 2^32 Azure objects")
}

impl<'a> AzureIndex<'a> {
    pub fn build(az: &'a AzureObs) -> Self {
        let mut ix = AzureIndex::default();
        ix.identities.reserve(az.identities.items.len());
        ix.principals.reserve(az.identities.items.len());
        for (i, id) in az.identities.items.iter().enumerate() {
            ix.identities.insert(lower(&id.client_id), pos(i));
            ix.principals.insert(lower(&id.principal_id));
        }
        ix.vaults.reserve(az.vaults.items.len());
        for (i, v) in az.vaults.items.iter().enumerate() {
            ix.vaults.insert(lower(&v.name), pos(i));
        }
        for (i, r) in az.role_assignments.items.iter().enumerate() {
            if r.to_group() {
                ix.groups.push(pos(i));
            }
            if r.to_deleted_principal() {
                ix.deleted.push(pos(i));
            }
            ix.assignments
                .entry(lower(&r.principal_id))
                .or_default()
                .push(pos(i));
        }
        ix.objects.reserve(az.objects.len());
        for (i, o) in az.objects.iter().enumerate() {
            ix.objects
                .insert((lower(&o.vault), o.object_type, lower(&o.name)), pos(i));
        }
        ix
    }

    /// The same joins with owned keys, free of the observations' lifetime.
    pub fn into_owned(self) -> AzureIndex<'static> {
        fn own<V>(m: HashMap<Cow<'_, str>, V>) -> HashMap<Cow<'static, str>, V> {
            m.into_iter()
                .map(|(k, v)| (Cow::Owned(k.into_owned()), v))
                .collect()
        }
        AzureIndex {
            identities: own(self.identities),
            vaults: own(self.vaults),
            assignments: own(self.assignments),
            groups: self.groups,
            deleted: self.deleted,
            principals: (self.principals.into_iter())
                .map(|k| Cow::Owned(k.into_owned()))
                .collect(),
            objects: self
                .objects
                .into_iter()
                .map(|((v, t, n), i)| {
                    (
                        (Cow::Owned(v.into_owned()), t, Cow::Owned(n.into_owned())),
                        i,
                    )
                })
                .collect(),
        }
    }

    pub fn identity<'o>(
        &self,
        az: &'o AzureObs,
        client_id: &str,
    ) -> Option<&'o ManagedIdentityObs> {
        let i = *self.identities.get(lower(client_id).as_ref())?;
        az.identities.items.get(i as usize)
    }

    pub fn vault<'o>(&self, az: &'o AzureObs, name: &str) -> Option<&'o VaultObs> {
        let i = *self.vaults.get(lower(name).as_ref())?;
        az.vaults.items.get(i as usize)
    }

    pub fn assignments<'o>(
        &self,
        az: &'o AzureObs,
        principal: &str,
    ) -> impl Iterator<Item = &'o RoleAssignmentObs> + use<'o, '_, 'a> {
        let items = &az.role_assignments.items;
        self.assignments
            .get(lower(principal).as_ref())
            .into_iter()
            .flatten()
            .filter_map(|i| items.get(*i as usize))
    }

    /// The role assignments to groups.
    pub fn group_assignments<'o>(
        &self,
        az: &'o AzureObs,
    ) -> impl Iterator<Item = &'o RoleAssignmentObs> + use<'o, '_, 'a> {
        let items = &az.role_assignments.items;
        (self.groups.iter()).filter_map(|i| items.get(*i as usize))
    }

    /// The role assignments whose principal is known to be deleted.
    pub fn deleted_principal_assignments<'o>(
        &self,
        az: &'o AzureObs,
    ) -> impl Iterator<Item = &'o RoleAssignmentObs> + use<'o, '_, 'a> {
        let items = &az.role_assignments.items;
        (self.deleted.iter()).filter_map(|i| items.get(*i as usize))
    }

    /// Whether `id` is the principalId or the clientId of a managed identity seen (ASCII
    /// case-insensitive).
    pub fn is_identity(&self, id: &str) -> bool {
        let id = lower(id);
        self.principals.contains(id.as_ref()) || self.identities.contains_key(id.as_ref())
    }

    pub fn object<'o>(
        &self,
        az: &'o AzureObs,
        vault: &str,
        t: ObjectType,
        name: &str,
    ) -> Option<&'o VaultObjectObs> {
        let key = (lower(vault), t, lower(name));
        // HashMap is covariant in its key: view the keys with the query's shorter lifetime so
        // a borrowed tuple can be looked up without allocating owned Strings.
        let objects: &HashMap<(Cow<'_, str>, ObjectType, Cow<'_, str>), u32> = &self.objects;
        let i = *objects.get(&key)?;
        az.objects.get(i as usize)
    }
}

/// An [`AzureIndex`] built for one diagnosis or lent by its keeper. (Not a `Cow`: that would
/// make [`super::index::Index`] invariant in its lifetime.)
pub(crate) enum AzureJoins<'a> {
    Built(AzureIndex<'a>),
    Lent(&'a AzureIndex<'a>),
}

impl<'a> std::ops::Deref for AzureJoins<'a> {
    type Target = AzureIndex<'a>;
    fn deref(&self) -> &AzureIndex<'a> {
        match self {
            AzureJoins::Built(ix) => ix,
            AzureJoins::Lent(ix) => ix,
        }
    }
}
