//! Key Vault access for the chain's identity: the roles (RBAC vaults) or the access policy
//! (access-policy vaults) the SPC's objects need (FACTS §8), the commands that grant them, and
//! the principal and vault scope they name.

use super::{client_id, identity_by_client, sh_word};
use crate::chain::context::{AuthMode, Ctx};

pub(crate) fn vault_scope(cx: &Ctx) -> String {
    match cx.vault {
        Some(v) if !v.resource_id.is_empty() => v.resource_id.clone(),
        _ => format!(
            "\"$(az keyvault show -n {} --query id -o tsv)\"",
            cx.keyvault_arg()
        ),
    }
}

/// The object id of the chain's identity, as a shell word: observed, else looked up. In
/// service-principal mode (FACTS §5: the nodePublishSecretRef Secret's `clientid`) that is
/// the application's service principal, which `az identity list` (managed identities only)
/// never lists (audit T3).
pub(crate) fn principal(cx: &Ctx) -> String {
    principal_of_app(cx, None)
}

/// [`principal`], with `app` the application id a 403 named (`appid=…`, FACTS §5) to look the
/// service principal up by when the Secret's is not known.
pub(crate) fn principal_of_app(cx: &Ctx, app: Option<&str>) -> String {
    if let AuthMode::ServicePrincipal { secret } = &cx.mode {
        let app = app.map_or_else(|| secret_client_id(cx, secret), str::to_string);
        return format!("\"$({} --query id -o tsv)\"", sp_show(&app));
    }
    cx.identity.map_or_else(
        || identity_by_client(&client_id(cx), "principalId"),
        |i| i.principal_id.clone(),
    )
}

/// `az ad sp show` of the application `app` (a shell word): its service principal.
fn sp_show(app: &str) -> String {
    format!("az ad sp show --id {app}")
}

/// In service-principal mode, `az ad sp show` of the application whose `clientid` the
/// nodePublishSecretRef Secret holds (FACTS §5), read when pasted (the caller adds the
/// query); `None` in the other modes, whose identity is a managed identity.
pub(crate) fn service_principal_show(cx: &Ctx) -> Option<String> {
    let AuthMode::ServicePrincipal { secret } = &cx.mode else {
        return None;
    };
    Some(sp_show(&secret_client_id(cx, secret)))
}

/// `command` of `principal` (a shell word), run only when it is not empty: a principal looked
/// up when pasted (a command substitution) is read into `$PRINCIPAL` and tested first, so
/// nothing is granted to an empty object id when the lookup finds nothing (audit V4, as the
/// T1/T2 lookups are guarded).
pub(crate) fn with_principal(principal: &str, command: impl Fn(&str) -> String) -> String {
    if principal.starts_with("\"$(") {
        format!(
            "PRINCIPAL={principal} && [ -n \"$PRINCIPAL\" ] && {}",
            command("\"$PRINCIPAL\"")
        )
    } else {
        command(principal)
    }
}

/// The `clientid` of Secret `name` (the chain's namespace) as a quoted command substitution:
/// kvchain keeps only its fingerprint. The key as the Secret spells it (the provider matches
/// it case-insensitively, FACTS §5); an application id, not a secret value, and it goes only
/// into the next command's arguments.
pub(crate) fn secret_client_id(cx: &Ctx, name: &str) -> String {
    format!(
        "\"$(kubectl get secret {} -n {} -o jsonpath='{{.data.{}}}' | base64 -d)\"",
        sh_word(name),
        cx.ns(),
        secret_key(cx, name, "clientid")
    )
}

/// `key` as Secret `name` of the chain's namespace spells it, else as given.
pub(crate) fn secret_key<'a>(cx: &'a Ctx, name: &str, key: &'a str) -> &'a str {
    (cx.snap().secret(cx.ns(), name))
        .and_then(|s| s.data.keys().find(|k| k.eq_ignore_ascii_case(key)))
        .map_or(key, String::as_str)
}

