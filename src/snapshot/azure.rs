//! The Azure side: managed identities, vaults, role assignments and Key Vault objects.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Coll, Fingerprint, Observed};
/// The SPC's `objectType` values are Key Vault's object kinds: parsed with the SPC's
/// parameters, below the snapshot.
pub use crate::spc::ObjectType;

/// The Azure side. Each collection may be unknown (no credentials, no permission, offline).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AzureObs {
    pub identities: Coll<ManagedIdentityObs>,
    pub vaults: Coll<VaultObs>,
    pub role_assignments: Coll<RoleAssignmentObs>,
    pub objects: Vec<VaultObjectObs>,
    /// Azure requests made so far by the source (visible "good citizen" counter).
    #[serde(default)]
    pub requests: u64,
    /// Of those, answered 429 (throttled).
    #[serde(default)]
    pub throttled: u64,
}

/// The reason of an Azure side no source has tried to read (a snapshot built by hand), as
/// opposed to a read that failed or was declined.
pub const AZURE_NOT_OBSERVED: &str = "Azure side not observed";

impl Default for AzureObs {
    fn default() -> Self {
        AzureObs::unknown(AZURE_NOT_OBSERVED)
    }
}

impl AzureObs {
    pub fn unknown(reason: &str) -> Self {
        AzureObs {
            identities: Coll::unknown(reason),
            vaults: Coll::unknown(reason),
            role_assignments: Coll::unknown(reason),
            objects: Vec::new(),
            requests: 0,
            throttled: 0,
        }
    }
}

/// The reason an object of vault `vault` is unknown when no vault holds that name (the lab's
/// Azure has none; live, Check Name Availability found it free): known absent, not "not
/// found where kvchain looked" — Key Vault names are global (FACTS §5; audit XA-more). Still
/// a reason for an unknown link, so a chain no event shows failing stays not verified.
pub fn no_vault_named(vault: &str) -> String {
    format!("no vault is named {vault} anywhere (Key Vault names are global)")
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ManagedIdentityObs {
    pub name: String,
    #[serde(default)]
    pub resource_id: String,
    pub client_id: String,
    pub principal_id: String,
    pub tenant_id: String,
    pub federated_credentials: Observed<Vec<FederatedCredentialObs>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FederatedCredentialObs {
    pub name: String,
    pub issuer: String,
    pub subject: String,
    pub audiences: Vec<String>,
    /// When the credential last changed: ARM's `systemData.lastModifiedAt`, else its
    /// `createdAt` (a lower bound of it), for api-versions from 2023-01-31 on. A token
    /// exchange refused before it was refused by a credential that has changed since
    /// (`history::fic_changed_since`). None when not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_at: Option<Timestamp>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VaultObs {
    pub name: String,
    #[serde(default)]
    pub resource_id: String,
    pub tenant_id: String,
    /// `enableRbacAuthorization`: true ⇒ Azure RBAC, false ⇒ access policies.
    pub rbac: bool,
    #[serde(default)]
    pub access_policies: Vec<AccessPolicyObs>,
    #[serde(default)]
    pub network: NetworkObs,
    /// Names of the vault's objects by type when a listing was read (for "did you mean").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_names: Option<Vec<(ObjectType, String)>>,
    /// The management groups of the assignments the vault's own role-assignment listing
    /// returned (`/providers/Microsoft.Management/managementGroups/<id>`), when that listing was
    /// read whole: ARM lists at the vault the assignments at, above and below it, so a group
    /// listed holds the vault's subscription, and a group's assignment the listing did not
    /// return does not reach the vault (audit EE6). `None` when the listing was not read (or
    /// the snapshot predates this field, which recorded only a non-empty list): a group's
    /// assignment then may reach the vault or not, as kvchain does not read the hierarchy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub management_groups: Option<Vec<String>>,
    /// The vault's soft-deleted objects (`az keyvault secret|key|certificate list-deleted`),
    /// when those listings were read: soft delete is always on, so a deleted object stays
    /// under its name until its scheduled purge - a GET answers 404 as for a name never used,
    /// a create of the name fails 409 Conflict (ObjectIsDeletedButRecoverable) and `recover`
    /// brings it back (Microsoft Learn, "Azure Key Vault soft-delete overview"; audit
    /// UUU-azure). `None` when not read (kvchain live does not read them): a 404 may then be
    /// either.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_objects: Option<Vec<DeletedObjectObs>>,
    /// `enablePurgeProtection`: a deleted object (or the vault) cannot be purged before its
    /// retention ends, so its name is taken until then and `recover` is the only way back.
    /// `None` when not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purge_protection: Option<bool>,
}

/// One soft-deleted object of a vault, as `list-deleted` lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeletedObjectObs {
    pub object_type: ObjectType,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_on: Option<Timestamp>,
    /// When Key Vault purges it (its retention, 7 to 90 days, after `deleted_on`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_purge: Option<Timestamp>,
    /// A certificate's own secret or key (`managed: true`): Key Vault recovers it only with
    /// its certificate.
    #[serde(default)]
    pub managed: bool,
}

impl VaultObs {
    /// The vault's soft-deleted object of type `t` named `name` (in any case: object names
    /// are case-insensitive): `None` when the deleted listings were not read or do not hold it.
    pub fn deleted(&self, t: ObjectType, name: &str) -> Option<&DeletedObjectObs> {
        (self.deleted_objects.as_deref()?.iter())
            .find(|d| d.object_type == t && d.name.eq_ignore_ascii_case(name))
    }
}

#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct AccessPolicyObs {
    pub object_id: String,
    #[serde(default)]
    pub tenant_id: String,
    #[serde(default)]
    pub secrets: Vec<String>,
    #[serde(default)]
    pub keys: Vec<String>,
    #[serde(default)]
    pub certificates: Vec<String>,
    /// `Some(false)` when the directory was asked and holds no principal of `object_id`: it was
    /// deleted, and Key Vault keeps its access policy (a policy names an object id and is not
    /// removed with it). A managed identity deleted and recreated under its name has a new
    /// principalId, so the policy grants the new one nothing (audit UUU-azure, as
    /// [`RoleAssignmentObs::principal_exists`]). `None` when not looked up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_exists: Option<bool>,
}

