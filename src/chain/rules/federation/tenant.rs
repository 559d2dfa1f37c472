//! The tenants of a federated exchange (FACTS §11): the SPC's `tenantID`, the identity's home
//! tenant and the vault's, and what no `tenantID` can fix (a managed identity cannot cross
//! tenants).

use super::super::auth_params;
use super::super::remedy::{self, AUDIENCE};
use crate::chain::catalog::Code;
use crate::chain::context::{AuthMode, Ctx};
use crate::chain::model::{Fact, Link};

/// Three tenants (FACTS §11): the token is requested in the SPC's `tenantID`, where only an
/// identity whose home tenant it is exists (else AADSTS700016); Key Vault accepts only tokens
/// of its own tenant (else AKV10032). A managed identity cannot cross tenants, so when the
/// identity's and the vault's tenants differ, no `tenantID` works: KVC406 says so instead of a
/// fix that leads to the next failure. Otherwise a wrong `tenantID` is KVC404.
///
/// Returns the `tenantID` when it is a domain name (`contoso.onmicrosoft.com`): Entra ID takes
/// a tenant's verified domain for its id (the authority `login.microsoftonline.com/<tenant>`),
/// and which tenant a domain names is not read, so it is compared with no tenant id; the
/// caller says the link is unknown until a mount proves it.
pub(crate) fn tenant(cx: &Ctx, link: &mut Link) -> Option<String> {
    let spc_tenant = cx.params.as_deref()?.tenant_id.as_deref()?;
    // An unrendered or invalid tenant is the identity link's finding (one cause, one finding).
    if auth_params::tenant_unusable(spc_tenant) {
        return None;
    }
    if !crate::snapshot::is_guid(spc_tenant.trim()) {
        return domain_tenant(cx, link, spc_tenant);
    }
    let vault = cx.ix.vault(cx.keyvault());
    let home = cx.identity.map(|i| (i.name.as_str(), i.tenant_id.as_str()));
    let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    if let Some(v) = vault
        && (cx.detail || !same(spc_tenant, &v.tenant_id))
    {
        // The vault's tenant is what tenantID should say only where the identity lives there
        // too; across tenants no tenantID works (KVC406), and "expected" would invite the edit
        // that ends in AADSTS700016 (audit D8): a fact, not a comparison.
        let crossed = home.is_some_and(|(_, h)| !same(h, &v.tenant_id));
        link.facts.push(if crossed {
            Fact::new(format!("tenant of vault {}", v.name), v.tenant_id.as_str())
        } else {
            Fact::compare("tenantID", spc_tenant, v.tenant_id.as_str())
        });
    }
    if let Some((name, t)) = home
        && (cx.detail || !same(spc_tenant, t))
    {
        // Context, not a difference: the identity's home is a fact; the SPC is what is wrong.
        link.facts.push(Fact::new(format!("tenant of {name}"), t));
    }
    match (home, vault) {
        (Some((name, home)), Some(v)) if !same(home, &v.tenant_id) => cross_tenant(
            cx,
            link,
            Home::Seen(name),
            home,
            spc_tenant,
            &v.name,
            &v.tenant_id,
        ),
        (Some((name, home)), _) if !same(home, spc_tenant) => {
            wrong_tenant(
                cx,
                link,
                spc_tenant,
                Some((name, home)),
                vault.map(|v| (v.name.as_str(), v.tenant_id.as_str())),
            );
        }
        // Key Vault's 401 AKV10032 means Entra issued the token in the tenant asked: the
        // identity lives there, and only the vault's tenant differs (audit DDD7). A tenantID
        // edit would end in AADSTS700016.
        (None, Some(v)) if !same(spc_tenant, &v.tenant_id) && vault_refused_issuer(cx) => {
            let name = match cx.mode.client_id() {
                Some(c) => format!("the identity of clientID {c}"),
                None => "the identity".to_string(),
            };
            cross_tenant(
                cx,
                link,
                Home::Issued(&name),
                spc_tenant,
                spc_tenant,
                &v.name,
                &v.tenant_id,
            )
        }
        (None, Some(v)) if !same(spc_tenant, &v.tenant_id) => {
            wrong_tenant(
                cx,
                link,
                spc_tenant,
                None,
                Some((v.name.as_str(), v.tenant_id.as_str())),
            );
        }
        _ => {}
    }
    None
}

