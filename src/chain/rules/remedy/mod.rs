//! Confirm and fix commands with the chain's real names, per code. Rules with more context
//! (an object name, a nearest subject) write their own; these are the defaults, and what
//! event-only findings (Azure side unknown) use.

use crate::chain::catalog::Code;
use crate::chain::context::{Ctx, resource_group};
use crate::chain::events;
use crate::chain::model::Finding;
use crate::snapshot::{DriverInstall, EventObs};

mod audience;
mod by_code;
mod driver_install;
mod federated_credential;
pub(crate) mod network;
mod paused;
mod restart;
mod rotation;
mod tenant;
mod throttling;
mod workload_identity;

pub(crate) use audience::{AUDIENCE, audiences_needed, token_audience, token_requests_fix};
pub(crate) use by_code::{commands, rotation_stuck_fix};
pub(crate) use driver_install::install_fix;
pub(crate) use federated_credential::fic_create;
pub(crate) use paused::rolled;
pub(crate) use restart::{restart, restart_pod, restart_sa_runners};
pub(crate) use rotation::DRIVER_LOG;
pub(crate) use tenant::{home_tenant, tenant_key_to_edit};
pub(crate) use workload_identity::switch_to_workload_identity;

pub(crate) const CSIDRIVER: &str = "CSIDriver/secrets-store.csi.k8s.io";

pub(super) const HELM_DRIVER: &str = "helm upgrade csi-secrets-store secrets-store-csi-driver/secrets-store-csi-driver -n kube-system --reuse-values";

/// `-g <resource group> -n <cluster>` of `az aks` commands: what the snapshot knows (the lab's
/// Cluster), else the shell variables `$CLUSTER_RG` / `$CLUSTER` for the user to set.
pub(crate) fn aks_args(cx: &Ctx) -> String {
    format!("-g {} -n {}", aks_rg(cx), aks_name(cx))
}

/// The AKS cluster's resource group, else `"$CLUSTER_RG"`.
pub(crate) fn aks_rg(cx: &Ctx) -> String {
    cx.cluster().resource_group.as_deref().map_or_else(
        || "\"$CLUSTER_RG\"".to_string(),
        |g| sh_word(g).into_owned(),
    )
}

/// The AKS cluster's name, else `"$CLUSTER"`.
pub(crate) fn aks_name(cx: &Ctx) -> String {
    cx.cluster()
        .name
        .as_deref()
        .map_or_else(|| "\"$CLUSTER\"".to_string(), |n| sh_word(n).into_owned())
}

/// The AKS node pool of a node name (`aks-<pool>-<id>-vmss<n>`).
pub(crate) fn node_pool(node: &str) -> Option<&str> {
    let mut parts = node.strip_prefix("aks-")?.split('-');
    let pool = parts.next()?;
    parts.next_back()?.starts_with("vmss").then_some(pool)
}

/// A service account of the pod's namespace annotated with the SPC's clientID.
fn annotated_sa<'a>(cx: &Ctx<'a>) -> Option<&'a str> {
    let client = cx.params.as_deref()?.client_id.as_deref()?;
    cx.snap()
        .service_accounts
        .items
        .iter()
        .find(|sa| {
            sa.namespace == cx.ns()
                && sa
                    .annotations
                    .get("azure.workload.identity/client-id")
                    .map(String::as_str)
                    == Some(client)
        })
        .map(|sa| sa.name.as_str())
}

/// How the driver was installed, when the source saw its DaemonSet.
pub(crate) fn install(cx: &Ctx) -> Option<DriverInstall> {
    cx.cluster().csi_driver.known().and_then(|c| c.install)
}

/// The command that changes a driver flag: the add-on's `az aks addon update` flags, or the
/// Helm chart's values; both when the install method is not known.
pub(crate) fn driver_setting(cx: &Ctx, addon_flags: &str, helm_values: &str) -> String {
    let addon = format!(
        "az aks addon update {} -a azure-keyvault-secrets-provider {addon_flags}",
        aks_args(cx)
    );
    let helm = format!("{HELM_DRIVER} --set {helm_values}");
    match install(cx) {
        Some(DriverInstall::AksAddon) => addon,
        Some(DriverInstall::Helm) => helm,
        None => format!("{addon}  # AKS add-on; with Helm: {helm}"),
    }
}

/// `-g <rg>` of the identity when known, else a shell variable the user fills in.
pub(crate) fn identity_rg(cx: &Ctx) -> String {
    cx.identity
        .and_then(|i| resource_group(&i.resource_id))
        .map_or_else(|| "\"$IDENTITY_RG\"".to_string(), str::to_string)
}

