//! Federation link (workload identity only): a federated credential on the identity whose
//! issuer, subject and audience equal the token the driver presents — exact, case-sensitive
//! (FACTS §7) — and the tenant the exchange happens in.

use super::remedy::{self, AUDIENCE};
use super::{set, unknown};
use crate::chain::catalog::Code;
use crate::chain::context::{AuthMode, Ctx};
use crate::chain::model::{Fact, Link, Status};
use crate::snapshot::FederatedCredentialObs;

pub(crate) fn check(cx: &mut Ctx, link: &mut Link) {
    match &cx.mode {
        AuthMode::WorkloadIdentity { .. } => {}
        AuthMode::TokenProxy { .. } => {
            // Identity binding: one credential per identity, managed by AKS for any workload.
            set(link, Status::Ok, "identity binding");
            return;
        }
        AuthMode::Unknown | AuthMode::Invalid => {
            if !super::spc_unread(cx, link) {
                set(link, Status::Pending, "no mode");
            }
            return;
        }
        _ => {
            set(link, Status::Ok, "not used");
            return;
        }
    }
    let subject = cx.subject();
    super::note(cx, link, || Fact::new("expected subject", subject.as_str()));
    tenant(cx, link);
    let Some(identity) = cx.identity else {
        match cx.snap().azure.identities.gaps.all.as_deref() {
            Some(_) if cx.mounted() => set(link, Status::Ok, "proven by mount"),
            Some(reason) => unknown(link, "Azure unknown", reason),
            None => set(link, Status::Pending, "no identity"),
        }
        return;
    };
    let fics = match &identity.federated_credentials {
        crate::snapshot::Observed::Known(f) => f,
        crate::snapshot::Observed::Unknown(reason) => {
            if cx.mounted() {
                set(link, Status::Ok, "proven by mount");
            } else {
                unknown(link, "FICs unknown", reason);
            }
            return;
        }
    };
    let issuer = cx.snap().cluster.oidc_issuer.known();
    let by_subject: Vec<&FederatedCredentialObs> =
        fics.iter().filter(|f| f.subject == subject).collect();
    if by_subject.is_empty() {
        subject_mismatch(cx, link, fics, &subject);
        return;
    }
    let Some(issuer) = issuer else {
        let reason = cx
            .snap()
            .cluster
            .oidc_issuer
            .unknown_reason()
            .unwrap_or("not observed")
            .to_string();
        if cx.mounted() {
            set(link, Status::Ok, "proven by mount");
        } else {
            unknown(
                link,
                "issuer unknown",
                &format!("cluster OIDC issuer: {reason}"),
            );
        }
        return;
    };
    let matching: Vec<&&FederatedCredentialObs> =
        by_subject.iter().filter(|f| f.issuer == *issuer).collect();
    if matching.is_empty() {
        let f = by_subject[0];
        link.facts
            .push(Fact::compare("issuer", f.issuer.as_str(), issuer.as_str()));
        let why = if f.issuer.trim_end_matches('/') == issuer.trim_end_matches('/') {
            " (only the trailing '/' differs, and it matters)"
        } else {
            ""
        };
        let (confirm, _) = remedy::commands(cx, Code::KVC402);
        let fix = format!(
            "az identity federated-credential update --name {} --identity-name {} -g {} --issuer {issuer}",
            f.name,
            identity.name,
            remedy::identity_rg(cx)
        );
        link.findings.push(cx.finding(
            Code::KVC402,
            format!("ManagedIdentity/{}", identity.name),
            format!(
                "federated credential {} on {} has issuer {} but the cluster's OIDC issuer is {issuer}{why} (AADSTS700211)",
                f.name, identity.name, f.issuer
            ),
            vec![
                format!("credential {}: issuer {}", f.name, f.issuer),
                format!("cluster oidcIssuerProfile.issuerUrl: {issuer}"),
            ],
            confirm,
            fix,
        ));
        return;
    }
    let f = matching[0];
    super::compare(cx, link, "subject", &f.subject, &subject);
    super::compare(cx, link, "issuer", &f.issuer, issuer);
    if !matching
        .iter()
        .any(|f| f.audiences.iter().any(|a| a == AUDIENCE))
    {
        link.facts
            .push(Fact::compare("audience", f.audiences.join(","), AUDIENCE));
        let (confirm, _) = remedy::commands(cx, Code::KVC403);
        let fix = format!(
            "az identity federated-credential update --name {} --identity-name {} -g {} --audiences {AUDIENCE}",
            f.name,
            identity.name,
            remedy::identity_rg(cx)
        );
        link.findings.push(cx.finding(
            Code::KVC403,
            format!("ManagedIdentity/{}", identity.name),
            format!(
                "federated credential {} on {} has audiences {:?}; the driver's token is for {AUDIENCE}",
                f.name, identity.name, f.audiences
            ),
            vec![format!("credential {}: audiences {:?}", f.name, f.audiences)],
            confirm,
            fix,
        ));
        return;
    }
    set(link, Status::Ok, f.name.clone());
}

