//! Federation link (workload identity only): a federated credential on the identity whose
//! issuer, subject and audience equal the token the driver presents — exact, case-sensitive
//! (FACTS §7) — and the tenant the exchange happens in.

use super::remedy::{self, AUDIENCE};
use super::{set, unknown};
use crate::chain::catalog::Code;
use crate::chain::context::{AuthMode, Ctx};
use crate::chain::model::{Fact, Link, Status, Text};
use crate::snapshot::FederatedCredentialObs;

mod tenant;

pub(crate) use tenant::{
    cross_tenant_fix, node_identity as node_identity_tenant, tenant, vault_refused_issuer,
};

pub(crate) fn check(cx: &mut Ctx, link: &mut Link) {
    match &cx.mode {
        AuthMode::WorkloadIdentity { .. } => {}
        AuthMode::TokenProxy { .. } => {
            // The binding's exchange asks the SPC's tenantID for the identity's token as
            // workload identity does, and Key Vault takes its own tenant's tokens only (FACTS
            // §11 'Tenants'): the tenants are judged alike (audit XD-tenant).
            let _ = tenant(cx, link);
            // Identity binding (FACTS §5): one credential per identity, made by the AKS
            // identity binding for any workload; kvchain does not read bindings, so only a
            // mount proves it.
            if cx.mounted() {
                set(link, Status::Ok, super::PROVEN_BY_MOUNT);
            } else {
                unknown(
                    link,
                    "identity binding",
                    "identity binding (useAzureTokenProxy): the binding's federated credential is not checked by kvchain; a mount proves it",
                );
            }
            return;
        }
        AuthMode::Unknown | AuthMode::Invalid => {
            if !super::spc_unread(cx, link) {
                set(link, Status::Pending, "no mode");
            }
            return;
        }
        AuthMode::VmIdentity { .. } if tenant::node_identity(cx, link) => return,
        AuthMode::ServicePrincipal { .. } if tenant::service_principal(cx, link) => return,
        _ => {
            // Node identity, pod identity, a service principal's secret: the provider gets
            // its token without a federated credential (FACTS §5), so this link is no part of
            // the chain. Not "ok": nothing was checked (audit VVV-honest).
            let why = match cx.mode {
                AuthMode::VmIdentity { .. } => {
                    "node identity (useVMManagedIdentity): the provider takes the token of an identity on the node, no federated credential takes part"
                }
                AuthMode::PodIdentity => {
                    "pod identity (usePodIdentity): the NMI answers for the pod's identity, no federated credential takes part"
                }
                _ => {
                    "service principal (nodePublishSecretRef): the provider signs in with its client secret, no federated credential takes part"
                }
            };
            link.not_applicable(why);
            set(link, Status::Ok, "does not apply");
            return;
        }
    }
    let subject = cx.subject();
    super::note(cx, link, || Fact::new("expected subject", subject.as_str()));
    let tenant_unjudged = tenant(cx, link);
    // A missing service account (KVC202) is fixed by creating it under the pod's
    // serviceAccountName, whose subject is fixed by the pod spec (FACTS §6, §7): the credential
    // is judged for it now, next to KVC202, not a round later (audit DD5). Only where KVC202's
    // fix moves the pod to another account (one annotated with the SPC's clientID already)
    // does the subject follow from that choice (the tenant above does not depend on it).
    if cx.pod.static_node().is_some() {
        set(
            link,
            Status::Pending,
            "blocked: a static pod has no service account",
        );
        return;
    }
    if super::service_account::known_missing(cx) && remedy::annotated_sa(cx).is_some() {
        set(link, Status::Pending, "blocked: service account missing");
        return;
    }
    let Some(identity) = cx.identity else {
        let client = cx.mode.client_id().unwrap_or_default();
        match super::identity::unseen(cx, client) {
            Some(_) if cx.mounted() => set(link, Status::Ok, super::PROVEN_BY_MOUNT),
            Some(reason) => unknown(link, "Azure unknown", reason),
            None => set(link, Status::Pending, "no identity"),
        }
        return;
    };
    let fics = match &identity.federated_credentials {
        crate::snapshot::Observed::Known(f) => f,
        crate::snapshot::Observed::Unknown(reason) => {
            if cx.mounted() {
                set(link, Status::Ok, super::PROVEN_BY_MOUNT);
            } else {
                unknown(link, "FICs unknown", reason);
            }
            return;
        }
    };
    // The cluster's issuer; when it cannot be read, an AADSTS70021 message still proves which
    // issuer the driver's token carried.
    let presented = remedy::presented_issuer(cx);
    let issuer = cx.cluster().oidc_issuer.known().or(presented.as_ref());
    let by_subject: Vec<&FederatedCredentialObs> =
        fics.iter().filter(|f| f.subject == subject).collect();
    // No credential matches now (subject, issuer, audience: FACTS §7). For a retired pod whose
    // owner makes no pod that needs it (a complete Job's pod) that is history, like its
    // ServiceAccount or SecretProviderClass gone since: it exchanges no token again (II3).
    let usable = by_subject.iter().any(|f| {
        issuer.is_none_or(|i| f.issuer == *i) && f.audiences.iter().any(|a| a == AUDIENCE)
    });
    let what = format!(
        "a federated credential on {} for subject {subject}",
        identity.name
    );
    if !usable
        && super::gone_for_retired(cx, link, &what, |t| {
            t.service_account == cx.pod.service_account
        })
    {
        return;
    }
    if by_subject.is_empty() {
        subject_mismatch(cx, link, fics, &subject);
        return;
    }
    let Some(issuer) = issuer else {
        let reason = cx
            .cluster()
            .oidc_issuer
            .unknown_reason()
            .unwrap_or("not observed")
            .to_string();
        if cx.mounted() {
            set(link, Status::Ok, super::PROVEN_BY_MOUNT);
        } else {
            super::unknown_check(
                link,
                "issuer unknown",
                "the cluster's OIDC issuer, which each federated credential must name".into(),
                &reason,
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
        } else if !slip_of(&f.issuer, issuer) {
            " (another issuer, another cluster's perhaps: this cluster needs a credential of its own)"
        } else {
            ""
        };
        let (confirm, _) = remedy::commands(cx, Code::KVC402);
        // A slip of this cluster's issuer is corrected in place. Any other issuer may be
        // another cluster's: issuer+subject are unique per identity (FACTS §7), so each
        // cluster has a credential of its own, and updating that one would break its
        // workloads where kvchain does not look. This cluster's is created beside it, under
        // a free name, as KVC401 creates one (audit LL11).
        // Every field of that credential that differs, as KVC401 says them: AADSTS70021
        // names none, and an update of the issuer alone left a wrong audience failing the
        // exchange (FACTS §11; audit RRR-facts).
        let audience_off = !f.audiences.iter().any(|a| a == AUDIENCE);
        let fix = if slip_of(&f.issuer, issuer) {
            let audiences = if audience_off {
                format!(" --audiences {AUDIENCE}")
            } else {
                String::new()
            };
            format!(
                "az identity federated-credential update --name {} --identity-name {} -g {} --issuer {issuer}{audiences}",
                f.name,
                identity.name,
                remedy::identity_rg(cx)
            )
        } else {
            format!(
                "{}  # credential {} stays as it is: its issuer {} may be another cluster's, which uses it",
                remedy::fic_create(cx),
                f.name,
                f.issuer
            )
        };
        // Each text names where the issuer was read: with the cluster's unread, it is the one
        // its tokens carry, from the exchange error's Assertion Issuer (audit DDD11).
        let (whose, seen) = match cx.cluster().oidc_issuer.known() {
            Some(_) => (
                "the cluster's OIDC issuer",
                format!("cluster oidcIssuerProfile.issuerUrl: {issuer}"),
            ),
            None => (
                "the issuer the cluster's tokens carry",
                format!("issuer of the token presented (cluster's unread): {issuer}"),
            ),
        };
        let mut evidence = vec![format!("credential {}: issuer {}", f.name, f.issuer), seen];
        let also = if audience_off {
            link.facts
                .push(Fact::compare("audience", f.audiences.join(","), AUDIENCE));
            evidence.push(format!(
                "credential {}: audiences {:?}",
                f.name, f.audiences
            ));
            format!(", and its audiences {:?} lack {AUDIENCE}", f.audiences)
        } else {
            String::new()
        };
        link.findings.push(cx.finding(
            Code::KVC402,
            format!("ManagedIdentity/{}", identity.name),
            format!(
                "federated credential {} on {} has issuer {} but {whose} is {issuer}{why}{also} ({})",
                f.name,
                identity.name,
                f.issuer,
                entra_code("AADSTS700211")
            ),
            evidence,
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
    match tenant_unjudged {
        Some(domain) if !cx.mounted() => unknown(
            link,
            "tenant unknown",
            &format!(
                "tenantID {domain} is a domain name: Entra ID takes a tenant's verified domain for its id, and kvchain does not read which tenant a domain names; a mount proves it"
            ),
        ),
        _ => set(link, Status::Ok, Text::from(f.name.as_str())),
    }
}

/// Whether issuer `had` is a slip of the cluster's issuer `want`: no URL an issuer could be
/// (not https), or `want` but for the trailing '/', letter case or a character or two.
/// Anything else is an issuer of its own, another cluster's perhaps (audit LL11).
fn slip_of(had: &str, want: &str) -> bool {
    let norm = |s: &str| s.trim().trim_end_matches('/').to_ascii_lowercase();
    let (had, want) = (norm(had), norm(want));
    !had.starts_with("https://") || strsim::levenshtein(&had, &want) <= 2
}

fn subject_mismatch(cx: &Ctx, link: &mut Link, fics: &[FederatedCredentialObs], subject: &str) {
    let identity = cx.identity.map_or("", |i| i.name.as_str());
    // The distance only ranks several credentials: one is the nearest whatever it is.
    let nearest = match fics {
        [] | [_] => fics.first(),
        _ => fics
            .iter()
            .map(|f| (strsim::levenshtein(&f.subject, subject), f))
            .min_by_key(|(d, _)| *d)
            .map(|(_, f)| f),
    };
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
            // Every field of that credential that differs: fixing the subject alone would
            // leave the exchange failing on the next one (AADSTS70021 names none of them).
            let presented = remedy::presented_issuer(cx);
            let issuer = cx.cluster().oidc_issuer.known().or(presented.as_ref());
            let mut also = String::new();
            if let Some(iss) = issuer.filter(|iss| **iss != f.issuer) {
                also.push_str(&format!(
                    ", and its issuer {} is not the cluster's {iss}",
                    f.issuer
                ));
                evidence.push(format!("credential {}: issuer {}", f.name, f.issuer));
            }
            if !f.audiences.iter().any(|a| a == remedy::AUDIENCE) {
                also.push_str(&format!(
                    ", and its audiences {:?} lack {}",
                    f.audiences,
                    remedy::AUDIENCE
                ));
            }
            format!(
                "; nearest is {} on credential {}: {}{also}",
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
        // Entra's code right after the subject it refuses: after the detail, whose own
        // parenthesis (AADSTS7002138) it followed, it read `…)) (AADSTS70021)` once the event's
        // code was quoted.
        format!(
            "no federated credential on {identity} has subject {subject} ({}){detail}",
            entra_code("AADSTS700213")
        ),
        evidence,
    ));
}

/// What Entra answers for a credential mismatch, as far as the objects tell: AADSTS70021 for
/// any of the three fields, or its newer field-specific successor `newer` (FACTS §5/§11).
/// The group's links are shared by every pod, so the event's own code is quoted per chain,
/// when its event is folded in ([`quote_event_code`]).
fn entra_code(newer: &str) -> String {
    format!("Entra ID answers AADSTS70021, or {newer} on newer tenants")
}

/// A current token-exchange event folded into finding `f`: `f` quotes the Entra code that
/// event carries instead of naming both.
pub(crate) fn quote_event_code(f: &mut crate::chain::model::Finding, event_message: &str) {
    const OPEN: &str = "(Entra ID answers AADSTS70021, or ";
    const CLOSE: &str = " on newer tenants)";
    let Some(code) = crate::chain::events::aadsts(event_message) else {
        return;
    };
    let Some(start) = f.message.find(OPEN) else {
        return;
    };
    let Some(len) = f.message[start..].find(CLOSE) else {
        return;
    };
    let end = start + len + CLOSE.len();
    f.message = format!("{}({code}){}", &f.message[..start], &f.message[end..]).into();
}

/// The kind of difference between a credential's subject and the expected one.
pub(crate) fn difference(found: &str, expected: &str, namespace: &str) -> &'static str {
    const PREFIX: &str = "system:serviceaccount:";
    if found.eq_ignore_ascii_case(expected) {
        return "differs only in case, and matching is case-sensitive (AADSTS7002138 on newer tenants)";
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
