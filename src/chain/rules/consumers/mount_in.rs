//! KVC903's fix: mount the SecretProviderClass in the workload that reads its synced Secret
//! without mounting it, named with its own edit (audit MM4). The CSI volume and its mount are
//! not all: the provider authenticates the mount with the pod's own service-account token
//! (FACTS §5), and the SPC's identity accepts that token only when one of its federated
//! credentials names the pod's subject `system:serviceaccount:<ns>:<sa>` (FACTS §7). A workload
//! running as another service account would fail that mount with AADSTS70021 (KVC401), so the
//! fix also sets the service account the identity does federate.

use super::offline::{add_volume, names_no_identity, template_spec};
use crate::chain::context::{AuthMode, Ctx};
use crate::chain::rules::remedy::{AUDIENCE, cluster_issuer, edit_pod_owner};
use crate::k8s_name::dns_subdomain;
use crate::snapshot::{FederatedCredentialObs, PodObs};

/// The fix that makes `other`'s workload mount the chain's SecretProviderClass, `then` what
/// its pods then do for the Secret; None for a pod nothing owns (its volumes cannot be edited:
/// the generic fix stands).
pub(crate) fn fix(cx: &Ctx, other: &PodObs, then: &str) -> Option<String> {
    let (kind, name) = cx.ix.workload_of(other)?;
    let who = format!("{kind}/{name}");
    let volume = add_volume(
        (&who, template_spec(Some(kind))),
        other,
        cx.spc_name,
        names_no_identity(cx),
        then,
    );
    // `volume` is `# in …: volumes …  # <then>`: the account goes in the edit, before <then>.
    let (edit, then) = volume.split_once("  # ").unwrap_or((&volume, ""));
    let account = service_account(cx, other).unwrap_or_default();
    // Made where the owner keeps the pod spec: a Job's template cannot be changed, so it is
    // re-created from its manifest; a paused Deployment is resumed (audit NN3).
    let what = format!("{}{account}", edit.trim_start_matches("# "));
    let edit = edit_pod_owner(cx, other, Some((kind, name)), &what);
    Some(format!("{edit}  # {then}"))
}

/// `; and serviceAccountName: <sa> (…)` when `other` runs as a service account the SPC's
/// workload identity has no federated credential for, naming one it has (the mounting pod's
/// first). With the identity's credentials unread, the account the chain's pod mounts with,
/// when it differs. None for other identity modes (no service-account token is exchanged).
/// Only a credential this cluster's tokens can match counts (FACTS §7: issuer, subject and
/// audience are compared exactly): one for another issuer, or whose subject names no valid
/// service account (`…:Api`, a trainer's `fic-subject-typo`), would fail the mount alike, so
/// it is never offered; with none usable the fix says a credential is needed (audit HHH1).
fn service_account(cx: &Ctx, other: &PodObs) -> Option<String> {
    // A consumer's own chain (no pod mounts the SPC) has not resolved the mode or identity:
    // read them from the SPC's parameters and the identities seen.
    let derived;
    let mode = match &cx.mode {
        AuthMode::Unknown => {
            derived = crate::chain::rules::auth_params::auth_mode(
                cx.params.as_deref()?,
                None,
                cx.tenant_key(),
            )
            .0;
            &derived
        }
        mode => mode,
    };
    let AuthMode::WorkloadIdentity { client_id } = mode else {
        return None;
    };
    let ns = cx.ns();
    let own = other.service_account.as_str();
    let subject = |sa: &str| format!("system:serviceaccount:{ns}:{sa}");
    let mounting = cx.pod.service_account.as_str();
    let identity = cx.identity.or_else(|| cx.ix.identity(client_id));
    let fics = identity.and_then(|i| i.federated_credentials.known());
    let (sa, why) = match (identity, fics) {
        (Some(i), Some(fics)) => {
            let usable = |sa: &str| fics.iter().any(|f| matches(cx, f, &subject(sa)));
            if usable(own) {
                return None;
            }
            let prefix = subject("");
            let named = fics.iter().find_map(|f| {
                f.subject
                    .strip_prefix(&prefix)
                    .filter(|sa| dns_subdomain(sa) && matches(cx, f, &f.subject))
            });
            let sa = if usable(mounting) {
                mounting
            } else if let Some(sa) = named {
                sa
            } else {
                return Some(format!(
                    "; and give managed identity {} a federated credential for {} (issuer {}, audience {AUDIENCE}): none of its credentials matches a token this cluster issues for a service account of namespace {ns}, so the volume alone fails with AADSTS70021 (KVC401)",
                    i.name,
                    subject(own),
                    cluster_issuer(cx)
                ));
            };
            (
                sa,
                format!(
                    "managed identity {} has a federated credential for {}, none for {}, so the volume alone fails with AADSTS70021 (KVC401)",
                    i.name,
                    subject(sa),
                    subject(own)
                ),
            )
        }
        _ if mounting != own => (
            mounting,
            format!(
                "{} mount it as that account; whether the identity also federates {} was not read (without it the volume alone fails with AADSTS70021, KVC401)",
                if cx.template {
                    format!("the pods of {}", cx.owner_resource())
                } else {
                    format!("pod {} does", cx.pod.name)
                },
                subject(own)
            ),
        ),
        _ => return None,
    };
    Some(format!(
        "; and serviceAccountName: {sa} (it runs as {own}): the provider authenticates the mount with the pod's own service-account token and {why}"
    ))
}

/// Whether credential `f` accepts the token this cluster issues for `subject`: the same
/// subject and, where the cluster's issuer is known, its issuer, with the exchange's audience
/// (FACTS §7: exact, case-sensitive matching).
fn matches(cx: &Ctx, f: &FederatedCredentialObs, subject: &str) -> bool {
    let issuer = cx.cluster().oidc_issuer.known();
    f.subject == subject
        && issuer.is_none_or(|i| f.issuer == *i)
        // Unread (empty) audiences are not taken for a mismatch.
        && (f.audiences.is_empty() || f.audiences.iter().any(|a| a == AUDIENCE))
}