pub(crate) fn identity_name(cx: &Ctx) -> String {
    cx.identity
        .map_or_else(|| "\"$IDENTITY_NAME\"".to_string(), |i| i.name.clone())
}

pub(crate) fn client_id(cx: &Ctx) -> String {
    cx.mode
        .client_id()
        .or_else(|| cx.params.as_deref().and_then(|p| p.client_id.as_deref()))
        .map_or_else(|| "<clientID>".to_string(), str::to_string)
}

/// The cluster's OIDC issuer: observed, else as an AADSTS70021 message presented it.
pub(crate) fn cluster_issuer(cx: &Ctx) -> String {
    cx.cluster()
        .oidc_issuer
        .known()
        .cloned()
        .or_else(|| presented_issuer(cx))
        .unwrap_or_else(|| {
            format!(
                "\"$(az aks show {} --query oidcIssuerProfile.issuerUrl -o tsv)\"",
                aks_args(cx)
            )
        })
}

/// The cluster's Entra ID tenant: observed, else the tenant segment of its AKS OIDC issuer
/// (`https://<region>.oic.prod-aks.azure.com/<tenant>/<guid>/`, FACTS §7). The cluster's
/// managed identities usually live there.
pub(crate) fn cluster_tenant<'a>(cx: &Ctx<'a>) -> Option<&'a str> {
    let cluster = cx.cluster();
    if let Some(t) = cluster.tenant_id.known() {
        return Some(t.as_str());
    }
    let issuer = cluster.oidc_issuer.known()?;
    let path = issuer.strip_prefix("https://")?.split_once('/')?.1;
    let first = path.split('/').next()?;
    let guid = first.len() == 36
        && first.bytes().enumerate().all(|(i, b)| {
            matches!(i, 8 | 13 | 18 | 23) == (b == b'-') && (b == b'-' || b.is_ascii_hexdigit())
        });
    guid.then_some(first)
}

/// The tenant an AADSTS700016 asked (`…not found in the directory '<tenant>'`), else the
/// SPC's tenantID, when it is not the cluster's: the identity exists, the SPC asks the
/// wrong tenant (FACTS §11). `None` when they agree or either is unknown.
pub(crate) fn foreign_tenant<'m>(cx: &'m Ctx, message: &'m str) -> Option<&'m str> {
    let asked = events::directory(message)
        .or_else(|| cx.params.as_deref().and_then(|p| p.tenant_id.as_deref()))?;
    let home = cluster_tenant(cx)?;
    (!asked.eq_ignore_ascii_case(home)).then_some(asked)
}

/// The issuer an AADSTS70021 event says the driver's token carried, if any.
pub(crate) fn presented_issuer(cx: &Ctx) -> Option<String> {
    cx.events
        .iter()
        .filter(|(c, _)| *c == Some(Code::KVC405))
        .find_map(|(_, e)| events::presented(&e.message))
        .map(|p| p.issuer)
}

pub(crate) fn vault_scope(cx: &Ctx) -> String {
    match cx.vault {
        Some(v) if !v.resource_id.is_empty() => v.resource_id.clone(),
        _ => format!(
            "\"$(az keyvault show -n {} --query id -o tsv)\"",
            cx.keyvault()
        ),
    }
}

pub(crate) fn principal(cx: &Ctx) -> String {
    cx.identity.map_or_else(
        || {
            format!(
                "\"$(az identity list --query \"[?clientId=='{}'].principalId\" -o tsv)\"",
                client_id(cx)
            )
        },
        |i| i.principal_id.clone(),
    )
}

/// An SPC whose metadata.name (or namespace) is still a template placeholder: no object of
/// that name can exist (the API server refuses it), so no kubectl command can name it; the
/// field and its value.
fn unrendered_spc<'a>(cx: &Ctx<'a>) -> Option<(&'static str, &'a str)> {
    use crate::chain::rules::params::is_placeholder;
    if is_placeholder(cx.spc_name) {
        Some(("metadata.name", cx.spc_name))
    } else if is_placeholder(cx.ns()) {
        Some(("metadata.namespace", cx.ns()))
    } else {
        None
    }
}

