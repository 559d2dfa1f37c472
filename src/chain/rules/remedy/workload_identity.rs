//! KVC303's and KVC304's fix: moving an SPC from the node's managed identity (or from
//! aad-pod-identity) to a workload identity of its own. Switching the SPC alone breaks a
//! working mount: the new identity first needs a federated credential for the mounting pods'
//! service account at the cluster's issuer (FACTS §7) and read access to the object types it
//! reads, in the vault's permission model (a role on an RBAC vault, an access policy on an
//! access-policy vault: FACTS §8). The pods need nothing else for the mount: the driver
//! requests the service-account token itself (FACTS §5).

use super::{AUDIENCE, cluster_issuer, edit_spc, grant_read, sh_word};
use crate::chain::context::Ctx;
use crate::chain::rules::params::is_placeholder;

/// The guide that sets up workload identity for the Key Vault CSI provider.
const GUIDE: &str = "https://learn.microsoft.com/azure/aks/csi-secrets-store-identity-access";

/// The guide that moves aad-pod-identity workloads to workload identity.
const POD_IDENTITY_GUIDE: &str =
    "https://learn.microsoft.com/azure/aks/workload-identity-migrate-from-pod-identity";

/// The identity mode an SPC leaves for workload identity.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Leaving {
    /// `useVMManagedIdentity` (KVC303).
    NodeIdentity,
    /// `usePodIdentity`, aad-pod-identity (KVC304).
    PodIdentity,
}

/// The node-identity parameters a pod volume may set over its SPC's (FACTS §5).
const NODE_IDENTITY: [&str; 2] = ["useVMManagedIdentity", "userAssignedIdentityID"];

/// The pod-identity parameter (FACTS §5: one of the identity modes).
const POD_IDENTITY: [&str; 1] = ["usePodIdentity"];

/// Create the identity, its federated credentials and its read access, then point the SPC at
/// it, turning off the mode it leaves (`useVMManagedIdentity`, or `usePodIdentity` for
/// KVC304: with a mode on, clientID is not read, FACTS §5). When that mode comes from the pod
/// volume's `volumeAttributes`, which override the SPC (FACTS §5), the volume is what to
/// change: an SPC that already names a workload identity needs nothing else.
pub(crate) fn switch_to_workload_identity(cx: &Ctx, from: Leaving) -> String {
    let pod_identity = from == Leaving::PodIdentity;
    let (mode_keys, whose): (&[&str], &str) = match pod_identity {
        true => (&POD_IDENTITY, "aad-pod-identity"),
        false => (&NODE_IDENTITY, "the node's identity"),
    };
    let overriding: Vec<&str> = super::overridden(cx)
        .map(|(k, _)| k)
        .filter(|k| mode_keys.contains(k))
        .collect();
    let spc_is_workload = cx.spc.is_some_and(|s| {
        let flag = match pod_identity {
            true => &s.parsed.use_pod_identity,
            false => &s.parsed.use_vm_managed_identity,
        };
        s.parsed.client_id.is_some()
            && !flag
                .as_deref()
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    });
    if !overriding.is_empty() && spc_is_workload {
        return super::edit_owner(
            cx,
            &format!(
                "volume {}: remove volumeAttributes.{} (they override SecretProviderClass {}'s workload identity clientID with {whose})",
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
    // Read access in the vault's permission model (FACTS §8), for the new identity.
    let grant = grant_read(cx, &format!("\"{}\"", lookup("principalId")));
    // The tenant matters from now on (the token is asked there): the new identity's own.
    let off = match pod_identity {
        true => "\\\"usePodIdentity\\\":\\\"false\\\"",
        false => "\\\"useVMManagedIdentity\\\":\\\"false\\\",\\\"userAssignedIdentityID\\\":null",
    };
    let patch = format!(
        "{{\\\"spec\\\":{{\\\"parameters\\\":{{{off},\\\"clientID\\\":\\\"{}\\\",\\\"{}\\\":\\\"{}\\\"}}}}}}",
        lookup("clientId"),
        super::tenant_key_to_edit(cx),
        lookup("tenantId"),
    );
    let note = format!(
        "new pods mount as $IDENTITY_NAME and need no label or annotation for it (the driver requests the token, through a CSIDriver with tokenRequests for {AUDIENCE}: the AKS add-on's has it); guide: {}",
        if pod_identity {
            POD_IDENTITY_GUIDE
        } else {
            GUIDE
        }
    );
    let spc = if is_placeholder(cx.spc_name) {
        let off = match pod_identity {
            true => "usePodIdentity: \"false\"",
            false => "useVMManagedIdentity: \"false\", no userAssignedIdentityID",
        };
        edit_spc(
            cx,
            &format!(
                "{off}, clientID and {}: the clientId and tenantId of $IDENTITY_NAME; {note}",
                super::tenant_key_to_edit(cx)
            ),
        )
    } else {
        let patch = format!(
            "kubectl patch secretproviderclass {} -n {ns} --type merge -p \"{patch}\"",
            sh_word(cx.spc_name)
        );
        // The volume's edit, when there is one, comes last: its comment ends the line.
        match overriding.is_empty() {
            true => format!("{patch}  # {note}"),
            false => format!(
                "{patch} && {}",
                super::edit_owner(
                    cx,
                    &format!(
                        "volume {}: remove volumeAttributes.{} (they override the SecretProviderClass); {note}",
                        cx.volume.name,
                        overriding.join(", volumeAttributes.")
                    )
                )
            ),
        }
    };
    format!("{create} && {fic} && {grant} && {spc}")
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
