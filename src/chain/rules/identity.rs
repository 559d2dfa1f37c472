//! Identity link: which identity the provider authenticates as (FACTS §5 auth selection),
//! whether the parameters are coherent, and whether that managed identity exists.

use super::pod::{parse_bool, truthy};
use super::{params, remedy};
use super::{set, unknown};
use crate::chain::catalog::Code;
use crate::chain::context::{AuthMode, Ctx};
use crate::chain::model::{Fact, Link, SharedText, Status};
use crate::spc::AzureSpc;

/// Names the provider's cloud lookup accepts, compared case-insensitively (FACTS §5 [AR]).
/// go-autorest v0.11.30, the version the provider pins, also maps the Azure CLI spellings
/// `AzureCloud` and `AzureUSGovernment`; older copies of environments.go lack them.
const CLOUDS: [&str; 7] = [
    "azurepubliccloud",
    "azurecloud",
    "azureusgovernmentcloud",
    "azureusgovernment",
    "azurechinacloud",
    "azuregermancloud",
    "azurestackcloud",
];

pub(crate) fn check(cx: &mut Ctx, link: &mut Link) {
    if cx.params.is_none() {
        super::no_spc(cx, link);
        return;
    }
    parameters(cx, link, Pods::Mounting);
    match cx.mode.clone() {
        AuthMode::VmIdentity { user_assigned } => {
            super::note(cx, link, || Fact::new("mode", "useVMManagedIdentity"));
            node_identity(cx, link);
            if user_assigned.is_none() {
                unknown(
                    link,
                    "node identity",
                    "the node scale set's system-assigned identity is not visible to kvchain",
                );
                return;
            }
        }
        AuthMode::ServicePrincipal { secret } => {
            link.facts
                .push(Fact::new("nodePublishSecretRef", secret.as_str()));
            super::sp_secret::check(cx, link, &secret);
            return;
        }
        AuthMode::PodIdentity | AuthMode::Invalid | AuthMode::Unknown => {
            set(link, Status::Unknown, "no identity");
            return;
        }
        AuthMode::WorkloadIdentity { .. } | AuthMode::TokenProxy { .. } => {}
    }
    let Some(client) = cx.mode.client_id().map(str::to_string) else {
        set(link, Status::Unknown, "no clientID");
        return;
    };
    super::note(cx, link, || Fact::new("clientID", client.as_str()));
    if let Some(i) = cx.ix.identity(&client) {
        cx.identity = Some(i);
        super::note(cx, link, || Fact::new("identity", i.name.as_str()));
        set(link, Status::Ok, i.name.as_str());
        return;
    }
    if let Some(reason) = &cx.azure().identities.gaps.all {
        if cx.mounted() {
            set(link, Status::Ok, "proven by mount");
        } else {
            unknown(link, "Azure unknown", reason);
        }
        return;
    }
    link.findings.push(cx.remedied(
        Code::KVC301,
        cx.spc_resource(),
        format!(
            "no managed identity visible to kvchain has clientId {client} (the identity SecretProviderClass {} authenticates as)",
            cx.spc_name
        ),
        vec![format!("clientID: {client}"), format!("{} managed identities listed", cx.azure().identities.items.len())],
    ));
}

/// KVC303 (info): the SPC reads Key Vault as a node identity. Decided by the SPC alone, so
/// also said of an SPC no pod in the input mounts.
pub(crate) fn node_identity(cx: &Ctx, link: &mut Link) {
    let AuthMode::VmIdentity { user_assigned } = &cx.mode else {
        return;
    };
    // No userAssignedIdentityID: the provider asks the node's metadata endpoint for a
    // token without a client id, which answers with the scale set's system-assigned
    // identity, if it has one (AKS node pools usually carry user-assigned ones only).
    let who = match user_assigned.as_deref() {
        None => {
            "the node scale set's system-assigned identity (no userAssignedIdentityID)".to_string()
        }
        // Unrendered (KVC306 says so): which node identity is not known yet.
        Some(c) if params::is_placeholder(c) => {
            "a node identity (userAssignedIdentityID is not rendered yet)".to_string()
        }
        Some(c) => format!("node identity {c}"),
    };
    link.findings.push(cx.remedied(
        Code::KVC303,
        cx.spc_resource(),
        format!(
            "SecretProviderClass {} reads Key Vault as {who}: every pod on those nodes shares it and Key Vault logs cannot tell workloads apart",
            cx.spc_name
        ),
        vec![format!(
            "useVMManagedIdentity: true, userAssignedIdentityID: {}",
            user_assigned.as_deref().unwrap_or("(none)")
        )],
    ));
}