/// A `tenantID` that is a domain name: the vault's and the identity's tenants are facts, not
/// a comparison, and only a managed identity whose tenant differs from the vault's is judged
/// (KVC406: no `tenantID` reaches across, whatever tenant the domain names).
fn domain_tenant(cx: &Ctx, link: &mut Link, domain: &str) -> Option<String> {
    let vault = cx.ix.vault(cx.keyvault());
    let home = cx.identity.map(|i| (i.name.as_str(), i.tenant_id.as_str()));
    if let Some(v) = vault {
        link.facts.push(Fact::new(
            format!("tenant of vault {}", v.name),
            v.tenant_id.as_str(),
        ));
    }
    if let Some((name, t)) = home {
        link.facts.push(Fact::new(format!("tenant of {name}"), t));
    }
    match (home, vault) {
        (Some((name, home)), Some(v)) if !home.eq_ignore_ascii_case(&v.tenant_id) => {
            cross_tenant(
                cx,
                link,
                Home::Seen(name),
                home,
                domain,
                &v.name,
                &v.tenant_id,
            );
            None
        }
        _ => Some(domain.to_string()),
    }
}

/// A node identity (useVMManagedIdentity) and the vault in two tenants (audit XD-tenant): the
/// node's metadata endpoint issues the identity's token in its home tenant whatever `tenantID`
/// says (KVC302: it asks no tenant), and Key Vault accepts tokens of its own tenant only
/// (FACTS §11 'Tenants', AKV10032). No federated credential takes part, but the tenant does:
/// KVC406, its current event its evidence, not "failed, now looks right". Whether it said so.
pub(crate) fn node_identity(cx: &Ctx, link: &mut Link) -> bool {
    let (Some(identity), Some(v)) = (cx.identity, cx.ix.vault(cx.keyvault())) else {
        return false;
    };
    if identity.tenant_id.is_empty() || identity.tenant_id.eq_ignore_ascii_case(&v.tenant_id) {
        return false;
    }
    let spc_tenant = (cx.params.as_deref())
        .and_then(|p| p.tenant_id.as_deref())
        .unwrap_or_default();
    cross_tenant(
        cx,
        link,
        Home::Node(&identity.name),
        &identity.tenant_id,
        spc_tenant,
        &v.name,
        &v.tenant_id,
    );
    true
}

/// Service-principal mode (audit XD-tenant): the application signs in with its secret at the
/// tenant `tenantID` names, and its token is issued there, whichever tenant the application
/// lives in (a multi-tenant one has a service principal in each tenant that consented it); Key
/// Vault accepts tokens of its own tenant only (FACTS §11 'Tenants', AKV10032). So a `tenantID`
/// (an id: a domain's tenant is not read) other than the vault's fails every mount, whatever the
/// Secret holds: KVC406, with the service-principal fix. Whether it said so.
pub(super) fn service_principal(cx: &Ctx, link: &mut Link) -> bool {
    let Some(spc_tenant) = (cx.params.as_deref()).and_then(|p| p.tenant_id.as_deref()) else {
        return false;
    };
    let spc_tenant = spc_tenant.trim();
    if auth_params::tenant_unusable(spc_tenant) || !crate::snapshot::is_guid(spc_tenant) {
        return false;
    }
    let Some(v) = cx.ix.vault(cx.keyvault()) else {
        return false;
    };
    if v.tenant_id.is_empty() || spc_tenant.eq_ignore_ascii_case(&v.tenant_id) {
        return false;
    }
    let AuthMode::ServicePrincipal { secret } = &cx.mode else {
        return false;
    };
    let who = format!("the application whose clientid Secret {secret} holds");
    cross_tenant(
        cx,
        link,
        Home::Signed(&who),
        spc_tenant,
        spc_tenant,
        &v.name,
        &v.tenant_id,
    );
    true
}

