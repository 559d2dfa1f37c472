//! The Azure side of the lab: Entra token exchange against federated credentials, Key Vault
//! authorization (RBAC or access policies), network rules, objects with versions, throttling.
//! Values live here and nowhere else; callers get file contents to hand to the mount.

use jiff::Timestamp;
use sha2::{Digest, Sha256};

use super::messages as msg;
use super::roles;
use super::scenario::{
    AccessPolicySpec, FederatedCredential, KeyVault, NetworkSpec, RoleAssignment,
};
use crate::snapshot::ObjectType;

pub const TOKEN_AUDIENCE: &str = "api://AzureADTokenExchange";
/// The token audience identity binding (`useAzureTokenProxy`) reads (FACTS §5).
pub const BINDING_AUDIENCE: &str = "api://AKSIdentityBinding";
pub const AUTHORITY: &str = "https://login.microsoftonline.com/";

mod entra;
pub use entra::{Token, exchange};

#[derive(Clone, Debug)]
pub struct LabIdentity {
    pub name: String,
    pub client_id: String,
    pub principal_id: String,
    pub tenant_id: String,
    pub resource_group: String,
    pub fics: Vec<FederatedCredential>,
    /// `spec.formerPrincipalIDs`: deleted principals of earlier identities of its name.
    pub former_principal_ids: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct LabVersion {
    /// 32-hex Key Vault version id.
    pub id: String,
    /// What the provider writes for this object type (value, PEM…). Never leaves the lab.
    pub content: Vec<u8>,
    pub enabled: bool,
    pub created: Timestamp,
    pub expires: Option<Timestamp>,
    /// `nbf`: Key Vault serves a secret outside its nbf/exp window all the same (Microsoft
    /// Learn, About Azure Key Vault secrets, "Date-time controlled operations").
    pub not_before: Option<Timestamp>,
}

#[derive(Clone, Debug, Default)]
pub struct LabObject {
    /// Newest first, like Key Vault lists them.
    pub versions: Vec<LabVersion>,
    pub content_type: Option<String>,
    pub backs_certificate: bool,
    /// For the secret that backs a certificate: whether the certificate's key is exportable.
    pub key_exportable: Option<bool>,
    /// When it was deleted, for an object of [`LabVault::deleted`].
    pub deleted_on: Option<Timestamp>,
}

impl LabObject {
    pub fn latest(&self) -> Option<&LabVersion> {
        self.versions.first()
    }
}

#[derive(Clone, Debug)]
pub struct LabVault {
    pub name: String,
    pub tenant_id: String,
    pub resource_group: String,
    pub rbac: bool,
    pub network: NetworkSpec,
    pub access_policies: Vec<AccessPolicySpec>,
    pub request_limit: Option<u32>,
    /// Found in any case (Key Vault object identifiers are case-insensitive).
    pub objects: super::vaults::VaultObjects,
    /// The soft-deleted objects (soft delete is always on): not read, not listed, their
    /// names taken until recovered or purged (audit UUU-azure).
    pub deleted: super::vaults::VaultObjects,
    pub purge_protection: bool,
    pub soft_delete_retention_days: u16,
    /// (10-second window index, requests in it) for throttling.
    window: (i64, u32),
}

/// Deterministic 32-hex version id.
pub fn version_id(vault: &str, name: &str, n: usize) -> String {
    let h = Sha256::digest(format!("{vault}/{name}/{n}").as_bytes());
    hex::encode(&h[..16])
}

fn pem(label: &str, seed: &str) -> String {
    use base64::Engine;
    let body = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(seed.as_bytes()));
    format!("-----BEGIN {label}-----\n{body}\n-----END {label}-----\n")
}

