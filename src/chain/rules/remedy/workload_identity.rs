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

/// Create the identity, its federated credential and its roles, then point the SPC at it.
pub(crate) fn switch_to_workload_identity(cx: &Ctx) -> String {
    let ns = cx.ns();
    // An SPC checked without a pod (standalone): the account is the user's to name.
    let sa = match cx.pod.service_account.as_str() {
        "" => "\"$SERVICE_ACCOUNT\"".to_string(),
        sa => sh_word(sa).into_owned(),
    };
    let lookup = |field: &str| {
        format!(
            "$(az identity show -g \"$IDENTITY_RG\" -n \"$IDENTITY_NAME\" --query {field} -o tsv)"
        )
    };
    let create = "az identity create -g \"$IDENTITY_RG\" -n \"$IDENTITY_NAME\"";
    let fic = format!(
        "az identity federated-credential create --name {ns}-{sa} --identity-name \"$IDENTITY_NAME\" -g \"$IDENTITY_RG\" --issuer {issuer} --subject system:serviceaccount:{ns}:{sa} --audiences {AUDIENCE}",
        issuer = cluster_issuer(cx),
    );
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
    format!("{create} && {fic} && {} && {spc}", roles.join(" && "))
}
