//! KVC807: two SecretProviderClasses of one namespace syncing one Secret, judged by which of
//! them pods mount now (and what is unknown when the pods went unread).

use super::remedy;
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::index::may_mount;
use crate::chain::model::{Link, Severity};
use crate::snapshot::SecretObjectSpec;

/// KVC807: another SecretProviderClass of the namespace syncs the same Secret. The driver
/// writes it from whichever pod's SPC it reconciles (FACTS §2: v1.6 creates or updates on
/// every reconcile; before, the first creates it and rotation patches it from each), so its
/// content flips between the two and readers get either. Only SPCs that pods mount write
/// (FACTS §11: no mount, no Secret): while just one of them is mounted the Secret has one
/// writer, and the clash is latent — a warning on the SPC no pod mounts (the one whose first
/// mount would start it, and whose rename breaks no reader), nothing on the one in use.
/// With the pods and their SPC statuses unread, whether an SPC writes is unknown (audit SS1):
/// no error is made of that, one warning says so.
/// Whether Secret `so` names is known not to exist (Secrets read in the namespace): then no
/// reader gets either writer's values, the clash is latent, and the absence's own cause (the
/// driver's refused write, no mount) is said before it (audit UU4).
pub(super) fn absent(cx: &Ctx, so: &SecretObjectSpec) -> bool {
    cx.snap().secrets.unknown_in(cx.ns()).is_none()
        && !(cx.ix.secrets).contains_key(&(cx.ns(), so.secret_name.as_str()))
}