/// Whether a current failure of the chain is Key Vault refusing a token it did get (401
/// AKV10032: issued by another tenant than the vault's).
pub(crate) fn vault_refused_issuer(cx: &Ctx) -> bool {
    cx.events
        .iter()
        .any(|(code, e)| *code == Some(Code::KVC406) && e.type_ != "Normal")
}

/// KVC404: the SPC asks the wrong tenant; the identity's (or, unseen, the vault's) is right.
fn wrong_tenant(
    cx: &Ctx,
    link: &mut Link,
    spc_tenant: &str,
    home: Option<(&str, &str)>,
    vault: Option<(&str, &str)>,
) {
    let right = home.or(vault).map_or("", |(_, t)| t);
    let key = cx.tenant_key();
    let mut evidence = vec![format!("parameters.{key}: {spc_tenant}")];
    let message = match home {
        Some((name, t)) => {
            evidence.push(format!("identity {name} tenantId: {t}"));
            if let Some((v, vt)) = vault {
                evidence.push(format!("vault {v} tenantId: {vt}"));
            }
            format!(
                "SecretProviderClass {} asks tenant {spc_tenant} for a token of {name}, which lives in tenant {t}: Entra ID answers AADSTS700016 (application not found in the directory)",
                cx.spc_name
            )
        }
        None => {
            let (v, vt) = vault.unwrap_or_default();
            evidence.push(format!("vault {v} tenantId: {vt}"));
            format!(
                "SecretProviderClass {} has tenantID {spc_tenant} but Key Vault {v} is in tenant {vt}; the identity is not visible, so either the tenantID is wrong or the identity lives in {spc_tenant}, where it cannot reach the vault (a managed identity cannot cross tenants)",
                cx.spc_name
            )
        }
    };
    let (confirm, _) = remedy::commands(cx, Code::KVC404);
    link.findings.push(cx.finding(
        Code::KVC404,
        cx.spc_resource(),
        message,
        evidence,
        confirm,
        remedy::edit_spc(cx, &format!("parameters.{key}: {right}")),
    ));
}

