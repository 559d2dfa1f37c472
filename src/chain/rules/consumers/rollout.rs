//! A pod its Deployment's rollout is replacing (Reloader after a rotation, FACTS §10, or a
//! `rollout restart`): its env was taken at start and dies with it. The Deployment controller
//! brings up the newest ReplicaSet's pods and scales the older ones to zero, so a restart
//! advice for the old pods would only repeat what is running. A rollout that makes no progress
//! for the Deployment's progress deadline is stalled (Kubernetes: `Progressing=False`,
//! ProgressDeadlineExceeded): the old pods then stay, and what stops the new ones is the fix.
//!
//! Only Deployments: a StatefulSet's or DaemonSet's revisions live in ControllerRevisions,
//! which are not read.

use jiff::{SignedDuration, Timestamp};

use crate::chain::context::Ctx;
use crate::chain::index::{owned_by, revision};
use crate::glance;
use crate::snapshot::{ContainerStateObs, PodObs};

/// `spec.progressDeadlineSeconds`' default (not observed: the default is assumed).
const PROGRESS_DEADLINE: SignedDuration = SignedDuration::from_secs(600);

/// How long after a Secret's write Reloader's rollout may not show yet: Reloader changes the
/// pod template on the watch event, and the Deployment controller then creates the new
/// ReplicaSet, within seconds. Past this, a watched workload with no newer revision was not
/// rolled out (Reloader absent or failing), and its pods hold the old value for good.
const RELOADER_REACTS: SignedDuration = SignedDuration::from_secs(60);

/// The rollout replacing a pod.
pub(super) struct Rollout<'a> {
    pub deployment: &'a str,
    pub revision: u64,
    /// The newest ReplicaSet, whose pods replace the old ones.
    pub replica_set: &'a str,
    /// Its pods running now, and all of them.
    pub ready: usize,
    pub pods: usize,
    /// Why the rollout is stalled, with the command that shows it; None while in progress.
    pub stalled: Option<(String, String)>,
}

fn running(p: &PodObs) -> bool {
    p.phase == "Running"
        && p.containers
            .iter()
            .filter(|c| !c.init)
            .all(|c| matches!(c.state, ContainerStateObs::Running { .. }))
}

/// The rollout that replaces `pod`: its ReplicaSet is an older revision of its Deployment than
/// the newest one. None when the pod is of the newest revision, or the revisions are not seen.
pub(super) fn replacing<'a>(cx: &Ctx<'a>, pod: &'a PodObs) -> Option<Rollout<'a>> {
    let ns = pod.namespace.as_str();
    let rs_name = owned_by(&pod.owners, "ReplicaSet")?;
    let rs = cx.ix.workload(ns, "ReplicaSet", rs_name)?;
    let deployment = owned_by(&rs.owners, "Deployment")?;
    let mine = revision(rs)?;
    let (newest, revision, new_pods) = cx.ix.newest_replica_set(ns, deployment)?;
    if revision <= mine {
        return None;
    }
    let new_pods: Vec<&PodObs> = new_pods.collect();
    let ready = new_pods.iter().filter(|p| running(p)).count();
    let clock = cx.ix.clock();
    // The longest-waiting new pod, if it has waited past the deadline.
    let stuck = new_pods
        .iter()
        .filter(|p| !running(p))
        .filter_map(|p| Some((*p, p.created_at?)))
        .min_by_key(|(_, created)| *created)
        .filter(|(_, created)| {
            created
                .checked_add(PROGRESS_DEADLINE)
                .is_ok_and(|due: Timestamp| clock.after(due))
        });
    let stalled = match stuck {
        Some((p, created)) => Some((
            format!(
                "pod {} of ReplicaSet {} is not running since it was created at {} (past the Deployment's progress deadline, 600 s by default)",
                p.name,
                newest.name,
                glance::time(created)
            ),
            format!("kubectl describe pod {} -n {ns}", p.name),
        )),
        None if new_pods.is_empty() => Some((
            format!("ReplicaSet {} has no pod", newest.name),
            format!("kubectl describe replicaset {} -n {ns}", newest.name),
        )),
        None => None,
    };
    Some(Rollout {
        deployment,
        revision,
        replica_set: &newest.name,
        ready,
        pods: new_pods.len(),
        stalled,
    })
}

