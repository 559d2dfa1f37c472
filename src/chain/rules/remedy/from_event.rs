//! Findings known only from an event: the objects they concern may be unobservable (the
//! Azure side unknown), so the event's message names what it can (the object type a 403 was
//! refused for, the tenants of an AKV10032, the presented issuer of an AADSTS70021) and the
//! rest are the code's default commands.

use super::*;
use crate::snapshot::EventObs;

/// KVC704's confirm and fix, from the event that showed the 429: the events of its reason (a
/// failed rotation is `MountRotationFailed`, not `FailedMount`), and what relieves the vault
/// ([`throttling::fix`]).
fn throttling_commands(cx: &Ctx, e: &EventObs) -> (String, String) {
    let mut confirm = format!(
        "kubectl get events -n {} --field-selector reason={}",
        cx.ns(),
        e.reason
    );
    if e.reason == "FailedMount" {
        confirm = format!("{confirm}  # {}", throttling::ROTATION_429S);
    }
    (confirm, throttling::fix(cx))
}

/// The provider the chain's SPC is for, as a text: its `spec.provider` as written when the SPC
/// is another provider's (vault, aws…), else `Azure`.
fn provider_name(cx: &Ctx) -> String {
    match cx.spc {
        Some(s) if crate::chain::rules::provider::is_other(cx) => {
            crate::shown::shown(&s.provider).into_owned()
        }
        _ => "Azure".to_string(),
    }
}