/// How the identity's home tenant is known.
enum Home<'a> {
    /// The managed identity (its name) was read.
    Seen(&'a str),
    /// Unseen (`who`): Entra issued its token in the tenant asked, which Key Vault refused
    /// (AKV10032), so it lives there.
    Issued(&'a str),
    /// The node identity (its name) of useVMManagedIdentity, read: its token comes from the
    /// node's metadata endpoint, in its home tenant, whatever `tenantID` says.
    Node(&'a str),
    /// A service principal (`who`) signing in at the tenant `tenantID` names: its token is
    /// issued there.
    Signed(&'a str),
}

/// KVC406: the identity and the vault are in different tenants; no `tenantID` fixes that.
fn cross_tenant(
    cx: &Ctx,
    link: &mut Link,
    who: Home,
    home: &str,
    spc_tenant: &str,
    vault: &str,
    vault_tenant: &str,
) {
    let (subject, home_seen) = match who {
        Home::Signed(who) => (
            format!(
                "{who} signs in at tenant {home} (parameters.{})",
                cx.tenant_key()
            ),
            format!("token asked of tenant {home} (service principal)"),
        ),
        Home::Node(name) => (
            format!("node identity {name} lives in tenant {home}"),
            format!("identity {name} tenantId: {home}"),
        ),
        Home::Seen(name) => (
            format!("managed identity {name} lives in tenant {home}"),
            format!("identity {name} tenantId: {home}"),
        ),
        Home::Issued(who) => (
            format!(
                "{who} is in tenant {home} (Entra issued its token there; the identity itself is not visible)"
            ),
            format!("token issued by tenant {home} (Key Vault's 401 AKV10032)"),
        ),
    };
    let asked = if matches!(who, Home::Signed(_)) {
        "Key Vault rejects it (401 AKV10032: Invalid issuer) whatever the Secret holds".to_string()
    } else if matches!(who, Home::Node(_)) {
        format!(
            "the node's metadata endpoint issues its token in {home} whatever tenantID says, and Key Vault rejects it (401 AKV10032: Invalid issuer)"
        )
    } else if spc_tenant.eq_ignore_ascii_case(home) {
        format!(
            "the token is issued in {home} and Key Vault rejects it (401 AKV10032: Invalid issuer)"
        )
    } else if !crate::snapshot::is_guid(spc_tenant.trim()) {
        format!(
            "whichever tenant the SecretProviderClass's domain {spc_tenant} names, the token fails: issued in {home}, Key Vault rejects it (401 AKV10032: Invalid issuer), and any other tenant answers AADSTS700016"
        )
    } else {
        format!(
            "the SecretProviderClass asks tenant {spc_tenant} (AADSTS700016 there), and asking {home} instead would end in Key Vault's 401 AKV10032 (Invalid issuer)"
        )
    };
    link.findings.push(cx.finding(
        Code::KVC406,
        format!("KeyVault/{vault}"),
        format!(
            "{subject} but Key Vault {vault} is in tenant {vault_tenant}: {}, so {asked}",
            match who {
                Home::Signed(_) =>
                    "a service principal's token is issued by the tenant it signs in at",
                _ => "a managed identity cannot get tokens for another tenant",
            }
        ),
        vec![
            home_seen,
            format!("vault {vault} tenantId: {vault_tenant}"),
            format!("parameters.{}: {spc_tenant}", cx.tenant_key()),
        ],
        remedy::commands(cx, Code::KVC406).0,
        cross_tenant_fix(cx, vault_tenant),
    ));
}

/// What can reach a vault in another tenant (FACTS §11): an identity of the vault's tenant —
/// a multi-tenant app registration with a federated credential for this cluster — not a
/// managed identity of the cluster's tenant. Advice in words, so a note: pasted, it runs
/// nothing (audit Z6). In service-principal mode there is no managed identity and no
/// federated credential: the application signs in with its secret at the tenant `tenantID`
/// names, which must be one where it has a service principal — an app registration of the
/// vault's tenant, or this one made multi-tenant and consented there.
pub(crate) fn cross_tenant_fix(cx: &Ctx, vault_tenant: &str) -> String {
    let tenant_edit =
        |what: &str| remedy::edit_spc(cx, &format!("{what}{}: {vault_tenant}", cx.tenant_key()));
    if let AuthMode::ServicePrincipal { secret } = &cx.mode {
        return format!(
            "# service-principal mode: the application whose clientid Secret {secret} holds signs in with its secret at the tenant parameters.{} names, and Key Vault {} accepts tokens of its own tenant {vault_tenant} only. Use an app registration of tenant {vault_tenant} (its clientid and clientsecret in Secret {secret}), or make this one multi-tenant, consent it in tenant {vault_tenant} and grant its service principal there on the vault; then {}",
            cx.tenant_key(),
            cx.keyvault(),
            tenant_edit("parameters."),
        );
    }
    // A node identity's SPC switches to workload identity: with useVMManagedIdentity left
    // "true" the provider keeps the node identity whatever clientID says (FACTS §5).
    if let AuthMode::VmIdentity { .. } = &cx.mode {
        let home = cx.identity.map_or("", |i| i.tenant_id.as_str());
        return format!(
            "# a managed identity cannot do this: use a vault in tenant {home} (the node identity's), or a multi-tenant app registration with a federated credential (issuer {}, subject {}, audience {AUDIENCE}), consent it in tenant {vault_tenant} and grant its service principal there on the vault, then {}",
            remedy::cluster_issuer(cx),
            cx.subject(),
            tenant_edit(
                "parameters.useVMManagedIdentity: \"false\", userAssignedIdentityID removed, clientID: that app's client id, "
            )
        );
    }
    format!(
        "# a managed identity cannot do this: use a multi-tenant app registration with a federated credential (issuer {}, subject {}, audience {AUDIENCE}), consent it in tenant {vault_tenant} and grant its service principal there on the vault, then {}",
        remedy::cluster_issuer(cx),
        cx.subject(),
        tenant_edit("parameters.clientID: that app's client id, ")
    )
}