/// `kubectl get secretproviderclass <name> -n <ns> <tail>`; for an unrendered name or
/// namespace, where the templates hold it.
pub(crate) fn get_spc(cx: &Ctx, tail: &str) -> String {
    if let Some((field, value)) = unrendered_spc(cx) {
        return unrendered(field, value).0;
    }
    format!(
        "kubectl get secretproviderclass {} -n {} {tail}",
        sh_word(cx.spc_name),
        cx.ns()
    )
}

pub(crate) fn edit_spc(cx: &Ctx, what: &str) -> String {
    match unrendered_spc(cx) {
        Some(("metadata.name", name)) => format!(
            "# in the SecretProviderClass manifest whose metadata.name is {name} (unrendered: no object can have that name), render the template and set: {what}"
        ),
        Some((_, ns)) => format!(
            "# in the SecretProviderClass manifest {} (its metadata.namespace {ns} is unrendered: no namespace can have that name), render the template and set: {what}",
            cx.spc_name
        ),
        None => format!(
            "kubectl edit secretproviderclass {} -n {}  # {what}",
            sh_word(cx.spc_name),
            cx.ns()
        ),
    }
}

/// Change `what` in the pod spec: on the workload's template, or, for a pod nothing owns, by
/// recreating the pod (a pod's spec cannot be edited in place, but for its images).
/// A paused Deployment's edit ends with the resume that rolls it out ([`paused::rolled`]).
pub(crate) fn edit_owner(cx: &Ctx, what: &str) -> String {
    if cx.template && !matches!(cx.workload, Some(("Job", _))) {
        let edit = format!(
            "kubectl edit {} -n {}  # {what}",
            cx.owner_kubectl(),
            cx.ns()
        );
        return paused::rolled(cx.snap(), cx.ns(), cx.workload, edit, EDITED);
    }
    edit_pod_owner(cx, &cx.pod.name, cx.workload, what)
}

/// What a template edit changes, as [`paused::rolled`] says it.
const EDITED: &str = "the edited template";

/// [`edit_owner`] for pod `pod` of the chain's namespace owned by `workload` (a consumer of
/// the chain's Secret need not be the chain's pod).
pub(crate) fn edit_pod_owner(
    cx: &Ctx,
    pod: &str,
    workload: Option<(&str, &str)>,
    what: &str,
) -> String {
    let ns = cx.ns();
    let edit = match workload {
        // The API server refuses any change of a Job's pod template (immutable): the Job is
        // re-created from its manifest.
        Some(("Job", n)) => format!(
            "# a Job's pod template cannot be changed: in its manifest, {what}; then re-create it: kubectl delete job {n} -n {ns} --ignore-not-found && kubectl apply -f <the Job's manifest>"
        ),
        Some(("Node", n)) => static_pod_edit(n, what),
        Some((k, n)) => format!(
            "kubectl edit {}/{n} -n {ns}  # {what}",
            k.to_ascii_lowercase()
        ),
        None => format!(
            "kubectl get pod {pod} -n {ns} -o yaml > {pod}.yaml && ${{EDITOR:-vi}} {pod}.yaml && kubectl replace --force -f {pod}.yaml  # {what} (a pod's spec cannot be edited in place: this recreates it)"
        ),
    };
    paused::rolled(cx.snap(), ns, workload, edit, EDITED)
}

/// `kubectl patch` of one SecretProviderClass parameter (a merge patch: the others stay).
pub(crate) fn patch_spc_parameter(cx: &Ctx, key: &str, value: &str) -> String {
    if unrendered_spc(cx).is_some() {
        return edit_spc(cx, &format!("parameters.{key}: {value}"));
    }
    let patch = serde_json::json!({ "spec": { "parameters": { key: value } } }).to_string();
    format!(
        "kubectl patch secretproviderclass {} -n {} --type merge -p {}",
        sh_word(cx.spc_name),
        cx.ns(),
        sh_word(&patch)
    )
}

/// A static pod (its mirror is owned by its Node) lives in a manifest file on that node; the
/// API's copy is a mirror, and deleting it restarts nothing (the kubelet re-creates the
/// mirror of the pod it still runs).
fn static_pod_edit(node: &str, what: &str) -> String {
    format!(
        "# static pod of node {node}: in its manifest file on {node} (the kubelet's staticPodPath, /etc/kubernetes/manifests by default), {what}; the kubelet re-creates the pod when the file changes (kubectl cannot: deleting the mirror pod restarts nothing)"
    )
}

