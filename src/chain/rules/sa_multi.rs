//! KVC204 on a pod that mounts several SecretProviderClasses with different clientIDs (audit
//! A17-4). Each mount uses its own SPC's clientID with the token the kubelet mints for the
//! pod's ServiceAccount (FACTS §5: the provider does not read the annotation), so the
//! annotation changes no mount (whether each works is its own chain's to say); the annotation only decides the one AZURE_CLIENT_ID the webhook gives the
//! app (FACTS §6). It can name one identity: the finding is per SPC, says which identity the
//! app gets and which SPC disagrees, and never tells the user to set it to one SPC's identity
//! when another SPC of the pod agrees with it now.

use super::remedy;
use super::service_account::same;
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::index::SPC_ATTRIBUTE;
use crate::chain::model::{Link, Severity};
use crate::snapshot::VolumeSourceObs;

/// The other SecretProviderClasses this chain's pod mounts, with the clientID each mount
/// uses (a volume's own `clientID` attribute over the SPC's, as the driver merges them),
/// sorted by name; only those whose clientID differs from `spc_client`.
pub(super) fn other_clients<'a>(cx: &Ctx<'a>, spc_client: &str) -> Vec<(&'a str, &'a str)> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for v in &cx.pod.volumes {
        let VolumeSourceObs::Csi { attributes, .. } = &v.source else {
            continue;
        };
        let Some(name) = attributes.get(SPC_ATTRIBUTE).map(String::as_str) else {
            continue;
        };
        if name == cx.spc_name || std::ptr::eq(v, cx.volume) {
            continue;
        }
        let client = attributes.get("clientID").map(String::as_str).or_else(|| {
            cx.ix
                .spcs
                .get(&(cx.ns(), name))
                .and_then(|spc| spc.parsed.client_id.as_deref())
        });
        if let Some(client) = client.filter(|c| !same(c, spc_client))
            && !super::params::is_placeholder(client)
            && !out.iter().any(|(n, _)| *n == name)
        {
            out.push((name, client));
        }
    }
    out.sort_unstable();
    out
}

/// KVC204 for this SPC when the pod mounts `others` too (non-empty), whichever finding fits
/// the account: the annotation is another workload's SPC's identity (audit LL1: this SPC
/// moves onto it, as a one-SPC pod's would), or other workloads run as the account and
/// the account's one plan applies (audit PP1: this pod's own plan would annotate another
/// value than the account's); else this pod's own ([`check`]).
pub(super) fn several(
    cx: &Ctx,
    link: &mut Link,
    annotated: &str,
    spc_client: &str,
    others: &[(&str, &str)],
    labelled: bool,
) {
    let own_agrees = others.iter().any(|(_, c)| same(c, annotated));
    let elsewhere = (!own_agrees)
        .then(|| agreeing_elsewhere(cx, annotated))
        .flatten();
    if let Some(agreeing) = elsewhere {
        shared_account(cx, link, annotated, spc_client, agreeing, labelled);
    } else if !super::sa_account::check_shared(cx, link, annotated, labelled) {
        check(cx, link, annotated, spc_client, others, labelled);
    }
}

