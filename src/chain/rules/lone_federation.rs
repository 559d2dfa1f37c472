//! A SecretProviderClass no pod mounts yet, in workload-identity mode: whether any service
//! account of its namespace can use its identity (audit HHH5). The SPC must live in its pods'
//! namespace (FACTS §11), so the pods that will mount it run as an account there, and the
//! exchange takes only a federated credential whose issuer (the cluster's), subject
//! (`system:serviceaccount:<ns>:<sa>`) and audience match exactly (FACTS §7). An identity whose
//! every credential misses all of them read ✓; absent is not healthy. No pod fails yet, so it
//! is a warning, with the credential fix the Federation link gives a pod of that account.

use super::params::is_placeholder;
use super::remedy::{self, AUDIENCE};
use super::sa_template::CLIENT_ID;
use crate::chain::catalog::Code;
use crate::chain::context::{AuthMode, Ctx};
use crate::chain::model::{Finding, Link, LinkKind, Severity};
use crate::snapshot::{FederatedCredentialObs, PodObs};

/// The findings for the SPC of `cx` (a context with no pod, [`crate::chain::unmounted_spcs`]):
/// none when the identity, its credentials, the cluster's issuer or the namespace's service
/// accounts are not known, or when a credential serves an account of the namespace.
pub(crate) fn check(cx: &Ctx) -> Vec<Finding> {
    let AuthMode::WorkloadIdentity { client_id } = &cx.mode else {
        return Vec::new();
    };
    if is_placeholder(client_id) {
        return Vec::new();
    }
    let (Some(identity), Some(issuer)) =
        (cx.ix.identity(client_id), cx.cluster().oidc_issuer.known())
    else {
        return Vec::new();
    };
    let Some(fics) = identity.federated_credentials.known() else {
        return Vec::new();
    };
    let (ns, snap) = (cx.ns(), cx.snap());
    if snap.service_accounts.unknown_in(ns).is_some() {
        return Vec::new();
    }
    let prefix = format!("system:serviceaccount:{ns}:");
    // Unread (empty) audiences are not taken for a mismatch. An account the credential names
    // that does not exist yet is one the workload still to come may bring with it (the SPC is
    // often applied first): a name the API server would accept is enough.
    let serves = |f: &FederatedCredentialObs| {
        f.issuer == *issuer
            && (f.audiences.is_empty() || f.audiences.iter().any(|a| a == AUDIENCE))
            && (f.subject.strip_prefix(&prefix)).is_some_and(crate::k8s_name::dns_subdomain)
    };
    if fics.iter().any(serves) {
        return Vec::new();
    }
    let account = account_meant(cx, client_id, fics);
    let why = format!(
        "SecretProviderClass {} {}, and no service account of namespace {ns} can use its identity {}: no federated credential has this cluster's issuer, audience {AUDIENCE} and a subject naming an account there, so the first pod that mounts it fails with AADSTS70021",
        cx.spc_name,
        where_(cx),
        identity.name
    );
    let pod = PodObs {
        namespace: ns.into(),
        service_account: account.unwrap_or("$SA").into(),
        ..PodObs::default()
    };
    let mut sub = Ctx {
        pod: &pod,
        identity: Some(identity),
        ..cx.clone()
    };
    let mut link = Link::new(LinkKind::Federation);
    if account.is_some() {
        super::federation::check(&mut sub, &mut link);
        link.findings
            .retain(|f| matches!(f.code, Code::KVC401 | Code::KVC402 | Code::KVC403));
    }
    if link.findings.is_empty() {
        // No account to name: the user says which one the pods will run as.
        let evidence = match fics.as_slice() {
            [] => vec![format!("{} has no federated credentials", identity.name)],
            _ => (fics.iter())
                .map(|f| {
                    format!(
                        "credential {}: issuer {}, subject {}",
                        f.name, f.issuer, f.subject
                    )
                })
                .collect(),
        };
        let (confirm, _) = remedy::commands(&sub, Code::KVC401);
        let fix = format!(
            ": \"${{SA:?set SA to the service account the pods that mount SecretProviderClass {} will run as}}\" && {}",
            cx.spc_name,
            remedy::fic_create(&sub)
        );
        link.findings.push(sub.finding(
            Code::KVC401,
            format!("ManagedIdentity/{}", identity.name),
            String::new(),
            evidence,
            confirm,
            fix,
        ));
    }
    for f in &mut link.findings {
        f.severity = Severity::Warning;
        f.message = match f.message.is_empty() {
            true => why.clone().into(),
            false => format!("{why}: {}", f.message).into(),
        };
    }
    link.findings.into_iter().collect()
}

