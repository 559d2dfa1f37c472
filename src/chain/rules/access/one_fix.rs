//! Findings of the Access link that one command fixes are one finding (one symptom, one
//! cause): a role whose data actions include another's takes its place, and equal fixes merge.

use crate::chain::model::Link;
use crate::chain::rules::remedy;
use crate::snapshot::ObjectType;

/// How KVC501 ends: what a read without the grant meets.
pub(super) const FAILS: &str = ": the read fails with 403";

/// Findings from `from` on that one command fixes are one finding: Certificate User reads
/// certificates and keys (FACTS §8), so a cert and a key object the identity cannot read are
/// one missing grant, not two errors whose fixes each create the same assignment.
pub(super) fn one_per_fix(link: &mut Link, from: usize) {
    const NOT_GRANTED: &str = ", which does not grant ";
    within_certificate_user(link, from);
    let mut i = from;
    while i < link.findings.len() {
        let (code, fix) = (link.findings[i].code, link.findings[i].fix.clone());
        let Some(j) =
            (from..i).find(|&j| link.findings[j].code == code && link.findings[j].fix == fix)
        else {
            i += 1;
            continue;
        };
        let merged = link.findings.remove(i);
        let into = &mut link.findings[j];
        // "X holds R on V, which does not grant A needed for a, nor B needed for b".
        // "no role assignment or access policy lets X perform A on V for a, nor B on V for b:
        // the read fails with 403".
        let missing = |m: &'_ str| {
            let (who, what) = m.split_once(" perform ")?;
            Some((who.to_string(), what.strip_suffix(FAILS)?.to_string()))
        };
        let message = match (
            into.message.split_once(NOT_GRANTED),
            merged.message.split_once(NOT_GRANTED),
        ) {
            (Some((held, _)), Some((same, more))) if held == same => {
                format!("{}, nor {more}", into.message)
            }
            _ => match (missing(&into.message), missing(&merged.message)) {
                (Some((who, what)), Some((same, more))) if who == same => {
                    format!("{who} perform {what}, nor {more}{FAILS}")
                }
                _ => format!("{}; {}", into.message, merged.message),
            },
        };
        into.message = message.into();
        for e in merged.evidence {
            if !into.evidence.contains(&e) {
                into.evidence.push(e);
            }
        }
    }
}

/// Certificate User's data actions include all of Secrets User's (getSecret, readMetadata;
/// FACTS §8): where one finding's fix assigns Certificate User at a scope, another's Secrets
/// User at the same scope would grant nothing more, so that finding takes the same command
/// (and [`one_per_fix`] makes them one).
fn within_certificate_user(link: &mut Link, from: usize) {
    let secrets = format!("--role \"{}\"", remedy::role_for(ObjectType::Secret));
    let certs = format!("--role \"{}\"", remedy::role_for(ObjectType::Cert));
    for i in from..link.findings.len() {
        let f = &link.findings[i];
        if !f.fix.contains(&secrets) {
            continue;
        }
        let widened = f.fix.replace(&secrets, &certs);
        let covered = (from..link.findings.len()).any(|j| {
            j != i && link.findings[j].code == f.code && *link.findings[j].fix == *widened
        });
        if covered {
            link.findings[i].fix = widened.into();
        }
    }
}