/// KVC204 for this SPC when the pod mounts `others` too (non-empty): the annotation says
/// `annotated`, this SPC uses `spc_client`.
fn check(
    cx: &Ctx,
    link: &mut Link,
    annotated: &str,
    spc_client: &str,
    others: &[(&str, &str)],
    labelled: bool,
) {
    let sa = cx.pod.service_account.as_str();
    let ns = cx.ns();
    let mut evidence = vec![format!(
        "ServiceAccount {sa}: azure.workload.identity/client-id: {annotated}"
    )];
    let mut all: Vec<(&str, &str)> = others.to_vec();
    all.push((cx.spc_name, spc_client));
    all.sort_unstable();
    evidence.extend(all.iter().map(|(n, c)| {
        format!(
            "pod {} mounts SecretProviderClass {n}: clientID {c}",
            cx.pod.name
        )
    }));
    let listed = all
        .iter()
        .map(|(n, c)| format!("{n} (clientID {c})"))
        .collect::<Vec<_>>()
        .join(", ");
    let (confirm, _) = remedy::commands(cx, Code::KVC204);
    let app = if labelled {
        "the webhook gives the app"
    } else {
        "labelled azure.workload.identity/use, the webhook would give the app"
    };
    // Said once for the owner's pods (the same text folds their chains' findings into one,
    // each pod's volumes its evidence), not once per pod (audit II6).
    let mount = match cx.workload {
        Some(_) => format!("pods of {} mount", cx.owner_resource()),
        None => format!("pod {} mounts", cx.pod.name),
    };
    let agreeing = others.iter().find(|(_, c)| same(c, annotated));
    let (message, fix, severity) = match agreeing {
        // The annotation is another SPC's identity: this SPC's mount works as it is, and
        // annotating it with this SPC's would only move the disagreement to the other one.
        Some((other, _)) => (
            format!(
                "{mount} SecretProviderClasses {listed}; service account {sa} says client-id {annotated}, so {app} AZURE_CLIENT_ID {annotated} (SecretProviderClass {other}'s identity), and SecretProviderClass {} disagrees: its mount uses clientID {spc_client} itself (the driver does not read the annotation), so the annotation changes no mount (each chain says whether its mount works); only the app's own Azure calls as {spc_client} would not get that identity",
                cx.spc_name
            ),
            format!(
                "# nothing to change for the mounts; keep client-id {annotated} (setting it to {spc_client} would make SecretProviderClass {other} disagree instead). Only if the app itself calls Azure as {spc_client}: set AZURE_CLIENT_ID={spc_client} in the container that does (the webhook never overwrites a variable the pod spec sets)"
            ),
            Severity::Info,
        ),
        // The annotation is no mounted SPC's: the app's identity is none of them. One
        // annotation for every chain of the pod, not one per SPC: the mounted SPC's identity
        // the running pods hold (injected at creation, what the app uses now), else the
        // first SPC's by name.
        None => {
            let held = super::service_account::injected_client_id(cx.pod);
            let (first, id) = held
                .and_then(|h| all.iter().find(|(_, c)| same(c, h)))
                .copied()
                .unwrap_or(all[0]);
            let now = match held {
                Some(h) if !same(h, annotated) => format!(
                    "running pods still hold AZURE_CLIENT_ID {h} (injected when they were created), and pods created from now on get {annotated}"
                ),
                _ => format!("{app} AZURE_CLIENT_ID {annotated}"),
            };
            let rest = all
                .iter()
                .filter(|(n, _)| *n != first)
                .map(|(n, c)| format!("{c} ({n}'s)"))
                .collect::<Vec<_>>()
                .join(" or ");
            (
                format!(
                    "{mount} SecretProviderClasses {listed}; service account {sa} says client-id {annotated}, which none of them uses: {now}; SecretProviderClass {} mounts as {spc_client} (the driver does not read the annotation)",
                    cx.spc_name
                ),
                format!(
                    "kubectl annotate serviceaccount {sa} -n {ns} azure.workload.identity/client-id={} --overwrite && {}  # the annotation names the one identity the app gets: {first}'s here, or {rest} if the app calls Azure as that; the mounts use their SPCs' clientIDs either way",
                    remedy::sh_word(id),
                    remedy::restart_sa_runners(cx)
                ),
                if labelled {
                    Severity::Warning
                } else {
                    Severity::Info
                },
            )
        }
    };
    let mut f = cx.finding(
        Code::KVC204,
        cx.sa_resource(),
        message,
        evidence,
        confirm,
        fix,
    );
    f.severity = severity;
    link.findings.push(f);
}