fn subject_mismatch(cx: &Ctx, link: &mut Link, fics: &[FederatedCredentialObs], subject: &str) {
    let identity = cx.identity.map_or("", |i| i.name.as_str());
    let nearest = fics
        .iter()
        .map(|f| (strsim::levenshtein(&f.subject, subject), f))
        .min_by_key(|(d, _)| *d)
        .map(|(_, f)| f);
    let mut evidence: Vec<String> = fics
        .iter()
        .map(|f| format!("credential {}: subject {}", f.name, f.subject))
        .collect();
    if evidence.is_empty() {
        evidence.push(format!("{identity} has no federated credentials"));
    }
    let detail = match nearest {
        Some(f) => {
            link.facts.push(Fact::compare(
                "nearest subject",
                f.subject.as_str(),
                subject,
            ));
            format!(
                "; nearest is {} on credential {} ({})",
                f.subject,
                f.name,
                difference(&f.subject, subject, cx.ns())
            )
        }
        None => String::new(),
    };
    link.findings.push(cx.remedied(
        Code::KVC401,
        format!("ManagedIdentity/{identity}"),
        format!(
            "no federated credential on {identity} has subject {subject}{detail} (AADSTS70021)"
        ),
        evidence,
    ));
}

/// The kind of difference between a credential's subject and the expected one.
pub(crate) fn difference(found: &str, expected: &str, namespace: &str) -> &'static str {
    const PREFIX: &str = "system:serviceaccount:";
    if found.eq_ignore_ascii_case(expected) {
        return "differs only in case: matching is case-sensitive (AADSTS7002138)";
    }
    if found.replace('_', "-") == expected.replace('_', "-") {
        return "'_' vs '-'";
    }
    if !found.starts_with(PREFIX) {
        if expected.ends_with(found) || expected.strip_prefix(PREFIX) == Some(found) {
            return "missing the system:serviceaccount: prefix";
        }
        return "not a service-account subject";
    }
    let f: Vec<&str> = found.split(':').collect();
    let e: Vec<&str> = expected.split(':').collect();
    if f.len() < e.len() {
        return "missing a segment";
    }
    if f.len() == e.len() && f[2] != namespace && f[3] == e[3] {
        return "other namespace";
    }
    if f.len() == e.len() && f[2] == namespace {
        return "other service account";
    }
    "different subject"
}

/// SPC tenant vs the vault's tenant (KVC404): the token is requested in the SPC's tenant.
fn tenant(cx: &Ctx, link: &mut Link) {
    let Some(tenant) = cx.params.as_deref().and_then(|p| p.tenant_id.as_deref()) else {
        return;
    };
    let Some(vault) = cx.ix.vault(cx.keyvault()) else {
        return;
    };
    if cx.detail || !tenant.eq_ignore_ascii_case(&vault.tenant_id) {
        link.facts
            .push(Fact::compare("tenantID", tenant, vault.tenant_id.as_str()));
    }
    if tenant.eq_ignore_ascii_case(&vault.tenant_id) {
        return;
    }
    let (confirm, fix) = remedy::commands(cx, Code::KVC404);
    let fix = if fix.contains("<the vault's tenant>") {
        fix.replace("<the vault's tenant>", &vault.tenant_id)
    } else {
        fix
    };
    link.findings.push(cx.finding(
        Code::KVC404,
        cx.spc_resource(),
        format!(
            "SecretProviderClass {} has tenantID {tenant} but Key Vault {} is in tenant {}",
            cx.spc_name, vault.name, vault.tenant_id
        ),
        vec![
            format!("parameters.tenantID: {tenant}"),
            format!("vault {} tenantId: {}", vault.name, vault.tenant_id),
        ],
        confirm,
        fix,
    ));
}