/// What shows `principal`'s roles on the vault and the vault's model and access policies. `az
/// role assignment list --scope` lists the assignments made at that very scope unless
/// `--include-inherited` adds those above it (resource group, subscription, root); the ones
/// below it, on the SPC's objects (FACTS §8), are listed at each object's own scope (audit
/// CC3: the vault-only list hid the grants a finding names).
pub(crate) fn access_confirm(cx: &Ctx, principal: &str) -> String {
    let scope = vault_scope(cx);
    let mut lists = vec![format!(
        "az role assignment list --assignee {principal} --scope {scope} --include-inherited -o table"
    )];
    if cx.vault.is_none_or(|v| v.rbac) {
        let mut objects: Vec<(&str, &str)> = (cx.params.as_deref())
            .map(|p| {
                (p.objects.iter())
                    .filter_map(|o| Some((o.object_type?.collection(), o.object_name.as_str())))
                    .collect()
            })
            .unwrap_or_default();
        objects.sort_unstable();
        objects.dedup();
        lists.extend(objects.iter().map(|(collection, name)| {
            format!(
                "az role assignment list --assignee {principal} --scope {scope}/{collection}/{} -o table",
                sh_word(name)
            )
        }));
    }
    if let Some(v) = cx.vault.filter(|v| v.rbac && !v.resource_id.is_empty())
        && unlisted_grant(cx, v, principal)
    {
        lists.push(format!(
            "{} --query \"value[?properties.principalId=='{principal}'].{{scope:properties.scope,role:properties.roleDefinitionId}}\" -o table",
            vault_assignments(&v.resource_id)
        ));
    }
    format!(
        "{} ; az keyvault show -n {} --query \"{{rbac:properties.enableRbacAuthorization,policies:properties.accessPolicies}}\"",
        lists.join(" ; "),
        cx.keyvault_arg()
    )
}

/// ARM's own listing at the vault: every assignment that applies there (management groups
/// included) or below it, where `az role assignment list --include-inherited` matches parent
/// scopes by path prefix and so leaves management groups out (audit EE3).
pub(crate) fn vault_assignments(vault_id: &str) -> String {
    format!(
        "az rest --method get --url \"{vault_id}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01\""
    )
}

/// Whether `principal` holds an assignment the `az role assignment list` lines above would not
/// show: at a management group, or on an object of the vault the SPC does not name.
fn unlisted_grant(cx: &Ctx, v: &crate::snapshot::VaultObs, principal: &str) -> bool {
    let named = |scope: &str| {
        (cx.params.as_deref()).is_some_and(|p| {
            p.objects.iter().any(|o| {
                o.object_type.is_some_and(|t| {
                    scope.trim_end_matches('/').eq_ignore_ascii_case(&format!(
                        "{}/{}/{}",
                        v.resource_id.trim_end_matches('/'),
                        t.collection(),
                        o.object_name
                    ))
                })
            })
        })
    };
    cx.ix.assignments(principal).any(|a| {
        crate::snapshot::is_management_group(&a.scope)
            || (crate::chain::rules::access::under(&a.scope, &v.resource_id)
                && !a
                    .scope
                    .trim_end_matches('/')
                    .eq_ignore_ascii_case(v.resource_id.trim_end_matches('/'))
                && !named(&a.scope))
    })
}

/// The roles the SPC's objects need (one per object type; `only` narrows to one type, e.g.
/// the type a 403 names). Secrets User when nothing says otherwise.
pub(crate) fn roles_needed(
    cx: &Ctx,
    only: Option<crate::snapshot::ObjectType>,
) -> Vec<&'static str> {
    let mut roles: Vec<&'static str> = match only {
        Some(t) => vec![role_for(t)],
        None => cx
            .params
            .as_deref()
            .map(|p| {
                p.objects
                    .iter()
                    .filter_map(|o| o.object_type)
                    .map(role_for)
                    .collect()
            })
            .unwrap_or_default(),
    };
    fewest_roles(&mut roles);
    if roles.is_empty() {
        roles.push(role_for(crate::snapshot::ObjectType::Secret));
    }
    roles
}

/// `roles` sorted, without repeats, and without Secrets User beside Certificate User: the
/// latter's data actions include all of the former's (getSecret, readMetadata; FACTS §8), so
/// a second assignment would grant nothing the first does not (audit III1: an SPC reading a
/// secret and a key or cert got both).
pub(crate) fn fewest_roles(roles: &mut Vec<&str>) {
    use crate::snapshot::ObjectType;
    roles.sort_unstable();
    roles.dedup();
    if roles.contains(&role_for(ObjectType::Cert)) {
        roles.retain(|r| *r != role_for(ObjectType::Secret));
    }
}

/// `az role assignment create` of each role for the chain's identity on the vault.
pub(crate) fn grant_roles(cx: &Ctx, roles: &[&str]) -> String {
    if roles.is_empty() {
        return String::new();
    }
    with_principal(&principal(cx), |who| grant_roles_to(cx, who, roles))
}

