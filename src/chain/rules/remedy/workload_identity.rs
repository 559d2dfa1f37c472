//! KVC303's fix: moving an SPC from the node's managed identity to a workload identity of its
//! own. Switching the SPC alone breaks a working mount: the new identity first needs a
//! federated credential for the mounting pods' service account at the cluster's issuer
//! (FACTS §7) and a Key Vault role for the object types it reads (FACTS §8). The pods need
//! nothing else for the mount: the driver requests the service-account token itself (FACTS §5).

use super::{AUDIENCE, cluster_issuer, edit_spc, roles_needed, sh_word, vault_scope};
use crate::chain::context::Ctx;
use crate::chain::rules::params::is_placeholder;

/// The guide that sets up workload identity for the Key Vault CSI provider.
const GUIDE: &str = "https://learn.microsoft.com/azure/aks/csi-secrets-store-identity-access";

/// The node-identity parameters a pod volume may set over its SPC's (FACTS §5).
const NODE_IDENTITY: [&str; 2] = ["useVMManagedIdentity", "userAssignedIdentityID"];

/// Create the identity, its federated credentials and its roles, then point the SPC at it.
/// When the node identity comes from the pod volume's `volumeAttributes`, which override the
/// SPC (FACTS §5), the volume is what to change: an SPC that already names a workload identity
/// needs nothing else.
pub(crate) fn switch_to_workload_identity(cx: &Ctx) -> String {
    let overriding: Vec<&str> = super::overridden(cx)
        .map(|(k, _)| k)
        .filter(|k| NODE_IDENTITY.contains(k))
        .collect();
    let spc_is_workload = cx.spc.is_some_and(|s| {
        s.parsed.client_id.is_some()
            && !s
                .parsed
                .use_vm_managed_identity
                .as_deref()
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    });
    if !overriding.is_empty() && spc_is_workload {
        return super::edit_owner(
            cx,
            &format!(
                "volume {}: remove volumeAttributes.{} (they override SecretProviderClass {}'s workload identity clientID with the node's identity)",
                cx.volume.name,
                overriding.join(", volumeAttributes."),
                cx.spc_name
            ),
        );
    }
    let ns = cx.ns();
    let lookup = |field: &str| {
        format!(
            "$(az identity show -g \"$IDENTITY_RG\" -n \"$IDENTITY_NAME\" --query {field} -o tsv)"
        )
    };
    let create = "az identity create -g \"$IDENTITY_RG\" -n \"$IDENTITY_NAME\"";
    // Every pod mounting the SPC exchanges its own service account's token (FACTS §5, §7):
    // one federated credential per account, or the others' mounts break.
    let fics: Vec<String> = mounting_accounts(cx)
        .iter()
        .map(|sa| {
            format!(
                "az identity federated-credential create --name {ns}-{sa} --identity-name \"$IDENTITY_NAME\" -g \"$IDENTITY_RG\" --issuer {issuer} --subject system:serviceaccount:{ns}:{sa} --audiences {AUDIENCE}",
                issuer = cluster_issuer(cx),
            )
        })
        .collect();
    let fic = fics.join(" && ");
    let roles: Vec<String> = roles_needed(cx, None)
        .iter()
        .map(|role| {
            format!(
                "az role assignment create --assignee-object-id \"{}\" --assignee-principal-type ServicePrincipal --role \"{role}\" --scope {}",
                lookup("principalId"),
                vault_scope(cx)
            )
        })
        .collect();
    // The tenant matters from now on (the token is asked there): the new identity's own.
    let patch = format!(
        "{{\\\"spec\\\":{{\\\"parameters\\\":{{\\\"useVMManagedIdentity\\\":\\\"false\\\",\\\"userAssignedIdentityID\\\":null,\\\"clientID\\\":\\\"{}\\\",\\\"{}\\\":\\\"{}\\\"}}}}}}",
        lookup("clientId"),
        super::tenant_key_to_edit(cx),
        lookup("tenantId"),
    );
    let note = format!(
        "new pods mount as $IDENTITY_NAME and need no label or annotation for it (the driver requests the token, through a CSIDriver with tokenRequests for {AUDIENCE}: the AKS add-on's has it); guide: {GUIDE}"
    );
    let spc = if is_placeholder(cx.spc_name) {
        edit_spc(
            cx,
            &format!(
                "useVMManagedIdentity: \"false\", no userAssignedIdentityID, clientID and {}: the clientId and tenantId of $IDENTITY_NAME; {note}",
                super::tenant_key_to_edit(cx)
            ),
        )
    } else {
        format!(
            "kubectl patch secretproviderclass {} -n {ns} --type merge -p \"{patch}\"  # {note}",
            sh_word(cx.spc_name)
        )
    };
    let volume = match overriding.is_empty() {
        true => String::new(),
        false => format!(
            " && {}",
            super::edit_owner(
                cx,
                &format!(
                    "volume {}: remove volumeAttributes.{} (they override the SecretProviderClass)",
                    cx.volume.name,
                    overriding.join(", volumeAttributes.")
                )
            )
        ),
    };
    format!(
        "{create} && {fic} && {} && {spc}{volume}",
        roles.join(" && ")
    )
}

/// The service accounts of the pods mounting this chain's SPC, each once, as shell words (a
/// pod without one runs as `default`); for an SPC checked without a pod, the user's to name.
fn mounting_accounts(cx: &Ctx) -> Vec<String> {
    let mut accounts: Vec<String> = cx
        .ix
        .pods_mounting(cx.ns(), cx.spc_name)
        .chain(std::iter::once(cx.pod))
        .filter(|p| !p.name.is_empty() || !p.service_account.is_empty())
        .map(|p| match p.service_account.as_str() {
            "" => "default".to_string(),
            sa => sh_word(sa).into_owned(),
        })
        .collect();
    accounts.sort();
    accounts.dedup();
    if accounts.is_empty() {
        accounts.push("\"$SERVICE_ACCOUNT\"".to_string());
    }
    accounts
}