/// A finding known only from an event (the objects it concerns may be unobservable).
pub(crate) fn from_event(cx: &Ctx, code: Code, e: &EventObs, evidence: String) -> Finding {
    use Code::*;
    if code == KVC709 {
        return crate::chain::rules::mount::status_crd::from_event(cx, e, evidence);
    }
    // Each code whose event names more than the defaults (KVC501's caller and object type, a
    // 429's reason, a message's size) makes both commands from it: the defaults are made only
    // for the others (they were made and dropped for each replica's 403, ~8,700 instructions).
    let (mut confirm, mut fix) = match code {
        KVC501 => {
            // The 403 names the object type it was refused for, and its words the vault's
            // permission model (FACTS §5: `ForbiddenByRbac` or `AccessDenied`): grant what that
            // type needs in that model (FACTS §8: roles are ignored on an access-policy vault).
            // The 403 names its caller (FACTS §5, `appid=…;oid=…`): its object id is the
            // principal to grant, in any mode; else the application's service principal
            // (audit T3).
            let (app, oid) = events::caller(&e.message);
            let who = oid.map_or_else(|| principal_of_app(cx, app), str::to_string);
            let fix = grant_read_as(
                cx,
                &who,
                events::object_type(&e.message),
                events::denied_by_rbac(&e.message),
            );
            (access_confirm(cx, &who), fix)
        }
        KVC704 => throttling_commands(cx, e),
        KVC708 => message_size::commands(cx, Some(&e.message)),
        _ => commands(cx, code),
    };
    // The event that proves a failed sync is the one to list: an existing Secret's failed
    // patch is the rotation reconciler's SecretRotationFailed, not the controller's
    // FailedToCreateSecret (FACTS §3).
    if code == KVC806 {
        // A docker-config Secret's patch the API server refuses for its value: the vault's
        // value is the fix, as a remount fetches it again (audit NNN5).
        if let Some(f) = crate::chain::rules::sync::refused_patch(cx, e, evidence.clone()) {
            return f;
        }
        confirm = by_code::sync_failure_confirm(cx.ns(), &super::sh_word(&e.reason));
    }
    // Another provider's SPC (vault, aws…): its provider is not the Azure add-on's or chart's
    // to install; what kvchain can say is where to look on the node.
    if code == KVC104 && crate::chain::rules::provider::is_other(cx) {
        let name = provider_name(cx);
        let grep = format!(
            "grep -i -e secrets-store -e {}",
            crate::chain::rules::remedy::sh_word(&name)
        );
        let (on, node) = match cx.pod.node.as_deref() {
            Some(node) => (
                format!(" --field-selector spec.nodeName={node}"),
                format!("node {node}"),
            ),
            // The pod's node is not known (audit III7: `spec.nodeName=<node>` was a
            // redirection bash refused): the event's source is the kubelet of the node that
            // tried the mount, and the driver's and provider's pods are listed with theirs.
            None => (
                String::new(),
                format!(
                    "the node whose kubelet reported this {} (the SOURCE column of the events)",
                    e.reason
                ),
            ),
        };
        confirm = format!("kubectl get pods -A -o wide{on} | {grep}");
        if cx.pod.node.is_none() {
            let about = match cx.template {
                true => String::new(),
                false => format!("involvedObject.name={},", super::sh_word(&cx.pod.name)),
            };
            confirm = format!(
                "kubectl get events -n {} --field-selector {about}reason={} -o wide && {confirm}",
                cx.ns(),
                super::sh_word(&e.reason)
            );
        }
        fix = format!(
            "# the {name} provider (its own DaemonSet, not the Azure provider's) must run on {node} and register with the driver: see why its pod there is missing or not ready"
        );
    }
    // AKV10032 names the vault's tenant (`Expected one of https://sts.windows.net/<t>/`):
    // the fix's consent and tenantID then name it too.
    if code == KVC406
        && cx.vault.is_none()
        && let Some(t) = events::sts_tenant(&e.message, "Expected one of ")
    {
        fix = crate::chain::rules::federation::cross_tenant_fix(cx, t);
    }
    if matches!(code, KVC505 | KVC506)
        && let Some(u) = events::unreached_vault(&e.message)
    {
        let (resource, message, confirm, fix) =
            network::unreached(cx, code, u, network::failing_since(e));
        return cx.finding(code, resource, message, vec![evidence], confirm, fix);
    }
    // The kubelet's deadline names no host: the request went to the SPC's vault (audit O4).
    if matches!(code, KVC505 | KVC506)
        && events::mount_deadline(&e.message)
        && let Some((vault, host)) = network::spc_vault_host(cx)
    {
        let u = events::VaultUnreached {
            host: &host,
            vault: &vault,
            how: events::Unreached::MountDeadline,
        };
        let (resource, message, confirm, fix) =
            network::unreached(cx, code, u, network::failing_since(e));
        return cx.finding(code, resource, message, vec![evidence], confirm, fix);
    }
    // Service-principal mode: a key the provider misses is the Secret's fault, not the SPC's.
    if code == KVC302
        && let Some(f) = crate::chain::rules::sp_secret::from_event(cx, e, &evidence)
    {
        return f;
    }
    // Node identity mode: the node's metadata endpoint refused userAssignedIdentityID's
    // identity (the requested identity isn't assigned to this resource).
    if code == KVC301 && matches!(cx.mode, crate::chain::context::AuthMode::VmIdentity { .. }) {
        return crate::chain::rules::node_identity::from_event(cx, evidence);
    }
    // An object the vault cannot serve, named by the provider's per-object wrapper: its own
    // confirm and fix, not the generic ones (audit WW1).
    if matches!(code, KVC601 | KVC602)
        && let Some(f) =
            crate::chain::rules::vault_object::from_event(cx, code, e, evidence.clone())
    {
        return f;
    }
    let spc = cx.spc_resource();
    let (resource, message) = match code {
        KVC101 => (spc, format!("the driver cannot find SecretProviderClass {} in namespace {}", cx.spc_name, cx.ns())),
        KVC103 => (cx.owner_resource(), format!("the driver rejects volume {}: readOnly is not true", cx.volume.name)),
        KVC104 => (CSIDRIVER.to_string(), format!("the Secrets Store CSI driver (or its {} provider) is not available on node {}, where pod {} runs", provider_name(cx), cx.pod.node.as_deref().unwrap_or("(unknown)"), cx.pod.name)),
        KVC105 => {
            let audience = events::token_audience(&e.message)
                .or_else(|| token_audience(cx))
                .unwrap_or(AUDIENCE);
            // The audience the event names, which the add-on's text must name too.
            fix = audience::token_requests_fix_for(cx, Some(audience));
            (CSIDRIVER.to_string(), format!("the driver got no service-account token for {audience}: the CSIDriver has no tokenRequests for it"))
        }
        KVC301 => {
            let tenant = events::directory(&e.message).unwrap_or("the SecretProviderClass tenantID");
            let why = match cluster_tenant(cx) {
                // `rules::resolve` made a tenant other than the cluster's KVC404.
                Some(home) => format!("tenant {tenant} is the cluster's ({home}), so the clientID is the likely fault"),
                None => {
                    // Which one is wrong cannot be told: offer both edits.
                    fix = format!(
                        "{fix}  — or, if the identity lives in another tenant: {}",
                        edit_spc(cx, &format!("parameters.{}: the identity's tenantId ({})", cx.tenant_key(), super::identity_list(&client_id(cx), ".tenantId\" -o tsv")))
                    );
                    "either no identity has this clientID, or it lives in another tenant and tenantID is wrong; kvchain sees neither the identities nor the cluster's tenant to tell which".to_string()
                }
            };
            (
                format!("ManagedIdentity/{}", client_id(cx)),
                format!(
                    "Entra ID tenant {tenant} has no application with clientID {} (AADSTS700016): {why}",
                    client_id(cx)
                ),
            )
        }
        KVC302 => (spc, "the provider rejected the SecretProviderClass parameters".to_string()),
        KVC401 => {
            let seen = events::assertion(&e.message, "Subject").unwrap_or_else(|| cx.subject());
            (
                format!("ManagedIdentity/{}", cx.identity.map_or_else(|| client_id(cx), |i| i.name.clone())),
                format!("token exchange rejected: no federated credential on clientID {} matches subject {seen}", client_id(cx)),
            )
        }
        KVC402 => (
            format!("ManagedIdentity/{}", cx.identity.map_or_else(|| client_id(cx), |i| i.name.clone())),
            format!("token exchange rejected: no federated credential on clientID {} has the cluster's issuer", client_id(cx)),
        ),
        KVC404 => {
            let asked = events::directory(&e.message).map_or_else(
                || "the tenant in the SecretProviderClass".to_string(),
                |t| format!("tenant {t}"),
            );
            let home = match (cx.identity, cluster_tenant(cx)) {
                (Some(i), _) => format!(": {} lives in tenant {}", i.name, i.tenant_id),
                // FACTS §11: AADSTS700016 at another tenant's endpoint: the identity exists.
                (None, Some(t)) => format!(
                    ": the cluster (and, as a rule, its managed identities) is in tenant {t}, so the SecretProviderClass {} is the likely fault",
                    cx.tenant_key()
                ),
                (None, None) => String::new(),
            };
            // Service-principal mode: the application is the Secret's clientid (FACTS §5).
            let client = match &cx.mode {
                crate::chain::context::AuthMode::ServicePrincipal { secret } => {
                    format!("the application whose clientid Secret {secret} holds")
                }
                _ => format!("clientID {}", client_id(cx)),
            };
            (spc, format!("token exchange rejected: {asked} does not know {client}{home}"))
        }
        KVC405 => {
            let p = events::presented(&e.message);
            let proven = p.as_ref().map_or_else(String::new, |p| {
                let issuer = match cx.cluster().oidc_issuer.known() {
                    Some(i) if *i == p.issuer => " (the cluster's OIDC issuer)",
                    Some(_) => " (NOT the cluster's OIDC issuer)",
                    None => "",
                };
                let subject = if p.subject == cx.subject() { " (this pod's service account)" } else { "" };
                format!(
                    "; the message proves the token carried issuer {}{issuer}, subject {}{subject} and audience {}",
                    p.issuer, p.subject, p.audience
                )
            });
            // The credentials compared when known (FACTS §11); identity binding's own (§5).
            let compared = binding::compared(cx, p.as_ref());
            if let Some(f) = binding::fix(cx) {
                fix = f;
            }
            (
                format!("ManagedIdentity/{}", cx.identity.map_or_else(|| client_id(cx), |i| i.name.clone())),
                format!(
                    "token exchange rejected (AADSTS70021): no federated credential on clientID {} matches issuer, subject and audience together{proven}{compared}",
                    client_id(cx)
                ),
            )
        }
        KVC406 => {
            // `Expected one of https://sts.windows.net/<vault tenant>/, …, found …/<token's>/`
            let tenants = match (
                events::sts_tenant(&e.message, "Expected one of "),
                events::sts_tenant(&e.message, "found "),
            ) {
                (Some(v), Some(t)) => format!(" (vault tenant {v}, token from tenant {t})"),
                _ => String::new(),
            };
            (
                format!("KeyVault/{}", cx.keyvault()),
                format!(
                    "Key Vault {} rejects the token: it was issued by another tenant than the vault's{tenants} (401 AKV10032 Invalid issuer); {}",
                    cx.keyvault(),
                    // A service principal is no managed identity: its token is the tenant's it
                    // signs in at (audit XD-tenant).
                    match cx.mode {
                        crate::chain::context::AuthMode::ServicePrincipal { .. } => format!(
                            "a service principal's token is issued by the tenant it signs in at (parameters.{})",
                            cx.tenant_key()
                        ),
                        _ => "a managed identity cannot get tokens for another tenant".to_string(),
                    }
                ),
            )
        }
        KVC501 => (
            format!("KeyVault/{}", cx.keyvault()),
            match crate::chain::rules::access::held_on_vault(cx) {
                Some(held) => format!("Key Vault {} denied the read (403): {held}", cx.keyvault()),
                None => format!("Key Vault {} denied the read (403): no role or access policy the identity holds allows it", cx.keyvault()),
            },
        ),
        // Public access off (the vault as read, else its 403's own code): no network rule
        // admits anything then, only a private endpoint (audit R5).
        KVC505 if !network::public_access_on(cx) => (
            format!("KeyVault/{}", cx.keyvault()),
            format!("Key Vault {} has public network access disabled and refused the request: only a private endpoint reaches it (its firewall and network rules are ignored while public access is off)", cx.keyvault()),
        ),
        KVC505 => (format!("KeyVault/{}", cx.keyvault()), format!("Key Vault {} firewall / network rules refused the request", cx.keyvault())),
        KVC601 => (format!("KeyVault/{}", cx.keyvault()), format!("an object of SecretProviderClass {} is not in Key Vault {}", cx.spc_name, cx.keyvault())),
        KVC602 => (format!("KeyVault/{}", cx.keyvault()), format!("an object of SecretProviderClass {} is disabled in Key Vault {}", cx.spc_name, cx.keyvault())),
        // Rotation off: no poll reads the objects again (FACTS §4), only new mounts do.
        KVC704 if rotation_off(cx) => {
            let l = throttling::Load::of(cx);
            (
                format!("KeyVault/{}", cx.keyvault()),
                format!(
                    "Key Vault {} is throttling requests (429): SecretProviderClass {} reads {} per wave of mounts ({}); rotation is off now, so no poll reads them again",
                    cx.keyvault(),
                    cx.spc_name,
                    crate::glance::plural(l.per_poll(), "object"),
                    l.pods_x_objects(),
                ),
            )
        }
        KVC704 => {
            let l = throttling::Load::of(cx);
            (
                format!("KeyVault/{}", cx.keyvault()),
                format!(
                    "Key Vault {} is throttling requests (429): SecretProviderClass {} reads {} per poll ({}), about {}/day ({}/day at {}s)",
                    cx.keyvault(),
                    cx.spc_name,
                    crate::glance::plural(l.per_poll(), "object"),
                    l.pods_x_objects(),
                    crate::glance::plural(l.per_day() as usize, "read"),
                    crate::glance::plural(l.polls_per_day() as usize, "poll"),
                    l.poll.as_secs()
                ),
            )
        }
        KVC705 => (spc, "the provider rejected the objects of the SecretProviderClass".to_string()),
        KVC708 => (spc, message_size::message(cx, &e.message)),
        KVC801 => (spc, "the driver cannot build the synced Secret: a secretObjects objectName matches no mounted file".to_string()),
        KVC806 => (spc, "the driver failed to create or update the synced Secret".to_string()),
        KVC106 => (cx.owner_resource(), format!("{} cannot create its pods: admission refused them (message in evidence)", cx.owner_resource())),
        KVC107 => (format!("Pod/{}", cx.pod.name), format!("pod {} is not scheduled: kube-scheduler finds no node that fits it (message in evidence)", cx.pod.name)),
        KVC701 => (format!("Pod/{}", cx.pod.name), format!("volume {} fails to mount for a reason no rule explains (message verbatim in evidence)", cx.volume.name)),
        other => (spc, other.title().to_string()),
    };
    cx.finding(code, resource, message, vec![evidence], confirm, fix)
}