/// `az role assignment create` of each role for `principal` (a shell word) on the vault. The
/// vault's id not observed, it is looked up first into `VAULT_ID` and the line stops when the
/// lookup prints nothing (the vault in a subscription az is not set to): as an argument,
/// `--scope ""` is no scope, and az then assigns at its current subscription (azure-cli
/// `role/custom.py`, `_build_role_scope`: an empty scope is the subscription's), granting the
/// role on every vault there (audit XE-paste).
pub(crate) fn grant_roles_to(cx: &Ctx, principal: &str, roles: &[&str]) -> String {
    let known = cx.vault.filter(|v| !v.resource_id.is_empty());
    let scope = known.map_or("\"$VAULT_ID\"", |v| v.resource_id.as_str());
    let grants = (roles.iter())
        .map(|role| {
            format!(
                "az role assignment create --assignee-object-id {principal} --assignee-principal-type ServicePrincipal --role \"{role}\" --scope {scope}"
            )
        })
        .collect::<Vec<_>>()
        .join(" && ");
    if known.is_some() || roles.is_empty() {
        return grants;
    }
    let lookup = super::looked_up(
        "VAULT_ID",
        &format!(
            "az keyvault show -n {} --query id -o tsv",
            cx.keyvault_arg()
        ),
        "az keyvault show printed no id of the Key Vault: az account set to the subscription of the vault",
    );
    format!("{lookup} && {grants}")
}

/// What lets `principal` (a shell word) read the SPC's objects, in the vault's permission
/// model: the roles on an Azure RBAC vault, an access policy on an access-policy vault (role
/// assignments are ignored there, FACTS §8). When the model is not known (manifests, a vault
/// not observed), one shell command that asks the vault its `enableRbacAuthorization` (tsv
/// prints `true`; `false` or empty is access policies) and runs the grant that model reads.
pub(crate) fn grant_read(cx: &Ctx, principal: &str) -> String {
    grant_read_as(cx, principal, None, None)
}

/// [`grant_read`] narrowed to object type `only` (the type a 403 names), and in model
/// `rbac` (what a 403's own words say, `events::denied_by_rbac`) when the vault is not
/// observed: the vault observed is the present, an event is history.
pub(crate) fn grant_read_as(
    cx: &Ctx,
    principal: &str,
    only: Option<crate::snapshot::ObjectType>,
    rbac: Option<bool>,
) -> String {
    with_principal(principal, |principal| {
        grant_read_in_model(cx, principal, only, rbac)
    })
}

/// [`grant_read_as`] of a principal known not to be empty.
fn grant_read_in_model(
    cx: &Ctx,
    principal: &str,
    only: Option<crate::snapshot::ObjectType>,
    rbac: Option<bool>,
) -> String {
    let kv = &*cx.keyvault_arg();
    let roles = || grant_roles_to(cx, principal, &roles_needed(cx, only));
    let policy = || set_policy(cx, kv, principal, &types_needed(cx, only));
    let observed = cx.vault.or_else(|| {
        (cx.params.as_deref())
            .and_then(|p| p.keyvault_name.as_deref())
            .and_then(|k| cx.ix.vault(k))
    });
    match observed.map(|v| v.rbac).or(rbac) {
        Some(true) => roles(),
        Some(false) => policy(),
        None => format!(
            "if [ \"$(az keyvault show -n {kv} --query properties.enableRbacAuthorization -o tsv)\" = true ]; then {}; else {}; fi",
            roles(),
            policy()
        ),
    }
}

/// The object types the SPC reads (`only` narrows to one, e.g. the type a 403 names); a
/// secret when nothing says otherwise.
pub(crate) fn types_needed(
    cx: &Ctx,
    only: Option<crate::snapshot::ObjectType>,
) -> Vec<crate::snapshot::ObjectType> {
    let mut types: Vec<crate::snapshot::ObjectType> = match only {
        Some(t) => vec![t],
        None => cx
            .params
            .as_deref()
            .map(|p| p.objects.iter().filter_map(|o| o.object_type).collect())
            .unwrap_or_default(),
    };
    types.sort_unstable_by_key(|t| t.as_str());
    types.dedup();
    if types.is_empty() {
        types.push(crate::snapshot::ObjectType::Secret);
    }
    types
}

/// An access policy (access-policy vaults) with `get` on exactly `types`: the provider reads
/// nothing else (FACTS §8). `set-policy` replaces the principal's permissions of each type it
/// is given (azure-cli `set_policy`), so each keeps those the principal already holds there.
pub(crate) fn set_policy(
    cx: &Ctx,
    vault: &str,
    principal: &str,
    types: &[crate::snapshot::ObjectType],
) -> String {
    let flags: Vec<String> = types
        .iter()
        .map(|&t| policy_flag(cx, vault, principal, t, "get"))
        .collect();
    format!(
        "az keyvault set-policy -n {vault} --object-id {principal} {}",
        flags.join(" ")
    )
}

