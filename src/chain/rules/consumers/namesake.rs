//! KVC109 for another workload's container held on a Secret named after a file of this
//! chain's SecretProviderClass, which no `secretObjects` entry makes. The driver makes a
//! Kubernetes Secret only for a `secretObjects` entry (FACTS §2), so a reader that expects the
//! SPC to make one per object waits for ever (CreateContainerConfigError). That pod mounts no
//! SPC, so it has no chain of its own to say it: the chain of the SPC whose file names the
//! Secret does, or nothing would (audit WWW-left).

use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::index::Use;
use crate::chain::model::{Link, Status};
use crate::chain::rules::set;
use crate::snapshot::{ContainerStateObs, SpcObs};

/// The kubelet's reason for a container whose env names a Secret (or key) that is not there.
const HELD: &str = "CreateContainerConfigError";

/// Says each held reader of a Secret that does not exist, that no SPC writes and whose name is
/// a file of `spc`, when every key it asks is a file too (the entry the fix adds makes them).
/// Index lookups only: one per file of the SPC.
pub(super) fn held_readers(cx: &Ctx, spc: &SpcObs, link: &mut Link) {
    let ns = cx.ns();
    if cx.template || cx.snap().secrets.unknown_in(ns).is_some() {
        return;
    }
    let files: Vec<&str> = (spc.parsed.objects.iter()).map(|o| o.file_name()).collect();
    for secret in &files {
        let key = (ns, *secret);
        if cx.ix.secrets.contains_key(&key) || cx.ix.secret_writers.contains_key(&key) {
            continue;
        }
        let Some(uses) = cx.ix.secret_consumers.get(&key) else {
            continue;
        };
        for u in uses {
            let Use::Env {
                container,
                var,
                key,
            } = u.how
            else {
                continue;
            };
            // The chain's own pod is KVC109's on its own chain (env_secrets.rs).
            if std::ptr::eq(u.pod, cx.pod) || u.pod.retired() {
                continue;
            }
            let ContainerStateObs::Waiting { reason, message } = &container.state else {
                continue;
            };
            if reason != HELD || !files.contains(&key) {
                continue;
            }
            let who = match cx.ix.workload_of(u.pod) {
                Some((k, n)) => format!("{k}/{n}"),
                None => format!("Pod/{}", u.pod.name),
            };
            let seen = format!(
                "{who}: container {} ({var} from key {key}) waiting: {reason}: {message}",
                container.name
            );
            if let Some(f) =
                (link.findings.iter_mut()).find(|f| f.code == Code::KVC109 && f.resource == who)
            {
                if !f.evidence.iter().any(|e| **e == *seen) {
                    f.evidence.push(seen.into());
                }
                continue;
            }
            let mut f = cx.remedied(
                Code::KVC109,
                who.clone(),
                format!(
                    "container {} of {who} reads Secret {secret} through env ({var}, key {key}), which does not exist and which nothing creates: SecretProviderClass {} has a file {secret} but no secretObjects entry for it, and the driver makes a Kubernetes Secret only for a secretObjects entry, so the kubelet holds the container ({HELD})",
                    container.name, spc.name
                ),
                vec![seen],
            );
            f.fix = super::super::env_secret_entry::fix(cx, spc, secret, &[key]).into();
            f.confirm = format!("kubectl get secret {secret} -n {ns}").into();
            link.findings.push(f);
            set(link, Status::Broken, format!("held: {who}"));
        }
    }
}
