//! KVC204 when the workloads running as one ServiceAccount mount SecretProviderClasses with
//! different clientIDs and the account's annotation names none of them (audit NN2). An account
//! names one identity (FACTS §6), so no annotation agrees with every SPC: per SPC, "annotate it
//! with this SPC's clientID" gave each chain another value for the same account. Instead every
//! chain of the account says the same thing, once for the account (one message: the report
//! folds them): one identity is kept, the account is annotated with it, and every other SPC is
//! moved onto it (read access in its vault first, FACTS §8), the shape of audit LL1's fix.

use super::identity_side::{readiness, set_spc_client};
use super::remedy;
use super::service_account::same;
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::index::SPC_ATTRIBUTE;
use crate::chain::model::{Link, Severity};
use crate::snapshot::VolumeSourceObs;

/// One SecretProviderClass a workload of the account mounts: its name, the clientID its mount
/// uses (a volume's own attribute over the SPC's, as the driver merges them), the workloads
/// (`Kind/name`, by name) mounting it and the first one's mount context, for the fix that
/// moves it.
struct Mount<'a> {
    spc: &'a str,
    client: &'a str,
    owners: Vec<String>,
    cx: Ctx<'a>,
}

/// The SPCs the account's workloads mount (this chain's pod among them), each once, by name;
/// a placeholder clientID or none leaves an SPC out (it names no identity yet). The runners
/// first, in the index's order, so every chain of the account builds the same mounts.
fn account_mounts<'a>(cx: &Ctx<'a>) -> Vec<Mount<'a>> {
    let ns = cx.ns();
    let mut out: Vec<Mount> = Vec::new();
    let runners = cx.ix.runners_of(ns, &cx.pod.service_account);
    for p in runners.into_iter().chain(std::iter::once(cx.pod)) {
        for v in &p.volumes {
            let VolumeSourceObs::Csi { attributes, .. } = &v.source else {
                continue;
            };
            let Some(name) = attributes.get(SPC_ATTRIBUTE).map(String::as_str) else {
                continue;
            };
            if let Some(m) = out.iter_mut().find(|m| m.spc == name) {
                let owner = owner_of(cx, p);
                if !m.owners.contains(&owner) {
                    m.owners.push(owner);
                    m.owners.sort_unstable();
                }
                continue;
            }
            let client = attributes.get("clientID").map(String::as_str).or_else(|| {
                (cx.ix.spcs.get(&(ns, name))).and_then(|s| s.parsed.client_id.as_deref())
            });
            let Some(client) = client.map(str::trim) else {
                continue;
            };
            if client.is_empty() || super::params::is_placeholder(client) {
                continue;
            }
            let Some(mount) = cx.for_mount(p, v) else {
                continue;
            };
            out.push(Mount {
                spc: name,
                client,
                owners: vec![owner_of(cx, p)],
                cx: mount,
            });
        }
    }
    out.sort_by(|a, b| a.spc.cmp(b.spc));
    out
}

/// `Kind/name` of the workload running pod `p` (a bare pod is its own).
fn owner_of(cx: &Ctx, p: &crate::snapshot::PodObs) -> String {
    (cx.ix.workload_of(p)).map_or(format!("Pod/{}", p.name), |(k, n)| format!("{k}/{n}"))
}

/// KVC204 for the account when this chain's pod mounts several SPCs with different clientIDs
/// and other workloads run as its account too (audit PP1): the pod's own plan (annotate its
/// first SPC's identity, `sa_multi`) would contradict the account's, so the account's is
/// said, the same from every chain. `false` when the pod is the account's only workload or
/// the account plan does not apply (a mount uses the annotated identity).
pub(super) fn check_shared(cx: &Ctx, link: &mut Link, annotated: &str, labelled: bool) -> bool {
    let own = owner_of(cx, cx.pod);
    let runners = cx.ix.runners_of(cx.ns(), &cx.pod.service_account);
    runners.into_iter().any(|p| owner_of(cx, p) != own) && check(cx, link, annotated, labelled)
}

