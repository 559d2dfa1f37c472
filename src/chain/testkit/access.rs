//! Accessors for tests: the part of a testkit app a test changes, found by the app's name.

use super::*;

pub fn pod_mut<'a>(s: &'a mut Snapshot, app: &str) -> &'a mut PodObs {
    let prefix = replica_set(app);
    s.pods
        .items
        .iter_mut()
        .find(|p| p.name.starts_with(&prefix))
        .expect("testkit app has a pod")
}
pub fn spc_mut<'a>(s: &'a mut Snapshot, app: &str) -> &'a mut SpcObs {
    let n = spc_name(app);
    s.spcs
        .items
        .iter_mut()
        .find(|x| x.name == n)
        .expect("testkit app has an SPC")
}
pub fn sa_mut<'a>(s: &'a mut Snapshot, app: &str) -> &'a mut ServiceAccountObs {
    let n = sa_name(app);
    s.service_accounts
        .items
        .iter_mut()
        .find(|x| x.name == n)
        .expect("testkit app has a service account")
}
pub fn identity_mut<'a>(s: &'a mut Snapshot, app: &str) -> &'a mut ManagedIdentityObs {
    let n = identity_name(app);
    s.azure
        .identities
        .items
        .iter_mut()
        .find(|x| x.name == n)
        .expect("testkit app has an identity")
}
pub fn fic_mut<'a>(s: &'a mut Snapshot, app: &str) -> &'a mut FederatedCredentialObs {
    match &mut identity_mut(s, app).federated_credentials {
        Observed::Known(v) => v.first_mut().expect("testkit identity has a credential"),
        Observed::Unknown(_) => panic!("testkit credentials are known"),
    }
}
pub fn vault_mut<'a>(s: &'a mut Snapshot, ns: &str) -> &'a mut VaultObs {
    let n = vault_name(ns);
    s.azure
        .vaults
        .items
        .iter_mut()
        .find(|x| x.name == n)
        .expect("testkit namespace has a vault")
}
pub fn role_mut<'a>(s: &'a mut Snapshot, ns: &str, app: &str) -> &'a mut RoleAssignmentObs {
    let p = principal_id(ns, app);
    s.azure
        .role_assignments
        .items
        .iter_mut()
        .find(|x| x.principal_id == p)
        .expect("testkit app has a role assignment")
}
pub fn object_mut<'a>(s: &'a mut Snapshot, app: &str) -> &'a mut VaultObjectObs {
    let n = object_name(app);
    s.azure
        .objects
        .iter_mut()
        .find(|x| x.name == n)
        .expect("testkit app has a vault object")
}
pub fn secret_mut<'a>(s: &'a mut Snapshot, app: &str) -> &'a mut SecretObs {
    let n = secret_name(app);
    s.secrets
        .items
        .iter_mut()
        .find(|x| x.name == n)
        .expect("testkit app has a synced secret")
}
pub fn workload_mut<'a>(s: &'a mut Snapshot, kind: &str, name: &str) -> &'a mut WorkloadObs {
    s.workloads
        .items
        .iter_mut()
        .find(|x| x.kind == kind && x.name == name)
        .expect("testkit workload exists")
}

/// Every code found in these chains.
pub fn codes(chains: &[Chain]) -> BTreeSet<Code> {
    chains
        .iter()
        .flat_map(|c| c.findings())
        .map(|f| f.code)
        .collect()
}

/// Asserts that each of `chains` (a diagnosis of `s`) equals what a diagnosis of its pod alone
/// gives: whatever a full pass shares between replicas must not change a chain.
pub fn assert_each_chain_as_alone(s: &Snapshot, chains: &[Chain]) {
    for c in chains {
        let mut alone = s.clone();
        alone.pods.items.retain(|p| p.name == c.pod);
        let solo = crate::chain::diagnose(&alone);
        assert_eq!(solo[0].links, c.links, "{}", c.pod);
        assert_eq!(solo[0].objects, c.objects, "{}", c.pod);
    }
}