/// The jsonpath of container `c`'s `field` within `list_of(c)`, selected by name: init
/// containers, native sidecars among them (restartPolicy: Always), are under
/// `initContainers` / `initContainerStatuses`, not `containers` (a `containers[*]` path never
/// shows them).
pub(crate) fn container_path(
    prefix: &str,
    c: &crate::snapshot::ContainerObs,
    status: bool,
    field: &str,
) -> String {
    let list = match (c.init, status) {
        (true, false) => "initContainers",
        (true, true) => "initContainerStatuses",
        (false, false) => "containers",
        (false, true) => "containerStatuses",
    };
    format!("{prefix}.{list}[?(@.name==\"{}\")]{field}", c.name)
}

/// `word` as one shell word: as it is when it holds only characters a shell passes through,
/// else single-quoted (a name still written `<your-spc>` would otherwise be a redirection).
pub(crate) fn sh_word(word: &str) -> std::borrow::Cow<'_, str> {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/=@%+,".contains(&b));
    if plain {
        word.into()
    } else {
        format!("'{}'", word.replace('\'', "'\\''")).into()
    }
}

/// A field that still holds a template placeholder: no object can be named by it, so the
/// confirm finds the templates that hold it and the fix is to render them. (confirm, fix)
pub(crate) fn unrendered(field: &str, value: &str) -> (String, String) {
    let quoted = sh_word(value);
    (
        format!("grep -rn -F {quoted} ."),
        format!(
            "# render the manifests before applying (envsubst, helm template, kustomize): {field} is {value}"
        ),
    )
}

pub(crate) fn show_spc(cx: &Ctx, jsonpath: &str) -> String {
    get_spc(cx, &format!("-o jsonpath='{jsonpath}'"))
}

pub(crate) fn fic_list(cx: &Ctx) -> String {
    format!(
        "az identity federated-credential list --identity-name {} -g {} -o table",
        identity_name(cx),
        identity_rg(cx)
    )
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
    roles.sort_unstable();
    roles.dedup();
    if roles.is_empty() {
        roles.push(role_for(crate::snapshot::ObjectType::Secret));
    }
    roles
}

