//! Identity link: which identity the provider authenticates as (FACTS §5 auth selection),
//! whether the parameters are coherent, and whether that managed identity exists.

use super::pod::{parse_bool, truthy};
use super::remedy;
use super::{set, unknown};
use crate::chain::catalog::Code;
use crate::chain::context::{AuthMode, Ctx};
use crate::chain::model::{Fact, Link, Status};
use crate::spc::AzureSpc;

const CLOUDS: [&str; 5] = [
    "azurepubliccloud",
    "azureusgovernmentcloud",
    "azurechinacloud",
    "azuregermancloud",
    "azurestackcloud",
];

pub(crate) fn check(cx: &mut Ctx, link: &mut Link) {
    let Some(p) = cx.params.clone() else {
        set(link, Status::Pending, "no SPC");
        return;
    };
    let (mode, problems) = auth_mode(&p, cx.node_publish_secret);
    cx.mode = mode;
    if !problems.is_empty() {
        let (confirm, _) = remedy::commands(cx, Code::KVC302);
        let mut hints = problems
            .iter()
            .map(|(_, f)| f.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        // The pod's service account may already name the identity meant.
        if let Some(c) = cx
            .ix
            .service_accounts
            .get(&(cx.ns(), cx.pod.service_account.as_str()))
            .and_then(|sa| sa.annotations.get("azure.workload.identity/client-id"))
        {
            hints = hints
                .replace("<workload identity clientId>", c)
                .replace("<identity clientId>", c);
        }
        let fix = remedy::edit_spc(cx, &hints);
        let evidence = problems.iter().map(|(e, _)| e.clone()).collect::<Vec<_>>();
        let msg: Vec<&str> = problems.iter().map(|(e, _)| e.as_str()).collect();
        link.findings.push(cx.finding(
            Code::KVC302,
            cx.spc_resource(),
            format!(
                "SecretProviderClass {} (merged with pod volumeAttributes): {}",
                cx.spc_name,
                msg.join("; ")
            ),
            evidence,
            confirm,
            fix,
        ));
    }
    match cx.mode.clone() {
        AuthMode::VmIdentity { user_assigned } => {
            let who = user_assigned
                .as_deref()
                .map_or("the kubelet's system-assigned identity".to_string(), |c| {
                    format!("node identity {c}")
                });
            super::note(cx, link, || Fact::new("mode", "useVMManagedIdentity"));
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
            if user_assigned.is_none() {
                set(link, Status::Ok, "kubelet identity");
                return;
            }
        }
        AuthMode::ServicePrincipal { secret } => {
            link.facts.push(Fact::new("nodePublishSecretRef", secret));
            unknown(
                link,
                "service principal",
                "credentials live in a Kubernetes Secret kvchain does not read",
            );
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
        set(link, Status::Ok, i.name.clone());
        return;
    }
    if let Some(reason) = &cx.snap().azure.identities.gaps.all {
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
        vec![format!("clientID: {client}"), format!("{} managed identities listed", cx.snap().azure.identities.items.len())],
    ));
}

/// The provider's auth selection, with every reason it would refuse the parameters:
/// (problem as observed, fix hint).
fn auth_mode(p: &AzureSpc, nps: Option<&str>) -> (AuthMode, Vec<(String, String)>) {
    let mut problems: Vec<(String, String)> = Vec::new();
    for (key, v) in [
        ("usePodIdentity", &p.use_pod_identity),
        ("useVMManagedIdentity", &p.use_vm_managed_identity),
        ("useAzureTokenProxy", &p.use_azure_token_proxy),
    ] {
        if let Some(v) = v
            && parse_bool(v).is_none()
        {
            problems.push((
                format!("{key}: {v:?} is not a boolean"),
                format!("{key}: \"true\" or \"false\""),
            ));
        }
    }
    let pod_id = truthy(&p.use_pod_identity);
    let vm = truthy(&p.use_vm_managed_identity);
    let proxy = truthy(&p.use_azure_token_proxy);
    let modes = [pod_id, vm, proxy].iter().filter(|b| **b).count();
    let mode = if modes > 1 {
        problems.push((
            format!(
                "only one identity mode can be enabled at a time: usePodIdentity={pod_id}, useVMManagedIdentity={vm}, useAzureTokenProxy={proxy}"
            ),
            "keep one identity mode".into(),
        ));
        AuthMode::Invalid
    } else if pod_id {
        problems.push((
            "usePodIdentity: \"true\": aad-pod-identity is deprecated and removed from AKS".into(),
            "usePodIdentity: \"false\" and clientID: <workload identity clientId>".into(),
        ));
        AuthMode::PodIdentity
    } else if vm {
        AuthMode::VmIdentity {
            user_assigned: p.user_assigned_identity_id.clone(),
        }
    } else if proxy {
        if p.client_id.is_none() {
            problems.push((
                "clientID is required for identity binding (useAzureTokenProxy: true)".into(),
                "clientID: <identity clientId>".into(),
            ));
        }
        AuthMode::TokenProxy {
            client_id: p.client_id.clone(),
        }
    } else if let Some(c) = &p.client_id {
        AuthMode::WorkloadIdentity {
            client_id: c.clone(),
        }
    } else if let Some(s) = nps {
        AuthMode::ServicePrincipal {
            secret: s.to_string(),
        }
    } else {
        problems.push((
            "no clientID and no nodePublishSecretRef: \"failed to get credentials, nodePublishSecretRef secret is not set\"".into(),
            "clientID: <workload identity clientId>".into(),
        ));
        AuthMode::Invalid
    };
    match p.keyvault_name.as_deref() {
        None => problems.push((
            "keyvaultName is not provided".into(),
            "keyvaultName: <vault name>".into(),
        )),
        Some(k) if k.contains("://") || k.contains('.') => problems.push((
            format!(
                "keyvaultName {k:?} is a URL/host name, the provider wants the bare vault name"
            ),
            format!("keyvaultName: {}", bare_vault(k)),
        )),
        Some(k)
            if !(3..=24).contains(&k.len())
                || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') =>
        {
            problems.push((
                format!("Invalid vault name: {k:?}, must match [-a-zA-Z0-9]{{3,24}}"),
                "keyvaultName: 3-24 letters, digits or '-'".into(),
            ))
        }
        Some(_) => {}
    }
    if p.tenant_id.is_none() {
        problems.push((
            "tenantId is not provided".into(),
            "tenantID: <the vault's tenant id>".into(),
        ));
    }
    if let Some(c) = &p.cloud_name
        && !CLOUDS.contains(&c.to_ascii_lowercase().as_str())
    {
        problems.push((
            format!(
                "cloudName {c} is not valid: there is no cloud environment matching the name {:?}",
                c.to_ascii_uppercase()
            ),
            "cloudName: AzurePublicCloud (or leave empty)".into(),
        ));
    }
    (mode, problems)
}

/// `https://kv1.vault.azure.net/` → `kv1`.
fn bare_vault(k: &str) -> &str {
    let k = k.split("://").nth(1).unwrap_or(k);
    k.split(['.', '/']).next().unwrap_or(k)
}