/// `--<type>-permissions …` for `set-policy`: the permissions of type `t` the policies of
/// `principal` on `vault` hold, plus `add`, plus `list` when the SecretProviderClass reads an
/// object of that type with objectVersionHistory (the provider lists its versions, FACTS §5).
pub(crate) fn policy_flag(
    cx: &Ctx,
    vault: &str,
    principal: &str,
    t: crate::snapshot::ObjectType,
    add: &str,
) -> String {
    let held = (cx.vault.iter())
        .filter(|v| v.name.eq_ignore_ascii_case(vault))
        .flat_map(|v| &v.access_policies)
        .filter(|a| a.object_id.eq_ignore_ascii_case(principal))
        .flat_map(|a| a.permissions(t))
        .map(String::as_str);
    let mut perms: Vec<&str> = Vec::new();
    for x in held
        .chain(Some(add))
        .chain(lists_versions(cx, t).then_some("list"))
    {
        if !perms.iter().any(|p| p.eq_ignore_ascii_case(x)) {
            perms.push(x);
        }
    }
    permissions_flag(t, &perms)
}

/// Whether the SecretProviderClass reads an object of type `t` with objectVersionHistory, so
/// that the provider lists its versions first (FACTS §5).
pub(crate) fn lists_versions(cx: &Ctx, t: crate::snapshot::ObjectType) -> bool {
    (cx.params.as_deref()).is_some_and(|p| p.version_listed(t).next().is_some())
}

/// `set-policy`'s `--<type>-permissions` flag with `perms`.
pub(crate) fn permissions_flag(t: crate::snapshot::ObjectType, perms: &[&str]) -> String {
    use crate::snapshot::ObjectType;
    let flag = match t {
        ObjectType::Secret => "--secret-permissions",
        ObjectType::Key => "--key-permissions",
        ObjectType::Cert => "--certificate-permissions",
    };
    format!("{flag} {}", perms.join(" "))
}

/// The principal's access policy on an access-policy vault.
pub(crate) fn policy_confirm(vault: &str, principal: &str) -> String {
    format!(
        "az keyvault show -n {vault} --query \"properties.accessPolicies[?objectId=='{principal}']\""
    )
}

pub(crate) fn role_for(t: crate::snapshot::ObjectType) -> &'static str {
    match t {
        crate::snapshot::ObjectType::Secret => "Key Vault Secrets User",
        _ => "Key Vault Certificate User",
    }
}

/// A Key Vault 403 that names deny assignment `id` (FACTS §5: the RBAC deny's
/// `DenyAssignmentId`, `null` when none refused): a deny assignment takes precedence over role
/// assignments, so no role grant helps, and waiting does not either (audit CC6). kvchain reads
/// no deny assignments: the finding names it, the command that shows it, and where it is
/// changed — deny assignments are made by the service that manages their scope (a deployment
/// stack, a managed application, Azure Blueprints), not with `az role assignment`.
pub(crate) fn deny_assigned(
    cx: &Ctx,
    f: &mut crate::chain::model::Finding,
    id: &str,
    message: &str,
) {
    f.message = format!(
        "Key Vault {} refused the read through deny assignment {id} (the 403 names it): a deny assignment blocks the actions it lists whatever role assignments grant, so no role fixes this and the next attempt fails the same way",
        cx.keyvault()
    )
    .into();
    f.confirm = deny_confirm(id).into();
    f.fix = format!("# {}", deny_fix(cx, id, message)).into();
}

/// A KVC501/KVC502 whose current 403 names deny assignment `id` (audit EE2): the grant the
/// finding gives is needed, but changes nothing while the deny assignment covers the
/// identity (FACTS §5: the body names the deny assignment that refused), so the finding says
/// the deny assignment first, confirms it with its own read, and the fix's note names where
/// it is changed beside the grant.
pub(crate) fn deny_before_grant(
    cx: &Ctx,
    f: &mut crate::chain::model::Finding,
    id: &str,
    message: &str,
) {
    if f.message.contains(id) {
        return;
    }
    f.message = format!(
        "deny assignment {id} refuses the read (the 403 names it), and a grant alone will not do while it stands; beside it, {}",
        f.message
    )
    .into();
    f.confirm = format!("{} ; {}", deny_confirm(id), f.confirm).into();
    f.fix = format!(
        "{}  # the grant changes nothing until the deny assignment no longer covers the identity — first: {}",
        f.fix,
        deny_fix(cx, id, message)
    )
    .into();
}

/// The read of deny assignment `id`: what it denies, to whom, and whom it excludes.
fn deny_confirm(id: &str) -> String {
    format!(
        "az rest --method get --url \"{id}?api-version=2022-04-01\" --query \"{{name:properties.denyAssignmentName,denied:properties.permissions,principals:properties.principals,excluded:properties.excludePrincipals,protected:properties.isSystemProtected}}\""
    )
}

/// Where deny assignment `id` is changed (words, for a note): by the service that made it.
fn deny_fix(cx: &Ctx, id: &str, message: &str) -> String {
    let who = crate::chain::events::caller(message)
        .1
        .map_or_else(|| principal(cx), str::to_string);
    format!(
        "deny assignment {id} is changed only where it was made (the deployment stack, managed application or blueprint that manages its scope): exclude principal {who} there (its excludePrincipals), or read from a vault outside its scope"
    )
}