/// `az role assignment create` of each role for the chain's identity on the vault.
pub(crate) fn grant_roles(cx: &Ctx, roles: &[&str]) -> String {
    roles
        .iter()
        .map(|role| {
            format!(
                "az role assignment create --assignee-object-id {} --assignee-principal-type ServicePrincipal --role \"{role}\" --scope {}",
                principal(cx),
                vault_scope(cx)
            )
        })
        .collect::<Vec<_>>()
        .join(" && ")
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
/// nothing else (FACTS §8), and a policy is the principal's whole grant on the vault.
pub(crate) fn set_policy(
    vault: &str,
    principal: &str,
    types: &[crate::snapshot::ObjectType],
) -> String {
    use crate::snapshot::ObjectType;
    let flags: Vec<&str> = types
        .iter()
        .map(|t| match t {
            ObjectType::Secret => "--secret-permissions get",
            ObjectType::Key => "--key-permissions get",
            ObjectType::Cert => "--certificate-permissions get",
        })
        .collect();
    format!(
        "az keyvault set-policy -n {vault} --object-id {principal} {}",
        flags.join(" ")
    )
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

impl Ctx<'_> {
    /// A finding with the code's default confirm and fix commands for this chain.
    pub(crate) fn remedied(
        &self,
        code: Code,
        resource: String,
        message: String,
        evidence: Vec<String>,
    ) -> Finding {
        let (confirm, fix) = commands(self, code);
        self.finding(code, resource, message, evidence, confirm, fix)
    }
}

/// A finding known only from an event (the objects it concerns may be unobservable).
/// KVC704's confirm and fix, from the event that showed the 429: the events of its reason (a
/// failed rotation is `MountRotationFailed`, not `FailedMount`), and what relieves the vault
/// ([`throttling::fix`]).
fn throttling_commands(cx: &Ctx, e: &EventObs) -> (String, String) {
    let confirm = format!(
        "kubectl get events -n {} --field-selector reason={}",
        cx.ns(),
        e.reason
    );
    (confirm, throttling::fix(cx))
}

pub(crate) fn from_event(cx: &Ctx, code: Code, e: &EventObs, evidence: String) -> Finding {
    use Code::*;
    let (mut confirm, mut fix) = commands(cx, code);
    if code == KVC501 {
        // The 403 names the object type it was refused for: grant what that type needs.
        if let Some(t) = events::object_type(&e.message) {
            fix = match cx.vault.filter(|v| !v.rbac) {
                Some(v) => set_policy(&v.name, &principal(cx), &[t]),
                None => grant_roles(cx, &roles_needed(cx, Some(t))),
            };
        }
    }
    if code == KVC704 {
        (confirm, fix) = throttling_commands(cx, e);
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
        let (resource, message, confirm, fix) = network::unreached(cx, code, u);
        return cx.finding(code, resource, message, vec![evidence], confirm, fix);
    }
    // Service-principal mode: a key the provider misses is the Secret's fault, not the SPC's.
    if code == KVC302
        && let Some(f) = crate::chain::rules::sp_secret::from_event(cx, e, &evidence)
    {
        return f;
    }
    let spc = cx.spc_resource();
    let (resource, message) = match code {
        KVC101 => (spc, format!("the driver cannot find SecretProviderClass {} in namespace {}", cx.spc_name, cx.ns())),
        KVC103 => (cx.owner_resource(), format!("the driver rejects volume {}: readOnly is not true", cx.volume.name)),
        KVC104 => (CSIDRIVER.to_string(), format!("the Secrets Store CSI driver (or its Azure provider) is not available on node {}, where pod {} runs", cx.pod.node.as_deref().unwrap_or("(unknown)"), cx.pod.name)),
        KVC105 => {
            let audience = events::token_audience(&e.message)
                .or_else(|| token_audience(cx))
                .unwrap_or(AUDIENCE);
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
                        edit_spc(cx, &format!("parameters.{}: the identity's tenantId (az identity list --query \"[?clientId=='{}'].tenantId\" -o tsv)", cx.tenant_key(), client_id(cx)))
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
            (spc, format!("token exchange rejected: {asked} does not know clientID {}{home}", client_id(cx)))
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
            (
                format!("ManagedIdentity/{}", cx.identity.map_or_else(|| client_id(cx), |i| i.name.clone())),
                format!(
                    "token exchange rejected (AADSTS70021): no federated credential on clientID {} matches issuer, subject and audience together{proven}. The credentials are not visible here, so the credential's issuer (often a missing or extra trailing '/'), subject or audience may be the field that differs",
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
                    "Key Vault {} rejects the token: it was issued by another tenant than the vault's{tenants} (401 AKV10032 Invalid issuer); a managed identity cannot get tokens for another tenant",
                    cx.keyvault()
                ),
            )
        }
        KVC501 => (format!("KeyVault/{}", cx.keyvault()), format!("Key Vault {} denied the read (403): the identity has no role or access policy that allows it", cx.keyvault())),
        KVC505 => (format!("KeyVault/{}", cx.keyvault()), format!("Key Vault {} firewall / network rules refused the request", cx.keyvault())),
        KVC601 => (format!("KeyVault/{}", cx.keyvault()), format!("an object of SecretProviderClass {} is not in Key Vault {}", cx.spc_name, cx.keyvault())),
        KVC602 => (format!("KeyVault/{}", cx.keyvault()), format!("an object of SecretProviderClass {} is disabled in Key Vault {}", cx.spc_name, cx.keyvault())),
        KVC704 => {
            let l = throttling::Load::of(cx);
            (
                format!("KeyVault/{}", cx.keyvault()),
                format!(
                    "Key Vault {} is throttling requests (429): SecretProviderClass {} reads {} objects per poll ({} pods x {} objects), about {} reads/day ({} polls/day at {}s)",
                    cx.keyvault(),
                    cx.spc_name,
                    l.per_poll(),
                    l.pods,
                    l.objects,
                    l.per_day(),
                    l.polls_per_day(),
                    l.poll.as_secs()
                ),
            )
        }
        KVC705 => (spc, "the provider rejected the objects of the SecretProviderClass".to_string()),
        KVC801 => (spc, "the driver cannot build the synced Secret: a secretObjects objectName matches no mounted file".to_string()),
        KVC806 => (spc, "the driver failed to create or update the synced Secret".to_string()),
        KVC106 => (cx.owner_resource(), format!("{} cannot create its pods: admission refused them (message in evidence)", cx.owner_resource())),
        KVC107 => (format!("Pod/{}", cx.pod.name), format!("pod {} is not scheduled: kube-scheduler finds no node that fits it (message in evidence)", cx.pod.name)),
        KVC701 => (format!("Pod/{}", cx.pod.name), format!("volume {} fails to mount for a reason no rule explains (message verbatim in evidence)", cx.volume.name)),
        other => (spc, other.title().to_string()),
    };
    cx.finding(code, resource, message, vec![evidence], confirm, fix)
}