/// The account the SPC's pods are meant to run as: the one of its namespace annotated with the
/// identity's clientId, else one a credential names (exactly, or but for letter case or '_',
/// which no Kubernetes name holds). A pass over the namespace's accounts: called only where a
/// finding needs the name (rare), never per chain.
fn account_meant<'a>(
    cx: &Ctx<'a>,
    client_id: &str,
    fics: &[FederatedCredentialObs],
) -> Option<&'a str> {
    let (ns, snap) = (cx.ns(), cx.snap());
    let prefix = format!("system:serviceaccount:{ns}:");
    let accounts = || (snap.service_accounts.items.iter()).filter(|sa| sa.namespace == ns);
    let annotated: Vec<&str> = accounts()
        .filter(|sa| {
            (sa.annotations.get(CLIENT_ID))
                .is_some_and(|c| c.trim().eq_ignore_ascii_case(client_id))
        })
        .map(|sa| sa.name.as_str())
        .collect();
    let fold = |s: &str| s.to_ascii_lowercase().replace('_', "-");
    let named = || {
        fics.iter().find_map(|f| {
            accounts()
                .find(|sa| fold(&f.subject) == fold(&format!("{prefix}{}", sa.name)))
                .map(|sa| sa.name.as_str())
        })
    };
    match annotated.as_slice() {
        [one] => Some(*one),
        _ => named(),
    }
}

/// "Mounted by no pod" only where the namespace's pods were read: unread, they may mount it
/// (audit SS2; XC-tui found the TUI's "not known to be mounted" row over this message).
fn where_(cx: &Ctx) -> &'static str {
    let (ns, snap) = (cx.ns(), cx.snap());
    match (snap.pods.unknown_in(ns)).or_else(|| snap.source.unread_pods_in(Some(ns))) {
        None => "is mounted by no pod yet",
        Some(_) => "is not known to be mounted (pods unread)",
    }
}

/// The tenants of the SPC on its own (audit XD-tenant): its `tenantID` against its identity's
/// home tenant and its vault's, as the Federation link judges them for a mounting pod
/// (FACTS §11 'Tenants': AADSTS700016 at another tenant than the identity's, AKV10032 at a vault
/// of another tenant, which no `tenantID` reaches). Nothing here depends on the pod that will
/// mount it, so the finding keeps its severity: every mount of the SPC fails. A domain-name
/// tenant (which tenant it names is not read) and an unusable one (KVC302) say nothing here.
pub(crate) fn tenants(cx: &Ctx) -> Vec<Finding> {
    // A node identity (userAssignedIdentityID) gets its token without asking a tenant: only
    // its vault's tenant is judged (KVC406).
    let (client_id, node) = match &cx.mode {
        AuthMode::WorkloadIdentity { client_id }
        | AuthMode::TokenProxy {
            client_id: Some(client_id),
        } => (client_id.as_str(), false),
        AuthMode::VmIdentity {
            user_assigned: Some(id),
        } => (id.as_str(), true),
        _ => return Vec::new(),
    };
    if is_placeholder(client_id) {
        return Vec::new();
    }
    let identity = cx.ix.identity(client_id);
    // KVC406's note names the credential's subject: the account meant, looked up only for an
    // identity and a vault of two tenants.
    let vault = cx.ix.vault(cx.keyvault());
    let crossed = identity
        .zip(vault)
        .filter(|(i, v)| !i.tenant_id.eq_ignore_ascii_case(&v.tenant_id));
    let account = crossed.and_then(|(i, _)| {
        let fics = i
            .federated_credentials
            .known()
            .map_or(&[][..], Vec::as_slice);
        account_meant(cx, client_id, fics)
    });
    let pod = PodObs {
        namespace: cx.ns().into(),
        service_account: account
            .unwrap_or("<the service account of its pods>")
            .into(),
        ..PodObs::default()
    };
    let sub = Ctx {
        pod: &pod,
        identity,
        ..cx.clone()
    };
    let mut link = Link::new(LinkKind::Federation);
    match node {
        true => {
            let _ = super::federation::node_identity_tenant(&sub, &mut link);
        }
        false => {
            let _ = super::federation::tenant(&sub, &mut link);
        }
    }
    let where_ = where_(cx);
    (link.findings.into_iter())
        .filter(|f| matches!(f.code, Code::KVC404 | Code::KVC406))
        .map(|mut f| {
            f.message = format!(
                "{}; {} {where_}, and the first pod that mounts it fails",
                f.message, cx.spc_name
            )
            .into();
            f
        })
        .collect()
}