/// Contents Key Vault hands out for a certificate version, by the type it is read as.
fn cert_contents(vault: &str, name: &str, version: &str, exportable: bool) -> [Vec<u8>; 3] {
    let seed = format!("{vault}/{name}/{version}");
    let cert = pem("CERTIFICATE", &format!("{seed}/cert"));
    let key = pem("PRIVATE KEY", &format!("{seed}/key"));
    let public = pem("PUBLIC KEY", &format!("{seed}/pub"));
    let secret = if exportable {
        format!("{key}{cert}")
    } else {
        cert.clone()
    };
    [secret.into_bytes(), cert.into_bytes(), public.into_bytes()]
}

impl LabVault {
    pub fn from_spec(v: &KeyVault, now: Timestamp) -> LabVault {
        let s = &v.spec;
        let mut objects = super::vaults::VaultObjects::default();
        let created = |i: usize, n: usize| {
            // older versions were created a day apart before the lab started
            now.checked_sub(jiff::SignedDuration::from_hours(24 * (n - i) as i64))
                .unwrap_or(now)
        };
        for sec in &s.secrets {
            let values: Vec<(String, bool)> = match &sec.value {
                Some(v) => vec![(v.clone(), sec.enabled)],
                None => sec
                    .versions
                    .iter()
                    .map(|x| (x.value.clone(), x.enabled))
                    .collect(),
            };
            let n = values.len();
            let expires = if sec.expired {
                Some(
                    now.checked_sub(jiff::SignedDuration::from_hours(1))
                        .unwrap_or(now),
                )
            } else {
                sec.expires_in.map(super::clock::at)
            };
            let mut versions: Vec<LabVersion> = values
                .into_iter()
                .enumerate()
                .map(|(i, (value, enabled))| LabVersion {
                    id: version_id(&v.name, &sec.name, i),
                    content: value.into_bytes(),
                    enabled,
                    created: created(i, n),
                    expires,
                    // The newest version only: the one a planned switch dates.
                    not_before: (i + 1 == n)
                        .then(|| sec.not_before_in.map(super::clock::at))
                        .flatten(),
                })
                .collect();
            versions.reverse();
            objects.insert(
                (ObjectType::Secret, sec.name.clone()),
                LabObject {
                    versions,
                    content_type: sec.content_type.clone(),
                    backs_certificate: false,
                    key_exportable: None,
                    deleted_on: None,
                },
            );
        }
        for k in &s.keys {
            let id = version_id(&v.name, &k.name, 0);
            let content = pem("PUBLIC KEY", &format!("{}/{}/{id}", v.name, k.name)).into_bytes();
            objects.insert(
                (ObjectType::Key, k.name.clone()),
                LabObject {
                    versions: vec![LabVersion {
                        id,
                        content,
                        enabled: k.enabled,
                        created: created(0, 1),
                        expires: None,
                        not_before: None,
                    }],
                    content_type: None,
                    backs_certificate: false,
                    key_exportable: None,
                    deleted_on: None,
                },
            );
        }
        for c in &s.certificates {
            let id = version_id(&v.name, &c.name, 0);
            let [secret, cert, public] = cert_contents(&v.name, &c.name, &id, c.exportable);
            let ct = c
                .content_type
                .clone()
                .unwrap_or_else(|| "application/x-pem-file".into());
            for (t, content, ct, backs) in [
                (ObjectType::Secret, secret, Some(ct), true),
                (ObjectType::Cert, cert, None, false),
                (ObjectType::Key, public, None, false),
            ] {
                objects.insert(
                    (t, c.name.clone()),
                    LabObject {
                        versions: vec![LabVersion {
                            id: id.clone(),
                            content,
                            enabled: c.enabled,
                            created: created(0, 1),
                            expires: None,
                            not_before: None,
                        }],
                        content_type: ct,
                        backs_certificate: backs,
                        key_exportable: backs.then_some(c.exportable),
                        deleted_on: None,
                    },
                );
            }
        }
        // Objects the scenario says were deleted before the lab started: soft-deleted a day
        // before it.
        let gone: Vec<(ObjectType, String)> = (s.secrets.iter())
            .filter(|x| x.deleted)
            .map(|x| (ObjectType::Secret, x.name.clone()))
            .chain(
                (s.keys.iter())
                    .filter(|x| x.deleted)
                    .map(|x| (ObjectType::Key, x.name.clone())),
            )
            .chain((s.certificates.iter()).filter(|x| x.deleted).flat_map(|c| {
                [ObjectType::Cert, ObjectType::Secret, ObjectType::Key].map(|t| (t, c.name.clone()))
            }))
            .collect();
        let mut deleted = super::vaults::VaultObjects::default();
        let day_before = now
            .checked_sub(jiff::SignedDuration::from_hours(24))
            .unwrap_or(now);
        for key in gone {
            if let Some(mut o) = objects.remove(&key) {
                o.deleted_on = Some(day_before);
                deleted.insert(key, o);
            }
        }
        LabVault {
            name: v.name.clone(),
            tenant_id: s.tenant_id.clone(),
            resource_group: s.resource_group.clone(),
            rbac: s.enable_rbac_authorization,
            network: s.network.clone(),
            access_policies: s.access_policies.clone(),
            request_limit: s.request_limit,
            objects,
            deleted,
            purge_protection: s.purge_protection,
            soft_delete_retention_days: s.soft_delete_retention_days,
            window: (i64::MIN, 0),
        }
    }