impl AccessPolicyObs {
    /// Its principal is known to be deleted ([`AccessPolicyObs::principal_exists`]).
    pub fn to_deleted_principal(&self) -> bool {
        self.principal_exists == Some(false)
    }

    /// The permissions the policy holds on objects of type `t`.
    pub fn permissions(&self, t: ObjectType) -> &[String] {
        match t {
            ObjectType::Secret => &self.secrets,
            ObjectType::Key => &self.keys,
            ObjectType::Cert => &self.certificates,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetworkObs {
    /// `publicNetworkAccess` Enabled.
    pub public_access: bool,
    /// `networkAcls.defaultAction` is Deny.
    pub default_deny: bool,
    /// Whether the cluster's egress is allowed by the rules (ip rule / vnet rule / private
    /// endpoint); unknown when it cannot be matched.
    pub cluster_allowed: Observed<bool>,
}

impl Default for NetworkObs {
    fn default() -> Self {
        NetworkObs {
            public_access: true,
            default_deny: false,
            cluster_allowed: Observed::Known(true),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoleAssignmentObs {
    pub principal_id: String,
    pub role_definition_id: String,
    /// Built-in role name when resolved (e.g. "Key Vault Secrets User").
    pub role_name: String,
    /// `dataActions` of the role definition, e.g. `Microsoft.KeyVault/vaults/secrets/getSecret/action`.
    pub data_actions: Vec<String>,
    /// ARM scope (subscription, resource group, vault, or `<vault id>/secrets/<name>`).
    pub scope: String,
    /// `notDataActions` of the role definition: taken back from `data_actions` by pattern
    /// ([`RoleAssignmentObs::grants`]), as Azure computes the effective permissions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_data_actions: Vec<String>,
    /// ARM's `principalType` (`ServicePrincipal`, `Group`, `User`); empty when not known.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub principal_type: String,
    /// Why the role definition could not be read (its `data_actions` are then unknown, not
    /// empty); `None` when it was resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unresolved: Option<String>,
    /// `Some(false)` when the directory was asked and holds no principal of this id: it was
    /// deleted, and Azure keeps its role assignments (they are not removed with it), listed
    /// as "Identity not found" (Microsoft Learn, "Understand Azure role assignments"). A
    /// managed identity deleted and recreated under its name has a new principalId, so such
    /// an assignment grants the new one nothing. `None` when not looked up (ARM's listing
    /// does not say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_exists: Option<bool>,
    /// ARM's `properties.createdOn`: when the assignment was made. A Key Vault 403 recorded
    /// before every grant that now lets the read through was refused for want of it, so it
    /// describes a past state (FACTS §11, evidence in time). `None` when not said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_on: Option<Timestamp>,
}

impl RoleAssignmentObs {
    /// Whether the role grants the data action: some `dataActions` pattern matches it and no
    /// `notDataActions` pattern takes it back (case-insensitive, `*` wildcards).
    pub fn grants(&self, action: &str) -> bool {
        role_allows(&self.data_actions, &self.not_data_actions, action)
    }

    /// Assigned to an Entra group: who holds it depends on a membership kvchain cannot read.
    pub fn to_group(&self) -> bool {
        self.principal_type.eq_ignore_ascii_case("Group")
    }

    /// Its principal is known to be deleted ([`RoleAssignmentObs::principal_exists`]).
    pub fn to_deleted_principal(&self) -> bool {
        self.principal_exists == Some(false)
    }
}

/// `/providers/Microsoft.Management/managementGroups/<id>`, as ARM spells a management
/// group's scope (ASCII case-insensitive).
pub fn is_management_group(scope: &str) -> bool {
    const PREFIX: &str = "/providers/microsoft.management/managementgroups/";
    scope.len() > PREFIX.len()
        && scope.as_bytes()[..PREFIX.len()].eq_ignore_ascii_case(PREFIX.as_bytes())
}

/// An ARM scope `path` equals `prefix` or lies under it (`prefix/...`), ASCII
/// case-insensitive: a role assignment at `prefix` applies at `path`.
pub fn scope_under(path: &str, prefix: &str) -> bool {
    let (p, q) = (path.trim_end_matches('/'), prefix.trim_end_matches('/'));
    p.len() >= q.len()
        && p.as_bytes()[..q.len()].eq_ignore_ascii_case(q.as_bytes())
        && (p.len() == q.len() || p.as_bytes()[q.len()] == b'/')
}

/// Whether a role with these `dataActions` and `notDataActions` allows the data action: some
/// `dataActions` pattern matches it and no `notDataActions` pattern takes it back (Microsoft
/// Learn, "Understand Azure role definitions").
pub fn role_allows<S: AsRef<str>>(
    data_actions: &[S],
    not_data_actions: &[S],
    action: &str,
) -> bool {
    let matches = |p: &S| action_matches(p.as_ref(), action);
    data_actions.iter().any(matches) && !not_data_actions.iter().any(matches)
}

/// Azure's action pattern match: case-insensitive, `*` stands for any run of characters
/// (`Microsoft.KeyVault/vaults/secrets/*`, `*/read`, `*`).
pub fn action_matches(pattern: &str, action: &str) -> bool {
    // On bytes, ASCII case folded in place: every replica group's access check asks it for
    // each of its grants' patterns, and lowering both texts into new strings and collecting
    // the pattern's parts took ~8,000 instructions a group (callgrind). ASCII folding keeps
    // byte lengths, so this matches what lowered copies matched.
    let (pattern, action) = (pattern.as_bytes(), action.as_bytes());
    if memchr::memchr(b'*', pattern).is_none() {
        // A role's data actions are mostly spelled out: equal lengths first.
        return pattern.eq_ignore_ascii_case(action);
    }
    let mut parts = pattern.split(|&b| b == b'*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = strip_prefix_ci(action, first) else {
        return false;
    };
    let Some(mut last) = parts.next() else {
        return rest.is_empty(); // no `*`: the whole action must match
    };
    for next in parts {
        // `last` is a middle part: its first occurrence, then what follows it.
        let Some(at) = find_ci(rest, last) else {
            return false;
        };
        rest = &rest[at + last.len()..];
        last = next;
    }
    rest.len() >= last.len() && rest[rest.len() - last.len()..].eq_ignore_ascii_case(last)
}

fn strip_prefix_ci<'a>(s: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    (s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix))
        .then(|| &s[prefix.len()..])
}

/// Where `needle` first occurs in `hay`, ASCII case ignored.
fn find_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

/// One Key Vault object as looked up: `state` Known(None) ⇒ not found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VaultObjectObs {
    pub vault: String,
    pub object_type: ObjectType,
    pub name: String,
    pub state: Observed<Option<VaultObject>>,
}

#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct VaultObject {
    /// Newest first.
    pub versions: Vec<ObjectVersion>,
    #[serde(default)]
    pub content_type: Option<String>,
    /// A secret that backs a certificate (`kid` set): its value is key + chain.
    #[serde(default)]
    pub backs_certificate: bool,
    /// For a secret that backs a certificate: whether the certificate's key is exportable (its
    /// policy's `keyProperties.exportable`). A non-exportable key is not part of the secret's
    /// value, which then holds the certificate alone. `None` when not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_exportable: Option<bool>,
    /// Why `key_exportable` is `None` for a secret that backs a certificate: its policy could
    /// not be read (e.g. 403 for a caller without certificates/get). Absent when it was read
    /// or does not apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_exportable_unknown: Option<String>,
    /// Fingerprint of the latest version's value, when the source can compute one (lab).
    #[serde(default)]
    pub latest_fingerprint: Option<Fingerprint>,
}

impl VaultObject {
    pub fn latest(&self) -> Option<&ObjectVersion> {
        self.versions.first()
    }
    /// The version `id` names. Key Vault object identifiers, versions included, are
    /// case-insensitive ("should always be compared as case-insensitive strings":
    /// https://learn.microsoft.com/en-us/azure/key-vault/about-keys-secrets-and-certificates),
    /// so a pin in upper-case hex names the version the vault lists in lower case (audit
    /// GGG-A7: it read as "version not found").
    pub fn version(&self, id: &str) -> Option<&ObjectVersion> {
        self.versions
            .iter()
            .find(|v| v.version.eq_ignore_ascii_case(id))
    }
}

#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct ObjectVersion {
    /// 32-hex version id.
    pub version: String,
    pub enabled: bool,
    #[serde(default)]
    pub created: Option<Timestamp>,
    #[serde(default)]
    pub expires: Option<Timestamp>,
    #[serde(default)]
    pub not_before: Option<Timestamp>,
    /// Fingerprint of this version's value, when the source can compute one (lab): tells a
    /// value rotated away and back (A→B→A) from a changed one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<Fingerprint>,
}

#[cfg(test)]
mod tests {
    use super::action_matches;

    /// The definition [`action_matches`] implements without allocating: both texts lowered,
    /// the pattern's parts found in turn.
    fn lowered(pattern: &str, action: &str) -> bool {
        let (p, a) = (pattern.to_ascii_lowercase(), action.to_ascii_lowercase());
        let mut parts = p.split('*');
        let Some(mut rest) = a.strip_prefix(parts.next().unwrap_or_default()) else {
            return false;
        };
        let parts: Vec<&str> = parts.collect();
        let Some((last, middle)) = parts.split_last() else {
            return rest.is_empty();
        };
        for m in middle {
            match rest.find(m) {
                Some(i) => rest = &rest[i + m.len()..],
                None => return false,
            }
        }
        rest.ends_with(last)
    }

    proptest::proptest! {
        #[test]
        fn matches_as_the_lowered_texts_do(
            pattern in "[aAb/*é]{0,8}",
            action in "[aAbB/é]{0,10}",
        ) {
            proptest::prop_assert_eq!(
                action_matches(&pattern, &action),
                lowered(&pattern, &action),
                "{:?} against {:?}", pattern, action
            );
        }
    }
}
