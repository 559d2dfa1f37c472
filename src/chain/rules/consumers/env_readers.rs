//! The env readers of a chain's synced Secrets beyond what the mounting pod's own check says:
//! other workloads' readers, which nothing restarts at a rotation unless their own owner is
//! annotated (KVC902, audit X2), and this pod's containers holding a Secret that differs from
//! its mount (audit X3), and the init containers that read one and run to completion. Env is
//! a start-time snapshot (FACTS §4).

use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::index::Use;
use crate::chain::model::{Fact, Link, Status};
use crate::chain::rules::set;
use crate::snapshot::PodObs;

/// The Secrets this pod reads through env differ from what its own mount holds (the Sync
/// link's KVC805): its containers hold the Secret's value from their start, not the mounted
/// version, until they restart after the Secret is made again (FACTS §4, §11; audit X3). Said
/// on this link, which the KVC805 finding explains (one cause, no second finding).
pub(super) fn env_stale_against_mount(cx: &Ctx, link: &mut Link, env_secrets: &[&str]) -> bool {
    let (Some(spc), Some(status)) = (cx.spc, cx.status.filter(|_| !cx.retired())) else {
        return false;
    };
    let Some(files) = status.files.as_ref() else {
        return false;
    };
    let stale: Vec<&str> = (spc.secret_objects.iter().enumerate())
        .filter(|(_, so)| env_secrets.contains(&so.secret_name.as_str()))
        .filter(|(i, so)| {
            cx.synced_secret(*i).is_some_and(|secret| {
                !crate::chain::rules::sync::values_differ(so, secret, status, files).is_empty()
            })
        })
        .map(|(_, so)| so.secret_name.as_str())
        .collect();
    if stale.is_empty() {
        return false;
    }
    link.facts.push(Fact::new(
        "env",
        format!(
            "the running containers hold Secret {} as it was at their start, which differs from the version mounted now: stale until they restart after the Secret is made again (KVC805)",
            stale.join(", ")
        ),
    ));
    if link.findings.is_empty() {
        set(link, Status::Pending, "env stale: Sync");
    }
    true
}

/// KVC902 for the workloads that read a synced Secret through env without mounting the SPC
/// (KVC903's readers): nothing restarts them at a rotation either unless their own owner is
/// annotated for Reloader (FACTS §4, §10). Judged once per workload, with every Secret it reads
/// so, as for the mounting pod's owner.
pub(super) fn other_readers<'c>(
    cx: &Ctx<'c>,
    link: &mut Link,
    readers: &[(&'c PodObs, &'c str)],
    unread: &mut Option<(String, &'c str)>,
) {
    let mut done: Vec<String> = Vec::new();
    for (pod, _) in readers {
        let sub = cx.for_reader(pod);
        let who = sub.owner_resource();
        if done.contains(&who)
            || link
                .findings
                .iter()
                .any(|f| f.code == Code::KVC902 && *f.resource == *who)
        {
            continue;
        }
        let mut secrets: Vec<&str> = Vec::new();
        for (other, secret) in readers {
            if !secrets.contains(secret) && cx.for_reader(other).owner_resource() == who {
                secrets.push(secret);
            }
        }
        let before = link.facts.len();
        super::restarts::reloader(&sub, link, &secrets, unread);
        // Its facts ("restart on rotation") would read as the mounting pod's: not kept.
        link.facts.truncate(before);
        done.push(who);
    }
}

/// Whether env use `how` is by an init container that runs to completion
/// ([`crate::snapshot::ContainerObs::runs_to_completion`]): it reads the Secret once, when the
/// pod starts, and no process of it runs on that copy afterwards; nothing restarts it at a
/// rotation, and nothing needs to (audit QQQ-rules).
pub(super) fn read_at_init(how: &Use) -> bool {
    matches!(how, Use::Env { container, .. } | Use::EnvFrom { container, .. } if container.runs_to_completion())
}

/// Says on the link the env uses `uses` (with the Secret each reads) by this pod's init
/// containers that run to completion ([`read_at_init`]): a fact, not a restart finding, as no
/// process of theirs runs on the value any more. What they passed on (a config file rendered
/// into a shared volume, a common use) is as old as the pod's start, which the fact says: a new
/// start of the pod runs them again with the current value.
pub(super) fn completed_init_readers(link: &mut Link, uses: &[(&str, String)]) {
    let mut secrets: Vec<&str> = uses.iter().map(|(s, _)| *s).collect();
    secrets.sort_unstable();
    secrets.dedup();
    for secret in secrets {
        let how: Vec<String> = (uses.iter())
            .filter(|(s, _)| *s == secret)
            .map(|(_, u)| format!("init {u}"))
            .collect();
        link.facts.push(Fact::new(
            "read at init",
            format!(
                "{} reads Secret {secret} once, when the pod starts, and runs to completion before the app containers start: none of its processes runs on that value afterwards, but what it passes on (a file it writes to a shared volume) is as old as the pod's start; a new start of the pod runs it again with the current one",
                how.join(", ")
            ),
        ));
    }
}