/// KVC204 for the account when its workloads mount SPCs with different clientIDs, none of them
/// `annotated`; `false` (nothing said) otherwise, the single-SPC finding then being the one.
pub(super) fn check(cx: &Ctx, link: &mut Link, annotated: &str, labelled: bool) -> bool {
    let mounts = account_mounts(cx);
    if mounts.iter().any(|m| same(m.client, annotated))
        || !mounts.iter().any(|m| !same(m.client, mounts[0].client))
    {
        return false;
    }
    // The identity kept: the first SPC's by name whose identity is not known to lack anything
    // for its own mount (it exists, is federated for the account, may read its objects), else
    // the first SPC's. Any one would do for the account; this choice is the same from every
    // chain, so every chain prints the same plan.
    let working = mounts
        .iter()
        .find(|m| !readiness(&m.cx, m.client).lacking());
    let kept = working.unwrap_or(&mounts[0]);
    let why = match working {
        Some(_) => {
            "the first by name not known to lack a federated credential or read access for its own mount"
        }
        None => "the first by name; every one is known to lack something for its own mount",
    };
    let sa = cx.pod.service_account.as_str();
    let ns = cx.ns();
    let id = kept.client;
    let mut steps = vec![format!(
        "kubectl annotate serviceaccount {} -n {ns} azure.workload.identity/client-id={} --overwrite",
        remedy::sh_word(sa),
        remedy::sh_word(id)
    )];
    let moved: Vec<&Mount> = mounts.iter().filter(|m| !same(m.client, id)).collect();
    for m in &moved {
        let r = readiness(&m.cx, id);
        if r.granted != Some(true) {
            let principal = match r.identity {
                Some(i) => remedy::sh_word(&i.principal_id).into_owned(),
                None => remedy::identity_by_client(id, "principalId"),
            };
            steps.push(remedy::grant_read(&m.cx, &principal));
        }
        steps.push(set_spc_client(&m.cx, id));
    }
    // The webhook injects the annotation at pod creation only (FACTS §6).
    steps.push(remedy::restart_sa_runners(cx));
    let join = |ms: &[&Mount], f: &dyn Fn(&Mount) -> String| {
        ms.iter().map(|m| f(m)).collect::<Vec<_>>().join(", ")
    };
    let all: Vec<&Mount> = mounts.iter().collect();
    // Each workload once, though it mounts several of the moved SPCs.
    let mut split: Vec<&str> = (moved.iter())
        .flat_map(|m| m.owners.iter().map(String::as_str))
        .collect();
    split.sort_unstable();
    split.dedup();
    let note = format!(
        "# an account names one identity (Azure Workload Identity webhook): {id}, SecretProviderClass {}'s, is kept ({why}); SecretProviderClass {} moves onto it, given read access first, so every app and mount of {sa} authenticates as it; or run {} as a service account of its own annotated with its SecretProviderClass's clientID, with a federated credential for it on that identity (Entra ID federated identity credentials)",
        kept.spc,
        join(&moved, &|m| m.spc.to_string()),
        split.join(", "),
    );
    steps.push(note);
    let parts: Vec<&str> = steps.iter().map(String::as_str).collect();
    let fix = remedy::in_turn(&parts);
    let message = format!(
        "service account {sa} says client-id {annotated}, which none of the SecretProviderClasses its workloads mount uses: {}; an account names one identity, so no annotation agrees with them all, and the apps and the mounts authenticate as different identities",
        join(&all, &|m| format!(
            "{} ({}, clientID {})",
            m.spc,
            m.owners.join(", "),
            m.client
        ))
    );
    let mut evidence = vec![format!(
        "ServiceAccount {sa}: azure.workload.identity/client-id: {annotated}"
    )];
    evidence.extend(all.iter().map(|m| {
        format!(
            "SecretProviderClass {} (mounted by {}): clientID {}",
            m.spc,
            m.owners.join(", "),
            m.client
        )
    }));
    let (confirm, _) = remedy::commands(cx, Code::KVC204);
    let mut f = cx.finding(
        Code::KVC204,
        cx.sa_resource(),
        message,
        evidence,
        confirm,
        fix,
    );
    if !labelled {
        f.severity = Severity::Info;
    }
    link.findings.push(f);
    true
}