    pub fn resource_id(&self, subscription: &str) -> String {
        format!(
            "/subscriptions/{subscription}/resourceGroups/{}/providers/Microsoft.KeyVault/vaults/{}",
            self.resource_group, self.name
        )
    }

    /// Writes a new version of a secret (and of the whole certificate for a cert-backed one).
    /// `value: None` re-stamps the current value. Returns the new version id.
    pub fn new_version(
        &mut self,
        t: ObjectType,
        name: &str,
        value: Option<&[u8]>,
        now: Timestamp,
    ) -> Result<String, String> {
        if self.objects.get(&(t, name.to_string())).is_none()
            && self.deleted.contains_key(&(t, name.to_string()))
        {
            // Key Vault keeps a deleted object's name: a set of it is refused until it is
            // recovered or purged (409 Conflict, ObjectIsDeletedButRecoverable).
            return Err(format!(
                "refused: 409 Conflict (ObjectIsDeletedButRecoverable): {} {name} is currently in a deleted but recoverable state in vault {}, and its name cannot be reused; in this state it can only be recovered or purged",
                t.as_str(),
                self.name
            ));
        }
        let obj = self
            .objects
            .get(&(t, name.to_string()))
            .ok_or_else(|| format!("{} {name} not found in vault {}", t.as_str(), self.name))?;
        if obj.backs_certificate || t != ObjectType::Secret {
            return Err(format!(
                "{name} is a certificate or key: rotate it with its certificate policy, not as a secret"
            ));
        }
        let n = obj.versions.len();
        let id = version_id(&self.name, name, n);
        let content = match value {
            Some(v) => v.to_vec(),
            // A re-stamp reads the current value first: Key Vault refuses to read a disabled
            // version (FACTS §5, 403 SecretDisabled), as kvchain's live action says (audit S3).
            None => match obj.versions.first() {
                Some(latest) if !latest.enabled => {
                    return Err(refused_disabled(
                        &format!("the latest version of secret {name} in vault {}", self.name),
                        "enable it before a rotation test",
                    ));
                }
                _ => obj.latest().map(|v| v.content.clone()).unwrap_or_default(),
            },
        };
        let expires = obj.latest().and_then(|v| v.expires);
        if let Some(obj) = self.objects.get_mut(&(t, name.to_string())) {
            obj.versions.insert(
                0,
                LabVersion {
                    id: id.clone(),
                    content,
                    enabled: true,
                    created: now,
                    expires,
                    // `az keyvault secret set` without --not-before.
                    not_before: None,
                },
            );
        }
        Ok(id)
    }