/// A SecretProviderClass that another workload running as this chain's ServiceAccount mounts
/// with clientID `annotated` (the account's own), and that workload (`Kind/name`): the
/// account holds one client-id (FACTS §6), so setting it to this chain's SPC's would make
/// that SPC disagree instead, and its KVC204 fix would set it back (audit LL1).
pub(super) fn agreeing_elsewhere<'a>(cx: &Ctx<'a>, annotated: &str) -> Option<(&'a str, String)> {
    let ns = cx.ns();
    for p in cx.ix.runners_of(ns, &cx.pod.service_account) {
        for v in &p.volumes {
            let VolumeSourceObs::Csi { attributes, .. } = &v.source else {
                continue;
            };
            let Some(name) = attributes.get(SPC_ATTRIBUTE).map(String::as_str) else {
                continue;
            };
            if name == cx.spc_name {
                continue;
            }
            let client = attributes.get("clientID").map(String::as_str).or_else(|| {
                (cx.ix.spcs.get(&(ns, name))).and_then(|s| s.parsed.client_id.as_deref())
            });
            if client.is_some_and(|c| same(c, annotated)) {
                let owner = cx
                    .ix
                    .workload_of(p)
                    .map_or(format!("Pod/{}", p.name), |(k, n)| format!("{k}/{n}"));
                return Some((name, owner));
            }
        }
    }
    None
}

/// KVC204 when the account's client-id `annotated` is SecretProviderClass `other`'s, mounted
/// by `owner`, and this chain's SPC uses `spc_client`: no annotation serves both. This SPC
/// moves onto the account's identity (given read access to its objects first, unless known
/// to have it), never the annotation; where that identity is known to lack something, the
/// fix says to give this workload a service account of its own.
pub(super) fn shared_account(
    cx: &Ctx,
    link: &mut Link,
    annotated: &str,
    spc_client: &str,
    (other, owner): (&str, String),
    labelled: bool,
) {
    use super::identity_side::{readiness, set_spc_client};
    let sa = cx.pod.service_account.as_str();
    let this = cx.owner_resource();
    let (confirm, _) = remedy::commands(cx, Code::KVC204);
    let message = format!(
        "service account {sa} says client-id {annotated}, the identity of SecretProviderClass {other} ({owner} runs as {sa} too), but SecretProviderClass {} of {this} uses clientID {spc_client}: an account names one identity, so {this}'s app and mount authenticate as different identities, and annotating {spc_client} would make {other} disagree instead",
        cx.spc_name
    );
    let split = format!(
        "or run {this} as a service account of its own annotated azure.workload.identity/client-id={spc_client}, with a federated credential for it on that identity (Entra ID federated identity credentials)"
    );
    let r = readiness(cx, annotated);
    let fix = if r.lacking() {
        format!(
            "# {} {}: complete it and point SecretProviderClass {} at it ({}), {split}",
            r.named(),
            r.shortfall(cx),
            cx.spc_name,
            set_spc_client(cx, annotated)
        )
    } else {
        let principal = match r.identity {
            Some(i) => remedy::sh_word(&i.principal_id).into_owned(),
            None => remedy::identity_by_client(annotated, "principalId"),
        };
        let grant = (r.granted != Some(true)).then(|| remedy::grant_read(cx, &principal));
        let patch = set_spc_client(cx, annotated);
        let parts: Vec<&str> = grant
            .iter()
            .map(String::as_str)
            .chain([patch.as_str()])
            .collect();
        format!(
            "{}  # SecretProviderClass {} moves onto the account's identity, which {other} already uses (the annotation stays); {split}",
            remedy::in_turn(&parts),
            cx.spc_name
        )
    };
    let mut f = cx.finding(
        Code::KVC204,
        cx.sa_resource(),
        message,
        vec![
            format!("ServiceAccount {sa}: azure.workload.identity/client-id: {annotated}"),
            format!("SecretProviderClass {other} (mounted by {owner}): clientID {annotated}"),
            format!(
                "SecretProviderClass {}: clientID: {spc_client}",
                cx.spc_name
            ),
        ],
        confirm,
        fix,
    );
    if !labelled {
        f.severity = Severity::Info;
    }
    link.findings.push(f);
}