pub(super) fn check(cx: &Ctx, link: &mut Link, so: &SecretObjectSpec) {
    let Some(writers) = cx
        .ix
        .secret_writers
        .get(&(cx.ns(), so.secret_name.as_str()))
    else {
        return;
    };
    if writers.len() < 2 {
        return;
    }
    // With the pods unread, "mounted" is what the SPC pod statuses read say.
    let pods_unread = cx.ix.snap.pods.unknown_in(cx.ns());
    let evidence = || {
        writers
            .iter()
            .map(|w| {
                let mounted = match (cx.ix.writes_now_known(w), pods_unread) {
                    (Some(true), _) => "",
                    (Some(false), None) if cx.ix.spc_users(cx.ns(), &w.name).is_some() => {
                        " (no pod has it mounted)"
                    }
                    (Some(false), None) => " (mounted by no pod)",
                    (Some(false), Some(_)) => " (no SPC pod status read names it)",
                    (None, _) => " (whether a pod mounts it is unknown)",
                };
                format!(
                    "SecretProviderClass {}{mounted}: secretObjects[].secretName: {}",
                    w.name, so.secret_name
                )
            })
            .collect::<Vec<_>>()
    };
    let this = cx.spc.map_or(Some(true), |spc| cx.ix.writes_now_known(spc));
    let mut others: Vec<&str> = writers
        .iter()
        .map(|w| w.name.as_str())
        .filter(|n| *n != cx.spc_name)
        .collect();
    others.sort_unstable();
    let others_joined = |names: &[&str]| {
        format!(
            "{} {}",
            names.join(" and "),
            if names.len() == 1 { "syncs" } else { "sync" }
        )
    };
    if this == Some(false) {
        let idle = match pods_unread {
            // Its pods wait for their mount (FACTS §1: no status before a successful one).
            None if cx.ix.spc_users(cx.ns(), cx.spc_name).is_some() => format!(
                "no pod has {} mounted (the pods naming it wait for their mount)",
                cx.spc_name
            ),
            None => format!("no pod mounts {}", cx.spc_name),
            // Audit SS1: the pods are unread, but the statuses read say no pod mounts it.
            Some(why) => format!(
                "no SPC pod status names {} (pods unread: {why})",
                cx.spc_name
            ),
        };
        let message = format!(
            "SecretProviderClass {} syncs Secret {}, which {} too: {idle}, so it writes nothing now, but once one does the Secret's content follows whichever wrote last",
            cx.spc_name,
            so.secret_name,
            others_joined(&others),
        );
        let readers = own_readers(cx, &so.secret_name);
        let edit = if readers.is_empty() {
            "give secretObjects[].secretName a name no other SPC writes before a pod mounts this one (no reader uses it yet)".to_string()
        } else {
            format!(
                "give secretObjects[].secretName a name no other SPC writes before a pod mounts this one, and point {} at the new name: its pods read {} now, which the other SPC writes",
                readers.join(", "),
                so.secret_name
            )
        };
        link.findings
            .push(warning(cx, so, message, evidence(), &edit));
        return;
    }
    // Whether the others write: known ones, and those nothing read can tell.
    let state = |n: &str| {
        writers
            .iter()
            .find(|w| w.name == n)
            .and_then(|w| cx.ix.writes_now_known(w))
    };
    let unknown: Vec<&str> = writers
        .iter()
        .filter(|w| cx.ix.writes_now_known(w).is_none())
        .map(|w| w.name.as_str())
        .collect();
    if this.is_none() {
        // Said once, on the least-named SPC nothing can tell about; nothing when every other
        // writer is known idle (each warns on itself).
        if others.iter().all(|n| state(n) == Some(false))
            || unknown.iter().min().is_some_and(|n| *n != cx.spc_name)
        {
            return;
        }
        let why = pods_unread.unwrap_or("pods unread");
        let message = format!(
            "SecretProviderClass {} syncs Secret {}, which {} too: which of them writes it now is unknown, as neither the pods nor their SPC pod statuses could be read ({why}); if more than one is mounted, the Secret's content follows whichever wrote last",
            cx.spc_name,
            so.secret_name,
            others_joined(&others),
        );
        let edit = "if pods mount more than one of these SPCs, give this one's secretObjects[].secretName a name no other SPC writes, and point its readers at it";
        link.findings
            .push(warning(cx, so, message, evidence(), edit));
        return;
    }
    let mut live: Vec<&str> = cx
        .ix
        .writers_now(cx.ns(), &so.secret_name)
        .into_iter()
        .filter(|w| cx.ix.writes_now_known(w) == Some(true))
        .map(|w| w.name.as_str())
        .collect();
    if live.len() < 2 {
        // The others are mounted by no pod (their own verdict warns), or not known to be
        // (the unknown one's verdict says so).
        return;
    }
    // One message whichever SPC's chain tells it: the report shows the conflict once.
    live.sort_unstable();
    let (last, rest) = live.split_last().unwrap_or((&"", &[]));
    let both = if rest.len() == 1 { "both" } else { "all" };
    if absent(cx, so) {
        // No Secret, no values to mix: the clash waits for the first write (a warning after
        // the absence's cause, which is what to fix first).
        let mut f = cx.remedied(
            Code::KVC807,
            format!("Secret/{}", so.secret_name),
            format!(
                "SecretProviderClasses {} and {last} {both} sync Secret {}, which does not exist now: once the driver writes it, it writes it from each one's mounts, so its content will follow whichever wrote last",
                rest.join(", "),
                so.secret_name
            ),
            evidence(),
        );
        f.severity = Severity::Warning;
        link.findings.push(f);
        return;
    }
    link.findings.push(cx.remedied(
        Code::KVC807,
        format!("Secret/{}", so.secret_name),
        format!(
            "SecretProviderClasses {} and {last} {both} sync Secret {}: the driver writes it from each one's mounts, so its content follows whichever wrote last and its readers may get any of their values",
            rest.join(", "),
            so.secret_name
        ),
        evidence(),
    ));
}

/// A KVC807 warning: this SPC writes nothing now, or which writer does is unknown; its fix
/// renames the SPC's Secret (`edit`).
/// The workloads (or bare pods, `Pod/<name>`) whose pods mount this chain's SPC and read Secret
/// `secret`: renamed by the SPC alone, the Secret they read stays the other SPC's, so the
/// rename must reach their references too (audit RRR-facts left "no reader uses it yet" said
/// over them). Sorted, each once.
fn own_readers(cx: &Ctx, secret: &str) -> Vec<String> {
    let mut names: Vec<String> = (cx.ix.secret_consumers.get(&(cx.ns(), secret)))
        .into_iter()
        .flatten()
        .filter(|c| may_mount(c.pod, cx.spc_name))
        .map(|c| match cx.ix.workload_of(c.pod) {
            Some((kind, name)) => format!("{kind}/{name}"),
            None => format!("Pod/{}", c.pod.name),
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

fn warning(
    cx: &Ctx,
    so: &SecretObjectSpec,
    message: String,
    evidence: Vec<String>,
    edit: &str,
) -> crate::chain::model::Finding {
    let mut f = cx.remedied(
        Code::KVC807,
        format!("Secret/{}", so.secret_name),
        message,
        evidence,
    );
    f.severity = Severity::Warning;
    f.fix = remedy::edit_spc(cx, edit).into();
    f
}