    /// Counts one data-plane request; false when over the vault's limit (429). A refused
    /// request does not count towards the limit (Key Vault throttling guidance), so the
    /// window admits exactly `limit` requests however many more arrive.
    fn admit(&mut self, now: Timestamp) -> bool {
        let Some(limit) = self.request_limit else {
            return true;
        };
        let w = now.as_second().div_euclid(10);
        if self.window.0 != w {
            self.window = (w, 0);
        }
        if self.window.1 >= limit {
            return false;
        }
        self.window.1 += 1;
        true
    }
}

/// Key Vault data plane: list the versions of object `name` as `token`, as the provider does
/// for objectVersionHistory (FACTS §5: it needs list permission). Called after a read of the
/// object succeeded, so the vault was reached and the token accepted: what is left is the
/// grant. Under RBAC the built-in roles that grant the read grant the listing too (Secrets
/// User's readMetadata, keys/read, certificates/read: FACTS §8), but a custom role granting
/// `secrets/getSecret/action` alone does not list a secret's versions (audit UUU-azure: the
/// lab listed them for any RBAC grant); an access policy needs `list`.
pub fn list_versions<'r>(
    vault: &LabVault,
    token: &Token,
    mut role_assignments: impl Iterator<Item = &'r RoleAssignment>,
    subscription: &str,
    location: &str,
    req: &Request,
) -> Result<(), String> {
    let (t, name) = (req.object_type, req.name);
    let caller = msg::caller(&token.client_id, &token.principal_id, &token.tenant);
    if vault.rbac {
        let action = roles::list_action(t);
        if role_assignments.any(|ra| vault.role_reaches(ra, token, t, name, action)) {
            return Ok(());
        }
        let object_scope = format!(
            "{}/{}/{name}",
            vault.resource_id(subscription),
            t.collection()
        );
        return Err(msg::response_error(
            &format!("{}versions", msg::object_url(req.host, t, name, "")),
            403,
            "Forbidden",
            &msg::forbidden_by_rbac(&caller, action, &object_scope, &vault.name, location),
            Some("ForbiddenByRbac"),
        ));
    }
    if vault.policy_allows(&token.principal_id, t, "list") {
        return Ok(());
    }
    Err(msg::response_error(
        &format!("{}versions", msg::object_url(req.host, t, name, "")),
        403,
        "Forbidden",
        &msg::access_denied(&caller, t, "list", &vault.name, location),
        Some("AccessDenied"),
    ))
}

impl LabVault {
    /// Role assignment `ra` is `token`'s, allows `action` (a built-in role's or a custom role's
    /// data actions less its notDataActions) and is made at the vault, object `name` of type
    /// `t`, or a resource group or the subscription above it: RBAC inherits down the scopes
    /// (FACTS §8).
    fn role_reaches(
        &self,
        ra: &RoleAssignment,
        token: &Token,
        t: ObjectType,
        name: &str,
        action: &str,
    ) -> bool {
        ra.spec.principal_id == token.principal_id
            && (ra.spec.scope).reaches(&self.name, &self.resource_group, t.collection(), name)
            && roles::definition(&ra.spec).is_some_and(|r| r.grants(action))
    }

    /// An access policy of `principal` holds `permission` (or `all`) on object type `t`.
    fn policy_allows(&self, principal: &str, t: ObjectType, permission: &str) -> bool {
        self.access_policies.iter().any(|p| {
            p.object_id == principal && {
                let perms = match t {
                    ObjectType::Secret => &p.secrets,
                    ObjectType::Key => &p.keys,
                    ObjectType::Cert => &p.certificates,
                };
                perms
                    .iter()
                    .any(|x| x.eq_ignore_ascii_case(permission) || x.eq_ignore_ascii_case("all"))
            }
        })
    }
}

pub struct Request<'a> {
    /// `<keyvaultName>.<DNS suffix>` as the SPC spells the vault: the host its error URLs
    /// name ([`msg::object_url`]).
    pub host: &'a str,
    pub object_type: ObjectType,
    pub name: &'a str,
    /// Pinned version, or None for latest.
    pub version: Option<&'a str>,
}