/// What Reloader does about a Secret's last write, for a workload it watches it for.
pub(super) enum Reloader<'a> {
    /// Its rollout of `(kind, name)` is due: the write is too recent for it to show.
    Due(&'a str, &'a str),
    /// The write created the Secret (deleted and made again): Reloader acts on updates, and on
    /// creates only with `--reload-on-create` (default false; FACTS §10 [R]
    /// `internal/pkg/options/flags.go`), so no rollout of `(kind, name)` comes (audit MM2).
    Created(&'a str, &'a str),
    /// The write is older than Reloader takes to react and `(kind, name)` was not rolled out:
    /// Reloader is not running, or does not watch the namespace (audit PPP-seeds: the guides'
    /// "annotate for Reloader" fix, applied where no Reloader acts on it).
    Missed(&'a str, &'a str),
    /// No Reloader that watches the namespace's Secrets runs (why: a sentence,
    /// [`crate::snapshot::ReloaderFacts`]), so no rollout of `(kind, name)` comes; KVC902 says it too.
    Absent(&'a str, &'a str, String),
}

/// The Deployment, DaemonSet or StatefulSet of `pod` when Reloader watches `secret` for it
/// (FACTS §10), with what became of the Secret's write (`written`, the write that `created` it
/// when equal): too recent for its rollout to show, a create, or past with no rollout. None when its controller holds Reloader's template
/// change back from `pod` (a paused Deployment, an OnDelete owner, a StatefulSet partition
/// above its ordinal): no rollout is due.
pub(super) fn reloader_due<'a>(
    cx: &Ctx<'a>,
    pod: &'a PodObs,
    secret: &str,
    written: Timestamp,
    created: Option<Timestamp>,
) -> Option<Reloader<'a>> {
    let (Some((kind, name)), Some(w)) = cx.ix.workload_with_object(pod) else {
        return None;
    };
    let cfg = super::reloader_config(cx);
    // Through the Secret's annotations, or through the SPC's where the Reloader seen runs its
    // CSI integration with rotation on ([`super::csi_reload`]).
    let by_secret = super::reloader_restarts(
        &cfg,
        &w.annotations,
        &w.template_annotations,
        super::chain_secret_annotations(cx, secret),
        secret,
    );
    let by_csi = crate::reloader::spc_asked(
        &super::spc_reloader_config(cx),
        &w.annotations,
        &w.template_annotations,
        cx.spc
            .map_or(&crate::snapshot::StrMap::default(), |s| &s.annotations),
        cx.spc_name,
    )
    .is_some()
        && matches!(
            super::csi_reload::verdict(cx),
            super::csi_reload::Csi::Restarts
        );
    if !matches!(kind, "Deployment" | "DaemonSet" | "StatefulSet")
        || !(by_secret || by_csi)
        || crate::chain::rules::remedy::reloader_held_in(
            cx,
            pod,
            Some((kind, name)),
            &w.annotations,
        )
        .is_some()
    {
        return None;
    }
    // The CSI path's Reloader was found acting by its verdict.
    if !by_csi && let Some(why) = super::no_reloader::no_reloader(cx) {
        return Some(Reloader::Absent(kind, name, why));
    }
    if created.is_some_and(|c| c >= written) {
        return Some(Reloader::Created(kind, name));
    }
    let due = written.checked_add(RELOADER_REACTS).ok()?;
    Some(match cx.ix.clock().after(due) {
        false => Reloader::Due(kind, name),
        true => Reloader::Missed(kind, name),
    })
}
