//! Findings of the Access link that one command fixes are one finding (one symptom, one
//! cause): a role whose data actions include another's takes its place, and equal fixes merge.
//! Decided on what each finding grants and says as data ([`Plan`]), never on the words of its
//! fix or message, which a later change may reword (audit WWW-rules, as
//! `Finding::now_looks_right` for "failed, now looks right").

use crate::chain::model::Link;
use crate::chain::rules::remedy;
use crate::snapshot::ObjectType;

/// How KVC501 ends: what a read without the grant meets.
pub(super) const FAILS: &str = ": the read fails with 403";

/// What a KVC501 or KVC502 of the Access link says and grants, as data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Plan {
    /// The message up to what is missing: `X holds R on Key Vault V, which does not grant `,
    /// or `no role assignment or access policy lets X (principal P) perform `.
    pub head: String,
    /// What is missing, one per object type: `A needed for a`, `A on Key Vault V for a`.
    pub missing: Vec<String>,
    /// The message after it (`: the read fails with 403` and what else KVC501 names).
    pub tail: String,
    /// The role assignments the fix creates and nothing else, when it is only those: (role,
    /// scope). Empty when the fix does more (deletes, an access policy): it is then one
    /// finding with another only when the two commands are the same.
    pub grants: Vec<(&'static str, String)>,
}

impl Plan {
    pub fn message(&self) -> String {
        format!("{}{}{}", self.head, self.missing.join(", nor "), self.tail)
    }
}

/// The Access findings from `from` on, each with its [`Plan`] (`None`: a finding of another
/// kind, merged only with one whose fix is the same command). Findings that one command fixes
/// are one finding: Certificate User reads certificates and keys (FACTS §8), so a cert and a
/// key object the identity cannot read are one missing grant, not two errors whose fixes each
/// create the same assignment.
pub(super) fn one_per_fix(link: &mut Link, from: usize, mut plans: Vec<Option<Plan>>) {
    plans.resize(link.findings.len() - from, None);
    within_certificate_user(link, from, &mut plans);
    let mut i = from;
    while i < link.findings.len() {
        let same = |j: usize| {
            let (a, b) = (&link.findings[j], &link.findings[i]);
            a.code == b.code
                && match (&plans[j - from], &plans[i - from]) {
                    (Some(p), Some(q)) if !p.grants.is_empty() && !q.grants.is_empty() => {
                        p.grants == q.grants
                    }
                    _ => a.fix == b.fix,
                }
        };
        let Some(j) = (from..i).find(|&j| same(j)) else {
            i += 1;
            continue;
        };
        let merged = link.findings.remove(i);
        let merged_plan = plans.remove(i - from);
        let into = &mut link.findings[j];
        // "X holds R on V, which does not grant A needed for a, nor B needed for b".
        // "no role assignment or access policy lets X perform A on V for a, nor B on V for b:
        // the read fails with 403".
        into.message = match (&mut plans[j - from], merged_plan) {
            (Some(p), Some(q)) if p.head == q.head && p.tail == q.tail => {
                p.missing.extend(q.missing);
                p.message()
            }
            _ => format!("{}; {}", into.message, merged.message),
        }
        .into();
        for e in merged.evidence {
            if !into.evidence.contains(&e) {
                into.evidence.push(e);
            }
        }
    }
}

/// Certificate User's data actions include all of Secrets User's (getSecret, readMetadata;
/// FACTS §8): where one finding's fix assigns Certificate User at some scopes, another's that
/// assigns Secrets User at the same scopes would grant nothing more, so that finding takes the
/// same command (and [`one_per_fix`] makes them one).
fn within_certificate_user(link: &mut Link, from: usize, plans: &mut [Option<Plan>]) {
    let secrets = remedy::role_for(ObjectType::Secret);
    let certs = remedy::role_for(ObjectType::Cert);
    for i in 0..plans.len() {
        let Some(p) = &plans[i] else { continue };
        if p.grants.is_empty() || p.grants.iter().any(|(role, _)| *role != secrets) {
            continue;
        }
        let widened: Vec<(&'static str, String)> = (p.grants.iter())
            .map(|(_, scope)| (certs, scope.clone()))
            .collect();
        let code = link.findings[from + i].code;
        let covering = (0..plans.len()).find(|&j| {
            j != i
                && link.findings[from + j].code == code
                && plans[j].as_ref().is_some_and(|q| q.grants == widened)
        });
        if let Some(j) = covering {
            link.findings[from + i].fix = link.findings[from + j].fix.clone();
            if let Some(p) = &mut plans[i] {
                p.grants = widened;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::catalog::Code;
    use crate::chain::model::{Finding, LinkKind, Severity};

    const SCOPE: &str = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv";

    fn finding(fix: &str, missing: &str) -> Finding {
        Finding {
            code: Code::KVC501,
            severity: Severity::Error,
            link: LinkKind::Access,
            namespace: "shop".into(),
            resource: "KeyVault/kv".into(),
            message: format!("no role assignment lets id perform {missing}{FAILS}").into(),
            evidence: Vec::new(),
            confirm: "az role assignment list".into(),
            fix: fix.into(),
            follows: None,
            chain: "".into(),
            suppressed: None,
            now_looks_right: false,
        }
    }

    fn plan(role: &'static str, missing: &str) -> Option<Plan> {
        Some(Plan {
            head: "no role assignment lets id perform ".into(),
            missing: vec![missing.into()],
            tail: FAILS.into(),
            grants: vec![(role, SCOPE.into())],
        })
    }

    /// A secret and a cert the identity cannot read are one missing grant (Certificate User
    /// reads both, FACTS §8), decided on what each fix grants: fixes worded otherwise than
    /// `az role assignment create … --role "…"` (a note, another spelling) keep the
    /// behaviour, and the merged message names both reads.
    #[test]
    fn a_reworded_fix_is_still_one_grant_of_certificate_user() {
        let mut link = Link::new(LinkKind::Access);
        let (secret, cert) = (
            "getSecret on kv for secret db",
            "certificates/read on kv for cert tls",
        );
        link.findings
            .push(finding("# grant the secrets role at the vault", secret));
        link.findings
            .push(finding("# grant the certificates role at the vault", cert));
        let plans = vec![
            plan(remedy::role_for(ObjectType::Secret), secret),
            plan(remedy::role_for(ObjectType::Cert), cert),
        ];
        one_per_fix(&mut link, 0, plans);
        assert_eq!(link.findings.len(), 1, "{:#?}", link.findings);
        let f = &link.findings[0];
        assert_eq!(&*f.fix, "# grant the certificates role at the vault");
        assert_eq!(
            &*f.message,
            format!("no role assignment lets id perform {secret}, nor {cert}{FAILS}")
        );
    }

    /// Two fixes that create nothing plainly (no plan grants) are one finding only when they
    /// are the same command.
    #[test]
    fn fixes_without_a_plain_grant_merge_only_when_equal() {
        let mut link = Link::new(LinkKind::Access);
        link.findings.push(finding(
            "az keyvault set-policy --secret-permissions get",
            "a",
        ));
        link.findings
            .push(finding("az keyvault set-policy --key-permissions get", "b"));
        one_per_fix(&mut link, 0, vec![None, None]);
        assert_eq!(link.findings.len(), 2, "{:#?}", link.findings);
    }
}