/// Key Vault data plane: GET one object as `token`. Errors are azcore `ResponseError` text.
#[allow(clippy::too_many_arguments)]
pub fn get<'v, 'r>(
    vault: &'v mut LabVault,
    token: &Token,
    mut role_assignments: impl Iterator<Item = &'r RoleAssignment>,
    subscription: &str,
    location: &str,
    req: &Request,
    now: Timestamp,
) -> Result<&'v LabVersion, String> {
    let t = req.object_type;
    // Error texts only: a read that succeeds (every rotation poll of every healthy pod) builds
    // none of them.
    let url = || msg::object_url(req.host, t, req.name, req.version.unwrap_or(""));
    let caller = || msg::caller(&token.client_id, &token.principal_id, &token.tenant);
    if !vault.network.reachable() {
        // Public access off: Key Vault refuses every public request in its own words
        // (ForbiddenByConnection), whatever the firewall rules say; on, the firewall refuses
        // (ForbiddenByFirewall). The two fixes differ: a private endpoint, or a network rule
        // (audit WW7; remedy::network reads the code).
        let (message, inner) = match vault.network.public_network_access {
            false => (
                msg::public_access_disabled(&caller(), &vault.name, location),
                "ForbiddenByConnection",
            ),
            true => (
                msg::firewall(&caller(), &vault.name, location),
                "ForbiddenByFirewall",
            ),
        };
        return Err(msg::response_error(
            &url(),
            403,
            "Forbidden",
            &message,
            Some(inner),
        ));
    }
    if !vault.admit(now) {
        return Err(msg::response_error(
            &url(),
            429,
            "Throttled",
            &msg::throttled(),
            None,
        ));
    }
    if !token.tenant.eq_ignore_ascii_case(&vault.tenant_id) {
        return Err(msg::response_error(
            &url(),
            401,
            "Unauthorized",
            &msg::wrong_issuer(&vault.tenant_id, &token.tenant),
            None,
        ));
    }
    if vault.rbac {
        let action = roles::required_action(t);
        let allowed = role_assignments.any(|ra| vault.role_reaches(ra, token, t, req.name, action));
        if !allowed {
            let vault_id = vault.resource_id(subscription);
            let object_scope = format!("{vault_id}/{}/{}", t.collection(), req.name);
            return Err(msg::response_error(
                &url(),
                403,
                "Forbidden",
                &msg::forbidden_by_rbac(&caller(), action, &object_scope, &vault.name, location),
                Some("ForbiddenByRbac"),
            ));
        }
    } else {
        if !vault.policy_allows(&token.principal_id, t, "get") {
            return Err(msg::response_error(
                &url(),
                403,
                "Forbidden",
                &msg::access_denied(&caller(), t, "get", &vault.name, location),
                Some("AccessDenied"),
            ));
        }
    }
    let obj = vault.objects.get(&(t, req.name.to_string()));
    let version = obj.and_then(|o| match req.version {
        // Key Vault serves a version by a case-insensitive id, as the real one does
        // (`VaultObject::version`).
        Some(v) => o.versions.iter().find(|x| x.id.eq_ignore_ascii_case(v)),
        None => o.latest(),
    });
    let Some(version) = version else {
        let shown = match req.version {
            Some(v) => format!("{}/{v}", req.name),
            None => req.name.to_string(),
        };
        let (code, message) = msg::not_found(t, &shown);
        return Err(msg::response_error(&url(), 404, &code, &message, None));
    };
    if !version.enabled {
        let (code, message) = msg::disabled(t);
        return Err(msg::response_error(
            &url(),
            403,
            "Forbidden",
            &message,
            Some(&code),
        ));
    }
    Ok(version)
}

/// Key Vault's refusal to read `which` (a version of a secret), disabled (FACTS §5, 403
/// SecretDisabled), and what to do first: `then`.
pub fn refused_disabled(which: &str, then: &str) -> String {
    format!(
        "refused: {which} is disabled (403 SecretDisabled: Operation get is not allowed on a disabled secret); {then}"
    )
}

#[cfg(test)]
mod tests;