/// Whose nodePublishSecretRef the provider would read.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pods {
    /// This chain's pod: its volume's ref (or none) is known.
    Mounting,
    /// A SecretProviderClass checked on its own: pods of its namespace name an unrendered
    /// SecretProviderClass (`${SPC}`) and may mount it once rendered, not all with a ref.
    MaybeMounting,
    /// A SecretProviderClass checked on its own: no pod in the input mounts it.
    NoneSeen,
}

/// Check the SPC's parameters as the provider would, set `cx.mode`, and push one finding per
/// kind of problem: invalid (KVC302), deprecated pod identity (KVC304), ignored keys (KVC305),
/// unrendered template values (KVC306), no identity at all on an SPC no pod mounts (KVC307).
pub(crate) fn parameters(cx: &mut Ctx, link: &mut Link, pods: Pods) {
    let Some(p) = cx.params.clone() else { return };
    let nps = match pods {
        Pods::Mounting => Some(cx.node_publish_secret),
        Pods::MaybeMounting | Pods::NoneSeen => None,
    };
    let (mode, mut problems) = auth_mode(&p, nps, cx.tenant_key());
    cx.mode = mode;
    // An unrendered name is an unrendered value like the parameters (a volume naming it is
    // told so by KVC101): said first, with the other template values.
    if let Some(spc) = cx.spc.filter(|s| params::is_placeholder(&s.name)) {
        problems.insert(
            0,
            problem(
                Code::KVC306,
                format!("metadata.name: {}", spc.name),
                "metadata.name: <the SecretProviderClass's name>",
            ),
        );
    }
    // `secretObjects` are part of the SPC's template too (README: placeholders are reported
    // once, here, and not validated: no KVC905/KVC801 judges them as real names).
    for so in cx.spc.iter().flat_map(|s| &s.secret_objects) {
        let fields = std::iter::once(("secretName", so.secret_name.as_str())).chain(
            so.data.iter().flat_map(|d| {
                [
                    ("objectName", d.object_name.as_str()),
                    ("key", d.key.as_str()),
                ]
            }),
        );
        for (field, v) in fields.filter(|(_, v)| params::is_placeholder(v)) {
            // The CRD's own path: objectName and key live under `data[]`.
            let path = match field {
                "secretName" => format!("secretObjects[{}].secretName", so.secret_name),
                _ => format!("secretObjects[{}].data[].{field}", so.secret_name),
            };
            problems.push(problem(
                Code::KVC306,
                format!("{path}: {v}"),
                format!("{path}: <a real value>"),
            ));
        }
    }
    // `useWorkloadIdentity` is what the author meant by "workload identity", and why no
    // credential is named: one cause, told on the credential finding (not again as KVC305).
    let meant_wi = problems.iter().any(|pr| pr.fix == EITHER_CREDENTIAL)
        && cx.spc.is_some_and(|s| s.parameters.contains_key(MEANT_WI));
    for code in [Code::KVC302, Code::KVC304, Code::KVC306, Code::KVC307] {
        let mine: Vec<&Problem> = problems.iter().filter(|pr| pr.code == code).collect();
        if mine.is_empty() {
            continue;
        }
        let (mut confirm, _) = remedy::commands(cx, code);
        if code == Code::KVC306 {
            confirm = unrendered_confirm(cx, &mine);
        }
        let mut hints = mine
            .iter()
            .map(|pr| pr.fix.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        // The pod's service account may already name the identity meant.
        if pods == Pods::Mounting
            && let Some(c) = cx
                .ix
                .service_accounts
                .get(&(cx.ns(), cx.pod.service_account.as_str()))
                .and_then(|sa| sa.annotations.get("azure.workload.identity/client-id"))
        {
            hints = hints
                .replace("<workload identity clientId>", c)
                .replace("<identity clientId>", c);
        }
        let subject = match pods {
            Pods::Mounting => cx.subject(),
            Pods::MaybeMounting | Pods::NoneSeen => {
                "the mounting pods' service account".to_string()
            }
        };
        let mut hints = hints.replace("{subject}", &subject);
        let mut evidence: Vec<String> = mine.iter().map(|pr| pr.observed.clone()).collect();
        if meant_wi && mine.iter().any(|pr| pr.fix == EITHER_CREDENTIAL) {
            hints = format!("remove {MEANT_WI} (not read) and set {hints}");
            evidence.push(format!(
                "parameters.{MEANT_WI}: not a provider parameter, it selects no identity (clientID does)"
            ));
        }
        let fix = remedy::edit_spc(cx, &hints);
        let message = match code {
            Code::KVC306 => format!(
                "SecretProviderClass {} holds unrendered template values ({}): render the template (envsubst, helm template, the guide's export steps) before applying; kvchain does not validate these fields",
                cx.spc_name,
                evidence.join(", ")
            ),
            Code::KVC302 if pods == Pods::Mounting => format!(
                "SecretProviderClass {} (merged with pod volumeAttributes): {}",
                cx.spc_name,
                evidence.join("; ")
            ),
            _ => format!(
                "SecretProviderClass {}: {}",
                cx.spc_name,
                evidence.join("; ")
            ),
        };
        // Not validated is not healthy: a container seen stuck on a Secret an unrendered
        // entry makes is the failure itself, said here as the cause (one cause, one finding).
        let stuck = match (code, cx.spc) {
            (Code::KVC306, Some(spc)) if pods == Pods::Mounting && !cx.template => {
                params::stuck_on_unrendered(spc, cx.pod)
            }
            _ => Vec::new(),
        };
        let message = match stuck.is_empty() {
            true => message,
            false => format!(
                "{message}; a container of pod {} cannot start on it (see the kubelet's words)",
                cx.pod.name
            ),
        };
        let escalate = !stuck.is_empty();
        evidence.extend(stuck);
        let mut f = cx.finding(code, cx.spc_resource(), message, evidence, confirm, fix);
        if escalate {
            f.severity = crate::chain::model::Severity::Error;
        }
        // With no pod in sight, service-principal mode (the pods' refs) is as likely as a
        // forgotten clientID: a note, unless useWorkloadIdentity shows workload identity was
        // meant (upstream service-principal examples set usePodIdentity: "false" and no pod).
        if code == Code::KVC307 && pods == Pods::NoneSeen && !meant_wi {
            f.severity = crate::chain::model::Severity::Info;
        }
        link.findings.push(f);
    }
    ignored_keys(cx, link, meant_wi);
}

/// KVC306's confirm shows where the placeholders are: `.spec.parameters` holds none of
/// `secretObjects` nor the name, so it prints the whole SPC filtered (docs/codes.yaml) unless
/// every one is a parameter, or every one is in `secretObjects`.
fn unrendered_confirm(cx: &Ctx, mine: &[&Problem]) -> String {
    let all_in = |prefix: &str| mine.iter().all(|pr| pr.observed.starts_with(prefix));
    if all_in("secretObjects[") {
        remedy::show_spc(cx, "{.spec.secretObjects}")
    } else if mine.iter().all(|pr| {
        !pr.observed.starts_with("secretObjects[") && !pr.observed.starts_with("metadata.")
    }) {
        remedy::commands(cx, Code::KVC306).0
    } else {
        remedy::get_spc(cx, "-o yaml | grep -E '\\$|<'")
    }
}

/// The parameter blog posts use to "turn on" workload identity; the provider never reads it.
const MEANT_WI: &str = "useWorkloadIdentity";

/// KVC305: keys of the SPC's own parameters the provider never reads (`told_wi`: leave out
/// `useWorkloadIdentity`, already named as the reason no credential is set).
fn ignored_keys(cx: &Ctx, link: &mut Link, told_wi: bool) {
    let Some(spc) = cx.spc else { return };
    let mut unknown = params::unknown(
        spc.parameters
            .keys()
            .map(String::as_str)
            .filter(|k| !(told_wi && *k == MEANT_WI)),
    );
    // Read by the provider only for a VM managed identity (FACTS §5): elsewhere it is as
    // unread as an unknown key, though it looks like it picks the identity.
    if let Some(p) = cx.params.as_deref()
        && p.user_assigned_identity_id.is_some()
        && !super::pod::truthy(&p.use_vm_managed_identity)
    {
        unknown.push(params::Unknown {
            key: "userAssignedIdentityID",
            hint: Some(
                "read only with useVMManagedIdentity: \"true\"; the identity here is chosen by clientID (workload identity) or nodePublishSecretRef".into(),
            ),
        });
    }
    if unknown.is_empty() {
        return;
    }
    let described: Vec<String> = unknown
        .iter()
        .map(|u| match &u.hint {
            Some(h) => format!("{} ({h})", u.key),
            None => u.key.to_string(),
        })
        .collect();
    let suggested: Vec<String> = unknown
        .iter()
        .map(|u| match u.key {
            MEANT_WI => {
                "replace useWorkloadIdentity with clientID: <the workload identity's client id>"
                    .to_string()
            }
            key => format!("remove or rename {key}"),
        })
        .collect();
    let (confirm, _) = remedy::commands(cx, Code::KVC305);
    link.findings.push(cx.finding(
        Code::KVC305,
        cx.spc_resource(),
        format!(
            "SecretProviderClass {} has parameters the Azure provider does not read, so they change nothing: {}",
            cx.spc_name,
            described.join("; ")
        ),
        unknown.iter().map(|u| format!("parameters.{}", u.key)).collect(),
        confirm,
        remedy::edit_spc(cx, &suggested.join("; ")),
    ));
}

/// One reason the provider (or a reader of the template) objects to the parameters.
struct Problem {
    code: Code,
    /// What was seen, as the provider would put it.
    observed: String,
    /// The edit that fixes it.
    fix: String,
}

/// No credential at all: the two ways the provider accepts (FACTS §5), each whole. `{subject}`
/// is filled with the mounting pods' service account where it is known.
const EITHER_CREDENTIAL: &str = "either clientID: <workload identity clientId> (workload identity: that identity needs a federated credential for {subject}), or keep service-principal mode: nodePublishSecretRef: {name: <a Secret with clientid and clientsecret>} on each pod volume that mounts this SecretProviderClass";

fn problem(code: Code, observed: impl Into<String>, fix: impl Into<String>) -> Problem {
    Problem {
        code,
        observed: observed.into(),
        fix: fix.into(),
    }
}

/// The provider's auth selection, with every reason it would refuse the parameters.
/// `nps`: the mounting pod's nodePublishSecretRef, or `None` when no pod is known;
/// `tenant_key`: the tenant parameter as written (`tenantID` or the deprecated `tenantId`).
fn auth_mode(
    p: &AzureSpc,
    nps: Option<Option<&str>>,
    tenant_key: &str,
) -> (AuthMode, Vec<Problem>) {
    let mut problems: Vec<Problem> = Vec::new();
    for (key, v) in [
        ("usePodIdentity", &p.use_pod_identity),
        ("useVMManagedIdentity", &p.use_vm_managed_identity),
        ("useAzureTokenProxy", &p.use_azure_token_proxy),
    ] {
        if let Some(v) = v
            && parse_bool(v).is_none()
        {
            problems.push(problem(
                Code::KVC302,
                format!("{key}: {v:?} is not a boolean"),
                format!("{key}: \"true\" or \"false\""),
            ));
        }
    }
    for (key, v) in [
        ("clientID", &p.client_id),
        ("userAssignedIdentityID", &p.user_assigned_identity_id),
    ] {
        if let Some(v) = v.as_deref().filter(|v| params::is_placeholder(v)) {
            problems.push(problem(
                Code::KVC306,
                format!("{key}: {v}"),
                format!("{key}: <the identity's clientId>"),
            ));
        }
    }
    let pod_id = truthy(&p.use_pod_identity);
    let vm = truthy(&p.use_vm_managed_identity);
    let proxy = truthy(&p.use_azure_token_proxy);
    let modes = [pod_id, vm, proxy].iter().filter(|b| **b).count();
    let mode = if modes > 1 {
        problems.push(problem(
            Code::KVC302,
            format!(
                "only one identity mode can be enabled at a time: usePodIdentity={pod_id}, useVMManagedIdentity={vm}, useAzureTokenProxy={proxy}"
            ),
            "keep one identity mode",
        ));
        AuthMode::Invalid
    } else if pod_id {
        // Deprecated, not broken: the provider still implements it and aad-pod-identity can
        // still be installed; only the AKS add-on is gone.
        problems.push(problem(
            Code::KVC304,
            "usePodIdentity: \"true\": aad-pod-identity is deprecated and the AKS pod-identity add-on is retired; the mount works only where aad-pod-identity (NMI) still runs",
            "usePodIdentity: \"false\" and clientID: <workload identity clientId> (migration: https://learn.microsoft.com/azure/aks/workload-identity-migrate-from-pod-identity)",
        ));
        AuthMode::PodIdentity
    } else if vm {
        AuthMode::VmIdentity {
            user_assigned: p.user_assigned_identity_id.as_deref().map(SharedText::from),
        }
    } else if proxy {
        if p.client_id.is_none() {
            problems.push(problem(
                Code::KVC302,
                "clientID is required for identity binding (useAzureTokenProxy: true)",
                "clientID: <identity clientId>",
            ));
        }
        AuthMode::TokenProxy {
            client_id: p.client_id.as_deref().map(SharedText::from),
        }
    } else if let Some(c) = &p.client_id {
        AuthMode::WorkloadIdentity {
            client_id: c.as_str().into(),
        }
    } else if let Some(Some(s)) = nps {
        AuthMode::ServicePrincipal {
            secret: (*s).into(),
        }
    } else if nps.is_none() {
        // No pod to read a nodePublishSecretRef from: service-principal mode may be meant.
        problems.push(problem(
            Code::KVC307,
            "no clientID and no identity mode: the provider uses service-principal mode, which needs nodePublishSecretRef (a Secret with clientid/clientsecret) on every pod volume that mounts this SecretProviderClass",
            EITHER_CREDENTIAL,
        ));
        AuthMode::Unknown
    } else {
        problems.push(problem(
            Code::KVC302,
            "no clientID and no nodePublishSecretRef: \"failed to get credentials, nodePublishSecretRef secret is not set\"",
            EITHER_CREDENTIAL,
        ));
        AuthMode::Invalid
    };
    match p.keyvault_name.as_deref() {
        None => problems.push(problem(
            Code::KVC302,
            "keyvaultName is not provided",
            "keyvaultName: <vault name>",
        )),
        Some(k) if params::is_placeholder(k) => problems.push(problem(
            Code::KVC306,
            format!("keyvaultName: {k}"),
            "keyvaultName: <vault name>",
        )),
        // A vault URL or host name: its first label is the name (when that is a name).
        Some(k)
            if (k.contains("://") || k.to_ascii_lowercase().contains(".vault."))
                && valid_vault_name(bare_vault(k)) =>
        {
            problems.push(problem(
                Code::KVC302,
                format!(
                    "keyvaultName {k:?} is a URL/host name, the provider wants the bare vault name"
                ),
                format!("keyvaultName: {}", bare_vault(k)),
            ))
        }
        Some(k) if !valid_vault_name(k) => problems.push(problem(
            Code::KVC302,
            format!("Invalid vault name: {k:?}, must match [-a-zA-Z0-9]{{3,24}}"),
            "keyvaultName: 3-24 letters, digits or '-'",
        )),
        Some(_) => {}
    }
    match p.tenant_id.as_deref() {
        None => problems.push(problem(
            Code::KVC302,
            "tenantId is not provided",
            "tenantID: <the vault's tenant id>",
        )),
        Some(t) if params::is_placeholder(t) || screaming_snake(t) => problems.push(problem(
            Code::KVC306,
            format!("{tenant_key}: {t}"),
            format!("{tenant_key}: <the vault's tenant id>"),
        )),
        // Entra knows a tenant by its id or one of its domains: anything else ("tid" in the
        // upstream examples) is a value still to be filled in, like a template's.
        Some(t) if !crate::snapshot::is_guid(t.trim()) && !t.contains('.') => {
            problems.push(problem(
                Code::KVC306,
                format!("{tenant_key}: {t} (neither a tenant id nor a domain: no tenant has it)"),
                format!("{tenant_key}: <the vault's tenant id>"),
            ))
        }
        Some(_) => {}
    }
    match p.cloud_name.as_deref() {
        Some(c) if params::is_placeholder(c) => problems.push(problem(
            Code::KVC306,
            format!("cloudName: {c}"),
            "cloudName: AzurePublicCloud (or leave empty)",
        )),
        Some(c) if !CLOUDS.contains(&c.to_ascii_lowercase().as_str()) => problems.push(problem(
            Code::KVC302,
            format!(
                "cloudName {c} is not valid: there is no cloud environment matching the name {:?}",
                c.to_ascii_uppercase()
            ),
            "cloudName: AzurePublicCloud (or leave empty)",
        )),
        _ => {}
    }
    for o in &p.objects {
        for (field, v) in [
            ("objectName", Some(o.object_name.as_str())),
            ("objectAlias", o.object_alias.as_deref()),
            ("objectVersion", o.object_version.as_deref()),
        ] {
            if let Some(v) = v.filter(|v| params::is_placeholder(v)) {
                problems.push(problem(
                    Code::KVC306,
                    format!("objects[{}].{field}: {v}", o.index),
                    format!("objects[{}].{field}: <a real value>", o.index),
                ));
            }
        }
    }
    (mode, problems)
}

/// `https://kv1.vault.azure.net/` → `kv1`.
/// `YOUR_TENANT_ID`, `TENANT_ID`: a variable's name left where its value belongs (no tenant
/// id or domain has an underscore).
fn screaming_snake(v: &str) -> bool {
    v.contains('_')
        && v.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// FACTS §5: 3–24 characters of `[-A-Za-z0-9]`.
fn valid_vault_name(k: &str) -> bool {
    (3..=24).contains(&k.len()) && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

fn bare_vault(k: &str) -> &str {
    let k = k.split("://").nth(1).unwrap_or(k);
    k.split(['.', '/']).next().unwrap_or(k)
}
